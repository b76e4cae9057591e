"""Per-function configuration, validated once at cold start and passed in (never read in logic).

Each function has its own model on a small shared core. The resources a function uses are
required: a function deployed without one fails at cold start with an error naming the variable,
instead of quietly talking to a default. Tests and the local runtime build these models
explicitly (``ApiSettings(table_name=..., ...)``); Lambda reads them from the environment the
stack sets (``load_settings``), and an infra test checks the stack sets exactly what each model
reads.
"""

from __future__ import annotations

from typing import TypeVar

from pydantic import AliasChoices, Field, HttpUrl, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from .deployment import Env


class FunctionSettings(BaseSettings):
    """What every function needs: where the table is, in which region."""

    model_config = SettingsConfigDict(frozen=True, extra="ignore", populate_by_name=True)

    table_name: str = Field(validation_alias=Env.TABLE_NAME)
    # Lambda sets AWS_REGION; tools often have only AWS_DEFAULT_REGION.
    region: str = Field(validation_alias=AliasChoices(Env.REGION, Env.DEFAULT_REGION))
    # Only set locally/in tests: where the embedded AWS emulator listens.
    aws_endpoint_url: str | None = Field(default=None, validation_alias=Env.ENDPOINT_URL)


class AttachmentSettings(BaseSettings):
    """The attachments bucket and the limits of its files (API and inbound mail)."""

    attachments_bucket: str = Field(validation_alias=Env.ATTACHMENTS_BUCKET)
    # Largest attachment (bytes). Marketplace users send scans and photos; 25 MB fits phone photos
    # and multi-page PDF invoices, and stays under SES's 40 MB for inbound mail.
    attachment_max_bytes: int = Field(
        default=25 * 1024 * 1024, ge=1024, le=100 * 1024 * 1024, validation_alias=Env.ATTACHMENT_MAX_BYTES
    )
    # A declared attachment not used in a message within this time expires.
    attachment_ttl_hours: int = Field(default=24, ge=1, le=47, validation_alias=Env.ATTACHMENT_TTL_HOURS)
    # Presigned upload and download URLs live minutes, not days.
    presigned_url_seconds: int = Field(default=300, ge=30, le=3600, validation_alias=Env.PRESIGNED_URL_SECONDS)
    # How long a client's Idempotency-Key (or an e-mail's id) is remembered.
    idempotency_ttl_hours: int = Field(default=24, ge=1, le=24 * 30, validation_alias=Env.IDEMPOTENCY_TTL_HOURS)


class TranslationSettings(BaseSettings):
    """Translation providers in order of preference: amazon, google, deepl, dev (a labelled
    stand-in for local runs without credentials). Google and DeepL need their key's secret."""

    translation_providers: str = Field(validation_alias=Env.TRANSLATION_PROVIDERS)
    google_translate_secret_arn: str | None = Field(default=None, validation_alias=Env.GOOGLE_TRANSLATE_SECRET_ARN)
    deepl_secret_arn: str | None = Field(default=None, validation_alias=Env.DEEPL_SECRET_ARN)
    # Translation ends this long before the invocation would time out (its time is what the Lambda
    # context says is left, minus this margin): time to store, send and answer without it.
    translation_margin_ms: int = Field(default=2000, ge=0, le=30_000, validation_alias=Env.TRANSLATION_MARGIN_MS)

    @property
    def translation_provider_names(self) -> tuple[str, ...]:
        return tuple(name for name in (p.strip().lower() for p in self.translation_providers.split(",")) if name)


class PushSettings(BaseSettings):
    """SNS platform applications; push is off while neither is configured."""

    push_apns_application_arn: str | None = Field(default=None, validation_alias=Env.PUSH_APNS_APPLICATION_ARN)
    push_fcm_application_arn: str | None = Field(default=None, validation_alias=Env.PUSH_FCM_APPLICATION_ARN)


class ReplyAddressSettings(BaseSettings):
    """The masked relay addresses: their domain and the HMAC key that signs reply addresses."""

    relay_domain: str = Field(validation_alias=Env.RELAY_DOMAIN)
    # Secrets Manager secret (id or ARN) holding the HMAC key.
    mail_token_secret_id: str = Field(validation_alias=Env.MAIL_TOKEN_SECRET_ARN)


class ApiSettings(FunctionSettings, AttachmentSettings, TranslationSettings, PushSettings):
    """functions/api."""

    default_avatar_url: HttpUrl = Field(
        default=HttpUrl("https://assets.message-center.example/avatars/default.png"),
        validation_alias=Env.DEFAULT_AVATAR_URL,
    )
    translation_daily_characters: int = Field(default=20_000, ge=100, validation_alias=Env.TRANSLATION_DAILY_CHARACTERS)
    # The event feed (GET /messaging/events) is read from the real-time table.
    realtime_table_name: str = Field(validation_alias=Env.REALTIME_TABLE_NAME)


