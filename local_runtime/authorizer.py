"""The API Gateway HTTP API JWT authorizer, emulated for the local gateway.

It checks what the real authorizer checks (RS256 signature against the issuer's JWKS, ``iss``,
``aud`` or — for access tokens, which have none — ``client_id``, ``exp``, ``nbf``, ``iat``) and hands
the claims on the way API Gateway does: every value as a string, in
``requestContext.authorizer.jwt``. A failure becomes a 401 before the handler runs.
"""

from __future__ import annotations

import json
import logging
import urllib.request
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any

import jwt
from message_center.adapters.access_tokens import SigningKeys

_logger = logging.getLogger(__name__)

# API Gateway accepts only RSA-signed JWTs; Cognito signs with RS256.
_ALGORITHMS = ["RS256"]
_JWKS_TIMEOUT_SECONDS = 5
# An unknown ``kid`` refreshes the key set, but not more often than this (a bad token must not
# turn into a request storm against the issuer).
_MIN_REFRESH_INTERVAL_SECONDS = 10.0


class UnauthorizedError(Exception):
    """The request carries no valid token; the gateway answers 401 without calling the handler."""

    def __init__(self, description: str | None = None) -> None:
        super().__init__(description or "missing token")
        self.description = description

    @property
    def www_authenticate(self) -> str:
        """The ``WWW-Authenticate`` header value, shaped like API Gateway's."""
        if self.description is None:
            return "Bearer"
        return f'Bearer scope="" error="invalid_token" error_description="{self.description}"'


@dataclass(frozen=True)
class AuthorizerContext:
    """What goes into ``requestContext.authorizer.jwt``."""

    claims: dict[str, str]
    scopes: list[str] | None

    def as_event(self) -> dict[str, Any]:
        return {"jwt": {"claims": self.claims, "scopes": self.scopes}}


def fetch_json(url: str) -> Callable[[], Mapping[str, Any]]:
    """A fetcher for the JWKS document at ``url`` (local emulator only: plain HTTP is fine)."""

    def fetch() -> Mapping[str, Any]:
        if not url.startswith(("http://", "https://")):
            raise ValueError(f"not an HTTP URL: {url}")
        with urllib.request.urlopen(url, timeout=_JWKS_TIMEOUT_SECONDS) as response:  # noqa: S310 - scheme checked
            document: Mapping[str, Any] = json.load(response)
            return document

    return fetch


class JwksKeys(SigningKeys):
    """The issuer's signing keys (the Lambda functions' own cache), refetched for an unknown kid at
    most every 10 s (a local pool's keys change only with a new emulator state)."""

    def __init__(self, fetch: Callable[[], Mapping[str, Any]]) -> None:
        super().__init__(fetch, min_refresh_seconds=_MIN_REFRESH_INTERVAL_SECONDS)


class JwtAuthorizer:
    """Validates ``Authorization`` headers like an HTTP API JWT authorizer configured with
    ``issuer`` and ``audiences`` (Cognito: the user pool URL and the app client ids)."""

    def __init__(self, issuer: str, audiences: Collection[str], keys: JwksKeys, leeway_seconds: int = 0) -> None:
        self._issuer = issuer
        self._audiences = frozenset(audiences)
        self._keys = keys
        self._leeway = leeway_seconds

    def authorize(self, authorization: str | None) -> AuthorizerContext:
        """The authorizer context for a valid token; ``UnauthorizedError`` otherwise."""
        token = _token_from_header(authorization)
        try:
            header = jwt.get_unverified_header(token)
        except jwt.DecodeError:
            raise UnauthorizedError("the token is malformed") from None
        if header.get("alg") not in _ALGORITHMS:
            raise UnauthorizedError("the token is not signed with a supported algorithm")
        try:
            key = self._keys.key_for(str(header.get("kid", "")))
        except (OSError, ValueError, jwt.PyJWKSetError) as error:
            _logger.warning("JWKS unavailable: %s", type(error).__name__)
            raise UnauthorizedError("the signing keys could not be fetched") from None
        if key is None:
            raise UnauthorizedError("the token has no matching signing key")
        claims = self._decode(token, key)
        audience = claims.get("aud", claims.get("client_id"))
        audiences = audience if isinstance(audience, list) else [audience]
        if not self._audiences.intersection(a for a in audiences if isinstance(a, str)):
            raise UnauthorizedError("the token does not have a valid audience")
        scope = claims.get("scope")
        return AuthorizerContext(
            claims={name: claim_as_string(value) for name, value in claims.items()},
            scopes=scope.split() if isinstance(scope, str) and scope.strip() else None,
        )

    def _decode(self, token: str, key: jwt.PyJWK) -> dict[str, Any]:
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key=key,
                algorithms=_ALGORITHMS,
                issuer=self._issuer,
                leeway=self._leeway,
                options={"require": ["exp", "iss"], "verify_aud": False},
            )
        except jwt.ExpiredSignatureError:
            raise UnauthorizedError("the token has expired") from None
        except jwt.InvalidSignatureError:
            raise UnauthorizedError("the token does not have a valid signature") from None
        except jwt.InvalidIssuerError:
            raise UnauthorizedError("the token does not have a valid issuer") from None
        except (jwt.ImmatureSignatureError, jwt.InvalidIssuedAtError):
            raise UnauthorizedError("the token is not valid yet") from None
        except jwt.MissingRequiredClaimError as error:
            raise UnauthorizedError(f"the token has no {error.claim} claim") from None
        except jwt.InvalidTokenError:
            raise UnauthorizedError("the token is invalid") from None
        return claims


def _token_from_header(authorization: str | None) -> str:
    # The identity source is $request.header.Authorization; like API Gateway, a "Bearer " prefix
    # is optional.
    if not authorization or not authorization.strip():
        raise UnauthorizedError()
    scheme, _, rest = authorization.strip().partition(" ")
    token = rest.strip() if scheme.lower() == "bearer" else authorization.strip()
    if not token:
        raise UnauthorizedError()
    return token


def claim_as_string(value: Any) -> str:
    """A claim value the way API Gateway passes it to the integration (always a string).

    API Gateway formats with Go's ``fmt``: ``true``, ``1700000000``, ``[admin staff]``, ``map[a:b]``.
    """
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, list | tuple):
        return "[" + " ".join(claim_as_string(item) for item in value) + "]"
    if isinstance(value, dict):
        return "map[" + " ".join(f"{k}:{claim_as_string(v)}" for k, v in sorted(value.items())) + "]"
    if value is None:
        return ""
    return str(value)
