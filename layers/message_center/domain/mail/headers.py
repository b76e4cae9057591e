"""Reading the headers of an untrusted message.

Every value is taken raw, cut to a sane length (the modern address parser is super-linear: a 1 MB
``To`` takes it most of a minute), unfolded, its 8-bit bytes decoded, and only then parsed with
the modern header registry of ``policy.default``; when that raises on a broken value, the lenient
``compat32`` helpers of the standard library read it instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy, utils
from email.errors import MessageError, ObsoleteHeaderDefect
from email.header import decode_header
from email.headerregistry import AddressHeader, DateHeader
from email.message import Message
from email.policy import compat32
from typing import cast

from .model import AutoSubmittedReason, MailDefect
from .text import clean_line, decode_bytes

MAX_HEADER_CHARS = 16 * 1024
MAX_REFERENCES = 100

# What the modern header parser (email._header_value_parser) raises on some hostile values
# instead of recording a defect. AttributeError included: CPython 3.11 raises it for values as
# plain as "Anna K.<a@b.c>" or "List:; x" (see the tests); anything else is a bug and surfaces.
PARSER_ERRORS = (MessageError, LookupError, ValueError, TypeError, UnicodeError, AttributeError)

_FOLD = re.compile(r"\r?\n(?=[ \t])|[\r\n]")
_MESSAGE_ID = re.compile(r"<([^<>\s]{1,900})>")
_SURROGATES = re.compile("[\udc80-\udcff]")
# A mailbox we can compare with a registered address: dot-atom@domain, nothing quoted or odd.
_MAILBOX = re.compile(r"[^\s<>()\[\],;:\\\"@\udc80-\udcff]+@[^\s<>()\[\],;:\\\"@\udc80-\udcff]+")


def raw_values(message: Message, name: str, defects: list[MailDefect]) -> list[str]:
    """Every value of header ``name``, unfolded, 8-bit bytes decoded, at most 16 KiB each."""
    values = []
    for key, value in message.raw_items():
        if key.lower() != name:
            continue
        text = str(value)
        if len(text) > MAX_HEADER_CHARS:
            defects.append(MailDefect.HEADER_TOO_LONG)
            text = text[:MAX_HEADER_CHARS]
        text = _FOLD.sub("", text)
        if _SURROGATES.search(text):  # raw 8-bit bytes, not RFC 2047: most often UTF-8
            text = decode_bytes(text.encode("utf-8", "surrogateescape"), None, defects)
        values.append(text.strip())
    return values


def raw_value(message: Message, name: str, defects: list[MailDefect]) -> str | None:
    values = raw_values(message, name, defects)
    return values[0] if values else None


def addresses(values: list[str], defects: list[MailDefect]) -> list[tuple[str, str]]:
    """(display name, lower-cased addr-spec) of every mailbox, groups flattened; mailboxes
    without a domain are left out."""
    found: list[tuple[str, str]] = []
    for value in values:
        try:
            header = cast(AddressHeader, policy.default.header_factory("to", value))
            pairs = [(a.display_name, a.addr_spec) for a in header.addresses]
            if any(not isinstance(d, ObsoleteHeaderDefect) for d in getattr(header, "defects", ())):
                defects.append(MailDefect.MALFORMED_HEADER)
        except PARSER_ERRORS:
            defects.append(MailDefect.MALFORMED_HEADER)
            pairs = utils.getaddresses([value])
        for name, spec in pairs:
            if _MAILBOX.fullmatch(spec):
                found.append((clean_line(name), spec.lower()))
    return found


def address_list(message: Message, name: str, defects: list[MailDefect]) -> tuple[str, ...]:
    specs = [spec for _name, spec in addresses(raw_values(message, name, defects), defects)]
    return tuple(dict.fromkeys(specs))


def sender(message: Message, defects: list[MailDefect]) -> tuple[str | None, str | None]:
    """(addr-spec, display name) of the single From mailbox; (None, None) when there is none
    or more than one (then no one can tell who wrote it)."""
    values = raw_values(message, "from", defects)
    if not values:
        return None, None
    mailboxes = list(dict.fromkeys(addresses(values, defects)))
    if len({spec for _name, spec in mailboxes}) > 1:
        defects.append(MailDefect.MULTIPLE_FROM_ADDRESSES)
        return None, None
    if not mailboxes:
        defects.append(MailDefect.INVALID_FROM_ADDRESS)
        return None, None
    name, spec = mailboxes[0]
    return spec, name or None


def subject(message: Message, defects: list[MailDefect]) -> str:
    """The decoded subject (RFC 2047 encoded words in any charset), on one line."""
    value = raw_value(message, "subject", defects)
    if value is None:
        return ""
    try:
        decoded = str(policy.default.header_factory("subject", value))
    except PARSER_ERRORS:
        defects.append(MailDefect.MALFORMED_HEADER)
        decoded = ""
    if not decoded or _unreadable(decoded):
        # An encoded word in an unknown charset: decode the words ourselves, with detection.
        ours = _decode_words(value, defects)
        if not decoded or _unreadable(ours) < _unreadable(decoded):
            decoded = ours
    return clean_line(decoded)


def _unreadable(text: str) -> int:
    return text.count("\ufffd") + len(_SURROGATES.findall(text))


def _decode_words(value: str, defects: list[MailDefect]) -> str:
    try:
        chunks = decode_header(value)
    except PARSER_ERRORS:  # HeaderParseError: an encoded word with broken base64
        defects.append(MailDefect.MALFORMED_HEADER)
        return value
    return "".join(
        chunk if isinstance(chunk, str) else decode_bytes(chunk, charset, defects) for chunk, charset in chunks
    )


def date(message: Message, defects: list[MailDefect]) -> datetime | None:
    """The Date header as an aware datetime (UTC when the zone is unknown), or None."""
    value = raw_value(message, "date", defects)
    if not value:
        return None
    parsed: datetime | None
    try:
        header = cast(DateHeader, policy.default.header_factory("date", value))
        parsed = header.datetime
    except PARSER_ERRORS:
        try:
            parsed = utils.parsedate_to_datetime(value)
        except PARSER_ERRORS:
            parsed = None
    if parsed is None:
        defects.append(MailDefect.INVALID_DATE)
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def message_ids(value: str | None) -> list[str]:
    """The ids in a Message-ID, In-Reply-To or References value, without angle brackets."""
    if not value:
        return []
    found = _MESSAGE_ID.findall(value)
    if not found and value.strip() and " " not in value.strip():
        found = [value.strip()]  # an id some software sends without its brackets
    return [clean_line(item) for item in found if clean_line(item)]


_PRECEDENCE_AUTOMATIC = frozenset({"bulk", "junk", "list", "auto_reply"})


def auto_submitted_reason(
    message: Message, from_address: str | None, defects: list[MailDefect]
) -> AutoSubmittedReason | None:
    """Why the message looks automatic (strongest signal first), or None for a person's mail."""
    info = part_info(message, defects)
    if info.content_type == "multipart/report":
        if info.report_type == "delivery-status":
            return AutoSubmittedReason.DELIVERY_STATUS_NOTIFICATION
        return AutoSubmittedReason.MESSAGE_REPORT
    return_path = raw_value(message, "return-path", defects)
    if return_path is not None and return_path.strip("<> \t") == "":
        return AutoSubmittedReason.NULL_RETURN_PATH
    if from_address is not None and from_address.partition("@")[0] == "mailer-daemon":
        return AutoSubmittedReason.MAILER_DAEMON
    checks: list[tuple[str, AutoSubmittedReason]] = [
        ("auto-submitted", AutoSubmittedReason.AUTO_SUBMITTED),
        ("x-autoreply", AutoSubmittedReason.X_AUTOREPLY),
        ("x-autorespond", AutoSubmittedReason.X_AUTORESPOND),
        ("precedence", AutoSubmittedReason.PRECEDENCE),
        ("x-auto-response-suppress", AutoSubmittedReason.AUTO_RESPONSE_SUPPRESS),
    ]
    for name, reason in checks:
        value = raw_value(message, name, defects)
        if value is not None and _is_automatic(name, value.lower()):
            return reason
    return None


