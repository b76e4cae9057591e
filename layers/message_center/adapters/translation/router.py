"""Picks a provider per language pair, and stops calling a provider that is down."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from ...domain.language import TARGET_LANGUAGES, UNDETERMINED
from .base import OutOfTime, ProviderUnavailable, TranslationProvider, UnsupportedLanguage
from .budget import TranslationDeadline, unlimited


class CircuitState(StrEnum):
    CLOSED = "closed"  # calls go through
    OPEN = "open"  # calls are refused until the cool-down has passed
    HALF_OPEN = "half-open"  # the cool-down has passed: the next call is a trial


class CircuitBreaker:
    """Opens after ``failure_threshold`` consecutive failures; after ``cool_down`` seconds lets a
    trial call through (half-open): its success closes the circuit, its failure opens it again.

    In-process: each Lambda container learns about an outage on its own, after a few failed calls.
    """

    def __init__(
        self,
        *,
        failure_threshold: int = 3,
        cool_down: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if failure_threshold < 1:
            raise ValueError("failure_threshold must be at least 1")
        self._threshold = failure_threshold
        self._cool_down = cool_down
        self._clock = clock
        self._failures = 0
        self._opened_at: float | None = None
        self._lock = threading.Lock()

    @property
    def state(self) -> CircuitState:
        with self._lock:
            return self._state()

    def allow(self) -> bool:
        """Whether a call may be made now."""
        with self._lock:
            return self._state() is not CircuitState.OPEN

    def record_success(self) -> None:
        with self._lock:
            self._failures = 0
            self._opened_at = None

    def record_failure(self) -> None:
        with self._lock:
            if self._state() is CircuitState.HALF_OPEN:
                self._opened_at = self._clock()  # the trial failed: another full cool-down
                return
            self._failures += 1
            if self._failures >= self._threshold:
                self._opened_at = self._clock()

    def _state(self) -> CircuitState:
        if self._opened_at is None:
            return CircuitState.CLOSED
        if self._clock() - self._opened_at >= self._cool_down:
            return CircuitState.HALF_OPEN
        return CircuitState.OPEN


@dataclass(frozen=True)
class Translation:
    text: str
    source: str
    target: str
    provider: str


def _ignore_characters(provider: str, count: int) -> None:
    return None


class TranslationRouter:
    """The first provider, in configured order, that supports the pair and whose circuit is not open.

    A provider that is unavailable (after its own retries) counts a failure on its circuit and the
    next provider supporting the pair is tried; when none is left, ProviderUnavailable is raised so
    the caller can deliver the message untranslated and translate later. A pair no provider supports
    raises UnsupportedLanguage naming the language.

    ``und`` as the source goes to the providers that can detect the language themselves (Google,
    DeepL, and Amazon when allowed to call Comprehend); with none of them configured it is
    unsupported.

    ``on_characters(provider, count)`` is called with the characters of each successful translation,
    which is what providers bill (attempts that fail are not billed).

    ``deadline`` is the time the current invocation leaves for translating; the providers built
    with the same deadline plan each request within it, and no provider is tried once it has
    passed (OutOfTime, a ProviderUnavailable).
    """

    def __init__(
        self,
        providers: Sequence[TranslationProvider],
        *,
        on_characters: Callable[[str, int], None] = _ignore_characters,
        failure_threshold: int = 3,
        cool_down: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
        deadline: TranslationDeadline | None = None,
    ) -> None:
        if len({provider.name for provider in providers}) != len(providers):
            raise ValueError("translation providers must have distinct names")
        self._providers = tuple(providers)
        self.deadline = deadline or unlimited()
        self._on_characters = on_characters
        self._breakers = {
            provider.name: CircuitBreaker(failure_threshold=failure_threshold, cool_down=cool_down, clock=clock)
            for provider in providers
        }

    @property
    def provider_names(self) -> tuple[str, ...]:
        return tuple(provider.name for provider in self._providers)

    def breaker(self, provider_name: str) -> CircuitBreaker:
        """The circuit breaker of a configured provider (for health reporting and tests)."""
        return self._breakers[provider_name]

    def supports(self, source: str, target: str) -> bool:
        return any(provider.supports(source, target) for provider in self._providers)

    def translate(self, text: str, source: str, target: str) -> Translation:
        """``text`` translated from ``source`` (or ``und``) into ``target`` by the first able provider."""
        candidates = [provider for provider in self._providers if provider.supports(source, target)]
        if not candidates:
            raise UnsupportedLanguage(self._unsupported_language(source, target))
        refused: UnsupportedLanguage | None = None
        unavailable = False
        for provider in candidates:
            if self.deadline.plan() is None:
                raise OutOfTime(f"No time left in this invocation to translate {source}→{target}.")
            breaker = self._breakers[provider.name]
            if not breaker.allow():
                unavailable = True
                continue
            try:
                translated = provider.translate(text, source, target)
            except OutOfTime:
                raise
            except ProviderUnavailable:
                breaker.record_failure()
                unavailable = True
                continue
            except UnsupportedLanguage as error:
                refused = error  # the provider's list was wider than its service: try the next one
                continue
            breaker.record_success()
            self._on_characters(provider.name, len(text))
            return Translation(text=translated, source=source, target=target, provider=provider.name)
        if refused is not None and not unavailable:
            raise refused
        raise ProviderUnavailable(
            f"No translation provider is available now for {source}→{target} "
            f"(providers for the pair: {', '.join(p.name for p in candidates)})."
        )

    def _unsupported_language(self, source: str, target: str) -> str:
        """The language to name: the source, unless the source is fine and the target is the problem."""
        if source == UNDETERMINED:
            return source
        source_known = any(
            provider.supports(source, other) for provider in self._providers for other in TARGET_LANGUAGES
        )
        return target if source_known else source