class StreamSettings(FunctionSettings, TranslationSettings, PushSettings, ReplyAddressSettings):
    """functions/stream: e-mail copies, push and automatic translation of new messages."""

    # Powertools idempotency records of the notification channels.
    idempotency_table_name: str = Field(validation_alias=Env.IDEMPOTENCY_TABLE_NAME)
    # The web client, where e-mails link to (the conversation, attachments), and where users
    # manage notifications (by default the web client's settings page).
    public_web_url: str = Field(validation_alias=Env.PUBLIC_WEB_URL)
    notification_settings_url: str = Field(validation_alias=Env.NOTIFICATION_SETTINGS_URL)


class InboundMailSettings(FunctionSettings, AttachmentSettings, ReplyAddressSettings):
    """functions/inbound_mail: received e-mail becomes a message in its thread."""

    # Raw inbound mail, stored by SES's S3 action (and by the local SMTP server).
    inbound_mail_bucket: str = Field(validation_alias=Env.INBOUND_MAIL_BUCKET)
    inbound_mail_prefix: str = Field(validation_alias=Env.INBOUND_MAIL_PREFIX)


class DirectorySettings(FunctionSettings):
    """The directory loader (a command, not a function): the table and the Cognito user pool."""

    user_pool_id: str = Field(validation_alias=Env.USER_POOL_ID)


class RealtimeChannelSettings(BaseSettings):
    """The connections/event-feed table and the WebSocket API's management endpoint
    (``https://<api-id>.execute-api.<region>.amazonaws.com/<stage>``; locally the runtime's)."""

    realtime_table_name: str = Field(validation_alias=Env.REALTIME_TABLE_NAME)
    websocket_management_url: str = Field(validation_alias=Env.WEBSOCKET_MANAGEMENT_URL)


class RealtimeSettings(FunctionSettings, RealtimeChannelSettings):
    """functions/realtime: the WebSocket API's $connect, $disconnect and $default routes.

    The token offered on $connect is checked like the HTTP API's JWT authorizer: RS256 signature
    with the issuer's JWKS, ``iss``, ``client_id``/``aud`` among the audiences, expiry."""

    token_issuer: str = Field(validation_alias=Env.TOKEN_ISSUER)
    # Comma-separated app client ids.
    token_audiences: str = Field(validation_alias=Env.TOKEN_AUDIENCES)
    # Default: the issuer's ``/.well-known/jwks.json`` (Cognito's); locally the emulator's.
    token_jwks_url: str | None = Field(default=None, validation_alias=Env.TOKEN_JWKS_URL)

    @property
    def audiences(self) -> tuple[str, ...]:
        return tuple(part.strip() for part in self.token_audiences.split(",") if part.strip())

    @property
    def jwks_url(self) -> str:
        return self.token_jwks_url or f"{self.token_issuer.rstrip('/')}/.well-known/jwks.json"


class RealtimeEventsSettings(FunctionSettings, RealtimeChannelSettings, TranslationSettings):
    """functions/realtime_events: stream records → event feed entries and WebSocket messages."""

    # The messages in events link their attachments under the API as the web client reaches it.
    public_web_url: str = Field(validation_alias=Env.PUBLIC_WEB_URL)
    default_avatar_url: HttpUrl = Field(
        default=HttpUrl("https://assets.message-center.example/avatars/default.png"),
        validation_alias=Env.DEFAULT_AVATAR_URL,
    )


class ConfigurationError(RuntimeError):
    """A function was deployed without a variable it needs (or with an invalid value)."""


SettingsT = TypeVar("SettingsT", bound=FunctionSettings)


def load_settings(model: type[SettingsT]) -> SettingsT:
    """``model`` read from the environment; the error names every missing or invalid variable."""
    try:
        return model()
    except ValidationError as error:
        problems = []
        for detail in error.errors():
            variable = ".".join(str(part) for part in detail["loc"]) or "?"
            problems.append(f"{variable} ({'not set' if detail['type'] == 'missing' else detail['msg']})")
        raise ConfigurationError(f"{model.__name__}: environment variable " + ", ".join(problems)) from None


def environment_names(model: type[BaseSettings], *, required_only: bool = False) -> frozenset[str]:
    """The environment variables ``model`` reads (each field's aliases)."""
    names: set[str] = set()
    for field in model.model_fields.values():
        if required_only and not field.is_required():
            continue
        alias = field.validation_alias
        if isinstance(alias, AliasChoices):
            names.update(str(choice) for choice in alias.choices)
        elif alias is not None:
            names.add(str(alias))
    return frozenset(names)
