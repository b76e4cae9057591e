"""Threads, inbox entries and messages: every read is a GetItem, BatchGetItem or a Query on a
key or index, and every send is one TransactWriteItems."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from pynamodb.connection import Connection
from pynamodb.exceptions import DeleteError, DoesNotExist, TransactWriteError, UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.transactions import TransactWrite

from ..domain.errors import ConcurrencyError, IdempotencyKeyTaken, ThreadGone
from ..domain.ids import highest_id_at, lowest_id_at, to_wire_datetime
from ..domain.inbox import EntryChange
from ..domain.models import InboxEntry, Message, MessageTranslation
from ..domain.rules import pair_key
from ..domain.sending import InboxFilter, NewMessage
from .attachment_repository import attachment_key, usable_by, use_in_message_actions
from .errors import CONDITION_FAILED, TRANSACTION_CONFLICT
from .idempotency_repository import claim_item
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
from .mappers import entry_key, mailbox_key, to_entry, to_entry_item, to_message, to_message_item


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
            return to_entry(InboxEntryItem.get(*entry_key(owner_id, thread_id), consistent_read=True))
        except DoesNotExist:
            return None

    def get_entries(self, thread_id: str, owner_ids: Iterable[str]) -> dict[str, InboxEntry]:
        """Both participants' entries of a thread in one BatchGetItem."""
        keys = [entry_key(owner, thread_id) for owner in owner_ids]
        found = InboxEntryItem.batch_get(keys, consistent_read=True)
        return {entry.owner_id: entry for entry in map(to_entry, found)}

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
        return [to_entry(item) for item in results][offset:]

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
            mailbox_key(owner_id, thread_id),
            range_key_condition=condition,
            scan_index_forward=False,
            limit=offset + limit,
            page_size=offset + limit,
            consistent_read=True,
        )
        # "between" is inclusive; the API's bounds are exclusive and the bounds are never real ids.
        return [to_message(item) for item in results][offset:]

    def find_message_thread(self, message_id: str) -> tuple[str, list[str]] | None:
        """The thread a message belongs to, and its participants."""
        try:
            ref = MessageRefItem.get(f"MSG#{message_id}", "MSG")
        except DoesNotExist:
            return None
        return ref.thread_id, [str(participant) for participant in ref.participants]

    def get_message(self, owner_id: str, thread_id: str, message_id: str) -> Message | None:
        try:
            return to_message(
                MessageItem.get(mailbox_key(owner_id, thread_id), f"MSG#{message_id}", consistent_read=True)
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
        item = MessageItem(mailbox_key(owner_id, thread_id), f"MSG#{message_id}")
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
        item = MessageItem(mailbox_key(owner_id, thread_id), f"MSG#{message_id}")
        try:
            item.delete(condition=MessageItem.pk.exists())
        except DeleteError as error:
            if error.cause_response_code == CONDITION_FAILED:
                return False
            raise
        return True

    # -- writes ----------------------------------------------------------------------------

    def append_message(self, new: NewMessage) -> None:
        """Store a message with everything it changes, all or nothing.

        Raises ``ConcurrencyError`` when another writer changed an inbox entry or created the
        pair's thread first (the caller re-reads and tries again), ``IdempotencyKeyTaken`` when
        the same Idempotency-Key committed first, and ``ThreadGone`` when the thread item is gone.
        """
        message = new.message
        author_id, recipient_id = message.author_id, new.recipient_id
        participants = sorted((author_id, recipient_id))
        # What each action of the transaction stands for, in the order DynamoDB reports its
        # cancellation reasons: pynamodb sends condition checks, deletes, puts, then updates.
        puts: list[str] = []
        updates: list[str] = []
        try:
            with TransactWrite(connection=self._connection) as transaction:
                if new.idempotency is not None:
                    claim = new.idempotency
                    # A claim past its time is forgotten (TTL deletes it only later): take it over.
                    transaction.save(
                        claim_item(claim, message.id, message.thread_id),
                        condition=IdempotencyItem.pk.does_not_exist()
                        | (IdempotencyItem.expires_at < message.created_at),
                    )
                    puts.append(_CLAIM)
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
                    puts += [_OTHER, _OTHER]
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
                    updates.append(_THREAD)
                for change in (new.author_entry, new.recipient_entry):
                    self._save_entry(transaction, change)
                    puts.append(_OTHER)
                    updates += [_OTHER] if change.badge_delta else []
                for owner in (author_id, recipient_id):
                    transaction.save(
                        to_message_item(message, owner, recipient_id),
                        condition=MessageItem.pk.does_not_exist(),
                    )
                transaction.save(
                    MessageRefItem(f"MSG#{message.id}", "MSG", thread_id=message.thread_id, participants=participants),
                    condition=MessageRefItem.pk.does_not_exist(),
                )
                puts += [_OTHER] * 3
                for attachment in message.attachments:
                    transaction.update(
                        AttachmentItem(*attachment_key(attachment.id)),
                        actions=use_in_message_actions(message.id, participants),
                        condition=usable_by(author_id, message.created_at),
                    )
                    updates.append(_OTHER)
        except TransactWriteError as error:
            raise _translate(error, (*puts, *updates)) from error

    def save_entry(self, change: EntryChange) -> None:
        """Write one entry's new state (read flag) and its owner's badge change, atomically."""
        try:
            with TransactWrite(connection=self._connection) as transaction:
                self._save_entry(transaction, change)
        except TransactWriteError as error:
            raise _translate(error, ()) from error

    def _save_entry(self, transaction: TransactWrite, change: EntryChange) -> None:
        condition = (
            InboxEntryItem.version == change.before.version
            if change.before is not None
            else InboxEntryItem.pk.does_not_exist()
        )
        transaction.save(to_entry_item(change.after), condition=condition)
        if change.badge_delta:
            transaction.update(
                UserItem(f"USER#{change.after.owner_id}", "PROFILE"),
                actions=[UserItem.unread_threads.add(change.badge_delta)],
                condition=UserItem.pk.exists(),
            )


# The actions of a send whose refusal means something other than "re-read and try again".
_CLAIM = "claim"
_THREAD = "thread"
_OTHER = "other"


def _translate(error: TransactWriteError, actions: tuple[str, ...]) -> Exception:
    """Turn a cancelled transaction into a domain outcome, by the cancellation reason code of
    each action (``actions``: what each one stands for, in the transaction's order)."""
    codes = [reason.code if reason else None for reason in error.cancellation_reasons]
    failed = {action for action, code in zip(actions, codes, strict=False) if code == "ConditionalCheckFailed"}
    if _CLAIM in failed:
        return IdempotencyKeyTaken("Another request with this Idempotency-Key committed first.")
    if _THREAD in failed:
        # Only an existing thread is updated, on condition that it exists: it went since it was read.
        return ThreadGone("Thread not found.")
    if (
        any(code in ("ConditionalCheckFailed", TRANSACTION_CONFLICT) for code in codes)
        or error.cause_response_code == "TransactionConflictException"
    ):
        return ConcurrencyError("The thread changed while the message was being stored.")
    return error
