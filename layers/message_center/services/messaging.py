"""Conversations: inbox, threads, sending, reading and deleting messages."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from ..domain import inbox, realtime, rules
from ..domain.errors import ConcurrencyError, ConflictError, IdempotencyKeyTaken, NotFoundError, ValidationError
from ..domain.ids import is_valid_id, new_id, utc_now
from ..domain.language import detect_language
from ..domain.models import (
    InboxEntry,
    InboxPage,
    Message,
    MessagePage,
    MessageStatus,
    MessageType,
    RelatesTo,
    User,
)
from ..domain.sending import Channel, IdempotencyClaim, InboxFilter, NewMessage, SendMessage
from .attachments import AttachmentService, PreparedAttachments
from .ports import Directory, IdempotencyKeys, Threads

# Optimistic-locking attempts before giving up with 409 (contention on one pair is rare).
_MAX_ATTEMPTS = 5


@dataclass(frozen=True)
class InboxQuery:
    interlocutor_login: str | None = None
    unread_only: bool = False
    awaiting_reply_only: bool = False
    before: datetime | None = None
    offset: int = 0
    limit: int = 20


@dataclass(frozen=True)
class MessageQuery:
    before: datetime | None = None
    after: datetime | None = None
    offset: int = 0
    limit: int = 20


@dataclass(frozen=True)
class SendResult:
    message: Message
    replayed: bool  # True when an earlier request with the same Idempotency-Key stored it


class MessagingService:
    """Everything a participant does with threads and messages."""

    def __init__(
        self,
        threads: Threads,
        directory: Directory,
        attachments: AttachmentService,
        idempotency: IdempotencyKeys,
        *,
        idempotency_ttl: timedelta,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._threads = threads
        self._directory = directory
        self._attachments = attachments
        self._idempotency = idempotency
        self._idempotency_ttl = idempotency_ttl
        self._clock = clock

    # -- reading ---------------------------------------------------------------------------

    def list_threads(self, caller_id: str, query: InboxQuery) -> InboxPage:
        if query.interlocutor_login is not None:
            entry = self._entry_with(caller_id, query.interlocutor_login)
            matches = entry is not None and _entry_matches(entry, query)
            found = (entry,) if matches and entry is not None and query.offset == 0 else ()
            return InboxPage(entries=found, offset=query.offset, limit=query.limit)
        inbox_filter = InboxFilter.of(unread_only=query.unread_only, awaiting_reply_only=query.awaiting_reply_only)
        entries = self._threads.list_inbox(
            caller_id, inbox_filter, before=query.before, offset=query.offset, limit=query.limit
        )
        return InboxPage(entries=tuple(entries), offset=query.offset, limit=query.limit)

    def get_thread(self, caller_id: str, thread_id: str) -> InboxEntry:
        return self._participant_entry(caller_id, thread_id)

    def interlocutor_last_read_at(self, caller_id: str, entry: InboxEntry) -> datetime | None:
        """When the interlocutor last read the thread ``entry`` is the caller's view of, if both
        of them share read receipts (an extension field of the thread)."""
        theirs = self._threads.get_entry(entry.interlocutor_id, entry.thread_id)
        if theirs is None or theirs.last_read_at is None:
            return None
        caller = self._directory.get_user(caller_id)
        if caller is None or not caller.read_receipts:
            return None
        interlocutor = self._directory.get_user(theirs.owner_id)
        return theirs.last_read_at if realtime.receipts_shared(interlocutor, caller) else None

    def mark_read(self, caller_id: str, thread_id: str, read: bool) -> InboxEntry:
        for _ in range(_MAX_ATTEMPTS):
            entry = self._participant_entry(caller_id, thread_id)
            if entry.read == read and (not read or entry.unread_count == 0):
                return entry
            change = inbox.after_read_flag(entry, read, at=self._clock())
            try:
                self._threads.save_entry(change)
            except ConcurrencyError:
                continue
            return change.after
        raise ConflictError("The thread is being changed by another request; try again.", code="BUSY")

    def list_messages(self, caller_id: str, thread_id: str, query: MessageQuery) -> MessagePage:
        self._participant_entry(caller_id, thread_id)
        messages = self._threads.list_messages(
            caller_id,
            thread_id,
            before=query.before,
            after=query.after,
            offset=query.offset,
            limit=query.limit,
        )
        return MessagePage(messages=tuple(messages), offset=query.offset, limit=query.limit)

    def get_message(self, caller_id: str, message_id: str) -> Message:
        located = self._threads.find_message_thread(message_id) if is_valid_id(message_id) else None
        if located is None or caller_id not in located[1]:
            raise NotFoundError("Message not found.", code="MESSAGE_NOT_FOUND")
        message = self._threads.get_message(caller_id, located[0], message_id)
        if message is None:
            raise NotFoundError("Message not found.", code="MESSAGE_NOT_FOUND")
        return message

    def delete_message(self, caller_id: str, message_id: str) -> None:
        """Delete the caller's copy; the interlocutor still sees the message."""
        message = self.get_message(caller_id, message_id)
        if not self._threads.delete_message_copy(caller_id, message.thread_id, message.id):
            raise NotFoundError("Message not found.", code="MESSAGE_NOT_FOUND")

    # -- writing ---------------------------------------------------------------------------

    def send(self, command: SendMessage) -> SendResult:
        """Store one message, whichever way it came (API or e-mail) and whatever form it takes
        (see ``SendMessage``). A repeated ``idempotency_key`` returns the message stored first."""
        request_hash = _request_hash(
            *(
                (command.channel, command.recipient_id)  # an e-mail's id is its key
                if command.channel is Channel.MAIL
                else (
                    command.thread_id,
                    command.offer_id,
                    command.order_id,
                    command.recipient_login,
                    command.text,
                    command.attachment_ids,
                )
            )
        )
        replay = self._replay(command.author_id, command.idempotency_key, request_hash)
        if replay is not None:
            return replay
        clean_text = rules.normalize_text(command.text)
        author = self._require_user(command.author_id)
        start, recipient, known_thread_id = self._decide(author, command)
        recipient = recipient or self._directory.get_user(start.recipient_id)
        if recipient is None or recipient.id == author.id:
            raise NotFoundError("Recipient not found.", code="RECIPIENT_NOT_FOUND")
        return self._store(
            author,
            recipient,
            clean_text,
            start,
            command.idempotency_key,
            request_hash,
            command.attachment_ids,
            known_thread_id=known_thread_id,
        )

    def sent_message_id(self, author_id: str, idempotency_key: str) -> str | None:
        """The id of the message an earlier send with this key stored, if any (e.g. a redelivered
        e-mail), whether or not its author has deleted their copy since."""
        record = self._idempotency.get(author_id, idempotency_key)
        return record.message_id if record else None

    def interlocutor(self, user_id: str, thread_id: str) -> str | None:
        """The other participant's id when ``user_id`` takes part in ``thread_id``, else None."""
        entry = self._threads.get_entry(user_id, thread_id) if is_valid_id(thread_id) else None
        return entry.interlocutor_id if entry else None

    # -- internals -------------------------------------------------------------------------

    def _decide(self, author: User, command: SendMessage) -> tuple[rules.ConversationStart, User | None, str | None]:
        """The allowed send, plus what was read on the way (the recipient, the pair's thread) so
        that storing the message does not read it again."""
        if command.channel is Channel.MAIL:
            if command.recipient_id is None:
                raise NotFoundError("Recipient not found.", code="RECIPIENT_NOT_FOUND")
            start = rules.ConversationStart(
                recipient_id=command.recipient_id, type=MessageType.MAIL, relates_to=RelatesTo()
            )
            return start, None, command.thread_id
        if command.thread_id is not None:
            entry = self._participant_entry(author.id, command.thread_id)
            recipient = self._directory.get_user(entry.interlocutor_id)
            if recipient is None:
                raise NotFoundError("Thread not found.", code="THREAD_NOT_FOUND")
            start = rules.ConversationStart(
                recipient_id=recipient.id, type=MessageType.MESSAGE_CENTER, relates_to=RelatesTo()
            )
            return start, recipient, command.thread_id
        if command.offer_id is not None and (command.order_id is not None or command.recipient_login is not None):
            raise ValidationError(
                "Name either offer.id (ask a question) or order.id (ask about a purchase), not both.",
                code="AMBIGUOUS_CONTEXT",
            )
        if command.offer_id is not None:
            return rules.ask_question(author, self._directory.get_offer(command.offer_id)), None, None
        if command.recipient_login is not None:
            recipient = self._directory.get_user_by_login(command.recipient_login)
            if command.order_id is not None:
                order = self._directory.get_order(command.order_id)
                return rules.seller_writes_to_buyer(author, recipient, order), recipient, None
            thread_id = self._threads.find_thread_of_pair(author.id, recipient.id) if recipient else None
            return rules.write_to_existing_interlocutor(author, recipient, thread_id), recipient, thread_id
        if command.order_id is not None:
            return rules.ask_about_purchase(author, self._directory.get_order(command.order_id)), None, None
        raise ValidationError(
            "Name offer.id, order.id, or recipient.login with order.id.", code="CONVERSATION_CONTEXT_REQUIRED"
        )

    def _store(
        self,
        author: User,
        recipient: User,
        text: str,
        start: rules.ConversationStart,
        idempotency_key: str | None,
        request_hash: str,
        attachment_ids: tuple[str, ...],
        *,
        known_thread_id: str | None = None,
    ) -> SendResult:
        """Store the message, retrying on fresh reads when a concurrent writer got in between.
        ``known_thread_id``: the pair's thread when the caller already knows it (a pair's thread
        never changes once created).

        Attachments are copied to their stored key *before* the transaction and the copies are
        removed when the transaction is refused, rather than copied after it commits: a message
        is visible (and the stream notifies about it) the moment it commits, so copying later
        would let a reader, a notification or a crash between commit and copy meet a message
        whose file does not exist, and the upload it would be copied from expires. A refused
        transaction is final (nothing of it was written), so removing that attempt's copies
        (by version id: a concurrent winner's copy stays) cannot lose a file. Only when the
        transaction's outcome is unknown (any other error) are the copies left in place: an
        unreferenced copy is garbage, a referenced missing one would be lost data."""
        for _ in range(_MAX_ATTEMPTS):
            sent_at = self._clock()
            thread_id = known_thread_id or self._threads.find_thread_of_pair(author.id, recipient.id)
            new_thread = thread_id is None
            thread_id = thread_id or new_id(sent_at)
            entries = {} if new_thread else self._threads.get_entries(thread_id, (author.id, recipient.id))
            # Re-checked on every attempt: a lost race may mean an attachment was taken meanwhile.
            # The last step before the transaction: nothing but building it comes in between.
            prepared = (
                self._attachments.prepare_for_message(author.id, attachment_ids)
                if attachment_ids
                else PreparedAttachments()
            )
            message = Message(
                id=new_id(sent_at),
                thread_id=thread_id,
                owner_id=author.id,
                author_id=author.id,
                author_login=author.login,
                text=text,
                type=start.type,
                status=MessageStatus.DELIVERED,
                created_at=sent_at,
                relates_to=start.relates_to,
                subject=start.subject,
                attachments=prepared.attachments,
                language=detect_language(text),
            )
            claim = (
                IdempotencyClaim(author.id, idempotency_key, request_hash, sent_at + self._idempotency_ttl)
                if idempotency_key
                else None
            )
            new = NewMessage(
                message=message,
                recipient_id=recipient.id,
                author_entry=inbox.after_message(
                    entries.get(author.id),
                    owner_id=author.id,
                    thread_id=thread_id,
                    interlocutor=recipient,
                    author_id=author.id,
                    sent_at=sent_at,
                ),
                recipient_entry=inbox.after_message(
                    entries.get(recipient.id),
                    owner_id=recipient.id,
                    thread_id=thread_id,
                    interlocutor=author,
                    author_id=author.id,
                    sent_at=sent_at,
                ),
                new_thread=new_thread,
                idempotency=claim,
            )
            try:
                self._threads.append_message(new)
            except ConcurrencyError:
                self._attachments.release(prepared)
                continue
            except IdempotencyKeyTaken:
                self._attachments.release(prepared)
                replay = self._replay(author.id, idempotency_key, request_hash)
                if replay is None:
                    continue
                return replay
            return SendResult(message=message, replayed=False)
        raise ConflictError("The thread is being changed by another request; try again.", code="BUSY")

    def _replay(self, caller_id: str, key: str | None, request_hash: str) -> SendResult | None:
        if not key:
            return None
        record = self._idempotency.get(caller_id, key)
        if record is None:
            return None
        if record.request_hash != request_hash:
            raise ValidationError(
                "This Idempotency-Key was already used for a different request.",
                code="IDEMPOTENCY_KEY_REUSED",
            )
        message = self._threads.get_message(caller_id, record.thread_id, record.message_id)
        if message is None:  # the author deleted their copy since; the send still happened once
            raise ConflictError("The message sent with this Idempotency-Key was deleted.", code="IDEMPOTENT_GONE")
        return SendResult(message=message, replayed=True)

    def _participant_entry(self, caller_id: str, thread_id: str) -> InboxEntry:
        entry = self._threads.get_entry(caller_id, thread_id) if is_valid_id(thread_id) else None
        if entry is None:
            raise NotFoundError("Thread not found.", code="THREAD_NOT_FOUND")
        return entry

    def _entry_with(self, caller_id: str, login: str) -> InboxEntry | None:
        other_id = self._directory.get_user_id_by_login(login)
        if other_id is None:
            return None
        thread_id = self._threads.find_thread_of_pair(caller_id, other_id)
        return self._threads.get_entry(caller_id, thread_id) if thread_id else None

    def _require_user(self, user_id: str) -> User:
        user = self._directory.get_user(user_id)
        if user is None:
            # A valid token for someone the marketplace directory does not know.
            raise NotFoundError("Your account is not in the marketplace directory.", code="USER_NOT_FOUND")
        return user


def _entry_matches(entry: InboxEntry, query: InboxQuery) -> bool:
    if query.unread_only and entry.read:
        return False
    if query.awaiting_reply_only and not entry.awaiting_reply:
        return False
    return query.before is None or entry.last_message_at < query.before


def _request_hash(*parts: object) -> str:
    encoded = json.dumps(parts, ensure_ascii=False, sort_keys=True, default=str).encode()
    return hashlib.sha256(encoded).hexdigest()
