"""Identifiers and the timestamps they carry.

Thread and message ids are ULIDs: unique, URL-safe, and sortable by creation time, so a thread's
messages sort by their id and a datetime bound becomes a key bound.
"""

from __future__ import annotations

from datetime import UTC, datetime

from ulid import ULID

_TIMESTAMP_CHARS = 10
_ULID_LENGTH = 26


def new_id(at: datetime | None = None) -> str:
    """A new ULID, stamped with ``at`` (default: now)."""
    return str(ULID.from_datetime(at) if at is not None else ULID())


def is_valid_id(value: str) -> bool:
    """True when ``value`` is a canonical ULID string (ids from clients are checked before use)."""
    if len(value) != _ULID_LENGTH:
        return False
    try:
        return str(ULID.from_str(value)) == value
    except ValueError:
        return False


def lowest_id_at(moment: datetime) -> str:
    """The smallest ULID created in the millisecond of ``moment``."""
    return str(ULID.from_datetime(moment))[:_TIMESTAMP_CHARS] + "0" * (_ULID_LENGTH - _TIMESTAMP_CHARS)


def highest_id_at(moment: datetime) -> str:
    """The largest ULID created in the millisecond of ``moment``."""
    return str(ULID.from_datetime(moment))[:_TIMESTAMP_CHARS] + "Z" * (_ULID_LENGTH - _TIMESTAMP_CHARS)


def utc_now() -> datetime:
    """Now, in UTC, truncated to milliseconds (what ids and the API carry)."""
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def to_wire_datetime(moment: datetime) -> str:
    """ISO 8601 in UTC with milliseconds and a ``Z``, as the marketplace API writes dates."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
