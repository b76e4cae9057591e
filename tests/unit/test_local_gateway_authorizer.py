"""The local JWT authorizer: what API Gateway's HTTP API JWT authorizer accepts and rejects."""

from __future__ import annotations

import json
import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from local_runtime.authorizer import JwksKeys, JwtAuthorizer, UnauthorizedError, claim_as_string

ISSUER = "https://cognito-idp.eu-central-1.amazonaws.com/eu-central-1_TestPool"
CLIENT_ID = "local-client-id"
KID = "test-key"


@pytest.fixture(scope="module")
def signing_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def other_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def fetches() -> list[int]:
    return []


@pytest.fixture
def authorizer(signing_key, fetches) -> JwtAuthorizer:
    jwk = json.loads(RSAAlgorithm.to_jwk(signing_key.public_key()))
    jwk.update({"kid": KID, "alg": "RS256", "use": "sig"})

    def fetch() -> dict[str, Any]:
        fetches.append(1)
        return {"keys": [jwk]}

    return JwtAuthorizer(issuer=ISSUER, audiences=[CLIENT_ID], keys=JwksKeys(fetch))


def _access_token(key: rsa.RSAPrivateKey, kid: str = KID, **overrides: Any) -> str:
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "sub": "2f6b1d7e-0000-4000-8000-000000000001",
        "client_id": CLIENT_ID,
        "token_use": "access",
        "scope": "aws.cognito.signin.user.admin",
        "username": "anna_kowalska",
        "iat": now,
        "auth_time": now,
        "exp": now + 3600,
        "cognito:groups": ["buyers", "beta"],
    }
    claims.update(overrides)
    claims = {name: value for name, value in claims.items() if value is not None}
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid})


def test_valid_access_token_yields_string_claims_and_scopes(authorizer, signing_key):
    # Given a Cognito-shaped access token signed by the pool's key
    token = _access_token(signing_key)
    # When the authorizer checks it
    context = authorizer.authorize(f"Bearer {token}")
    # Then the claims are passed on as strings, as API Gateway does
    assert context.claims["username"] == "anna_kowalska"
    assert context.claims["client_id"] == CLIENT_ID
    assert context.claims["exp"].isdigit()
    assert context.claims["cognito:groups"] == "[buyers beta]"
    assert all(isinstance(value, str) for value in context.claims.values())
    assert context.scopes == ["aws.cognito.signin.user.admin"]
    assert context.as_event() == {"jwt": {"claims": context.claims, "scopes": context.scopes}}


def test_id_token_is_accepted_by_its_audience(authorizer, signing_key):
    # Given an ID token: audience in "aud", no client_id and no scope
    token = _access_token(signing_key, client_id=None, scope=None, aud=CLIENT_ID, token_use="id")
    # When / Then it passes, without scopes
    context = authorizer.authorize(f"Bearer {token}")
    assert context.claims["aud"] == CLIENT_ID
    assert context.scopes is None


def test_bearer_prefix_is_optional_like_api_gateway(authorizer, signing_key):
    assert authorizer.authorize(_access_token(signing_key)).claims["username"] == "anna_kowalska"
    assert authorizer.authorize(f"bearer  {_access_token(signing_key)}").claims["username"] == "anna_kowalska"


@pytest.mark.parametrize("header", [None, "", "Bearer", "Bearer   "])
def test_missing_token_is_rejected_with_a_bare_challenge(authorizer, header):
    with pytest.raises(UnauthorizedError) as rejected:
        authorizer.authorize(header)
    assert rejected.value.www_authenticate == "Bearer"


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"exp": int(time.time()) - 60}, "expired"),
        ({"iss": "https://cognito-idp.eu-central-1.amazonaws.com/eu-central-1_Other"}, "issuer"),
        ({"client_id": "another-client"}, "audience"),
        ({"nbf": int(time.time()) + 3600}, "not valid yet"),
        ({"iat": int(time.time()) + 3600}, "not valid yet"),
        ({"exp": None}, "exp"),
    ],
)
def test_invalid_claims_are_rejected(authorizer, signing_key, overrides, reason):
    # Given a correctly signed token with one bad claim
    token = _access_token(signing_key, **overrides)
    # When / Then it is rejected, and the challenge says why
    with pytest.raises(UnauthorizedError) as rejected:
        authorizer.authorize(f"Bearer {token}")
    assert reason in rejected.value.www_authenticate
    assert 'error="invalid_token"' in rejected.value.www_authenticate


def test_token_signed_with_another_key_under_the_same_kid_is_rejected(authorizer, other_key):
    with pytest.raises(UnauthorizedError, match="signature"):
        authorizer.authorize(f"Bearer {_access_token(other_key)}")


def test_token_with_unknown_kid_is_rejected_and_refetches_at_most_once(authorizer, signing_key, fetches):
    # Given a token whose kid the JWKS does not hold
    token = _access_token(signing_key, kid="rotated-away")
    # When it is presented twice
    for _ in range(2):
        with pytest.raises(UnauthorizedError, match="signing key"):
            authorizer.authorize(f"Bearer {token}")
    # Then the key set was fetched only once (no refetch storm)
    assert len(fetches) == 1


@pytest.mark.parametrize(
    "token",
    [
        "not-a-jwt",
        jwt.encode({"iss": ISSUER, "client_id": CLIENT_ID, "exp": 9999999999}, "s" * 32, algorithm="HS256"),
        jwt.encode({"iss": ISSUER, "client_id": CLIENT_ID, "exp": 9999999999}, None, algorithm="none"),
    ],
)
def test_malformed_or_non_rsa_tokens_are_rejected(authorizer, token):
    with pytest.raises(UnauthorizedError):
        authorizer.authorize(f"Bearer {token}")


def test_unreachable_jwks_is_unauthorized_not_a_crash(signing_key):
    def fetch() -> dict[str, Any]:
        raise OSError("connection refused")

    authorizer = JwtAuthorizer(ISSUER, [CLIENT_ID], JwksKeys(fetch))
    with pytest.raises(UnauthorizedError, match="signing keys"):
        authorizer.authorize(f"Bearer {_access_token(signing_key)}")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("text", "text"),
        (True, "true"),
        (1700000000, "1700000000"),
        (1.0, "1"),
        (["a", "b"], "[a b]"),
        ({"b": 1, "a": "x"}, "map[a:x b:1]"),
    ],
)
def test_claims_are_formatted_like_api_gateway(value, expected):
    assert claim_as_string(value) == expected
