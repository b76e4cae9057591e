"""parse_inbound: one raw inbound e-mail (untrusted bytes) to a ParsedMail. Never raises on bad input."""

from __future__ import annotations

import hashlib
import mimetypes
import re
from dataclasses import dataclass, field
from email import errors, policy
from email.message import Message
from email.parser import BytesParser
from email.policy import compat32

from ..attachments import (
    ALLOWED_DESCRIPTION,
    MAX_ATTACHMENTS_PER_MESSAGE,
    format_for_extension,
    sanitize_file_name,
)
from ..errors import ValidationError
from ..file_types import inspect
from ..rules import has_visible_character
from . import headers
from .model import (
    MailAttachment,
    MailDefect,
    ParsedMail,
    RefusalReason,
    RefusedAttachment,
    UnusableReason,
)
from .quoting import strip_reply
from .text import (
    MAX_TEXT_PART_BYTES,
    TRUNCATION_MARKER,
    decode_bytes,
    html_to_text,
    normalise,
    truncate,
    unflow,
)

MAX_DEPTH = 10
MAX_PARTS = 100
DEFAULT_MAX_TEXT_LENGTH = 2000
DEFAULT_MAX_ATTACHMENT_BYTES = 25 * 1024 * 1024

# The standard library's defects, by what a person reading our logs needs to know.
_DEFECTS: tuple[tuple[type[errors.MessageDefect], MailDefect], ...] = (
    (errors.NoBoundaryInMultipartDefect, MailDefect.MISSING_BOUNDARY),
    (errors.StartBoundaryNotFoundDefect, MailDefect.MISSING_BOUNDARY),
    (errors.CloseBoundaryNotFoundDefect, MailDefect.MISSING_BOUNDARY),
    (errors.MultipartInvariantViolationDefect, MailDefect.MISSING_BOUNDARY),
    (errors.InvalidBase64PaddingDefect, MailDefect.BAD_BASE64),
    (errors.InvalidBase64CharactersDefect, MailDefect.BAD_BASE64),
    (errors.InvalidBase64LengthDefect, MailDefect.BAD_BASE64),
    (errors.MissingHeaderBodySeparatorDefect, MailDefect.MALFORMED_HEADER),
    (errors.MisplacedEnvelopeHeaderDefect, MailDefect.MALFORMED_HEADER),
    (errors.FirstHeaderLineIsContinuationDefect, MailDefect.MALFORMED_HEADER),
    (errors.InvalidHeaderDefect, MailDefect.MALFORMED_HEADER),
)
_NOT_ALLOWED = f"This file type cannot be attached. Allowed formats: {ALLOWED_DESCRIPTION}."


@dataclass
class _Candidate:
    filename: str | None
    content: bytes
    declared_content_type: str
    inline: bool


@dataclass
class _Walk:
    """What a walk over the MIME tree found."""

    defects: list[MailDefect] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    candidates: list[_Candidate] = field(default_factory=list)
    refused: list[RefusedAttachment] = field(default_factory=list)
    parts: int = 0


def parse_inbound(
    raw: bytes,
    *,
    max_text_length: int = DEFAULT_MAX_TEXT_LENGTH,
    max_attachment_bytes: int = DEFAULT_MAX_ATTACHMENT_BYTES,
    max_attachments: int = MAX_ATTACHMENTS_PER_MESSAGE,
) -> ParsedMail:
    """Parse a raw RFC 5322 message into what the Message Center can use.

    Hostile or broken input never raises: what can be read safely is returned, and what was
    wrong is listed in ``defects``. ``unusable_reason`` is set when there is no single sender,
    or no visible text, no attachment and no refused attachment at all. Attachments are checked by
    content (:func:`message_center.domain.file_types.inspect`); those refused are listed with a
    reason. A ``ValueError`` means a caller's mistake (a text limit too small for the marker).
    """
    if max_text_length <= len(TRUNCATION_MARKER):
        raise ValueError(f"max_text_length must be more than {len(TRUNCATION_MARKER)} characters")
    walk = _Walk()
    if b"\x00" in raw:
        walk.defects.append(MailDefect.NUL_BYTES)
    message = _parse(raw, walk)

    from_address, from_name = headers.sender(message, walk.defects)
    reason = headers.auto_submitted_reason(message, from_address, walk.defects)
    text, truncated = truncate(_reply_text(walk), max_text_length)
    attachments = _check_attachments(walk, max_attachment_bytes, max_attachments)

    unusable: UnusableReason | None = None
    if from_address is None:
        unusable = UnusableReason.NO_SENDER
    elif not has_visible_character(text) and not attachments and not walk.refused:
        unusable = UnusableReason.NO_CONTENT
    references = headers.message_ids(" ".join(headers.raw_values(message, "references", walk.defects)))
    return ParsedMail(
        message_id=_first(headers.message_ids(headers.raw_value(message, "message-id", walk.defects))),
        in_reply_to=_first(headers.message_ids(headers.raw_value(message, "in-reply-to", walk.defects))),
        references=tuple(dict.fromkeys(references[-headers.MAX_REFERENCES :])),
        from_address=from_address,
        from_name=from_name,
        to=headers.address_list(message, "to", walk.defects),
        cc=headers.address_list(message, "cc", walk.defects),
        delivered_to=headers.address_list(message, "delivered-to", walk.defects),
        return_path=headers.return_path(message, walk.defects),
        subject=headers.subject(message, walk.defects),
        date=headers.date(message, walk.defects),
        text=text,
        truncated=truncated,
        is_auto_submitted=reason is not None,
        auto_submitted_reason=reason,
        attachments=tuple(attachments),
        refused_attachments=tuple(walk.refused),
        defects=tuple(dict.fromkeys(walk.defects)),
        unusable_reason=unusable,
    )


