"""The local WebSocket API behaves like API Gateway's in front of a handler: $connect decides the
handshake, messages reach $default, the management API (through boto3, as handlers call it) sends
to and closes connections, a gone connection is 410 GoneException, and $disconnect follows every
close. Real sockets on both sides; the handler is tests/support/realtime_echo."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
from botocore.exceptions import ClientError
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect
from websockets.typing import Subprotocol

from local_runtime.websocket_gateway import MANAGEMENT_URL_ENV, WebSocketGateway
from tests.support.realtime_echo import handler as echo

WAIT_SECONDS = 5.0
OFFER = [Subprotocol(echo.SUBPROTOCOL), Subprotocol(echo.PASSWORD)]


def _eventually(check: Callable[[], Any], timeout: float = WAIT_SECONDS) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.02)


def _events(route: str) -> list[dict[str, Any]]:
    return [event for event in echo.EVENTS if event["requestContext"]["routeKey"] == route]


def _disconnect_of(connection_id: str) -> dict[str, Any] | None:
    return next(
        (event for event in _events("$disconnect") if event["requestContext"]["connectionId"] == connection_id), None
    )


def _management(gateway: WebSocketGateway) -> Any:
    """A boto3 client of the gateway's management API, as the handlers make it."""
    return echo._client(gateway.management_url)


def _start(**options: Any) -> WebSocketGateway:
    gateway = WebSocketGateway(echo.lambda_handler, **options)
    gateway.start()
    return gateway


@pytest.fixture(scope="module")
def gateway() -> Iterator[WebSocketGateway]:
    running = _start()
    saved = os.environ.get(MANAGEMENT_URL_ENV)
    os.environ[MANAGEMENT_URL_ENV] = running.management_url
    yield running
    running.stop()
    if saved is None:
        os.environ.pop(MANAGEMENT_URL_ENV, None)
    else:
        os.environ[MANAGEMENT_URL_ENV] = saved


@pytest.fixture(autouse=True)
def _fresh_events() -> None:
    echo.EVENTS.clear()


def _open(gateway: WebSocketGateway, path: str = "", offer: list[Subprotocol] = OFFER) -> ClientConnection:
    return connect(f"{gateway.url}{path}", subprotocols=offer, open_timeout=WAIT_SECONDS)


def _echo(client: ClientConnection, text: str) -> dict[str, Any]:
    client.send(json.dumps({"action": "echo", "text": text}))
    answer: dict[str, Any] = json.loads(client.recv(timeout=WAIT_SECONDS))
    return answer


# --- the handshake ------------------------------------------------------------------------------


def test_a_connection_the_handler_accepts_opens_with_the_subprotocol_it_answers(gateway):
    # Given a client offering the handler's subprotocol and the word it expects
    # When it connects
    with _open(gateway) as client:
        # Then the handshake succeeded with the subprotocol $connect returned, and the connection is open
        assert client.subprotocol == echo.SUBPROTOCOL
        (connected,) = _events("$connect")
        assert gateway.connection_ids() == [connected["requestContext"]["connectionId"]]


def test_a_connection_the_handler_refuses_gets_its_status_and_never_opens(gateway):
    # Given a client without the expected word
    # When it tries to connect
    with pytest.raises(InvalidStatus) as refused:
        _open(gateway, offer=[Subprotocol(echo.SUBPROTOCOL), Subprotocol("wrong")])

    # Then the upgrade is answered with $connect's 401, nothing is open and no $disconnect follows
    assert refused.value.response.status_code == 401
    (connected,) = _events("$connect")
    assert gateway.connection_ids() == []
    time.sleep(0.2)
    assert _disconnect_of(connected["requestContext"]["connectionId"]) is None


