"""The inbound e-mail channel's pure part: raw MIME bytes in, a ParsedMail out (no I/O, no AWS)."""

from .inbound import MAX_DEPTH, MAX_PARTS, parse_inbound
from .model import (
    AutoSubmittedReason,
    MailAttachment,
    MailDefect,
    ParsedMail,
    RefusalReason,
    RefusedAttachment,
    UnusableReason,
    message_text,
)
from .quoting import strip_reply
from .text import TRUNCATION_MARKER, html_to_text

__all__ = [
    "MAX_DEPTH",
    "MAX_PARTS",
    "TRUNCATION_MARKER",
    "AutoSubmittedReason",
    "MailAttachment",
    "MailDefect",
    "ParsedMail",
    "RefusalReason",
    "RefusedAttachment",
    "UnusableReason",
    "html_to_text",
    "message_text",
    "parse_inbound",
    "strip_reply",
]
