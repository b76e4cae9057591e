"""Attachments: declare, upload, verify by content, use in a message, download."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from contextlib import ExitStack
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from ..adapters.attachment_files import UploadForm, stored_key, upload_key
from ..domain import file_types
from ..domain.attachments import (
    ALLOWED_DESCRIPTION,
    ALLOWED_MIME_TYPES,
    MAX_ATTACHMENTS_PER_MESSAGE,
    Attachment,
    AttachmentStatus,
    MessageAttachment,
    check_declaration,
    content_disposition,
    sanitize_file_name,
)
from ..domain.errors import ConflictError, NotFoundError, UnsupportedMediaTypeError, ValidationError
from ..domain.ids import is_valid_id, new_id, utc_now
from .ports import AttachmentFileStore, AttachmentRecords


@dataclass(frozen=True)
class Declared:
    attachment: Attachment
    upload: UploadForm


@dataclass(frozen=True)
class StoredCopy:
    """One copy of an attachment's checked bytes under the stored prefix (one object version)."""

    attachment_id: str
    version: str


@dataclass(frozen=True)
class PreparedAttachments:
    """What a message will list, and the stored copies made for this one attempt to store it."""

    attachments: tuple[MessageAttachment, ...] = ()
    copies: tuple[StoredCopy, ...] = ()


