"""An HTTP session for translation APIs: short timeouts, bounded retries with backoff."""

from __future__ import annotations

import sys
from typing import Any, Final

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from .base import OutOfTime
from .budget import TranslationDeadline, unlimited

# (connect, read) seconds, with time to spare (``budget.FULL_PLAN``).
TIMEOUTS: Final = (2.0, 5.0)
RETRIED_STATUSES: Final = frozenset({429, 500, 502, 503, 504})


def retrying_session(
    *, attempts: int = 3, backoff_factor: float = 0.5, statuses: frozenset[int] = RETRIED_STATUSES
) -> requests.Session:
    """A session whose POSTs are retried on throttling and 5xx, ``attempts`` in all.

    Translation requests are idempotent, so POST is retried. Retry-After is not obeyed: a provider
    asking for a minute's pause would hold a Lambda invocation; the circuit breaker and the next
    provider are the answer to a longer outage. The last response is returned (not raised), so the
    caller maps its status and body to an error.
    """
    retry = Retry(
        total=attempts - 1,
        connect=attempts - 1,
        read=attempts - 1,
        status=attempts - 1,
        backoff_factor=backoff_factor,
        backoff_max=2.0,
        status_forcelist=statuses,
        allowed_methods=frozenset({"POST"}),
        respect_retry_after_header=False,
        raise_on_status=False,
    )
    _trace_requests()
    session = requests.Session()
    session.mount("https://", HTTPAdapter(max_retries=retry))
    return session


class PlannedSessions:
    """Sessions per number of attempts, each request's timeouts and attempts from the deadline's
    plan. An injected session (tests) serves every plan with its own retries."""

    def __init__(
        self,
        deadline: TranslationDeadline | None,
        provider: str,
        statuses: frozenset[int] = RETRIED_STATUSES,
        session: requests.Session | None = None,
    ) -> None:
        self._deadline = deadline or unlimited()
        self._provider = provider
        self._statuses = statuses
        self._injected = session
        self._sessions: dict[int, requests.Session] = {}

    def post(self, url: str, **kwargs: Any) -> requests.Response:
        """POST within the deadline; OutOfTime when no request fits any more."""
        plan = self._deadline.plan()
        if plan is None:
            raise OutOfTime(f"{self._provider}: no time left for a request")
        session = self._injected or self._sessions.get(plan.attempts)
        if session is None:
            session = self._sessions[plan.attempts] = retrying_session(attempts=plan.attempts, statuses=self._statuses)
        return session.post(url, timeout=(plan.connect, plan.read), **kwargs)


def _trace_requests() -> None:
    """X-Ray traces the provider's calls (nothing happens where tracing is off). Patched here, when
    an HTTP provider is configured, rather than by every function at cold start; and only in a
    process whose function tracer loaded the X-Ray SDK (loading it opens its UDP emitter)."""
    if "aws_xray_sdk.core" not in sys.modules:
        return
    from aws_lambda_powertools import Tracer

    Tracer(auto_patch=False).patch(["requests"])
