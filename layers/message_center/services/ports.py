"""What the services need from storage and files, as small protocols.

The services depend on these, never on the pynamodb or boto3 classes behind them, so their rules
can be tested on in-memory fakes (tests/unit/fakes.py); the moto integration tests cover the real
implementations in ``data/`` and ``adapters/``, which satisfy these protocols structurally.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from ..domain.attachments import Attachment, AttachmentStatus
from ..domain.inbox import EntryChange
from ..domain.lookups import Found, Wanted
from ..domain.models import InboxEntry, Language, Message, MessageTranslation, Offer, Order, User
from ..domain.sending import IdempotencyRecord, InboxFilter, NewMessage

if TYPE_CHECKING:
    from ..adapters.attachment_files import Upload, UploadForm


class Directory(Protocol):
    """The marketplace directory: users, offers, orders, and the users' mail addresses."""

    def get_user(self, user_id: str) -> User | None: ...

    def get_user_id_by_login(self, login: str) -> str | None: ...

    def get_user_by_login(self, login: str) -> User | None: ...

    def get_offer(self, offer_id: str) -> Offer | None: ...

    def get_order(self, order_id: str) -> Order | None: ...

    def get_user_by_email(self, address: str) -> User | None: ...

    def get_user_by_alias(self, alias: str) -> User | None: ...

    def set_preferred_language(self, user_id: str, language: Language) -> User | None: ...

    def set_read_receipts(self, user_id: str, enabled: bool) -> User | None: ...


class Threads(Protocol):
    """Threads, inbox entries and message copies; a send is stored all or nothing.

    ``append_message`` and ``save_entry`` raise ``ConcurrencyError`` when a concurrent writer got
    in first, and ``append_message`` raises ``IdempotencyKeyTaken`` when the same key committed first.
    """

    def find_thread_of_pair(self, user_a: str, user_b: str) -> str | None: ...

    def get_entry(self, owner_id: str, thread_id: str) -> InboxEntry | None: ...

    def get_entries(self, thread_id: str, owner_ids: Iterable[str]) -> dict[str, InboxEntry]: ...

    def list_inbox(
        self, owner_id: str, inbox_filter: InboxFilter, *, before: datetime | None, offset: int, limit: int
    ) -> list[InboxEntry]: ...

    def list_messages(
        self,
        owner_id: str,
        thread_id: str,
        *,
        before: datetime | None,
        after: datetime | None,
        offset: int,
        limit: int,
    ) -> list[Message]: ...

    def find_message_thread(self, message_id: str) -> tuple[str, list[str]] | None: ...

    def get_message(self, owner_id: str, thread_id: str, message_id: str) -> Message | None: ...

    def save_translation(
        self, owner_id: str, thread_id: str, message_id: str, translation: MessageTranslation, *, automatic: bool
    ) -> bool: ...

    def delete_message_copy(self, owner_id: str, thread_id: str, message_id: str) -> bool: ...

    def append_message(self, new: NewMessage) -> None: ...

    def save_entry(self, change: EntryChange) -> None: ...


class Lookups(Protocol):
    """Several items of different kinds in one round trip, read consistently: a send's reads."""

    def lookup(self, wanted: Wanted) -> Found: ...


class IdempotencyKeys(Protocol):
    """Idempotency-Keys already used (claimed by ``Threads.append_message``)."""

    def get(self, owner_id: str, key: str) -> IdempotencyRecord | None: ...


class AttachmentRecords(Protocol):
    def create(self, attachment: Attachment) -> None: ...

    def get(self, attachment_id: str) -> Attachment | None: ...

    def record_verdict(
        self,
        attachment_id: str,
        status: AttachmentStatus,
        mime_type: str | None,
        refusal: str | None,
        content_version: str | None = None,
    ) -> Attachment | None: ...

    def delete_unused(self, attachment_id: str) -> None: ...


class AttachmentFileStore(Protocol):
    """The files behind attachments: uploads, their promotion to stored files, signed URLs.
    Every write makes a new, immutable version, named by the string these methods return."""

    def put_upload(self, attachment_id: str, content: bytes, mime_type: str, disposition: str) -> str: ...

    def read_upload(self, attachment_id: str, max_bytes: int) -> Upload | None: ...

    def promote(self, attachment_id: str, version: str, mime_type: str, disposition: str) -> str | None: ...

    def discard_copy(self, attachment_id: str, version: str) -> None: ...

    def discard_upload(self, attachment_id: str, version: str) -> None: ...

    def download_url(self, key: str, mime_type: str, disposition: str, version: str | None = None) -> str: ...

    def upload_form(self, attachment_id: str, size: int, content_type: str) -> UploadForm: ...


class InboundMailRecords(Protocol):
    """The outcome of every received e-mail, under its SES message id."""

    def record(self, mail_id: str, outcome: str, detail: str | None, message_id: str | None) -> None: ...
