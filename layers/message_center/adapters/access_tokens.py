"""Checks a Cognito access token the way the HTTP API's JWT authorizer does (used on $connect,
where the WebSocket API has no JWT authorizer): RS256 signature with the issuer's published keys
(JWKS), ``iss``, ``client_id`` (or ``aud``) among the app clients, ``token_use`` = access,
``exp``/``nbf``/``iat``. Errors never carry the token."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Collection, Mapping
from typing import Any

import jwt
import requests

_ALGORITHMS = ["RS256"]
_JWKS_TIMEOUT_SECONDS = 3
# A token with an unknown ``kid`` refetches the key set, at most this often.
_MIN_REFRESH_SECONDS = 30.0


class InvalidToken(Exception):
    """The token is missing, forged, expired or for another client; ``reason`` names which."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def jwks_over_https(url: str) -> Callable[[], Mapping[str, Any]]:
    """Fetches the issuer's key set (Cognito: ``<issuer>/.well-known/jwks.json``)."""

    def fetch() -> Mapping[str, Any]:
        response = requests.get(url, timeout=_JWKS_TIMEOUT_SECONDS)
        response.raise_for_status()
        document: Mapping[str, Any] = response.json()
        return document

    return fetch


class SigningKeys:
    """The issuer's signing keys by ``kid``: fetched on first use, fetched again (at most every
    ``min_refresh_seconds``) when a token names a key not seen yet (the pool rotated its keys).
    Errors of ``fetch`` and of parsing the key set propagate to the caller."""

    def __init__(
        self, fetch: Callable[[], Mapping[str, Any]], min_refresh_seconds: float = _MIN_REFRESH_SECONDS
    ) -> None:
        self._fetch = fetch
        self._min_refresh_seconds = min_refresh_seconds
        self._keys: dict[str, jwt.PyJWK] | None = None
        self._fetched_at = 0.0
        self._lock = threading.Lock()

    def key_for(self, kid: str) -> jwt.PyJWK | None:
        with self._lock:
            if self._keys is None or (
                kid not in self._keys and time.monotonic() - self._fetched_at >= self._min_refresh_seconds
            ):
                self._fetched_at = time.monotonic()
                key_set = jwt.PyJWKSet.from_dict(dict(self._fetch()))
                self._keys = {key.key_id: key for key in key_set.keys if key.key_id}
            return self._keys.get(kid)


class AccessTokenVerifier:
    """``verify(token)`` → the token's claims, or ``InvalidToken``. Keys are cached per container."""

    def __init__(self, issuer: str, audiences: Collection[str], fetch_jwks: Callable[[], Mapping[str, Any]]) -> None:
        self._issuer = issuer
        self._audiences = frozenset(audiences)
        self._keys = SigningKeys(fetch_jwks)

    def verify(self, token: str) -> dict[str, Any]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.DecodeError:
            raise InvalidToken("malformed") from None
        if header.get("alg") not in _ALGORITHMS:
            raise InvalidToken("unsupported algorithm")
        key = self._key(str(header.get("kid", "")))
        if key is None:
            raise InvalidToken("unknown signing key")
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key=key,
                algorithms=_ALGORITHMS,
                issuer=self._issuer,
                options={"require": ["exp", "iss"], "verify_aud": False},
            )
        except jwt.ExpiredSignatureError:
            raise InvalidToken("expired") from None
        except jwt.InvalidTokenError as error:
            raise InvalidToken(type(error).__name__) from None
        audience = claims.get("client_id", claims.get("aud"))
        audiences = audience if isinstance(audience, list) else [audience]
        if not self._audiences.intersection(a for a in audiences if isinstance(a, str)):
            raise InvalidToken("wrong audience")
        if claims.get("token_use") != "access":
            raise InvalidToken("not an access token")
        if not isinstance(claims.get("sub"), str) or not claims["sub"]:
            raise InvalidToken("no subject")
        return claims

    def _key(self, kid: str) -> jwt.PyJWK | None:
        try:
            return self._keys.key_for(kid)
        except (OSError, ValueError, requests.RequestException, jwt.PyJWKSetError):
            raise InvalidToken("signing keys unavailable") from None
