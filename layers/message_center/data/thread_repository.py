"""Threads, inbox entries and messages: every read is a GetItem, BatchGetItem or a Query on a
key or index, and every send is one TransactWriteItems."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any

from pynamodb.connection import Connection
from pynamodb.exceptions import DeleteError, DoesNotExist, TransactWriteError, UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.transactions import TransactWrite

from ..domain.attachments import AttachmentStatus, MessageAttachment
from ..domain.errors import ConcurrencyError
from ..domain.ids import highest_id_at, lowest_id_at, to_wire_datetime
from ..domain.inbox import EntryChange
from ..domain.models import InboxEntry, Message, MessageStatus, MessageTranslation, MessageType, RelatesTo
from ..domain.rules import pair_key
from .attachment_repository import attachment_key, usable_by, use_in_message_actions
from .errors import CONDITION_FAILED, TRANSACTION_CONFLICT
from .items import (
    AttachmentItem,
    IdempotencyItem,
    InboxEntryItem,
    MessageItem,
    MessageRefItem,
    PairItem,
    ThreadItem,
    UserItem,
)


class InboxFilter(Enum):
    ALL = "all"
    UNREAD = "unread"
    AWAITING_REPLY = "awaitingReply"
    UNREAD_AWAITING_REPLY = "unreadAwaitingReply"


@dataclass(frozen=True)
class IdempotencyRecord:
    message_id: str
    thread_id: str
    request_hash: str


@dataclass(frozen=True)
class IdempotencyClaim:
    """A client's Idempotency-Key, claimed in the same transaction that stores the message."""

    owner_id: str
    key: str
    request_hash: str
    expires_at: datetime


class IdempotencyKeyTaken(Exception):
    """Another request with the same Idempotency-Key committed first."""


@dataclass(frozen=True)
class NewMessage:
    """Everything needed to store one message in a thread (the service decided the rest)."""

    message: Message  # the author's copy; the recipient's copy differs only in owner_id
    recipient_id: str
    author_entry: EntryChange
    recipient_entry: EntryChange
    new_thread: bool
    idempotency: IdempotencyClaim | None = None


def _entry_key(owner_id: str, thread_id: str) -> tuple[str, str]:
    return f"USER#{owner_id}", f"INBOX#{thread_id}"


def _mailbox(owner_id: str, thread_id: str) -> str:
    return f"MBOX#{owner_id}#{thread_id}"


def _activity(entry: InboxEntry) -> str:
    return f"{to_wire_datetime(entry.last_message_at)}#{entry.thread_id}"


def _to_entry(item: InboxEntryItem) -> InboxEntry:
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
    )


def _to_entry_item(entry: InboxEntry) -> InboxEntryItem:
    unread = not entry.read
    awaiting = entry.awaiting_reply
    return InboxEntryItem(
        *_entry_key(entry.owner_id, entry.thread_id),
        thread_id=entry.thread_id,
        interlocutor_id=entry.interlocutor_id,
        interlocutor_login=entry.interlocutor_login,
        interlocutor_avatar_url=entry.interlocutor_avatar_url,
        last_message_at=entry.last_message_at,
        last_author_id=entry.last_author_id,
        read=entry.read,
        unread_count=entry.unread_count,
        version=entry.version,
        inbox_owner=entry.owner_id,
        inbox_activity=_activity(entry),
        unread_owner=entry.owner_id if unread else None,
        awaiting_owner=entry.owner_id if awaiting else None,
        unread_awaiting_owner=entry.owner_id if unread and awaiting else None,
    )


def _to_message(item: MessageItem) -> Message:
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


