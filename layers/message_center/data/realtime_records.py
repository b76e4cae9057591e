"""Stream records of the main table → the changes users see live (``domain.realtime.LiveChange``)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ..deployment import INBOX_ENTRY_SK_PREFIX
from ..domain.realtime import ChangeKind, LiveChange
from .items import InboxEntryItem
from .mappers import message_from_stream_image, to_entry


def live_change_from_stream_record(record: dict[str, Any]) -> LiveChange | None:
    """The change in ``record`` (Lambda's DynamoDB stream record shape), or None when it is not
    one users see live (the deployed filter passes only these kinds)."""
    name = record.get("eventName")
    stream = record.get("dynamodb") or {}
    source_id = str(record.get("eventID") or stream.get("SequenceNumber") or "")
    at = _approximate_time(stream.get("ApproximateCreationDateTime"))
    if not source_id:
        return None
    if name == "INSERT":
        message = message_from_stream_image(stream.get("NewImage") or {})
        return LiveChange(source_id, ChangeKind.MESSAGE_INSERTED, at, message=message) if message else None
    if name == "REMOVE":
        message = message_from_stream_image(stream.get("OldImage") or {})
        return LiveChange(source_id, ChangeKind.MESSAGE_REMOVED, at, message=message) if message else None
    if name == "MODIFY":
        old, new = stream.get("OldImage") or {}, stream.get("NewImage") or {}
        if not all(
            image.get("sk", {}).get("S", "").startswith(INBOX_ENTRY_SK_PREFIX) and "inboxOwner" in image
            for image in (old, new)
        ):
            return None
        before, after = to_entry(InboxEntryItem.from_raw_data(old)), to_entry(InboxEntryItem.from_raw_data(new))
        return LiveChange(source_id, ChangeKind.ENTRY_MODIFIED, at, before=before, after=after)
    return None


def _approximate_time(value: Any) -> datetime:
    # Lambda sends epoch seconds (a number); anything else: now.
    if isinstance(value, int | float) and value > 0:
        return datetime.fromtimestamp(float(value), UTC)
    return datetime.now(UTC)
