"""Conversations: inbox, threads, sending, reading and deleting messages."""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from ..domain import inbox, realtime, rules
from ..domain.errors import (
    ConcurrencyError,
    ConflictError,
    IdempotencyKeyTaken,
    NotFoundError,
    ThreadGone,
    ValidationError,
)
from ..domain.ids import is_valid_id, new_id, utc_now
from ..domain.language import detect_language
from ..domain.lookups import Found, Wanted
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
from ..domain.sending import Channel, IdempotencyClaim, IdempotencyRecord, InboxFilter, NewMessage, SendMessage
from .attachments import AttachmentService, PreparedAttachments
from .ports import Directory, IdempotencyKeys, Lookups, Threads

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


class PairThreads:
    """The threads of pairs this container has seen, least recently used first out.

    A pair's thread never changes once created (its pair item is written once, on condition that
    it does not exist, and never deleted), so remembering it is safe; it saves a send naming an
    offer, an order or a login one round of reads. Bounded by ``size`` pairs (about 150 bytes
    each) and by ``ttl``, so that a later data-expiry job deleting threads is not contradicted
    for long (a send to a thread gone meanwhile is refused with 404 by the transaction anyway).
    Pairs without a thread are not remembered: one can be created at any time."""

    def __init__(self, size: int, ttl: timedelta, clock: Callable[[], datetime]) -> None:
        self._size = size
        self._ttl = ttl
        self._clock = clock
        self._threads: OrderedDict[str, tuple[str, datetime]] = OrderedDict()

    def get(self, user_a: str, user_b: str) -> str | None:
        key = rules.pair_key(user_a, user_b)
        found = self._threads.get(key)
        if found is None:
            return None
        if found[1] <= self._clock():
            del self._threads[key]
            return None
        self._threads.move_to_end(key)
        return found[0]

    def remember(self, user_a: str, user_b: str, thread_id: str) -> None:
        key = rules.pair_key(user_a, user_b)
        self._threads[key] = (thread_id, self._clock() + self._ttl)
        self._threads.move_to_end(key)
        while len(self._threads) > self._size:
            self._threads.popitem(last=False)

    def clear(self) -> None:
        self._threads.clear()

    def __len__(self) -> int:
        return len(self._threads)


# The per-container memory of pairs' threads: at most this many pairs (about 1.5 MB), this long.
PAIR_THREADS_SIZE = 10_000
PAIR_THREADS_TTL = timedelta(hours=1)


