"""Translation provider adapters against responses shaped like each API's documentation.

Amazon Translate through botocore's Stubber; Google Cloud Translation v2 and DeepL v2 through
``responses`` (which also replays urllib3's retries, without the sleeps). No network is used.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
import requests
import responses
from botocore.config import Config
from botocore.exceptions import ReadTimeoutError
from botocore.stub import Stubber
from message_center.adapters.translation import ProviderUnavailable, TranslationError, UnsupportedLanguage
from message_center.adapters.translation.amazon import (
    AMAZON_LANGUAGES,
    MAX_REQUEST_BYTES,
    AmazonTranslate,
    amazon_translate_client,
)
from message_center.adapters.translation.chunks import split_text, translate_in_pieces, utf8_size
from message_center.adapters.translation.deepl import FREE_ENDPOINT, PRO_ENDPOINT, DeepLTranslate
from message_center.adapters.translation.dev import DevTranslator
from message_center.adapters.translation.google import ENDPOINT as GOOGLE_ENDPOINT
from message_center.adapters.translation.google import GOOGLE_LANGUAGES, GoogleTranslate
from responses import matchers

REGION = "eu-central-1"


# --- Amazon Translate -------------------------------------------------------------------------


@pytest.fixture
def translate_client() -> Any:
    return boto3.client(
        "translate",
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"mode": "standard", "max_attempts": 1}),
    )


@pytest.fixture
def stubber(translate_client: Any) -> Iterator[Stubber]:
    with Stubber(translate_client) as stub:
        yield stub
        stub.assert_no_pending_responses()


def _amazon_response(text: str, source: str = "cs", target: str = "pl") -> dict[str, Any]:
    """TranslateText's documented response shape."""
    return {
        "TranslatedText": text,
        "SourceLanguageCode": source,
        "TargetLanguageCode": target,
        "AppliedTerminologies": [],
        "AppliedSettings": {},
    }


def test_amazon_translates_with_the_documented_request(translate_client: Any, stubber: Stubber) -> None:
    # Given Amazon Translate answering a Czech→Polish request
    stubber.add_response(
        "translate_text",
        _amazon_response("Dzień dobry, czy wózek jest dostępny?"),
        expected_params={
            "Text": "Dobrý den, je kočárek skladem?",
            "SourceLanguageCode": "cs",
            "TargetLanguageCode": "pl",
        },
    )
    # When a message is translated
    translated = AmazonTranslate(translate_client).translate("Dobrý den, je kočárek skladem?", "cs", "pl")
    # Then the translated text comes back
    assert translated == "Dzień dobry, czy wózek jest dostępny?"


def test_amazon_detects_an_undetermined_source_with_auto(translate_client: Any, stubber: Stubber) -> None:
    # Given a message whose language was not determined
    stubber.add_response(
        "translate_text",
        _amazon_response("Thanks, see you", source="pl", target="en"),
        expected_params={"Text": "Dzięki, do zob.", "SourceLanguageCode": "auto", "TargetLanguageCode": "en"},
    )
    # When it is translated by Amazon
    translated = AmazonTranslate(translate_client).translate("Dzięki, do zob.", "und", "en")
    # Then Amazon is asked to detect the source ("auto")
    assert translated == "Thanks, see you"


def test_amazon_without_auto_detection_does_not_take_undetermined_sources(translate_client: Any) -> None:
    # Given Amazon configured without Comprehend-based detection
    amazon = AmazonTranslate(translate_client, auto_detect=False)
    # Then "und" is not a source it supports, and translating one is refused before any call
    assert not amazon.supports("und", "pl")
    with pytest.raises(UnsupportedLanguage) as raised:
        amazon.translate("??", "und", "pl")
    assert raised.value.language == "und"


@pytest.mark.parametrize(
    ("source", "target", "supported"),
    [("cs", "pl", True), ("hu", "uk", True), ("zh-tw", "en", True), ("yo", "pl", False), ("pl", "xx", False)],
)
def test_amazon_supports_its_documented_languages(
    translate_client: Any, source: str, target: str, supported: bool
) -> None:
    # Given Amazon's documented language list
    # When a pair is checked
    # Then only pairs of listed languages are supported
    assert AmazonTranslate(translate_client).supports(source, target) is supported
    assert len(AMAZON_LANGUAGES) == 75


