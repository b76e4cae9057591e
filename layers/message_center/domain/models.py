"""Domain models: plain frozen dataclasses and enums shared by services and repositories."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from .attachments import MessageAttachment


class Marketplace(StrEnum):
    PL = "allegro-pl"
    CZ = "allegro-cz"
    SK = "allegro-sk"
    HU = "allegro-hu"


class Language(StrEnum):
    """Languages a user can prefer (and that messages can be translated into)."""

    PL = "pl"
    EN = "en"
    UK = "uk"


class MessageType(StrEnum):
    ASK_QUESTION = "ASK_QUESTION"
    MAIL = "MAIL"
    MESSAGE_CENTER = "MESSAGE_CENTER"


class MessageStatus(StrEnum):
    VERIFYING = "VERIFYING"
    BLOCKED = "BLOCKED"
    DELIVERED = "DELIVERED"
    INTERACTING = "INTERACTING"
    DISMISSED = "DISMISSED"


@dataclass(frozen=True)
class User:
    id: str
    login: str
    email: str
    preferred_language: Language
    business_account: bool
    marketplace: Marketplace
    avatar_url: str | None = None
    unread_threads: int = 0
    mail_alias: str | None = None  # local part of the user's masked relay address
    # Sends read receipts (and sees the interlocutor's); off: neither.
    read_receipts: bool = True


@dataclass(frozen=True)
class Offer:
    id: str
    seller_id: str
    marketplace: Marketplace
    title: str


@dataclass(frozen=True)
class Order:
    id: str
    buyer_id: str
    seller_id: str
    marketplace: Marketplace
    offer_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class RelatesTo:
    offer_id: str | None = None
    order_id: str | None = None


@dataclass(frozen=True)
class InboxEntry:
    """One thread as its owner sees it in their inbox."""

    owner_id: str
    thread_id: str
    interlocutor_id: str
    interlocutor_login: str
    interlocutor_avatar_url: str | None
    last_message_at: datetime
    last_author_id: str
    read: bool
    unread_count: int
    version: int
    # When the owner last read the thread (opened it, or wrote in it): the interlocutor's "seen at".
    last_read_at: datetime | None = None

    @property
    def awaiting_reply(self) -> bool:
        """True while the last message is from the interlocutor ("without my reply")."""
        return self.last_author_id != self.owner_id


@dataclass(frozen=True)
class MessageTranslation:
    """A machine translation of a message's text, kept on the reader's copy."""

    language: str
    text: str
    source_language: str
    provider: str


@dataclass(frozen=True)
class Message:
    """A message as one participant holds it (each participant has their own copy)."""

    id: str
    thread_id: str
    owner_id: str
    author_id: str
    author_login: str
    text: str
    type: MessageType
    status: MessageStatus
    created_at: datetime
    relates_to: RelatesTo = field(default_factory=RelatesTo)
    subject: str | None = None
    attachments: tuple[MessageAttachment, ...] = ()
    language: str = "und"  # detected from the text: ISO 639-1, or "und"
    translations: tuple[MessageTranslation, ...] = ()
    # Set on a recipient's copy translated automatically into their preferred language.
    auto_translation: str | None = None

    def translation(self, language: str) -> MessageTranslation | None:
        return next((t for t in self.translations if t.language == language), None)

    @property
    def is_own(self) -> bool:
        return self.author_id == self.owner_id


@dataclass(frozen=True)
class InboxPage:
    entries: tuple[InboxEntry, ...]
    offset: int
    limit: int


@dataclass(frozen=True)
class MessagePage:
    messages: tuple[Message, ...]
    offset: int
    limit: int
