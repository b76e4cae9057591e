"""Deployment facts: the one place that says how the functions are deployed and configured.

CDK-free and import-light, so that the CDK app (``infra/``), the local runtime, the tests and the
benchmarks read the very same objects: changing a fact here changes it everywhere. Durations are
plain seconds; ``infra/constants.py`` turns them into CDK values.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

SERVICE_NAME: Final = "message-center"
METRICS_NAMESPACE: Final = "MessageCenter"


class Env:
    """Names of the environment variables the stack sets and the settings models read."""

    REGION: Final = "AWS_REGION"
    DEFAULT_REGION: Final = "AWS_DEFAULT_REGION"
    # Only set locally/in tests: where the embedded AWS emulator listens.
    ENDPOINT_URL: Final = "AWS_ENDPOINT_URL"
    TABLE_NAME: Final = "TABLE_NAME"
    USER_POOL_ID: Final = "USER_POOL_ID"
    DEFAULT_AVATAR_URL: Final = "DEFAULT_AVATAR_URL"
    IDEMPOTENCY_TTL_HOURS: Final = "IDEMPOTENCY_TTL_HOURS"
    ATTACHMENTS_BUCKET: Final = "ATTACHMENTS_BUCKET"
    ATTACHMENT_MAX_BYTES: Final = "ATTACHMENT_MAX_BYTES"
    ATTACHMENT_TTL_HOURS: Final = "ATTACHMENT_TTL_HOURS"
    PRESIGNED_URL_SECONDS: Final = "PRESIGNED_URL_SECONDS"
    RELAY_DOMAIN: Final = "RELAY_DOMAIN"
    MAIL_TOKEN_SECRET_ARN: Final = "MAIL_TOKEN_SECRET_ARN"  # noqa: S105 - a variable name
    IDEMPOTENCY_TABLE_NAME: Final = "IDEMPOTENCY_TABLE_NAME"
    PUSH_APNS_APPLICATION_ARN: Final = "PUSH_APNS_APPLICATION_ARN"
    PUSH_FCM_APPLICATION_ARN: Final = "PUSH_FCM_APPLICATION_ARN"
    PUBLIC_WEB_URL: Final = "PUBLIC_WEB_URL"
    NOTIFICATION_SETTINGS_URL: Final = "NOTIFICATION_SETTINGS_URL"
    TRANSLATION_PROVIDERS: Final = "TRANSLATION_PROVIDERS"
    GOOGLE_TRANSLATE_SECRET_ARN: Final = "GOOGLE_TRANSLATE_SECRET_ARN"  # noqa: S105 - a variable name
    DEEPL_SECRET_ARN: Final = "DEEPL_SECRET_ARN"  # noqa: S105 - a variable name
    TRANSLATION_DAILY_CHARACTERS: Final = "TRANSLATION_DAILY_CHARACTERS"
    TRANSLATION_MARGIN_MS: Final = "TRANSLATION_MARGIN_MS"
    INBOUND_MAIL_BUCKET: Final = "INBOUND_MAIL_BUCKET"
    INBOUND_MAIL_PREFIX: Final = "INBOUND_MAIL_PREFIX"
    # Real time (issue #12): the connections/event-feed table, the WebSocket API's management
    # endpoint, and what an access token offered on $connect must match (like the JWT authorizer).
    REALTIME_TABLE_NAME: Final = "REALTIME_TABLE_NAME"
    WEBSOCKET_MANAGEMENT_URL: Final = "WEBSOCKET_MANAGEMENT_URL"
    TOKEN_ISSUER: Final = "TOKEN_ISSUER"  # noqa: S105 - a variable name
    TOKEN_AUDIENCES: Final = "TOKEN_AUDIENCES"  # noqa: S105 - a variable name
    TOKEN_JWKS_URL: Final = "TOKEN_JWKS_URL"  # noqa: S105 - a variable name
    # Set by the stack on every function (Powertools reads them itself: Logger() and Tracer() name
    # no service, Logger() no level). No POWERTOOLS_METRICS_NAMESPACE: every Metrics and
    # single_metric names METRICS_NAMESPACE itself, so nothing would read it.
    POWERTOOLS_SERVICE_NAME: Final = "POWERTOOLS_SERVICE_NAME"
    POWERTOOLS_LOG_LEVEL: Final = "POWERTOOLS_LOG_LEVEL"


# What X-Ray instruments in every function: the AWS SDK alone (boto3 and pynamodb both call through
# botocore). The HTTP translation providers add requests when they are configured.
TRACED_MODULES: Final = ("botocore",)

# Environment every function gets from the stack for Powertools (not read by the settings models).
POWERTOOLS_ENVIRONMENT: Final = {
    Env.POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
    Env.POWERTOOLS_LOG_LEVEL: "INFO",
}


@dataclass(frozen=True)
class FunctionSpec:
    """One Lambda function: its package under ``functions/`` and its sizing."""

    package: str
    name: str  # the local runtime's stand-in function name (Lambda context)
    memory_mb: int
    timeout_seconds: int

    @property
    def handler(self) -> str:
        """Lambda's handler string: every entry point is ``<package>.handler.lambda_handler``."""
        return f"{self.package}.handler.lambda_handler"

    @property
    def module(self) -> str:
        """The handler module as the repository imports it (tests, the local runtime)."""
        return f"functions.{self.package}.handler"


