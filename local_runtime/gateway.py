"""The local HTTP gateway: HTTP request → API Gateway HTTP API (payload 2.0) event → handler.

It behaves like an HTTP API in front of one Lambda function: routes come from the API contract,
an unknown route is a 404 ``{"message":"Not Found"}``, protected routes pass the JWT authorizer
first, the handler's proxy result becomes the HTTP response, and a handler crash is a 500
``{"message":"Internal Server Error"}``. Invocations are serialised, like one Lambda execution
environment (the handler's module-level resolver is not meant to serve two events at once).
"""

from __future__ import annotations

import base64
import json
import logging
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import parse_qsl, unquote

from message_center.api.contract import ROUTES, Route

from local_runtime.authorizer import AuthorizerContext, UnauthorizedError

_logger = logging.getLogger(__name__)

LambdaHandler = Callable[[dict[str, Any], Any], Any]
LocalRoutes = Callable[["HttpRequest"], "HttpResponse"]


class StaticSite(Protocol):
    """What is served outside the API's routes (the web client): ``serves`` says whether it takes
    a request that matched no route."""

    def serves(self, request: HttpRequest) -> bool: ...

    def handle(self, request: HttpRequest) -> HttpResponse: ...


# Developer endpoints of the local runtime (outbox, push log...): never an API route.
LOCAL_PREFIX = "/_local"

# Served by the handler (Powertools' Swagger UI, assets inlined) but not part of the contract.
EXTRA_PUBLIC_ROUTES: tuple[Route, ...] = (Route("GET", "/swagger", authorized=False),)

ACCOUNT_ID = "123456789012"  # moto's default account
API_ID = "localapi01"
PAYLOAD_LIMIT_BYTES = 10 * 1024 * 1024  # HTTP API request payload quota
_COPY_BODY_UP_TO_BYTES = 64 * 1024  # a response body up to this size is sent in one write with its headers
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_TEXT_MEDIA_TYPES = frozenset({"application/json", "application/xml", "application/javascript"})


class Authorizer(Protocol):
    def authorize(self, authorization: str | None) -> AuthorizerContext: ...


# --- routes -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RouteMatch:
    route: Route
    path_parameters: dict[str, str]


@dataclass(frozen=True)
class _Template:
    route: Route
    segments: tuple[str, ...]

    def match(self, segments: list[str]) -> tuple[tuple[int, ...], dict[str, str]] | None:
        """(specificity rank, path parameters) when ``segments`` fit this template."""
        rank: list[int] = []
        parameters: dict[str, str] = {}
        for position, pattern in enumerate(self.segments):
            if pattern.startswith("{") and pattern.endswith("+}"):  # greedy, always last
                rest = segments[position:]
                if not rest or not rest[0]:
                    return None
                parameters[pattern[1:-2]] = unquote("/".join(rest))
                return (*rank, 2), parameters
            if position >= len(segments):
                return None
            if pattern.startswith("{") and pattern.endswith("}"):
                if not segments[position]:
                    return None
                parameters[pattern[1:-1]] = unquote(segments[position])
                rank.append(1)
            elif pattern == segments[position]:
                rank.append(0)
            else:
                return None
        if len(segments) != len(self.segments):
            return None
        return tuple(rank), parameters


class RouteTable:
    """Matches requests to routes like an HTTP API: case-sensitive paths, the most specific route
    wins (literal segments beat ``{param}``, which beats ``{proxy+}``), and the method is part of the
    route — a known path with another method is simply no match."""

    def __init__(self, routes: Iterable[Route]) -> None:
        unique = {route.route_key: route for route in routes}
        self._templates = [_Template(route, tuple(route.path.split("/")[1:])) for route in unique.values()]

    @classmethod
    def default(cls) -> RouteTable:
        """The contract's routes plus the Swagger UI."""
        return cls((*ROUTES, *EXTRA_PUBLIC_ROUTES))

    @property
    def routes(self) -> list[Route]:
        return [template.route for template in self._templates]

    def match(self, method: str, path: str) -> RouteMatch | None:
        if not path.startswith("/"):
            return None
        segments = path.split("/")[1:]
        best: tuple[tuple[int, ...], RouteMatch] | None = None
        for template in self._templates:
            if template.route.method != method:
                continue
            found = template.match(segments)
            if found is not None and (best is None or found[0] < best[0]):
                best = (found[0], RouteMatch(template.route, found[1]))
        return best[1] if best else None


# --- request → event ----------------------------------------------------------------------------


