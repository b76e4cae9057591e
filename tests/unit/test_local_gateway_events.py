"""The local gateway's request → API Gateway v2 event → response translation (no sockets)."""

from __future__ import annotations

import base64
import io
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2
from aws_lambda_powertools.utilities.parser.models import APIGatewayProxyEventV2Model

from local_runtime.authorizer import AuthorizerContext, UnauthorizedError
from local_runtime.gateway import (
    HttpRequest,
    HttpResponse,
    LocalGateway,
    RouteTable,
    _request_handler_for,
    build_event,
    response_from_result,
)

CLAIMS = {"sub": "b2f0c1d4", "username": "anna_kowalska", "client_id": "client-1", "exp": "1700003600"}
NOW = datetime(2024, 3, 12, 19, 3, 58, 390000, tzinfo=UTC)


class _StubAuthorizer:
    """Accepts exactly "Bearer good"."""

    def __init__(self) -> None:
        self.calls = 0

    def authorize(self, authorization: str | None) -> AuthorizerContext:
        self.calls += 1
        if authorization != "Bearer good":
            raise UnauthorizedError("the token has expired" if authorization else None)
        return AuthorizerContext(claims=dict(CLAIMS), scopes=["aws.cognito.signin.user.admin"])


class _RecordingHandler:
    def __init__(self, result: Any = None, error: Exception | None = None) -> None:
        self.events: list[dict[str, Any]] = []
        self.contexts: list[Any] = []
        self._result = result if result is not None else {"statusCode": 200, "body": "{}"}
        self._error = error

    def __call__(self, event: dict[str, Any], context: Any) -> Any:
        self.events.append(event)
        self.contexts.append(context)
        if self._error:
            raise self._error
        return self._result


def _request(method: str = "GET", target: str = "/messaging/threads", body: bytes = b"", **headers: str):
    pairs = [("Host", "127.0.0.1:8000"), ("User-Agent", "curl/8.5.0"), ("Authorization", "Bearer good")]
    pairs += [(name.replace("_", "-"), value) for name, value in headers.items()]
    return HttpRequest(method=method, target=target, headers=pairs, body=body, source_ip="127.0.0.1")


def _event_for(request: HttpRequest, authorized: bool = True) -> dict[str, Any]:
    match = RouteTable.default().match(request.method, request.raw_path)
    assert match is not None
    context = AuthorizerContext(dict(CLAIMS), ["aws.cognito.signin.user.admin"]) if authorized else None
    return build_event(request, match, context, request_id="JKJaXmPLvHcESHA=", now=NOW, local_port=8000)


def test_event_has_the_http_api_v2_shape():
    # Given a GET with a repeated query parameter, repeated headers and cookies
    request = HttpRequest(
        method="GET",
        target="/messaging/threads/01J9Z/messages?limit=20&before=x&before=y",
        headers=[
            ("Host", "127.0.0.1:8000"),
            ("User-Agent", "curl/8.5.0"),
            ("Accept", "application/json"),
            ("X-Multi", "one"),
            ("x-multi", "two"),
            ("Cookie", "session=abc; theme=dark"),
            ("Authorization", "Bearer good"),
        ],
        source_ip="127.0.0.1",
    )
    # When it becomes an event
    event = _event_for(request)
    # Then it is a payload 2.0 event on the matched route
    assert event["version"] == "2.0"
    assert event["routeKey"] == "GET /messaging/threads/{threadId}/messages"
    assert event["rawPath"] == "/messaging/threads/01J9Z/messages"
    assert event["rawQueryString"] == "limit=20&before=x&before=y"
    assert event["queryStringParameters"] == {"limit": "20", "before": "x,y"}
    assert event["pathParameters"] == {"threadId": "01J9Z"}
    assert event["cookies"] == ["session=abc", "theme=dark"]
    assert event["isBase64Encoded"] is False
    assert "body" not in event
    # headers: lower-cased, multi-values comma-joined, cookies moved out, forwarding headers added
    headers = event["headers"]
    assert headers["x-multi"] == "one,two"
    assert headers["accept"] == "application/json"
    assert "cookie" not in headers
    assert headers["x-forwarded-for"] == "127.0.0.1"
    assert headers["x-forwarded-port"] == "8000"
    assert headers["x-amzn-trace-id"].startswith("Root=1-")
    context = event["requestContext"]
    assert context["routeKey"] == event["routeKey"]
    assert context["stage"] == "$default"
    assert context["requestId"] == "JKJaXmPLvHcESHA="
    assert context["domainName"] == "127.0.0.1:8000"
    assert context["time"] == "12/Mar/2024:19:03:58 +0000"
    assert context["timeEpoch"] == 1710270238390
    assert context["http"] == {
        "method": "GET",
        "path": "/messaging/threads/01J9Z/messages",
        "protocol": "HTTP/1.1",
        "sourceIp": "127.0.0.1",
        "userAgent": "curl/8.5.0",
    }
    assert context["authorizer"] == {"jwt": {"claims": CLAIMS, "scopes": ["aws.cognito.signin.user.admin"]}}
    # and Powertools reads it as an HTTP API event
    APIGatewayProxyEventV2Model.model_validate(event)
    parsed = APIGatewayProxyEventV2(event)
    assert parsed.request_context.authorizer.jwt_claim["username"] == "anna_kowalska"
    assert parsed.get_query_string_value("limit") == "20"


