"""How long a translation may take: what is left of the invocation, minus a safety margin.

A provider's client on its own gives up only after three attempts of up to 2 s to connect and
5 s to read, with backoff between them: over 20 s, longer than the API function runs. Each request
to a provider is therefore planned within the time left (``plan_within``): fewer attempts first,
then shorter timeouts, and none at all when too little is left. A translation that does not fit
fails like a provider outage, which every caller already handles (the stream function delivers
the message untranslated and translates it on the retry; the API answers 503), so the function
answers before its own timeout instead of being cut off mid-request.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Final

from message_center.deployment import TRANSLATION_BUDGET_SECONDS

# Below this, a request cannot be expected to succeed: do not start one.
MIN_READ_SECONDS: Final = 0.5
# Timeouts are rounded down to this step, so that the clients built per plan stay few.
STEP_SECONDS: Final = 0.5


@dataclass(frozen=True)
class CallPlan:
    """Timeouts and attempts of one provider request."""

    connect: float
    read: float
    attempts: int

    def worst_case(self) -> float:
        """Seconds the request may take at most: every attempt timing out, with the longest backoff
        between attempts (botocore's standard mode sleeps up to 1 s, then 2 s; urllib3 less)."""
        backoff = sum(min(2.0, 2.0**retry) for retry in range(self.attempts - 1))
        return self.attempts * (self.connect + self.read) + backoff


# What a provider's client does with all the time in the world.
FULL_PLAN: Final = CallPlan(connect=2.0, read=5.0, attempts=3)


def plan_within(seconds: float | None, full: CallPlan = FULL_PLAN) -> CallPlan | None:
    """The most patient plan whose worst case fits in ``seconds`` (None: no limit), or None when
    not even one short attempt fits."""
    if seconds is None:
        return full
    for attempts in range(full.attempts, 0, -1):
        candidate = replace(full, attempts=attempts)
        if candidate.worst_case() <= seconds:
            return candidate
    connect = _step_down(min(full.connect, seconds / 3))
    read = _step_down(min(full.read, seconds - connect))
    if connect < STEP_SECONDS or read < MIN_READ_SECONDS:
        return None
    return CallPlan(connect=connect, read=read, attempts=1)


def _step_down(seconds: float) -> float:
    return math.floor(seconds / STEP_SECONDS) * STEP_SECONDS


class TranslationDeadline:
    """The end of the time translation may use in the current invocation.

    The handler calls ``start`` with the invocation's remaining time; until then (and outside
    Lambda) there is no limit beyond the providers' own. ``margin_ms`` is kept back for what the
    function does after translating (storing it, sending the e-mail copy, answering), and a
    translation never gets more than ``budget_seconds`` (the deployment's stated budget, which the
    API function's timeout is sized for) even in a function with a longer timeout.
    """

    def __init__(
        self,
        margin_ms: int,
        clock: Callable[[], float] = time.monotonic,
        budget_seconds: float = TRANSLATION_BUDGET_SECONDS,
    ) -> None:
        self.margin_ms = margin_ms
        self.budget_seconds = budget_seconds
        self._clock = clock
        self._until: float | None = None

    def start(self, remaining_ms: int) -> None:
        self._until = self._clock() + min(self.budget_seconds, (remaining_ms - self.margin_ms) / 1000)

    def remaining(self) -> float | None:
        """Seconds left for translation now (never negative), or None when unlimited."""
        return None if self._until is None else max(0.0, self._until - self._clock())

    def plan(self, full: CallPlan = FULL_PLAN) -> CallPlan | None:
        """The plan for a provider request starting now (None: no time for one)."""
        return plan_within(self.remaining(), full)


def unlimited() -> TranslationDeadline:
    """A deadline that is never started: each request gets the full plan."""
    return TranslationDeadline(margin_ms=0)
