"""Real time: which changes become which live events, for whom, and how long things last.

Pure rules over domain values; the services apply them to stream records, connections and the
event feed (``services/realtime.py``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from ..deployment import REALTIME
from .ids import highest_id_at, lowest_id_at
from .models import InboxEntry, Message, User

# Bumped only when an event's meaning changes; new fields keep the version.
EVENT_VERSION = 1


class EventType(StrEnum):
    MESSAGE_CREATED = "message.created"
    THREAD_UPDATED = "thread.updated"
    MESSAGE_DELETED = "message.deleted"
    THREAD_READ = "thread.read"


@dataclass(frozen=True)
class LiveEvent:
    """One event for one user: ``data`` is already in its wire form (camelCase JSON values)."""

    id: str
    type: EventType
    occurred_at: datetime
    thread_id: str
    recipient_id: str
    data: Mapping[str, Any]


@dataclass(frozen=True)
class StoredEvent:
    """An event as the feed holds it: its JSON, and the connections that already got it."""

    event_id: str
    body: str
    delivered_to: frozenset[str]
    new: bool


@dataclass(frozen=True)
class Connection:
    """One open WebSocket connection of a user (one device or tab)."""

    connection_id: str
    user_id: str
    connected_at: datetime

    @property
    def expires_at(self) -> datetime:
        return connection_expiry(self.connected_at)


def connection_expiry(connected_at: datetime) -> datetime:
    """API Gateway closes a connection after two hours; its record goes with it."""
    return connected_at + timedelta(seconds=REALTIME.connection_ttl_seconds)


def event_expiry(occurred_at: datetime) -> datetime:
    return occurred_at + timedelta(hours=REALTIME.event_retention_hours)


def delivery_key(source_id: str, event_type: EventType, recipient_id: str) -> str:
    """The same change (a stream record's id) gives the same key however often it is delivered:
    the event feed writes one entry per key, and remembers which connections got it."""
    return hashlib.sha256(f"{source_id}\n{event_type.value}\n{recipient_id}".encode()).hexdigest()[:40]


def read_state_changed(before: InboxEntry, after: InboxEntry) -> bool:
    """The owner marked the thread read or unread (on any device) — not a new message, which
    ``message.created`` reports with the thread's new state."""
    return before.last_message_at == after.last_message_at and (before.read, before.unread_count) != (
        after.read,
        after.unread_count,
    )


def newly_read_at(before: InboxEntry, after: InboxEntry) -> datetime | None:
    """When the owner opened the thread, if this change is that (a read receipt's moment)."""
    if before.last_message_at != after.last_message_at or after.last_read_at is None:
        return None
    return after.last_read_at if after.last_read_at != before.last_read_at else None


def receipts_shared(reader: User | None, viewer: User | None) -> bool:
    """Read receipts flow only between two users who both send them (turning them off also
    hides others' receipts)."""
    return reader is not None and viewer is not None and reader.read_receipts and viewer.read_receipts


@dataclass(frozen=True)
class FeedWindow:
    """The ids a feed request may return: after ``after`` (exclusive), up to ``until``."""

    after: str
    until: str

    @property
    def empty(self) -> bool:
        return self.until <= self.after


def feed_window(cursor: str | None, now: datetime) -> FeedWindow:
    """Without a cursor, the last ``feed_window_hours``; never events younger than the settle
    time (an id is taken just before its write commits, so a younger one could still be
    overtaken by an older one committing)."""
    start = cursor or lowest_id_at(now - timedelta(hours=REALTIME.feed_window_hours))
    return FeedWindow(after=start, until=highest_id_at(now - timedelta(seconds=REALTIME.feed_settle_seconds)))


class ChangeKind(StrEnum):
    MESSAGE_INSERTED = "MESSAGE_INSERTED"
    MESSAGE_REMOVED = "MESSAGE_REMOVED"
    ENTRY_MODIFIED = "ENTRY_MODIFIED"


@dataclass(frozen=True)
class LiveChange:
    """A table change users may see live, decoded from one stream record.

    ``source_id``: the record's id (the same on every redelivery); ``message``: the copy inserted
    or removed; ``before``/``after``: an inbox entry's images."""

    source_id: str
    kind: ChangeKind
    at: datetime
    message: Message | None = None
    before: InboxEntry | None = None
    after: InboxEntry | None = None
