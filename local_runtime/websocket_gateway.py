"""The local stand-in for an API Gateway WebSocket API in front of one Lambda function.

What a client sees is what API Gateway does: the upgrade request waits while the handler runs the
``$connect`` route (after the REQUEST authorizer, when one is configured); a non-2xx answer refuses
the handshake with that status and the ``Sec-WebSocket-Protocol`` header the handler returns is
echoed in the ``101`` response. Every text message goes to ``$default`` (the route selection
expression is ``$request.body.action`` and no other route is defined); what ``$default`` returns is
not sent back (no route response), a crash is reported to the client as API Gateway reports it.
Binary frames close the connection (1003), as do messages over 128 KB (1009). When the connection
ends, by either side, after 10 minutes without a message from the client or after 2 hours,
``$disconnect`` runs with the close code and reason.

The handlers reach clients through the management API, served on its own port as
``http://HOST:PORT/STAGE`` (``management_url``, the ``endpoint_url`` of boto3's
``apigatewaymanagementapi`` client): ``POST``/``GET``/``DELETE /@connections/{id}``, a closed or
unknown connection answering 410 ``GoneException``.

Clients connect to ``ws://HOST:PORT`` (``url``; the stage's path ``/STAGE`` works too).
Events are shaped like the real ones (``requestContext`` with ``routeKey``, ``eventType``,
``connectionId``, ``connectedAt``...; headers on ``$connect``, ``body`` on messages,
``disconnectStatusCode``/``disconnectReason`` on ``$disconnect``). Invocations share the runtime's
invoke lock (one at a time, as elsewhere in the local runtime); headers, tokens and message bodies
are never logged.
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import secrets
import socket
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed, InvalidState
from websockets.http11 import Request, Response
from websockets.sync.server import Server, ServerConnection, serve

from local_runtime.gateway import ACCOUNT_ID, LambdaHandler, LocalLambdaContext, new_request_id

_logger = logging.getLogger(__name__)

DEFAULT_WEBSOCKET_HANDLER = "functions.realtime.handler:lambda_handler"
# Used when it exists: a REQUEST authorizer on $connect.
DEFAULT_WEBSOCKET_AUTHORIZER = "functions.realtime_authorizer.handler:lambda_handler"
# Where the handlers find the management API (the stack sets the deployed stage's URL).
MANAGEMENT_URL_ENV = "WEBSOCKET_MANAGEMENT_URL"
WEBSOCKET_API_ID = "localws001"
DEFAULT_STAGE = "local"
# API Gateway's WebSocket quotas: idle connections close after 10 minutes, any after 2 hours;
# a message is at most 128 KB (in 32 KB frames), and so is a PostToConnection payload.
IDLE_TIMEOUT_SECONDS = 10 * 60
MAX_CONNECTION_SECONDS = 2 * 60 * 60
MESSAGE_LIMIT_BYTES = 128 * 1024
SUBPROTOCOL_HEADER = "Sec-WebSocket-Protocol"
# Close codes (RFC 6455) API Gateway uses.
GOING_AWAY = 1001
UNSUPPORTED_DATA = 1003
NORMAL_CLOSURE = 1000
_CLOSE_SECONDS = 2.0
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


# --- events -------------------------------------------------------------------------------------


@dataclass
class Connection:
    """What API Gateway keeps of one connection (and hands to each of its events)."""

    connection_id: str
    connected_at: datetime
    source_ip: str
    user_agent: str
    domain_name: str
    authorizer: dict[str, Any] | None = None
    last_active_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    socket: ServerConnection | None = None

    @property
    def connected_at_ms(self) -> int:
        return int(self.connected_at.timestamp() * 1000)


def request_context(
    connection: Connection,
    route_key: str,
    event_type: str,
    *,
    now: datetime,
    stage: str,
    api_id: str = WEBSOCKET_API_ID,
) -> dict[str, Any]:
    """``requestContext`` of a WebSocket event, as API Gateway builds it."""
    request_id = new_request_id()
    context: dict[str, Any] = {
        "routeKey": route_key,
        "eventType": event_type,
        "extendedRequestId": request_id,
        "requestTime": _clf_time(now),
        "messageDirection": "IN",
        "stage": stage,
        "connectedAt": connection.connected_at_ms,
        "requestTimeEpoch": int(now.timestamp() * 1000),
        "identity": {"sourceIp": connection.source_ip, "userAgent": connection.user_agent},
        "requestId": request_id,
        "domainName": connection.domain_name,
        "connectionId": connection.connection_id,
        "apiId": api_id,
    }
    if connection.authorizer is not None:
        context["authorizer"] = dict(connection.authorizer)
    return context


def connect_headers(request_headers: Headers, source_ip: str, port: int, now: datetime) -> list[tuple[str, str]]:
    """The upgrade request's headers as the integration sees them (API Gateway adds the
    ``X-Forwarded-*`` and trace headers and drops hop-by-hop ones)."""
    headers = [
        (name, value)
        for name, value in request_headers.raw_items()
        if name.lower() not in ("connection", "upgrade", "x-forwarded-for", "x-forwarded-port", "x-forwarded-proto")
    ]
    forwarded_for = request_headers.get("X-Forwarded-For")
    headers += [
        ("X-Amzn-Trace-Id", f"Root=1-{int(now.timestamp()):08x}-{secrets.token_hex(12)}"),
        ("X-Forwarded-For", f"{forwarded_for}, {source_ip}" if forwarded_for else source_ip),
        ("X-Forwarded-Port", str(port)),
        ("X-Forwarded-Proto", "http"),
    ]
    return headers


def connect_event(
    connection: Connection, headers: list[tuple[str, str]], raw_query: str, *, now: datetime, stage: str
) -> dict[str, Any]:
    """The ``$connect`` event (the authorizer's context, if any, in ``requestContext.authorizer``)."""
    event: dict[str, Any] = {**_header_maps(headers)}
    event.update(_query_maps(raw_query))
    event["requestContext"] = request_context(connection, "$connect", "CONNECT", now=now, stage=stage)
    event["isBase64Encoded"] = False
    return event


def authorizer_event(
    connection: Connection,
    headers: list[tuple[str, str]],
    raw_query: str,
    *,
    now: datetime,
    stage: str,
    region: str,
) -> dict[str, Any]:
    """The input of a REQUEST authorizer on ``$connect``."""
    event: dict[str, Any] = {
        "type": "REQUEST",
        "methodArn": f"arn:aws:execute-api:{region}:{ACCOUNT_ID}:{WEBSOCKET_API_ID}/{stage}/$connect",
        **_header_maps(headers),
        **_query_maps(raw_query),
        "stageVariables": {},
        "requestContext": request_context(connection, "$connect", "CONNECT", now=now, stage=stage),
    }
    return event


def message_event(connection: Connection, body: str, *, now: datetime, stage: str) -> dict[str, Any]:
    """A ``MESSAGE`` event (every message goes to ``$default``)."""
    context = request_context(connection, "$default", "MESSAGE", now=now, stage=stage)
    context["messageId"] = new_request_id()
    return {"requestContext": context, "body": body, "isBase64Encoded": False}


def disconnect_event(connection: Connection, code: int, reason: str, *, now: datetime, stage: str) -> dict[str, Any]:
    """The ``$disconnect`` event: the close code and reason, and the few headers API Gateway keeps."""
    context = request_context(connection, "$disconnect", "DISCONNECT", now=now, stage=stage)
    context["disconnectStatusCode"] = code
    context["disconnectReason"] = reason
    headers = [("Host", connection.domain_name), ("x-api-key", ""), ("X-Forwarded-For", ""), ("x-restapi", "")]
    return {**_header_maps(headers), "requestContext": context, "isBase64Encoded": False}


def new_connection_id() -> str:
    """An id shaped like API Gateway's (``L0SM9cOFvHcCIhw=``), in the URL-safe alphabet: it goes
    into management API paths."""
    return base64.urlsafe_b64encode(secrets.token_bytes(11)).decode("ascii")


def _header_maps(headers: list[tuple[str, str]]) -> dict[str, Any]:
    single: dict[str, str] = {}
    multi: dict[str, list[str]] = {}
    for name, value in headers:
        single[name] = value
        multi.setdefault(name, []).append(value)
    return {"headers": single, "multiValueHeaders": multi}


def _query_maps(raw_query: str) -> dict[str, Any]:
    pairs = parse_qsl(raw_query, keep_blank_values=True)
    if not pairs:
        return {}
    multi: dict[str, list[str]] = {}
    for name, value in pairs:
        multi.setdefault(name, []).append(value)
    return {
        "queryStringParameters": {name: values[-1] for name, values in multi.items()},
        "multiValueQueryStringParameters": multi,
    }


def _clf_time(now: datetime) -> str:
    utc = now.astimezone(UTC)
    return f"{utc.day:02d}/{_MONTHS[utc.month - 1]}/{utc.year}:{utc:%H:%M:%S} +0000"


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# --- the gateway --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Refusal:
    status: int
    body: str


class WebSocketGateway:
    """Serves the WebSocket API on ``host:port`` and its management API on ``host:management_port``
    (0: any free port), each in background threads.

    ``handler`` serves ``$connect``, ``$disconnect`` and ``$default``; it may be given later
    (``gateway.handler = ...``), once the ports are bound and the handler's settings can name the
    management URL; until then connections are refused with 503. ``authorizer``: a REQUEST
    authorizer on ``$connect`` (identity source: the ``identity_headers``; a request without one is
    refused with 401 before it runs). ``invoke_lock`` serialises invocations with other functions.
    """

    def __init__(
        self,
        handler: LambdaHandler | None = None,
        *,
        authorizer: LambdaHandler | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        management_port: int = 0,
        region: str = "eu-central-1",
        stage: str = DEFAULT_STAGE,
        function_name: str = "message-center-realtime",
        authorizer_function_name: str = "message-center-realtime-authorizer",
        identity_headers: tuple[str, ...] = (SUBPROTOCOL_HEADER,),
        idle_timeout_seconds: float = IDLE_TIMEOUT_SECONDS,
        max_connection_seconds: float = MAX_CONNECTION_SECONDS,
        invoke_lock: threading.Lock | None = None,
    ) -> None:
        self.handler = handler
        self.authorizer = authorizer
        self._host = host
        self._port = port
        self._management_port = management_port
        self._region = region
        self._stage = stage
        self._function_name = function_name
        self._authorizer_function_name = authorizer_function_name
        self._identity_headers = identity_headers
        self._idle_timeout = idle_timeout_seconds
        self._max_age = max_connection_seconds
        self._invoke_lock = invoke_lock or threading.Lock()
        self._connections: dict[str, Connection] = {}
        # Connections between a successful $connect and the end of the handshake, by socket.
        self._opening: dict[ServerConnection, tuple[Connection, str | None]] = {}
        self._lock = threading.Lock()
        self._socket: socket.socket | None = None
        self._server: Server | None = None
        self._management: ThreadingHTTPServer | None = None
        self._threads: list[threading.Thread] = []

    # --- lifecycle ------------------------------------------------------------------------------

    @property
    def port(self) -> int:
        if self._socket is None:
            raise RuntimeError("the WebSocket gateway is not running")
        return int(self._socket.getsockname()[1])

    @property
    def management_port(self) -> int:
        if self._management is None:
            raise RuntimeError("the WebSocket gateway is not running")
        return int(self._management.server_address[1])

    @property
    def url(self) -> str:
        """Where clients connect (``ws://host:port``)."""
        return f"ws://{self._host}:{self.port}"

    @property
    def management_url(self) -> str:
        """The management API's endpoint, like ``https://{api-id}.execute-api.{region}.amazonaws.com/{stage}``."""
        return f"http://{self._host}:{self.management_port}/{self._stage}"

    def bind(self) -> tuple[int, int]:
        """Bind both listening sockets (connections wait until ``start``); return the two ports."""
        if self._socket is None:
            self._socket = socket.create_server((self._host, self._port))
        if self._management is None:
            self._management = ThreadingHTTPServer((self._host, self._management_port), _management_handler_for(self))
            self._management.daemon_threads = True
        return self.port, self.management_port

    def start(self) -> tuple[int, int]:
        """Bind if not bound yet, serve in daemon threads, and return the two ports."""
        self.bind()
        assert self._socket is not None
        assert self._management is not None
        self._server = serve(
            self._serve_connection,
            sock=self._socket,
            process_request=self._open,
            process_response=self._accept,
            compression=None,  # API Gateway negotiates no extension
            ping_interval=None,  # nor pings clients; the client's messages keep a connection alive
            max_size=MESSAGE_LIMIT_BYTES,
            close_timeout=_CLOSE_SECONDS,
            server_header=None,
        )
        for name, target in (("websocket", self._server.serve_forever), ("websocket-management", self._serve_api)):
            thread = threading.Thread(target=target, name=f"local-{name}", daemon=True)
            thread.start()
            self._threads.append(thread)
        return self.port, self.management_port

    def _serve_api(self) -> None:
        assert self._management is not None
        self._management.serve_forever(poll_interval=0.2)

    def stop(self) -> None:
        """Close every connection (each gets its ``$disconnect``), then stop listening (idempotent)."""
        if self._server is not None:
            self._server.shutdown(code=GOING_AWAY, reason="Going away")
            self._server = None
        elif self._socket is not None:
            self._socket.close()
        self._socket = None
        if self._management is not None:
            if self._threads:
                self._management.shutdown()
            self._management.server_close()
            self._management = None
        for thread in self._threads:
            thread.join(timeout=5)
        self._threads = []

    def connection_ids(self) -> list[str]:
        """The open connections' ids."""
        with self._lock:
            return list(self._connections)

    # --- handshake ------------------------------------------------------------------------------

    def _open(self, socket_: ServerConnection, request: Request) -> Response | None:
        """``process_request``: authorize and run ``$connect`` before the handshake is answered."""
        now = datetime.now(UTC)
        source_ip = str(socket_.remote_address[0])
        connection = Connection(
            connection_id=new_connection_id(),
            connected_at=now,
            source_ip=source_ip,
            user_agent=request.headers.get("User-Agent", ""),
            domain_name=request.headers.get("Host", f"{self._host}:{self.port}"),
            last_active_at=now,
        )
        path = urlsplit(request.path)
        if path.path not in ("", "/", f"/{self._stage}"):
            return socket_.respond(403, json.dumps({"message": "Forbidden"}))
        headers = connect_headers(request.headers, source_ip, self.port, now)
        refusal = self._authorize(connection, headers, path.query, now)
        if refusal is None:
            refusal, subprotocol = self._connect(connection, headers, path.query, now)
        if refusal is not None:
            response = socket_.respond(refusal.status, refusal.body)
            _logger.info("$connect refused -> %d", refusal.status)
            return response
        with self._lock:
            self._opening[socket_] = (connection, subprotocol)
        return None

    def _authorize(
        self, connection: Connection, headers: list[tuple[str, str]], raw_query: str, now: datetime
    ) -> _Refusal | None:
        if self.authorizer is None:
            return None
        present = {name.lower() for name, value in headers if value.strip()}
        if any(name.lower() not in present for name in self._identity_headers):
            return _Refusal(401, json.dumps({"message": "Unauthorized"}))
        event = authorizer_event(connection, headers, raw_query, now=now, stage=self._stage, region=self._region)
        started = time.monotonic()
        try:
            result = self._invoke(self.authorizer, self._authorizer_function_name, event)
        except Exception as error:  # an authorizer's "Unauthorized" error is a 401, any other crash a 500
            if str(error) == "Unauthorized":
                return _Refusal(401, json.dumps({"message": "Unauthorized"}))
            _logger.exception("the authorizer raised")
            return _Refusal(500, json.dumps({"message": "Internal Server Error"}))
        if not _allows(result):
            return _Refusal(403, json.dumps({"message": "Forbidden"}))
        context = {name: value for name, value in (result.get("context") or {}).items() if _is_scalar(value)}
        connection.authorizer = {
            **context,
            "principalId": str(result.get("principalId", "")),
            "integrationLatency": int((time.monotonic() - started) * 1000),
        }
        return None

    def _connect(
        self, connection: Connection, headers: list[tuple[str, str]], raw_query: str, now: datetime
    ) -> tuple[_Refusal | None, str | None]:
        handler = self.handler
        if handler is None:  # still starting
            return _Refusal(503, json.dumps({"message": "Service Unavailable"})), None
        event = connect_event(connection, headers, raw_query, now=now, stage=self._stage)
        started = time.monotonic()
        try:
            result = self._invoke(handler, self._function_name, event)
        except Exception:  # the Lambda runtime reports any crash; the handshake fails
            _logger.exception("$connect handler raised")
            return _Refusal(500, json.dumps({"message": "Internal server error"})), None
        status = result.get("statusCode", 200) if isinstance(result, Mapping) else 200
        if isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599:
            _logger.error("malformed $connect response: statusCode must be an integer HTTP status")
            return _Refusal(502, json.dumps({"message": "Internal server error"})), None
        _logger.info("$connect -> %d (%.0f ms)", status, (time.monotonic() - started) * 1000)
        if not 200 <= status < 300:
            body = result.get("body") if isinstance(result, Mapping) else None
            return _Refusal(status, body if isinstance(body, str) else ""), None
        headers_out = (result.get("headers") or {}) if isinstance(result, Mapping) else {}
        subprotocol = next(
            (str(value) for name, value in headers_out.items() if str(name).lower() == SUBPROTOCOL_HEADER.lower()),
            None,
        )
        return None, subprotocol

    def _accept(self, socket_: ServerConnection, request: Request, response: Response) -> Response | None:
        """``process_response``: the ``101`` carries the subprotocol ``$connect`` returned, if any,
        and the connection is known to the management API before the client learns it is open."""
        with self._lock:
            opening = self._opening.pop(socket_, None)
            if opening is None or response.status_code != 101:
                return None
            connection, subprotocol = opening
            connection.socket = socket_
            self._connections[connection.connection_id] = connection
        if subprotocol is not None:
            response.headers[SUBPROTOCOL_HEADER] = subprotocol
        return None

    # --- an open connection ---------------------------------------------------------------------

    def _serve_connection(self, socket_: ServerConnection) -> None:
        with self._lock:
            connection = next((known for known in self._connections.values() if known.socket is socket_), None)
        if connection is None:  # accepted by $connect, then refused: the server was stopping
            return
        try:
            self._receive(connection, socket_)
        finally:
            with self._lock:
                self._connections.pop(connection.connection_id, None)
            self._disconnect(connection, socket_)

    def _receive(self, connection: Connection, socket_: ServerConnection) -> None:
        opened = time.monotonic()
        last_message = opened
        while True:
            now = time.monotonic()
            if now - opened >= self._max_age or now - last_message >= self._idle_timeout:
                socket_.close(GOING_AWAY, "Going away")
                return
            wait = min(opened + self._max_age, last_message + self._idle_timeout) - now
            try:
                message = socket_.recv(timeout=wait)
            except TimeoutError:
                continue
            except ConnectionClosed:
                return
            last_message = time.monotonic()
            connection.last_active_at = datetime.now(UTC)
            if isinstance(message, bytes):
                socket_.close(UNSUPPORTED_DATA, "Binary frames are not supported")
                return
            self._default(connection, socket_, message)

    def _default(self, connection: Connection, socket_: ServerConnection, body: str) -> None:
        handler = self.handler
        assert handler is not None  # connections open only once there is a handler
        event = message_event(connection, body, now=datetime.now(UTC), stage=self._stage)
        started = time.monotonic()
        try:
            self._invoke(handler, self._function_name, event)  # no route response: the result is dropped
        except Exception:
            _logger.exception("$default handler raised")
            error = {
                "message": "Internal server error",
                "connectionId": connection.connection_id,
                "requestId": event["requestContext"]["requestId"],
            }
            with contextlib.suppress(ConnectionClosed):
                socket_.send(json.dumps(error))
            return
        _logger.info("$default (%.0f ms)", (time.monotonic() - started) * 1000)

    def _disconnect(self, connection: Connection, socket_: ServerConnection) -> None:
        handler = self.handler
        if handler is None:
            return
        code = socket_.close_code if socket_.close_code is not None else 1006
        reason = socket_.close_reason or ""
        event = disconnect_event(connection, code, reason, now=datetime.now(UTC), stage=self._stage)
        try:
            self._invoke(handler, self._function_name, event)
        except Exception:  # best effort, like API Gateway's
            _logger.exception("$disconnect handler raised")
            return
        _logger.info("$disconnect (%d)", code)

    def _invoke(self, handler: LambdaHandler, function_name: str, event: dict[str, Any]) -> Any:
        context = LocalLambdaContext(
            aws_request_id=str(uuid.uuid4()),
            function_name=function_name,
            invoked_function_arn=f"arn:aws:lambda:{self._region}:{ACCOUNT_ID}:function:{function_name}",
            log_group_name=f"/aws/lambda/{function_name}",
        )
        with self._invoke_lock:
            return handler(event, context)

    # --- the management API ---------------------------------------------------------------------

    def post_to_connection(self, connection_id: str, data: bytes) -> bool:
        """Send ``data`` (text when it is UTF-8); False when the connection is gone."""
        connection = self._open_connection(connection_id)
        if connection is None or connection.socket is None:
            return False
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            payload: str | bytes = data
        else:
            payload = text
        try:
            connection.socket.send(payload)
        except (ConnectionClosed, InvalidState):  # closed, or still in its handshake
            return False
        return True

    def delete_connection(self, connection_id: str) -> bool:
        """Close the connection (its ``$disconnect`` follows); False when it is gone."""
        connection = self._open_connection(connection_id)
        if connection is None or connection.socket is None:
            return False
        socket_ = connection.socket
        # Closing waits for the client's close frame: not on the caller's (a handler's) time.
        threading.Thread(target=socket_.close, args=(NORMAL_CLOSURE, ""), daemon=True).start()
        return True

    def connection_info(self, connection_id: str) -> dict[str, Any] | None:
        """GetConnection's answer, or None when the connection is gone."""
        connection = self._open_connection(connection_id)
        if connection is None:
            return None
        return {
            "connectedAt": _iso(connection.connected_at),
            "identity": {"sourceIp": connection.source_ip, "userAgent": connection.user_agent},
            "lastActiveAt": _iso(connection.last_active_at),
        }

    def _open_connection(self, connection_id: str) -> Connection | None:
        with self._lock:
            return self._connections.get(connection_id)

    @property
    def stage(self) -> str:
        return self._stage

    @property
    def api_id(self) -> str:
        return WEBSOCKET_API_ID


def _allows(result: Any) -> bool:
    """Whether a REQUEST authorizer's policy allows ``execute-api:Invoke`` (any Deny wins)."""
    if not isinstance(result, Mapping):
        return False
    statements = (result.get("policyDocument") or {}).get("Statement") or []
    if isinstance(statements, Mapping):
        statements = [statements]
    effects = {str(statement.get("Effect", "")).lower() for statement in statements if isinstance(statement, Mapping)}
    return "allow" in effects and "deny" not in effects


def _is_scalar(value: Any) -> bool:
    # API Gateway passes only string, number and boolean context values.
    return isinstance(value, str | int | float | bool)


# --- management API over HTTP -------------------------------------------------------------------

_CONNECTIONS_SEGMENT = "@connections"
# A larger body is refused unread (the connection closes).
_READ_LIMIT_BYTES = 10 * 1024 * 1024


def _management_handler_for(gateway: WebSocketGateway) -> type[BaseHTTPRequestHandler]:
    class _Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "message-center-local"

        def _serve(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            if length > _READ_LIMIT_BYTES:
                self.close_connection = True
                self._error(413, "PayloadTooLargeException", "Payload too large")
                return
            body = self.rfile.read(length) if length > 0 else b""
            if len(body) > MESSAGE_LIMIT_BYTES:
                self._error(413, "PayloadTooLargeException", "Payload too large")
                return
            connection_id = self._connection_id()
            if connection_id is None:
                self._send(404, {"message": "Not Found"})
                return
            if not self.headers.get("authorization"):  # the real API wants a SigV4 signature
                self._error(403, "ForbiddenException", "Missing Authentication Token")
                return
            if self.command == "POST":
                self._answer(gateway.post_to_connection(connection_id, body), 200, None)
            elif self.command == "DELETE":
                self._answer(gateway.delete_connection(connection_id), 204, None)
            elif self.command == "GET":
                info = gateway.connection_info(connection_id)
                self._answer(info is not None, 200, info)
            else:
                self._send(405, {"message": "Method Not Allowed"})

        do_GET = do_POST = do_DELETE = do_PUT = do_PATCH = _serve

        def _connection_id(self) -> str | None:
            segments = urlsplit(self.path).path.split("/")
            # /{stage}/@connections/{connectionId}
            if len(segments) != 4 or segments[1] != gateway.stage or segments[2] != _CONNECTIONS_SEGMENT:
                return None
            return unquote(segments[3]) or None

        def _answer(self, found: bool, status: int, body: dict[str, Any] | None) -> None:
            if not found:
                self._error(410, "GoneException", None)
            else:
                self._send(status, body)

        def _error(self, status: int, error_type: str, message: str | None) -> None:
            self._send(status, {"message": message}, ("x-amzn-ErrorType", error_type))

        def _send(self, status: int, body: dict[str, Any] | None, *headers: tuple[str, str]) -> None:
            payload = b"" if body is None or status == 204 else json.dumps(body).encode("utf-8")
            lines = [
                f"{self.protocol_version} {status} {self.responses.get(status, ('',))[0]}",
                f"date: {self.date_time_string()}",
                "content-type: application/json",
                f"x-amzn-RequestId: {uuid.uuid4()}",
                *(f"{name}: {value}" for name, value in headers),
                f"content-length: {len(payload)}",
            ]
            # One write: headers and body written apart wait on Nagle's algorithm (~40 ms).
            self.wfile.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + payload)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # paths carry connection ids only, but the requests are many: not logged

    return _Handler
