"""Wire models of the live events: the same JSON on the WebSocket channel and in the event feed
(``GET /messaging/events``), documented as a JSON Schema served next to the OpenAPI document.

Every event is an envelope ``{id, type, version, occurredAt, threadId, data}``; ``id`` is
sortable and unique per recipient (clients drop an id they have seen: delivery is at least once).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field, TypeAdapter

from ..domain.ids import to_wire_datetime
from ..domain.models import InboxEntry, Message, User
from ..domain.realtime import EVENT_VERSION, EventType, LiveEvent
from .schemas import Badge, MessageOut, ThreadOut, WireDateTime, WireModel

EVENTS_SCHEMA_ID = "https://message-center.example/schemas/events.v1.json"


class ReadBy(WireModel):
    id: str
    login: str


class MessageCreatedData(WireModel):
    message: MessageOut = Field(description="As GET /messaging/threads/{threadId}/messages shows it to you.")
    thread: ThreadOut = Field(description="As GET /messaging/threads lists it for you.")
    badge: Badge


class ThreadUpdatedData(WireModel):
    thread: ThreadOut
    badge: Badge


class MessageDeletedData(WireModel):
    message_id: str
    thread: ThreadOut | None = None
    badge: Badge


class ThreadReadData(WireModel):
    read_by: ReadBy
    read_at: WireDateTime
    last_read_message_id: str | None = None


class _Envelope(WireModel):
    id: str = Field(description="Sortable, unique per recipient; the feed's cursor.")
    version: Literal[1] = 1
    occurred_at: WireDateTime
    thread_id: str


class MessageCreatedEvent(_Envelope):
    """A message in one of my threads (mine from another device, or the interlocutor's)."""

    type: Literal["message.created"] = "message.created"
    data: MessageCreatedData


class ThreadUpdatedEvent(_Envelope):
    """I marked a thread read or unread (on any device)."""

    type: Literal["thread.updated"] = "thread.updated"
    data: ThreadUpdatedData


class MessageDeletedEvent(_Envelope):
    """I deleted a message for myself (on any device)."""

    type: Literal["message.deleted"] = "message.deleted"
    data: MessageDeletedData


class ThreadReadEvent(_Envelope):
    """Read receipt: the interlocutor read the thread (only while both of us share receipts)."""

    type: Literal["thread.read"] = "thread.read"
    data: ThreadReadData


LiveEventOut = Annotated[
    MessageCreatedEvent | ThreadUpdatedEvent | MessageDeletedEvent | ThreadReadEvent,
    Field(discriminator="type"),
]
_EVENT = TypeAdapter(LiveEventOut)


class EventFeedPage(WireModel):
    events: list[LiveEventOut] = Field(description="Oldest first.")
    cursor: str = Field(description="Pass as `from` next time (the last event's id, or where this page started).")


def _dump(model: WireModel) -> dict[str, Any]:
    return model.model_dump(mode="json", by_alias=True)


class WireEvents:
    """Builds each event's ``data`` and envelope as clients see them; ``attachments_url``: the
    public URL of the attachment resources (ending with ``/``)."""

    def __init__(self, attachments_url: str, default_avatar_url: str) -> None:
        self._attachments_url = attachments_url
        self._avatar = default_avatar_url

    def _thread(self, entry: InboxEntry) -> ThreadOut:
        return ThreadOut.from_entry(entry, self._avatar)

    def message_created(self, message: Message, entry: InboxEntry, badge: int) -> dict[str, Any]:
        return _dump(
            MessageCreatedData(
                message=MessageOut.from_message(message, self._attachments_url),
                thread=self._thread(entry),
                badge=Badge(unread_threads=badge),
            )
        )

    def thread_updated(self, entry: InboxEntry, badge: int) -> dict[str, Any]:
        return _dump(ThreadUpdatedData(thread=self._thread(entry), badge=Badge(unread_threads=badge)))

    def message_deleted(self, message_id: str, entry: InboxEntry | None, badge: int) -> dict[str, Any]:
        return _dump(
            MessageDeletedData(
                message_id=message_id,
                thread=self._thread(entry) if entry is not None else None,
                badge=Badge(unread_threads=badge),
            )
        )

    def thread_read(self, reader: User, read_at: datetime, last_read_message_id: str | None) -> dict[str, Any]:
        return _dump(
            ThreadReadData(
                read_by=ReadBy(id=reader.id, login=reader.login),
                read_at=read_at,
                last_read_message_id=last_read_message_id,
            )
        )

    def envelope(self, event: LiveEvent) -> str:
        """The event's JSON, validated against its schema."""
        document = {
            "id": event.id,
            "type": event.type.value,
            "version": EVENT_VERSION,
            "occurredAt": to_wire_datetime(event.occurred_at),
            "threadId": event.thread_id,
            "data": dict(event.data),
        }
        return _EVENT.dump_json(_EVENT.validate_python(document), by_alias=True).decode()


def events_json_schema() -> dict[str, Any]:
    """The JSON Schema (2020-12) of one event, served as ``/events.schema.json``."""
    schema = _EVENT.json_schema(mode="serialization", by_alias=True)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": EVENTS_SCHEMA_ID,
        "title": "Message Center live event (WebSocket message and event feed entry)",
        "description": (
            "Each event the WebSocket channel sends and GET /messaging/events returns. Event types: "
            + ", ".join(t.value for t in EventType)
            + '. Besides events, the channel answers {"action": "ping"} with {"type": "pong"} and '
            'an unknown action with {"type": "error", "code": "UNKNOWN_ACTION"}.'
        ),
        **schema,
    }
