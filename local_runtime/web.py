"""The web client on the local runtime: the built single-page app at ``/``, its configuration at
``/config.json``, and the browser's Cognito calls under ``/_local/cognito`` (same origin, no CORS).

The app is built into ``web/dist`` by ``make run`` (``cd web && npm run build``); when it has not
been built, ``/`` says how to build it. Client routes (``/threads/ID``, ``/new?offer=ID``...) fall
back to ``index.html``; paths of the API (``/messaging/...``) never do.

moto's Cognito accepts any PASSWORD_VERIFIER signature, so SRP against it would sign in with any
password: locally the app client also allows USER_PASSWORD_AUTH (moto checks that password) and the
configuration tells the app to use it; a deployed pool keeps SRP only.
"""

from __future__ import annotations

import json
import mimetypes
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from local_runtime.gateway import LOCAL_PREFIX, HttpRequest, HttpResponse, gateway_error

WEB_DIST = Path(__file__).resolve().parents[1] / "web" / "dist"
COGNITO_PATH = f"{LOCAL_PREFIX}/cognito"
# The public (unauthenticated or token-authenticated) Cognito actions a browser needs; the admin
# actions, which moto would answer without any credentials, are never proxied.
COGNITO_ACTIONS = frozenset(
    {
        "InitiateAuth",
        "RespondToAuthChallenge",
        "GetUser",
        "GlobalSignOut",
        "RevokeToken",
        "ChangePassword",
        "ForgotPassword",
        "ConfirmForgotPassword",
    }
)
_TARGET_PREFIX = "AWSCognitoIdentityProviderService."
_API_PREFIXES = ("/messaging", "/openapi.json", "/swagger", LOCAL_PREFIX)
_NOT_BUILT = (
    "<!doctype html><html lang=en><meta charset=utf-8><title>Message Center</title>"
    "<p>The web client is not built yet: run <code>make run</code> (or <code>cd web &amp;&amp; npm ci "
    "&amp;&amp; npm run build</code>) and reload.</p></html>"
)


@dataclass(frozen=True)
class WebClientConfig:
    """What the app reads from ``/config.json``: where and how to sign in."""

    user_pool_id: str
    client_id: str
    region: str
    cognito_endpoint: str = COGNITO_PATH
    auth_flow: str = "USER_PASSWORD_AUTH"
    poll_seconds: int = 10
    # The local WebSocket API (None: not running; the app then polls only).
    websocket_url: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "userPoolId": self.user_pool_id,
            "clientId": self.client_id,
            "region": self.region,
            "cognitoEndpoint": self.cognito_endpoint,
            "authFlow": self.auth_flow,
            "pollSeconds": self.poll_seconds,
            "websocketUrl": self.websocket_url,
        }


class WebClient:
    """Serves the built app and its configuration (``GET``/``HEAD`` outside the API's paths)."""

    def __init__(self, config: WebClientConfig, dist: Path = WEB_DIST) -> None:
        self._config = config
        self._dist = dist.resolve()

    def serves(self, request: HttpRequest) -> bool:
        path = request.raw_path
        return request.method in ("GET", "HEAD") and not any(
            path == prefix or path.startswith(f"{prefix}/") for prefix in _API_PREFIXES
        )

    def handle(self, request: HttpRequest) -> HttpResponse:
        path = request.raw_path
        if path == "/config.json":
            body = json.dumps(self._config.as_json()).encode("utf-8")
            return HttpResponse(200, [("content-type", "application/json"), ("cache-control", "no-store")], body)
        index = self._dist / "index.html"
        if not index.is_file():
            return HttpResponse(503, [("content-type", "text/html; charset=utf-8")], _NOT_BUILT.encode("utf-8"))
        candidate = (self._dist / path.lstrip("/")).resolve()
        if candidate.is_file() and candidate.is_relative_to(self._dist):
            media_type = mimetypes.guess_type(candidate.name)[0] or "application/octet-stream"
            hashed = candidate.parent.name == "assets"
            cache = "public, max-age=31536000, immutable" if hashed else "no-cache"
            return HttpResponse(200, [("content-type", media_type), ("cache-control", cache)], candidate.read_bytes())
        if path.startswith("/assets/"):  # a missing hashed asset is a 404, not the app
            return gateway_error(404, "Not Found")
        return HttpResponse(
            200, [("content-type", "text/html; charset=utf-8"), ("cache-control", "no-cache")], index.read_bytes()
        )


class CognitoProxy:
    """Forwards the browser's Cognito calls (``POST /_local/cognito``) to the emulator's endpoint."""

    def __init__(self, endpoint_url: str, region: str) -> None:
        self._endpoint_url = endpoint_url
        self._region = region

    def handle(self, request: HttpRequest) -> HttpResponse:
        if request.method != "POST":
            return gateway_error(405, "Method Not Allowed", ("allow", "POST"))
        target = request.header("x-amz-target") or ""
        if not target.startswith(_TARGET_PREFIX) or target.removeprefix(_TARGET_PREFIX) not in COGNITO_ACTIONS:
            return gateway_error(403, "Forbidden")
        response = requests.post(
            f"{self._endpoint_url}/",
            data=request.body,
            headers={
                "content-type": request.header("content-type") or "application/x-amz-json-1.1",
                "x-amz-target": target,
                # moto picks the service from the credential scope of a signature (none is needed).
                "authorization": f"AWS4-HMAC-SHA256 Credential=local/20200101/{self._region}/cognito-idp/aws4_request",
            },
            timeout=30,
        )
        media_type = response.headers.get("content-type", "application/x-amz-json-1.1")
        return HttpResponse(response.status_code, [("content-type", media_type)], _as_cognito_answers(response.content))


def _as_cognito_answers(body: bytes) -> bytes:
    """moto's NEW_PASSWORD_REQUIRED challenge (an invited user's first sign-in) lacks the
    ``userAttributes`` and ``requiredAttributes`` Cognito always sends (JSON strings), which
    amazon-cognito-identity-js parses: add them, empty (the app sends no attributes back)."""
    try:
        answer = json.loads(body)
    except ValueError:
        return body
    if not isinstance(answer, dict) or answer.get("ChallengeName") != "NEW_PASSWORD_REQUIRED":
        return body
    parameters = answer.setdefault("ChallengeParameters", {})
    parameters.setdefault("userAttributes", "{}")
    parameters.setdefault("requiredAttributes", "[]")
    return json.dumps(answer).encode("utf-8")