@dataclass(frozen=True)
class HttpRequest:
    method: str
    target: str  # path and query exactly as sent, e.g. "/messaging/threads?limit=5"
    headers: list[tuple[str, str]]
    body: bytes = b""
    source_ip: str = "127.0.0.1"
    protocol: str = "HTTP/1.1"

    @property
    def raw_path(self) -> str:
        return self.target.partition("?")[0]

    @property
    def raw_query_string(self) -> str:
        return self.target.partition("?")[2]

    def header(self, name: str) -> str | None:
        values = [value for key, value in self.headers if key.lower() == name]
        return ",".join(values) if values else None


@dataclass
class HttpResponse:
    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""


def build_event(
    request: HttpRequest,
    match: RouteMatch,
    authorizer: AuthorizerContext | None,
    *,
    request_id: str,
    now: datetime,
    local_port: int,
) -> dict[str, Any]:
    """The API Gateway HTTP API payload 2.0 event for ``request`` on the matched route."""
    headers: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in request.headers:
        key = name.lower()
        if key == "cookie":  # HTTP API moves cookies out of the headers
            cookies.extend(part.strip() for part in value.split(";") if part.strip())
            continue
        headers[key] = f"{headers[key]},{value}" if key in headers else value
    forwarded_for = headers.get("x-forwarded-for")
    headers["x-forwarded-for"] = f"{forwarded_for}, {request.source_ip}" if forwarded_for else request.source_ip
    headers["x-forwarded-port"] = str(local_port)
    headers["x-forwarded-proto"] = "http"
    headers.setdefault("x-amzn-trace-id", _trace_id(now))
    domain_name = headers.get("host", f"127.0.0.1:{local_port}")

    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": match.route.route_key,
        "rawPath": request.raw_path,
        "rawQueryString": request.raw_query_string,
        "headers": headers,
    }
    if cookies:
        event["cookies"] = cookies
    if query := _query_parameters(request.raw_query_string):
        event["queryStringParameters"] = query
    request_context: dict[str, Any] = {
        "accountId": ACCOUNT_ID,
        "apiId": API_ID,
        "domainName": domain_name,
        "domainPrefix": domain_name.split(".")[0].split(":")[0],
        "http": {
            "method": request.method,
            "path": request.raw_path,
            "protocol": request.protocol,
            "sourceIp": request.source_ip,
            "userAgent": headers.get("user-agent", ""),
        },
        "requestId": request_id,
        "routeKey": match.route.route_key,
        "stage": "$default",
        "time": _clf_time(now),
        "timeEpoch": int(now.timestamp() * 1000),
    }
    if authorizer is not None:
        request_context["authorizer"] = authorizer.as_event()
    event["requestContext"] = request_context
    if request.body:
        if _is_text(headers.get("content-type")) and (text := _utf8(request.body)) is not None:
            event["body"], event["isBase64Encoded"] = text, False
        else:
            event["body"], event["isBase64Encoded"] = base64.b64encode(request.body).decode("ascii"), True
    else:
        event["isBase64Encoded"] = False
    if match.path_parameters:
        event["pathParameters"] = match.path_parameters
    return event


def _query_parameters(raw_query: str) -> dict[str, str]:
    parameters: dict[str, str] = {}
    for name, value in parse_qsl(raw_query, keep_blank_values=True):
        parameters[name] = f"{parameters[name]},{value}" if name in parameters else value
    return parameters


def _is_text(content_type: str | None) -> bool:
    # HTTP API base64-encodes everything it does not consider text (form posts included).
    if not content_type:
        return False
    media_type = content_type.split(";")[0].strip().lower()
    return media_type.startswith("text/") or media_type in _TEXT_MEDIA_TYPES or media_type.endswith(("+json", "+xml"))


def _utf8(body: bytes) -> str | None:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _clf_time(now: datetime) -> str:
    utc = now.astimezone(UTC)
    return f"{utc.day:02d}/{_MONTHS[utc.month - 1]}/{utc.year}:{utc:%H:%M:%S} +0000"


def _trace_id(now: datetime) -> str:
    return f"Root=1-{int(now.timestamp()):08x}-{secrets.token_hex(12)}"


def new_request_id() -> str:
    """An id shaped like API Gateway's (16 base64 characters)."""
    return base64.b64encode(secrets.token_bytes(11)).decode("ascii")


# --- proxy result → response --------------------------------------------------------------------


class InvalidProxyResultError(ValueError):
    """The handler returned something API Gateway could not turn into a response."""