# The API function's timeout covers the slowest request: an on-demand translation, whose provider
# calls get at most TRANSLATION_BUDGET_SECONDS in all (retries included; after that the message is
# delivered untranslated), plus the table reads and writes around it. HTTP APIs end an integration
# after 30 s, so the timeout stays below that.
TRANSLATION_BUDGET_SECONDS: Final = 10
API_FUNCTION: Final = FunctionSpec(package="api", name="message-center-api", memory_mb=1024, timeout_seconds=15)
STREAM_FUNCTION: Final = FunctionSpec(package="stream", name="message-center-stream", memory_mb=512, timeout_seconds=30)
# Reading up to 40 MB of MIME from S3, parsing it and storing its attachments.
INBOUND_MAIL_FUNCTION: Final = FunctionSpec(
    package="inbound_mail", name="message-center-inbound-mail", memory_mb=1024, timeout_seconds=60
)


# Real time: the WebSocket routes ($connect/$disconnect/$default) and the stream → live events
# function (a sibling of the stream function, with its own event source mapping).
REALTIME_FUNCTION: Final = FunctionSpec(
    package="realtime", name="message-center-realtime", memory_mb=512, timeout_seconds=10
)
REALTIME_EVENTS_FUNCTION: Final = FunctionSpec(
    package="realtime_events", name="message-center-realtime-events", memory_mb=512, timeout_seconds=30
)


# Partition key prefix of a message copy (``MBOX#<userId>#<threadId>``, see data/keys.py).
MESSAGE_COPY_PK_PREFIX: Final = "MBOX#"


@dataclass(frozen=True)
class StreamSource:
    """The table stream → stream function event source mapping.

    Up to ``batch_size`` records or ``max_batching_window_seconds``, whichever first: a new message
    notifies within about a second. Failed records are retried by bisecting the batch, at most
    ``retry_attempts`` times and for at most ``max_record_age_seconds``, then described in the
    dead-letter queue; one shard is processed in order.
    """

    batch_size: int = 25
    max_batching_window_seconds: int = 1
    retry_attempts: int = 5
    max_record_age_seconds: int = 6 * 3600
    parallelization_factor: int = 1
    message_copy_pk_prefix: str = MESSAGE_COPY_PK_PREFIX

    @property
    def filter_pattern(self) -> dict[str, Any]:
        """Only inserted message copies invoke the function (Lambda event filtering syntax)."""
        return {
            "eventName": ["INSERT"],
            "dynamodb": {"Keys": {"pk": {"S": [{"prefix": self.message_copy_pk_prefix}]}}},
        }

    @property
    def filter_patterns(self) -> tuple[dict[str, Any], ...]:
        """Every filter of the mapping (Lambda ORs them)."""
        return (self.filter_pattern,)


