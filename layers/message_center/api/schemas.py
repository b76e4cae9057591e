"""Wire models of the /messaging API: camelCase JSON, the marketplace's field names and enums.

Inputs forbid unknown fields only where a typo would silently change meaning, and take each value
only in its documented JSON type (no number as a string, no ``true`` for a number); outputs may
grow new fields (clients tolerate extra fields) but never change the meaning of existing ones.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    StrictBool,
    StrictInt,
    StringConstraints,
    model_validator,
)
from pydantic.alias_generators import to_camel

from ..domain.devices import Device, Platform
from ..domain.ids import to_wire_datetime
from ..domain.models import InboxEntry, Language, Marketplace, Message, MessageStatus, MessageType, User

WireDateTime = Annotated[datetime, PlainSerializer(to_wire_datetime, return_type=str)]
# Ids are opaque to clients; bound their size and alphabet so junk never reaches the table.
ResourceId = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64, pattern=r"^[\w.\-]+$")
]
Login = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
# Trimmed and limited to 2000 characters by the domain; this only keeps absurd payloads out.
RawText = Annotated[str, Field(max_length=20_000)]


class WireModel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, frozen=True)


class InputModel(WireModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, frozen=True, extra="forbid")


# -- query parameters ---------------------------------------------------------------------
# Query values are text, which pydantic reads generously ("20.0", "2_0" or " 20" as 20, "yes" as
# true, "0" as a Unix time); each is taken here in its one documented form only.

_INTEGER = re.compile(r"-?[0-9]+")
_DATE_TIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,9})?(?:Z|[+-][0-9]{2}:[0-9]{2})",
    re.IGNORECASE,
)
# Ids (ULIDs) count milliseconds from 1970, and Python's dates end with 9999: a bound outside
# that cannot be compared with anything stored.
EARLIEST_DATE_TIME = datetime(1970, 1, 1, tzinfo=UTC)
LATEST_DATE_TIME = datetime(9999, 12, 31, 23, 59, 59, 999_000, tzinfo=UTC)


def _integer_text(value: object) -> object:
    if not isinstance(value, str) or not _INTEGER.fullmatch(value):
        raise ValueError("expected an integer in decimal digits")
    return value


def _boolean_text(value: object) -> bool:
    if value not in ("true", "false"):
        raise ValueError("expected true or false")
    return value == "true"


def _date_time_text(value: object) -> object:
    if not isinstance(value, str) or not _DATE_TIME.fullmatch(value):
        raise ValueError("expected an RFC 3339 date-time with a time zone, e.g. 2026-11-26T14:00:00Z")
    return value


def _within_id_range(value: datetime) -> datetime:
    try:
        utc = value.astimezone(UTC)
    except OverflowError:  # e.g. 0001-01-01T00:00:00+14:00 is before year 1 in UTC
        utc = None
    if utc is None or not EARLIEST_DATE_TIME <= utc <= LATEST_DATE_TIME:
        raise ValueError("expected a date-time between 1970-01-01T00:00:00Z and 9999-12-31T23:59:59.999Z")
    return utc


# Bounds before the validator: placed after it, pydantic would document them as ``ge``/``le``,
# which OpenAPI does not know.
PageSize = Annotated[int, Field(ge=1, le=20), BeforeValidator(_integer_text)]
PageOffset = Annotated[int, Field(ge=0, le=5000), BeforeValidator(_integer_text)]
QueryBoolean = Annotated[bool, BeforeValidator(_boolean_text)]
QueryDateTime = Annotated[AwareDatetime, BeforeValidator(_date_time_text), AfterValidator(_within_id_range)]


# -- shared -------------------------------------------------------------------------------


class IdRef(InputModel):
    id: ResourceId


class IdOut(WireModel):
    id: str


class LoginRef(InputModel):
    login: Login


# -- threads ------------------------------------------------------------------------------


class Interlocutor(WireModel):
    login: str
    avatar_url: str


class ThreadOut(WireModel):
    id: str
    read: bool
    last_message_date_time: WireDateTime | None = None
    interlocutor: Interlocutor | None = None
    unread_count: int = Field(description="Extension: messages from the interlocutor not read yet.")
    interlocutor_last_read_at: WireDateTime | None = Field(
        default=None,
        description="Extension (GET /messaging/threads/{threadId}; null in lists and events): when the "
        "interlocutor last read the thread; null while either side has read receipts off.",
    )

    @classmethod
    def from_entry(
        cls, entry: InboxEntry, default_avatar_url: str, *, interlocutor_last_read_at: datetime | None = None
    ) -> ThreadOut:
        return cls(
            interlocutor_last_read_at=interlocutor_last_read_at,
            id=entry.thread_id,
            read=entry.read,
            last_message_date_time=entry.last_message_at,
            interlocutor=Interlocutor(
                login=entry.interlocutor_login, avatar_url=entry.interlocutor_avatar_url or default_avatar_url
            ),
            unread_count=entry.unread_count,
        )


class ThreadsList(WireModel):
    threads: list[ThreadOut]
    offset: int
    limit: int


class ThreadReadFlag(InputModel):
    read: StrictBool


# -- messages -----------------------------------------------------------------------------


class Author(WireModel):
    login: str
    is_interlocutor: bool


class RelatesToOut(WireModel):
    offer: IdOut | None = None
    order: IdOut | None = None


class AttachmentInfo(WireModel):
    file_name: str
    mime_type: str | None = None
    url: str | None = None
    status: str


class TranslationOut(WireModel):
    text: str
    source_language: str
    target_language: str
    provider: str
    machine_translated: bool


class MessageOut(WireModel):
    id: str
    status: MessageStatus
    type: MessageType
    created_at: WireDateTime
    thread: IdOut
    author: Author
    text: str
    subject: str | None = None
    relates_to: RelatesToOut
    has_additional_attachments: bool = False
    attachments: list[AttachmentInfo] = Field(default_factory=list)
    language: str = Field(description="Extension: the detected language (ISO 639-1) or und.")
    translation: TranslationOut | None = Field(
        default=None,
        description="Extension: the automatic translation into the reader's preferred language; `text` stays original.",
    )

    @classmethod
    def from_message(cls, message: Message, attachments_url: str) -> MessageOut:
        """``attachments_url``: the public URL of the attachment resources, ending with ``/``."""
        relates = message.relates_to
        return cls(
            id=message.id,
            status=message.status,
            type=message.type,
            created_at=message.created_at,
            thread=IdOut(id=message.thread_id),
            author=Author(login=message.author_login, is_interlocutor=not message.is_own),
            text=message.text,
            subject=message.subject,
            relates_to=RelatesToOut(
                offer=IdOut(id=relates.offer_id) if relates.offer_id else None,
                order=IdOut(id=relates.order_id) if relates.order_id else None,
            ),
            language=message.language,
            translation=_auto_translation(message),
            attachments=[
                AttachmentInfo(
                    file_name=a.file_name,
                    mime_type=a.mime_type,
                    url=f"{attachments_url}{a.id}",
                    status=a.status.value,
                )
                for a in message.attachments
            ],
        )


def _auto_translation(message: Message) -> TranslationOut | None:
    translation = message.translation(message.auto_translation) if message.auto_translation else None
    if translation is None:
        return None
    return TranslationOut(
        text=translation.text,
        source_language=translation.source_language,
        target_language=translation.language,
        provider=translation.provider,
        machine_translated=True,
    )


class MessagesList(WireModel):
    messages: list[MessageOut]
    offset: int
    limit: int


class NewMessageInThread(InputModel):
    text: RawText
    attachments: list[IdRef] = Field(default_factory=list, max_length=10)


class NewMessage(InputModel):
    """Start (or continue) a conversation: a buyer names ``offer`` or ``order``; a seller names
    ``recipient`` and ``order``; ``recipient`` alone continues an existing conversation."""

    recipient: LoginRef | None = None
    offer: IdRef | None = None
    order: IdRef | None = None
    text: RawText
    attachments: list[IdRef] = Field(default_factory=list, max_length=10)


# -- attachments --------------------------------------------------------------------------


class NewAttachmentDeclaration(InputModel):
    filename: Annotated[str, StringConstraints(min_length=1, max_length=1000)]
    size: Annotated[StrictInt, Field(ge=0, le=1 << 40)]


class UploadFormOut(WireModel):
    url: str
    fields: dict[str, str]


class AttachmentDeclared(WireModel):
    id: str
    expires_at: WireDateTime = Field(description="Extension: use the attachment in a message before then.")
    upload: UploadFormOut = Field(
        description=(
            "Extension: a presigned S3 POST for files larger than an API request allows: send `fields` "
            "and then `file` as multipart/form-data to `url`."
        )
    )


# -- devices ------------------------------------------------------------------------------


class NewDevice(InputModel):
    platform: Platform
    token: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4096)]


class DeviceOut(WireModel):
    id: str
    platform: Platform
    created_at: WireDateTime

    @classmethod
    def from_device(cls, device: Device) -> DeviceOut:
        return cls(id=device.id, platform=device.platform, created_at=device.created_at)


class DevicesList(WireModel):
    devices: list[DeviceOut]


# -- profile ------------------------------------------------------------------------------


class ProfileOut(WireModel):
    id: str
    login: str
    preferred_language: Language
    marketplace: Marketplace
    business_account: bool
    unread_threads: int = Field(description="Unread badge: how many of your threads are unread.")
    read_receipts: bool = Field(
        default=True,
        description="Extension: whether you send read receipts (and see your interlocutors'); default true.",
    )

    @classmethod
    def from_user(cls, user: User) -> ProfileOut:
        return cls(
            id=user.id,
            login=user.login,
            preferred_language=user.preferred_language,
            marketplace=user.marketplace,
            business_account=user.business_account,
            unread_threads=user.unread_threads,
            read_receipts=user.read_receipts,
        )


class ProfileUpdate(InputModel):
    """Name at least one preference; the others stay as they are."""

    preferred_language: Language | None = None
    read_receipts: StrictBool | None = Field(
        default=None, description="Extension: send read receipts (and see others'); off hides both."
    )

    @model_validator(mode="after")
    def _names_something(self) -> ProfileUpdate:
        if self.preferred_language is None and self.read_receipts is None:
            raise ValueError("name preferredLanguage or readReceipts")
        return self


class Badge(WireModel):
    unread_threads: int


# -- errors -------------------------------------------------------------------------------


class FieldProblem(BaseModel):
    location: str
    message: str


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    code: str
    errors: list[FieldProblem] | None = Field(
        default=None, description="The first problems with single fields (at most 10); `detail` counts the rest."
    )
    trace_id: str | None = Field(
        default=None,
        serialization_alias="traceId",
        description="On an unexpected error (500): quote it when reporting the problem.",
    )


class GatewayError(BaseModel):
    """What API Gateway itself answers before the API runs (an invalid token: 401 ``Unauthorized``)."""

    message: str