@pytest.mark.parametrize("code", ["ThrottlingException", "ServiceUnavailableException", "InternalServerException"])
def test_amazon_outages_become_provider_unavailable(translate_client: Any, stubber: Stubber, code: str) -> None:
    # Given Amazon answering with a throttling or server error (after botocore's retries)
    stubber.add_client_error("translate_text", service_error_code=code, http_status_code=500)
    # When a message is translated
    # Then the provider is reported unavailable
    with pytest.raises(ProviderUnavailable, match=code):
        AmazonTranslate(translate_client).translate("Dobrý den", "cs", "pl")


def test_amazon_unsupported_pair_becomes_unsupported_language(translate_client: Any, stubber: Stubber) -> None:
    # Given Amazon refusing the pair
    stubber.add_client_error(
        "translate_text",
        service_error_code="UnsupportedLanguagePairException",
        service_message="Unsupported language pair: cs to pl",
        http_status_code=400,
    )
    # When a message is translated
    # Then the source language is named as unsupported
    with pytest.raises(UnsupportedLanguage) as raised:
        AmazonTranslate(translate_client).translate("Dobrý den", "cs", "pl")
    assert raised.value.language == "cs"


def test_amazon_low_detection_confidence_becomes_undetermined(translate_client: Any, stubber: Stubber) -> None:
    # Given Amazon unable to detect the source language
    stubber.add_client_error(
        "translate_text", service_error_code="DetectedLanguageLowConfidenceException", http_status_code=400
    )
    # When an undetermined message is translated
    # Then it is unsupported as "und"
    with pytest.raises(UnsupportedLanguage) as raised:
        AmazonTranslate(translate_client).translate("hmm ok", "und", "pl")
    assert raised.value.language == "und"


def test_amazon_other_refusals_are_translation_errors(translate_client: Any, stubber: Stubber) -> None:
    # Given Amazon refusing a malformed request
    stubber.add_client_error("translate_text", service_error_code="InvalidRequestException")
    # When a message is translated
    # Then the error is neither an outage nor a language problem
    with pytest.raises(TranslationError) as raised:
        AmazonTranslate(translate_client).translate("Dobrý den", "cs", "pl")
    assert not isinstance(raised.value, ProviderUnavailable)


def test_amazon_timeouts_become_provider_unavailable(translate_client: Any) -> None:
    # Given a connection that times out
    def time_out(**_: Any) -> None:
        raise ReadTimeoutError(endpoint_url="https://translate.eu-central-1.amazonaws.com")

    translate_client.meta.events.register("before-send.translate.TranslateText", time_out)
    # When a message is translated
    # Then the provider is reported unavailable
    with pytest.raises(ProviderUnavailable, match="ReadTimeoutError"):
        AmazonTranslate(translate_client).translate("Dobrý den", "cs", "pl")


def test_amazon_client_gives_up_quickly(aws_env: None) -> None:
    # Given the client the factory builds (credentials from the environment, as in Lambda)
    client = amazon_translate_client(REGION)
    config = client.meta.config
    # Then botocore retries in standard mode, three attempts in all, with short timeouts
    assert config.retries == {"mode": "standard", "total_max_attempts": 3}
    assert (config.connect_timeout, config.read_timeout) == (2, 5)
    assert client.meta.region_name == REGION


