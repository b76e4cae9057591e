"""/messaging/events: the caller's event feed (what the WebSocket channel sends, to poll instead),
and the JSON Schema of the events. Extension."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query
from message_center.api.contract import JSON_MEDIA_TYPE
from message_center.api.events import EventFeedPage, events_json_schema
from message_center.api.schemas import _integer_text
from pydantic import BeforeValidator, Field, StringConstraints

from ..context import caller_id, respond, services
from ..problems import documented

router = Router()

FeedLimit = Annotated[int, Field(ge=1, le=100), BeforeValidator(_integer_text)]
# Event ids are ULIDs (Crockford base32).
Cursor = Annotated[str, StringConstraints(pattern=r"^[0-9A-HJKMNP-TV-Z]{26}$")]


@router.get(
    "/messaging/events",
    summary="My events (new messages, reads, deletions, read receipts), oldest first; poll with the cursor",
    description=(
        "The same events the WebSocket channel sends (schema: /events.schema.json), kept at least 24 hours. "
        "Without `from`: the last 24 hours. Pass the returned `cursor` (or the id of the last event you "
        "received on the channel) as `from` to get only newer events."
    ),
    responses=documented({200: "A page of my events"}, model=EventFeedPage),
)
def list_events(
    from_: Annotated[
        Cursor | None, Query(alias="from", description="The cursor of the previous page, or an event id")
    ] = None,
    limit: Annotated[FeedLimit, Query(description="Page size (1–100)")] = 50,
) -> Response[EventFeedPage]:
    page = services().events.list(caller_id(router), from_, limit)
    return respond(EventFeedPage.model_validate({"events": page.events, "cursor": page.cursor}))


@router.get("/events.schema.json", include_in_schema=False)
def events_schema():  # no return annotation: the document is not re-validated
    """The JSON Schema of the live events (public, like the OpenAPI document)."""
    return Response(status_code=200, content_type=JSON_MEDIA_TYPE, body=_schema_json())


@lru_cache(maxsize=1)
def _schema_json() -> str:
    return json.dumps(events_json_schema())
