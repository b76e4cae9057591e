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
API_PACKAGE = "api"
API_HANDLER = f"{API_PACKAGE}.handler.lambda_handler"

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
