"""What sending and reading conversations are made of, between the services and the repositories:
the one send command, the write the service decides on, and the inbox filters."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum, StrEnum

from .inbox import EntryChange
from .models import Message


class Channel(StrEnum):
    """How a message reached us: the API, or an e-mail (a reply to a copy, or to a masked address)."""

    API = "API"
    MAIL = "MAIL"


@dataclass(frozen=True)
class SendMessage:
    """The one command for every send; which form it is follows from what is set.

    - ``thread_id``: write in an existing thread (API);
    - ``offer_id`` / ``order_id`` / ``recipient_login``: start or continue a conversation
      (``POST /messaging/messages``: ask a question, ask about a purchase, a seller to a buyer);
    - ``recipient_id`` (with ``thread_id`` when known): an e-mail whose route is already decided.
    ``idempotency_key``: a client's Idempotency-Key, or the mail's id for e-mail.
    """

    author_id: str
    text: str
    channel: Channel = Channel.API
    thread_id: str | None = None
    offer_id: str | None = None
    order_id: str | None = None
    recipient_login: str | None = None
    recipient_id: str | None = None
    attachment_ids: tuple[str, ...] = ()
    idempotency_key: str | None = None


class InboxFilter(Enum):
    ALL = "all"
    UNREAD = "unread"
    AWAITING_REPLY = "awaitingReply"
    UNREAD_AWAITING_REPLY = "unreadAwaitingReply"

    @classmethod
    def of(cls, *, unread_only: bool, awaiting_reply_only: bool) -> InboxFilter:
        return {
            (False, False): cls.ALL,
            (True, False): cls.UNREAD,
            (False, True): cls.AWAITING_REPLY,
            (True, True): cls.UNREAD_AWAITING_REPLY,
        }[(unread_only, awaiting_reply_only)]


@dataclass(frozen=True)
class IdempotencyRecord:
    message_id: str
    thread_id: str
    request_hash: str


@dataclass(frozen=True)
class IdempotencyClaim:
    """A client's Idempotency-Key, claimed in the same transaction that stores the message."""

    owner_id: str
    key: str
    request_hash: str
    expires_at: datetime


@dataclass(frozen=True)
class NewMessage:
    """Everything needed to store one message in a thread (the service decided the rest)."""

    message: Message  # the author's copy; the recipient's copy differs only in owner_id
    recipient_id: str
    author_entry: EntryChange
    recipient_entry: EntryChange
    new_thread: bool
    idempotency: IdempotencyClaim | None = None
