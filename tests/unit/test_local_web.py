"""The local runtime serves the built web client at / (same origin as the API) and proxies the
browser's Cognito calls; neither may shadow an API route or expose Cognito's admin actions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import responses

from local_runtime.authorizer import AuthorizerContext
from local_runtime.gateway import HttpRequest, LocalGateway
from local_runtime.web import COGNITO_PATH, CognitoProxy, WebClient, WebClientConfig

CONFIG = WebClientConfig(user_pool_id="eu-central-1_pool", client_id="client123", region="eu-central-1")
EMULATOR = "http://127.0.0.1:5100"


class _RejectingAuthorizer:
    def authorize(self, authorization: str | None) -> AuthorizerContext:
        from local_runtime.authorizer import UnauthorizedError

        raise UnauthorizedError("no token")


def _request(target: str, method: str = "GET", body: bytes = b"", **headers: str) -> HttpRequest:
    pairs = [("Host", "127.0.0.1:8000"), *((name.replace("_", "-"), value) for name, value in headers.items())]
    return HttpRequest(method=method, target=target, headers=pairs, body=body)


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text("<!doctype html><title>app</title>")
    (tmp_path / "assets" / "index-abc123.js").write_text("console.log('app')")
    (tmp_path / "favicon.svg").write_text("<svg/>")
    (tmp_path.parent / "secret.txt").write_text("not for the browser")
    return tmp_path


@pytest.fixture
def gateway(dist: Path) -> LocalGateway:
    return LocalGateway(
        lambda event, context: {"statusCode": 200}, _RejectingAuthorizer(), static_site=WebClient(CONFIG, dist)
    )


def test_client_routes_fall_back_to_the_app(gateway):
    # Given the built app / When a client route is opened (a thread, a deep link with a query)
    for target in ("/", "/threads/7f1c", "/new?offer=12790441001", "/settings"):
        response = gateway.handle(_request(target))
        # Then index.html answers, never cached for long
        assert response.status == 200, target
        assert response.body == b"<!doctype html><title>app</title>"
        assert ("cache-control", "no-cache") in response.headers


def test_hashed_assets_are_served_with_long_caching_and_a_missing_one_is_a_404(gateway):
    asset = gateway.handle(_request("/assets/index-abc123.js"))
    assert asset.status == 200
    assert asset.body == b"console.log('app')"
    assert ("content-type", "text/javascript") in asset.headers
    assert ("cache-control", "public, max-age=31536000, immutable") in asset.headers
    assert gateway.handle(_request("/assets/gone-000.js")).status == 404


def test_files_outside_the_build_are_never_served(gateway):
    response = gateway.handle(_request("/../secret.txt"))
    assert b"not for the browser" not in response.body


def test_api_paths_keep_the_gateways_answers(gateway):
    # An unknown API path is still API Gateway's 404, and a protected route still needs a token
    unknown = gateway.handle(_request("/messaging/nope"))
    assert unknown.status == 404
    assert json.loads(unknown.body) == {"message": "Not Found"}
    assert gateway.handle(_request("/messaging/threads")).status == 401
    # and other methods than GET/HEAD are never the app
    assert gateway.handle(_request("/threads/7f1c", method="POST")).status == 404


def test_config_names_the_pool_the_client_and_the_local_sign_in_flow(gateway):
    response = gateway.handle(_request("/config.json"))
    assert response.status == 200
    assert json.loads(response.body) == {
        "userPoolId": "eu-central-1_pool",
        "clientId": "client123",
        "region": "eu-central-1",
        "cognitoEndpoint": COGNITO_PATH,
        "authFlow": "USER_PASSWORD_AUTH",
        "pollSeconds": 10,
        "websocketUrl": None,
    }


def test_config_names_the_local_websocket_api_when_it_runs(dist):
    # Given a runtime whose WebSocket API listens on port 8001
    config = WebClientConfig("eu-central-1_pool", "client123", "eu-central-1", websocket_url="ws://127.0.0.1:8001")
    gateway = LocalGateway(None, _RejectingAuthorizer(), static_site=WebClient(config, dist))

    # When the app reads its configuration
    response = gateway.handle(_request("/config.json"))

    # Then it knows where to open the live channel
    assert json.loads(response.body)["websocketUrl"] == "ws://127.0.0.1:8001"


def test_an_unbuilt_app_says_how_to_build_it(tmp_path):
    gateway = LocalGateway(None, _RejectingAuthorizer(), static_site=WebClient(CONFIG, tmp_path / "missing"))
    response = gateway.handle(_request("/"))
    assert response.status == 503
    assert b"make run" in response.body


@responses.activate
def test_cognito_proxy_forwards_sign_in_calls_to_the_emulator():
    # Given the emulator answers InitiateAuth
    responses.post(f"{EMULATOR}/", json={"AuthenticationResult": {"AccessToken": "t"}})
    body = json.dumps({"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": "client123"}).encode()
    # When the browser posts it to the same-origin proxy
    response = CognitoProxy(EMULATOR, "eu-central-1").handle(
        _request(COGNITO_PATH, "POST", body, X_Amz_Target="AWSCognitoIdentityProviderService.InitiateAuth")
    )
    # Then the call reaches the emulator's cognito-idp unchanged and its answer comes back
    assert response.status == 200
    assert json.loads(response.body) == {"AuthenticationResult": {"AccessToken": "t"}}
    forwarded = responses.calls[0].request
    assert forwarded.body == body
    assert forwarded.headers["x-amz-target"] == "AWSCognitoIdentityProviderService.InitiateAuth"
    assert "/cognito-idp/" in forwarded.headers["authorization"]


@responses.activate
def test_cognito_proxy_completes_the_new_password_challenge_as_cognito_sends_it():
    # Given the emulator asks an invited user for a new password without the attributes Cognito sends
    responses.post(
        f"{EMULATOR}/",
        json={"ChallengeName": "NEW_PASSWORD_REQUIRED", "ChallengeParameters": {"USERNAME": "ola"}, "Session": "s1"},
    )
    # When the browser's sign-in goes through the proxy
    response = CognitoProxy(EMULATOR, "eu-central-1").handle(
        _request(COGNITO_PATH, "POST", b"{}", X_Amz_Target="AWSCognitoIdentityProviderService.InitiateAuth")
    )
    # Then the challenge carries them (as JSON strings, which amazon-cognito-identity-js parses)
    assert response.status == 200
    assert json.loads(response.body) == {
        "ChallengeName": "NEW_PASSWORD_REQUIRED",
        "ChallengeParameters": {"USERNAME": "ola", "userAttributes": "{}", "requiredAttributes": "[]"},
        "Session": "s1",
    }


@pytest.mark.parametrize(
    "target",
    ["AWSCognitoIdentityProviderService.AdminSetUserPassword", "AWSCognitoIdentityProviderService.ListUsers", ""],
)
@responses.activate
def test_cognito_proxy_refuses_admin_actions(target):
    # moto would answer admin calls without credentials: the browser's proxy must not pass them
    response = CognitoProxy(EMULATOR, "eu-central-1").handle(_request(COGNITO_PATH, "POST", b"{}", X_Amz_Target=target))
    assert response.status == 403
    assert len(responses.calls) == 0
