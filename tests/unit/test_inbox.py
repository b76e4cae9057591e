"""Inbox bookkeeping (message_center.domain.inbox): entries, unread counts and badge deltas."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from message_center.domain.inbox import EntryChange, after_message, after_read_flag
from message_center.domain.models import InboxEntry, Language, Marketplace, User

T0 = datetime(2024, 3, 12, 19, 3, 58, 390000, tzinfo=UTC)
THREAD = "01HRZ5K3N2V7Q8W9X0Y1Z2A3B4"

ANNA = User(
    id="user-anna",
    login="anna_kowalska",
    email="anna.kowalska@example.com",
    preferred_language=Language.PL,
    business_account=False,
    marketplace=Marketplace.PL,
)
SHOP = User(
    id="user-shop",
    login="rowery-kraków",
    email="sklep@rowery.example.com",
    preferred_language=Language.PL,
    business_account=True,
    marketplace=Marketplace.PL,
    avatar_url="https://cdn.example.com/avatars/shop.png",
)


def _entry(*, read: bool, unread_count: int, version: int = 3, last_author_id: str = "user-shop") -> InboxEntry:
    """Anna's entry for her thread with the shop."""
    return InboxEntry(
        owner_id="user-anna",
        thread_id=THREAD,
        interlocutor_id="user-shop",
        interlocutor_login="rowery-kraków",
        interlocutor_avatar_url=None,
        last_message_at=T0,
        last_author_id=last_author_id,
        read=read,
        unread_count=unread_count,
        version=version,
    )


def _anna_entry_after(entry: InboxEntry | None, *, author_id: str, sent_at: datetime = T0) -> EntryChange:
    return after_message(
        entry,
        owner_id="user-anna",
        thread_id=THREAD,
        interlocutor=SHOP,
        author_id=author_id,
        sent_at=sent_at,
    )


# --- after_message: a new entry -----------------------------------------------------------------


def test_after_message_creates_a_read_entry_for_the_author() -> None:
    # Given Anna has no entry for the thread yet
    # When Anna sends the first message
    change = _anna_entry_after(None, author_id="user-anna")
    # Then her new entry is read (she has seen it when she wrote), has no unread messages, and
    # her badge does not change
    assert change.before is None
    assert change.after == InboxEntry(
        owner_id="user-anna",
        thread_id=THREAD,
        interlocutor_id="user-shop",
        interlocutor_login="rowery-kraków",
        interlocutor_avatar_url="https://cdn.example.com/avatars/shop.png",
        last_message_at=T0,
        last_author_id="user-anna",
        read=True,
        unread_count=0,
        version=1,
        last_read_at=T0,
    )
    assert change.badge_delta == 0


def test_after_message_creates_an_unread_entry_for_the_recipient() -> None:
    # Given Anna has no entry for the thread yet
    # When the shop sends the first message to Anna
    change = _anna_entry_after(None, author_id="user-shop")
    # Then her new entry is unread with one message, and her badge goes up by one
    assert change.before is None
    assert change.after == InboxEntry(
        owner_id="user-anna",
        thread_id=THREAD,
        interlocutor_id="user-shop",
        interlocutor_login="rowery-kraków",
        interlocutor_avatar_url="https://cdn.example.com/avatars/shop.png",
        last_message_at=T0,
        last_author_id="user-shop",
        read=False,
        unread_count=1,
        version=1,
    )
    assert change.badge_delta == 1


# --- after_message: an existing entry -----------------------------------------------------------


