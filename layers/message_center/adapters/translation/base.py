"""What every translation provider offers, and the errors the router understands."""

from __future__ import annotations

from typing import Protocol

from ...domain.errors import ValidationError
from ...domain.language import UNDETERMINED


class TranslationProvider(Protocol):
    """A machine translation service.

    Language codes are ISO 639-1 (BCP 47 where a provider documents a regional variant, e.g.
    ``zh-TW``); ``"und"`` as the source asks the provider to detect it, which only providers that
    can say so in ``supports``.
    """

    name: str

    def supports(self, source: str, target: str) -> bool:
        """Whether this provider translates from ``source`` into ``target``."""
        ...

    def translate(self, text: str, source: str, target: str) -> str:
        """``text`` in ``target``. Raises ProviderUnavailable, UnsupportedLanguage or TranslationError."""
        ...


class TranslationError(Exception):
    """A provider failed in a way that is neither an outage nor an unsupported language: a bug or a
    misconfiguration on our side (a malformed request, a response of an unexpected shape)."""


class ProviderUnavailable(TranslationError):
    """The provider cannot serve now: timeouts, 5xx, throttling or quota after the client's retries,
    rejected credentials. Counts towards the provider's circuit breaker; another provider may serve."""


class OutOfTime(ProviderUnavailable):
    """Too little of the invocation is left to start a request (see ``budget``): not the
    provider's fault, so no mark on its circuit breaker, and no point in trying another."""


class UnsupportedLanguage(ValidationError):
    """No configured provider translates from or into ``language`` (a 422 for the caller)."""

    code = "UNSUPPORTED_LANGUAGE"

    def __init__(self, language: str, detail: str | None = None) -> None:
        if detail is None:
            detail = (
                "The language of this message could not be determined, so it cannot be translated."
                if language == UNDETERMINED
                else f"Translation from or into the language '{language}' is not supported."
            )
        super().__init__(detail)
        self.language = language


def normalize_code(code: str) -> str:
    """A language code in the case BCP 47 recommends: ``pl``, ``zh-TW``, ``mni-Mtei``."""
    primary, _, rest = code.strip().partition("-")
    if not rest:
        return primary.lower()
    subtag = rest.upper() if len(rest) == 2 else rest.title()
    return f"{primary.lower()}-{subtag}"
