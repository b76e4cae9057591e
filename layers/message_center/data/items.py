"""pynamodb item classes of the single table. Only the repositories import this module.

Key layout (all keys are strings):

| item            | pk                          | sk               |
| --------------- | --------------------------- | ---------------- |
| user profile    | ``USER#<userId>``           | ``PROFILE``      |
| login lookup    | ``LOGIN#<login lower>``     | ``LOGIN``        |
| mail alias      | ``ALIAS#<alias>``           | ``ALIAS``        |
| e-mail lookup   | ``EMAIL#<address lower>``   | ``EMAIL``        |
| offer / order   | ``OFFER#<id>`` / ``ORDER#<id>`` | ``OFFER`` / ``ORDER`` |
| pair → thread   | ``PAIR#<userA>#<userB>``    | ``PAIR``         |
| thread          | ``THREAD#<threadId>``       | ``THREAD``       |
| inbox entry     | ``USER#<userId>``           | ``INBOX#<threadId>`` |
| message copy    | ``MBOX#<userId>#<threadId>``| ``MSG#<messageId>`` |
| message ref     | ``MSG#<messageId>``         | ``MSG``          |
| idempotency key | ``IDEMPOTENCY#<userId>#<key>`` | ``IDEMPOTENCY`` |
| attachment      | ``ATTACHMENT#<attachmentId>`` | ``ATTACHMENT`` |
| push device     | ``USER#<userId>``           | ``DEVICE#<deviceId>`` |
| device owner    | ``DEVICE#<deviceId>``       | ``DEVICE``       |

Each participant holds a copy of every message of a thread, so "delete for me" removes the
caller's copy and listing a thread reads only what the caller may see (no discarding filter).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from pynamodb.attributes import (
    BooleanAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.connection import Connection
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
from pynamodb.models import Model

from . import schema


class _TableItem(Model):
    """Common base: every item lives in the one table, keyed by ``pk``/``sk``."""

    class Meta:
        # Replaced by ``bind_table`` at cold start from the validated settings.
        table_name = "MessageCenter"
        region = "eu-central-1"

    pk = UnicodeAttribute(hash_key=True, attr_name=schema.PARTITION_KEY)
    sk = UnicodeAttribute(range_key=True, attr_name=schema.SORT_KEY)


def _index(spec: schema.IndexSpec) -> GlobalSecondaryIndex[Any]:
    """A pynamodb index for ``spec`` (names come from the schema, not restated here)."""
    meta = type("Meta", (), {"index_name": spec.name, "projection": AllProjection()})
    index_class = type(
        f"{spec.name}Index",
        (GlobalSecondaryIndex,),
        {
            "Meta": meta,
            "owner": UnicodeAttribute(hash_key=True, attr_name=spec.hash_key),
            "activity": UnicodeAttribute(range_key=True, attr_name=spec.range_key),
        },
    )
    return index_class()


class UserItem(_TableItem):
    login = UnicodeAttribute()
    email = UnicodeAttribute()
    preferred_language = UnicodeAttribute(attr_name="preferredLanguage")
    business_account = BooleanAttribute(attr_name="businessAccount")
    marketplace = UnicodeAttribute()
    avatar_url = UnicodeAttribute(null=True, attr_name="avatarUrl")
    # The unread badge: how many of the user's threads are unread. Kept exact by the same
    # transactions that flip an inbox entry between read and unread.
    unread_threads = NumberAttribute(default=0, attr_name="unreadThreads")
    updated_at = UTCDateTimeAttribute(attr_name="updatedAt")
    mail_alias = UnicodeAttribute(null=True, attr_name="mailAlias")
    # Absent: on (the default).
    read_receipts = BooleanAttribute(null=True, attr_name="readReceipts")


class EmailItem(_TableItem):
    """``EMAIL#<address>`` → the user who registered it (senders of inbound mail)."""

    user_id = UnicodeAttribute(attr_name="userId")


class AliasItem(_TableItem):
    """``ALIAS#<alias>`` → the user behind a masked relay address."""

    user_id = UnicodeAttribute(attr_name="userId")


class LoginItem(_TableItem):
    user_id = UnicodeAttribute(attr_name="userId")


class OfferItem(_TableItem):
    seller_id = UnicodeAttribute(attr_name="sellerId")
    marketplace = UnicodeAttribute()
    title = UnicodeAttribute()


