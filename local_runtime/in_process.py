"""This process's calls to its embedded AWS emulator, served without a socket.

The local runtime's functions, its stream poller and its outbox run in the emulator's process and
reach it through boto3 at its URL (``emulator.function_settings``), the way the deployed functions
reach AWS. Over the loopback socket each call costs a new TCP connection (the emulator's server
closes every connection after one answer), a new server thread, and the HTTP round trip: about a
third of the runtime's processor time under load, on a machine where the handlers, the stream
poller and the emulator share one interpreter.

``InProcessEmulator(server).install()`` makes every botocore client of this process that sends a
request to that server's URL hand it to the server's WSGI application directly instead: the same
WSGI environment the server builds for a request read from a socket (``MotoRequestHandler``), the
same application, the same answer, minus the socket, the thread and the connection. The URL does
not change (presigned URLs still name the emulator); requests to any other URL, and requests from
other processes (the CLI, browsers following presigned URLs), go over the network as before.
``uninstall()`` takes it back.

DynamoDB and DynamoDB Streams requests, most of the traffic, take a shorter way still: the request
goes straight to moto's handler for the service, as moto's Flask application would route it, but
without Flask's dispatch around it; and they are not signed (the Authorization header names the
credential scope the emulator routes by, with a dummy signature: moto checks no DynamoDB
signature). Computing the signature was about 7 % of a DynamoDB call's processor time.
"""

from __future__ import annotations

import functools
import io
import logging
import threading
from http.client import HTTPMessage
from typing import Any

import moto.backends
from botocore.auth import SIGV4_TIMESTAMP, SigV4Auth
from botocore.awsrequest import AWSPreparedRequest, AWSResponse
from botocore.compat import HTTPHeaders, get_current_datetime
from botocore.exceptions import ClientError
from botocore.httpsession import URLLib3Session
from moto.core.botocore_stubber import MockRawResponse
from moto.dynamodb.responses import DynamoHandler
from moto.dynamodbstreams.responses import DynamoDBStreamsHandler
from moto.moto_api import recorder
from moto.moto_server.werkzeug_app import BackendRequest, MotoRequestHandler
from werkzeug.exceptions import InternalServerError
from werkzeug.serving import BaseWSGIServer
from werkzeug.test import run_wsgi_app

_logger = logging.getLogger(__name__)

_lock = threading.Lock()
_servers: dict[str, BaseWSGIServer] = {}  # "http://host:port/" → the emulator's server there
_patched: dict[str, Any] = {}  # what install() replaced, to put back when the last one uninstalls
# X-Amz-Target prefix → moto's handler (the order matters: the first is a prefix of the second).
_DIRECT_TARGETS = (("DynamoDBStreams_20120810.", DynamoDBStreamsHandler), ("DynamoDB_20120810.", DynamoHandler))
_UNSIGNED_SERVICES = frozenset({"dynamodb"})  # signing name, for DynamoDB and DynamoDB Streams alike
_DUMMY_SIGNATURE = "0" * 64


class InProcessEmulator:
    """Serves this process's botocore requests to ``server``'s URL in-process (see the module docstring)."""

    def __init__(self, server: BaseWSGIServer, host: str) -> None:
        self._server = server
        self._prefix = f"http://{host}:{server.server_address[1]}/"

    def install(self) -> None:
        with _lock:
            if not _servers:
                _patch()
            _servers[self._prefix] = self._server

    def uninstall(self) -> None:
        with _lock:
            if _servers.pop(self._prefix, None) is not None and not _servers:
                _unpatch()


def _patch() -> None:
    _patched["send"] = URLLib3Session.send
    _patched["list_of_moto_modules"] = moto.backends.list_of_moto_modules
    _patched["add_auth"] = SigV4Auth.add_auth
    URLLib3Session.send = _send  # type: ignore[assignment,method-assign]
    SigV4Auth.add_auth = _add_auth  # type: ignore[assignment,method-assign]
    # moto lists its package folder on the disk for every request it routes; the list never changes.
    moto.backends.list_of_moto_modules = _moto_modules


def _unpatch() -> None:
    # Put back first, forget after: a call under way in another thread still finds the original.
    URLLib3Session.send = _patched["send"]  # type: ignore[method-assign]
    SigV4Auth.add_auth = _patched["add_auth"]  # type: ignore[method-assign]
    moto.backends.list_of_moto_modules = _patched["list_of_moto_modules"]
    _patched.clear()


@functools.cache
def _module_names() -> tuple[str, ...]:
    return tuple(_patched["list_of_moto_modules"]())


def _moto_modules() -> tuple[str, ...]:
    return _module_names()


def _in_process(url: str | None) -> bool:
    return bool(url) and any(url.startswith(prefix) for prefix in list(_servers))  # type: ignore[union-attr]


