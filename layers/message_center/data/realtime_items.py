"""pynamodb items of the real-time table: WebSocket connections and each user's event feed.

A table of its own (not the main one): everything in it is short-lived and expires by TTL, and
its writes must not feed the main table's stream. Only the real-time repositories import this.

| item              | pk                        | sk                    |
| ----------------- | ------------------------- | --------------------- |
| user's connection | ``USER#<userId>``         | ``CONN#<connectionId>`` |
| connection owner  | ``CONN#<connectionId>``   | ``CONN``              |
| feed event        | ``FEED#<userId>``         | ``EVENT#<eventId>``   |
| delivery marker   | ``FEED#<userId>``         | ``SEEN#<deliveryKey>`` |
"""

from __future__ import annotations

from pynamodb.attributes import TTLAttribute, UnicodeAttribute, UnicodeSetAttribute, UTCDateTimeAttribute
from pynamodb.connection import Connection
from pynamodb.models import Model

from . import schema
from .items import bind_item_classes

REALTIME_TTL_ATTRIBUTE = schema.TTL_ATTRIBUTE


class _RealtimeItem(Model):
    class Meta:
        # Replaced by ``bind_realtime_table`` at cold start from the validated settings.
        table_name = "MessageCenterRealtime"
        region = "eu-central-1"

    pk = UnicodeAttribute(hash_key=True, attr_name=schema.PARTITION_KEY)
    sk = UnicodeAttribute(range_key=True, attr_name=schema.SORT_KEY)
    expires_at = TTLAttribute(attr_name=REALTIME_TTL_ATTRIBUTE)


class ConnectionItem(_RealtimeItem):
    connected_at = UTCDateTimeAttribute(attr_name="connectedAt")


class ConnectionOwnerItem(_RealtimeItem):
    user_id = UnicodeAttribute(attr_name="userId")


class FeedEventItem(_RealtimeItem):
    # The event exactly as sent (JSON): the feed serves the same bytes the sockets got.
    body = UnicodeAttribute()


class DeliveryItem(_RealtimeItem):
    """One change's event for one user: which event it became and which connections have it."""

    event_id = UnicodeAttribute(attr_name="eventId")
    delivered_to = UnicodeSetAttribute(null=True, attr_name="deliveredTo")


REALTIME_ITEM_CLASSES: tuple[type[_RealtimeItem], ...] = (
    ConnectionItem,
    ConnectionOwnerItem,
    FeedEventItem,
    DeliveryItem,
)


def bind_realtime_table(
    table_name: str, region: str, host: str | None, *, credentials: dict[str, str] | None = None
) -> Connection:
    """Point the real-time items at the configured table; they share one connection."""
    return bind_item_classes(REALTIME_ITEM_CLASSES, ConnectionItem, table_name, region, host, credentials=credentials)


def create_realtime_table_request(table_name: str) -> dict[str, object]:
    """Keyword arguments for DynamoDB ``CreateTable`` (local runtime and tests); TTL is turned
    on separately (``UpdateTimeToLive`` on ``REALTIME_TTL_ATTRIBUTE``)."""
    return {
        "TableName": table_name,
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [
            {"AttributeName": schema.PARTITION_KEY, "AttributeType": "S"},
            {"AttributeName": schema.SORT_KEY, "AttributeType": "S"},
        ],
        "KeySchema": [
            {"AttributeName": schema.PARTITION_KEY, "KeyType": "HASH"},
            {"AttributeName": schema.SORT_KEY, "KeyType": "RANGE"},
        ],
    }
