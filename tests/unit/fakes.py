"""In-memory stand-ins for the storage and file protocols of ``message_center.services.ports``.

Each fake keeps the contract of the real implementation it replaces (``data/*_repository.py``,
``adapters/attachment_files.py``) and nothing more: the same conditions refuse the same writes
with the same domain errors, a send is stored all or nothing, reads return what the real queries
return, in the same order. The fakes share one ``FakeTable`` as the real repositories share one
DynamoDB table, because a send also claims its Idempotency-Key, moves badge counters on the user
profiles and binds attachments, in the same transaction.

``FakeThreads.before_next_write`` is the one test seam: it runs a callable right before a write
is checked, as another request that got in between the service's reads and its write would.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING
from urllib.parse import quote

from message_center.adapters.attachment_files import Upload, UploadForm, stored_key, upload_key
from message_center.domain.attachments import Attachment, AttachmentStatus
from message_center.domain.errors import ConcurrencyError, IdempotencyKeyTaken, ThreadGone
from message_center.domain.ids import highest_id_at, lowest_id_at, to_wire_datetime, utc_now
from message_center.domain.inbox import EntryChange
from message_center.domain.lookups import Found, Wanted
from message_center.domain.models import InboxEntry, Language, Message, MessageTranslation, Offer, Order, User
from message_center.domain.rules import pair_key
from message_center.domain.sending import IdempotencyClaim, IdempotencyRecord, InboxFilter, NewMessage
from message_center.services.attachments import AttachmentService
from message_center.services.messaging import MessagingService
from message_center.services.ports import (
    AttachmentFileStore,
    AttachmentRecords,
    Directory,
    IdempotencyKeys,
    InboundMailRecords,
    Lookups,
    Threads,
)

Clock = Callable[[], datetime]


@dataclass
class _Claim:
    record: IdempotencyRecord
    expires_at: datetime


@dataclass
class FakeTable:
    """The single table's items that more than one fake reads or writes."""

    users: dict[str, User] = field(default_factory=dict)
    # The badge counter is kept apart from the profile, as the real item keeps it in its own attribute.
    unread_threads: dict[str, int] = field(default_factory=dict)
    claims: dict[tuple[str, str], _Claim] = field(default_factory=dict)
    attachments: dict[str, Attachment] = field(default_factory=dict)


class FakeDirectory:
    """Users, offers and orders; logins are unique regardless of case, e-mails compared case-insensitively."""

    def __init__(self, table: FakeTable | None = None) -> None:
        self.table = table or FakeTable()
        self._logins: dict[str, str] = {}
        self._emails: dict[str, str] = {}
        self._aliases: dict[str, str] = {}
        self._offers: dict[str, Offer] = {}
        self._orders: dict[str, Order] = {}

    # -- loading (what DirectoryRepository.upsert_* and ensure_mail_alias do) --------------

    def add_user(self, user: User) -> User:
        previous = self.table.users.get(user.id)
        if previous is not None and previous.email.strip().casefold() != user.email.strip().casefold():
            self._emails.pop(previous.email.strip().casefold(), None)
        self.table.users[user.id] = replace(user, unread_threads=0)
        self.table.unread_threads.setdefault(user.id, 0)
        self._logins[user.login.casefold()] = user.id
        self._emails[user.email.strip().casefold()] = user.id
        if user.mail_alias:
            self._aliases[user.mail_alias] = user.id
        return self.get_user(user.id) or user

    def add_offer(self, offer: Offer) -> Offer:
        self._offers[offer.id] = offer
        return offer

    def add_order(self, order: Order) -> Order:
        self._orders[order.id] = order
        return order

    # -- the Directory protocol ------------------------------------------------------------

    def get_user(self, user_id: str) -> User | None:
        user = self.table.users.get(user_id)
        if user is None:
            return None
        return replace(user, unread_threads=max(self.table.unread_threads.get(user_id, 0), 0))

    def get_user_id_by_login(self, login: str) -> str | None:
        return self._logins.get(login.casefold())

    def get_user_by_login(self, login: str) -> User | None:
        user_id = self.get_user_id_by_login(login)
        return self.get_user(user_id) if user_id else None

    def get_offer(self, offer_id: str) -> Offer | None:
        return self._offers.get(offer_id)

    def get_order(self, order_id: str) -> Order | None:
        return self._orders.get(order_id)

    def get_user_by_email(self, address: str) -> User | None:
        user_id = self._emails.get(address.strip().casefold())
        return self.get_user(user_id) if user_id else None

    def get_user_by_alias(self, alias: str) -> User | None:
        user_id = self._aliases.get(alias)
        return self.get_user(user_id) if user_id else None

    def set_preferred_language(self, user_id: str, language: Language) -> User | None:
        user = self.table.users.get(user_id)
        if user is None:
            return None
        self.table.users[user_id] = replace(user, preferred_language=language)
        return self.get_user(user_id)

    def set_read_receipts(self, user_id: str, enabled: bool) -> User | None:
        user = self.table.users.get(user_id)
        if user is None:
            return None
        self.table.users[user_id] = replace(user, read_receipts=enabled)
        return self.get_user(user_id)


