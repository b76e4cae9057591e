"""Wiring: builds services from validated settings. Called at cold start, never at import."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config

from .adapters.attachment_files import AttachmentFiles
from .adapters.cognito import CognitoIdentities
from .adapters.mailer import SesMailer
from .adapters.push import SnsPush
from .adapters.translation import TranslationProvider, TranslationRouter
from .data.attachment_repository import AttachmentRepository
from .data.device_repository import DeviceRepository
from .data.directory_repository import DirectoryRepository
from .data.items import bind_table
from .data.quota_repository import consume_translation_quota
from .data.thread_repository import ThreadRepository
from .domain.devices import Platform
from .domain.models import Message
from .services.attachments import AttachmentService
from .services.devices import DeviceService
from .services.directory import DirectoryService
from .services.messaging import MessagingService
from .services.notifications import MailSettings, NotificationService
from .services.profile import ProfileService
from .services.translation import TranslationQuota, TranslationService
from .settings import Settings

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


class Services:
    """The services one API function uses, sharing repositories and connections."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.connection = connection = bind_table(settings.table_name, settings.region, settings.aws_endpoint_url)
        directory = DirectoryRepository(connection)
        threads = ThreadRepository(connection)
        self.attachments = AttachmentService(
            AttachmentRepository(),
            AttachmentFiles(_s3_client(settings), settings.attachments_bucket, settings.presigned_url_seconds),
            max_bytes=settings.attachment_max_bytes,
            ttl=timedelta(hours=settings.attachment_ttl_hours),
        )
        self.messaging = MessagingService(
            threads,
            directory,
            self.attachments,
            idempotency_ttl=timedelta(hours=settings.idempotency_ttl_hours),
        )
        self.profile = ProfileService(directory)
        self.translation = TranslationService(
            threads,
            translation_router(settings),
            messaging=self.messaging,
            quota=TranslationQuota(
                consume_translation_quota(settings.translation_daily_characters), settings.translation_daily_characters
            ),
        )
        self.devices = DeviceService(
            DeviceRepository(connection), SnsPush(_client("sns", settings)), push_applications(settings)
        )


def translation_router(settings: Settings) -> TranslationRouter:
    """The configured providers, in order; characters sent are counted per provider."""
    from aws_lambda_powertools.metrics import MetricUnit, single_metric
    from aws_lambda_powertools.utilities.parameters import SecretsProvider

    secrets = SecretsProvider(boto3_client=_client("secretsmanager", settings))
    providers: list[TranslationProvider] = []
    for name in (part.strip().lower() for part in settings.translation_providers.split(",")):
        if name == "amazon":
            from .adapters.translation.amazon import AmazonTranslate, amazon_translate_client

            providers.append(AmazonTranslate(amazon_translate_client(settings.region, settings.aws_endpoint_url)))
        elif name == "google" and settings.google_translate_secret_arn:
            from .adapters.translation.google import GoogleTranslate

            providers.append(GoogleTranslate(str(secrets.get(settings.google_translate_secret_arn, max_age=3600))))
        elif name == "deepl" and settings.deepl_secret_arn:
            from .adapters.translation.deepl import DeepLTranslate

            providers.append(DeepLTranslate(str(secrets.get(settings.deepl_secret_arn, max_age=3600))))
        elif name == "dev":
            from .adapters.translation.dev import DevTranslator

            providers.append(DevTranslator())

    def count(provider: str, characters: int) -> None:
        with single_metric(
            name="TranslatedCharacters", unit=MetricUnit.Count, value=characters, namespace="MessageCenter"
        ) as metric:
            metric.add_dimension(name="provider", value=provider)

    return TranslationRouter(providers, on_characters=count)


def push_applications(settings: Settings) -> dict[Platform, str]:
    """The configured SNS platform applications (none: push is off)."""
    configured = {
        Platform.APNS: settings.push_apns_application_arn,
        Platform.FCM: settings.push_fcm_application_arn,
    }
    return {platform: arn for platform, arn in configured.items() if arn}