@pytest.mark.parametrize(
    ("before", "author_id", "expected"),
    [
        # (read, unread_count) before -> (read, unread_count, badge_delta) after
        # the recipient's read entry becomes unread: the only case that adds to the badge
        ((True, 0), "user-shop", (False, 1, 1)),
        # the recipient's entry is already unread: one more message, the badge is unchanged
        ((False, 1), "user-shop", (False, 2, 0)),
        ((False, 3), "user-shop", (False, 4, 0)),
        # the author had the thread unread: replying reads it and takes it off the badge
        ((False, 2), "user-anna", (True, 0, -1)),
        ((False, 1), "user-anna", (True, 0, -1)),
        # the author's entry was read already: nothing changes on the badge
        ((True, 0), "user-anna", (True, 0, 0)),
    ],
    ids=[
        "recipient-read-to-unread",
        "recipient-unread-1-to-2",
        "recipient-unread-3-to-4",
        "author-unread-2-to-read",
        "author-unread-1-to-read",
        "author-read-stays-read",
    ],
)
def test_after_message_updates_read_state_unread_count_and_badge(
    before: tuple[bool, int], author_id: str, expected: tuple[bool, int, int]
) -> None:
    # Given Anna's existing entry in some read state
    entry = _entry(read=before[0], unread_count=before[1])
    # When a message is sent in the thread by one of the two participants
    change = _anna_entry_after(entry, author_id=author_id, sent_at=T0 + timedelta(minutes=5))
    # Then the entry's read state, unread count and the badge delta follow the rules
    assert change.before is entry
    assert (change.after.read, change.after.unread_count, change.badge_delta) == expected
    assert change.after.last_author_id == author_id


@pytest.mark.parametrize("author_id", ["user-anna", "user-shop"])
def test_after_message_increments_the_version(author_id: str) -> None:
    # Given an entry at version 7
    entry = _entry(read=True, unread_count=0, version=7)
    # When a message is sent in the thread
    change = _anna_entry_after(entry, author_id=author_id, sent_at=T0 + timedelta(seconds=1))
    # Then the version goes to 8 and the previous entry is untouched
    assert change.after.version == 8
    assert entry.version == 7


def test_after_message_moves_last_message_at_forward() -> None:
    # Given an entry whose last message was at T0
    entry = _entry(read=True, unread_count=0)
    later = T0 + timedelta(hours=2, milliseconds=1)
    # When a later message is sent
    change = _anna_entry_after(entry, author_id="user-shop", sent_at=later)
    # Then last_message_at is the new message's time
    assert change.after.last_message_at == later


@pytest.mark.parametrize(
    "earlier",
    [T0 - timedelta(milliseconds=1), T0 - timedelta(days=1), T0],
    ids=["1ms-earlier", "1day-earlier", "same-time"],
)
def test_after_message_never_moves_last_message_at_backwards(earlier: datetime) -> None:
    # Given an entry whose last message was at T0
    entry = _entry(read=True, unread_count=0)
    # When a message stamped at or before T0 is applied (late / out of order)
    change = _anna_entry_after(entry, author_id="user-shop", sent_at=earlier)
    # Then last_message_at stays at T0
    assert change.after.last_message_at == T0


def test_after_message_refreshes_interlocutor_login_and_avatar_but_keeps_identity() -> None:
    # Given an entry that still has the shop's old login and no avatar
    entry = replace(_entry(read=True, unread_count=0), interlocutor_login="old-login")
    # When a message is sent (with the shop's current profile)
    change = _anna_entry_after(entry, author_id="user-shop", sent_at=T0 + timedelta(seconds=1))
    # Then the login and avatar are refreshed; owner, thread and interlocutor id stay
    assert change.after.interlocutor_login == "rowery-kraków"
    assert change.after.interlocutor_avatar_url == "https://cdn.example.com/avatars/shop.png"
    assert change.after.owner_id == "user-anna"
    assert change.after.thread_id == THREAD
    assert change.after.interlocutor_id == "user-shop"