def _add_auth(auth: Any, request: Any) -> None:
    """SigV4, except for DynamoDB requests to an in-process emulator: the same headers, a dummy signature."""
    original = _patched.get("add_auth") or SigV4Auth.add_auth
    if auth._service_name not in _UNSIGNED_SERVICES or not _in_process(request.url) or auth.credentials is None:
        original(auth, request)  # without credentials: raises as botocore does
        return
    request.context["timestamp"] = get_current_datetime().strftime(SIGV4_TIMESTAMP)
    auth._modify_request_before_signing(request)
    request.headers["Authorization"] = (
        f"AWS4-HMAC-SHA256 Credential={auth.scope(request)}, SignedHeaders=host;x-amz-date, "
        f"Signature={_DUMMY_SIGNATURE}"
    )


def _send(session: URLLib3Session, request: AWSPreparedRequest) -> AWSResponse:
    url = request.url or ""
    for prefix, server in list(_servers.items()):
        if url.startswith(prefix):
            return _serve(server, request, url[len(prefix) - 1 :])
    send = _patched.get("send") or URLLib3Session.send
    return send(session, request)


def _serve(server: BaseWSGIServer, request: AWSPreparedRequest, target: str) -> AWSResponse:
    """The emulator's answer to ``request`` (``target``: its path and query), as over its socket."""
    body = _body(request.body)
    headers = HTTPMessage()
    for name, value in request.headers.items():
        if name.lower() in ("transfer-encoding", "content-length"):
            continue  # the whole body is at hand: its length replaces any chunked framing
        headers[name] = value.decode("latin-1") if isinstance(value, bytes) else str(value)
    if "host" not in headers:  # http.client adds it on the wire
        headers["Host"] = (request.url or "").split("/", 3)[2]
    if body or request.method not in ("GET", "HEAD", "DELETE"):
        headers["Content-Length"] = str(len(body))
    environ = _environ(server, request.method or "GET", target, headers, body)
    status, response_headers, content = _answer(server, environ)
    if request.method == "HEAD":
        content = b""
    answer_headers = HTTPHeaders()
    for name, value in response_headers:
        answer_headers[name] = value
    # MockRawResponse: what botocore reads of a raw response, read() and stream(), over the bytes.
    return AWSResponse(request.url, status, answer_headers, MockRawResponse(content))


def _answer(server: BaseWSGIServer, environ: dict[str, Any]) -> tuple[int, list[tuple[str, str]], bytes]:
    """(status, headers, body) of the emulator's answer."""
    try:
        direct = _direct_handler(environ)
        if direct is not None:
            return _dispatch(direct, environ)
        chunks, status, headers = run_wsgi_app(server.app, environ, buffered=True)
        return int(status.split(" ", 1)[0]), list(headers.items()), b"".join(chunks)
    except Exception:  # as the server answers an application's crash
        _logger.exception("the AWS emulator failed on %s %s", environ["REQUEST_METHOD"], environ["PATH_INFO"])
        error = InternalServerError().get_response(environ)
        return error.status_code, list(error.headers.items()), error.get_data()


def _direct_handler(environ: dict[str, Any]) -> Any:
    """moto's handler class for a DynamoDB or DynamoDB Streams request (None: another service),
    as moto's application routes it: by the credential scope's service and the target."""
    if environ["REQUEST_METHOD"] != "POST" or environ["PATH_INFO"] != "/":
        return None
    if "/dynamodb/aws4_request" not in environ.get("HTTP_AUTHORIZATION", ""):
        return None
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    for prefix, handler in _DIRECT_TARGETS:
        if target.startswith(prefix):
            return handler
    return None


def _dispatch(handler: Any, environ: dict[str, Any]) -> tuple[int, list[tuple[str, str]], bytes]:
    """What moto's Flask view (``convert_to_flask_response``) gets from ``handler`` for this request."""
    request = BackendRequest(environ)
    recorder._record_request(request)
    try:
        result = handler.dispatch(request, request.raw_url, dict(request.headers))
    except ClientError as error:
        result = 400, {}, error.response["Error"]["Message"]
    status, headers, content = result if len(result) == 3 else (200, {}, result)
    body = content.encode("utf-8") if isinstance(content, str) else bytes(content or b"")
    return int(status), [(str(name), str(value)) for name, value in headers.items()], body


def _body(body: Any) -> bytes:
    if body is None:
        return b""
    if isinstance(body, bytes | bytearray):
        return bytes(body)
    if isinstance(body, str):
        return body.encode("utf-8")
    if hasattr(body, "read"):
        content = body.read()
        return content.encode("utf-8") if isinstance(content, str) else bytes(content)
    return b"".join(chunk.encode("utf-8") if isinstance(chunk, str) else bytes(chunk) for chunk in body)


def _environ(server: BaseWSGIServer, method: str, target: str, headers: HTTPMessage, body: bytes) -> dict[str, Any]:
    """The WSGI environment the emulator's server builds for this request read from a socket."""
    handler = MotoRequestHandler.__new__(MotoRequestHandler)
    handler.server = server
    handler.client_address = ("127.0.0.1", 0)
    handler.command = method
    handler.path = target
    handler.request_version = "HTTP/1.1"
    handler.headers = headers
    handler.rfile = io.BytesIO(body)
    handler.connection = None  # no TLS peer certificate to report
    environ: dict[str, Any] = handler.make_environ()
    environ["wsgi.errors"] = io.StringIO()
    return environ
