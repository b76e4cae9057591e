"""CDK-side names, paths and sizing. Facts the functions and the local runtime share (function
sizing, the stream source, inbound mail delivery, environment names) come from the shared
package's ``message_center.deployment`` and are only turned into CDK values here."""

from __future__ import annotations

from pathlib import Path

from aws_cdk import Duration
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from message_center import deployment

STACK_NAME = "MessageCenterStack"
SERVICE_NAME = deployment.SERVICE_NAME
METRICS_NAMESPACE = deployment.METRICS_NAMESPACE

REPO_ROOT = Path(__file__).resolve().parent.parent
PYPROJECT_PATH = REPO_ROOT / "pyproject.toml"
SHARED_PACKAGE_DIR = REPO_ROOT / "layers" / "message_center"
# Function code is packaged from functions/ so each handler is a package ("api.handler") and its
# relative imports work the same in Lambda and in tests; other functions' folders are excluded.
FUNCTIONS_DIR = REPO_ROOT / "functions"
API_PACKAGE = deployment.API_FUNCTION.package
STREAM_PACKAGE = deployment.STREAM_FUNCTION.package

# The layer ships compiled wheels (pydantic-core), so the runtime, the architecture and the pip
# target below must change together.
LAMBDA_RUNTIME = lambda_.Runtime.PYTHON_3_12
LAMBDA_ARCHITECTURE = lambda_.Architecture.ARM_64
LAYER_PYTHON_VERSION = "3.12"
LAYER_PIP_PLATFORM = "manylinux2014_aarch64"

API_MEMORY_MB = deployment.API_FUNCTION.memory_mb
API_TIMEOUT = Duration.seconds(deployment.API_FUNCTION.timeout_seconds)
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
STREAM_MEMORY_MB = deployment.STREAM_FUNCTION.memory_mb
STREAM_TIMEOUT = Duration.seconds(deployment.STREAM_FUNCTION.timeout_seconds)
# The event source mapping (see deployment.StreamSource: batch, window, retries, age, filter).
STREAM_SOURCE = deployment.STREAM_SOURCE
# The dead-letter queue keeps the description of records that exhausted their retries (SQS's maximum).
STREAM_DLQ_RETENTION = Duration.days(14)
# Notifications are "at once": records waiting longer than this mean users are not being told.
STREAM_ITERATOR_AGE_ALARM = Duration.minutes(5)

IDEMPOTENCY_KEY_ATTRIBUTE = deployment.IDEMPOTENCY_KEY_ATTRIBUTE
IDEMPOTENCY_TTL_ATTRIBUTE = deployment.IDEMPOTENCY_TTL_ATTRIBUTE

# Domain of the masked relay addresses (From of e-mail copies, signed Reply-To thread addresses):
# required. cdk.json sets this reserved one so an offline `make synth` works; a synth with an
# account (every deploy) refuses it (infra/mail_construct.py).
RELAY_DOMAIN_CONTEXT_KEY = "relayDomain"
DEV_RELAY_DOMAIN = "relay.message-center.example"
# HMAC key of the signed reply addresses (its secret's name is generated).
MAIL_TOKEN_KEY_LENGTH = 64

# SNS platform application ARNs (arn:aws:sns:<region>:<account>:app/<APNS|APNS_SANDBOX|GCM>/<name>);
# either may be absent, and with neither push is off.
PUSH_APNS_APPLICATION_ARN_CONTEXT_KEY = "pushApnsApplicationArn"
PUSH_FCM_APPLICATION_ARN_CONTEXT_KEY = "pushFcmApplicationArn"

# Where notification e-mails send users to manage notifications (List-Unsubscribe); by default the
# web client's settings page.
NOTIFICATION_SETTINGS_URL_CONTEXT_KEY = "notificationSettingsUrl"

# --- inbound mail: SES receipt rule -> S3 (raw MIME) -> functions/inbound_mail ------------------
INBOUND_MAIL_PACKAGE = deployment.INBOUND_MAIL_FUNCTION.package
INBOUND_MAIL_MEMORY_MB = deployment.INBOUND_MAIL_FUNCTION.memory_mb
INBOUND_MAIL_TIMEOUT = Duration.seconds(deployment.INBOUND_MAIL_FUNCTION.timeout_seconds)
# SES's S3 action -> prefix -> the function, invoked asynchronously (see deployment.InboundMailDelivery).
INBOUND_MAIL = deployment.INBOUND_MAIL
INBOUND_MAIL_RETENTION = Duration.days(INBOUND_MAIL.retention_days)
INBOUND_MAIL_MAX_EVENT_AGE = Duration.seconds(INBOUND_MAIL.max_event_age_seconds)
INBOUND_MAIL_DLQ_RETENTION = Duration.days(14)

# --- translation (API on demand, stream auto-translation) ----------------------------------------
# Comma-separated provider names in routing order (message_center.adapters.translation); a list
# in cdk.json works too. Google and DeepL need the ARN of the Secrets Manager secret with their key.
TRANSLATION_PROVIDERS_CONTEXT_KEY = "translationProviders"
DEFAULT_TRANSLATION_PROVIDERS = ("amazon",)
TRANSLATION_PROVIDER_NAMES = ("amazon", "google", "deepl", "dev")
GOOGLE_TRANSLATE_SECRET_ARN_CONTEXT_KEY = "googleTranslateSecretArn"  # noqa: S105 - a context key
DEEPL_SECRET_ARN_CONTEXT_KEY = "deeplSecretArn"  # noqa: S105 - a context key

# --- web client (infra/web_construct.py) and who may call the API from a browser -----------------
WEB_DIST_DIR = REPO_ROOT / "web" / "dist"
# Deployed instead of the app when web/dist was not built before synth (a fresh clone synthesizes).
WEB_PLACEHOLDER_DIR = Path(__file__).resolve().parent / "web_placeholder"
# Vite names every file under assets/ by its content hash: a changed file is a new URL.
WEB_HASHED_ASSETS_PATH = "/assets/*"
WEB_ASSETS_CACHE_CONTROL = "public, max-age=31536000, immutable"
# index.html, config.json: revalidated on every load, so a deployment is picked up at once.
WEB_PAGE_CACHE_CONTROL = "no-cache"
WEB_HSTS_MAX_AGE = Duration.days(730)
# Origins (besides the stack's own) the web client may show images from, e.g. the marketplace's
# avatar CDN: a list, or a JSON list / comma-separated string with `cdk -c`. Default: none.
WEB_IMAGE_ORIGINS_CONTEXT_KEY = "webImageOrigins"
# Browser origins allowed to call the HTTP API directly (CORS). The web client needs none: it
# reaches the API through its own distribution (/messaging/*). Default: none.
API_CORS_ORIGINS_CONTEXT_KEY = "apiCorsOrigins"
API_CORS_MAX_AGE = Duration.hours(1)
# Whose tokens the API's JWT authorizer accepts: by default the user pool's, for its clients. A
# marketplace with its own OpenID Connect provider names its issuer URL and audiences instead.
JWT_ISSUER_CONTEXT_KEY = "jwtIssuer"
JWT_AUDIENCE_CONTEXT_KEY = "jwtAudience"