class NotificationWiring:
    """What the stream function uses: the notification service and the stream decoding."""

    def __init__(self, settings: Settings) -> None:
        from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer
        from aws_lambda_powertools.utilities.parameters import SecretsProvider

        connection = bind_table(settings.table_name, settings.region, settings.aws_endpoint_url)
        secrets = SecretsProvider(boto3_client=_client("secretsmanager", settings))
        applications = push_applications(settings)
        self._threads = ThreadRepository(connection)
        self.notifications = NotificationService(
            directory=DirectoryRepository(connection),
            devices=DeviceRepository(connection),
            mailer=SesMailer(_client("ses", settings)),
            push=SnsPush(_client("sns", settings)) if applications else None,
            # Cached for five minutes: a rotated key reaches warm functions soon after.
            signing_key=lambda: str(secrets.get(settings.mail_token_secret_id, max_age=300)).encode(),
            mail=MailSettings(
                relay_domain=settings.relay_domain,
                public_api_url=settings.public_api_url,
                unsubscribe_url=settings.notification_settings_url,
            ),
            translate=self._translator(settings),
            persistence=DynamoDBPersistenceLayer(
                table_name=settings.idempotency_table_name, boto3_client=_client("dynamodb", settings)
            ),
        )

    def _translator(self, settings: Settings) -> Any:
        return TranslationService(self._threads, translation_router(settings)).auto_translate

    def message_from_stream_record(self, record: dict[str, Any]) -> Message | None:
        if record.get("eventName") != "INSERT":
            return None
        return self._threads.message_from_stream_image(record.get("dynamodb", {}).get("NewImage", {}))


class InboundMailWiring:
    """What the inbound-mail function uses: the raw mail store and the e-mail channel service."""

    def __init__(self, settings: Settings) -> None:
        from aws_lambda_powertools.utilities.parameters import SecretsProvider

        from .data.inbound_mail_repository import InboundMailRepository
        from .services.inbound_mail import InboundMailService

        services = Services(settings)
        secrets = SecretsProvider(boto3_client=_client("secretsmanager", settings))
        self._s3 = _s3_client(settings)
        self._bucket = settings.inbound_mail_bucket
        self._prefix = settings.inbound_mail_prefix
        self.inbound = InboundMailService(
            directory=DirectoryRepository(services.connection),
            messaging=services.messaging,
            attachments=services.attachments,
            signing_key=lambda: str(secrets.get(settings.mail_token_secret_id, max_age=300)).encode(),
            relay_domain=settings.relay_domain,
            records=InboundMailRepository(),
        )

    def read_raw_mail(self, ses_message_id: str) -> bytes:
        """The raw MIME message SES's S3 action stored under the prefix and the SES message id."""
        response = self._s3.get_object(Bucket=self._bucket, Key=f"{self._prefix}{ses_message_id}")
        return bytes(response["Body"].read())


def _client(service: str, settings: Settings) -> Any:
    return boto3.client(service, region_name=settings.region, endpoint_url=settings.aws_endpoint_url)  # type: ignore[call-overload]


def build_directory_service(settings: Settings) -> DirectoryService:
    """The directory loader, against the configured table and user pool."""
    if not settings.user_pool_id:
        raise ValueError("USER_POOL_ID is not set: the directory loader creates users in the Cognito user pool.")
    connection = bind_table(settings.table_name, settings.region, settings.aws_endpoint_url)
    client = boto3.client("cognito-idp", region_name=settings.region, endpoint_url=settings.aws_endpoint_url)
    return DirectoryService(DirectoryRepository(connection), CognitoIdentities(client, settings.user_pool_id))


def _s3_client(settings: Settings) -> S3Client:
    """S3 with SigV4 presigning; path-style addressing for the local emulator, whose endpoint has
    no bucket subdomains."""
    return boto3.client(
        "s3",
        region_name=settings.region,
        endpoint_url=settings.aws_endpoint_url,
        config=Config(
            signature_version="s3v4",
            s3={"addressing_style": "path" if settings.aws_endpoint_url else "virtual"},
        ),
    )