def response_from_result(result: Any) -> HttpResponse:
    """The HTTP response API Gateway makes of a payload 2.0 proxy result."""
    if not isinstance(result, Mapping) or "statusCode" not in result:
        # No statusCode: API Gateway assumes 200, JSON, and the whole result as the body.
        try:
            inferred = result if isinstance(result, str) else json.dumps(result)
        except (TypeError, ValueError):
            raise InvalidProxyResultError("the result is not JSON-serialisable") from None
        return HttpResponse(200, [("content-type", "application/json")], inferred.encode("utf-8"))
    status = result["statusCode"]
    if isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599:
        raise InvalidProxyResultError("statusCode must be an integer HTTP status")
    headers = [(str(name).lower(), str(value)) for name, value in (result.get("headers") or {}).items()]
    headers.extend(("set-cookie", str(cookie)) for cookie in result.get("cookies") or [])
    if result.get("multiValueHeaders"):
        _logger.warning("multiValueHeaders is ignored by HTTP API payload 2.0; use headers and cookies")
    body = result.get("body")
    if body is None:
        return HttpResponse(status, headers, b"")
    if not isinstance(body, str):
        raise InvalidProxyResultError("body must be a string")
    if result.get("isBase64Encoded"):
        try:
            return HttpResponse(status, headers, base64.b64decode(body, validate=True))
        except ValueError:
            raise InvalidProxyResultError("isBase64Encoded is true but body is not base64") from None
    return HttpResponse(status, headers, body.encode("utf-8"))


def gateway_error(status: int, message: str, *extra_headers: tuple[str, str]) -> HttpResponse:
    """An error produced by API Gateway itself (the handler never ran)."""
    body = json.dumps({"message": message}, separators=(",", ":")).encode("utf-8")
    return HttpResponse(status, [("content-type", "application/json"), *extra_headers], body)


# --- the gateway --------------------------------------------------------------------------------


@dataclass
class LocalLambdaContext:
    """The parts of the Lambda context object that handlers and Powertools read."""

    aws_request_id: str
    function_name: str
    invoked_function_arn: str
    memory_limit_in_mb: int = 512
    function_version: str = "$LATEST"
    timeout_seconds: float = 30.0
    log_group_name: str = ""
    log_stream_name: str = "local"
    _started: float = field(default_factory=time.monotonic)

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.timeout_seconds - (time.monotonic() - self._started)) * 1000))


class LocalGateway:
    """Serves the HTTP API on ``host:port`` (port 0: any free port) in a background thread.

        ``handler`` may be given later (``gateway.handler = ...``), once the port is bound: the handler
        must be imported after its environment, which names the gateway's URL, is set. ``local_routes``
        answers every request under ``/_local/`` (the runtime's developer endpoints), before routing.
        ``invoke_lock`` serialises invocations, also with other functions' given the same lock.
    ``static_site`` answers the requests it ``serves`` that match no route (the web client).
    """

    def __init__(
        self,
        handler: LambdaHandler | None,
        authorizer: Authorizer,
        routes: RouteTable | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        region: str = "eu-central-1",
        function_name: str = "message-center-api",
        local_routes: LocalRoutes | None = None,
        invoke_lock: threading.Lock | None = None,
        static_site: StaticSite | None = None,
    ) -> None:
        self.handler = handler
        self._static_site = static_site
        self._authorizer = authorizer
        self._routes = routes or RouteTable.default()
        self._host = host
        self._port = port
        self._region = region
        self._function_name = function_name
        self._local_routes = local_routes
        self._invoke_lock = invoke_lock or threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the gateway is not running")
        return int(self._server.server_address[1])

    def bind(self) -> int:
        """Bind the listening socket (connections wait until ``start``) and return the port."""
        if self._server is None:
            self._server = ThreadingHTTPServer((self._host, self._port), _request_handler_for(self))
            self._server.daemon_threads = True
        return self.port

    def start(self) -> int:
        """Bind if not bound yet, serve in a daemon thread, and return the bound port."""
        self.bind()
        assert self._server is not None
        self._thread = threading.Thread(target=self._server.serve_forever, name="local-gateway", daemon=True)
        self._thread.start()
        return self.port

    def stop(self) -> None:
        if self._server is not None:
            if self._thread is not None:
                self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def handle(self, request: HttpRequest) -> HttpResponse:
        """Route, authorize, invoke, and translate one request (no sockets involved)."""
        if self._local_routes is not None and _is_local(request.raw_path):
            return self._local_routes(request)
        request_id = new_request_id()
        started = time.monotonic()
        match = self._routes.match(request.method, request.raw_path)
        if match is None and self._static_site is not None and self._static_site.serves(request):
            return self._static_site.handle(request)
        response = self._handle(request, match, request_id) if match else gateway_error(404, "Not Found")
        response.headers.append(("apigw-requestid", request_id))
        # Route templates, not paths: paths and query strings may carry logins.
        _logger.info(
            "%s %s -> %d (%.0f ms)",
            request.method,
            match.route.path if match else "(no route)",
            response.status,
            (time.monotonic() - started) * 1000,
        )
        return response

    def _handle(self, request: HttpRequest, match: RouteMatch, request_id: str) -> HttpResponse:
        if len(request.body) > PAYLOAD_LIMIT_BYTES:
            return gateway_error(413, "Request Entity Too Large")
        authorizer_context = None
        if match.route.authorized:
            try:
                authorizer_context = self._authorizer.authorize(request.header("authorization"))
            except UnauthorizedError as error:
                return gateway_error(401, "Unauthorized", ("www-authenticate", error.www_authenticate))
        event = build_event(
            request,
            match,
            authorizer_context,
            request_id=request_id,
            now=datetime.now(UTC),
            local_port=self._port_or_zero(),
        )
        context = LocalLambdaContext(
            aws_request_id=str(uuid.uuid4()),
            function_name=self._function_name,
            invoked_function_arn=f"arn:aws:lambda:{self._region}:{ACCOUNT_ID}:function:{self._function_name}",
            log_group_name=f"/aws/lambda/{self._function_name}",
        )
        handler = self.handler
        if handler is None:  # still starting
            return gateway_error(503, "Service Unavailable")
        with self._invoke_lock:
            try:
                result = handler(event, context)
            except Exception:  # the Lambda runtime reports any crash; API Gateway turns it into a 500
                _logger.exception("handler raised for %s", match.route.route_key)
                return gateway_error(500, "Internal Server Error")
        try:
            return response_from_result(result)
        except InvalidProxyResultError as error:
            _logger.error("malformed handler response for %s: %s", match.route.route_key, error)
            return gateway_error(500, "Internal Server Error")

    def _port_or_zero(self) -> int:
        return self.port if self._server is not None else self._port


