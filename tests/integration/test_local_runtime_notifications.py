"""The local runtime wires the notification pipeline: the functions' settings name the gateway,
stream batches reach the stream handler, and what it sends shows up under /_local/ and as .eml files.

The stream handler is a fake that sends one e-mail and one push per record, the way the real one
does, with clients configured only by the stream function's settings the runtime gives it.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from message_center.settings import StreamSettings

from local_runtime import emulator
from local_runtime.runtime import LocalRuntime, handler_exists
from local_runtime.state import RuntimeState

WAIT_SECONDS = 5.0


class _NotifyingHandler:
    def __init__(self) -> None:
        self.settings: StreamSettings | None = None  # given by the runtime once it started
        self.done = threading.Event()

    def __call__(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        settings = self.settings
        assert settings is not None and settings.aws_endpoint_url is not None
        for record in event["Records"]:
            pk = record["dynamodb"]["Keys"]["pk"]["S"]
            emulator.client("ses", settings.aws_endpoint_url, settings.region).send_raw_email(
                RawMessage={
                    "Data": (
                        f"From: Relay <u.1@{settings.relay_domain}>\r\nTo: seller@example.com\r\n"
                        f"Subject: New message {pk}\r\nMessage-ID: <{record['eventID']}@relay>\r\n"
                        "\r\nHello\r\n"
                    ).encode()
                }
            )
            sns = emulator.client("sns", settings.aws_endpoint_url, settings.region)
            device = sns.create_platform_endpoint(
                PlatformApplicationArn=str(settings.push_fcm_application_arn), Token="fcm-token"
            )
            sns.publish(
                TargetArn=device["EndpointArn"],
                MessageStructure="json",
                Message=json.dumps({"default": "x", "GCM": json.dumps({"data": {"badge": "1"}})}),
            )
        self.done.set()
        return {"batchItemFailures": []}


@pytest.fixture(scope="module")
def handler() -> _NotifyingHandler:
    return _NotifyingHandler()


@pytest.fixture(scope="module")
def runtime(handler: _NotifyingHandler, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalRuntime]:
    local = LocalRuntime(
        directory=None,
        handler=lambda event, context: {"statusCode": 200, "body": "{}"},  # the API is not under test
        stream_handler=handler,
        outbox_dir=tmp_path_factory.mktemp("runtime") / "outbox",
    )
    local.start()
    handler.settings = local.settings.stream
    try:
        yield local
    finally:
        local.stop()


def test_a_stored_message_copy_is_notified_and_shows_in_the_outbox(runtime, handler):
    state: RuntimeState = runtime.state
    # When a message copy is stored
    emulator.client("dynamodb", state.aws_endpoint_url, state.region).put_item(
        TableName=state.table_name, Item={"pk": {"S": "MBOX#seller#thread-1"}, "sk": {"S": "MSG#1"}}
    )

    # Then the stream handler ran, with the stack's settings pointing at this runtime
    assert handler.done.wait(WAIT_SECONDS), "the stream handler was not invoked"
    settings = runtime.settings.stream
    assert settings.public_web_url == state.api_url
    assert settings.notification_settings_url == f"{state.api_url}/settings"
    assert settings.idempotency_table_name == state.idempotency_table_name
    assert settings.mail_token_secret_id == state.mail_token_secret_arn
    # and what it sent is listed over HTTP, and written as an .eml file
    (email,) = requests.get(state.outbox_url, timeout=10).json()
    assert email["subject"] == "New message MBOX#seller#thread-1"
    raw = requests.get(email["eml"], timeout=10)
    assert raw.headers["content-type"] == "message/rfc822"
    assert Path(state.outbox_dir, "0001.eml").read_bytes() == raw.content
    (push,) = requests.get(state.push_url, timeout=10).json()
    assert (push["platform"], push["message"]) == ("GCM", {"data": {"badge": "1"}})
    assert requests.get(state.dead_letters_url, timeout=10).json() == []


def test_a_stream_handler_module_that_does_not_exist_yet_turns_the_poller_off():
    assert handler_exists("functions.api.handler:lambda_handler")
    assert not handler_exists("functions.not_yet_written.handler:lambda_handler")
    assert not handler_exists("no_such_package.handler:lambda_handler")
