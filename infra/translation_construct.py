"""Machine translation: which providers the functions route to, and what each may call.

The API translates on demand and the stream function auto-translates for foreign recipients; both
route over the providers named by the ``translationProviders`` context (default Amazon Translate).
Google Cloud Translation and DeepL are called over HTTPS with an API key kept in Secrets Manager:
their secret ARNs come from context, and a function may read a secret only when it is configured.
Language detection itself runs offline in the layer; Comprehend is only Amazon Translate's own
source-language detection (``SourceLanguageCode="auto"``), which it performs as the caller.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aws_cdk import Acknowledgment, Validations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from constructs import Construct
from message_center.deployment import Env

from infra import constants

# Neither Translate nor Comprehend's DetectDominantLanguage supports resource-level permissions.
AMAZON_TRANSLATE_ACTIONS = ("translate:TranslateText", "comprehend:DetectDominantLanguage")
PROVIDER_KEY_READ_ACTIONS = ("secretsmanager:GetSecretValue",)
WILDCARD_REASON = (
    "X-Ray PutTraceSegments/PutTelemetryRecords, translate:TranslateText and "
    "comprehend:DetectDominantLanguage (Amazon Translate's automatic source-language detection) "
    "support no resource-level permissions."
)

_SECRET_ARN = re.compile(r"^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+$")
_SECRET_CONTEXT_KEYS = {
    "google": constants.GOOGLE_TRANSLATE_SECRET_ARN_CONTEXT_KEY,
    "deepl": constants.DEEPL_SECRET_ARN_CONTEXT_KEY,
}


@dataclass(frozen=True)
class TranslationSettings:
    """Providers in routing order and the secrets holding the HTTP providers' API keys."""

    providers: tuple[str, ...] = constants.DEFAULT_TRANSLATION_PROVIDERS
    google_secret_arn: str | None = None
    deepl_secret_arn: str | None = None

    @property
    def secret_arns(self) -> list[str]:
        return [arn for arn in (self.google_secret_arn, self.deepl_secret_arn) if arn]

    @property
    def environment(self) -> dict[str, str]:
        variables = {
            Env.TRANSLATION_PROVIDERS: ",".join(self.providers),
            Env.GOOGLE_TRANSLATE_SECRET_ARN: self.google_secret_arn,
            Env.DEEPL_SECRET_ARN: self.deepl_secret_arn,
        }
        return {name: value for name, value in variables.items() if value}


def _providers(value: Any) -> tuple[str, ...]:
    if value is None:
        return constants.DEFAULT_TRANSLATION_PROVIDERS
    if isinstance(value, str):
        text = value.strip()
        value = json.loads(text) if text.startswith("[") else [part.strip().lower() for part in text.split(",")]
    if (
        not isinstance(value, list)
        or not value
        or not all(isinstance(name, str) and name in constants.TRANSLATION_PROVIDER_NAMES for name in value)
        or len(set(value)) != len(value)
    ):
        raise ValueError(
            f"context {constants.TRANSLATION_PROVIDERS_CONTEXT_KEY!r} must name distinct providers "
            f"among {', '.join(constants.TRANSLATION_PROVIDER_NAMES)}, got {value!r}"
        )
    return tuple(value)


def _secret_arn(key: str, value: Any) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str) or not _SECRET_ARN.match(value.strip()):
        raise ValueError(f"context {key!r} must be the ARN of a Secrets Manager secret, got {value!r}")
    return value.strip()


def translation_settings_from_context(context: Mapping[str, Any]) -> TranslationSettings:
    """Read ``translationProviders``, ``googleTranslateSecretArn`` and ``deeplSecretArn``."""
    settings = TranslationSettings(
        providers=_providers(context.get(constants.TRANSLATION_PROVIDERS_CONTEXT_KEY)),
        google_secret_arn=_secret_arn(
            constants.GOOGLE_TRANSLATE_SECRET_ARN_CONTEXT_KEY,
            context.get(constants.GOOGLE_TRANSLATE_SECRET_ARN_CONTEXT_KEY),
        ),
        deepl_secret_arn=_secret_arn(
            constants.DEEPL_SECRET_ARN_CONTEXT_KEY, context.get(constants.DEEPL_SECRET_ARN_CONTEXT_KEY)
        ),
    )
    for provider, key in _SECRET_CONTEXT_KEYS.items():
        arn = settings.google_secret_arn if provider == "google" else settings.deepl_secret_arn
        if provider in settings.providers and arn is None:
            raise ValueError(f"translation provider {provider!r} needs context {key!r} (its API key secret)")
    return settings


class TranslationConstruct(Construct):
    """No resources of its own: the translation settings and the grants that go with them."""

    def __init__(self, scope: Construct, construct_id: str, *, settings: TranslationSettings) -> None:
        super().__init__(scope, construct_id)
        self.settings = settings

    def grant_translation(self, function: lambda_.Function) -> None:
        """Let a function route translations: Amazon Translate, and the configured providers' keys."""
        for name, value in self.settings.environment.items():
            function.add_environment(name, value)
        if "amazon" in self.settings.providers:
            function.add_to_role_policy(iam.PolicyStatement(actions=list(AMAZON_TRANSLATE_ACTIONS), resources=["*"]))
            if function.role is None:  # pragma: no cover - every function here has its own role
                raise ValueError(f"{function.node.path} has no role")
            Validations.of(function.role).acknowledge(
                Acknowledgment(id="AwsSolutions-IAM5[Resource::*]", reason=WILDCARD_REASON)
            )
        if self.settings.secret_arns:
            function.add_to_role_policy(
                iam.PolicyStatement(actions=list(PROVIDER_KEY_READ_ACTIONS), resources=self.settings.secret_arns)
            )
