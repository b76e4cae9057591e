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


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read from the environment on first use."""
    return Settings()