def _is_automatic(name: str, value: str) -> bool:
    if name == "auto-submitted":  # RFC 3834: "no" or a keyword, optionally with parameters
        keyword = value.split(";", 1)[0].strip()
        return keyword not in ("", "no")
    if name == "precedence":
        return value.strip() in _PRECEDENCE_AUTOMATIC
    if name == "x-auto-response-suppress":  # Exchange's own out-of-office replies say All or OOF
        return bool({"all", "oof"} & {token.strip() for token in value.split(",")})
    return value.strip() not in ("", "no", "false", "0")


def return_path(message: Message, defects: list[MailDefect]) -> str | None:
    value = raw_value(message, "return-path", defects)
    if value is None:
        return None
    found = addresses([value], defects)
    return found[0][1] if found else None


@dataclass(frozen=True)
class PartInfo:
    """The MIME headers of one part that decide what it is and how to read it."""

    content_type: str
    charset: str | None = None
    filename: str | None = None
    disposition: str | None = None
    flowed: bool = False
    delsp: bool = False
    report_type: str | None = None


def part_info(part: Message, defects: list[MailDefect]) -> PartInfo:
    """What a part is, read with the modern parser or, when it raises, with compat32's."""
    try:
        return _part_info(part, defects)
    except PARSER_ERRORS:
        defects.append(MailDefect.MALFORMED_HEADER)
    lenient = Message(policy=compat32)
    for name in ("content-type", "content-disposition"):
        for value in raw_values(part, name, defects):
            lenient[name] = value
    try:
        return _part_info(lenient, defects)
    except PARSER_ERRORS:
        return PartInfo(content_type=lenient.get_default_type())


def _part_info(part: Message, defects: list[MailDefect]) -> PartInfo:
    filename = part.get_filename()
    if filename is not None and _SURROGATES.search(filename):
        filename = decode_bytes(filename.encode("utf-8", "surrogateescape"), None, defects)
    disposition = part.get_content_disposition()
    return PartInfo(
        content_type=part.get_content_type(),
        charset=_param(part, "charset"),
        filename=clean_line(filename) if filename else None,
        disposition=disposition.lower() if isinstance(disposition, str) else None,
        flowed=(_param(part, "format") or "").lower() == "flowed",
        delsp=(_param(part, "delsp") or "").lower() == "yes",
        report_type=(_param(part, "report-type") or "").lower() or None,
    )


def _param(part: Message, name: str) -> str | None:
    value = part.get_param(name)
    if value is None:
        return None
    text = utils.collapse_rfc2231_value(value)  # str, or an RFC 2231 triple
    return text.strip() or None