def _to_message_item(message: Message, owner_id: str, recipient_id: str) -> MessageItem:
    return MessageItem(
        _mailbox(owner_id, message.thread_id),
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


class ThreadRepository:
    """Data access for conversations; pynamodb stays inside this class."""

    def __init__(self, connection: Connection) -> None:
        """``connection``: the items' shared connection (``bind_table`` returns it)."""
        self._connection = connection

    # -- threads and inbox entries ---------------------------------------------------------

    def find_thread_of_pair(self, user_a: str, user_b: str) -> str | None:
        try:
            return PairItem.get(f"PAIR#{pair_key(user_a, user_b)}", "PAIR", consistent_read=True).thread_id
        except DoesNotExist:
            return None

    def get_entry(self, owner_id: str, thread_id: str) -> InboxEntry | None:
        try:
            return _to_entry(InboxEntryItem.get(*_entry_key(owner_id, thread_id), consistent_read=True))
        except DoesNotExist:
            return None

    def get_entries(self, thread_id: str, owner_ids: Iterable[str]) -> dict[str, InboxEntry]:
        """Both participants' entries of a thread in one BatchGetItem."""
        keys = [_entry_key(owner, thread_id) for owner in owner_ids]
        found = InboxEntryItem.batch_get(keys, consistent_read=True)
        return {entry.owner_id: entry for entry in map(_to_entry, found)}

    def list_inbox(
        self, owner_id: str, inbox_filter: InboxFilter, *, before: datetime | None, offset: int, limit: int
    ) -> list[InboxEntry]:
        """The owner's entries, newest activity first, from the index matching the filter."""
        index = {
            InboxFilter.ALL: InboxEntryItem.inbox_index,
            InboxFilter.UNREAD: InboxEntryItem.unread_index,
            InboxFilter.AWAITING_REPLY: InboxEntryItem.awaiting_index,
            InboxFilter.UNREAD_AWAITING_REPLY: InboxEntryItem.unread_awaiting_index,
        }[inbox_filter]
        # Every inbox index sorts by the same attribute, so the model's attribute states the bound.
        range_condition = InboxEntryItem.inbox_activity < to_wire_datetime(before) if before is not None else None
        results = index.query(
            owner_id,
            range_key_condition=range_condition,
            scan_index_forward=False,
            limit=offset + limit,
            page_size=offset + limit,
        )
        return [_to_entry(item) for item in results][offset:]

    # -- messages --------------------------------------------------------------------------

    def list_messages(
        self,
        owner_id: str,
        thread_id: str,
        *,
        before: datetime | None,
        after: datetime | None,
        offset: int,
        limit: int,
    ) -> list[Message]:
        """The owner's copies of the thread's messages, newest first, within the date bounds."""
        lower = f"MSG#{highest_id_at(after)}" if after is not None else "MSG#"
        upper = f"MSG#{lowest_id_at(before)}" if before is not None else "MSG$"
        condition: Condition = MessageItem.sk.between(lower, upper)
        results = MessageItem.query(
            _mailbox(owner_id, thread_id),
            range_key_condition=condition,
            scan_index_forward=False,
            limit=offset + limit,
            page_size=offset + limit,
            consistent_read=True,
        )
        # "between" is inclusive; the API's bounds are exclusive and the bounds are never real ids.
        return [_to_message(item) for item in results][offset:]

    @staticmethod
    def message_from_stream_image(image: dict[str, Any]) -> Message | None:
        """The message copy in a stream record's image (DynamoDB JSON), or None for other items."""
        pk, sk = image.get("pk", {}).get("S", ""), image.get("sk", {}).get("S", "")
        if not (pk.startswith("MBOX#") and sk.startswith("MSG#")):
            return None
        return _to_message(MessageItem.from_raw_data(image))

    def find_message_thread(self, message_id: str) -> tuple[str, list[str]] | None:
        """The thread a message belongs to, and its participants."""
        try:
            ref = MessageRefItem.get(f"MSG#{message_id}", "MSG")
        except DoesNotExist:
            return None
        return ref.thread_id, [str(participant) for participant in ref.participants]

    def get_message(self, owner_id: str, thread_id: str, message_id: str) -> Message | None:
        try:
            return _to_message(
                MessageItem.get(_mailbox(owner_id, thread_id), f"MSG#{message_id}", consistent_read=True)
            )
        except DoesNotExist:
            return None

    def save_translation(
        self,
        owner_id: str,
        thread_id: str,
        message_id: str,
        translation: MessageTranslation,
        *,
        automatic: bool,
    ) -> bool:
        """Keep a translation on the owner's copy; False if the copy is gone."""
        item = MessageItem(_mailbox(owner_id, thread_id), f"MSG#{message_id}")
        value = {
            "text": translation.text,
            "sourceLanguage": translation.source_language,
            "provider": translation.provider,
        }
        try:
            item.update(
                actions=[
                    MessageItem.translations[translation.language].set(value),
                    *([MessageItem.auto_translation.set(translation.language)] if automatic else []),
                ],
                condition=MessageItem.pk.exists() & MessageItem.translations.exists(),
            )
        except UpdateError as error:
            if error.cause_response_code != CONDITION_FAILED:
                raise
            # No map yet (or no copy): create the map in one go, only if the copy exists.
            try:
                item.update(
                    actions=[
                        MessageItem.translations.set({translation.language: value}),
                        *([MessageItem.auto_translation.set(translation.language)] if automatic else []),
                    ],
                    condition=MessageItem.pk.exists() & MessageItem.translations.does_not_exist(),
                )
            except UpdateError as again:
                if again.cause_response_code != CONDITION_FAILED:
                    raise
                return self.get_message(owner_id, thread_id, message_id) is not None and self.save_translation(
                    owner_id, thread_id, message_id, translation, automatic=automatic
                )
        return True

    def delete_message_copy(self, owner_id: str, thread_id: str, message_id: str) -> bool:
        """Remove the owner's copy only; False when it was already gone."""
        item = MessageItem(_mailbox(owner_id, thread_id), f"MSG#{message_id}")
        try:
            item.delete(condition=MessageItem.pk.exists())
        except DeleteError as error:
            if error.cause_response_code == CONDITION_FAILED:
                return False
            raise
        return True

    # -- idempotency -----------------------------------------------------------------------

    def get_idempotency(self, owner_id: str, key: str) -> IdempotencyRecord | None:
        try:
            item = IdempotencyItem.get(f"IDEMPOTENCY#{owner_id}#{key}", "IDEMPOTENCY", consistent_read=True)
        except DoesNotExist:
            return None
        if item.expires_at is not None and item.expires_at < datetime.now(item.expires_at.tzinfo):
            return None  # TTL deletion lags; an expired key is treated as gone.
        return IdempotencyRecord(item.message_id, item.thread_id, item.request_hash)

    # -- writes ----------------------------------------------------------------------------

    def append_message(self, new: NewMessage) -> None:
        """Store a message with everything it changes, all or nothing.

        Raises ``ConcurrencyError`` when another writer changed an inbox entry or created the
        pair's thread first (the caller re-reads and tries again), and ``IdempotencyKeyTaken``
        when the same Idempotency-Key committed first.
        """
        message = new.message
        author_id, recipient_id = message.author_id, new.recipient_id
        participants = sorted((author_id, recipient_id))
        try:
            with TransactWrite(connection=self._connection) as transaction:
                if new.idempotency is not None:
                    claim = new.idempotency
                    transaction.save(
                        IdempotencyItem(
                            f"IDEMPOTENCY#{claim.owner_id}#{claim.key}",
                            "IDEMPOTENCY",
                            message_id=message.id,
                            thread_id=message.thread_id,
                            request_hash=claim.request_hash,
                            expires_at=claim.expires_at,
                        ),
                        condition=IdempotencyItem.pk.does_not_exist(),
                    )
                if new.new_thread:
                    transaction.save(
                        PairItem(f"PAIR#{pair_key(author_id, recipient_id)}", "PAIR", thread_id=message.thread_id),
                        condition=PairItem.pk.does_not_exist(),
                    )
                    transaction.save(
                        ThreadItem(
                            f"THREAD#{message.thread_id}",
                            "THREAD",
                            participants=participants,
                            created_at=message.created_at,
                            last_message_at=message.created_at,
                            last_message_id=message.id,
                            message_count=1,
                        ),
                        condition=ThreadItem.pk.does_not_exist(),
                    )
                else:
                    transaction.update(
                        ThreadItem(f"THREAD#{message.thread_id}", "THREAD"),
                        actions=[
                            ThreadItem.last_message_at.set(message.created_at),
                            ThreadItem.last_message_id.set(message.id),
                            ThreadItem.message_count.add(1),
                        ],
                        condition=ThreadItem.pk.exists(),
                    )
                for change in (new.author_entry, new.recipient_entry):
                    self._save_entry(transaction, change)
                for owner in (author_id, recipient_id):
                    transaction.save(
                        _to_message_item(message, owner, recipient_id),
                        condition=MessageItem.pk.does_not_exist(),
                    )
                transaction.save(
                    MessageRefItem(f"MSG#{message.id}", "MSG", thread_id=message.thread_id, participants=participants),
                    condition=MessageRefItem.pk.does_not_exist(),
                )
                for attachment in message.attachments:
                    transaction.update(
                        AttachmentItem(*attachment_key(attachment.id)),
                        actions=use_in_message_actions(message.id, participants),
                        condition=usable_by(author_id, message.created_at),
                    )
        except TransactWriteError as error:
            raise _translate(error, claims_idempotency=new.idempotency is not None) from error

    def save_entry(self, change: EntryChange) -> None:
        """Write one entry's new state (read flag) and its owner's badge change, atomically."""
        try:
            with TransactWrite(connection=self._connection) as transaction:
                self._save_entry(transaction, change)
        except TransactWriteError as error:
            raise _translate(error, claims_idempotency=False) from error

    def _save_entry(self, transaction: TransactWrite, change: EntryChange) -> None:
        condition = (
            InboxEntryItem.version == change.before.version
            if change.before is not None
            else InboxEntryItem.pk.does_not_exist()
        )
        transaction.save(_to_entry_item(change.after), condition=condition)
        if change.badge_delta:
            transaction.update(
                UserItem(f"USER#{change.after.owner_id}", "PROFILE"),
                actions=[UserItem.unread_threads.add(change.badge_delta)],
                condition=UserItem.pk.exists(),
            )


def _translate(error: TransactWriteError, *, claims_idempotency: bool) -> Exception:
    """Turn a cancelled transaction into a domain outcome, by cancellation reason code."""
    codes = [reason.code if reason else None for reason in error.cancellation_reasons]
    # pynamodb sends puts first (we add no condition checks or deletes), and the idempotency
    # claim is the first put.
    if claims_idempotency and codes and codes[0] == "ConditionalCheckFailed":
        return IdempotencyKeyTaken()
    if (
        any(code in ("ConditionalCheckFailed", TRANSACTION_CONFLICT) for code in codes)
        or error.cause_response_code == "TransactionConflictException"
    ):
        return ConcurrencyError("The thread changed while the message was being stored.")
    return error
