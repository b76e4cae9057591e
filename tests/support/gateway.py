"""The API as clients reach it, in this process: the local gateway's routing and its real JWT
authorizer in front of the real handler, with Cognito-shaped tokens signed by a test key.

No sockets: requests go straight to ``LocalGateway.handle``. ``wsgi`` exposes the same path as a
WSGI application, for tools that speak WSGI (the schemathesis fuzzer).
"""

from __future__ import annotations

import json
import time
import traceback
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from local_runtime.authorizer import JwksKeys, JwtAuthorizer
from local_runtime.gateway import HttpRequest, HttpResponse, LocalGateway
from tests.conftest import REGION

CLIENT_ID = "attack-suite-app-client"
KEY_ID = "attack-suite-signing-key"


@cache
def _private_key(name: str) -> rsa.RSAPrivateKey:
    """One RSA key per name for the whole session (generating one takes a while)."""
    del name
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def issuer_of(user_pool_id: str) -> str:
    return f"https://cognito-idp.{REGION}.amazonaws.com/{user_pool_id}"


@dataclass
class Answer:
    """An HTTP response as the client sees it."""

    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    def text(self) -> str:
        """Body and headers a client can read, for looking for leaked values."""
        return self.body.decode("utf-8", "replace") + "\n" + "\n".join(f"{k}: {v}" for k, v in self.headers.items())


@dataclass
class GatewayClient:
    """Sends requests through the gateway and counts them (and how many reached the handler)."""

    user_pool_id: str
    requests: int = 0
    invocations: int = 0
    crashes: list[str] = field(default_factory=list)  # tracebacks of handler crashes (the gateway's 500s)

    def __post_init__(self) -> None:
        from functions.api.handler import lambda_handler

        jwk = json.loads(RSAAlgorithm.to_jwk(_private_key("issuer").public_key()))
        jwk.update({"kid": KEY_ID, "alg": "RS256", "use": "sig"})
        authorizer = JwtAuthorizer(issuer_of(self.user_pool_id), [CLIENT_ID], JwksKeys(lambda: {"keys": [jwk]}))

        def handler(event: dict[str, Any], context: Any) -> Any:
            self.invocations += 1
            try:
                return lambda_handler(event, context)
            except Exception:
                self.crashes.append(traceback.format_exc())
                raise

        self._gateway = LocalGateway(handler, authorizer)

    # -- tokens ------------------------------------------------------------------------------

    def token(
        self,
        subject: str,
        login: str = "someone",
        *,
        signed_by: str = "issuer",
        issuer: str | None = None,
        audience: str = CLIENT_ID,
        expires_in: int = 3600,
    ) -> str:
        """A Cognito-shaped access token; the keywords make the bad ones (another key, issuer,
        audience, or an expiry in the past)."""
        now = int(time.time())
        claims = {
            "sub": subject,
            "iss": issuer or issuer_of(self.user_pool_id),
            "client_id": audience,
            "token_use": "access",
            "scope": "aws.cognito.signin.user.admin",
            "username": login,
            "auth_time": now - 60,
            "iat": now - 60,
            "exp": now + expires_in,
        }
        return jwt.encode(claims, _private_key(signed_by), algorithm="RS256", headers={"kid": KEY_ID})

    # -- requests ----------------------------------------------------------------------------

    def request(
        self,
        method: str,
        target: str,
        *,
        token: str | None = None,
        headers: Mapping[str, str] | None = None,
        body: bytes = b"",
    ) -> Answer:
        pairs = [("host", "api.message-center.test"), ("user-agent", "attack-suite")]
        if token is not None:
            pairs.append(("authorization", f"Bearer {token}"))
        pairs.extend((headers or {}).items())
        if body:
            pairs.append(("content-length", str(len(body))))
        response = self.send(HttpRequest(method=method, target=target, headers=pairs, body=body))
        return Answer(response.status, {name.lower(): value for name, value in response.headers}, response.body)

    def json(self, method: str, target: str, token: str, body: Any = None) -> Any:
        """A request that must succeed; its JSON body (None for an empty one)."""
        data = json.dumps(body).encode() if body is not None else b""
        answer = self.request(
            method, target, token=token, body=data, headers={"content-type": "application/json"} if data else None
        )
        assert answer.status < 400, (method, target, answer.status, answer.body)
        return answer.json if answer.body else None

    def send(self, request: HttpRequest) -> HttpResponse:
        self.requests += 1
        return self._gateway.handle(request)

    def wsgi(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        """The gateway as a WSGI application (the request line exactly as sent, when known)."""
        target = environ.get("RAW_URI") or quote(environ.get("PATH_INFO", ""))
        if "?" not in target and environ.get("QUERY_STRING"):  # werkzeug's test client leaves it out
            target += f"?{environ['QUERY_STRING']}"
        headers = [
            (key[5:].replace("_", "-").lower(), value) for key, value in environ.items() if key.startswith("HTTP_")
        ]
        for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            if environ.get(key):
                headers.append((key.replace("_", "-").lower(), environ[key]))
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length > 0 else b""
        response = self.send(HttpRequest(method=environ["REQUEST_METHOD"], target=target, headers=headers, body=body))
        try:
            phrase = HTTPStatus(response.status).phrase
        except ValueError:
            phrase = "Unknown"
        start_response(f"{response.status} {phrase}", response.headers)
        return [response.body]


@cache
def served_openapi() -> dict[str, Any]:
    """The OpenAPI document as the API serves it (a public route: no AWS behind it)."""
    answer = GatewayClient(user_pool_id="none").request("GET", "/openapi.json")
    assert answer.status == 200, answer.body
    document: dict[str, Any] = answer.json
    return document


def served_operations() -> list[tuple[str, str]]:
    """(method, path template) of every operation in the served document."""
    methods = {"get", "put", "post", "delete", "patch", "head", "options"}
    return [
        (method.upper(), path)
        for path, item in served_openapi()["paths"].items()
        for method in item
        if method in methods
    ]