def _long_polish_text(sentences: int) -> str:
    sentence = "Zażółć gęślą jaźń, paczka dotarła uszkodzona i proszę o zwrot pieniędzy. "
    paragraphs = [sentence * 10 for _ in range(sentences // 10)]
    return "\n\n".join(paragraphs)


def test_amazon_splits_oversize_text_and_joins_the_translations(translate_client: Any, stubber: Stubber) -> None:
    # Given a text of more than 20,000 bytes in sentences and paragraphs
    text = _long_polish_text(300)
    assert utf8_size(text) > 2 * MAX_REQUEST_BYTES
    sent: list[str] = []
    translate_client.meta.events.register(
        "provide-client-params.translate.TranslateText", lambda params, **_: sent.append(params["Text"])
    )
    pieces = split_text(text, MAX_REQUEST_BYTES)
    for index in range(len(pieces)):
        stubber.add_response("translate_text", _amazon_response(f"<part-{index}>", "pl", "en"))
    # When it is translated
    translated = AmazonTranslate(translate_client).translate(text, "pl", "en")
    # Then every request stays within 10,000 bytes and ends at a sentence
    assert len(sent) == len(pieces) >= 3
    assert all(utf8_size(piece) <= MAX_REQUEST_BYTES for piece in sent)
    assert all(piece.endswith(".") for piece in sent)
    # And together the requests carry the whole text, in order
    assert " ".join(sent).split() == text.split()
    # And the translations are joined in the same order, separated as the pieces were
    assert translated.split() == [f"<part-{index}>" for index in range(len(pieces))]


def test_amazon_cuts_text_without_spaces_on_code_point_boundaries(translate_client: Any, stubber: Stubber) -> None:
    # Given 12,000 bytes of emoji with no whitespace at all (4 bytes each)
    text = "😀" * 3_000
    sent: list[str] = []
    translate_client.meta.events.register(
        "provide-client-params.translate.TranslateText", lambda params, **_: sent.append(params["Text"])
    )
    stubber.add_response("translate_text", _amazon_response("A"))
    stubber.add_response("translate_text", _amazon_response("B"))
    # When it is translated
    translated = AmazonTranslate(translate_client).translate(text, "pl", "en")
    # Then it went in two valid pieces of at most 10,000 bytes that make up the whole text
    assert [utf8_size(piece) for piece in sent] == [10_000, 2_000]
    assert "".join(sent) == text
    assert translated == "AB"


# --- splitting ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Krótko.",
        "Pierwsze zdanie. Drugie zdanie! Trzecie?\nCzwarte w nowej linii. " * 40,
        "słowo " * 500,
        "ł" * 777,
        "  leading and trailing  ",
    ],
)
def test_split_pieces_fit_the_limit_and_join_back(text: str) -> None:
    # Given texts of every shape
    # When split for a 100-byte limit
    pieces = split_text(text, 100)
    # Then each piece fits and nothing is lost or reordered
    assert all(0 < utf8_size(piece) <= 100 for piece in pieces)
    assert "".join(pieces) == text


def test_split_prefers_sentence_ends_then_spaces() -> None:
    # Given two sentences that together exceed the limit
    text = "Pierwsze zdanie jest tutaj. Drugie zdanie jest trochę dłuższe od pierwszego."
    # When split for a limit that would fit more than the first sentence
    pieces = split_text(text, 60)
    # Then the cut falls after the first sentence (its space stays with it)
    assert pieces[0] == "Pierwsze zdanie jest tutaj. "


def test_translating_in_pieces_keeps_paragraph_breaks() -> None:
    # Given paragraphs separated by blank lines
    text = "Akapit pierwszy.\n\nAkapit drugi."
    # When each piece is "translated" by upper-casing it, with a limit that splits the paragraphs
    translated = translate_in_pieces(text, 20, str.upper)
    # Then the blank line between them survives
    assert translated == "AKAPIT PIERWSZY.\n\nAKAPIT DRUGI."


# --- Google Cloud Translation v2 ----------------------------------------------------------------

GOOGLE_KEY = "test-google-key"


def _google_ok(text: str, detected: str | None = None) -> dict[str, Any]:
    translation: dict[str, str] = {"translatedText": text}
    if detected:
        translation["detectedSourceLanguage"] = detected
    return {"data": {"translations": [translation]}}


def _google_error(code: int, message: str, reason: str, status: str, **extra: Any) -> dict[str, Any]:
    """The v2 error body: ``error.code/message/errors[]/status`` (and ``details[]`` on newer errors)."""
    error = {
        "code": code,
        "message": message,
        "errors": [{"message": message, "domain": "global", "reason": reason}],
        "status": status,
        **extra,
    }
    return {"error": error}


