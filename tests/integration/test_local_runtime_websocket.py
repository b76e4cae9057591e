"""The local runtime serves its WebSocket API next to the HTTP API: the web client's configuration
names it, the handlers' environment names its management API, and stopping the runtime closes it.

Kept apart from test_local_websocket_gateway.py: a runtime resets the process-wide emulator state.
"""

from __future__ import annotations

import json
import os
import sys

import requests
from websockets.sync.client import connect
from websockets.typing import Subprotocol

from local_runtime.runtime import LocalRuntime
from local_runtime.state import is_listening
from local_runtime.websocket_gateway import MANAGEMENT_URL_ENV

ECHO = "tests.support.realtime_echo.handler"


def _runtime(tmp_path, websocket_handler: str) -> LocalRuntime:
    return LocalRuntime(
        directory=None,
        handler=lambda event, context: {"statusCode": 200, "body": "{}"},
        stream_handler=None,
        smtp_port=None,
        outbox_dir=tmp_path / "outbox",
        websocket_handler=websocket_handler,
    )


def test_the_runtime_serves_the_websocket_api_and_names_it_for_the_app_and_the_handlers(tmp_path):
    # Given a runtime whose WebSocket handler answers through the management API
    runtime = _runtime(tmp_path, f"{ECHO}:lambda_handler")
    environment_before = os.environ.get(MANAGEMENT_URL_ENV)
    state = runtime.start()
    try:
        echo = sys.modules[ECHO]  # imported afresh by the runtime, like a cold start
        subprotocols = [Subprotocol(echo.SUBPROTOCOL), Subprotocol(echo.PASSWORD)]

        # Then the web client's configuration and the state file name the WebSocket API
        config = requests.get(f"{state.api_url}/config.json", timeout=5).json()
        assert config["websocketUrl"] == state.websocket_url == f"ws://127.0.0.1:{state.websocket_port}"
        # and the real-time functions' settings and the handlers' environment name its management API
        assert runtime.settings.realtime.websocket_management_url == state.websocket_management_url
        assert runtime.settings.realtime_events.websocket_management_url == state.websocket_management_url
        assert os.environ[MANAGEMENT_URL_ENV] == state.websocket_management_url
        assert state.websocket_management_url.startswith("http://127.0.0.1:")

        # When a client connects and sends a message
        with connect(state.websocket_url, subprotocols=subprotocols, open_timeout=5) as client:
            client.send(json.dumps({"action": "echo", "text": "cześć"}))
            answer = json.loads(client.recv(timeout=5))

        # Then the handler's answer, posted through the management API, reached it
        assert answer["text"] == "cześć"
    finally:
        runtime.stop()
    # and stopping the runtime closed the API and restored the environment
    assert not is_listening(state.host, state.websocket_port)
    assert os.environ.get(MANAGEMENT_URL_ENV) == environment_before


def test_without_the_websocket_handler_there_is_no_websocket_api(tmp_path):
    runtime = _runtime(tmp_path, "functions.not_yet_written.handler:lambda_handler")
    state = runtime.start()
    try:
        assert runtime.websocket_off_reason == "functions.not_yet_written.handler does not exist yet"
        assert state.websocket_port == 0
        assert state.websocket_url == ""
        assert requests.get(f"{state.api_url}/config.json", timeout=5).json()["websocketUrl"] is None
    finally:
        runtime.stop()
