"""Attachment records: declared by a user, verified, then used by exactly one message."""

from __future__ import annotations

from datetime import datetime

from pynamodb.exceptions import DeleteError, DoesNotExist, UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action

from ..domain.attachments import Attachment, AttachmentStatus
from .errors import CONDITION_FAILED
from .items import AttachmentItem


def attachment_key(attachment_id: str) -> tuple[str, str]:
    return f"ATTACHMENT#{attachment_id}", "ATTACHMENT"


def _to_attachment(item: AttachmentItem) -> Attachment:
    return Attachment(
        id=item.pk.removeprefix("ATTACHMENT#"),
        owner_id=item.owner_id,
        file_name=item.file_name,
        size=int(item.size),
        status=AttachmentStatus(item.status),
        created_at=item.created_at,
        expires_at=item.expires_at,
        mime_type=item.mime_type,
        message_id=item.message_id,
        participants=tuple(str(p) for p in item.participants or ()),
        refusal=item.refusal,
        content_version=item.content_version,
    )


class AttachmentRepository:
    def create(self, attachment: Attachment) -> None:
        AttachmentItem(
            *attachment_key(attachment.id),
            owner_id=attachment.owner_id,
            file_name=attachment.file_name,
            size=attachment.size,
            status=attachment.status.value,
            created_at=attachment.created_at,
            expires_at=attachment.expires_at,
        ).save(condition=AttachmentItem.pk.does_not_exist())

    def get(self, attachment_id: str) -> Attachment | None:
        try:
            return _to_attachment(AttachmentItem.get(*attachment_key(attachment_id), consistent_read=True))
        except DoesNotExist:
            return None

    def record_verdict(
        self,
        attachment_id: str,
        status: AttachmentStatus,
        mime_type: str | None,
        refusal: str | None,
        content_version: str | None = None,
    ) -> Attachment | None:
        """Store the content check's result once, with the version of the bytes it checked; None
        if another request decided first."""
        item = AttachmentItem(*attachment_key(attachment_id))
        actions: list[Action] = [AttachmentItem.status.set(status.value)]
        actions.append(AttachmentItem.mime_type.set(mime_type) if mime_type else AttachmentItem.mime_type.remove())
        actions.append(AttachmentItem.refusal.set(refusal) if refusal else AttachmentItem.refusal.remove())
        actions.append(
            AttachmentItem.content_version.set(content_version)
            if content_version
            else AttachmentItem.content_version.remove()
        )
        try:
            item.update(actions=actions, condition=AttachmentItem.status == AttachmentStatus.NEW.value)
        except UpdateError as error:
            if error.cause_response_code == CONDITION_FAILED:
                return None
            raise
        return _to_attachment(item)

    def delete_unused(self, attachment_id: str) -> None:
        """Forget an attachment no message uses (one stored for a delivery that was refused)."""
        try:
            AttachmentItem(*attachment_key(attachment_id)).delete(condition=AttachmentItem.message_id.does_not_exist())
        except DeleteError as error:
            if error.cause_response_code != CONDITION_FAILED:
                raise


def use_in_message_actions(message_id: str, participants: list[str]) -> list[Action]:
    """Update actions that bind an attachment to its message (and stop it from expiring)."""
    return [
        AttachmentItem.message_id.set(message_id),
        AttachmentItem.participants.set(participants),  # type: ignore[arg-type]  # pynamodb's stubs
        AttachmentItem.expires_at.remove(),
    ]


def usable_by(owner_id: str, now: datetime) -> Condition:
    """The condition under which a message may take an attachment: the author's own, verified
    safe, unused and not expired."""
    return (
        (AttachmentItem.owner_id == owner_id)
        & (AttachmentItem.status == AttachmentStatus.SAFE.value)
        & AttachmentItem.message_id.does_not_exist()
        & (AttachmentItem.expires_at > now)
    )
