"""The local runtime wires the notification pipeline: the handlers' environment names the gateway,
stream batches reach the stream handler, and what it sends shows up under /_local/ and as .eml files.

The stream handler is a fake that sends one e-mail and one push per record, the way the real one
does, with clients configured only by the environment the runtime sets.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests

from local_runtime.runtime import LocalRuntime, handler_exists
from local_runtime.state import RuntimeState

WAIT_SECONDS = 5.0


class _NotifyingHandler:
    def __init__(self) -> None:
        self.environment: dict[str, str] = {}
        self.done = threading.Event()

    def __call__(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        self.environment = dict(os.environ)
        for record in event["Records"]:
            pk = record["dynamodb"]["Keys"]["pk"]["S"]
            boto3.client("ses").send_raw_email(
                RawMessage={
                    "Data": (
                        f"From: Relay <u.1@{os.environ['RELAY_DOMAIN']}>\r\nTo: seller@example.com\r\n"
                        f"Subject: New message {pk}\r\nMessage-ID: <{record['eventID']}@relay>\r\n"
                        "\r\nHello\r\n"
                    ).encode()
                }
            )
            sns = boto3.client("sns")
            device = sns.create_platform_endpoint(
                PlatformApplicationArn=os.environ["PUSH_FCM_APPLICATION_ARN"], Token="fcm-token"
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
    try:
        yield local
    finally:
        local.stop()


def test_a_stored_message_copy_is_notified_and_shows_in_the_outbox(runtime, handler):
    state: RuntimeState = runtime.state
    # When a message copy is stored
    boto3.client("dynamodb").put_item(
        TableName=state.table_name, Item={"pk": {"S": "MBOX#seller#thread-1"}, "sk": {"S": "MSG#1"}}
    )

    # Then the stream handler ran with the stack's settings, pointing at this runtime
    assert handler.done.wait(WAIT_SECONDS), "the stream handler was not invoked"
    assert handler.environment["PUBLIC_API_URL"] == state.api_url
    assert handler.environment["NOTIFICATION_SETTINGS_URL"] == f"{state.api_url}/_local/settings"
    assert handler.environment["IDEMPOTENCY_TABLE_NAME"] == state.idempotency_table_name
    assert handler.environment["MAIL_TOKEN_SECRET_ARN"] == state.mail_token_secret_arn
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
