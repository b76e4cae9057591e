"""A WebSocket API handler for the tests of the local WebSocket gateway (not a project function).

``$connect`` accepts a client offering the subprotocols ``[SUBPROTOCOL, PASSWORD]`` and answers
``SUBPROTOCOL``; anything else gets 401. On ``$default`` it answers through the management API at
``$WEBSOCKET_MANAGEMENT_URL`` with boto3, as a real handler does: ``{"action": "echo", "text": T}``
→ ``{"type": "echo", "text": T, "connectionId": ...}`` to the sender; ``{"action": "leave"}``
→ DeleteConnection of the sender; ``{"action": "crash"}`` → the handler raises. Every event is
appended to ``EVENTS``.
"""

from __future__ import annotations

import json
import os
from typing import Any

import boto3

SUBPROTOCOL = "echo.v1"
PASSWORD = "open-sesame"
EVENTS: list[dict[str, Any]] = []
_CLIENTS: dict[str, Any] = {}


def management() -> Any:
    url = os.environ["WEBSOCKET_MANAGEMENT_URL"]
    if url not in _CLIENTS:
        _CLIENTS[url] = _client(url)
    return _CLIENTS[url]


def _client(url: str) -> Any:
    return boto3.session.Session(
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        aws_session_token="testing",
        region_name=os.environ.get("AWS_REGION", "eu-central-1"),
    ).client("apigatewaymanagementapi", endpoint_url=url)


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    EVENTS.append(event)
    request = event["requestContext"]
    connection_id = request["connectionId"]
    if request["routeKey"] == "$connect":
        offered = [part.strip() for part in (event.get("headers") or {}).get("Sec-WebSocket-Protocol", "").split(",")]
        if PASSWORD not in offered:
            return {"statusCode": 401}
        return {"statusCode": 200, "headers": {"Sec-WebSocket-Protocol": SUBPROTOCOL}}
    if request["routeKey"] == "$default":
        message = json.loads(event["body"])
        if message.get("action") == "crash":
            raise RuntimeError("the test handler crashes on request")
        if message.get("action") == "leave":
            management().delete_connection(ConnectionId=connection_id)
        else:
            answer = {"type": "echo", "text": message.get("text"), "connectionId": connection_id}
            management().post_to_connection(ConnectionId=connection_id, Data=json.dumps(answer).encode("utf-8"))
    return {"statusCode": 200}