class OrderItem(_TableItem):
    buyer_id = UnicodeAttribute(attr_name="buyerId")
    seller_id = UnicodeAttribute(attr_name="sellerId")
    marketplace = UnicodeAttribute()
    offer_ids = ListAttribute(of=UnicodeAttribute, default=list, attr_name="offerIds")


class PairItem(_TableItem):
    thread_id = UnicodeAttribute(attr_name="threadId")


class ThreadItem(_TableItem):
    participants = ListAttribute(of=UnicodeAttribute)
    created_at = UTCDateTimeAttribute(attr_name="createdAt")
    last_message_at = UTCDateTimeAttribute(attr_name="lastMessageAt")
    last_message_id = UnicodeAttribute(attr_name="lastMessageId")
    message_count = NumberAttribute(default=0, attr_name="messageCount")


class InboxEntryItem(_TableItem):
    thread_id = UnicodeAttribute(attr_name="threadId")
    interlocutor_id = UnicodeAttribute(attr_name="interlocutorId")
    interlocutor_login = UnicodeAttribute(attr_name="interlocutorLogin")
    interlocutor_avatar_url = UnicodeAttribute(null=True, attr_name="interlocutorAvatarUrl")
    last_message_at = UTCDateTimeAttribute(attr_name="lastMessageAt")
    last_author_id = UnicodeAttribute(attr_name="lastAuthorId")
    read = BooleanAttribute()
    unread_count = NumberAttribute(default=0, attr_name="unreadCount")
    last_read_at = UTCDateTimeAttribute(null=True, attr_name="lastReadAt")
    # Optimistic lock: the badge counter is only correct if read/unread flips are serialised.
    version = NumberAttribute(default=0)
    # Index keys. The owner attributes of the sparse indexes exist only while the condition holds.
    inbox_owner = UnicodeAttribute(attr_name=schema.INBOX_INDEX.hash_key)
    inbox_activity = UnicodeAttribute(attr_name=schema.INBOX_INDEX.range_key)
    unread_owner = UnicodeAttribute(null=True, attr_name=schema.UNREAD_INDEX.hash_key)
    awaiting_owner = UnicodeAttribute(null=True, attr_name=schema.AWAITING_INDEX.hash_key)
    unread_awaiting_owner = UnicodeAttribute(null=True, attr_name=schema.UNREAD_AWAITING_INDEX.hash_key)

    inbox_index: ClassVar[GlobalSecondaryIndex[Any]] = _index(schema.INBOX_INDEX)
    unread_index: ClassVar[GlobalSecondaryIndex[Any]] = _index(schema.UNREAD_INDEX)
    awaiting_index: ClassVar[GlobalSecondaryIndex[Any]] = _index(schema.AWAITING_INDEX)
    unread_awaiting_index: ClassVar[GlobalSecondaryIndex[Any]] = _index(schema.UNREAD_AWAITING_INDEX)


class RelatesToAttribute(MapAttribute[str, Any]):
    offer_id = UnicodeAttribute(null=True, attr_name="offerId")
    order_id = UnicodeAttribute(null=True, attr_name="orderId")


class MessageAttachmentAttribute(MapAttribute[str, Any]):
    attachment_id = UnicodeAttribute(attr_name="id")
    file_name = UnicodeAttribute(attr_name="fileName")
    mime_type = UnicodeAttribute(attr_name="mimeType")
    status = UnicodeAttribute()


class TranslationAttribute(MapAttribute[str, Any]):
    text = UnicodeAttribute()
    source_language = UnicodeAttribute(attr_name="sourceLanguage")
    provider = UnicodeAttribute()


class MessageItem(_TableItem):
    message_id = UnicodeAttribute(attr_name="messageId")
    thread_id = UnicodeAttribute(attr_name="threadId")
    owner_id = UnicodeAttribute(attr_name="ownerId")
    author_id = UnicodeAttribute(attr_name="authorId")
    author_login = UnicodeAttribute(attr_name="authorLogin")
    recipient_id = UnicodeAttribute(attr_name="recipientId")
    text = UnicodeAttribute()
    type = UnicodeAttribute()
    status = UnicodeAttribute()
    subject = UnicodeAttribute(null=True)
    relates_to = RelatesToAttribute(attr_name="relatesTo", default=dict)
    created_at = UTCDateTimeAttribute(attr_name="createdAt")
    attachments = ListAttribute(of=MessageAttachmentAttribute, default=list)
    language = UnicodeAttribute(null=True)
    # target language → translation; each (message, language) is translated at most once.
    translations = MapAttribute[str, Any](null=True)
    auto_translation = UnicodeAttribute(null=True, attr_name="autoTranslation")