def _is_local(path: str) -> bool:
    return path == LOCAL_PREFIX or path.startswith(f"{LOCAL_PREFIX}/")


def _request_handler_for(gateway: LocalGateway) -> type[BaseHTTPRequestHandler]:
    class _Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "message-center-local"

        def _serve(self) -> None:
            try:
                body = self._read_body()
            except ValueError:
                self._send(gateway_error(400, "Bad Request"))
                return
            if body is None:
                self._send(gateway_error(413, "Request Entity Too Large"))
                self.close_connection = True
                return
            request = HttpRequest(
                method=self.command,
                target=self.path,
                headers=list(self.headers.items()),
                body=body,
                source_ip=self.client_address[0],
                protocol=self.request_version,
            )
            self._send(gateway.handle(request))

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _serve

        def _read_body(self) -> bytes | None:
            if "chunked" in (self.headers.get("transfer-encoding") or "").lower():
                return self._read_chunked()
            length = int(self.headers.get("content-length") or 0)
            if length < 0:
                raise ValueError("negative content-length")
            if length > PAYLOAD_LIMIT_BYTES:
                return None
            return self.rfile.read(length) if length else b""

        def _read_chunked(self) -> bytes | None:
            chunks: list[bytes] = []
            total = 0
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(chunks)
                total += size
                if total > PAYLOAD_LIMIT_BYTES:
                    return None
                chunks.append(self.rfile.read(size))
                self.rfile.readline()

        def _send(self, response: HttpResponse) -> None:
            # Status line, headers and body in one write. Written apart (as send_response and
            # end_headers do), a short body waits behind Nagle's algorithm until the client's
            # delayed ACK of the headers: ~40 ms added to every request on a keep-alive connection.
            # A long body (full segments, promptly acknowledged) goes after the headers instead of
            # being copied behind them (the outbox page is megabytes).
            lines = [
                f"{self.protocol_version} {response.status} {self.responses.get(response.status, ('',))[0]}",
                f"server: {self.version_string()}",
                f"date: {self.date_time_string()}",
                *(
                    f"{name}: {value}"
                    for name, value in response.headers
                    if name not in ("content-length", "connection", "transfer-encoding")
                ),
                f"content-length: {len(response.body)}",
            ]
            head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "strict")
            body = b"" if self.command == "HEAD" else response.body
            if len(body) > _COPY_BODY_UP_TO_BYTES:
                self.wfile.write(head)
                self.wfile.write(body)
            else:
                self.wfile.write(head + body)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # the gateway logs route templates instead of raw request lines

    return _Handler