def test_the_connect_event_is_shaped_like_api_gateways(gateway):
    # When a client connects with a query string and a user agent
    with connect(f"{gateway.url}/?lang=pl&lang=en", subprotocols=OFFER, user_agent_header="test-browser/1.0") as client:
        client.send(json.dumps({"action": "echo", "text": "x"}))
        client.recv(timeout=WAIT_SECONDS)

    # Then the handler saw the real event's fields
    (event,) = _events("$connect")
    context = event["requestContext"]
    assert context["routeKey"] == "$connect"
    assert context["eventType"] == "CONNECT"
    assert context["messageDirection"] == "IN"
    assert context["stage"] == "local"
    assert context["apiId"] == gateway.api_id
    assert context["domainName"] == f"127.0.0.1:{gateway.port}"
    assert context["identity"] == {"sourceIp": "127.0.0.1", "userAgent": "test-browser/1.0"}
    assert len(context["connectionId"]) == 16
    assert len(context["requestId"]) == 16
    assert abs(context["connectedAt"] - time.time() * 1000) < 60_000
    assert event["headers"]["Sec-WebSocket-Protocol"] == f"{echo.SUBPROTOCOL}, {echo.PASSWORD}"
    assert event["multiValueHeaders"]["Sec-WebSocket-Protocol"] == [f"{echo.SUBPROTOCOL}, {echo.PASSWORD}"]
    assert event["headers"]["Host"] == context["domainName"]
    assert event["headers"]["X-Forwarded-For"] == "127.0.0.1"
    assert "Sec-WebSocket-Key" in event["headers"]
    assert event["queryStringParameters"] == {"lang": "en"}
    assert event["multiValueQueryStringParameters"] == {"lang": ["pl", "en"]}
    assert event["isBase64Encoded"] is False
    # and the message that followed belongs to the same connection, with its connectedAt
    (message,) = _events("$default")
    assert message["requestContext"]["connectionId"] == context["connectionId"]
    assert message["requestContext"]["connectedAt"] == context["connectedAt"]
    assert message["requestContext"]["eventType"] == "MESSAGE"
    assert len(message["requestContext"]["messageId"]) == 16
    assert message["body"] == '{"action": "echo", "text": "x"}'
    assert "headers" not in message


def test_a_path_other_than_the_stage_is_forbidden(gateway):
    with pytest.raises(InvalidStatus) as refused:
        _open(gateway, path="/other-stage")
    assert refused.value.response.status_code == 403
    assert _events("$connect") == []


# --- messages and the management API ------------------------------------------------------------


def test_a_message_reaches_default_and_the_handler_answers_through_the_management_api(gateway):
    # Given an open connection
    with _open(gateway) as client:
        # When the client sends a message
        answer = _echo(client, "Dzień dobry")

    # Then $default ran with it and its PostToConnection reached this client
    (message,) = _events("$default")
    assert answer == {
        "type": "echo",
        "text": "Dzień dobry",
        "connectionId": message["requestContext"]["connectionId"],
    }


def test_several_connections_of_one_user_each_get_what_is_posted_to_them(gateway):
    # Given the same user connected twice (two devices)
    with _open(gateway) as phone, _open(gateway) as laptop:
        phone_id = _echo(phone, "phone")["connectionId"]
        laptop_id = _echo(laptop, "laptop")["connectionId"]
        assert phone_id != laptop_id

        # When a handler posts to each of them
        management = _management(gateway)
        management.post_to_connection(ConnectionId=laptop_id, Data=b'{"type":"for-laptop"}')
        management.post_to_connection(ConnectionId=phone_id, Data='{"type":"dla-telefonu-ż"}'.encode())

        # Then each receives its own, as a text frame
        assert laptop.recv(timeout=WAIT_SECONDS) == '{"type":"for-laptop"}'
        assert phone.recv(timeout=WAIT_SECONDS) == '{"type":"dla-telefonu-ż"}'


def test_get_connection_describes_the_connection(gateway):
    with connect(gateway.url, subprotocols=OFFER, user_agent_header="test-browser/2.0") as client:
        connection_id = _echo(client, "hello")["connectionId"]

        info = _management(gateway).get_connection(ConnectionId=connection_id)

    assert info["Identity"] == {"SourceIp": "127.0.0.1", "UserAgent": "test-browser/2.0"}
    assert info["ConnectedAt"] <= info["LastActiveAt"]


def test_delete_connection_closes_the_socket_and_disconnect_follows(gateway):
    # Given an open connection
    with _open(gateway) as client:
        connection_id = _echo(client, "hello")["connectionId"]

        # When a handler deletes it
        _management(gateway).delete_connection(ConnectionId=connection_id)

        # Then the client sees a normal close and $disconnect runs
        with pytest.raises(ConnectionClosed) as closed:
            client.recv(timeout=WAIT_SECONDS)
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 1000
    disconnect = _eventually(lambda: _disconnect_of(connection_id))
    assert disconnect["requestContext"]["disconnectStatusCode"] == 1000


def test_a_handler_may_close_the_connection_it_is_serving(gateway):
    # Given an open connection whose client asks to leave
    with _open(gateway) as client:
        client.send(json.dumps({"action": "leave"}))

        # Then the handler's DeleteConnection (made while $default runs) closes it
        with pytest.raises(ConnectionClosed):
            client.recv(timeout=WAIT_SECONDS)
    (message,) = _events("$default")
    assert _eventually(lambda: _disconnect_of(message["requestContext"]["connectionId"]))