def _first(values: list[str]) -> str | None:
    return values[0] if values else None


def _parse(raw: bytes, walk: _Walk) -> Message:
    message, complete = _parse_bytes(raw, walk)
    if complete:
        _visit(message, walk, depth=0, collect_text=True, inline=False)
    return message


def _parse_bytes(raw: bytes, walk: _Walk) -> tuple[Message, bool]:
    """The message parsed with ``policy.default``, or with ``compat32`` when the modern header
    parser raises on a broken header (the feed parser reads Content-Type as it goes); only its
    headers when the nesting exhausts the stack (the parser recurses once per level)."""
    for parser_policy in (policy.default, compat32):
        try:
            return BytesParser(policy=parser_policy).parsebytes(raw), True
        except headers.PARSER_ERRORS:
            walk.defects.append(MailDefect.MALFORMED_HEADER)
        except RecursionError:
            walk.defects.append(MailDefect.NESTING_TOO_DEEP)
            break
    return BytesParser(policy=compat32).parsebytes(raw, headersonly=True), False


def _visit(part: Message, walk: _Walk, *, depth: int, collect_text: bool, inline: bool) -> None:
    walk.parts += 1
    if walk.parts > MAX_PARTS:
        walk.defects.append(MailDefect.TOO_MANY_PARTS)
        return
    if depth > MAX_DEPTH:
        walk.defects.append(MailDefect.NESTING_TOO_DEEP)
        return
    info = headers.part_info(part, walk.defects)
    if part.is_multipart():
        _visit_container(part, info, walk, depth=depth, collect_text=collect_text, inline=inline)
    elif info.content_type.startswith("multipart/"):
        _visit_broken_multipart(part, info, walk, depth=depth, collect_text=collect_text, inline=inline)
    else:
        _visit_leaf(part, info, walk, collect_text=collect_text, inline=inline)
    _collect_defects(part, walk)


def _visit_container(
    part: Message, info: headers.PartInfo, walk: _Walk, *, depth: int, collect_text: bool, inline: bool
) -> None:
    children = [child for child in part.get_payload() if isinstance(child, Message)]
    content_type = info.content_type
    if content_type in ("message/rfc822", "message/global"):
        if depth == 0:  # a message that is nothing but another message (some clients forward so)
            for child in children:
                _visit(child, walk, depth=depth + 1, collect_text=collect_text, inline=inline)
        else:
            name = info.filename or "forwarded-message.eml"
            walk.refused.append(
                RefusedAttachment(
                    _safe_name(name, len(walk.refused) + 1, content_type),
                    RefusalReason.NOT_ALLOWED,
                    _NOT_ALLOWED,
                    content_type,
                    size=_size_of(part),
                    inline=inline,
                )
            )
        return
    if not content_type.startswith("multipart/"):
        return  # message/delivery-status and friends: machine-readable reports, no text
    subtype = content_type.partition("/")[2]
    if subtype == "encrypted":
        walk.defects.append(MailDefect.ENCRYPTED)
        return
    chosen = _choose_alternative(children, walk) if subtype == "alternative" else None
    for position, child in enumerate(children):
        if subtype in ("signed", "report") and position > 0:
            break  # the signature; the machine-readable report and the returned message
        _visit(
            child,
            walk,
            depth=depth + 1,
            collect_text=collect_text and (chosen is None or child is chosen),
            inline=inline or (subtype == "related" and position > 0),
        )


_BOUNDARY_LINE = re.compile(rb"^--([^\s\"]{1,70})[ \t]*\r?$", re.MULTILINE)


def _visit_broken_multipart(
    part: Message, info: headers.PartInfo, walk: _Walk, *, depth: int, collect_text: bool, inline: bool
) -> None:
    """A multipart whose boundary is missing or wrong: parse it again with the boundary its body
    uses; with none, its body is plain text (which is what such a message usually is)."""
    body = part.get_payload(decode=True)
    if not isinstance(body, bytes):
        return
    found = _BOUNDARY_LINE.search(body)
    if found is not None:
        head = b'Content-Type: %s; boundary="%s"\r\n\r\n' % (info.content_type.encode(), found.group(1))
        recovered, complete = _parse_bytes(head + body, walk)
        if complete and recovered.is_multipart():
            _visit(recovered, walk, depth=depth + 1, collect_text=collect_text, inline=inline)
            return
    if collect_text and not inline:
        plain = headers.PartInfo(content_type="text/plain", charset=info.charset)
        walk.texts.append(_text_of(part, plain, walk))


