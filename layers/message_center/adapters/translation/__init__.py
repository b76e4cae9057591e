"""Machine translation: one adapter per provider behind a small protocol, and a router over them.

The providers are imported from their own modules (``.amazon``, ``.google``, ``.deepl``, ``.dev``);
this package imports none of them, so a function loads only the clients it uses.
"""

from .base import OutOfTime, ProviderUnavailable, TranslationError, TranslationProvider, UnsupportedLanguage
from .router import CircuitBreaker, Translation, TranslationRouter

__all__ = [
    "CircuitBreaker",
    "OutOfTime",
    "ProviderUnavailable",
    "Translation",
    "TranslationError",
    "TranslationProvider",
    "TranslationRouter",
    "UnsupportedLanguage",
]
