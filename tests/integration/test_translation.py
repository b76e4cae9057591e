"""Language detection on every message, translation on demand, automatic translation."""

from __future__ import annotations

import email
from email import policy
from typing import Any

import pytest
from message_center.adapters.translation import ProviderUnavailable
from message_center.adapters.translation.dev import DevTranslator
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends

from tests.conftest import REGION
from tests.support.api import LambdaContext, call
from tests.support.stream import StreamReader, batch

CZECH = "Dobrý den, zboží jsme odeslali dnes odpoledne, zásilka dorazí zítra."
HUNGARIAN = "Jó napot, a csomagot ma délután feladtuk, holnap érkezik meg."


@pytest.fixture
def provider_calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    calls: list[tuple[str, str]] = []
    original = DevTranslator.translate

    def counting(self: DevTranslator, text: str, source: str, target: str) -> str:
        calls.append((source, target))
        return original(self, text, source, target)

    monkeypatch.setattr(DevTranslator, "translate", counting)
    return calls


def _seller_writes(users, text: str) -> dict:
    response = call(
        "api_write_new_message",
        user_id=users["rowery-kraków"],
        body={"recipient": {"login": "petra_svobodova"}, "order": {"id": "order-petra-1"}, "text": text},
    )
    assert response.status == 201
    return response.json


def _translate(users, login: str, message_id: str, language: str):
    return call(
        "api_translate_message",
        user_id=users[login],
        path={"messageId": message_id, "language": language},
    )


def test_every_message_carries_its_language(users):
    message = _seller_writes(users, "Dzień dobry, paczka została wysłana dzisiaj po południu.")
    assert message["language"] == "pl"
    short = _seller_writes(users, "ok")
    assert short["language"] == "und"


def test_translate_on_demand_once(users, provider_calls):
    message = _seller_writes(users, HUNGARIAN)
    assert message["language"] == "hu"
    # When petra translates it into Ukrainian, twice
    first = _translate(users, "petra_svobodova", message["id"], "uk")
    second = _translate(users, "petra_svobodova", message["id"], "uk")
    # Then it is machine translated once, served from the message the second time
    assert first.status == second.status == 200
    assert first.json == second.json
    assert first.json["sourceLanguage"] == "hu" and first.json["targetLanguage"] == "uk"
    assert first.json["machineTranslated"] is True and first.json["provider"] == "dev"
    assert "stand-in" in first.json["text"]  # the local provider says it is not a real translation
    assert provider_calls == [("hu", "uk")]
    # And the original text is unchanged
    again = call("api_get_message", user_id=users["petra_svobodova"], path={"messageId": message["id"]}).json
    assert again["text"] == HUNGARIAN


@pytest.mark.parametrize("language", ["de", "xx", "cs"])
def test_only_polish_english_and_ukrainian_are_targets(users, language):
    message = _seller_writes(users, HUNGARIAN)
    response = _translate(users, "petra_svobodova", message["id"], language)
    assert response.status == 422
    assert response.json["code"] == "TARGET_LANGUAGE_NOT_SUPPORTED"


def test_a_non_participant_cannot_translate(users):
    message = _seller_writes(users, HUNGARIAN)
    assert _translate(users, "jan_prywatny", message["id"], "pl").status == 404


def test_translation_is_rate_limited_per_user(users, aws):
    from functions.api.handler import container

    container.install(aws.api.model_copy(update={"translation_daily_characters": 100}))
    message = _seller_writes(users, HUNGARIAN)  # 62 characters
    assert _translate(users, "petra_svobodova", message["id"], "uk").status == 200
    limited = _translate(users, "petra_svobodova", message["id"], "pl")
    assert limited.status == 429 and limited.json["code"] == "TRANSLATION_QUOTA_EXCEEDED"


def test_provider_outage_is_a_503(users, monkeypatch):
    message = _seller_writes(users, HUNGARIAN)

    def down(*_: Any) -> str:
        raise ProviderUnavailable("down")

    monkeypatch.setattr(DevTranslator, "translate", down)
    response = _translate(users, "petra_svobodova", message["id"], "pl")
    assert response.status == 503
    assert response.json["code"] == "TRANSLATION_UNAVAILABLE"


def _deliver(reader: StreamReader) -> dict:
    from functions.stream.handler import lambda_handler

    return lambda_handler(batch(reader.read()), LambdaContext())


def _mail_to(address: str) -> list:
    backend = ses_backends[DEFAULT_ACCOUNT_ID][REGION]
    mails = [email.message_from_string(m.raw_data, policy=policy.default) for m in backend.sent_messages]  # type: ignore[misc]
    return [m for m in mails if m["To"] == address]


def test_a_foreign_message_is_translated_for_the_recipient(users):
    # Given petra prefers English and the seller writes in Czech
    reader = StreamReader()
    message = _seller_writes(users, CZECH)
    assert message["language"] == "cs"
    # When the stream processes it
    assert _deliver(reader) == {"batchItemFailures": []}
    # Then petra's view carries the translation, marked as machine translation, original kept
    seen = call("api_get_message", user_id=users["petra_svobodova"], path={"messageId": message["id"]}).json
    assert seen["text"] == CZECH
    assert seen["translation"]["targetLanguage"] == "en"
    assert seen["translation"]["sourceLanguage"] == "cs"
    assert seen["translation"]["machineTranslated"] is True
    # The author's own view is untranslated
    own = call("api_get_message", user_id=users["rowery-kraków"], path={"messageId": message["id"]}).json
    assert own["translation"] is None
    # And the e-mail copy shows the translation first and the original below
    [mail] = _mail_to("petra@example.net")
    text = mail.get_body(("plain",)).get_content()
    assert text.index("Machine translation (from: cs):") < text.index("Original:") < text.rindex(CZECH)