def test_after_message_for_both_participants_of_one_message() -> None:
    # Given a thread where Anna's entry is read and the shop's entry is unread (2)
    anna_entry = _entry(read=True, unread_count=0, version=4)
    shop_entry = InboxEntry(
        owner_id="user-shop",
        thread_id=THREAD,
        interlocutor_id="user-anna",
        interlocutor_login="anna_kowalska",
        interlocutor_avatar_url=None,
        last_message_at=T0,
        last_author_id="user-anna",
        read=False,
        unread_count=2,
        version=9,
    )
    sent_at = T0 + timedelta(minutes=1)
    # When the shop replies
    shop_change = after_message(
        shop_entry,
        owner_id="user-shop",
        thread_id=THREAD,
        interlocutor=ANNA,
        author_id="user-shop",
        sent_at=sent_at,
    )
    anna_change = _anna_entry_after(anna_entry, author_id="user-shop", sent_at=sent_at)
    # Then the shop's entry is read (badge -1) and Anna's becomes unread (badge +1)
    assert (shop_change.after.read, shop_change.after.unread_count, shop_change.badge_delta) == (True, 0, -1)
    assert (anna_change.after.read, anna_change.after.unread_count, anna_change.badge_delta) == (False, 1, 1)
    assert shop_change.after.version == 10
    assert anna_change.after.version == 5
    assert shop_change.after.last_message_at == anna_change.after.last_message_at == sent_at
    # And only Anna is now awaiting a reply from her side
    assert shop_change.after.awaiting_reply is False
    assert anna_change.after.awaiting_reply is True


# --- after_read_flag ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("before_read", "before_unread", "read", "after_unread", "badge_delta"),
    [
        (False, 3, True, 0, -1),  # reading an unread thread clears it and the badge
        (False, 1, True, 0, -1),
        (True, 0, True, 0, 0),  # reading a read thread changes nothing on the badge
        (True, 0, False, 1, 1),  # marking a read thread unread: at least one unread message
        (False, 4, False, 4, 0),  # marking an unread thread unread keeps its count
        (False, 1, False, 1, 0),
    ],
    ids=[
        "unread-3-mark-read",
        "unread-1-mark-read",
        "read-mark-read",
        "read-mark-unread",
        "unread-4-mark-unread",
        "unread-1-mark-unread",
    ],
)
def test_after_read_flag(
    before_read: bool, before_unread: int, read: bool, after_unread: int, badge_delta: int
) -> None:
    # Given an entry in some read state
    entry = _entry(read=before_read, unread_count=before_unread, version=5)
    # When its owner flags it read or unread
    change = after_read_flag(entry, read)
    # Then read, unread_count and the badge follow, the version goes up, nothing else changes
    assert change.before is entry
    assert change.after == replace(entry, read=read, unread_count=after_unread, version=6)
    assert change.badge_delta == badge_delta


def test_after_read_flag_unread_floors_a_zero_count_at_one_even_if_inconsistent() -> None:
    # Given an (inconsistent) entry flagged unread but with a zero count
    entry = _entry(read=False, unread_count=0)
    # When it is flagged unread again
    change = after_read_flag(entry, False)
    # Then it reports at least one unread message, and the badge does not change
    assert change.after.unread_count == 1
    assert change.badge_delta == 0


# --- InboxEntry.awaiting_reply ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("last_author_id", "awaiting"),
    [("user-shop", True), ("user-anna", False)],
    ids=["interlocutor-wrote-last", "owner-wrote-last"],
)
def test_awaiting_reply_is_true_while_the_interlocutor_wrote_last(last_author_id: str, awaiting: bool) -> None:
    # Given Anna's entry whose last message is by the shop or by Anna
    entry = _entry(read=True, unread_count=0, last_author_id=last_author_id)
    # When asked whether it awaits her reply
    # Then it does only when the shop wrote last
    assert entry.awaiting_reply is awaiting


def test_awaiting_reply_follows_after_message() -> None:
    # Given Anna's entry where the shop wrote last
    entry = _entry(read=False, unread_count=1, last_author_id="user-shop")
    assert entry.awaiting_reply is True
    # When Anna replies
    change = _anna_entry_after(entry, author_id="user-anna", sent_at=T0 + timedelta(seconds=30))
    # Then it no longer awaits her reply
    assert change.after.awaiting_reply is False
