"""What the parser makes of one inbound e-mail: plain values, no MIME objects."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from ..rules import has_visible_character


class MailDefect(StrEnum):
    """What was wrong with a message; the parser worked around it and went on."""

    MISSING_BOUNDARY = "missing boundary"
    BAD_BASE64 = "bad base64"
    MALFORMED_MIME = "malformed mime"
    MALFORMED_HEADER = "malformed header"
    HEADER_TOO_LONG = "header too long"
    NESTING_TOO_DEEP = "nesting too deep"
    TOO_MANY_PARTS = "too many parts"
    NUL_BYTES = "nul bytes"
    UNKNOWN_CHARSET = "unknown charset"
    UNDECODABLE_TEXT = "undecodable text"
    ENCRYPTED = "encrypted"
    MULTIPLE_FROM_ADDRESSES = "multiple from addresses"
    INVALID_FROM_ADDRESS = "invalid from address"
    INVALID_DATE = "invalid date"


class AutoSubmittedReason(StrEnum):
    """Why a message is taken for an automatic one (RFC 3834 and the de-facto headers)."""

    DELIVERY_STATUS_NOTIFICATION = "delivery-status-notification"  # multipart/report; delivery-status
    MESSAGE_REPORT = "message-report"  # other multipart/report: read receipts, abuse reports
    NULL_RETURN_PATH = "null-return-path"  # Return-Path: <> (bounces and auto-replies, RFC 3834 §3.3)
    MAILER_DAEMON = "mailer-daemon"
    AUTO_SUBMITTED = "auto-submitted"  # Auto-Submitted: anything but "no"
    X_AUTOREPLY = "x-autoreply"
    X_AUTORESPOND = "x-autorespond"
    PRECEDENCE = "precedence"  # bulk, junk, list, auto_reply
    AUTO_RESPONSE_SUPPRESS = "auto-response-suppress"  # Exchange's X-Auto-Response-Suppress: All/OOF (a hint)


class RefusalReason(StrEnum):
    TOO_LARGE = "too large"
    TOO_MANY = "too many attachments"
    NOT_ALLOWED = "type not allowed"


class UnusableReason(StrEnum):
    NO_SENDER = "no sender"  # no single From address with a domain
    NO_CONTENT = "no content"  # no new text once quotes are stripped, and no files at all


@dataclass(frozen=True)
class MailAttachment:
    """A file whose content is one of the allowed formats.

    ``filename`` is sanitised and ends with an extension of ``content_type`` (the format found in
    the bytes); ``declared_content_type`` is what the sender's header said. ``inline`` marks an
    image embedded in an HTML body (a resource of ``multipart/related``), such as a pasted
    screenshot, but also a logo in a signature: a caller may choose to drop those.
    """

    filename: str
    content: bytes
    content_type: str
    declared_content_type: str
    inline: bool = False

    @property
    def size(self) -> int:
        return len(self.content)


@dataclass(frozen=True)
class RefusedAttachment:
    """A file that was not accepted; ``detail`` is a sentence a user can act on."""

    filename: str
    reason: RefusalReason
    detail: str
    declared_content_type: str
    size: int
    inline: bool = False


@dataclass(frozen=True)
class ParsedMail:
    """An inbound e-mail, reduced to what the Message Center can use.

    Addresses are lower-cased addr-specs; message ids are given without their angle brackets.
    ``text`` is the new part of the message: decoded, HTML turned into text, quoted history and
    signature removed, at most ``max_text_length`` characters (``truncated`` says it was cut).
    ``defects`` lists what was wrong with the MIME structure, in the order found, each once.
    """

    message_id: str | None
    in_reply_to: str | None
    references: tuple[str, ...]
    from_address: str | None
    from_name: str | None
    to: tuple[str, ...]
    cc: tuple[str, ...]
    delivered_to: tuple[str, ...]
    return_path: str | None
    subject: str
    date: datetime | None
    text: str
    truncated: bool
    is_auto_submitted: bool
    auto_submitted_reason: AutoSubmittedReason | None
    attachments: tuple[MailAttachment, ...]
    refused_attachments: tuple[RefusedAttachment, ...]
    defects: tuple[MailDefect, ...]
    unusable_reason: UnusableReason | None

    @property
    def recipients(self) -> tuple[str, ...]:
        """Every recipient address the headers name (To, Cc, Delivered-To), each once."""
        return tuple(dict.fromkeys((*self.to, *self.cc, *self.delivered_to)))

    @property
    def thread_references(self) -> tuple[str, ...]:
        """In-Reply-To first, then References newest first: the order to look threads up in."""
        ordered = [self.in_reply_to] if self.in_reply_to else []
        return tuple(dict.fromkeys([*ordered, *reversed(self.references)]))


def message_text(mail: ParsedMail, max_length: int) -> str:
    """What a received e-mail says as a message: its text, plus which attached files were not
    accepted and why (or, with no text, the names of the files it carries); at most ``max_length``."""
    parts = [mail.text] if has_visible_character(mail.text) else []  # a blank text is no text
    if mail.refused_attachments:
        refused = "; ".join(f"{r.filename} ({r.detail or r.reason.value})" for r in mail.refused_attachments)
        parts.append(f"[Attachments not accepted: {refused}]")
    if not parts:
        parts.append("[" + ", ".join(a.filename for a in mail.attachments) + "]")
    text = "\n\n".join(parts)
    return text if len(text) <= max_length else text[: max_length - 1] + "…"
