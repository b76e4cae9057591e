"""Telling a recipient about a new message: an e-mail copy and a push on every device.

Each channel is idempotent on its own (Powertools idempotency keyed on the message id, and the
device for push), so a retried or duplicated stream record sends nothing twice, and a failure of
one channel neither blocks nor repeats the other.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function
from aws_lambda_powertools.utilities.idempotency.persistence.base import BasePersistenceLayer

from ..adapters.mailer import SesMailer
from ..adapters.push import EndpointGone, SnsPush
from ..data.device_repository import DeviceRepository
from ..data.directory_repository import DirectoryRepository
from ..domain import notifications, relay_addresses
from ..domain.models import Message, MessageTranslation, User

logger = Logger(child=True)

# Stream records live 24 h and the event source retries for at most 6 h: keep the records longer.
IDEMPOTENCY_SECONDS = 48 * 3600


@dataclass(frozen=True)
class MailSettings:
    relay_domain: str
    public_web_url: str  # the web client: e-mails link to its thread and attachment pages
    unsubscribe_url: str | None


class ChannelFailed(Exception):
    """At least one channel failed; the others completed (and will not repeat on retry)."""


class NotificationService:
    def __init__(
        self,
        directory: DirectoryRepository,
        devices: DeviceRepository,
        mailer: SesMailer,
        push: SnsPush | None,
        signing_key: Callable[[], bytes],
        mail: MailSettings,
        persistence: BasePersistenceLayer,
        translate: Callable[[Message, User], MessageTranslation | None] | None = None,
    ) -> None:
        self._translate = translate
        self._directory = directory
        self._devices = devices
        self._mailer = mailer
        self._push = push
        self._signing_key = signing_key
        self._mail = mail
        self._idempotency = IdempotencyConfig(
            event_key_jmespath="key",
            expires_after_seconds=IDEMPOTENCY_SECONDS,
            raise_on_no_idempotency_key=True,
        )
        once = idempotent_function(
            data_keyword_argument="task",
            persistence_store=persistence,
            config=self._idempotency,
            key_prefix="notification",
        )
        self._email_once = once(self._send_email)
        self._push_once = once(self._push_to_device)
        if push is None:
            logger.info("Push notifications are off: no SNS platform application is configured")

    def register_lambda_context(self, context: Any) -> None:
        """Lets an in-progress claim expire with the invocation, so a timed-out attempt is retried."""
        self._idempotency.register_lambda_context(context)

    def on_new_message(self, message: Message) -> bool:
        """Notify the owner of a new message copy; True when they were notified. Every participant
        gets a copy of each message: only the recipient's notifies, the author is never notified."""
        if message.is_own:
            return False
        recipient = self._directory.get_user(message.owner_id)
        if recipient is None:
            logger.warning("Recipient is not in the directory; nothing to notify", message_id=message.id)
            return False
        failures: list[str] = []
        message = self._auto_translated(message, recipient, failures)
        for channel, send in (("email", self._email), ("push", self._pushes)):
            try:
                send(message, recipient)
            except Exception:
                # Broad on purpose: one channel's failure must not stop the other; it is logged
                # with its traceback and the record fails so the stream retries it.
                logger.exception("Notification channel failed", channel=channel, message_id=message.id)
                failures.append(channel)
        if failures:
            raise ChannelFailed(", ".join(failures))
        return True

    def _auto_translated(self, message: Message, recipient: User, failures: list[str]) -> Message:
        """The copy with its translation for a recipient who prefers another language. A provider
        outage never holds the notification back: it goes out untranslated and the record is retried,
        which fills the translation in (the channels that worked do not repeat)."""
        if self._translate is None:
            return message
        try:
            translation = self._translate(message, recipient)
        except Exception:
            logger.exception("Automatic translation failed; notifying untranslated", message_id=message.id)
            failures.append("translation")
            return message
        if translation is None:
            return message
        others = tuple(t for t in message.translations if t.language != translation.language)
        return replace(message, translations=(*others, translation), auto_translation=translation.language)

    # -- e-mail ------------------------------------------------------------------------------

    def _email(self, message: Message, recipient: User) -> None:
        self._email_once(task={"key": f"email#{message.id}"}, message=message, recipient=recipient)

    def _send_email(self, task: dict[str, str], message: Message, recipient: User) -> dict[str, str]:
        author = self._directory.get_user(message.author_id)
        if author is None:
            logger.warning("Author is not in the directory; no e-mail copy", message_id=message.id)
            return {"sent": "no"}
        domain = self._mail.relay_domain
        author_alias = self._directory.ensure_mail_alias(author)
        recipient_alias = self._directory.ensure_mail_alias(recipient)
        offer = self._directory.get_offer(message.relates_to.offer_id) if message.relates_to.offer_id else None
        web_url = self._mail.public_web_url
        copy = notifications.EmailCopy(
            message=message,
            language=recipient.preferred_language,
            author_login=author.login,
            recipient_email=recipient.email,
            from_address=relay_addresses.alias_address(author_alias, domain),
            reply_to=relay_addresses.reply_address(message.thread_id, recipient_alias, self._signing_key(), domain),
            relay_domain=domain,
            conversation_url=notifications.thread_link(web_url, message.thread_id),
            attachment_links=tuple(
                (a.file_name, notifications.attachment_link(web_url, a.id)) for a in message.attachments
            ),
            offer_title=offer.title if offer else None,
            translation=message.translation(message.auto_translation) if message.auto_translation else None,
            unsubscribe_url=self._mail.unsubscribe_url,
        )
        ses_id = self._mailer.send(notifications.build_email(copy), source=copy.from_address, recipient=recipient.email)
        logger.info("E-mail copy sent", message_id=message.id, ses_message_id=ses_id)
        return {"sent": "yes"}

    # -- push --------------------------------------------------------------------------------

    def _pushes(self, message: Message, recipient: User) -> None:
        if self._push is None:
            return
        payload = notifications.sns_message(
            notifications.push_notification(message, recipient.preferred_language, recipient.unread_threads)
        )
        for device in self._devices.list_for(recipient.id):
            self._push_once(
                task={"key": f"push#{message.id}#{device.id}"},
                endpoint_arn=device.endpoint_arn,
                payload=payload,
                device_id=device.id,
                owner_id=recipient.id,
            )

    def _push_to_device(
        self, task: dict[str, str], endpoint_arn: str, payload: str, device_id: str, owner_id: str
    ) -> dict[str, str]:
        if self._push is None:  # pragma: no cover - _pushes returns early without push
            return {"pushed": "off"}
        try:
            self._push.publish(endpoint_arn, payload)
        except EndpointGone:
            # The app was uninstalled or the token expired: forget the device.
            device = self._devices.get(owner_id, device_id)
            if device is not None:
                self._push.delete_endpoint(device.endpoint_arn)
                self._devices.delete(device)
            logger.info("Removed a device whose push endpoint is disabled", device_id=device_id)
            return {"pushed": "gone"}
        return {"pushed": "yes"}
