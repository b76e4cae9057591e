"""Names, paths and sizing shared by the CDK constructs (one place to change them)."""

from __future__ import annotations

from pathlib import Path

from aws_cdk import Duration
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs

STACK_NAME = "MessageCenterStack"
SERVICE_NAME = "message-center"
METRICS_NAMESPACE = "MessageCenter"

REPO_ROOT = Path(__file__).resolve().parent.parent
PYPROJECT_PATH = REPO_ROOT / "pyproject.toml"
SHARED_PACKAGE_DIR = REPO_ROOT / "layers" / "message_center"
# Function code is packaged from functions/ so each handler is a package ("api.handler") and its
# relative imports work the same in Lambda and in tests; other functions' folders are excluded.
FUNCTIONS_DIR = REPO_ROOT / "functions"
# Every function's entry point is ``<package>.handler.lambda_handler``.
HANDLER_SUFFIX = "handler.lambda_handler"
API_PACKAGE = "api"
STREAM_PACKAGE = "stream"

# The layer ships compiled wheels (pydantic-core), so the runtime, the architecture and the pip
# target below must change together.
LAMBDA_RUNTIME = lambda_.Runtime.PYTHON_3_12
LAMBDA_ARCHITECTURE = lambda_.Architecture.ARM_64
LAYER_PYTHON_VERSION = "3.12"
LAYER_PIP_PLATFORM = "manylinux2014_aarch64"

API_MEMORY_MB = 1024
API_TIMEOUT = Duration.seconds(10)
LOG_RETENTION = logs.RetentionDays.ONE_MONTH

# Stage-wide defaults; a single client cannot exhaust the account-level Lambda concurrency.
API_THROTTLE_RATE_LIMIT = 100
API_THROTTLE_BURST_LIMIT = 200

DEFAULT_AVATAR_URL_CONTEXT_KEY = "defaultAvatarUrl"
DEFAULT_AVATAR_URL = "https://assets.message-center.example/avatars/default.png"

# Attachments bucket. Browsers upload with presigned POST and download with presigned GET; the
# allowed origins come from this CDK context key (a list, or a JSON list / comma-separated string
# with `cdk -c`). The default "*" is safe: CORS only lets a page read responses, while what may be
# uploaded or downloaded is decided by the presigned URL/policy each request must carry.
ATTACHMENTS_CORS_ORIGINS_CONTEXT_KEY = "attachmentsCorsOrigins"
DEFAULT_ATTACHMENTS_CORS_ORIGINS = ("*",)
ATTACHMENTS_CORS_MAX_AGE_SECONDS = 3000
# The bucket refuses presigned URLs used later than this after signing, whatever expiry the code
# asked for: the upper bound of PRESIGNED_URL_SECONDS in message_center.settings.
PRESIGNED_URL_MAX_AGE = Duration.hours(1)
# Server access logs of the attachments bucket (who read or wrote which object) are kept this long.
ACCESS_LOG_RETENTION = Duration.days(365)

# --- notifications: the table's stream -> functions/stream -> push (SNS) and e-mail (SES) ---------
STREAM_MEMORY_MB = 512
STREAM_TIMEOUT = Duration.seconds(30)
# Event source mapping. Up to 25 records or 1 s, whichever first: a new message notifies within
# about a second, and a batch (each record: a few reads, one SES send, a push per device) ends far
# inside the timeout. Failed records are retried by bisecting the batch, at most 5 times and for at
# most 6 hours, then described in the dead-letter queue; one shard is processed in order.
STREAM_BATCH_SIZE = 25
STREAM_MAX_BATCHING_WINDOW = Duration.seconds(1)
STREAM_RETRY_ATTEMPTS = 5
STREAM_MAX_RECORD_AGE = Duration.hours(6)
STREAM_PARALLELIZATION_FACTOR = 1
# Partition key prefix of a message copy (``MBOX#<userId>#<threadId>``, see
# message_center.data.items): only inserted copies invoke the stream function.
MESSAGE_COPY_PK_PREFIX = "MBOX#"
# The dead-letter queue keeps the description of records that exhausted their retries (SQS's maximum).
STREAM_DLQ_RETENTION = Duration.days(14)
# Notifications are "at once": records waiting longer than this mean users are not being told.
STREAM_ITERATOR_AGE_ALARM = Duration.minutes(5)

# Powertools idempotency table (DynamoDBPersistenceLayer defaults: key "id", TTL "expiration").
IDEMPOTENCY_KEY_ATTRIBUTE = "id"
IDEMPOTENCY_TTL_ATTRIBUTE = "expiration"

# Domain of the masked relay addresses (From of e-mail copies, signed Reply-To thread addresses).
RELAY_DOMAIN_CONTEXT_KEY = "relayDomain"
DEFAULT_RELAY_DOMAIN = "relay.message-center.example"
# HMAC key of the signed reply addresses.
MAIL_TOKEN_SECRET_NAME = "message-center/mail-token-key"  # noqa: S105 - a name, not a secret
MAIL_TOKEN_KEY_LENGTH = 64

# SNS platform application ARNs (arn:aws:sns:<region>:<account>:app/<APNS|APNS_SANDBOX|GCM>/<name>);
# either may be absent, and with neither push is off.
PUSH_APNS_APPLICATION_ARN_CONTEXT_KEY = "pushApnsApplicationArn"
PUSH_FCM_APPLICATION_ARN_CONTEXT_KEY = "pushFcmApplicationArn"

# Where notification e-mails send users to manage notifications (List-Unsubscribe, footer link).
NOTIFICATION_SETTINGS_URL_CONTEXT_KEY = "notificationSettingsUrl"
DEFAULT_NOTIFICATION_SETTINGS_URL = "https://message-center.example/settings/notifications"

# --- inbound mail: SES receipt rule -> S3 (raw MIME) -> functions/inbound_mail ------------------
INBOUND_MAIL_PACKAGE = "inbound_mail"
INBOUND_MAIL_MEMORY_MB = 1024
# Reading up to 40 MB of MIME from S3, parsing it and storing its attachments.
INBOUND_MAIL_TIMEOUT = Duration.seconds(60)
# Key prefix of the raw messages SES's S3 action writes (INBOUND_MAIL_PREFIX in the settings).
INBOUND_MAIL_PREFIX = "inbound/"
# Raw mail holds addresses and bodies: kept only long enough to investigate a failed delivery.
INBOUND_MAIL_RETENTION = Duration.days(30)
# SES invokes the function asynchronously ("Event"): Lambda retries a failed event this many times
# within this age, then describes it in the dead-letter queue (SQS's maximum retention).
INBOUND_MAIL_RETRY_ATTEMPTS = 2
INBOUND_MAIL_MAX_EVENT_AGE = Duration.hours(6)
INBOUND_MAIL_DLQ_RETENTION = Duration.days(14)

# --- translation (API on demand, stream auto-translation) ----------------------------------------
# Comma-separated provider names in routing order (message_center.adapters.translation); a list
# in cdk.json works too. Google and DeepL need the ARN of the Secrets Manager secret with their key.
TRANSLATION_PROVIDERS_CONTEXT_KEY = "translationProviders"
DEFAULT_TRANSLATION_PROVIDERS = ("amazon",)
TRANSLATION_PROVIDER_NAMES = ("amazon", "google", "deepl", "dev")
GOOGLE_TRANSLATE_SECRET_ARN_CONTEXT_KEY = "googleTranslateSecretArn"  # noqa: S105 - a context key
DEEPL_SECRET_ARN_CONTEXT_KEY = "deeplSecretArn"  # noqa: S105 - a context key