def test_same_language_and_undetermined_are_not_translated(users, provider_calls):
    reader = StreamReader()
    call("api_update_profile", user_id=users["petra_svobodova"], body={"preferredLanguage": "pl"})
    _seller_writes(users, "Dzień dobry, paczka została wysłana dzisiaj po południu.")
    _seller_writes(users, "ok 👍")
    assert _deliver(reader) == {"batchItemFailures": []}
    assert provider_calls == []


def test_a_provider_outage_delivers_untranslated_and_fills_in_later(users, monkeypatch):
    reader = StreamReader()
    message = _seller_writes(users, CZECH)
    event = batch(reader.read())
    from functions.stream.handler import lambda_handler

    def down(*_: Any) -> str:
        raise ProviderUnavailable("down")

    monkeypatch.setattr(DevTranslator, "translate", down)
    # When the provider is down: the e-mail still goes out (untranslated), the record is retried
    assert len(lambda_handler(event, LambdaContext())["batchItemFailures"]) == 1
    assert len(_mail_to("petra@example.net")) == 1
    monkeypatch.undo()
    # When it is back: the translation is filled in, nothing is sent twice
    assert lambda_handler(event, LambdaContext()) == {"batchItemFailures": []}
    seen = call("api_get_message", user_id=users["petra_svobodova"], path={"messageId": message["id"]}).json
    assert seen["translation"]["targetLanguage"] == "en"
    assert len(_mail_to("petra@example.net")) == 1


class SlowAmazon:
    """Amazon Translate answering nothing until each attempt's read timeout, on a fake clock: each
    attempt uses up its whole connect and read timeouts. Records each attempt's client settings."""

    def __init__(self) -> None:
        self.now = 1_000.0
        self.attempts: list[tuple[float, float, int]] = []

    def clock(self) -> float:
        return self.now

    def client_factory(self, build: Any) -> Any:
        from botocore.exceptions import ReadTimeoutError

        def slow_client(*args: Any, **kwargs: Any) -> Any:
            client = build(*args, **kwargs)
            config = client.meta.config

            def hang(**_: Any) -> None:
                self.attempts.append(
                    (config.connect_timeout, config.read_timeout, config.retries["total_max_attempts"])
                )
                self.now += config.connect_timeout + config.read_timeout
                raise ReadTimeoutError(endpoint_url="https://translate.eu-central-1.amazonaws.com")

            client.meta.events.register("before-send.translate.TranslateText", hang)
            return client

        return slow_client


@pytest.fixture
def slow_amazon(monkeypatch: pytest.MonkeyPatch) -> SlowAmazon:
    from message_center.adapters.translation import amazon

    slow = SlowAmazon()
    monkeypatch.setattr(amazon, "amazon_translate_client", slow.client_factory(amazon.amazon_translate_client))
    return slow


# What an invocation of the API function (10 s timeout) has left when it starts, minus the margin.
BUDGET_SECONDS = (LambdaContext().get_remaining_time_in_millis() - 2_000) / 1000


def test_a_slow_provider_delivers_untranslated_within_the_invocation(users, aws, slow_amazon, monkeypatch):
    from functions.stream.handler import container

    # Given Amazon Translate as the provider, and slow
    container.install(aws.stream.model_copy(update={"translation_providers": "amazon"}))
    monkeypatch.setattr(container.get().translation_deadline, "_clock", slow_amazon.clock)
    reader = StreamReader()
    _seller_writes(users, CZECH)
    # When the stream function runs with the 10 s an invocation of the API function would have
    started = slow_amazon.now
    response = _deliver(reader)
    # Then the e-mail copy went out untranslated, and the record is retried for the translation
    assert len(response["batchItemFailures"]) == 1
    [mail] = _mail_to("petra@example.net")
    text = mail.get_body(("plain",)).get_content()
    assert CZECH in text and "Machine translation" not in text
    # And translating kept within 10 s minus the 2 s margin: one attempt of at most 2 + 5 s, where
    # the client alone would have made three (over 20 s)
    assert slow_amazon.attempts == [(2.0, 5.0, 1)]
    assert slow_amazon.now - started <= BUDGET_SECONDS


def test_a_slow_provider_is_a_503_within_the_api_functions_timeout(users, aws, slow_amazon, monkeypatch):
    from functions.api.handler import container

    # Given the API function translating with Amazon Translate, which is slow
    message = _seller_writes(users, HUNGARIAN)
    container.install(aws.api.model_copy(update={"translation_providers": "amazon"}))
    monkeypatch.setattr(container.get().translation.deadline, "_clock", slow_amazon.clock)
    started = slow_amazon.now
    # When petra asks for a translation
    response = _translate(users, "petra_svobodova", message["id"], "pl")
    # Then she is told to try again later, before the function's 10 s are up
    assert response.status == 503 and response.json["code"] == "TRANSLATION_UNAVAILABLE"
    assert slow_amazon.attempts == [(2.0, 5.0, 1)]
    assert slow_amazon.now - started <= BUDGET_SECONDS
