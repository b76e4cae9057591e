"""Attachment rules: the allowed formats, declarations, file names and their lifecycle."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from urllib.parse import quote

from .errors import ValidationError


class AttachmentStatus(StrEnum):
    """The marketplace's attachment statuses."""

    NEW = "NEW"  # declared, not verified yet
    SAFE = "SAFE"  # the content is one of the allowed formats
    UNSAFE = "UNSAFE"  # the content was refused
    EXPIRED = "EXPIRED"  # declared but not used in a message in time


@dataclass(frozen=True)
class FileFormat:
    name: str
    mime_type: str
    extensions: tuple[str, ...]


ALLOWED_FORMATS: tuple[FileFormat, ...] = (
    FileFormat("PDF", "application/pdf", (".pdf",)),
    FileFormat("GIF", "image/gif", (".gif",)),
    FileFormat("BMP", "image/bmp", (".bmp",)),
    FileFormat("TIFF", "image/tiff", (".tif", ".tiff")),
    FileFormat("JPEG", "image/jpeg", (".jpg", ".jpeg")),
    FileFormat("PNG", "image/png", (".png",)),
)
ALLOWED_MIME_TYPES = frozenset(f.mime_type for f in ALLOWED_FORMATS)
ALLOWED_DESCRIPTION = "PDF, GIF, BMP, TIFF, JPEG (.jpg/.jpeg) and PNG"
MAX_ATTACHMENTS_PER_MESSAGE = 10
MAX_FILE_NAME_LENGTH = 200


@dataclass(frozen=True)
class Attachment:
    id: str
    owner_id: str
    file_name: str
    size: int
    status: AttachmentStatus
    created_at: datetime
    expires_at: datetime | None
    mime_type: str | None = None
    message_id: str | None = None
    participants: tuple[str, ...] = ()
    refusal: str | None = None
    # Names the exact bytes that were checked (the storage's immutable version of the upload).
    content_version: str | None = None

    @property
    def used(self) -> bool:
        return self.message_id is not None

    def status_at(self, now: datetime) -> AttachmentStatus:
        """EXPIRED once an unused declaration outlives its time (TTL deletion lags behind)."""
        if not self.used and self.expires_at is not None and self.expires_at <= now:
            return AttachmentStatus.EXPIRED
        return self.status


@dataclass(frozen=True)
class MessageAttachment:
    """An attachment as a message lists it."""

    id: str
    file_name: str
    mime_type: str
    status: AttachmentStatus = AttachmentStatus.SAFE


def format_for_extension(file_name: str) -> FileFormat | None:
    lowered = file_name.lower()
    return next((f for f in ALLOWED_FORMATS if lowered.endswith(f.extensions)), None)


def format_for_mime_type(mime_type: str) -> FileFormat | None:
    return next((f for f in ALLOWED_FORMATS if f.mime_type == mime_type), None)


_UNSAFE_NAME_CHARACTERS = re.compile(r'[\\/:*?"<>|]')
_WHITESPACE = re.compile(r"\s+")


def sanitize_file_name(raw: str) -> str:
    """A file name safe to store and to put in a header: no path, no control or reserved
    characters, no leading dots, at most 200 characters with the extension kept."""
    name = unicodedata.normalize("NFC", raw)
    name = re.split(r"[\\/]", name)[-1]  # drop any path, Windows or POSIX
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")  # controls, format chars
    name = _UNSAFE_NAME_CHARACTERS.sub("_", name)
    name = _WHITESPACE.sub(" ", name).strip().lstrip(".").strip()
    if len(name) > MAX_FILE_NAME_LENGTH:
        _stem, dot, extension = name.rpartition(".")
        keep = dot + extension if dot and len(extension) <= 10 else ""
        name = name[: MAX_FILE_NAME_LENGTH - len(keep)].rstrip() + keep
    if not name or name.startswith("."):
        raise ValidationError(
            "The file name is empty once paths and control characters are removed.", code="FILE_NAME_INVALID"
        )
    return name


def check_declaration(file_name: str, size: int, max_bytes: int) -> FileFormat:
    """Refuse what can be refused before any byte arrives: the extension and the size."""
    declared = format_for_extension(file_name)
    if declared is None:
        raise ValidationError(
            f"Files of this type cannot be attached. Allowed formats: {ALLOWED_DESCRIPTION}.",
            code="ATTACHMENT_TYPE_NOT_ALLOWED",
        )
    if size <= 0:
        raise ValidationError("An empty file cannot be attached.", code="ATTACHMENT_EMPTY")
    if size > max_bytes:
        raise ValidationError(
            f"The file is {size} bytes; attachments may have at most {max_bytes} bytes.",
            code="ATTACHMENT_TOO_LARGE",
        )
    return declared


def content_disposition(file_name: str) -> str:
    """``attachment`` with the name as a quoted ASCII fallback and an RFC 5987 UTF-8 form, so no
    client can be tricked by quotes, semicolons or line breaks in a name."""
    fallback = "".join(ch if 32 <= ord(ch) < 127 and ch not in '"\\;' else "_" for ch in file_name)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(file_name, safe='')}"