STREAM_SOURCE: Final = StreamSource()

# Sort key prefix of an inbox entry (``USER#<userId>`` / ``INBOX#<threadId>``, see data/items.py).
INBOX_ENTRY_SK_PREFIX: Final = "INBOX#"


@dataclass(frozen=True)
class RealtimeSource(StreamSource):
    """The table stream → live events function mapping: same batching and retries as the
    notification stream, with its own filter (what users see change live) and dead-letter queue.

    Lambda ORs the filters: a message copy inserted (new message) or removed (deleted for its
    owner), and an inbox entry modified (read/unread, read receipts).
    """

    inbox_entry_sk_prefix: str = INBOX_ENTRY_SK_PREFIX

    @property
    def filter_patterns(self) -> tuple[dict[str, Any], ...]:
        return (
            {
                "eventName": ["INSERT", "REMOVE"],
                "dynamodb": {"Keys": {"pk": {"S": [{"prefix": self.message_copy_pk_prefix}]}}},
            },
            {
                "eventName": ["MODIFY"],
                "dynamodb": {"Keys": {"sk": {"S": [{"prefix": self.inbox_entry_sk_prefix}]}}},
            },
        )


REALTIME_SOURCE: Final = RealtimeSource()


@dataclass(frozen=True)
class RealtimeLimits:
    """Facts of the WebSocket channel and the event feed shared by infra, functions and the
    local runtime."""

    # API Gateway closes a WebSocket connection after 2 hours: its record expires with it.
    connection_ttl_seconds: int = 2 * 3600
    # Feed entries are kept at least this long (DynamoDB TTL deletes them some time after).
    event_retention_hours: int = 48
    # Without a cursor, the feed starts this far back.
    feed_window_hours: int = 24
    # The feed serves only events older than this: an event id is taken just before its write
    # commits, so a reader never skips one that commits a moment after a newer one.
    feed_settle_seconds: float = 1.0
    # The subprotocol the browser offers next to its token, and the server answers with.
    subprotocol: str = "message-center.v1"
    # WebSocket API stage throttling (per account and region, shared by all clients).
    throttle_rate_limit: int = 50
    throttle_burst_limit: int = 100


REALTIME: Final = RealtimeLimits()


@dataclass(frozen=True)
class InboundMailDelivery:
    """SES's receipt rule → S3 → the inbound-mail function (invoked asynchronously)."""

    # Key prefix of the raw messages SES's S3 action writes.
    prefix: str = "inbound/"
    # Raw mail holds addresses and bodies: kept only long enough to investigate a failed delivery.
    retention_days: int = 30
    # Lambda retries a failed asynchronous event this many times within this age.
    retry_attempts: int = 2
    max_event_age_seconds: int = 6 * 3600
    # SES's limit for received mail, headers included.
    max_message_bytes: int = 40 * 1024 * 1024


INBOUND_MAIL: Final = InboundMailDelivery()


@dataclass(frozen=True)
class WebClientRoutes:
    """Pages of the web client that links from outside it open (the e-mail copies): each is a
    route of the single-page app, which signs the user in first and then shows the page. The
    e-mails, the stack and the local runtime build their links from these, on ``PUBLIC_WEB_URL``."""

    thread: str = "/threads/{thread_id}"
    # Downloads the attachment with the signed-in user's token (a link that works from a mail
    # client at any time, unlike a presigned URL, which lives minutes).
    attachment: str = "/attachments/{attachment_id}"
    settings: str = "/settings"


WEB_CLIENT_ROUTES: Final = WebClientRoutes()

# Powertools idempotency table (DynamoDBPersistenceLayer defaults: key "id", TTL "expiration").
IDEMPOTENCY_KEY_ATTRIBUTE: Final = "id"
IDEMPOTENCY_TTL_ATTRIBUTE: Final = "expiration"