def _choose_alternative(children: list[Message], walk: _Walk) -> Message | None:
    """The alternative to read the text from: text/plain with something in it, else the
    richest (last) HTML or multipart one."""
    types = [headers.part_info(child, walk.defects).content_type for child in children]
    for child, content_type in zip(children, types, strict=True):
        if content_type == "text/plain":
            payload = child.get_payload(decode=True)
            if isinstance(payload, bytes) and payload.strip():
                return child
    richer = [
        child
        for child, content_type in zip(children, types, strict=True)
        if content_type == "text/html" or content_type.startswith("multipart/")
    ]
    return richer[-1] if richer else None


def _size_of(part: Message) -> int:
    try:
        return len(part.as_bytes())
    except (*headers.PARSER_ERRORS, RecursionError):
        return 0


def _visit_leaf(part: Message, info: headers.PartInfo, walk: _Walk, *, collect_text: bool, inline: bool) -> None:
    content_type = info.content_type
    is_file = info.disposition == "attachment" or info.filename is not None
    if content_type.startswith("message/"):
        return
    if content_type in ("text/plain", "text/html") and not is_file:
        if collect_text and not inline:
            walk.texts.append(_text_of(part, info, walk))
        return
    if content_type.startswith("text/") and not is_file:
        return  # text/calendar invitations, text/x-vcard and such inline alternatives
    payload = part.get_payload(decode=True)
    content = payload if isinstance(payload, bytes) else b""
    walk.candidates.append(_Candidate(info.filename, content, content_type, inline))


def _text_of(part: Message, info: headers.PartInfo, walk: _Walk) -> str:
    payload = part.get_payload(decode=True)
    data = payload if isinstance(payload, bytes) else b""
    final = len(data) <= MAX_TEXT_PART_BYTES
    text = decode_bytes(data[:MAX_TEXT_PART_BYTES], info.charset, walk.defects, final=final)
    if info.content_type == "text/html":
        return html_to_text(text)
    if info.flowed:  # before normalising: the trailing spaces are what marks a flowed line
        text = unflow(text.replace("\r\n", "\n"), delsp=info.delsp)
    return normalise(text)


def _reply_text(walk: _Walk) -> str:
    pieces = [strip_reply(text) for text in walk.texts]
    return normalise("\n\n".join(piece for piece in pieces if piece.strip())).strip()


def _collect_defects(part: Message, walk: _Walk) -> None:
    for defect in part.defects:
        mapped = (ours for theirs, ours in _DEFECTS if isinstance(defect, theirs))
        walk.defects.append(next(mapped, MailDefect.MALFORMED_MIME))


def _check_attachments(walk: _Walk, max_bytes: int, max_count: int) -> list[MailAttachment]:
    """Accept files in order (attached files before inline images), each content once: size,
    then the format found in the bytes, then the count."""
    accepted: list[MailAttachment] = []
    seen: set[bytes] = set()
    ordered = sorted(walk.candidates, key=lambda candidate: candidate.inline)
    for number, candidate in enumerate(ordered, start=1):
        digest = hashlib.sha256(candidate.content).digest()
        if digest in seen and candidate.content:
            continue  # Outlook re-attaches the inline images of the quoted history
        seen.add(digest)
        name = _safe_name(candidate.filename, number, candidate.declared_content_type)
        refusal: tuple[RefusalReason, str] | None = None
        if len(candidate.content) > max_bytes:
            refusal = (
                RefusalReason.TOO_LARGE,
                f"The file is {len(candidate.content)} bytes; attachments may have at most {max_bytes} bytes.",
            )
        elif len(accepted) >= max_count:
            refusal = (RefusalReason.TOO_MANY, f"A message can have at most {max_count} attachments.")
        else:
            inspection = inspect(candidate.content)
            if inspection.format is None:
                refusal = (RefusalReason.NOT_ALLOWED, inspection.refusal or _NOT_ALLOWED)
            else:
                detected = inspection.format
                if format_for_extension(name) != detected:
                    name = _safe_name(name + detected.extensions[0], number, detected.mime_type)
                accepted.append(
                    MailAttachment(
                        filename=name,
                        content=candidate.content,
                        content_type=detected.mime_type,
                        declared_content_type=candidate.declared_content_type,
                        inline=candidate.inline,
                    )
                )
        if refusal is not None:
            walk.refused.append(
                RefusedAttachment(
                    filename=name,
                    reason=refusal[0],
                    detail=refusal[1],
                    declared_content_type=candidate.declared_content_type,
                    size=len(candidate.content),
                    inline=candidate.inline,
                )
            )
    return accepted


def _safe_name(filename: str | None, number: int, content_type: str) -> str:
    """The sender's file name made safe, or ``attachment-N.ext`` when there is none left."""
    if filename:
        try:
            return sanitize_file_name(filename)
        except ValidationError:
            pass
    extension = mimetypes.guess_extension(content_type, strict=False) or ".bin"
    return f"attachment-{number}{extension}"