class AttachmentService:
    def __init__(
        self,
        repository: AttachmentRecords,
        files: AttachmentFileStore,
        *,
        max_bytes: int,
        ttl: timedelta,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._repository = repository
        self._files = files
        self._max_bytes = max_bytes
        self._ttl = ttl
        self._clock = clock

    def declare(self, owner_id: str, file_name: str, size: int) -> Declared:
        """Record a file the caller is about to upload; refuse by name and size up front."""
        name = sanitize_file_name(file_name)
        declared_format = check_declaration(name, size, self._max_bytes)
        now = self._clock()
        attachment = Attachment(
            id=new_id(now),
            owner_id=owner_id,
            file_name=name,
            size=size,
            status=AttachmentStatus.NEW,
            created_at=now,
            expires_at=now + self._ttl,
        )
        self._repository.create(attachment)
        return Declared(attachment, self._files.upload_form(attachment.id, size, declared_format.mime_type))

    def upload(self, owner_id: str, attachment_id: str, content: bytes, content_type: str | None) -> Attachment:
        """Take the bytes of a declared attachment: exactly the declared size, checked by content."""
        attachment = self._own(owner_id, attachment_id)
        media_type = (content_type or "").split(";")[0].strip().lower()
        if media_type not in ALLOWED_MIME_TYPES:
            raise UnsupportedMediaTypeError(
                f"Upload the file with its Content-Type; allowed formats: {ALLOWED_DESCRIPTION}.",
                code="ATTACHMENT_TYPE_NOT_ALLOWED",
            )
        self._require_new(attachment)
        if len(content) != attachment.size:
            raise ValidationError(
                f"The upload has {len(content)} bytes but {attachment.size} were declared.",
                code="ATTACHMENT_SIZE_MISMATCH",
            )
        inspection = file_types.inspect(content)
        if inspection.format is None:
            self._repository.record_verdict(attachment.id, AttachmentStatus.UNSAFE, None, inspection.refusal)
            raise ValidationError(inspection.refusal or "Refused.", code="ATTACHMENT_UNSAFE")
        mime_type = inspection.format.mime_type
        version = self._files.put_upload(attachment.id, content, mime_type, content_disposition(attachment.file_name))
        decided = self._repository.record_verdict(attachment.id, AttachmentStatus.SAFE, mime_type, None, version)
        return decided or self._own(owner_id, attachment_id)

    def store_received(self, owner_id: str, file_name: str, content: bytes) -> Attachment:
        """Keep a file that arrived some other way (an e-mail): checked by content like an upload,
        stored as a SAFE attachment of ``owner_id`` ready to be used by one message."""
        name = sanitize_file_name(file_name)
        inspection = file_types.inspect(content)
        if inspection.format is None:
            raise ValidationError(inspection.refusal or "Refused.", code="ATTACHMENT_UNSAFE")
        now = self._clock()
        attachment = Attachment(
            id=new_id(now),
            owner_id=owner_id,
            file_name=name,
            size=len(content),
            status=AttachmentStatus.NEW,
            created_at=now,
            expires_at=now + self._ttl,
        )
        self._repository.create(attachment)
        mime_type = inspection.format.mime_type
        version = self._files.put_upload(attachment.id, content, mime_type, content_disposition(name))
        decided = self._repository.record_verdict(attachment.id, AttachmentStatus.SAFE, mime_type, None, version)
        return decided or replace(
            attachment, status=AttachmentStatus.SAFE, mime_type=mime_type, content_version=version
        )

    def discard_received(self, attachments: Iterable[Attachment]) -> None:
        """Undo ``store_received`` for files whose message was refused: record and bytes."""
        for attachment in attachments:
            if attachment.content_version is not None:
                self._files.discard_upload(attachment.id, attachment.content_version)
            self._repository.delete_unused(attachment.id)

    def prepare_for_message(self, author_id: str, attachment_ids: tuple[str, ...]) -> PreparedAttachments:
        """Check that a message may carry these attachments, then copy exactly their checked
        bytes to the stored prefix; the message's transaction then binds them (and re-checks,
        against races). Copies are made before the transaction so that a stored message never
        names a missing file; a caller whose transaction is refused calls ``release``."""
        if len(attachment_ids) > MAX_ATTACHMENTS_PER_MESSAGE:
            raise ValidationError(
                f"A message can carry at most {MAX_ATTACHMENTS_PER_MESSAGE} attachments.",
                code="TOO_MANY_ATTACHMENTS",
            )
        if len(set(attachment_ids)) != len(attachment_ids):
            raise ValidationError("The same attachment is listed twice.", code="ATTACHMENT_DUPLICATE")
        usable = [self._usable(author_id, attachment_id) for attachment_id in attachment_ids]  # all, before any copy
        listed: list[MessageAttachment] = []
        copies: list[StoredCopy] = []
        with ExitStack() as undo:  # a failed copy removes the ones made before it
            for attachment, checked in usable:
                mime_type = attachment.mime_type or "application/octet-stream"
                version = self._files.promote(
                    attachment.id, checked, mime_type, content_disposition(attachment.file_name)
                )
                if version is None:
                    raise ValidationError("The attachment has expired; upload it again.", code="ATTACHMENT_EXPIRED")
                undo.callback(self._files.discard_copy, attachment.id, version)
                copies.append(StoredCopy(attachment.id, version))
                listed.append(MessageAttachment(id=attachment.id, file_name=attachment.file_name, mime_type=mime_type))
            undo.pop_all()
        return PreparedAttachments(attachments=tuple(listed), copies=tuple(copies))

    def release(self, prepared: PreparedAttachments) -> None:
        """Remove the copies ``prepare_for_message`` made, once the transaction that would have
        bound them was refused. Only this attempt's versions go: a concurrent send of the same
        attachment that won keeps its own copy, identical bytes under the same key."""
        for copy in prepared.copies:
            self._files.discard_copy(copy.attachment_id, copy.version)

    def download_url(self, caller_id: str, attachment_id: str) -> str:
        """A short-lived URL of the file, for a participant of the message's thread, or for the
        uploader before the attachment is used."""
        attachment = self._repository.get(attachment_id) if is_valid_id(attachment_id) else None
        if attachment is None:
            raise _not_found()
        if attachment.used:
            if caller_id not in attachment.participants:
                raise _not_found()
            key = stored_key(attachment.id)
            version = None
        else:
            if attachment.owner_id != caller_id:
                raise _not_found()
            attachment = self._verified(attachment)
            key = upload_key(attachment.id)
            version = attachment.content_version  # what was checked, not what the form sent since
        return self._files.download_url(
            key,
            attachment.mime_type or "application/octet-stream",
            content_disposition(attachment.file_name),
            version,
        )

    # -- internals -----------------------------------------------------------------------

    def _own(self, owner_id: str, attachment_id: str) -> Attachment:
        attachment = self._repository.get(attachment_id) if is_valid_id(attachment_id) else None
        if attachment is None or attachment.owner_id != owner_id:
            raise _not_found()
        return attachment

    def _require_new(self, attachment: Attachment) -> None:
        status = attachment.status_at(self._clock())
        if status is AttachmentStatus.EXPIRED:
            raise ValidationError("The attachment has expired; declare it again.", code="ATTACHMENT_EXPIRED")
        if status is not AttachmentStatus.NEW or attachment.used:
            raise ConflictError(
                "This attachment was already uploaded; declare a new one.", code="ATTACHMENT_ALREADY_UPLOADED"
            )

    def _usable(self, author_id: str, attachment_id: str) -> tuple[Attachment, str]:
        """The author's unused SAFE attachment, and the version of its checked bytes."""
        attachment = self._repository.get(attachment_id) if is_valid_id(attachment_id) else None
        if attachment is None or attachment.owner_id != author_id:
            raise ValidationError(
                f"Attachment {attachment_id} not found: declare and upload it first.",
                code="ATTACHMENT_NOT_FOUND",
            )
        if attachment.used:
            raise ValidationError(
                f"Attachment {attachment_id} is already part of a message.", code="ATTACHMENT_ALREADY_USED"
            )
        attachment = self._verified(attachment)
        if attachment.content_version is None:
            # Checked before checked versions were recorded: which bytes were checked is unknown.
            raise ValidationError("The attachment has expired; upload it again.", code="ATTACHMENT_EXPIRED")
        return attachment, attachment.content_version

    def _verified(self, attachment: Attachment) -> Attachment:
        """Settle a NEW attachment uploaded straight to S3 (presigned POST) with the same content
        check as a PUT, then insist on SAFE."""
        status = attachment.status_at(self._clock())
        if status is AttachmentStatus.NEW:
            attachment = self._verify_upload(attachment)
            status = attachment.status_at(self._clock())
        if status is AttachmentStatus.EXPIRED:
            raise ValidationError("The attachment has expired; upload it again.", code="ATTACHMENT_EXPIRED")
        if status is AttachmentStatus.UNSAFE:
            raise ValidationError(
                attachment.refusal or f"The file was refused. Allowed formats: {ALLOWED_DESCRIPTION}.",
                code="ATTACHMENT_UNSAFE",
            )
        return attachment

    def _verify_upload(self, attachment: Attachment) -> Attachment:
        upload = self._files.read_upload(attachment.id, self._max_bytes)
        if upload is None:
            raise ConflictError("The attachment has not been uploaded yet.", code="ATTACHMENT_NOT_UPLOADED")
        content = upload.content
        inspection = file_types.inspect(content) if len(content) == attachment.size else None
        if inspection is not None and inspection.format is not None:
            decided = self._repository.record_verdict(
                attachment.id, AttachmentStatus.SAFE, inspection.format.mime_type, None, upload.version
            )
        else:
            refusal = inspection.refusal if inspection else "The uploaded file does not have the declared size."
            decided = self._repository.record_verdict(attachment.id, AttachmentStatus.UNSAFE, None, refusal)
        if decided is not None:
            return decided
        # Another request settled it first: use its verdict.
        return self._repository.get(attachment.id) or replace(attachment, status=AttachmentStatus.UNSAFE)


def _not_found() -> NotFoundError:
    return NotFoundError("Attachment not found.", code="ATTACHMENT_NOT_FOUND")