def test_public_route_event_has_no_authorizer_and_no_optional_sections():
    # Given an unauthenticated GET without query, path parameters or cookies
    event = _event_for(_request(target="/openapi.json"), authorized=False)
    # Then only the keys API Gateway always sends are there
    assert "authorizer" not in event["requestContext"]
    for absent in ("queryStringParameters", "pathParameters", "cookies", "body", "stageVariables"):
        assert absent not in event
    assert event["rawQueryString"] == ""
    APIGatewayProxyEventV2Model.model_validate(event)


def test_json_body_is_passed_as_text():
    # Given a vendor JSON body / When it becomes an event / Then it stays text
    body = json.dumps({"text": "Dzień dobry"}).encode()
    event = _event_for(
        _request("POST", "/messaging/messages", body, Content_Type="application/vnd.allegro.public.v1+json")
    )
    assert event["isBase64Encoded"] is False
    assert json.loads(event["body"]) == {"text": "Dzień dobry"}


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/pdf", b"%PDF-1.7\n\xe2\xe3\xcf\xd3"),
        ("application/x-www-form-urlencoded", b"a=1"),
        (None, b"x"),
    ],
)
def test_non_text_bodies_are_base64_encoded(content_type, body):
    # Given a binary, form or untyped body
    headers = {"Content_Type": content_type} if content_type else {}
    # When it becomes an event
    event = _event_for(_request("POST", "/messaging/messages", body, **headers))
    # Then it is base64, as HTTP API sends it
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == body


def test_response_maps_status_headers_cookies_and_base64_body():
    # Given a proxy result with cookies and a base64 body
    result = {
        "statusCode": 201,
        "headers": {"Content-Type": "image/png", "Location": "/messaging/messages/M1"},
        "cookies": ["a=1; Path=/", "b=2"],
        "body": base64.b64encode(b"\x89PNG").decode(),
        "isBase64Encoded": True,
    }
    # When it becomes the HTTP response
    response = response_from_result(result)
    # Then everything arrives decoded, one Set-Cookie per cookie
    assert response.status == 201
    assert ("content-type", "image/png") in response.headers
    assert ("location", "/messaging/messages/M1") in response.headers
    assert [v for k, v in response.headers if k == "set-cookie"] == ["a=1; Path=/", "b=2"]
    assert response.body == b"\x89PNG"


def test_result_without_status_code_is_a_json_200():
    # Given a handler that returns a plain dict / Then API Gateway's inference applies
    response = response_from_result({"hello": "world"})
    assert response.status == 200
    assert ("content-type", "application/json") in response.headers
    assert json.loads(response.body) == {"hello": "world"}


def test_unknown_route_is_404_without_calling_the_handler():
    # Given a gateway / When an unknown path is requested
    handler = _RecordingHandler()
    gateway = LocalGateway(handler, _StubAuthorizer())
    response = gateway.handle(_request(target="/admin"))
    # Then API Gateway's 404 comes back and the handler never runs
    assert response.status == 404
    assert json.loads(response.body) == {"message": "Not Found"}
    assert handler.events == []


@pytest.mark.parametrize(("authorization", "challenge"), [(None, "Bearer"), ("Bearer expired", "invalid_token")])
def test_protected_route_without_valid_token_is_401_before_the_handler(authorization, challenge):
    # Given a protected route and a missing or bad token
    handler = _RecordingHandler()
    gateway = LocalGateway(handler, _StubAuthorizer())
    headers = [("Host", "127.0.0.1:8000")] + ([("Authorization", authorization)] if authorization else [])
    # When it is requested
    response = gateway.handle(HttpRequest("GET", "/messaging/threads", headers))
    # Then the authorizer rejects it like API Gateway does
    assert response.status == 401
    assert json.loads(response.body) == {"message": "Unauthorized"}
    assert challenge in dict(response.headers)["www-authenticate"]
    assert handler.events == []


def test_public_route_skips_the_authorizer():
    # Given the public OpenAPI route / When requested without a token / Then the handler runs
    authorizer = _StubAuthorizer()
    handler = _RecordingHandler()
    response = LocalGateway(handler, authorizer).handle(HttpRequest("GET", "/openapi.json", []))
    assert response.status == 200
    assert authorizer.calls == 0
    assert len(handler.events) == 1


