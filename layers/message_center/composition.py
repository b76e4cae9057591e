"""Wiring: builds each function's services from its validated settings, and nothing else.

``AwsClients`` makes every client once per container, and only when first used: services get
``LazyClient`` stand-ins, so a request that reads the table builds no S3 or SNS client (boto3
itself is imported by the first client; the table goes through pynamodb's botocore). Each
``*_services`` function gives one Lambda function exactly the services it uses. ``Container`` is
the one per-function cache: built at the first invocation from the environment, or installed
explicitly by tests and the local runtime.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from .adapters.attachment_files import AttachmentFiles
from .data.attachment_repository import AttachmentRepository
from .data.directory_repository import DirectoryRepository
from .data.idempotency_repository import IdempotencyRepository
from .data.items import bind_table
from .data.lookup_repository import LookupRepository
from .data.thread_repository import ThreadRepository
from .domain.devices import Platform
from .services.attachments import AttachmentService
from .services.messaging import MessagingService
from .settings import (
    ApiSettings,
    AttachmentSettings,
    DirectorySettings,
    FunctionSettings,
    InboundMailSettings,
    PushSettings,
    RealtimeChannelSettings,
    RealtimeEventsSettings,
    RealtimeSettings,
    StreamSettings,
    TranslationSettings,
    load_settings,
)

if TYPE_CHECKING:
    from botocore.config import Config
    from pynamodb.connection import Connection

    from .adapters.cognito import Invitations
    from .adapters.raw_mail import RawMailStore
    from .adapters.translation import TranslationRouter
    from .adapters.translation.budget import TranslationDeadline
    from .services.devices import DeviceService
    from .services.directory import DirectoryService
    from .services.inbound_mail import InboundMailService
    from .services.notifications import NotificationService
    from .services.profile import ProfileService
    from .services.realtime import ConnectionService, EventFeedService, LiveEventService, Sockets
    from .services.translation import TranslationService

SettingsT = TypeVar("SettingsT", bound=FunctionSettings)
WiredT = TypeVar("WiredT")

# Locally (an emulator endpoint is set) the clients sign with dummy credentials instead of
# looking for real ones, so nothing has to be put into the process environment.
_EMULATOR_CREDENTIALS = {
    "aws_access_key_id": "testing",
    "aws_secret_access_key": "testing",
    "aws_session_token": "testing",
}


class LazyClient:
    """Stands for an AWS client that is built on its first use (an attribute read)."""

    def __init__(self, build: Callable[[], Any]) -> None:
        self._build = build
        self._client: Any = None

    def __getattr__(self, name: str) -> Any:
        if self._client is None:
            self._client = self._build()
        return getattr(self._client, name)


def _lazy(build: Callable[[], Any]) -> Any:
    """A client for an adapter, built when the adapter first uses it."""
    return LazyClient(build)


class AwsClients:
    """The container's AWS clients and table connection, each built once on first use."""

    def __init__(self, settings: FunctionSettings) -> None:
        self._region = settings.region
        self._endpoint_url = settings.aws_endpoint_url
        self._table_name = settings.table_name

    def client(self, service: str, config: Config | None = None) -> Any:
        import boto3  # here: a request that uses no boto3 client (the table is pynamodb's) never pays for it

        credentials = _EMULATOR_CREDENTIALS if self._endpoint_url else {}
        return boto3.client(  # type: ignore[call-overload]
            service, region_name=self._region, endpoint_url=self._endpoint_url, config=config, **credentials
        )

    @cached_property
    def connection(self) -> Connection:
        """The one DynamoDB connection every item class shares."""
        return bind_table(self._table_name, self._region, self._endpoint_url, credentials=self._credentials())

    @cached_property
    def s3(self) -> Any:
        """S3 with SigV4 presigning; path-style addressing for the local emulator, whose endpoint
        has no bucket subdomains."""
        from botocore.config import Config

        style: Any = "path" if self._endpoint_url else "virtual"
        return self.client("s3", Config(signature_version="s3v4", s3={"addressing_style": style}))

    @cached_property
    def sns(self) -> Any:
        return self.client("sns")

    @cached_property
    def ses(self) -> Any:
        return self.client("ses")

    @cached_property
    def dynamodb(self) -> Any:
        return self.client("dynamodb")

    @cached_property
    def secrets(self) -> Any:
        """Powertools' secrets provider (cached reads) over one Secrets Manager client."""
        from aws_lambda_powertools.utilities.parameters import SecretsProvider

        return SecretsProvider(boto3_client=self.client("secretsmanager"))

    def secret(self, secret_id: str, max_age: int) -> str:
        return str(self.secrets.get(secret_id, max_age=max_age))

    def amazon_translate(self, plan: Any = None) -> Any:
        """A Translate client; with ``plan`` (a ``budget.CallPlan``), with its timeouts and attempts."""
        from .adapters.translation.amazon import amazon_translate_client

        planned = {"plan": plan} if plan is not None else {}
        return amazon_translate_client(self._region, self._endpoint_url, credentials=self._credentials(), **planned)

    def _credentials(self) -> dict[str, str]:
        return dict(_EMULATOR_CREDENTIALS) if self._endpoint_url else {}


