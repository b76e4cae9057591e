"""Shared fixtures: an isolated moto AWS per test, the table, a user pool and a directory."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from moto import mock_aws

# The attack suite's request and finding counts, printed at the end of every run.
from tests.support.tally import pytest_runtest_logreport, pytest_terminal_summary  # noqa: F401

if TYPE_CHECKING:
    from local_runtime.emulator import FunctionSettings

# The Node `make install` provided when the system's is too old (tools/ensure-node.sh), for what
# the tests run on Node (jsii in the infra tests, npx in the e2e tests) when pytest runs directly.
_PROJECT_NODE = Path(__file__).resolve().parents[1] / ".tools" / "node" / "bin"
if _PROJECT_NODE.is_dir() and not os.environ.get("PATH", "").startswith(str(_PROJECT_NODE)):
    os.environ["PATH"] = f"{_PROJECT_NODE}{os.pathsep}{os.environ.get('PATH', '')}"

REGION = "eu-central-1"
TABLE = "MessageCenterTest"
BUCKET = "message-center-attachments-test"
RELAY_DOMAIN = "relay.message-center.test"
MAIL_TOKEN_KEY = "test-signing-key-0123456789abcdef"
# The web client e-mails link to (locally the gateway serves it next to the API).
PUBLIC_WEB_URL = "https://messages.message-center.test"
INBOUND_BUCKET = "message-center-inbound-mail-test"


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No real AWS configuration leaks in; Powertools as the stack configures it."""
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "POWERTOOLS_SERVICE_NAME": "message-center",
        "POWERTOOLS_METRICS_NAMESPACE": "MessageCenter",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_DEV": "false",
        "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
    }.items():
        monkeypatch.setenv(key, value)
    for key in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_REGION"):
        monkeypatch.delenv(key, raising=False)


@pytest.fixture
def aws(aws_env: None) -> Iterator[FunctionSettings]:
    """moto for this test only, provisioned like the local runtime (one routine), and each
    function's settings installed in its handler, as the stack configures the deployed ones."""
    from local_runtime import emulator

    with mock_aws():
        resources = emulator.provision(None, REGION, TABLE, BUCKET, INBOUND_BUCKET, mail_token_key=MAIL_TOKEN_KEY)
        settings = emulator.function_settings(None, REGION, resources, PUBLIC_WEB_URL)
        _install(settings)
        yield settings


def _install(settings: FunctionSettings) -> None:
    from functions.api import handler as api_handler
    from functions.inbound_mail import handler as inbound_handler
    from functions.realtime import handler as realtime_handler
    from functions.realtime_events import handler as realtime_events_handler
    from functions.stream import handler as stream_handler

    api_handler.container.install(settings.api)
    stream_handler.container.install(settings.stream)
    inbound_handler.container.install(settings.inbound_mail)
    realtime_handler.container.install(settings.realtime)
    realtime_events_handler.container.install(settings.realtime_events)


DIRECTORY_FILE = Path(__file__).parent / "support" / "directory.json"


@pytest.fixture
def directory_document() -> dict:
    return json.loads(DIRECTORY_FILE.read_text())


@pytest.fixture
def users(aws: FunctionSettings, directory_document: dict) -> dict[str, str]:
    """The test directory loaded; login → user id."""
    from message_center.composition import directory_service

    report = directory_service(aws.directory).load(directory_document)
    return dict(report.user_ids)
