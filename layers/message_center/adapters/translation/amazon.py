"""Amazon Translate (boto3), the default provider in the cloud."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Final

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotoConnectionError

from ...domain.language import UNDETERMINED
from .base import OutOfTime, ProviderUnavailable, TranslationError, UnsupportedLanguage, normalize_code
from .budget import FULL_PLAN, CallPlan, TranslationDeadline, unlimited
from .chunks import translate_in_pieces

if TYPE_CHECKING:
    from mypy_boto3_translate import TranslateClient

# https://docs.aws.amazon.com/translate/latest/dg/what-is-languages.html (75 languages and variants);
# every pair of them is supported.
AMAZON_LANGUAGES: Final = frozenset(
    {
        "af", "sq", "am", "ar", "hy", "az", "bn", "bs", "bg", "ca", "zh", "zh-TW", "hr", "cs", "da",
        "fa-AF", "nl", "en", "et", "fa", "tl", "fi", "fr", "fr-CA", "ka", "de", "el", "gu", "ht",
        "ha", "he", "hi", "hu", "is", "id", "ga", "it", "ja", "kn", "kk", "ko", "lv", "lt", "mk",
        "ms", "ml", "mt", "mr", "mn", "no", "ps", "pl", "pt", "pt-PT", "pa", "ro", "ru", "sr", "si",
        "sk", "sl", "so", "es", "es-MX", "sw", "sv", "ta", "te", "th", "tr", "uk", "ur", "uz", "vi",
        "cy",
    }
)  # fmt: skip
# TranslateText takes at most 10,000 bytes of UTF-8 per request.
MAX_REQUEST_BYTES: Final = 10_000
# "auto" has Amazon Comprehend detect the source language (the caller needs
# comprehend:DetectDominantLanguage as well as translate:TranslateText).
AUTO_DETECT: Final = "auto"

_UNAVAILABLE: Final = frozenset(
    {
        "ThrottlingException",
        "TooManyRequestsException",
        "LimitExceededException",
        "ServiceUnavailableException",
        "InternalServerException",
        "InternalFailure",
        "ServiceUnavailable",
        "AccessDeniedException",
        "UnrecognizedClientException",
        "ExpiredTokenException",
    }
)
_UNSUPPORTED: Final = frozenset({"UnsupportedLanguagePairException", "DetectedLanguageLowConfidenceException"})


def amazon_translate_client(
    region: str,
    endpoint_url: str | None = None,
    *,
    credentials: dict[str, str] | None = None,
    plan: CallPlan = FULL_PLAN,
) -> TranslateClient:
    """A Translate client that gives up quickly: an outage must not hold a request or a stream batch.

    botocore's standard retry mode retries throttling, 5xx and connection errors with jittered
    backoff; ``plan.attempts`` in all (three with time to spare), each with short connect and
    read timeouts.
    """
    config = Config(
        retries={"mode": "standard", "total_max_attempts": plan.attempts},  # max_attempts would mean retries
        connect_timeout=plan.connect,
        read_timeout=plan.read,
    )
    return boto3.client(  # type: ignore[call-overload]
        "translate", region_name=region, endpoint_url=endpoint_url, config=config, **(credentials or {})
    )


class AmazonTranslate:
    """Translation through Amazon Translate's TranslateText, text split to fit its request limit."""

    name = "amazon"

    def __init__(
        self,
        client: TranslateClient,
        *,
        auto_detect: bool = True,
        deadline: TranslationDeadline | None = None,
        client_for: Callable[[CallPlan], TranslateClient] | None = None,
    ) -> None:
        """``client`` serves every request, unless ``client_for(plan)`` builds the client for a
        request's plan (timeouts and attempts are fixed per botocore client); those are kept."""
        self._client = client
        self._auto_detect = auto_detect
        self._deadline = deadline or unlimited()
        self._client_for = client_for
        self._clients: dict[CallPlan, TranslateClient] = {FULL_PLAN: client}

    def supports(self, source: str, target: str) -> bool:
        source_known = self._auto_detect if source == UNDETERMINED else normalize_code(source) in AMAZON_LANGUAGES
        return source_known and normalize_code(target) in AMAZON_LANGUAGES

    def translate(self, text: str, source: str, target: str) -> str:
        if not self.supports(source, target):
            raise UnsupportedLanguage(source if normalize_code(target) in AMAZON_LANGUAGES else target)
        source_code = AUTO_DETECT if source == UNDETERMINED else normalize_code(source)
        target_code = normalize_code(target)
        return translate_in_pieces(
            text, MAX_REQUEST_BYTES, lambda piece: self._translate_piece(piece, source_code, target_code)
        )

    def _translate_piece(self, text: str, source: str, target: str) -> str:
        plan = self._deadline.plan()
        if plan is None:
            raise OutOfTime("Amazon Translate: no time left for a request")
        try:
            response = self._planned_client(plan).translate_text(
                Text=text, SourceLanguageCode=source, TargetLanguageCode=target
            )
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            if code in _UNAVAILABLE:
                raise ProviderUnavailable(f"Amazon Translate: {code}") from error
            if code in _UNSUPPORTED:
                raise UnsupportedLanguage(source if source != AUTO_DETECT else UNDETERMINED) from error
            raise TranslationError(f"Amazon Translate refused the request: {code}") from error
        except (BotoConnectionError, HTTPClientError) as error:
            raise ProviderUnavailable(f"Amazon Translate: {type(error).__name__}") from error
        return response["TranslatedText"]

    def _planned_client(self, plan: CallPlan) -> TranslateClient:
        if self._client_for is None:
            return self._client
        client = self._clients.get(plan)
        if client is None:
            client = self._clients[plan] = self._client_for(plan)
        return client