def test_handler_crash_is_a_500_and_context_looks_like_lambdas():
    # Given a handler that raises
    handler = _RecordingHandler(error=RuntimeError("boom"))
    gateway = LocalGateway(handler, _StubAuthorizer())
    # When it is invoked
    response = gateway.handle(_request())
    # Then API Gateway's 500 comes back, with its request id header
    assert response.status == 500
    assert json.loads(response.body) == {"message": "Internal Server Error"}
    assert dict(response.headers)["apigw-requestid"]
    context = handler.contexts[0]
    assert context.function_name == "message-center-api"
    assert context.invoked_function_arn.startswith("arn:aws:lambda:eu-central-1:123456789012:function:")
    assert 0 < context.get_remaining_time_in_millis() <= 30_000
    assert context.aws_request_id


def test_malformed_proxy_result_is_a_500():
    handler = _RecordingHandler(result={"statusCode": "200", "body": "x"})
    response = LocalGateway(handler, _StubAuthorizer()).handle(_request())
    assert response.status == 500


def test_real_powertools_resolver_serves_the_gateway_events():
    # Given a Powertools HTTP API resolver using the route's template, claims, cookies and a binary body
    app = APIGatewayHttpResolver()

    @app.post("/messaging/threads/<threadId>/messages")
    def post_message(threadId: str) -> Response:
        event = app.current_event
        return Response(
            status_code=201,
            content_type="application/json",
            body=json.dumps(
                {
                    "thread": threadId,
                    "login": event.request_context.authorizer.jwt_claim["username"],
                    "body": event.decoded_body,
                    "cookie": event.cookies,
                }
            ),
            cookies=[],
        )

    gateway = LocalGateway(app.resolve, _StubAuthorizer())
    # When a request goes through the gateway
    response = gateway.handle(
        HttpRequest(
            "POST",
            "/messaging/threads/T1/messages",
            [("Authorization", "Bearer good"), ("Content-Type", "text/plain"), ("Cookie", "k=v")],
            body=b"hello",
        )
    )
    # Then Powertools routes it and sees the claims
    assert response.status == 201, response.body
    assert json.loads(response.body) == {
        "thread": "T1",
        "login": "anna_kowalska",
        "body": "hello",
        "cookie": ["k=v"],
    }


class _Connection:
    """Stands in for a client's TCP connection: the requests it sent, and each send the server made."""

    def __init__(self, requests: bytes) -> None:
        self._requests = io.BytesIO(requests)
        self.sends: list[bytes] = []

    def makefile(self, mode: str, buffering: int | None = None) -> io.BytesIO:
        assert "r" in mode  # the gateway writes unbuffered, straight to sendall
        return self._requests

    def sendall(self, data: bytes) -> None:
        self.sends.append(bytes(data))


def test_each_response_goes_out_in_one_send():
    # Given a gateway answering a local page, and a client sending two keep-alive requests
    body = b'{"page": "outbox"}'
    gateway = LocalGateway(
        None,
        _StubAuthorizer(),
        local_routes=lambda request: HttpResponse(200, [("content-type", "application/json")], body),
    )
    connection = _Connection(b"GET /_local/outbox HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" * 2)

    # When the server's request handler serves that connection
    _request_handler_for(gateway)(connection, ("127.0.0.1", 50000), None)  # type: ignore[arg-type]

    # Then each response (status line, headers and body) is written in one send, not headers and
    # body apart (the body would wait for the client's delayed ACK of the headers)
    assert len(connection.sends) == 2
    for sent in connection.sends:
        head, _, rest = sent.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200 OK\r\n")
        assert f"content-length: {len(body)}".encode() in head.split(b"\r\n")
        assert rest == body


def test_a_head_response_has_the_headers_only():
    # Given a gateway answering a local page / When a client asks for its headers only
    gateway = LocalGateway(None, _StubAuthorizer(), local_routes=lambda request: HttpResponse(200, [], b"12345"))
    connection = _Connection(b"HEAD /_local/outbox HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
    _request_handler_for(gateway)(connection, ("127.0.0.1", 50000), None)  # type: ignore[arg-type]
    # Then the length of the body is announced, and no body follows
    assert len(connection.sends) == 1
    assert connection.sends[0].endswith(b"content-length: 5\r\n\r\n")


def test_a_long_body_follows_its_headers_without_being_copied_behind_them():
    # Given a local page of a megabyte (the outbox of a busy runtime)
    body = b"x" * (1024 * 1024)
    gateway = LocalGateway(None, _StubAuthorizer(), local_routes=lambda request: HttpResponse(200, [], body))
    connection = _Connection(b"GET /_local/outbox HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
    # When it is served
    _request_handler_for(gateway)(connection, ("127.0.0.1", 50000), None)  # type: ignore[arg-type]
    # Then the headers go first and the body after them (full segments: no delayed-ACK wait)
    head, sent_body = connection.sends
    assert head.endswith(f"content-length: {len(body)}\r\n\r\n".encode())
    assert sent_body == body
