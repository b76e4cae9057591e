"""Connections and event feeds in the real-time table: every read is a GetItem or a Query on one
user's partition; pynamodb stays inside these classes."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from pynamodb.connection import Connection
from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.transactions import TransactWrite

from ..domain.realtime import Connection as LiveConnection
from ..domain.realtime import LiveEvent, StoredEvent, event_expiry
from .realtime_items import ConnectionItem, ConnectionOwnerItem, DeliveryItem, FeedEventItem


def _user_connection_key(user_id: str, connection_id: str) -> tuple[str, str]:
    return f"USER#{user_id}", f"CONN#{connection_id}"


def _owner_key(connection_id: str) -> tuple[str, str]:
    return f"CONN#{connection_id}", "CONN"


class ConnectionRepository:
    """A user's open WebSocket connections, and who owns a connection."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def add(self, live: LiveConnection) -> None:
        """Record both items at once (a $connect retried by API Gateway overwrites them)."""
        with TransactWrite(connection=self._connection) as transaction:
            transaction.save(
                ConnectionItem(
                    *_user_connection_key(live.user_id, live.connection_id),
                    connected_at=live.connected_at,
                    expires_at=live.expires_at,
                )
            )
            transaction.save(
                ConnectionOwnerItem(*_owner_key(live.connection_id), user_id=live.user_id, expires_at=live.expires_at)
            )

    def owner(self, connection_id: str) -> str | None:
        try:
            return ConnectionOwnerItem.get(*_owner_key(connection_id)).user_id
        except DoesNotExist:
            return None

    def remove(self, user_id: str, connection_id: str) -> None:
        """Forget the connection (idempotent)."""
        with TransactWrite(connection=self._connection) as transaction:
            transaction.delete(ConnectionItem(*_user_connection_key(user_id, connection_id)))
            transaction.delete(ConnectionOwnerItem(*_owner_key(connection_id)))

    def of_user(self, user_id: str, now: datetime) -> list[str]:
        """The user's connection ids (a Query on their partition), without expired ones that TTL
        has not deleted yet."""
        items = ConnectionItem.query(
            f"USER#{user_id}", range_key_condition=ConnectionItem.sk.startswith("CONN#"), consistent_read=True
        )
        return [item.sk.removeprefix("CONN#") for item in items if item.expires_at is None or item.expires_at > now]


class EventFeedRepository:
    """Each user's events, sorted by id, each written once per delivery key."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def append(self, event: LiveEvent, key: str, body: str) -> StoredEvent:
        """Write ``event`` (as ``body``) under ``key`` unless an event was written under that key
        before; then return that one, with the connections it reached."""
        expires = event_expiry(event.occurred_at)
        feed = f"FEED#{event.recipient_id}"
        try:
            with TransactWrite(connection=self._connection) as transaction:
                transaction.save(
                    DeliveryItem(feed, f"SEEN#{key}", event_id=event.id, expires_at=expires),
                    condition=DeliveryItem.pk.does_not_exist(),
                )
                transaction.save(
                    FeedEventItem(feed, f"EVENT#{event.id}", body=body, expires_at=expires),
                    condition=FeedEventItem.pk.does_not_exist(),
                )
        except TransactWriteError as error:
            codes = [reason.code if reason else None for reason in error.cancellation_reasons]
            if not codes or codes[0] != "ConditionalCheckFailed":
                raise
            return self._existing(feed, key)
        return StoredEvent(event_id=event.id, body=body, delivered_to=frozenset(), new=True)

    def _existing(self, feed: str, key: str) -> StoredEvent:
        delivery = DeliveryItem.get(feed, f"SEEN#{key}", consistent_read=True)
        stored = FeedEventItem.get(feed, f"EVENT#{delivery.event_id}", consistent_read=True)
        return StoredEvent(
            event_id=delivery.event_id,
            body=stored.body,
            delivered_to=frozenset(delivery.delivered_to or ()),
            new=False,
        )

    def mark_delivered(self, recipient_id: str, key: str, connection_ids: Iterable[str]) -> None:
        """Remember the connections that got the event under ``key``."""
        delivered = set(connection_ids)
        if delivered:
            DeliveryItem(f"FEED#{recipient_id}", f"SEEN#{key}").update(
                actions=[DeliveryItem.delivered_to.add(delivered)], condition=DeliveryItem.pk.exists()
            )

    def after(self, user_id: str, after: str, until: str, limit: int) -> list[dict[str, Any]]:
        """Up to ``limit`` events with ``after < id <= until``, oldest first (one Query)."""
        items = FeedEventItem.query(
            f"FEED#{user_id}",
            range_key_condition=FeedEventItem.sk.between(f"EVENT#{after}", f"EVENT#{until}"),
            limit=limit + 1,
            page_size=limit + 1,
            consistent_read=True,
        )
        events = [json.loads(item.body) for item in items if item.sk != f"EVENT#{after}"]
        return events[:limit]
