"""Identifiers and timestamps (message_center.domain.ids): ULIDs, key bounds and wire dates."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta, timezone

import pytest
from message_center.domain.ids import (
    highest_id_at,
    is_valid_id,
    lowest_id_at,
    new_id,
    to_wire_datetime,
    utc_now,
)
from ulid import ULID

CROCKFORD_BASE32 = set("0123456789ABCDEFGHJKMNPQRSTVWXYZ")
MOMENT = datetime(2024, 3, 12, 19, 3, 58, 390000, tzinfo=UTC)
ONE_MS = timedelta(milliseconds=1)
VALID = "01HRZ5K3N2V7Q8W9X0Y1Z2A3B4"


# --- new_id -------------------------------------------------------------------------------------


@pytest.mark.parametrize("at", [None, MOMENT], ids=["now", "given-moment"])
def test_new_id_is_a_canonical_ulid(at: datetime | None) -> None:
    # Given a moment (or none: now)
    # When an id is created
    value = new_id(at)
    # Then it is a 26-character, upper-case Crockford base32 ULID that round-trips
    assert len(value) == 26
    assert set(value) <= CROCKFORD_BASE32
    assert str(ULID.from_str(value)) == value
    assert is_valid_id(value) is True


def test_new_id_carries_the_given_millisecond() -> None:
    # Given a moment with millisecond precision
    # When an id is stamped with it
    value = new_id(MOMENT)
    # Then the ULID's timestamp is exactly that moment
    assert ULID.from_str(value).datetime == MOMENT
    assert ULID.from_str(value).milliseconds == 1710270238390


def test_new_id_without_a_moment_uses_now() -> None:
    # Given the current time bracketed by two readings of the clock
    before = utc_now()
    # When an id is created without a moment
    value = new_id()
    after = utc_now() + ONE_MS
    # Then its timestamp lies between the readings
    assert before <= ULID.from_str(value).datetime <= after


def test_new_ids_in_the_same_millisecond_are_unique() -> None:
    # Given one millisecond
    # When many ids are stamped with it
    values = {new_id(MOMENT) for _ in range(1000)}
    # Then they are all distinct
    assert len(values) == 1000


@pytest.mark.parametrize(
    "offsets_ms",
    [
        [0, 1, 2, 3, 4, 5],
        [0, 999, 1000, 1001, 60_000, 86_400_000],
        [0, 1, 86_400_000 * 365 * 30],
    ],
    ids=["consecutive-ms", "second-minute-day", "decades"],
)
def test_new_ids_sort_by_creation_time(offsets_ms: list[int]) -> None:
    # Given ids created at increasing milliseconds, in shuffled order
    moments = [MOMENT + timedelta(milliseconds=offset) for offset in offsets_ms]
    ids_in_time_order = [new_id(moment) for moment in moments]
    shuffled = ids_in_time_order[::-1]
    random.Random(7).shuffle(shuffled)
    # When they are sorted as plain strings
    # Then the order is their creation order
    assert sorted(shuffled) == ids_in_time_order


# --- lowest_id_at / highest_id_at ---------------------------------------------------------------


def test_bounds_share_the_timestamp_prefix_and_fill_the_rest() -> None:
    # Given a moment
    prefix = new_id(MOMENT)[:10]
    # When its bounds are computed
    low, high = lowest_id_at(MOMENT), highest_id_at(MOMENT)
    # Then they are the millisecond's prefix followed by all-0 / all-Z randomness
    assert low == prefix + "0" * 16
    assert high == prefix + "Z" * 16
    assert is_valid_id(low) is True
    assert is_valid_id(high) is True


@pytest.mark.parametrize(
    "moment",
    [
        MOMENT,
        datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=1),
        datetime(2030, 12, 31, 23, 59, 59, 999000, tzinfo=UTC),
        datetime(2024, 2, 29, 12, 0, 0, 1000, tzinfo=UTC),
    ],
)
def test_bounds_bracket_every_id_of_the_millisecond_and_exclude_its_neighbours(moment: datetime) -> None:
    # Given ids created in the millisecond of the moment, and in the ones just before and after
    inside = [new_id(moment) for _ in range(300)]
    before = [new_id(moment - ONE_MS) for _ in range(300)]
    after = [new_id(moment + ONE_MS) for _ in range(300)]
    # When the bounds of that millisecond are computed
    low, high = lowest_id_at(moment), highest_id_at(moment)
    # Then every id of the millisecond lies within, and none of the neighbours' ids does
    assert all(low <= value <= high for value in inside)
    assert all(value < low for value in before)
    assert all(value > high for value in after)
    # And the neighbouring milliseconds' bounds touch but do not overlap
    assert highest_id_at(moment - ONE_MS) < low
    assert high < lowest_id_at(moment + ONE_MS)


def test_bounds_ignore_sub_millisecond_precision() -> None:
    # Given two moments in the same millisecond, microseconds apart
    start = MOMENT
    later_in_same_ms = MOMENT + timedelta(microseconds=999)
    # When their bounds are computed
    # Then they are the same, and contain an id stamped at the later moment
    assert lowest_id_at(later_in_same_ms) == lowest_id_at(start)
    assert highest_id_at(later_in_same_ms) == highest_id_at(start)
    assert lowest_id_at(start) <= new_id(later_in_same_ms) <= highest_id_at(start)


def test_bounds_are_timezone_independent() -> None:
    # Given the same instant expressed in UTC and in UTC+02:00
    local = MOMENT.astimezone(timezone(timedelta(hours=2)))
    # When bounds are computed
    # Then they are equal
    assert lowest_id_at(local) == lowest_id_at(MOMENT)
    assert highest_id_at(local) == highest_id_at(MOMENT)


# --- is_valid_id --------------------------------------------------------------------------------


def test_is_valid_id_accepts_a_canonical_ulid() -> None:
    assert is_valid_id(VALID) is True


@pytest.mark.parametrize(
    "value",
    [
        "",
        VALID[:-1],  # 25 characters
        VALID + "0",  # 27 characters
        VALID.lower(),  # lowercase-mangled: decodes, but is not canonical
        VALID[:-1] + "b",  # one lower-case character
        VALID[:-1] + "I",  # I, L, O, U are not in the Crockford alphabet
        VALID[:-1] + "L",
        VALID[:-1] + "O",
        VALID[:-1] + "U",
        VALID[:-1] + "!",
        VALID[:-1] + "-",
        VALID[:-1] + "ą",
        "8ZZZZZZZZZZZZZZZZZZZZZZZZZ",  # overflows 128 bits
        "../../../../../../etc/pass",  # 26 characters of path traversal
        "..%2F..%2F..%2Fetc%2Fpassw",  # URL-encoded path traversal, 26 characters
        "../../../../../../../etc/passwd",
        "01HRZ5K3N2V7Q8W9/../../..0",
        " " + VALID[1:],
        VALID[:-1] + "\n",
    ],
)
def test_is_valid_id_rejects_non_canonical_strings(value: str) -> None:
    # Given a string that is not a canonical ULID
    # When it is checked
    # Then it is rejected (without raising)
    assert is_valid_id(value) is False


def test_is_valid_id_accepts_the_largest_ulid() -> None:
    assert is_valid_id("7ZZZZZZZZZZZZZZZZZZZZZZZZZ") is True


# --- to_wire_datetime / utc_now -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "wire"),
    [
        (MOMENT, "2024-03-12T19:03:58.390Z"),
        (datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC), "2024-01-02T03:04:05.000Z"),
        (datetime(2024, 1, 2, 3, 4, 5, 7000, tzinfo=UTC), "2024-01-02T03:04:05.007Z"),
        (datetime(2024, 12, 31, 23, 59, 59, 999999, tzinfo=UTC), "2024-12-31T23:59:59.999Z"),  # truncated
        (datetime(2024, 1, 2, 3, 4, 5, 123456, tzinfo=UTC), "2024-01-02T03:04:05.123Z"),
    ],
)
def test_to_wire_datetime_formats_utc_with_milliseconds(moment: datetime, wire: str) -> None:
    # Given a UTC moment
    # When it is written for the wire
    # Then it is ISO 8601 with exactly three fractional digits and a Z
    assert to_wire_datetime(moment) == wire


@pytest.mark.parametrize(
    ("moment", "wire"),
    [
        # Warsaw in summer (UTC+02:00)
        (
            datetime(2024, 7, 1, 21, 30, 0, 250000, tzinfo=timezone(timedelta(hours=2))),
            "2024-07-01T19:30:00.250Z",
        ),
        # crossing midnight backwards into the previous day and year (UTC+01:00)
        (
            datetime(2024, 1, 1, 0, 30, 0, 5000, tzinfo=timezone(timedelta(hours=1))),
            "2023-12-31T23:30:00.005Z",
        ),
        # a negative offset crossing midnight forwards (UTC-05:00)
        (
            datetime(2024, 2, 28, 22, 15, 1, 42000, tzinfo=timezone(timedelta(hours=-5))),
            "2024-02-29T03:15:01.042Z",
        ),
        # a half-hour offset (UTC+05:30)
        (
            datetime(2024, 3, 12, 5, 0, 0, 999000, tzinfo=timezone(timedelta(hours=5, minutes=30))),
            "2024-03-11T23:30:00.999Z",
        ),
    ],
)
def test_to_wire_datetime_converts_other_timezones_to_utc(moment: datetime, wire: str) -> None:
    # Given a moment in a non-UTC timezone
    # When it is written for the wire
    # Then it is converted to UTC
    assert to_wire_datetime(moment) == wire


def test_utc_now_is_utc_and_truncated_to_milliseconds() -> None:
    # Given the clock
    # When now is read
    now = utc_now()
    # Then it is timezone-aware UTC with whole milliseconds, and survives the wire format
    assert now.tzinfo is UTC
    assert now.microsecond % 1000 == 0
    assert datetime.strptime(to_wire_datetime(now), "%Y-%m-%dT%H:%M:%S.%f%z") == now