class FakeIdempotencyKeys:
    """Claimed keys; a claim past its time reads as gone (its record stays until a send takes it over)."""

    def __init__(self, table: FakeTable, clock: Clock = utc_now) -> None:
        self.table = table
        self._clock = clock

    def get(self, owner_id: str, key: str) -> IdempotencyRecord | None:
        claim = self.table.claims.get((owner_id, key))
        if claim is None or claim.expires_at < self._clock():
            return None
        return claim.record


class FakeAttachmentRecords:
    def __init__(self, table: FakeTable) -> None:
        self.table = table

    def create(self, attachment: Attachment) -> None:
        if attachment.id in self.table.attachments:
            raise ValueError(f"attachment {attachment.id} exists")  # the real put is conditional too
        self.table.attachments[attachment.id] = attachment

    def get(self, attachment_id: str) -> Attachment | None:
        return self.table.attachments.get(attachment_id)

    def record_verdict(
        self,
        attachment_id: str,
        status: AttachmentStatus,
        mime_type: str | None,
        refusal: str | None,
        content_version: str | None = None,
    ) -> Attachment | None:
        current = self.table.attachments.get(attachment_id)
        if current is None or current.status is not AttachmentStatus.NEW:
            return None  # another request decided first (or there is nothing to decide)
        decided = replace(current, status=status, mime_type=mime_type, refusal=refusal, content_version=content_version)
        self.table.attachments[attachment_id] = decided
        return decided

    def delete_unused(self, attachment_id: str) -> None:
        current = self.table.attachments.get(attachment_id)
        if current is not None and not current.used:  # the real delete is conditional too
            del self.table.attachments[attachment_id]


@dataclass(frozen=True)
class StoredObject:
    content: bytes
    content_type: str
    content_disposition: str


