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
    region: str = Field(
        default="eu-central-1", validation_alias=AliasChoices("AWS_REGION", "AWS_DEFAULT_REGION")
    )
    # Only set locally/in tests: where the embedded AWS emulator listens.
    aws_endpoint_url: str | None = Field(default=None, validation_alias="AWS_ENDPOINT_URL")
    default_avatar_url: HttpUrl = Field(
        default=HttpUrl("https://assets.message-center.example/avatars/default.png"),
        validation_alias="DEFAULT_AVATAR_URL",
    )
    user_pool_id: str | None = Field(default=None, validation_alias="USER_POOL_ID")
    # How long a client's Idempotency-Key is remembered.
    idempotency_ttl_hours: int = Field(default=24, ge=1, le=24 * 30, validation_alias="IDEMPOTENCY_TTL_HOURS")
    attachments_bucket: str = Field(
        default="message-center-attachments", validation_alias="ATTACHMENTS_BUCKET"
    )
    # Largest attachment (bytes). Marketplace users send scans and photos; 25 MB fits phone photos
    # and multi-page PDF invoices, and stays under SES's 40 MB for inbound mail.
    attachment_max_bytes: int = Field(
        default=25 * 1024 * 1024, ge=1024, le=100 * 1024 * 1024, validation_alias="ATTACHMENT_MAX_BYTES"
    )
    # A declared attachment not used in a message within this time expires.
    attachment_ttl_hours: int = Field(default=24, ge=1, le=47, validation_alias="ATTACHMENT_TTL_HOURS")
    # Presigned upload and download URLs live minutes, not days.
    presigned_url_seconds: int = Field(default=300, ge=30, le=3600, validation_alias="PRESIGNED_URL_SECONDS")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read from the environment on first use."""
    return Settings()