class MessageRefItem(_TableItem):
    thread_id = UnicodeAttribute(attr_name="threadId")
    participants = ListAttribute(of=UnicodeAttribute)


class IdempotencyItem(_TableItem):
    message_id = UnicodeAttribute(attr_name="messageId")
    thread_id = UnicodeAttribute(attr_name="threadId")
    request_hash = UnicodeAttribute(attr_name="requestHash")
    expires_at = TTLAttribute(attr_name=schema.TTL_ATTRIBUTE)


class AttachmentItem(_TableItem):
    owner_id = UnicodeAttribute(attr_name="ownerId")
    file_name = UnicodeAttribute(attr_name="fileName")
    size = NumberAttribute()
    status = UnicodeAttribute()
    mime_type = UnicodeAttribute(null=True, attr_name="mimeType")
    refusal = UnicodeAttribute(null=True)
    # The S3 version of the upload whose bytes were checked: the only one a message may copy.
    content_version = UnicodeAttribute(null=True, attr_name="contentVersion")
    created_at = UTCDateTimeAttribute(attr_name="createdAt")
    # Unused declarations expire; a message that uses the attachment removes this attribute.
    expires_at = TTLAttribute(null=True, attr_name=schema.TTL_ATTRIBUTE)
    message_id = UnicodeAttribute(null=True, attr_name="messageId")
    participants = ListAttribute(of=UnicodeAttribute, null=True)


class DeviceItem(_TableItem):
    platform = UnicodeAttribute()
    endpoint_arn = UnicodeAttribute(attr_name="endpointArn")
    created_at = UTCDateTimeAttribute(attr_name="createdAt")


class DeviceOwnerItem(_TableItem):
    owner_id = UnicodeAttribute(attr_name="ownerId")


class QuotaItem(_TableItem):
    """Characters translated for a user on one day (``QUOTA#<user>#<day>``)."""

    characters = NumberAttribute(default=0)
    expires_at = TTLAttribute(null=True, attr_name=schema.TTL_ATTRIBUTE)


class InboundMailItem(_TableItem):
    """What became of one received e-mail (``INBOUND#<SES message id>``), kept 90 days."""

    outcome = UnicodeAttribute()
    detail = UnicodeAttribute(null=True)
    message_id = UnicodeAttribute(null=True, attr_name="messageId")
    received_at = UTCDateTimeAttribute(attr_name="receivedAt")
    expires_at = TTLAttribute(null=True, attr_name=schema.TTL_ATTRIBUTE)


ALL_ITEM_CLASSES: tuple[type[_TableItem], ...] = (
    UserItem,
    LoginItem,
    AliasItem,
    EmailItem,
    OfferItem,
    OrderItem,
    PairItem,
    ThreadItem,
    InboxEntryItem,
    MessageItem,
    MessageRefItem,
    IdempotencyItem,
    AttachmentItem,
    DeviceItem,
    DeviceOwnerItem,
    QuotaItem,
    InboundMailItem,
)


def bind_table(
    table_name: str, region: str, host: str | None, *, credentials: dict[str, str] | None = None
) -> Connection:
    """Point every item class at the configured table (called once per cold start) and return
    the one DynamoDB connection they share.

    pynamodb gives each model class its own connection, each with its own botocore session and
    client: a dozen item classes meant a dozen clients to build per container. They all address
    the same table, so they share the connection of the class that declares every index.
    """
    return bind_item_classes(ALL_ITEM_CLASSES, InboxEntryItem, table_name, region, host, credentials=credentials)


def bind_item_classes(
    item_classes: Sequence[type[Model]],
    owner: type[Model],
    table_name: str,
    region: str,
    host: str | None,
    *,
    credentials: dict[str, str] | None = None,
) -> Connection:
    """Point ``item_classes`` at one table and give them ``owner``'s connection (``owner``: the
    class that declares every index of that table)."""
    for item_class in item_classes:
        item_class.Meta.table_name = table_name
        item_class.Meta.region = region
        item_class.Meta.host = host
        # Explicit credentials (the local emulator's dummy ones); None: the default chain.
        for name in ("aws_access_key_id", "aws_secret_access_key", "aws_session_token"):
            setattr(item_class.Meta, name, (credentials or {}).get(name))
        item_class._connection = None
    shared = owner._get_connection()
    for item_class in item_classes:
        item_class._connection = shared
    return shared.connection