class FakeAttachmentFiles:
    """The (versioned) attachments bucket: every write adds an immutable version of its key, the
    last one being current; presigned URLs name the key, version and response headers."""

    BUCKET_URL = "https://attachments.fake.test"

    def __init__(self) -> None:
        self.versions: dict[str, dict[str, StoredObject]] = {}  # key -> version id -> object, oldest first
        self._forms: dict[str, int] = {}  # key -> the exact size its presigned POST allows
        self._written = 0

    @property
    def objects(self) -> dict[str, StoredObject]:
        """The current version of every key."""
        return {key: list(versions.values())[-1] for key, versions in self.versions.items() if versions}

    def _write(self, key: str, stored: StoredObject) -> str:
        self._written += 1
        version = f"v{self._written}"
        self.versions.setdefault(key, {})[version] = stored
        return version

    def _current_version(self, key: str) -> str | None:
        versions = self.versions.get(key)
        return list(versions)[-1] if versions else None

    def put_upload(self, attachment_id: str, content: bytes, mime_type: str, disposition: str) -> str:
        return self._write(upload_key(attachment_id), StoredObject(content, mime_type, disposition))

    def read_upload(self, attachment_id: str, max_bytes: int) -> Upload | None:
        key = upload_key(attachment_id)
        version = self._current_version(key)
        if version is None:
            return None
        return Upload(content=self.versions[key][version].content[: max_bytes + 1], version=version)

    def promote(self, attachment_id: str, version: str, mime_type: str, disposition: str) -> str | None:
        upload = self.versions.get(upload_key(attachment_id), {}).get(version)
        if upload is None:
            return None
        return self._write(stored_key(attachment_id), StoredObject(upload.content, mime_type, disposition))

    def discard_copy(self, attachment_id: str, version: str) -> None:
        self._delete(stored_key(attachment_id), version)

    def discard_upload(self, attachment_id: str, version: str) -> None:
        self._delete(upload_key(attachment_id), version)

    def _delete(self, key: str, version: str) -> None:
        versions = self.versions.get(key, {})
        versions.pop(version, None)
        if not versions:
            self.versions.pop(key, None)

    def download_url(self, key: str, mime_type: str, disposition: str, version: str | None = None) -> str:
        version = version or self._current_version(key)
        return (
            f"{self.BUCKET_URL}/{key}?versionId={version}&response-content-type={quote(mime_type, safe='')}"
            f"&response-content-disposition={quote(disposition, safe='')}&X-Amz-Expires=300"
        )

    def fetch(self, url: str) -> bytes:
        """What a client downloads with a URL from ``download_url``."""
        path, _, query = url.removeprefix(self.BUCKET_URL + "/").partition("?")
        version = dict(part.split("=", 1) for part in query.split("&"))["versionId"]
        return self.versions[path][version].content

    def upload_form(self, attachment_id: str, size: int, content_type: str) -> UploadForm:
        key = upload_key(attachment_id)
        self._forms[key] = size
        return UploadForm(url=self.BUCKET_URL, fields={"key": key, "Content-Type": content_type})

    # -- what a client does with a form (S3 enforces the form's policy) -------------------

    def post(self, form: UploadForm, content: bytes) -> None:
        """A client's multipart POST: S3 refuses a size outside the signed content-length-range."""
        key = form.fields["key"]
        if len(content) != self._forms.get(key):
            raise ValueError("S3 refuses the POST: the size is outside the signed content-length-range")
        self._write(key, StoredObject(content, form.fields["Content-Type"], ""))


class FakeInboundMailRecords:
    """Outcome per mail id; a later record replaces an earlier one (the real put does too)."""

    def __init__(self) -> None:
        self.records: dict[str, tuple[str, str | None, str | None]] = {}

    def record(self, mail_id: str, outcome: str, detail: str | None, message_id: str | None) -> None:
        self.records[mail_id] = (outcome, detail, message_id)

    def outcome(self, mail_id: str) -> tuple[str, str | None] | None:
        found = self.records.get(mail_id)
        return (found[0], found[1]) if found else None