class MessagingService:
    """Everything a participant does with threads and messages."""

    def __init__(
        self,
        threads: Threads,
        directory: Directory,
        attachments: AttachmentService,
        idempotency: IdempotencyKeys,
        *,
        lookups: Lookups,
        idempotency_ttl: timedelta,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._threads = threads
        self._directory = directory
        self._attachments = attachments
        self._idempotency = idempotency
        self._lookups = lookups
        self.pair_threads = PairThreads(PAIR_THREADS_SIZE, PAIR_THREADS_TTL, clock)
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
        (see ``SendMessage``). A repeated ``idempotency_key`` returns the message stored first.

        Reads go in rounds of one ``BatchGetItem`` each (``Lookups``): everything the command
        names (the author, their key, the thread entry, offer, order or login), then what that
        names (the recipient, the pair's thread), then the thread's entries when only the pair
        named it. Writing in a thread takes two rounds, a new conversation two or three; the
        transaction's conditions (entry versions, the pair and thread items, the key's claim)
        stand in for reading again before writing."""
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
        key = command.idempotency_key
        found = self._lookups.lookup(_first_reads(command))
        replay = self._replay(
            command.author_id, key, request_hash, found.claim(command.author_id, key) if key else None
        )
        if replay is not None:
            return replay
        clean_text = rules.normalize_text(command.text)
        author = found.user(command.author_id)
        if author is None:
            # A valid token for someone the marketplace directory does not know.
            raise NotFoundError("Your account is not in the marketplace directory.", code="USER_NOT_FOUND")
        route = self._decide(author, command, found)
        return self._store(route, clean_text, key, request_hash, command.attachment_ids)

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

    def _decide(self, author: User, command: SendMessage, found: Found) -> _Route:
        """The allowed send, with the recipient, the thread and its entries as read on the way
        (``found``: the first round)."""
        if command.channel is Channel.MAIL:
            recipient = found.user(command.recipient_id)
            if recipient is None or recipient.id == author.id:
                raise NotFoundError("Recipient not found.", code="RECIPIENT_NOT_FOUND")
            start = rules.ConversationStart(recipient_id=recipient.id, type=MessageType.MAIL, relates_to=RelatesTo())
            if command.thread_id is not None:  # its route named the thread: the first round read it
                entries = _entries(found, command.thread_id, (author.id, recipient.id))
                return _Route(start, author, recipient, command.thread_id, entries)
            return self._with_thread(start, author, recipient, found.thread_of_pair(author.id, recipient.id))
        if command.thread_id is not None:
            entry = found.entry(author.id, command.thread_id)
            if entry is None:
                raise NotFoundError("Thread not found.", code="THREAD_NOT_FOUND")
            more = self._lookups.lookup(
                Wanted(
                    users=frozenset({entry.interlocutor_id}),
                    entries=frozenset({(entry.interlocutor_id, command.thread_id)}),
                )
            )
            recipient = more.user(entry.interlocutor_id)
            if recipient is None:
                raise NotFoundError("Thread not found.", code="THREAD_NOT_FOUND")
            start = rules.ConversationStart(
                recipient_id=recipient.id, type=MessageType.MESSAGE_CENTER, relates_to=RelatesTo()
            )
            entries = {author.id: entry} | _entries(more, command.thread_id, (recipient.id,))
            return _Route(start, author, recipient, command.thread_id, entries, in_thread=True)
        if command.offer_id is not None and (command.order_id is not None or command.recipient_login is not None):
            raise ValidationError(
                "Name either offer.id (ask a question) or order.id (ask about a purchase), not both.",
                code="AMBIGUOUS_CONTEXT",
            )
        if command.offer_id is not None:
            return self._to_counterpart(author, rules.ask_question(author, found.offers.get(command.offer_id)))
        if command.recipient_login is not None:
            recipient_id = found.login(command.recipient_login)
            # The recipient and the pair's thread in one round, before the rules (they need both).
            more, known = self._recipient_and_thread(author.id, recipient_id)
            recipient = more.user(recipient_id)
            thread_id = (known or more.thread_of_pair(author.id, recipient.id)) if recipient else None
            if command.order_id is not None:
                order = found.orders.get(command.order_id)
                start = rules.seller_writes_to_buyer(author, recipient, order)
            else:
                start = rules.write_to_existing_interlocutor(author, recipient, thread_id)
            assert recipient is not None  # the rules refused a missing recipient
            if known is not None:
                return _Route(start, author, recipient, known, _entries(more, known, (author.id, recipient.id)))
            return self._with_thread(start, author, recipient, thread_id)
        if command.order_id is not None:
            return self._to_counterpart(author, rules.ask_about_purchase(author, found.orders.get(command.order_id)))
        raise ValidationError(
            "Name offer.id, order.id, or recipient.login with order.id.", code="CONVERSATION_CONTEXT_REQUIRED"
        )

    def _to_counterpart(self, author: User, start: rules.ConversationStart) -> _Route:
        """An allowed start naming only the recipient's id: read them and the pair's thread."""
        more, known = self._recipient_and_thread(author.id, start.recipient_id)
        recipient = more.user(start.recipient_id)
        if recipient is None or recipient.id == author.id:
            raise NotFoundError("Recipient not found.", code="RECIPIENT_NOT_FOUND")
        if known is not None:
            return _Route(start, author, recipient, known, _entries(more, known, (author.id, recipient.id)))
        return self._with_thread(start, author, recipient, more.thread_of_pair(author.id, recipient.id))

    def _recipient_and_thread(self, author_id: str, recipient_id: str | None) -> tuple[Found, str | None]:
        """One round: the recipient's profile, and the pair's thread item, or, when this container
        knows the pair's thread, both entries of it (saving the round that reads them). Returns
        what was found and the remembered thread."""
        if recipient_id is None:
            return Found(), None
        known = self.pair_threads.get(author_id, recipient_id)
        found = self._lookups.lookup(
            Wanted(
                users=frozenset({recipient_id}),
                pairs=frozenset() if known else frozenset({(author_id, recipient_id)}),
                entries=frozenset({(author_id, known), (recipient_id, known)}) if known else frozenset(),
            )
        )
        return found, known

    def _with_thread(
        self, start: rules.ConversationStart, author: User, recipient: User, thread_id: str | None
    ) -> _Route:
        """The route to the pair's thread: its entries read in one more round, or none for a new thread."""
        if thread_id is None:
            return _Route(start, author, recipient, None, {})
        found = self._lookups.lookup(Wanted(entries=frozenset({(author.id, thread_id), (recipient.id, thread_id)})))
        return _Route(start, author, recipient, thread_id, _entries(found, thread_id, (author.id, recipient.id)))

    def _reread(self, route: _Route) -> _Route:
        """The route on fresh reads after a lost race: both users and the thread's entries (or the
        pair's thread, now that someone may have created it) in one round, two when a thread appeared."""
        author, recipient = route.author, route.recipient
        thread_id = route.thread_id
        found = self._lookups.lookup(
            Wanted(
                users=frozenset({author.id, recipient.id}),
                pairs=frozenset({(author.id, recipient.id)}) if thread_id is None else frozenset(),
                entries=frozenset({(author.id, thread_id), (recipient.id, thread_id)}) if thread_id else frozenset(),
            )
        )
        fresh_author, fresh_recipient = found.user(author.id), found.user(recipient.id)
        if fresh_author is None:
            raise NotFoundError("Your account is not in the marketplace directory.", code="USER_NOT_FOUND")
        if fresh_recipient is None:
            if route.in_thread:
                raise NotFoundError("Thread not found.", code="THREAD_NOT_FOUND")
            raise NotFoundError("Recipient not found.", code="RECIPIENT_NOT_FOUND")
        if thread_id is None:
            return self._with_thread(
                route.start, fresh_author, fresh_recipient, found.thread_of_pair(author.id, recipient.id)
            )
        entries = _entries(found, thread_id, (author.id, recipient.id))
        if route.in_thread and author.id not in entries:
            # The author left the thread (or it went) between the reads and the write.
            raise NotFoundError("Thread not found.", code="THREAD_NOT_FOUND")
        return replace(route, author=fresh_author, recipient=fresh_recipient, entries=entries)

    def _store(
        self,
        route: _Route,
        text: str,
        idempotency_key: str | None,
        request_hash: str,
        attachment_ids: tuple[str, ...],
    ) -> SendResult:
        """Store the message, retrying on fresh reads when a concurrent writer got in between.

        Attachments are copied to their stored key *before* the transaction and the copies are
        removed when the transaction is refused, rather than copied after it commits: a message
        is visible (and the stream notifies about it) the moment it commits, so copying later
        would let a reader, a notification or a crash between commit and copy meet a message
        whose file does not exist, and the upload it would be copied from expires. A refused
        transaction is final (nothing of it was written), so removing that attempt's copies
        (by version id: a concurrent winner's copy stays) cannot lose a file. Only when the
        transaction's outcome is unknown (any other error) are the copies left in place: an
        unreferenced copy is garbage, a referenced missing one would be lost data."""
        for attempt in range(_MAX_ATTEMPTS):
            if attempt:
                route = self._reread(route)
            author, recipient, start = route.author, route.recipient, route.start
            sent_at = self._clock()
            new_thread = route.thread_id is None
            thread_id = route.thread_id or new_id(sent_at)
            entries = route.entries
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
            except ThreadGone:
                self._attachments.release(prepared)
                raise
            except IdempotencyKeyTaken:
                self._attachments.release(prepared)
                record = self._idempotency.get(author.id, idempotency_key) if idempotency_key else None
                replay = self._replay(author.id, idempotency_key, request_hash, record)
                if replay is None:
                    continue
                return replay
            self.pair_threads.remember(author.id, recipient.id, thread_id)
            return SendResult(message=message, replayed=False)
        raise ConflictError("The thread is being changed by another request; try again.", code="BUSY")

    def _replay(
        self, caller_id: str, key: str | None, request_hash: str, record: IdempotencyRecord | None
    ) -> SendResult | None:
        """The earlier send under ``key`` (its claim ``record``, as read), if there was one."""
        if not key or record is None:
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


@dataclass(frozen=True)
class _Route:
    """A send the rules allowed, with what was read on the way to it."""

    start: rules.ConversationStart
    author: User
    recipient: User
    thread_id: str | None  # None: the pair has no thread yet, the send creates it
    entries: dict[str, InboxEntry]  # owner id -> their entry of ``thread_id``, as read
    in_thread: bool = False  # written in a named thread: the author must stay a participant


def _first_reads(command: SendMessage) -> Wanted:
    """Everything the command itself names."""
    author = command.author_id
    claims = frozenset({(author, command.idempotency_key)}) if command.idempotency_key else frozenset()
    if command.channel is Channel.MAIL:
        if command.recipient_id is None:
            return Wanted(users=frozenset({author}), claims=claims)
        pair = (author, command.recipient_id)
        return Wanted(
            users=frozenset(pair),
            claims=claims,
            pairs=frozenset({pair}) if command.thread_id is None else frozenset(),
            entries=frozenset((owner, command.thread_id) for owner in pair) if command.thread_id else frozenset(),
        )
    if command.thread_id is not None:
        valid = is_valid_id(command.thread_id)
        return Wanted(
            users=frozenset({author}),
            claims=claims,
            entries=frozenset({(author, command.thread_id)}) if valid else frozenset(),
        )
    return Wanted(
        users=frozenset({author}),
        claims=claims,
        offers=frozenset({command.offer_id}) if command.offer_id is not None else frozenset(),
        orders=frozenset({command.order_id}) if command.order_id is not None else frozenset(),
        logins=frozenset({command.recipient_login}) if command.recipient_login is not None else frozenset(),
    )


def _entries(found: Found, thread_id: str, owners: tuple[str, ...]) -> dict[str, InboxEntry]:
    return {owner: entry for owner in owners if (entry := found.entry(owner, thread_id)) is not None}


def _entry_matches(entry: InboxEntry, query: InboxQuery) -> bool:
    if query.unread_only and entry.read:
        return False
    if query.awaiting_reply_only and not entry.awaiting_reply:
        return False
    return query.before is None or entry.last_message_at < query.before


def _request_hash(*parts: object) -> str:
    encoded = json.dumps(parts, ensure_ascii=False, sort_keys=True, default=str).encode()
    return hashlib.sha256(encoded).hexdigest()