def test_a_gone_connection_answers_410_gone_exception(gateway):
    # Given a connection that was closed by its client
    with _open(gateway) as client:
        connection_id = _echo(client, "bye")["connectionId"]
    assert _eventually(lambda: connection_id not in gateway.connection_ids())
    management = _management(gateway)

    # When a handler posts to it, reads it or deletes it
    # Then boto3 raises GoneException (HTTP 410) each time, as for an id that never existed
    for call in (
        lambda: management.post_to_connection(ConnectionId=connection_id, Data=b"{}"),
        lambda: management.get_connection(ConnectionId=connection_id),
        lambda: management.delete_connection(ConnectionId=connection_id),
        lambda: management.post_to_connection(ConnectionId="Tm9TdWNoQ29ubg=", Data=b"{}"),
    ):
        with pytest.raises(management.exceptions.GoneException) as gone:
            call()
        assert gone.value.response["ResponseMetadata"]["HTTPStatusCode"] == 410


def test_a_payload_over_128_kb_is_refused(gateway):
    with _open(gateway) as client:
        connection_id = _echo(client, "hi")["connectionId"]
        management = _management(gateway)
        with pytest.raises(ClientError) as refused:
            management.post_to_connection(ConnectionId=connection_id, Data=b"x" * (128 * 1024 + 1))
        assert refused.value.response["Error"]["Code"] == "PayloadTooLargeException"
        # and the connection is still usable
        assert _echo(client, "still here")["text"] == "still here"


def test_unsigned_management_calls_are_forbidden(gateway):
    with _open(gateway) as client:
        connection_id = _echo(client, "hi")["connectionId"]
        response = requests.post(f"{gateway.management_url}/@connections/{connection_id}", data=b"{}", timeout=5)
        assert response.status_code == 403
        assert response.headers["x-amzn-ErrorType"] == "ForbiddenException"


def test_disconnect_runs_with_the_clients_close_code_and_reason(gateway):
    # Given an open connection
    with _open(gateway) as client:
        connection_id = _echo(client, "hi")["connectionId"]

        # When the client closes it
        client.close(code=4001, reason="tab closed")

    # Then $disconnect runs with that code and reason, and the connection is gone
    disconnect = _eventually(lambda: _disconnect_of(connection_id))
    context = disconnect["requestContext"]
    assert (context["eventType"], context["disconnectStatusCode"], context["disconnectReason"]) == (
        "DISCONNECT",
        4001,
        "tab closed",
    )
    assert disconnect["headers"]["Host"] == context["domainName"]
    assert connection_id not in gateway.connection_ids()


def test_a_crashing_default_handler_is_reported_to_the_client(gateway):
    with _open(gateway) as client:
        client.send(json.dumps({"action": "crash"}))
        error = json.loads(client.recv(timeout=WAIT_SECONDS))
        (message,) = _events("$default")
        assert error == {
            "message": "Internal server error",
            "connectionId": message["requestContext"]["connectionId"],
            "requestId": message["requestContext"]["requestId"],
        }
        # and the connection stays open
        assert _echo(client, "after")["text"] == "after"


def test_binary_frames_close_the_connection(gateway):
    with _open(gateway) as client:
        client.send(b"\x00\x01")
        with pytest.raises(ConnectionClosed) as closed:
            client.recv(timeout=WAIT_SECONDS)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 1003
    assert _events("$default") == []


# --- timeouts -----------------------------------------------------------------------------------


def test_an_idle_connection_is_closed_after_the_idle_timeout():
    # Given a gateway whose idle timeout is short
    gateway = _start(idle_timeout_seconds=0.3)
    try:
        with _open(gateway) as client:
            # When the client sends nothing
            started = time.monotonic()
            with pytest.raises(ConnectionClosed) as closed:
                client.recv(timeout=WAIT_SECONDS)
            # Then the gateway closes it (going away) and $disconnect runs
            assert time.monotonic() - started >= 0.25
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 1001
        (connected,) = _events("$connect")
        assert _eventually(lambda: _disconnect_of(connected["requestContext"]["connectionId"]))
    finally:
        gateway.stop()


def _talk_until_closed(client: ClientConnection) -> float:
    """Seconds until the gateway closed the connection, the client sending every 0.1 s."""
    started = time.monotonic()
    while time.monotonic() - started < WAIT_SECONDS:
        try:
            _echo(client, "still here")
        except ConnectionClosed:
            return time.monotonic() - started
        time.sleep(0.1)
    raise AssertionError("the connection stayed open")