@responses.activate
def test_google_translates_with_the_documented_request() -> None:
    # Given Google answering a Hungarian→Ukrainian request
    responses.post(
        GOOGLE_ENDPOINT,
        json=_google_ok("Дякую, посилка прийшла."),
        match=[
            matchers.json_params_matcher(
                {"q": "Köszönöm, megjött a csomag.", "source": "hu", "target": "uk", "format": "text"}
            ),
            matchers.header_matcher({"X-Goog-Api-Key": GOOGLE_KEY}),
            matchers.query_string_matcher(""),
        ],
    )
    # When a message is translated
    translated = GoogleTranslate(GOOGLE_KEY).translate("Köszönöm, megjött a csomag.", "hu", "uk")
    # Then the translation is returned as plain text
    assert translated == "Дякую, посилка прийшла."


@responses.activate
def test_google_detects_an_undetermined_source_by_omitting_it() -> None:
    # Given Google detecting the language itself
    responses.post(
        GOOGLE_ENDPOINT,
        json=_google_ok("Thanks!", detected="cs"),
        match=[matchers.json_params_matcher({"q": "Díky!", "target": "en", "format": "text"})],
    )
    # When an undetermined message is translated
    # Then no source is sent
    assert GoogleTranslate(GOOGLE_KEY).translate("Díky!", "und", "en") == "Thanks!"


@responses.activate
def test_google_plain_text_is_not_html_unescaped() -> None:
    # Given a translation containing characters that look like HTML entities
    responses.post(GOOGLE_ENDPOINT, json=_google_ok("Fish &amp; chips <b>"))
    # When translated with format "text"
    # Then the text is returned exactly as Google sent it
    assert GoogleTranslate(GOOGLE_KEY).translate("Ryba z frytkami", "pl", "en") == "Fish &amp; chips <b>"


@responses.activate
def test_google_retries_throttling_then_succeeds() -> None:
    # Given Google throttling once, then answering
    throttled = responses.post(
        GOOGLE_ENDPOINT,
        status=429,
        json=_google_error(429, "Too Many Requests", "rateLimitExceeded", "RESOURCE_EXHAUSTED"),
    )
    responses.post(GOOGLE_ENDPOINT, json=_google_ok("Hello"))
    # When a message is translated
    translated = GoogleTranslate(GOOGLE_KEY).translate("Cześć", "pl", "en")
    # Then the retry delivered the translation
    assert translated == "Hello"
    assert throttled.call_count == 1
    assert len(responses.calls) == 2


@responses.activate
def test_google_server_errors_after_retries_become_provider_unavailable() -> None:
    # Given Google failing every time
    failing = responses.post(
        GOOGLE_ENDPOINT,
        status=503,
        json=_google_error(503, "The service is currently unavailable.", "backendError", "UNAVAILABLE"),
    )
    # When a message is translated
    # Then three attempts are made and the provider is reported unavailable
    with pytest.raises(ProviderUnavailable, match="503"):
        GoogleTranslate(GOOGLE_KEY).translate("Cześć", "pl", "en")
    assert failing.call_count == 3


@pytest.mark.parametrize(
    "body",
    [
        _google_error(403, "User Rate Limit Exceeded", "userRateLimitExceeded", "PERMISSION_DENIED"),
        _google_error(403, "Daily Limit Exceeded", "dailyLimitExceeded", "PERMISSION_DENIED"),
    ],
)
@responses.activate
def test_google_quota_errors_become_provider_unavailable_without_retrying(body: dict[str, Any]) -> None:
    # Given Google refusing because a quota is used up
    refused = responses.post(GOOGLE_ENDPOINT, status=403, json=body)
    # When a message is translated
    # Then the provider is unavailable for quota, and the quota is not hammered with retries
    with pytest.raises(ProviderUnavailable, match="quota"):
        GoogleTranslate(GOOGLE_KEY).translate("Cześć", "pl", "en")
    assert refused.call_count == 1


@responses.activate
def test_google_invalid_api_key_becomes_provider_unavailable() -> None:
    # Given Google rejecting the API key
    responses.post(
        GOOGLE_ENDPOINT,
        status=400,
        json=_google_error(
            400,
            "API key not valid. Please pass a valid API key.",
            "badRequest",
            "INVALID_ARGUMENT",
            details=[
                {
                    "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                    "reason": "API_KEY_INVALID",
                    "domain": "googleapis.com",
                    "metadata": {"service": "translate.googleapis.com"},
                }
            ],
        ),
    )
    # When a message is translated
    # Then the provider is unavailable (another provider may serve)
    with pytest.raises(ProviderUnavailable, match="API key"):
        GoogleTranslate(GOOGLE_KEY).translate("Cześć", "pl", "en")


