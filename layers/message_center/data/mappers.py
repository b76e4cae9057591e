"""Item <-> domain mapping of conversations: inbox entries and message copies (and the message
copy in a stream record's image). Only the data package uses pynamodb items; this module is the one
place that knows how a domain object is laid out in the table."""

from __future__ import annotations

from typing import Any

from ..deployment import MESSAGE_COPY_PK_PREFIX
from ..domain.attachments import AttachmentStatus, MessageAttachment
from ..domain.ids import to_wire_datetime
from ..domain.models import InboxEntry, Message, MessageStatus, MessageTranslation, MessageType, RelatesTo
from .items import InboxEntryItem, MessageItem


def entry_key(owner_id: str, thread_id: str) -> tuple[str, str]:
    return f"USER#{owner_id}", f"INBOX#{thread_id}"


def mailbox_key(owner_id: str, thread_id: str) -> str:
    return f"{MESSAGE_COPY_PK_PREFIX}{owner_id}#{thread_id}"


def inbox_activity(entry: InboxEntry) -> str:
    return f"{to_wire_datetime(entry.last_message_at)}#{entry.thread_id}"


def to_entry(item: InboxEntryItem) -> InboxEntry:
    return InboxEntry(
        owner_id=item.pk.removeprefix("USER#"),
        thread_id=item.thread_id,
        interlocutor_id=item.interlocutor_id,
        interlocutor_login=item.interlocutor_login,
        interlocutor_avatar_url=item.interlocutor_avatar_url,
        last_message_at=item.last_message_at,
        last_author_id=item.last_author_id,
        read=item.read,
        unread_count=int(item.unread_count or 0),
        version=int(item.version or 0),
        last_read_at=item.last_read_at,
    )


def to_entry_item(entry: InboxEntry) -> InboxEntryItem:
    unread = not entry.read
    awaiting = entry.awaiting_reply
    return InboxEntryItem(
        *entry_key(entry.owner_id, entry.thread_id),
        thread_id=entry.thread_id,
        interlocutor_id=entry.interlocutor_id,
        interlocutor_login=entry.interlocutor_login,
        interlocutor_avatar_url=entry.interlocutor_avatar_url,
        last_message_at=entry.last_message_at,
        last_author_id=entry.last_author_id,
        read=entry.read,
        unread_count=entry.unread_count,
        version=entry.version,
        last_read_at=entry.last_read_at,
        inbox_owner=entry.owner_id,
        inbox_activity=inbox_activity(entry),
        unread_owner=entry.owner_id if unread else None,
        awaiting_owner=entry.owner_id if awaiting else None,
        unread_awaiting_owner=entry.owner_id if unread and awaiting else None,
    )


def to_message(item: MessageItem) -> Message:
    relates = item.relates_to
    return Message(
        id=item.message_id,
        thread_id=item.thread_id,
        owner_id=item.owner_id,
        author_id=item.author_id,
        author_login=item.author_login,
        text=item.text,
        type=MessageType(item.type),
        status=MessageStatus(item.status),
        created_at=item.created_at,
        relates_to=RelatesTo(
            offer_id=relates.offer_id if relates else None, order_id=relates.order_id if relates else None
        ),
        subject=item.subject,
        attachments=tuple(
            MessageAttachment(
                id=a.attachment_id,
                file_name=a.file_name,
                mime_type=a.mime_type,
                status=AttachmentStatus(a.status),
            )
            for a in item.attachments or ()
        ),
        language=item.language or "und",
        translations=tuple(
            MessageTranslation(
                language=language,
                text=value["text"],
                source_language=value["sourceLanguage"],
                provider=value["provider"],
            )
            for language, value in sorted((item.translations.as_dict() if item.translations else {}).items())
        ),
        auto_translation=item.auto_translation,
    )


def to_message_item(message: Message, owner_id: str, recipient_id: str) -> MessageItem:
    return MessageItem(
        mailbox_key(owner_id, message.thread_id),
        f"MSG#{message.id}",
        message_id=message.id,
        thread_id=message.thread_id,
        owner_id=owner_id,
        author_id=message.author_id,
        author_login=message.author_login,
        recipient_id=recipient_id,
        text=message.text,
        type=message.type.value,
        status=message.status.value,
        subject=message.subject,
        relates_to={
            key: value
            for key, value in (
                ("offer_id", message.relates_to.offer_id),
                ("order_id", message.relates_to.order_id),
            )
            if value is not None
        },
        created_at=message.created_at,
        attachments=[
            {
                "attachment_id": a.id,
                "file_name": a.file_name,
                "mime_type": a.mime_type,
                "status": a.status.value,
            }
            for a in message.attachments
        ],
        language=message.language,
    )


def message_from_stream_image(image: dict[str, Any]) -> Message | None:
    """The message copy in a stream record's image (DynamoDB JSON), or None for other items."""
    pk, sk = image.get("pk", {}).get("S", ""), image.get("sk", {}).get("S", "")
    if not (pk.startswith(MESSAGE_COPY_PK_PREFIX) and sk.startswith("MSG#")):
        return None
    return to_message(MessageItem.from_raw_data(image))


def message_from_stream_record(record: dict[str, Any]) -> Message | None:
    """The message copy a stream record inserted, or None (another item, or not an insert)."""
    if record.get("eventName") != "INSERT":
        return None
    return message_from_stream_image(record.get("dynamodb", {}).get("NewImage", {}))
