"""Google Cloud Translation - Basic (v2 REST): the long tail of languages beyond Amazon's list."""

from __future__ import annotations

from typing import Any, Final

import requests

from ...domain.language import UNDETERMINED
from .base import ProviderUnavailable, TranslationError, UnsupportedLanguage, normalize_code
from .budget import TranslationDeadline
from .chunks import translate_in_pieces
from .http import PlannedSessions

ENDPOINT: Final = "https://translation.googleapis.com/language/translate/v2"

# https://cloud.google.com/translate/docs/languages (NMT model), with the aliases Google accepts
# (he/iw, jv/jw, zh/zh-CN, fil/tl); any pair of them is supported.
GOOGLE_LANGUAGES: Final = frozenset(
    {
        "ab", "ace", "ach", "af", "ak", "alz", "am", "ar", "as", "awa", "ay", "az", "ba", "ban",
        "bbc", "be", "bem", "bew", "bg", "bho", "bik", "bm", "bn", "br", "bs", "bts", "btx", "bua",
        "ca", "ceb", "cgg", "chm", "ckb", "cnh", "co", "crh", "crs", "cs", "cv", "cy", "da", "de",
        "din", "doi", "dov", "dv", "dz", "ee", "el", "en", "eo", "es", "et", "eu", "fa", "ff", "fi",
        "fil", "fj", "fr", "fr-CA", "fr-FR", "fy", "ga", "gaa", "gd", "gl", "gn", "gom", "gu", "ha",
        "haw", "he", "hi", "hil", "hmn", "hr", "hrx", "ht", "hu", "hy", "id", "ig", "ilo", "is",
        "it", "iw", "ja", "jv", "jw", "ka", "kk", "km", "kn", "ko", "kri", "ktu", "ku", "ky", "la",
        "lb", "lg", "li", "lij", "lmo", "ln", "lo", "lt", "ltg", "luo", "lus", "lv", "mai", "mak",
        "mg", "mi", "min", "mk", "ml", "mn", "mni-Mtei", "mr", "ms", "ms-Arab", "mt", "my", "ne",
        "new", "nl", "no", "nr", "nso", "nus", "ny", "oc", "om", "or", "pa", "pa-Arab", "pag",
        "pam", "pap", "pl", "ps", "pt", "pt-BR", "pt-PT", "qu", "rn", "ro", "rom", "ru", "rw", "sa",
        "scn", "sd", "sg", "shn", "si", "sk", "sl", "sm", "sn", "so", "sq", "sr", "ss", "st", "su",
        "sv", "sw", "szl", "ta", "te", "tet", "tg", "th", "ti", "tk", "tl", "tn", "tr", "ts", "tt",
        "ug", "uk", "ur", "uz", "vi", "xh", "yi", "yo", "yua", "yue", "zh", "zh-CN", "zh-TW", "zu",
    }
)  # fmt: skip
# Google recommends at most 5,000 code points per request (v2 rejects requests over 100 KB); a
# code point is at most 4 bytes, so pieces of 5,000 bytes always stay under both.
MAX_REQUEST_BYTES: Final = 5_000
# Error reasons (errors[].reason) of the v2 error body that mean "not now" rather than "never".
_QUOTA_REASONS: Final = frozenset({"rateLimitExceeded", "userRateLimitExceeded", "dailyLimitExceeded", "quotaExceeded"})


class GoogleTranslate:
    """Translation through ``POST .../language/translate/v2`` with an API key."""

    name = "google"

    def __init__(
        self, api_key: str, session: requests.Session | None = None, deadline: TranslationDeadline | None = None
    ) -> None:
        self._api_key = api_key
        self._session = PlannedSessions(deadline, "Google Translate", session=session)

    def supports(self, source: str, target: str) -> bool:
        source_known = source == UNDETERMINED or normalize_code(source) in GOOGLE_LANGUAGES
        return source_known and normalize_code(target) in GOOGLE_LANGUAGES

    def translate(self, text: str, source: str, target: str) -> str:
        if not self.supports(source, target):
            raise UnsupportedLanguage(source if normalize_code(target) in GOOGLE_LANGUAGES else target)
        return translate_in_pieces(text, MAX_REQUEST_BYTES, lambda piece: self._request(piece, source, target))

    def _request(self, text: str, source: str, target: str) -> str:
        body: dict[str, str] = {"q": text, "target": normalize_code(target), "format": "text"}
        if source != UNDETERMINED:  # without a source, Google detects it
            body["source"] = normalize_code(source)
        try:
            # The key goes in a header rather than ?key=: URLs end up in exception messages and logs.
            response = self._session.post(ENDPOINT, json=body, headers={"X-Goog-Api-Key": self._api_key})
        except (requests.Timeout, requests.ConnectionError, requests.exceptions.RetryError) as error:
            raise ProviderUnavailable(f"Google Translate: {type(error).__name__}") from error
        if response.status_code != 200:
            raise _error(response, source)
        try:
            # format=text: the translation is plain text, not HTML to unescape.
            return str(response.json()["data"]["translations"][0]["translatedText"])
        except (ValueError, KeyError, IndexError, TypeError) as error:
            raise TranslationError("Google Translate answered with an unexpected body") from error


def _error(response: requests.Response, source: str) -> Exception:
    """The exception for a non-200 answer, from its status and the machine-readable reasons."""
    status = response.status_code
    reasons = _reasons(response)
    if reasons & _QUOTA_REASONS:
        return ProviderUnavailable(f"Google Translate quota exceeded: HTTP {status} {sorted(reasons)}")
    if status == 429 or status >= 500:
        return ProviderUnavailable(f"Google Translate: HTTP {status}")
    if status in (401, 403) or "API_KEY_INVALID" in reasons:
        return ProviderUnavailable(f"Google Translate rejected the API key: HTTP {status}")
    if status == 400 and "invalid" in reasons:
        # v2 answers "Invalid Value" (reason "invalid") for a language code it does not take.
        return UnsupportedLanguage(source)
    return TranslationError(f"Google Translate refused the request: HTTP {status} {sorted(reasons)}")


def _reasons(response: requests.Response) -> set[str]:
    """``error.errors[].reason`` and ``error.details[].reason`` of a Google API error body."""
    try:
        error: Any = response.json()["error"]
    except (ValueError, KeyError, TypeError):
        return set()
    entries = [*error.get("errors", []), *error.get("details", [])]
    return {str(entry["reason"]) for entry in entries if isinstance(entry, dict) and "reason" in entry}