@responses.activate
def test_google_invalid_language_value_becomes_unsupported_language() -> None:
    # Given Google refusing a language code
    responses.post(GOOGLE_ENDPOINT, status=400, json=_google_error(400, "Invalid Value", "invalid", "INVALID_ARGUMENT"))
    # When a message is translated
    # Then the source language is named as unsupported
    with pytest.raises(UnsupportedLanguage) as raised:
        GoogleTranslate(GOOGLE_KEY).translate("Ẹ ṣeun", "yo", "pl")
    assert raised.value.language == "yo"


@responses.activate
def test_google_timeouts_become_provider_unavailable() -> None:
    # Given a connection that times out
    responses.post(GOOGLE_ENDPOINT, body=requests.exceptions.ConnectTimeout("connect timed out"))
    # When a message is translated
    # Then the provider is reported unavailable
    with pytest.raises(ProviderUnavailable, match="ConnectTimeout"):
        GoogleTranslate(GOOGLE_KEY).translate("Cześć", "pl", "en")


@responses.activate
def test_google_unexpected_body_is_a_translation_error() -> None:
    # Given a 200 without the documented body
    responses.post(GOOGLE_ENDPOINT, json={"translations": []})
    # Then it is reported as an error, not returned as a translation
    with pytest.raises(TranslationError):
        GoogleTranslate(GOOGLE_KEY).translate("Cześć", "pl", "en")


@pytest.mark.parametrize(
    ("source", "target", "supported"),
    [
        ("yo", "pl", True),
        ("mni-mtei", "en", True),
        ("und", "uk", True),
        ("tlh", "pl", False),
        ("pl", "tlh", False),
    ],
)
def test_google_supports_its_documented_languages(source: str, target: str, supported: bool) -> None:
    # Given Google's documented language list (well beyond Amazon's)
    # Then the long tail is supported, unknown codes are not
    assert GoogleTranslate(GOOGLE_KEY).supports(source, target) is supported
    assert len(GOOGLE_LANGUAGES) > 170


# --- DeepL ----------------------------------------------------------------------------------------

DEEPL_FREE_KEY = "0f2d3c1e-aaaa-bbbb-cccc-123456789abc:fx"
DEEPL_PRO_KEY = "0f2d3c1e-aaaa-bbbb-cccc-123456789abc"


def _deepl_ok(text: str, detected: str = "CS") -> dict[str, Any]:
    return {"translations": [{"detected_source_language": detected, "text": text}]}


@responses.activate
def test_deepl_free_key_uses_the_free_endpoint_and_the_documented_request() -> None:
    # Given DeepL's free API answering a Czech→Polish request
    responses.post(
        FREE_ENDPOINT,
        json=_deepl_ok("Dzień dobry"),
        match=[
            matchers.json_params_matcher({"text": ["Dobrý den"], "source_lang": "CS", "target_lang": "PL"}),
            matchers.header_matcher({"Authorization": f"DeepL-Auth-Key {DEEPL_FREE_KEY}"}),
        ],
    )
    # When a message is translated with a free-plan key
    # Then the free endpoint answers
    assert DeepLTranslate(DEEPL_FREE_KEY).translate("Dobrý den", "cs", "pl") == "Dzień dobry"


@pytest.mark.parametrize(("target", "deepl_code"), [("en", "EN-GB"), ("uk", "UK"), ("pl", "PL")])
@responses.activate
def test_deepl_pro_key_uses_the_pro_endpoint_and_deepl_target_codes(target: str, deepl_code: str) -> None:
    # Given DeepL's pro API
    responses.post(
        PRO_ENDPOINT,
        json=_deepl_ok("ok", detected="HU"),
        match=[matchers.json_params_matcher({"text": ["Köszönöm"], "source_lang": "HU", "target_lang": deepl_code})],
    )
    # When a Hungarian message is translated into one of our targets
    # Then DeepL's target code is sent (English needs a variant)
    assert DeepLTranslate(DEEPL_PRO_KEY).translate("Köszönöm", "hu", target) == "ok"


