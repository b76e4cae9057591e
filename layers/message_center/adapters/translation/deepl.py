"""DeepL API v2 (REST), an optional provider for the languages it covers."""

from __future__ import annotations

from typing import Final

import requests

from ...domain.language import UNDETERMINED
from .base import ProviderUnavailable, TranslationError, UnsupportedLanguage, normalize_code
from .budget import TranslationDeadline
from .chunks import translate_in_pieces
from .http import RETRIED_STATUSES, PlannedSessions

FREE_ENDPOINT: Final = "https://api-free.deepl.com/v2/translate"
PRO_ENDPOINT: Final = "https://api.deepl.com/v2/translate"
# Keys of the free plan end with this suffix and only work against the free endpoint.
FREE_KEY_SUFFIX: Final = ":fx"

# https://developers.deepl.com/docs/getting-started/supported-languages: source codes name a
# language without a variant; some target codes must name the variant.
DEEPL_SOURCE_LANGUAGES: Final = frozenset(
    {
        "ar", "bg", "cs", "da", "de", "el", "en", "es", "et", "fi", "fr", "he", "hu", "id", "it",
        "ja", "ko", "lt", "lv", "nb", "nl", "pl", "pt", "ro", "ru", "sk", "sl", "sv", "th", "tr",
        "uk", "vi", "zh",
    }
)  # fmt: skip
_TARGET_VARIANT: Final = {"en": "EN-GB", "pt": "PT-PT", "zh": "ZH-HANS", "zh-TW": "ZH-HANT", "pt-BR": "PT-BR"}
DEEPL_TARGET_LANGUAGES: Final = (DEEPL_SOURCE_LANGUAGES - {"en", "pt", "zh"}) | frozenset(_TARGET_VARIANT)
# Requests larger than 128 KiB are refused (413); messages are far smaller, pieces keep it so.
MAX_REQUEST_BYTES: Final = 64_000
# 456: the character quota of the billing period is used up; 529: DeepL's "too many requests".
_QUOTA_EXCEEDED: Final = 456
_RETRIED: Final = RETRIED_STATUSES | {529}


def endpoint_for(api_key: str) -> str:
    """The API host that serves ``api_key``: free-plan keys end with ``:fx``."""
    return FREE_ENDPOINT if api_key.endswith(FREE_KEY_SUFFIX) else PRO_ENDPOINT


def deepl_target(code: str) -> str:
    """DeepL's target code for an ISO code: ``en`` → ``EN-GB`` (a European marketplace), ``pl`` → ``PL``."""
    code = normalize_code(code)
    return _TARGET_VARIANT.get(code, code.upper())


class DeepLTranslate:
    """Translation through ``POST /v2/translate`` with an authentication key."""

    name = "deepl"

    def __init__(
        self, api_key: str, session: requests.Session | None = None, deadline: TranslationDeadline | None = None
    ) -> None:
        self._api_key = api_key
        self._endpoint = endpoint_for(api_key)
        self._session = PlannedSessions(deadline, "DeepL", statuses=_RETRIED, session=session)

    def supports(self, source: str, target: str) -> bool:
        source_known = source == UNDETERMINED or normalize_code(source) in DEEPL_SOURCE_LANGUAGES
        return source_known and normalize_code(target) in DEEPL_TARGET_LANGUAGES

    def translate(self, text: str, source: str, target: str) -> str:
        if not self.supports(source, target):
            raise UnsupportedLanguage(source if normalize_code(target) in DEEPL_TARGET_LANGUAGES else target)
        return translate_in_pieces(text, MAX_REQUEST_BYTES, lambda piece: self._request(piece, source, target))

    def _request(self, text: str, source: str, target: str) -> str:
        body: dict[str, str | list[str]] = {"text": [text], "target_lang": deepl_target(target)}
        if source != UNDETERMINED:  # without source_lang, DeepL detects it
            body["source_lang"] = normalize_code(source).upper()
        try:
            response = self._session.post(
                self._endpoint,
                json=body,
                headers={"Authorization": f"DeepL-Auth-Key {self._api_key}"},
            )
        except (requests.Timeout, requests.ConnectionError, requests.exceptions.RetryError) as error:
            raise ProviderUnavailable(f"DeepL: {type(error).__name__}") from error
        status = response.status_code
        if status in _RETRIED or status >= 500 or status == _QUOTA_EXCEEDED:
            raise ProviderUnavailable(f"DeepL: HTTP {status}")
        if status in (401, 403):
            raise ProviderUnavailable(f"DeepL rejected the authentication key: HTTP {status}")
        if status != 200:
            raise TranslationError(f"DeepL refused the request: HTTP {status}")
        try:
            return str(response.json()["translations"][0]["text"])
        except (ValueError, KeyError, IndexError, TypeError) as error:
            raise TranslationError("DeepL answered with an unexpected body") from error
