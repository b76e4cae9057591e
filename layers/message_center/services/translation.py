"""Translating messages: on demand into pl/en/uk, and automatically for a foreign recipient."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from ..adapters.translation import ProviderUnavailable, TranslationRouter
from ..adapters.translation.budget import TranslationDeadline
from ..domain.errors import RateLimitedError, ServiceUnavailableError, ValidationError
from ..domain.ids import utc_now
from ..domain.language import TARGET_LANGUAGES, UNDETERMINED
from ..domain.models import Message, MessageTranslation, User
from .messaging import MessagingService
from .ports import Threads


@dataclass(frozen=True)
class TranslationResult:
    text: str
    source_language: str
    target_language: str
    provider: str
    machine_translated: bool


class TranslationQuota:
    """Characters a user may have translated per day (abuse protection)."""

    def __init__(self, consume: Callable[[str, str, int], bool], daily_characters: int) -> None:
        self._consume = consume  # (user id, day, characters) -> allowed
        self.daily_characters = daily_characters

    def take(self, user_id: str, characters: int, now: datetime) -> None:
        if not self._consume(user_id, now.strftime("%Y-%m-%d"), characters):
            raise RateLimitedError(
                f"You can translate up to {self.daily_characters} characters a day; try again tomorrow.",
                code="TRANSLATION_QUOTA_EXCEEDED",
            )


class TranslationService:
    def __init__(
        self,
        threads: Threads,
        router: TranslationRouter,
        *,
        messaging: MessagingService | None = None,
        quota: TranslationQuota | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        """``messaging`` and ``quota`` serve on-demand translation (the API); the stream function
        only translates automatically and needs neither."""
        self._messaging = messaging
        self._threads = threads
        self._router = router
        self._quota = quota
        self._clock = clock

    @property
    def deadline(self) -> TranslationDeadline:
        """When translating must give up in the current invocation (the handler starts it)."""
        return self._router.deadline

    def translate(self, caller_id: str, message_id: str, target: str) -> TranslationResult:
        """The message's text in ``target``; translated once, then served from the caller's copy."""
        if target not in TARGET_LANGUAGES:
            raise ValidationError(
                "Messages can be translated into Polish (pl), English (en) or Ukrainian (uk).",
                code="TARGET_LANGUAGE_NOT_SUPPORTED",
            )
        if self._messaging is None or self._quota is None:
            raise RuntimeError("on-demand translation needs the messaging service and a quota")
        message = self._messaging.get_message(caller_id, message_id)
        if message.language == target:
            return TranslationResult(message.text, message.language, target, "none", machine_translated=False)
        cached = message.translation(target)
        if cached is not None:
            return _result(cached)
        self._quota.take(caller_id, len(message.text), self._clock())
        try:
            translation = self._translate(message, target)
        except ProviderUnavailable as error:
            raise ServiceUnavailableError(
                "Translation is unavailable right now; try again in a minute.", code="TRANSLATION_UNAVAILABLE"
            ) from error
        self._threads.save_translation(caller_id, message.thread_id, message.id, translation, automatic=False)
        return _result(translation)

    def auto_translate(self, message: Message, recipient: User) -> MessageTranslation | None:
        """Translate a recipient's copy into their preferred language when it is written in
        another (known) language. Raises ProviderUnavailable when no provider can do it now."""
        target = recipient.preferred_language.value
        if message.language in (UNDETERMINED, target) or message.owner_id != recipient.id:
            return None
        existing = message.translation(target)
        if existing is not None and message.auto_translation == target:
            return existing
        translation = existing or self._translate(message, target)
        self._threads.save_translation(recipient.id, message.thread_id, message.id, translation, automatic=True)
        return translation

    def _translate(self, message: Message, target: str) -> MessageTranslation:
        done = self._router.translate(message.text, message.language, target)
        return MessageTranslation(language=target, text=done.text, source_language=done.source, provider=done.provider)


def _result(translation: MessageTranslation) -> TranslationResult:
    return TranslationResult(
        translation.text, translation.source_language, translation.language, translation.provider, True
    )