class FakeThreads:
    """Threads, inbox entries and per-owner message copies, with the real transaction's conditions."""

    def __init__(self, table: FakeTable) -> None:
        self.table = table
        self.pairs: dict[str, str] = {}
        self.threads: dict[str, tuple[str, ...]] = {}  # thread id -> participants
        self.entries: dict[tuple[str, str], InboxEntry] = {}
        self.copies: dict[tuple[str, str], dict[str, Message]] = {}
        self.refs: dict[str, tuple[str, tuple[str, ...]]] = {}  # message id -> thread id, participants
        self.writes = 0  # attempted append_message / save_entry calls (committed or not)
        self._interleaved: list[Callable[[], None]] = []
        self._interleaving = False

    def before_next_write(self, *actions: Callable[[], None]) -> None:
        """Run each action right before one of the next writes is checked (one per write)."""
        self._interleaved.extend(actions)

    # -- reads -----------------------------------------------------------------------------

    def find_thread_of_pair(self, user_a: str, user_b: str) -> str | None:
        return self.pairs.get(pair_key(user_a, user_b))

    def get_entry(self, owner_id: str, thread_id: str) -> InboxEntry | None:
        return self.entries.get((owner_id, thread_id))

    def get_entries(self, thread_id: str, owner_ids: Iterable[str]) -> dict[str, InboxEntry]:
        found = (self.entries.get((owner, thread_id)) for owner in owner_ids)
        return {entry.owner_id: entry for entry in found if entry is not None}

    def list_inbox(
        self, owner_id: str, inbox_filter: InboxFilter, *, before: datetime | None, offset: int, limit: int
    ) -> list[InboxEntry]:
        """Newest activity first; the sparse index of the filter holds only the matching entries."""
        in_index: Callable[[InboxEntry], bool] = {
            InboxFilter.ALL: lambda e: True,
            InboxFilter.UNREAD: lambda e: not e.read,
            InboxFilter.AWAITING_REPLY: lambda e: e.awaiting_reply,
            InboxFilter.UNREAD_AWAITING_REPLY: lambda e: not e.read and e.awaiting_reply,
        }[inbox_filter]
        bound = to_wire_datetime(before) if before is not None else None
        found = [
            entry
            for (owner, _), entry in self.entries.items()
            if owner == owner_id and in_index(entry) and (bound is None or _activity(entry) < bound)
        ]
        found.sort(key=_activity, reverse=True)
        return found[offset : offset + limit]

    def list_messages(
        self,
        owner_id: str,
        thread_id: str,
        *,
        before: datetime | None,
        after: datetime | None,
        offset: int,
        limit: int,
    ) -> list[Message]:
        """The owner's copies, newest first, between the ids of the bounds' milliseconds."""
        lower = highest_id_at(after) if after is not None else ""
        upper = lowest_id_at(before) if before is not None else "~"
        copies = self.copies.get((owner_id, thread_id), {})
        found = sorted((m for i, m in copies.items() if lower <= i <= upper), key=lambda m: m.id, reverse=True)
        return found[offset : offset + limit]

    def find_message_thread(self, message_id: str) -> tuple[str, list[str]] | None:
        ref = self.refs.get(message_id)
        return (ref[0], list(ref[1])) if ref else None

    def get_message(self, owner_id: str, thread_id: str, message_id: str) -> Message | None:
        return self.copies.get((owner_id, thread_id), {}).get(message_id)

    # -- writes to one copy ----------------------------------------------------------------

    def save_translation(
        self, owner_id: str, thread_id: str, message_id: str, translation: MessageTranslation, *, automatic: bool
    ) -> bool:
        copy = self.get_message(owner_id, thread_id, message_id)
        if copy is None:
            return False
        by_language = {t.language: t for t in copy.translations} | {translation.language: translation}
        self.copies[(owner_id, thread_id)][message_id] = replace(
            copy,
            translations=tuple(by_language[language] for language in sorted(by_language)),
            auto_translation=translation.language if automatic else copy.auto_translation,
        )
        return True

    def delete_message_copy(self, owner_id: str, thread_id: str, message_id: str) -> bool:
        return self.copies.get((owner_id, thread_id), {}).pop(message_id, None) is not None

    # -- transactions ----------------------------------------------------------------------

    def append_message(self, new: NewMessage) -> None:
        """All or nothing: every condition is checked before anything is written."""
        self._interleave()
        message = new.message
        author_id, recipient_id = message.author_id, new.recipient_id
        participants = tuple(sorted((author_id, recipient_id)))
        held = self.table.claims.get(_claim_key(new.idempotency)) if new.idempotency is not None else None
        if held is not None and held.expires_at >= message.created_at:  # an expired claim is taken over
            raise IdempotencyKeyTaken("Another request with this Idempotency-Key committed first.")
        if not new.new_thread and message.thread_id not in self.threads:
            raise ThreadGone("Thread not found.")  # the thread update's condition refuses it first
        if len({a.id for a in message.attachments}) != len(message.attachments):
            raise ValueError("one transaction cannot update the same attachment twice")
        thread_ok = (
            pair_key(author_id, recipient_id) not in self.pairs and message.thread_id not in self.threads
            if new.new_thread
            else message.thread_id in self.threads
        )
        copies_free = message.id not in self.refs and all(
            message.id not in self.copies.get((owner, message.thread_id), {}) for owner in participants
        )
        if not (
            thread_ok
            and copies_free
            and all(self._entry_writable(change) for change in (new.author_entry, new.recipient_entry))
            and all(self._usable(a.id, author_id, message.created_at) for a in message.attachments)
        ):
            raise ConcurrencyError("The thread changed while the message was being stored.")

        if new.idempotency is not None:
            claim = new.idempotency
            self.table.claims[_claim_key(claim)] = _Claim(
                IdempotencyRecord(message.id, message.thread_id, claim.request_hash), claim.expires_at
            )
        if new.new_thread:
            self.pairs[pair_key(author_id, recipient_id)] = message.thread_id
            self.threads[message.thread_id] = participants
        for change in (new.author_entry, new.recipient_entry):
            self._write_entry(change)
        for owner in (author_id, recipient_id):
            self.copies.setdefault((owner, message.thread_id), {})[message.id] = replace(
                message, owner_id=owner, translations=(), auto_translation=None
            )
        self.refs[message.id] = (message.thread_id, participants)
        for attachment in message.attachments:
            used = self.table.attachments[attachment.id]
            self.table.attachments[attachment.id] = replace(
                used, message_id=message.id, participants=participants, expires_at=None
            )

    def save_entry(self, change: EntryChange) -> None:
        self._interleave()
        if not self._entry_writable(change):
            raise ConcurrencyError("The thread changed while the message was being stored.")
        self._write_entry(change)

    def _interleave(self) -> None:
        self.writes += 1
        if self._interleaved and not self._interleaving:
            # The interleaved request's own writes run as they are: no nesting of interleavings.
            self._interleaving = True
            try:
                self._interleaved.pop(0)()
            finally:
                self._interleaving = False

    def _entry_writable(self, change: EntryChange) -> bool:
        stored = self.entries.get((change.after.owner_id, change.after.thread_id))
        version_ok = (
            stored is None if change.before is None else stored is not None and stored.version == change.before.version
        )
        # The badge update is conditional on the owner's profile existing.
        return version_ok and (not change.badge_delta or change.after.owner_id in self.table.users)

    def _write_entry(self, change: EntryChange) -> None:
        self.entries[(change.after.owner_id, change.after.thread_id)] = change.after
        if change.badge_delta:
            owner = change.after.owner_id
            self.table.unread_threads[owner] = self.table.unread_threads.get(owner, 0) + change.badge_delta

    def _usable(self, attachment_id: str, author_id: str, now: datetime) -> bool:
        """The real condition: the author's own, SAFE, unused and not expired."""
        attachment = self.table.attachments.get(attachment_id)
        return (
            attachment is not None
            and attachment.owner_id == author_id
            and attachment.status is AttachmentStatus.SAFE
            and attachment.message_id is None
            and attachment.expires_at is not None
            and attachment.expires_at > now
        )


