"""How a new message or a read flag changes the participants' inbox entries and badges."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from .models import InboxEntry, User


@dataclass(frozen=True)
class EntryChange:
    """The next state of one inbox entry and what it does to its owner's unread badge."""

    before: InboxEntry | None
    after: InboxEntry
    badge_delta: int


def _badge_delta(before: InboxEntry | None, after: InboxEntry) -> int:
    was_unread = before is not None and not before.read
    return int(not after.read) - int(was_unread)


def after_message(
    entry: InboxEntry | None,
    *,
    owner_id: str,
    thread_id: str,
    interlocutor: User,
    author_id: str,
    sent_at: datetime,
) -> EntryChange:
    """The owner's entry after a message in the thread: read for its author, one more unread
    message for the other side."""
    own = author_id == owner_id
    base = entry or InboxEntry(
        owner_id=owner_id,
        thread_id=thread_id,
        interlocutor_id=interlocutor.id,
        interlocutor_login=interlocutor.login,
        interlocutor_avatar_url=interlocutor.avatar_url,
        last_message_at=sent_at,
        last_author_id=author_id,
        read=True,
        unread_count=0,
        version=0,
    )
    after = replace(
        base,
        interlocutor_login=interlocutor.login,
        interlocutor_avatar_url=interlocutor.avatar_url,
        last_message_at=max(base.last_message_at, sent_at),
        last_author_id=author_id,
        read=own,
        unread_count=0 if own else base.unread_count + 1,
        # Writing in a thread means having seen it.
        last_read_at=sent_at if own else base.last_read_at,
        version=base.version + 1,
    )
    return EntryChange(before=entry, after=after, badge_delta=_badge_delta(entry, after))


def after_read_flag(entry: InboxEntry, read: bool, at: datetime | None = None) -> EntryChange:
    """Mark a thread read (clears its unread count; ``at``: when, the read receipt's time) or
    unread (at least one unread message)."""
    after = replace(
        entry,
        read=read,
        unread_count=0 if read else max(entry.unread_count, 1),
        last_read_at=at if read and at is not None else entry.last_read_at,
        version=entry.version + 1,
    )
    return EntryChange(before=entry, after=after, badge_delta=_badge_delta(entry, after))
