"""The configured providers, in routing order, behind one router that counts characters sent."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from .base import TranslationProvider
from .budget import TranslationDeadline
from .router import TranslationRouter

PROVIDER_NAMES = ("amazon", "google", "deepl", "dev")


def configured_router(
    names: Iterable[str],
    *,
    amazon_client: Callable[..., object],
    secret: Callable[[str], str],
    google_secret_id: str | None,
    deepl_secret_id: str | None,
    deadline: TranslationDeadline | None = None,
) -> TranslationRouter:
    """A router over ``names`` (amazon, google, deepl, dev), skipping an HTTP provider whose key
    secret is not configured. ``secret(id)`` reads a key; ``amazon_client()`` builds Translate's
    client, and ``amazon_client(plan)`` one with that plan's timeouts and attempts. Providers are
    imported only when named, so a function loads only what it routes to. All of them plan their
    requests within ``deadline``."""
    providers: list[TranslationProvider] = []
    for name in names:
        if name == "amazon":
            from .amazon import AmazonTranslate

            providers.append(
                AmazonTranslate(
                    amazon_client(),  # type: ignore[arg-type]
                    deadline=deadline,
                    client_for=amazon_client,  # type: ignore[arg-type]
                )
            )
        elif name == "google" and google_secret_id:
            from .google import GoogleTranslate

            providers.append(GoogleTranslate(secret(google_secret_id), deadline=deadline))
        elif name == "deepl" and deepl_secret_id:
            from .deepl import DeepLTranslate

            providers.append(DeepLTranslate(secret(deepl_secret_id), deadline=deadline))
        elif name == "dev":
            from .dev import DevTranslator

            providers.append(DevTranslator())
    return TranslationRouter(providers, on_characters=_count_characters, deadline=deadline)


def _count_characters(provider: str, characters: int) -> None:
    """The ``TranslatedCharacters`` metric per provider: what the providers bill by."""
    from aws_lambda_powertools.metrics import MetricUnit, single_metric

    from ...deployment import METRICS_NAMESPACE

    with single_metric(
        name="TranslatedCharacters", unit=MetricUnit.Count, value=characters, namespace=METRICS_NAMESPACE
    ) as metric:
        metric.add_dimension(name="provider", value=provider)