# -- what each function gets -----------------------------------------------------------------


@dataclass(frozen=True)
class ApiServices:
    settings: ApiSettings
    messaging: MessagingService
    attachments: AttachmentService
    profile: ProfileService
    translation: TranslationService
    devices: DeviceService
    events: EventFeedService


@dataclass(frozen=True)
class StreamServices:
    notifications: NotificationService
    # Started by the handler with each invocation's remaining time (see adapters/translation/budget.py).
    translation_deadline: TranslationDeadline | None = None


@dataclass(frozen=True)
class InboundMailServices:
    inbound: InboundMailService
    raw_mail: RawMailStore


def api_services(settings: ApiSettings, clients: AwsClients | None = None) -> ApiServices:
    from .adapters.push import SnsPush
    from .data.device_repository import DeviceRepository
    from .data.quota_repository import consume_translation_quota
    from .data.realtime_repository import EventFeedRepository
    from .services.devices import DeviceService
    from .services.profile import ProfileService
    from .services.realtime import EventFeedService
    from .services.translation import TranslationQuota, TranslationService

    clients = clients or AwsClients(settings)
    directory = DirectoryRepository(clients.connection)
    threads = ThreadRepository(clients.connection)
    attachments = _attachment_service(settings, clients)
    messaging = _messaging_service(settings, clients, attachments)
    return ApiServices(
        settings=settings,
        messaging=messaging,
        attachments=attachments,
        profile=ProfileService(directory),
        translation=TranslationService(
            threads,
            _translation_router(settings, clients),
            messaging=messaging,
            quota=TranslationQuota(
                consume_translation_quota(settings.translation_daily_characters),
                settings.translation_daily_characters,
            ),
        ),
        devices=DeviceService(
            DeviceRepository(clients.connection), SnsPush(_lazy(lambda: clients.sns)), push_applications(settings)
        ),
        events=EventFeedService(EventFeedRepository(_realtime_connection(settings, settings.realtime_table_name))),
    )


def stream_services(settings: StreamSettings, clients: AwsClients | None = None) -> StreamServices:
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

    from .adapters.mailer import SesMailer
    from .adapters.push import SnsPush
    from .data.device_repository import DeviceRepository
    from .services.notifications import MailSettings, NotificationService
    from .services.translation import TranslationService

    clients = clients or AwsClients(settings)
    applications = push_applications(settings)
    translation = TranslationService(ThreadRepository(clients.connection), _translation_router(settings, clients))
    return StreamServices(
        notifications=NotificationService(
            directory=DirectoryRepository(clients.connection),
            devices=DeviceRepository(clients.connection),
            mailer=SesMailer(_lazy(lambda: clients.ses)),
            push=SnsPush(_lazy(lambda: clients.sns)) if applications else None,
            # Cached for five minutes: a rotated key reaches warm functions soon after.
            signing_key=lambda: clients.secret(settings.mail_token_secret_id, max_age=300).encode(),
            mail=MailSettings(
                relay_domain=settings.relay_domain,
                public_web_url=settings.public_web_url,
                unsubscribe_url=settings.notification_settings_url,
            ),
            translate=translation.auto_translate,
            persistence=DynamoDBPersistenceLayer(
                table_name=settings.idempotency_table_name, boto3_client=_lazy(lambda: clients.dynamodb)
            ),
        ),
        translation_deadline=translation.deadline,
    )


