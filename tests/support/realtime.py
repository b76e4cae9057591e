"""The live channel as API Gateway drives it: WebSocket events from ``events/`` for the real
``functions/realtime`` handler, the table stream for the real ``functions/realtime_events``
handler, Cognito access tokens from the emulated user pool, and the management API's
PostToConnection captured at the adapter boundary (moto keeps no per-connection history and
cannot answer 410)."""

from __future__ import annotations

import gzip
import json
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import boto3
import jwt
import moto.cognitoidp
from botocore.exceptions import ClientError
from message_center.adapters.websocket import ConnectionGone
from message_center.deployment import REALTIME_SOURCE

from local_runtime.stream_poller import matches_any
from tests.conftest import REGION
from tests.support.api import LambdaContext, load_event
from tests.support.stream import _as_lambda_sends

PASSWORD = "Live-Channel-Test-9!"


class CapturedSockets:
    """Stands in for ``WebSocketConnections``: records what each connection was sent; a connection
    in ``gone`` answers 410, one in ``failing`` a throttling error."""

    def __init__(self) -> None:
        self.sent: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.gone: set[str] = set()
        self.failing: set[str] = set()

    def post(self, connection_id: str, payload: bytes) -> None:
        if connection_id in self.gone:
            raise ConnectionGone(connection_id)
        if connection_id in self.failing:
            raise ClientError(
                {"Error": {"Code": "LimitExceededException", "Message": "Rate exceeded"}}, "PostToConnection"
            )
        self.sent[connection_id].append(json.loads(payload))

    def events(self, connection_id: str) -> list[dict[str, Any]]:
        """What the connection received, pongs and errors left out."""
        return [message for message in self.sent[connection_id] if "id" in message]


def install(settings: Any, monkeypatch: Any) -> CapturedSockets:
    """Both real-time handlers wired as deployed, except that their sockets are captured."""
    from message_center.composition import Container, realtime_events_services, realtime_services
    from message_center.settings import RealtimeEventsSettings, RealtimeSettings

    from functions.realtime import handler as realtime_handler
    from functions.realtime_events import handler as events_handler

    sockets = CapturedSockets()
    connections = Container(RealtimeSettings, lambda s: realtime_services(s, sockets=sockets))
    connections.install(settings.realtime)
    live = Container(RealtimeEventsSettings, lambda s: realtime_events_services(s, sockets=sockets))
    live.install(settings.realtime_events)
    monkeypatch.setattr(realtime_handler, "container", connections)
    monkeypatch.setattr(events_handler, "container", live)
    return sockets


# -- tokens -------------------------------------------------------------------------------


def access_token(settings: Any, login: str) -> str:
    """A real access token of the emulated user pool for ``login``."""
    cognito = boto3.client("cognito-idp", region_name=REGION)
    pool_id, client_id = settings.directory.user_pool_id, settings.realtime.token_audiences
    cognito.admin_set_user_password(UserPoolId=pool_id, Username=login, Password=PASSWORD, Permanent=True)
    result = cognito.admin_initiate_auth(
        UserPoolId=pool_id,
        ClientId=client_id,
        AuthFlow="ADMIN_USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": login, "PASSWORD": PASSWORD},
    )
    return str(result["AuthenticationResult"]["AccessToken"])


def _pool_signing_key() -> dict[str, Any]:
    """The emulated pool's private signing key (moto signs every token with it)."""
    path = Path(moto.cognitoidp.__file__).parent / "resources" / "jwks-private.json.gz"
    document: dict[str, Any] = json.loads(gzip.decompress(path.read_bytes()))
    return document


def signed_token(settings: Any, user_id: str, **overrides: Any) -> str:
    """An access token signed with the pool's key, with claims overridden (e.g. an old ``exp``)."""
    now = int(time.time())
    claims = {
        "sub": user_id,
        "iss": settings.realtime.token_issuer,
        "client_id": settings.realtime.token_audiences,
        "token_use": "access",
        "iat": now - 60,
        "exp": now + 3600,
        **overrides,
    }
    key = jwt.PyJWK.from_dict(_pool_signing_key())
    return jwt.encode(claims, key.key, algorithm="RS256", headers={"kid": key.key_id})


# -- WebSocket events -------------------------------------------------------------------------


def websocket(name: str, connection_id: str, *, protocol: str | None = None, body: str | None = None) -> dict[str, Any]:
    """``events/<name>.json`` for ``connection_id``; ``protocol``: the Sec-WebSocket-Protocol
    header (None: left out)."""
    event = load_event(name)
    event["requestContext"]["connectionId"] = connection_id
    if "headers" in event:
        event["headers"].pop("Sec-WebSocket-Protocol", None)
        event["multiValueHeaders"].pop("Sec-WebSocket-Protocol", None)
        if protocol is not None:
            event["headers"]["Sec-WebSocket-Protocol"] = protocol
            event["multiValueHeaders"]["Sec-WebSocket-Protocol"] = [protocol]
    if body is not None:
        event["body"] = body
    return event


def invoke_websocket(event: dict[str, Any]) -> dict[str, Any]:
    from functions.realtime.handler import lambda_handler

    result: dict[str, Any] = lambda_handler(event, LambdaContext(function_name="message-center-realtime"))
    return result


def connect(connection_id: str, token: str) -> dict[str, Any]:
    return invoke_websocket(websocket("ws_connect", connection_id, protocol=f"message-center.v1, {token}"))


# -- the stream -------------------------------------------------------------------------------


def live_batch(records: list[dict[str, Any]]) -> dict[str, Any]:
    """A Lambda event of the records the live events mapping's filters pass."""
    shaped = [_as_lambda_sends(record) for record in records]
    return {"Records": [record for record in shaped if matches_any(REALTIME_SOURCE.filter_patterns, record)]}


def deliver(event: dict[str, Any]) -> dict[str, Any]:
    """The live events function invoked with ``event``, as the mapping would (never empty)."""
    from functions.realtime_events.handler import lambda_handler

    if not event["Records"]:
        return {"batchItemFailures": []}
    result: dict[str, Any] = lambda_handler(event, LambdaContext(function_name="message-center-realtime-events"))
    return result
