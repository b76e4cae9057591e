"""Translation within the time the invocation has left: plans, and the adapters keeping to them."""

from __future__ import annotations

import pytest
import responses
from message_center.adapters.translation import OutOfTime, ProviderUnavailable, TranslationRouter
from message_center.adapters.translation.amazon import AmazonTranslate, amazon_translate_client
from message_center.adapters.translation.budget import FULL_PLAN, CallPlan, TranslationDeadline, plan_within
from message_center.adapters.translation.google import ENDPOINT as GOOGLE_ENDPOINT
from message_center.adapters.translation.google import GoogleTranslate
from message_center.deployment import API_FUNCTION, TRANSLATION_BUDGET_SECONDS

API_TIMEOUT_MS = API_FUNCTION.timeout_seconds * 1000
TEN_SECONDS_MS = 10_000  # an invocation with 10 s left
MARGIN_MS = 2_000


class FakeClock:
    def __init__(self) -> None:
        self.now = 500.0

    def __call__(self) -> float:
        return self.now


def _deadline(remaining_ms: int, clock: FakeClock | None = None) -> TranslationDeadline:
    deadline = TranslationDeadline(MARGIN_MS, clock=clock or FakeClock())
    deadline.start(remaining_ms)
    return deadline


def test_with_time_to_spare_a_provider_gets_three_attempts_that_would_outlast_the_api_function() -> None:
    # Given no deadline (outside an invocation)
    # Then the full plan is used, whose worst case is longer than the API function may run
    assert plan_within(None) == FULL_PLAN == CallPlan(connect=2.0, read=5.0, attempts=3)
    assert FULL_PLAN.worst_case() > API_TIMEOUT_MS / 1000


@pytest.mark.parametrize("seconds", [0.0, 0.9, 1.4, 1.5, 2.2, 3.0, 4.0, 5.5, 7.0, 8.0, 9.9, 15.0, 23.9, 24.0, 60.0])
def test_a_plan_always_fits_the_time_left(seconds: float) -> None:
    plan = plan_within(seconds)
    # Then either no request is started, or even its worst case ends in time
    assert plan is None or plan.worst_case() <= seconds
    assert plan is None or (plan.attempts >= 1 and plan.read >= 0.5)
    if seconds < 1.5:
        assert plan is None


def test_the_api_functions_budget_keeps_one_attempt_with_the_usual_timeouts() -> None:
    # Given an API invocation that has just started (10 s left, 2 s kept back)
    deadline = _deadline(TEN_SECONDS_MS)
    # Then a request gets one attempt with the usual timeouts: 7 s at most
    assert deadline.remaining() == 8.0
    assert deadline.plan() == CallPlan(connect=2.0, read=5.0, attempts=1)


def test_a_longer_invocation_still_gives_translation_no_more_than_the_stated_budget() -> None:
    # Given an API invocation that has just started with the function's whole timeout left
    deadline = _deadline(API_TIMEOUT_MS)
    # Then translation gets the deployment's budget, not everything up to the margin
    assert API_TIMEOUT_MS / 1000 - MARGIN_MS / 1000 > TRANSLATION_BUDGET_SECONDS
    assert deadline.remaining() == TRANSLATION_BUDGET_SECONDS
    plan = deadline.plan()
    assert plan is not None and plan.worst_case() <= TRANSLATION_BUDGET_SECONDS


def test_less_time_shortens_the_timeouts_and_none_left_starts_nothing() -> None:
    clock = FakeClock()
    deadline = _deadline(6_000, clock)
    assert deadline.plan() == CallPlan(connect=1.0, read=3.0, attempts=1)
    clock.now += 3.5
    assert deadline.plan() is None
    clock.now += 60
    assert deadline.remaining() == 0.0


@responses.activate
def test_google_keeps_to_the_plan_timeouts_and_attempts() -> None:
    # Given Google failing every time, and 3 s left for translating
    failing = responses.post(GOOGLE_ENDPOINT, status=503, json={"error": {"code": 503, "errors": []}})
    google = GoogleTranslate("test-key", deadline=_deadline(5_000))
    # When a message is translated
    with pytest.raises(ProviderUnavailable, match="503"):
        google.translate("Cześć", "pl", "en")
    # Then one attempt was made (not three), with timeouts that end within the 3 s
    assert failing.call_count == 1
    assert responses.calls[0].request.req_kwargs["timeout"] == (1.0, 2.0)


@responses.activate
def test_google_starts_no_request_once_the_time_is_up() -> None:
    clock = FakeClock()
    never = responses.post(GOOGLE_ENDPOINT, json={"data": {"translations": [{"translatedText": "Hi"}]}})
    google = GoogleTranslate("test-key", deadline=_deadline(TEN_SECONDS_MS, clock))
    clock.now += 7.5  # another provider used most of the time
    with pytest.raises(OutOfTime):
        google.translate("Cześć", "pl", "en")
    assert never.call_count == 0


def test_amazon_builds_its_client_with_the_plan(aws_env: None) -> None:
    # Given Amazon Translate behind a deadline with 4 s left
    built: list[CallPlan] = []

    def client_for(plan: CallPlan):
        built.append(plan)
        return amazon_translate_client("eu-central-1", plan=plan)

    deadline = _deadline(6_000)
    amazon = AmazonTranslate(amazon_translate_client("eu-central-1"), deadline=deadline, client_for=client_for)
    # When a request is made, its client is the plan's: one attempt, shorter timeouts
    client = amazon._planned_client(deadline.plan())  # type: ignore[arg-type]
    assert built == [CallPlan(connect=1.0, read=3.0, attempts=1)]
    config = client.meta.config
    assert config.retries == {"mode": "standard", "total_max_attempts": 1}
    assert (config.connect_timeout, config.read_timeout) == (1.0, 3.0)
    # And the client is kept for the next request with the same plan
    assert amazon._planned_client(deadline.plan()) is client  # type: ignore[arg-type]
    assert len(built) == 1


class SlowProvider:
    """A provider that uses up the time it is given, then fails like a timeout."""

    def __init__(self, name: str, clock: FakeClock, seconds: float) -> None:
        self.name = name
        self.calls = 0
        self._clock = clock
        self._seconds = seconds

    def supports(self, source: str, target: str) -> bool:
        return True

    def translate(self, text: str, source: str, target: str) -> str:
        self.calls += 1
        self._clock.now += self._seconds
        raise ProviderUnavailable(f"{self.name}: ReadTimeout")


def test_the_router_tries_no_further_provider_once_the_time_is_up() -> None:
    # Given two providers that each use 7 s, and 8 s to translate in
    clock = FakeClock()
    first, second = SlowProvider("amazon", clock, 7.0), SlowProvider("google", clock, 7.0)
    router = TranslationRouter([first, second], deadline=_deadline(TEN_SECONDS_MS, clock))
    # When a message is translated
    with pytest.raises(OutOfTime):
        router.translate("Dobrý den", "cs", "pl")
    # Then the second provider was not started, and its circuit holds no failure for it
    assert (first.calls, second.calls) == (1, 0)
    assert router.breaker("google").state.value == "closed"