def inbound_mail_services(settings: InboundMailSettings, clients: AwsClients | None = None) -> InboundMailServices:
    from .adapters.raw_mail import RawMailStore
    from .data.inbound_mail_repository import InboundMailRepository
    from .services.inbound_mail import InboundMailService

    clients = clients or AwsClients(settings)
    attachments = _attachment_service(settings, clients)
    return InboundMailServices(
        inbound=InboundMailService(
            directory=DirectoryRepository(clients.connection),
            messaging=_messaging_service(settings, clients, attachments),
            attachments=attachments,
            signing_key=lambda: clients.secret(settings.mail_token_secret_id, max_age=300).encode(),
            relay_domain=settings.relay_domain,
            records=InboundMailRepository(),
        ),
        raw_mail=RawMailStore(_lazy(lambda: clients.s3), settings.inbound_mail_bucket, settings.inbound_mail_prefix),
    )


def directory_service(
    settings: DirectorySettings, clients: AwsClients | None = None, *, invitations: Invitations | None = None
) -> DirectoryService:
    """The directory loader, against the configured table and user pool; ``invitations``: whether
    Cognito e-mails new users its invitation (default: no)."""
    from .adapters.cognito import CognitoIdentities, Invitations
    from .services.directory import DirectoryService

    clients = clients or AwsClients(settings)
    return DirectoryService(
        DirectoryRepository(clients.connection),
        CognitoIdentities(clients.client("cognito-idp"), settings.user_pool_id, invitations or Invitations.SUPPRESS),
    )


# -- real time (issue #12) -------------------------------------------------------------------


@dataclass(frozen=True)
class RealtimeServices:
    connections: ConnectionService


@dataclass(frozen=True)
class RealtimeEventsServices:
    live: LiveEventService


def _realtime_connection(settings: FunctionSettings, table_name: str) -> Connection:
    from .data.realtime_items import bind_realtime_table

    credentials = dict(_EMULATOR_CREDENTIALS) if settings.aws_endpoint_url else {}
    return bind_realtime_table(table_name, settings.region, settings.aws_endpoint_url, credentials=credentials)


def websocket_management_client(settings: RealtimeChannelSettings, region: str, emulated: bool) -> Any:
    """boto3 ``apigatewaymanagementapi`` at the stage's URL (locally the runtime's)."""
    import boto3  # only the real-time functions send to connections
    from botocore.config import Config

    credentials = _EMULATOR_CREDENTIALS if emulated else {}
    return boto3.client(  # type: ignore[call-overload]
        "apigatewaymanagementapi",
        region_name=region,
        endpoint_url=settings.websocket_management_url,
        config=Config(connect_timeout=2, read_timeout=5, retries={"max_attempts": 2, "mode": "standard"}),
        **credentials,
    )


def realtime_services(
    settings: RealtimeSettings, clients: AwsClients | None = None, *, sockets: Sockets | None = None
) -> RealtimeServices:
    """functions/realtime; ``sockets``: instead of the management API (tests)."""
    from .adapters.access_tokens import AccessTokenVerifier, InvalidToken, jwks_over_https
    from .adapters.websocket import ConnectionGone, WebSocketConnections
    from .data.realtime_repository import ConnectionRepository
    from .services.realtime import ConnectionService

    emulated = settings.aws_endpoint_url is not None
    return RealtimeServices(
        connections=ConnectionService(
            ConnectionRepository(_realtime_connection(settings, settings.realtime_table_name)),
            AccessTokenVerifier(settings.token_issuer, settings.audiences, jwks_over_https(settings.jwks_url)),
            sockets or WebSocketConnections(websocket_management_client(settings, settings.region, emulated)),
            gone=ConnectionGone,
            invalid_token=InvalidToken,
        )
    )


