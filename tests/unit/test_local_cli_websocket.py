"""`message-center serve` puts the WebSocket API next to the HTTP API unless told otherwise."""

from __future__ import annotations

import pytest

from local_runtime.cli import _build_parser, _websocket_port


@pytest.mark.parametrize(
    ("arguments", "port"),
    [
        ([], 8001),  # next to the API's default 8000
        (["--port", "9000"], 9001),
        (["--port", "0"], 0),  # any free port, like the API's (tests, parallel runs)
        (["--ws-port", "7000"], 7000),
        (["--port", "0", "--ws-port", "7000"], 7000),
    ],
)
def test_the_websocket_port_follows_the_apis_unless_given(arguments, port):
    assert _websocket_port(_build_parser().parse_args(["serve", *arguments])) == port
