"""Shared fixtures: an isolated moto AWS per test, the table, a user pool and a directory."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

# The attack suite's request and finding counts, printed at the end of every run.
from tests.support.tally import pytest_runtest_logreport, pytest_terminal_summary  # noqa: F401

REGION = "eu-central-1"
TABLE = "MessageCenterTest"
BUCKET = "message-center-attachments-test"
IDEMPOTENCY_TABLE = "MessageCenterIdempotencyTest"
RELAY_DOMAIN = "relay.message-center.test"
MAIL_SECRET = "message-center/mail-token-key"
PUBLIC_API_URL = "https://api.message-center.test"
INBOUND_BUCKET = "message-center-inbound-mail-test"


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "TABLE_NAME": TABLE,
        "ATTACHMENTS_BUCKET": BUCKET,
        "IDEMPOTENCY_TABLE_NAME": IDEMPOTENCY_TABLE,
        "RELAY_DOMAIN": RELAY_DOMAIN,
        "MAIL_TOKEN_SECRET_ARN": MAIL_SECRET,
        "PUBLIC_API_URL": PUBLIC_API_URL,
        "INBOUND_MAIL_BUCKET": INBOUND_BUCKET,
        "INBOUND_MAIL_PREFIX": "inbound/",
        "POWERTOOLS_SERVICE_NAME": "message-center",
        "POWERTOOLS_METRICS_NAMESPACE": "MessageCenter",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_DEV": "false",
        "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)


@pytest.fixture
def aws(aws_env: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """moto for this test only, with the table and a user pool created."""
    from message_center.data.schema import create_table_request
    from message_center.settings import get_settings

    with mock_aws():
        boto3.client("dynamodb", region_name=REGION).create_table(**create_table_request(TABLE))
        pool = boto3.client("cognito-idp", region_name=REGION).create_user_pool(
            PoolName="message-center-test", UsernameAttributes=[]
        )
        monkeypatch.setenv("USER_POOL_ID", pool["UserPool"]["Id"])
        boto3.client("s3", region_name=REGION).create_bucket(
            Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION}
        )
        _notification_resources(monkeypatch)
        _reset_cached_services(get_settings)
        yield
        _reset_cached_services(get_settings)


def _notification_resources(monkeypatch: pytest.MonkeyPatch) -> None:
    """What the stream function needs: idempotency table, relay domain, signing key, push apps."""
    boto3.client("dynamodb", region_name=REGION).create_table(
        TableName=IDEMPOTENCY_TABLE,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
    )
    boto3.client("ses", region_name=REGION).verify_domain_identity(Domain=RELAY_DOMAIN)
    boto3.client("s3", region_name=REGION).create_bucket(
        Bucket=INBOUND_BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION}
    )
    boto3.client("secretsmanager", region_name=REGION).create_secret(
        Name=MAIL_SECRET, SecretString="test-signing-key-0123456789abcdef"
    )
    sns = boto3.client("sns", region_name=REGION)
    for platform, variable in (
        ("APNS_SANDBOX", "PUSH_APNS_APPLICATION_ARN"),
        ("GCM", "PUSH_FCM_APPLICATION_ARN"),
    ):
        arn = sns.create_platform_application(Name=f"mc-{platform.lower()}", Platform=platform, Attributes={})[
            "PlatformApplicationArn"
        ]
        monkeypatch.setenv(variable, arn)


def _reset_cached_services(get_settings) -> None:  # type: ignore[no-untyped-def]
    from functions.api import context
    from functions.inbound_mail import handler as inbound_handler
    from functions.stream import handler as stream_handler

    get_settings.cache_clear()
    context.services.cache_clear()
    stream_handler.wiring.cache_clear()
    inbound_handler.wiring.cache_clear()


DIRECTORY_FILE = Path(__file__).parent / "support" / "directory.json"


@pytest.fixture
def directory_document() -> dict:
    return json.loads(DIRECTORY_FILE.read_text())


@pytest.fixture
def users(aws: None, directory_document: dict) -> dict[str, str]:
    """The test directory loaded; login → user id."""
    from message_center.composition import build_directory_service
    from message_center.settings import get_settings

    report = build_directory_service(get_settings()).load(directory_document)
    return dict(report.user_ids)