def test_an_active_connection_is_closed_at_its_maximum_age():
    # Given a gateway whose connections last 0.5 s at most, and a client that keeps talking
    gateway = _start(idle_timeout_seconds=WAIT_SECONDS, max_connection_seconds=0.5)
    saved = os.environ.get(MANAGEMENT_URL_ENV)
    os.environ[MANAGEMENT_URL_ENV] = gateway.management_url
    try:
        with _open(gateway) as client:
            # Then it is closed once its age is reached, not earlier
            assert _talk_until_closed(client) >= 0.45
    finally:
        gateway.stop()
        if saved is None:
            os.environ.pop(MANAGEMENT_URL_ENV, None)
        else:
            os.environ[MANAGEMENT_URL_ENV] = saved


def test_stopping_the_gateway_disconnects_every_client():
    # Given a client connected to a gateway
    gateway = _start()
    with _open(gateway) as client:
        (connected,) = _events("$connect")

        # When the gateway stops
        gateway.stop()

        # Then the client is told the server goes away, after $disconnect ran
        with pytest.raises(ConnectionClosed):
            client.recv(timeout=WAIT_SECONDS)
    disconnect = _disconnect_of(connected["requestContext"]["connectionId"])
    assert disconnect is not None
    assert disconnect["requestContext"]["disconnectStatusCode"] == 1001


# --- a REQUEST authorizer -----------------------------------------------------------------------


class _Authorizer:
    """Allows the token "good", denies "bad", raises Unauthorized for anything else."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def __call__(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        self.events.append(event)
        token = event["headers"]["Sec-WebSocket-Protocol"].split(",")[-1].strip()
        if token not in ("good", "bad"):
            raise Exception("Unauthorized")  # what an authorizer raises for a 401
        effect = "Allow" if token == "good" else "Deny"
        return {
            "principalId": "user-123",
            "policyDocument": {
                "Version": "2012-10-17",
                "Statement": [{"Action": "execute-api:Invoke", "Effect": effect, "Resource": event["methodArn"]}],
            },
            "context": {"sub": "user-123", "login": "anna_kowalska", "nested": {"dropped": True}},
        }


@pytest.fixture(scope="module")
def authorized() -> Iterator[tuple[WebSocketGateway, _Authorizer]]:
    authorizer = _Authorizer()
    gateway = WebSocketGateway(echo.lambda_handler, authorizer=authorizer)
    gateway.start()
    saved = os.environ.get(MANAGEMENT_URL_ENV)
    os.environ[MANAGEMENT_URL_ENV] = gateway.management_url
    yield gateway, authorizer
    gateway.stop()
    if saved is None:
        os.environ.pop(MANAGEMENT_URL_ENV, None)
    else:
        os.environ[MANAGEMENT_URL_ENV] = saved


def test_the_authorizers_context_reaches_every_event_of_the_connection(authorized):
    gateway, authorizer = authorized
    # When a client with a token the authorizer allows connects and talks
    with _open(gateway, offer=[Subprotocol(echo.SUBPROTOCOL), Subprotocol(echo.PASSWORD), Subprotocol("good")]) as c:
        _echo(c, "hi")

    # Then the authorizer got a REQUEST event for $connect, and its context is in each event
    request = authorizer.events[-1]
    assert request["type"] == "REQUEST"
    assert request["methodArn"].endswith(f":{gateway.api_id}/local/$connect")
    for route in ("$connect", "$default"):
        (event,) = _events(route)
        context = event["requestContext"]["authorizer"]
        assert (context["principalId"], context["sub"], context["login"]) == ("user-123", "user-123", "anna_kowalska")
        assert "nested" not in context


@pytest.mark.parametrize(("token", "status"), [("bad", 403), ("forged", 401)])
def test_a_denied_or_unauthorized_connection_never_reaches_connect(authorized, token, status):
    gateway, _ = authorized
    with pytest.raises(InvalidStatus) as refused:
        _open(gateway, offer=[Subprotocol(echo.SUBPROTOCOL), Subprotocol(echo.PASSWORD), Subprotocol(token)])
    assert refused.value.response.status_code == status
    assert _events("$connect") == []


def test_without_the_identity_header_the_authorizer_is_not_even_called(authorized):
    gateway, authorizer = authorized
    calls = len(authorizer.events)
    with pytest.raises(InvalidStatus) as refused:
        connect(gateway.url, open_timeout=WAIT_SECONDS)
    assert refused.value.response.status_code == 401
    assert len(authorizer.events) == calls
    assert _events("$connect") == []