@responses.activate
def test_deepl_detects_an_undetermined_source_by_omitting_it() -> None:
    # Given DeepL detecting the language itself
    responses.post(
        PRO_ENDPOINT,
        json=_deepl_ok("Thanks", detected="SK"),
        match=[matchers.json_params_matcher({"text": ["Vďaka"], "target_lang": "EN-GB"})],
    )
    # Then no source_lang is sent
    assert DeepLTranslate(DEEPL_PRO_KEY).translate("Vďaka", "und", "en") == "Thanks"


@responses.activate
def test_deepl_quota_exceeded_is_unavailable_without_retrying() -> None:
    # Given DeepL's character quota used up
    refused = responses.post(PRO_ENDPOINT, status=456, json={"message": "Quota Exceeded"})
    # Then the provider is unavailable after one call
    with pytest.raises(ProviderUnavailable, match="456"):
        DeepLTranslate(DEEPL_PRO_KEY).translate("Dobrý den", "cs", "pl")
    assert refused.call_count == 1


@pytest.mark.parametrize("status", [429, 500, 503, 529])
@responses.activate
def test_deepl_throttling_and_server_errors_are_retried_then_unavailable(status: int) -> None:
    # Given DeepL throttling or failing every time
    failing = responses.post(PRO_ENDPOINT, status=status, json={"message": "Too many requests"})
    # Then three attempts are made and the provider is unavailable
    with pytest.raises(ProviderUnavailable, match=str(status)):
        DeepLTranslate(DEEPL_PRO_KEY).translate("Dobrý den", "cs", "pl")
    assert failing.call_count == 3


@responses.activate
def test_deepl_rejected_key_is_unavailable_and_bad_request_is_an_error() -> None:
    # Given DeepL rejecting the key, then a malformed request
    responses.post(PRO_ENDPOINT, status=403, json={"message": "Authorization failed"})
    responses.post(PRO_ENDPOINT, status=400, json={"message": "Bad request. Reason: Value for 'text' not supported."})
    deepl = DeepLTranslate(DEEPL_PRO_KEY)
    # Then the first is an outage of this provider, the second a bug of ours
    with pytest.raises(ProviderUnavailable, match="authentication key"):
        deepl.translate("Dobrý den", "cs", "pl")
    with pytest.raises(TranslationError) as raised:
        deepl.translate("Dobrý den", "cs", "pl")
    assert not isinstance(raised.value, ProviderUnavailable)


@pytest.mark.parametrize(
    ("source", "target", "supported"),
    [("cs", "pl", True), ("sk", "uk", True), ("lt", "en", True), ("hr", "pl", False), ("pl", "sw", False)],
)
def test_deepl_supports_its_documented_languages(source: str, target: str, supported: bool) -> None:
    # Given DeepL's documented source and target lists
    # Then only listed languages are supported (no Croatian source, no Swahili target)
    assert DeepLTranslate(DEEPL_PRO_KEY).supports(source, target) is supported


def test_deepl_unsupported_pair_is_refused_before_any_call() -> None:
    # Given a language DeepL does not take (the unit tests' socket guard fails any request)
    # When translated
    # Then it is refused naming the language
    with pytest.raises(UnsupportedLanguage) as raised:
        DeepLTranslate(DEEPL_PRO_KEY).translate("Dobar dan", "hr", "pl")
    assert raised.value.language == "hr"


# --- development stand-in -------------------------------------------------------------------------


def test_dev_stand_in_is_labelled_deterministic_and_supports_everything() -> None:
    # Given the development stand-in
    dev = DevTranslator()
    # When any message is "translated"
    first = dev.translate("Dobrý den", "cs", "pl")
    # Then the output says it is not a real translation, keeps the original, and never varies
    assert first == "[pl machine translation stand-in] Dobrý den"
    assert dev.translate("Dobrý den", "cs", "pl") == first
    assert dev.supports("tlh", "uk") and dev.supports("und", "en")