def realtime_events_services(
    settings: RealtimeEventsSettings, clients: AwsClients | None = None, *, sockets: Sockets | None = None
) -> RealtimeEventsServices:
    """functions/realtime_events; ``sockets``: instead of the management API (tests)."""
    from .adapters.translation.base import ProviderUnavailable
    from .adapters.websocket import ConnectionGone, WebSocketConnections
    from .api.events import WireEvents
    from .data.realtime_repository import ConnectionRepository, EventFeedRepository
    from .services.realtime import LiveEventService
    from .services.translation import TranslationService

    clients = clients or AwsClients(settings)
    realtime_connection = _realtime_connection(settings, settings.realtime_table_name)
    threads = ThreadRepository(clients.connection)
    emulated = settings.aws_endpoint_url is not None
    return RealtimeEventsServices(
        live=LiveEventService(
            threads=threads,
            directory=DirectoryRepository(clients.connection),
            feed=EventFeedRepository(realtime_connection),
            connections=ConnectionRepository(realtime_connection),
            sockets=sockets or WebSocketConnections(websocket_management_client(settings, settings.region, emulated)),
            presenter=WireEvents(
                f"{settings.public_web_url.rstrip('/')}/messaging/message-attachments/",
                str(settings.default_avatar_url),
            ),
            gone=ConnectionGone,
            translate=TranslationService(threads, _translation_router(settings, clients)).auto_translate,
            translation_unavailable=ProviderUnavailable,
        )
    )


def push_applications(settings: PushSettings) -> dict[Platform, str]:
    """The configured SNS platform applications (none: push is off)."""
    configured = {
        Platform.APNS: settings.push_apns_application_arn,
        Platform.FCM: settings.push_fcm_application_arn,
    }
    return {platform: arn for platform, arn in configured.items() if arn}


def _attachment_service(settings: AttachmentSettings, clients: AwsClients) -> AttachmentService:
    return AttachmentService(
        AttachmentRepository(),
        AttachmentFiles(_lazy(lambda: clients.s3), settings.attachments_bucket, settings.presigned_url_seconds),
        max_bytes=settings.attachment_max_bytes,
        ttl=timedelta(hours=settings.attachment_ttl_hours),
    )


def _messaging_service(
    settings: AttachmentSettings, clients: AwsClients, attachments: AttachmentService
) -> MessagingService:
    return MessagingService(
        ThreadRepository(clients.connection),
        DirectoryRepository(clients.connection),
        attachments,
        IdempotencyRepository(),
        lookups=LookupRepository(clients.connection),
        idempotency_ttl=timedelta(hours=settings.idempotency_ttl_hours),
    )


def _translation_router(settings: TranslationSettings, clients: AwsClients) -> TranslationRouter:
    from .adapters.translation.budget import TranslationDeadline
    from .adapters.translation.configured import configured_router

    return configured_router(
        settings.translation_provider_names,
        amazon_client=clients.amazon_translate,
        secret=lambda secret_id: clients.secret(secret_id, max_age=3600),
        google_secret_id=settings.google_translate_secret_arn,
        deepl_secret_id=settings.deepl_secret_arn,
        deadline=TranslationDeadline(settings.translation_margin_ms),
    )


# -- the per-function cache ------------------------------------------------------------------


class Container(Generic[SettingsT, WiredT]):
    """One function's services, built once per container.

    In Lambda, the first invocation reads the settings from the environment (a missing variable
    fails there, naming it) and builds the services. Tests and the local runtime ``install``
    settings instead; installing replaces whatever was built before.
    """

    def __init__(self, model: type[SettingsT], build: Callable[[SettingsT], WiredT]) -> None:
        self._model = model
        self._build = build
        self._settings: SettingsT | None = None
        self._wired: WiredT | None = None

    def install(self, settings: SettingsT) -> None:
        """Use ``settings`` from now on; the services are built on next use."""
        self._settings = settings
        self._wired = None

    def get(self) -> WiredT:
        if self._wired is None:
            if self._settings is None:
                self._settings = load_settings(self._model)
            self._wired = self._build(self._settings)
        return self._wired
