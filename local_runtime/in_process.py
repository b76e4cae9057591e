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
"""

from __future__ import annotations

import functools
import io
import logging
import threading
from http.client import HTTPMessage
from typing import Any

import moto.backends
from botocore.awsrequest import AWSPreparedRequest, AWSResponse
from botocore.compat import HTTPHeaders
from botocore.httpsession import URLLib3Session
from moto.core.botocore_stubber import MockRawResponse
from moto.moto_server.werkzeug_app import MotoRequestHandler
from werkzeug.exceptions import InternalServerError
from werkzeug.serving import BaseWSGIServer
from werkzeug.test import run_wsgi_app

_logger = logging.getLogger(__name__)

_lock = threading.Lock()
_servers: dict[str, BaseWSGIServer] = {}  # "http://host:port/" → the emulator's server there
_patched: dict[str, Any] = {}  # what install() replaced, to put back when the last one uninstalls


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
    URLLib3Session.send = _send  # type: ignore[assignment,method-assign]
    # moto lists its package folder on the disk for every request it routes; the list never changes.
    moto.backends.list_of_moto_modules = _moto_modules


def _unpatch() -> None:
    URLLib3Session.send = _patched.pop("send")  # type: ignore[method-assign]
    moto.backends.list_of_moto_modules = _patched.pop("list_of_moto_modules")


@functools.cache
def _module_names() -> tuple[str, ...]:
    return tuple(_patched["list_of_moto_modules"]())


def _moto_modules() -> tuple[str, ...]:
    return _module_names()


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
    try:
        chunks, status, response_headers = run_wsgi_app(server.app, environ, buffered=True)
        content = b"".join(chunks)
    except Exception:  # as the server answers an application's crash
        _logger.exception("the AWS emulator failed on %s %s", request.method, target.partition("?")[0])
        error = InternalServerError().get_response(environ)
        status, response_headers, content = error.status, error.headers, error.get_data()
    if request.method == "HEAD":
        content = b""
    answer_headers = HTTPHeaders()
    for name, value in response_headers.items():
        answer_headers[name] = value
    # MockRawResponse: what botocore reads of a raw response, read() and stream(), over the bytes.
    return AWSResponse(request.url, int(str(status).split(" ", 1)[0]), answer_headers, MockRawResponse(content))


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
