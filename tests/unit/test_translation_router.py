"""Routing translations to providers: order, long tail, circuit breaking, fall-through, counting."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
import responses
from botocore.config import Config
from botocore.stub import Stubber
from message_center.adapters.translation import (
    CircuitBreaker,
    ProviderUnavailable,
    TranslationRouter,
    UnsupportedLanguage,
)
from message_center.adapters.translation.amazon import AmazonTranslate
from message_center.adapters.translation.dev import DevTranslator
from message_center.adapters.translation.google import ENDPOINT as GOOGLE_ENDPOINT
from message_center.adapters.translation.google import GoogleTranslate
from message_center.adapters.translation.router import CircuitState


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class FakeProvider:
    """A provider for the languages given, failing with the queued errors first."""

    def __init__(self, name: str, languages: set[str] | None = None, errors: list[Exception] | None = None):
        self.name = name
        self._languages = languages
        self._errors = list(errors or [])
        self.calls: list[tuple[str, str, str]] = []

    def supports(self, source: str, target: str) -> bool:
        return self._languages is None or {source, target} <= self._languages

    def translate(self, text: str, source: str, target: str) -> str:
        self.calls.append((text, source, target))
        if self._errors:
            raise self._errors.pop(0)
        return f"{self.name}:{text}"

    def fail_next(self, count: int) -> None:
        self._errors = [ProviderUnavailable(f"{self.name} is down") for _ in range(count)]


# --- circuit breaker --------------------------------------------------------------------------


def test_breaker_opens_after_consecutive_failures_only() -> None:
    # Given a breaker that opens after 3 consecutive failures
    breaker = CircuitBreaker(failure_threshold=3, cool_down=30, clock=FakeClock())
    # When two failures are followed by a success, then two more failures
    for record in (breaker.record_failure, breaker.record_failure, breaker.record_success):
        record()
    breaker.record_failure()
    breaker.record_failure()
    # Then it is still closed (the success reset the count)
    assert breaker.state is CircuitState.CLOSED and breaker.allow()
    # When a third consecutive failure comes
    breaker.record_failure()
    # Then it opens and refuses calls
    assert breaker.state is CircuitState.OPEN
    assert not breaker.allow()


def test_breaker_half_opens_after_the_cool_down_and_a_failed_trial_reopens_it() -> None:
    # Given an open breaker
    clock = FakeClock()
    breaker = CircuitBreaker(failure_threshold=1, cool_down=30, clock=clock)
    breaker.record_failure()
    # When the cool-down has not fully passed
    clock.advance(29.9)
    # Then calls are still refused
    assert not breaker.allow()
    # When it has passed
    clock.advance(0.1)
    # Then a trial call is allowed
    assert breaker.state is CircuitState.HALF_OPEN and breaker.allow()
    # When the trial fails
    breaker.record_failure()
    # Then it opens for another full cool-down
    assert breaker.state is CircuitState.OPEN
    clock.advance(29)
    assert not breaker.allow()
    clock.advance(1)
    assert breaker.allow()


def test_breaker_closes_after_a_successful_trial() -> None:
    # Given a half-open breaker
    clock = FakeClock()
    breaker = CircuitBreaker(failure_threshold=2, cool_down=10, clock=clock)
    breaker.record_failure()
    breaker.record_failure()
    clock.advance(10)
    assert breaker.state is CircuitState.HALF_OPEN
    # When the trial succeeds
    breaker.record_success()
    # Then it is closed, and it takes the full threshold of failures to open it again
    assert breaker.state is CircuitState.CLOSED
    breaker.record_failure()
    assert breaker.state is CircuitState.CLOSED


def test_breaker_threshold_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        CircuitBreaker(failure_threshold=0)


# --- routing ------------------------------------------------------------------------------------


def test_first_configured_provider_supporting_the_pair_translates() -> None:
    # Given two providers that both support Czech→Polish
    first, second = FakeProvider("amazon"), FakeProvider("google")
    router = TranslationRouter([first, second])
    # When a message is translated
    translation = router.translate("Dobrý den", "cs", "pl")
    # Then the first one does it, and the result names it
    assert (translation.text, translation.provider) == ("amazon:Dobrý den", "amazon")
    assert (translation.source, translation.target) == ("cs", "pl")
    assert second.calls == []


def test_a_provider_that_does_not_support_the_pair_is_skipped() -> None:
    # Given a first provider without Lithuanian
    first = FakeProvider("amazon", {"pl", "en", "uk"})
    second = FakeProvider("google")
    # When a Lithuanian message is translated
    translation = TranslationRouter([first, second]).translate("Ačiū", "lt", "pl")
    # Then the second provider does it without the first being called
    assert translation.provider == "google"
    assert first.calls == []


@pytest.fixture
def amazon() -> Iterator[AmazonTranslate]:
    client = boto3.client(
        "translate",
        region_name="eu-central-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"mode": "standard", "total_max_attempts": 1}),
    )
    with Stubber(client) as stubber:  # nothing queued: a call to Amazon would fail the test
        yield AmazonTranslate(client)
        stubber.assert_no_pending_responses()


@responses.activate
def test_a_long_tail_language_goes_to_google_when_amazon_lacks_it(amazon: AmazonTranslate) -> None:
    # Given Amazon first and Google second, as in the cloud
    google_call = responses.post(
        GOOGLE_ENDPOINT, json={"data": {"translations": [{"translatedText": "Dziękuję bardzo"}]}}
    )
    router = TranslationRouter([amazon, GoogleTranslate("test-key")])
    # When a Yoruba message (not on Amazon's list) is translated into Polish
    translation = router.translate("Ẹ ṣeun púpọ̀", "yo", "pl")
    # Then Google translates it and Amazon is not called
    assert (translation.provider, translation.text) == ("google", "Dziękuję bardzo")
    assert google_call.call_count == 1


def test_an_unsupported_source_language_is_named() -> None:
    # Given providers that know Polish, English and Ukrainian only
    router = TranslationRouter([FakeProvider("amazon", {"pl", "en", "uk"})])
    # When a Klingon message is translated
    # Then the error names Klingon
    with pytest.raises(UnsupportedLanguage) as raised:
        router.translate("nuqneH", "tlh", "pl")
    assert raised.value.language == "tlh"
    assert "'tlh'" in raised.value.detail
    assert not router.supports("tlh", "pl")


def test_an_unsupported_target_language_is_named() -> None:
    # Given providers that know Polish, English and Ukrainian only
    router = TranslationRouter([FakeProvider("amazon", {"pl", "en", "uk"})])
    # When a Polish message is translated into Klingon
    # Then the error names Klingon, not Polish
    with pytest.raises(UnsupportedLanguage) as raised:
        router.translate("Dzień dobry", "pl", "tlh")
    assert raised.value.language == "tlh"


def test_an_undetermined_source_is_unsupported_without_a_detecting_provider() -> None:
    # Given only a provider that cannot detect languages
    router = TranslationRouter([FakeProvider("amazon", {"pl", "en", "uk"})])
    # When a message of undetermined language is translated
    # Then it is refused as "und" with a message saying the language is unknown
    with pytest.raises(UnsupportedLanguage) as raised:
        router.translate("hmm", "und", "pl")
    assert raised.value.language == "und"
    assert "could not be determined" in raised.value.detail


def test_an_undetermined_source_goes_to_a_provider_that_detects() -> None:
    # Given a provider that detects languages after one that does not
    detecting = FakeProvider("google")
    router = TranslationRouter([FakeProvider("amazon", {"pl", "en", "uk"}), detecting])
    # When a message of undetermined language is translated
    translation = router.translate("Díky moc", "und", "en")
    # Then the detecting provider gets "und" as the source
    assert translation.provider == "google"
    assert detecting.calls == [("Díky moc", "und", "en")]


def test_an_unavailable_provider_falls_through_to_the_next() -> None:
    # Given the first provider down
    first, second = FakeProvider("amazon"), FakeProvider("google")
    first.fail_next(1)
    # When a message is translated
    translation = TranslationRouter([first, second]).translate("Dobrý den", "cs", "pl")
    # Then the second provider translates it
    assert translation.provider == "google"
    assert len(first.calls) == 1


def test_when_every_provider_is_down_the_caller_learns_it() -> None:
    # Given every provider down
    first, second = FakeProvider("amazon"), FakeProvider("google")
    first.fail_next(1)
    second.fail_next(1)
    # When a message is translated
    # Then ProviderUnavailable is raised (the message is delivered untranslated, retried later)
    with pytest.raises(ProviderUnavailable, match="amazon, google"):
        TranslationRouter([first, second]).translate("Dobrý den", "cs", "pl")


def test_an_open_circuit_skips_the_provider_until_the_cool_down_passes() -> None:
    # Given Amazon failing 3 times in a row, with Google behind it
    clock = FakeClock()
    amazon, google = FakeProvider("amazon"), FakeProvider("google")
    router = TranslationRouter([amazon, google], failure_threshold=3, cool_down=60, clock=clock)
    amazon.fail_next(3)
    for _ in range(3):
        assert router.translate("a", "cs", "pl").provider == "google"
    assert router.breaker("amazon").state is CircuitState.OPEN
    # When more messages are translated during the cool-down
    for _ in range(5):
        assert router.translate("b", "cs", "pl").provider == "google"
    # Then Amazon is not called at all (fails fast)
    assert len(amazon.calls) == 3
    # When the cool-down has passed and Amazon is back
    clock.advance(60)
    translation = router.translate("c", "cs", "pl")
    # Then the trial call goes to Amazon, succeeds and closes the circuit
    assert translation.provider == "amazon"
    assert router.breaker("amazon").state is CircuitState.CLOSED


def test_with_the_only_circuit_open_the_router_fails_fast() -> None:
    # Given a single provider whose circuit has opened
    clock = FakeClock()
    only = FakeProvider("amazon")
    router = TranslationRouter([only], failure_threshold=2, cool_down=30, clock=clock)
    only.fail_next(2)
    for _ in range(2):
        with pytest.raises(ProviderUnavailable):
            router.translate("a", "cs", "pl")
    # When another message is translated
    # Then it fails without calling the provider
    with pytest.raises(ProviderUnavailable):
        router.translate("b", "cs", "pl")
    assert len(only.calls) == 2


def test_a_provider_refusing_a_listed_pair_falls_through_without_tripping_its_circuit() -> None:
    # Given a first provider that refuses the pair at call time
    first = FakeProvider("amazon", errors=[UnsupportedLanguage("cs")])
    second = FakeProvider("google")
    router = TranslationRouter([first, second], failure_threshold=1)
    # When a message is translated
    translation = router.translate("Dobrý den", "cs", "pl")
    # Then the next provider translates it, and the first is not considered down
    assert translation.provider == "google"
    assert router.breaker("amazon").state is CircuitState.CLOSED


def test_a_refusal_by_every_provider_is_an_unsupported_language() -> None:
    # Given the only provider refusing the pair at call time
    router = TranslationRouter([FakeProvider("amazon", errors=[UnsupportedLanguage("cs")])])
    # Then the caller learns the language is unsupported
    with pytest.raises(UnsupportedLanguage):
        router.translate("Dobrý den", "cs", "pl")


def test_characters_are_counted_per_provider_for_successful_translations_only() -> None:
    # Given a character counter and Amazon failing once before Google answers
    counted: list[tuple[str, int]] = []
    amazon, google = FakeProvider("amazon"), FakeProvider("google")
    amazon.fail_next(1)
    router = TranslationRouter([amazon, google], on_characters=lambda name, n: counted.append((name, n)))
    # When two messages are translated
    router.translate("Dobrý den", "cs", "pl")
    router.translate("Děkuji, zboží dorazilo.", "cs", "uk")
    # Then each provider's characters are counted once per translation it delivered
    assert counted == [("google", 9), ("amazon", 23)]


def test_providers_must_have_distinct_names() -> None:
    with pytest.raises(ValueError, match="distinct names"):
        TranslationRouter([FakeProvider("amazon"), FakeProvider("amazon")])


def test_the_dev_stand_in_routes_everything_locally() -> None:
    # Given the local configuration: only the development stand-in
    router = TranslationRouter([DevTranslator()])
    # When a Hungarian message is translated into Ukrainian
    translation = router.translate("Köszönöm", "hu", "uk")
    # Then the labelled stand-in answers
    assert translation.provider == "dev"
    assert translation.text == "[uk machine translation stand-in] Köszönöm"