def _claim_key(claim: IdempotencyClaim) -> tuple[str, str]:
    return claim.owner_id, claim.key


def _activity(entry: InboxEntry) -> str:
    """The inbox indexes' sort key: last activity, then the thread id."""
    return f"{to_wire_datetime(entry.last_message_at)}#{entry.thread_id}"


class FakeLookups:
    """One round of reads over the other fakes, as LookupRepository's one BatchGetItem; counts
    the rounds (``rounds``) and the keys asked for (``keys``)."""

    def __init__(self, directory: FakeDirectory, threads: FakeThreads, keys: FakeIdempotencyKeys) -> None:
        self._directory = directory
        self._threads = threads
        self._keys = keys
        self.rounds = 0
        self.keys = 0

    def lookup(self, wanted: Wanted) -> Found:
        if wanted.size == 0:
            return Found()
        self.rounds += 1
        self.keys += wanted.size
        users = {user_id: user for user_id in wanted.users if (user := self._directory.get_user(user_id))}
        logins = {
            login.casefold(): user_id
            for login in wanted.logins
            if (user_id := self._directory.get_user_id_by_login(login)) is not None
        }
        offers = {offer_id: offer for offer_id in wanted.offers if (offer := self._directory.get_offer(offer_id))}
        orders = {order_id: order for order_id in wanted.orders if (order := self._directory.get_order(order_id))}
        pairs = {
            pair_key(a, b): thread_id
            for a, b in wanted.pairs
            if (thread_id := self._threads.find_thread_of_pair(a, b)) is not None
        }
        entries = {key: entry for key in wanted.entries if (entry := self._threads.get_entry(*key)) is not None}
        claims = {key: record for key in wanted.claims if (record := self._keys.get(*key)) is not None}
        return Found(users, logins, offers, orders, pairs, entries, claims)


