"""Runtime configuration, validated once at cold start and passed in (never read in logic)."""

from __future__ import annotations

from functools import lru_cache

from pydantic import AliasChoices, Field, HttpUrl
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Everything a function needs from its environment.

    The CDK stack sets these variables on each function; the local runtime sets the same ones
    and points the endpoints at the embedded emulator.
    """

    model_config = SettingsConfigDict(frozen=True, extra="ignore")

    table_name: str = Field(default="MessageCenter", validation_alias="TABLE_NAME")
    region: str = Field(default="eu-central-1", validation_alias=AliasChoices("AWS_REGION", "AWS_DEFAULT_REGION"))
    # Only set locally/in tests: where the embedded AWS emulator listens.
    aws_endpoint_url: str | None = Field(default=None, validation_alias="AWS_ENDPOINT_URL")
    default_avatar_url: HttpUrl = Field(
        default=HttpUrl("https://assets.message-center.example/avatars/default.png"),
        validation_alias="DEFAULT_AVATAR_URL",
    )
    user_pool_id: str | None = Field(default=None, validation_alias="USER_POOL_ID")
    # How long a client's Idempotency-Key is remembered.
    idempotency_ttl_hours: int = Field(default=24, ge=1, le=24 * 30, validation_alias="IDEMPOTENCY_TTL_HOURS")
    attachments_bucket: str = Field(default="message-center-attachments", validation_alias="ATTACHMENTS_BUCKET")
    # Largest attachment (bytes). Marketplace users send scans and photos; 25 MB fits phone photos
    # and multi-page PDF invoices, and stays under SES's 40 MB for inbound mail.
    attachment_max_bytes: int = Field(
        default=25 * 1024 * 1024, ge=1024, le=100 * 1024 * 1024, validation_alias="ATTACHMENT_MAX_BYTES"
    )
    # A declared attachment not used in a message within this time expires.
    attachment_ttl_hours: int = Field(default=24, ge=1, le=47, validation_alias="ATTACHMENT_TTL_HOURS")
    # Presigned upload and download URLs live minutes, not days.
    presigned_url_seconds: int = Field(default=300, ge=30, le=3600, validation_alias="PRESIGNED_URL_SECONDS")

    # -- notifications (stream function) and the e-mail channel --
    # Domain of the masked relay addresses (From of e-mail copies, Reply-To thread addresses).
    relay_domain: str = Field(default="relay.message-center.test", validation_alias="RELAY_DOMAIN")
    # Secrets Manager secret (id or ARN) holding the HMAC key that signs reply addresses.
    mail_token_secret_id: str = Field(default="message-center/mail-token-key", validation_alias="MAIL_TOKEN_SECRET_ARN")
    # Powertools idempotency records of the notification channels.
    idempotency_table_name: str = Field(default="MessageCenterIdempotency", validation_alias="IDEMPOTENCY_TABLE_NAME")
    # SNS platform applications; push is off while neither is configured.
    push_apns_application_arn: str | None = Field(default=None, validation_alias="PUSH_APNS_APPLICATION_ARN")
    push_fcm_application_arn: str | None = Field(default=None, validation_alias="PUSH_FCM_APPLICATION_ARN")
    # Where e-mails link to (attachments, the conversation) and where users manage notifications.
    public_api_url: str = Field(default="https://api.message-center.example", validation_alias="PUBLIC_API_URL")
    # Translation providers in order of preference: amazon, google, deepl, dev (a labelled stand-in
    # for local runs without credentials).
    translation_providers: str = Field(default="dev", validation_alias="TRANSLATION_PROVIDERS")
    google_translate_secret_arn: str | None = Field(default=None, validation_alias="GOOGLE_TRANSLATE_SECRET_ARN")
    deepl_secret_arn: str | None = Field(default=None, validation_alias="DEEPL_SECRET_ARN")
    translation_daily_characters: int = Field(default=20_000, ge=100, validation_alias="TRANSLATION_DAILY_CHARACTERS")
    # Raw inbound mail, stored by SES's S3 action (and by the local SMTP server).
    inbound_mail_bucket: str = Field(default="message-center-inbound-mail", validation_alias="INBOUND_MAIL_BUCKET")
    inbound_mail_prefix: str = Field(default="inbound/", validation_alias="INBOUND_MAIL_PREFIX")
    notification_settings_url: str = Field(
        default="https://message-center.example/settings/notifications",
        validation_alias="NOTIFICATION_SETTINGS_URL",
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read from the environment on first use."""
    return Settings()
