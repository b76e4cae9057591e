"""Real time: WebSocket connections, live events from table changes, and the event feed.

Delivery is at least once, never lost: each change's event is written to the recipient's feed
once (under a key derived from the stream record), then sent to each of the recipient's
connections that has not had it yet; connections that got it are remembered with the event. A
redelivered record therefore writes no second entry and sends nothing twice — except to a
connection whose send succeeded just before a crash, which gets the same event (same id) again
and drops it. A connection failing for another reason fails the record (it is retried, reaching
only the connections still missing the event); a closed one (410) is forgotten.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Protocol

from ..deployment import REALTIME
from ..domain import realtime
from ..domain.errors import ValidationError
from ..domain.ids import is_valid_id, new_id, utc_now
from ..domain.models import InboxEntry, Message, MessageTranslation, User
from ..domain.realtime import ChangeKind, Connection, EventType, LiveChange, LiveEvent, StoredEvent
from .ports import Directory, Threads

logger = logging.getLogger(__name__)


class ConnectionRecords(Protocol):
    def add(self, live: Connection) -> None: ...

    def owner(self, connection_id: str) -> str | None: ...

    def remove(self, user_id: str, connection_id: str) -> None: ...

    def of_user(self, user_id: str, now: datetime) -> list[str]: ...


class EventFeed(Protocol):
    def append(self, event: LiveEvent, key: str, body: str) -> StoredEvent: ...

    def mark_delivered(self, recipient_id: str, key: str, connection_ids: Iterable[str]) -> None: ...

    def after(self, user_id: str, after: str, until: str, limit: int) -> list[dict[str, Any]]: ...


class Sockets(Protocol):
    """Posts to connections; raises ``gone`` for a closed one, anything else for other failures."""

    def post(self, connection_id: str, payload: bytes) -> None: ...


class AccessTokens(Protocol):
    def verify(self, token: str) -> dict[str, Any]: ...


class EventPresenter(Protocol):
    def message_created(self, message: Message, entry: InboxEntry, badge: int) -> dict[str, Any]: ...

    def thread_updated(self, entry: InboxEntry, badge: int) -> dict[str, Any]: ...

    def message_deleted(self, message_id: str, entry: InboxEntry | None, badge: int) -> dict[str, Any]: ...

    def thread_read(self, reader: User, read_at: datetime, last_read_message_id: str | None) -> dict[str, Any]: ...

    def envelope(self, event: LiveEvent) -> str: ...


class ConnectionRefused(Exception):
    """$connect without a valid access token (or without our subprotocol): nothing is stored."""


class DeliveryIncomplete(Exception):
    """Some connections could not be sent an event (not closed ones): retry the change."""


def token_from_subprotocols(offered: Sequence[str]) -> str | None:
    """The access token among the offered subprotocols (``[message-center.v1, <token>]``)."""
    values = [value for value in offered if value]
    if REALTIME.subprotocol not in values:
        return None
    others = [value for value in values if value != REALTIME.subprotocol]
    return others[0] if len(others) == 1 else None


PONG = {"type": "pong"}
UNKNOWN_ACTION = {"type": "error", "code": "UNKNOWN_ACTION"}


class ConnectionService:
    """$connect, $disconnect and the client's messages ($default)."""

    def __init__(
        self,
        connections: ConnectionRecords,
        tokens: AccessTokens,
        sockets: Sockets,
        *,
        gone: type[Exception],
        invalid_token: type[Exception],
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        """``gone``/``invalid_token``: what ``sockets`` raises for a closed connection and
        ``tokens`` for a token it refuses."""
        self._connections = connections
        self._tokens = tokens
        self._invalid_token = invalid_token
        self._sockets = sockets
        self._gone = gone
        self._clock = clock

    def connect(self, connection_id: str, offered: Sequence[str]) -> str:
        """Record the connection for the token's user and return the user id; ``ConnectionRefused``
        (nothing written) without a valid access token."""
        token = token_from_subprotocols(offered)
        if token is None or not connection_id:
            raise ConnectionRefused("no token")
        try:
            claims = self._tokens.verify(token)
        except self._invalid_token as error:
            raise ConnectionRefused(str(error)) from None
        user_id = str(claims["sub"])
        self._connections.add(Connection(connection_id=connection_id, user_id=user_id, connected_at=self._clock()))
        return user_id

    def disconnect(self, connection_id: str) -> None:
        owner = self._connections.owner(connection_id)
        if owner is not None:
            self._connections.remove(owner, connection_id)

    def answer(self, connection_id: str, body: str | None) -> dict[str, Any]:
        """Answer a client message: ``ping`` → ``pong``; anything else → an error message."""
        try:
            message = json.loads(body or "")
        except ValueError:
            message = None
        reply = PONG if isinstance(message, dict) and message.get("action") == "ping" else UNKNOWN_ACTION
        try:
            self._sockets.post(connection_id, json.dumps(reply).encode())
        except self._gone:
            self.disconnect(connection_id)
        return reply


class LiveEventService:
    """Turns table changes into events in each concerned user's feed and on their connections."""

    def __init__(
        self,
        *,
        threads: Threads,
        directory: Directory,
        feed: EventFeed,
        connections: ConnectionRecords,
        sockets: Sockets,
        presenter: EventPresenter,
        gone: type[Exception],
        translate: Callable[[Message, User], MessageTranslation | None] | None = None,
        translation_unavailable: type[Exception] = LookupError,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._threads = threads
        self._directory = directory
        self._feed = feed
        self._connections = connections
        self._sockets = sockets
        self._presenter = presenter
        self._gone = gone
        self._translate = translate
        self._translation_unavailable = translation_unavailable
        self._clock = clock

    def on_change(self, change: LiveChange) -> int:
        """Publish the events ``change`` makes; returns how many connections were sent one."""
        sent = 0
        for event_type, recipient_id, thread_id, occurred_at, data in self._plan(change):
            event = LiveEvent(
                id=new_id(self._clock()),
                type=event_type,
                occurred_at=occurred_at,
                thread_id=thread_id,
                recipient_id=recipient_id,
                data=data,
            )
            sent += self._publish(event, realtime.delivery_key(change.source_id, event_type, recipient_id))
        return sent

    # -- which events ---------------------------------------------------------------------

    def _plan(self, change: LiveChange) -> list[tuple[EventType, str, str, datetime, Mapping[str, Any]]]:
        if change.kind is ChangeKind.MESSAGE_INSERTED and change.message is not None:
            return self._message_created(change.message)
        if change.kind is ChangeKind.MESSAGE_REMOVED and change.message is not None:
            copy = change.message
            owner = self._directory.get_user(copy.owner_id)
            entry = self._threads.get_entry(copy.owner_id, copy.thread_id)
            badge = owner.unread_threads if owner else 0
            data = self._presenter.message_deleted(copy.id, entry, badge)
            return [(EventType.MESSAGE_DELETED, copy.owner_id, copy.thread_id, change.at, data)]
        if change.kind is ChangeKind.ENTRY_MODIFIED and change.before is not None and change.after is not None:
            return self._entry_changed(change.before, change.after)
        return []

    def _message_created(self, copy: Message) -> list[tuple[EventType, str, str, datetime, Mapping[str, Any]]]:
        owner = self._directory.get_user(copy.owner_id)
        entry = self._threads.get_entry(copy.owner_id, copy.thread_id)
        if owner is None or entry is None:
            return []
        # The copy as the owner's API shows it now (the notification function may have translated it).
        message = self._threads.get_message(copy.owner_id, copy.thread_id, copy.id) or copy
        if not message.is_own and self._translate is not None and message.auto_translation is None:
            message = self._translated(message, owner)
        data = self._presenter.message_created(message, entry, owner.unread_threads)
        return [(EventType.MESSAGE_CREATED, owner.id, copy.thread_id, copy.created_at, data)]

    def _translated(self, message: Message, owner: User) -> Message:
        assert self._translate is not None
        try:
            translation = self._translate(message, owner)
        except self._translation_unavailable:
            # Live beats translated: the event goes out in the original; the thread shows the
            # translation once a provider is back.
            logger.warning("automatic translation unavailable; live event sent untranslated")
            return message
        if translation is None:
            return message
        others = tuple(t for t in message.translations if t.language != translation.language)
        return replace(message, translations=(*others, translation), auto_translation=translation.language)

    def _entry_changed(
        self, before: InboxEntry, after: InboxEntry
    ) -> list[tuple[EventType, str, str, datetime, Mapping[str, Any]]]:
        planned: list[tuple[EventType, str, str, datetime, Mapping[str, Any]]] = []
        read_at = realtime.newly_read_at(before, after)
        if not realtime.read_state_changed(before, after) and read_at is None:
            return planned  # e.g. a new message's update of the entry: message.created covers it
        owner = self._directory.get_user(after.owner_id)
        if realtime.read_state_changed(before, after):
            badge = owner.unread_threads if owner else 0
            planned.append(
                (
                    EventType.THREAD_UPDATED,
                    after.owner_id,
                    after.thread_id,
                    self._clock(),
                    self._presenter.thread_updated(after, badge),
                )
            )
        if read_at is not None and owner is not None:
            viewer = self._directory.get_user(after.interlocutor_id)
            if realtime.receipts_shared(owner, viewer):
                seen = self._threads.list_messages(
                    after.interlocutor_id,
                    after.thread_id,
                    before=read_at + timedelta(milliseconds=1),
                    after=None,
                    offset=0,
                    limit=1,
                )
                data = self._presenter.thread_read(owner, read_at, seen[0].id if seen else None)
                planned.append((EventType.THREAD_READ, after.interlocutor_id, after.thread_id, read_at, data))
        return planned

    # -- feed and connections -------------------------------------------------------------

    def _publish(self, event: LiveEvent, key: str) -> int:
        stored = self._feed.append(event, key, self._presenter.envelope(event))
        payload = stored.body.encode()
        delivered: list[str] = []
        failed = 0
        for connection_id in self._connections.of_user(event.recipient_id, self._clock()):
            if connection_id in stored.delivered_to:
                continue
            try:
                self._sockets.post(connection_id, payload)
            except self._gone:
                self._connections.remove(event.recipient_id, connection_id)
                continue
            except Exception as error:  # one connection's failure must not hold back the others
                logger.warning("PostToConnection failed: %s", type(error).__name__)
                failed += 1
                continue
            delivered.append(connection_id)
        self._feed.mark_delivered(event.recipient_id, key, delivered)
        if failed:
            raise DeliveryIncomplete(f"{failed} connection(s) could not be sent {event.type.value}")
        return len(delivered)


@dataclass(frozen=True)
class FeedPage:
    events: list[dict[str, Any]]
    cursor: str


class EventFeedService:
    """GET /messaging/events: the caller's events after a cursor, oldest first (one Query)."""

    def __init__(self, feed: EventFeed, clock: Callable[[], datetime] = utc_now) -> None:
        self._feed = feed
        self._clock = clock

    def list(self, caller_id: str, cursor: str | None, limit: int) -> FeedPage:
        if cursor is not None and not is_valid_id(cursor):
            raise ValidationError("'from' is not a cursor this feed returned.", code="INVALID_CURSOR")
        window = realtime.feed_window(cursor, self._clock())
        if window.empty:
            return FeedPage(events=[], cursor=window.after)
        events = self._feed.after(caller_id, window.after, window.until, limit)
        return FeedPage(events=events, cursor=str(events[-1]["id"]) if events else window.after)