class FakeClock:
    """Time that moves only when told, plus ``step`` at every reading (so ids sort by creation)."""

    def __init__(
        self, start: datetime = datetime(2026, 11, 26, 9, 0, tzinfo=UTC), step: timedelta = timedelta(milliseconds=1)
    ) -> None:
        self.now = start
        self._step = step

    def __call__(self) -> datetime:
        now = self.now
        self.now += self._step
        return now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


ATTACHMENT_MAX_BYTES = 1024 * 1024
ATTACHMENT_TTL = timedelta(hours=24)
IDEMPOTENCY_TTL = timedelta(hours=24)


@dataclass
class FakeWorld:
    """Every fake over one table and one clock, and the services wired on them as composition.py
    wires the real ones."""

    clock: FakeClock = field(default_factory=FakeClock)
    table: FakeTable = field(default_factory=FakeTable)
    files: FakeAttachmentFiles = field(default_factory=FakeAttachmentFiles)
    inbound_records: FakeInboundMailRecords = field(default_factory=FakeInboundMailRecords)

    def __post_init__(self) -> None:
        self.directory = FakeDirectory(self.table)
        self.threads = FakeThreads(self.table)
        self.keys = FakeIdempotencyKeys(self.table, self.clock)
        self.lookups = FakeLookups(self.directory, self.threads, self.keys)
        self.attachment_records = FakeAttachmentRecords(self.table)
        self.attachments = AttachmentService(
            self.attachment_records, self.files, max_bytes=ATTACHMENT_MAX_BYTES, ttl=ATTACHMENT_TTL, clock=self.clock
        )
        self.messaging = MessagingService(
            self.threads,
            self.directory,
            self.attachments,
            self.keys,
            lookups=self.lookups,
            idempotency_ttl=IDEMPOTENCY_TTL,
            clock=self.clock,
        )


if TYPE_CHECKING:  # mypy checks that every fake satisfies its protocol
    _table = FakeTable()
    _directory: Directory = FakeDirectory(_table)
    _threads: Threads = FakeThreads(_table)
    _keys: IdempotencyKeys = FakeIdempotencyKeys(_table)
    _lookups: Lookups = FakeLookups(FakeDirectory(_table), FakeThreads(_table), FakeIdempotencyKeys(_table))
    _attachment_records: AttachmentRecords = FakeAttachmentRecords(_table)
    _files: AttachmentFileStore = FakeAttachmentFiles()
    _inbound_records: InboundMailRecords = FakeInboundMailRecords()
