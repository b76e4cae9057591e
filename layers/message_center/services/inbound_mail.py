"""The e-mail channel: a received e-mail becomes a ``MAIL`` message in the right thread, or is
refused with a reason code. Nothing is ever sent back to the (possibly forged) sender."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from ..domain import relay_addresses
from ..domain.attachments import Attachment
from ..domain.errors import MessageCenterError
from ..domain.mail import ParsedMail, message_text, parse_inbound
from ..domain.mail.verdicts import Verdicts, authenticate_sender, dkim_signing_domains, screen
from ..domain.models import User
from ..domain.rules import MAX_TEXT_LENGTH
from ..domain.sending import Channel, SendMessage
from .attachments import AttachmentService
from .messaging import MessagingService
from .ports import Directory, InboundMailRecords

__all__ = ["Decision", "InboundMailService", "Outcome", "Verdicts"]


class Outcome(StrEnum):
    DELIVERED = "DELIVERED"
    SPAM = "SPAM"
    VIRUS = "VIRUS"
    DMARC_FAIL = "DMARC_FAIL"  # whatever the domain's policy
    UNAUTHENTICATED = "UNAUTHENTICATED"  # neither SPF nor DKIM passed
    NOT_ALIGNED = "NOT_ALIGNED"  # SPF or DKIM passed, but not for the From address's domain
    UNUSABLE = "UNUSABLE"  # no sender or no content
    AUTO_REPLY = "AUTO_REPLY"
    UNKNOWN_SENDER = "UNKNOWN_SENDER"
    FORGED_ADDRESS = "FORGED_ADDRESS"  # a reply address whose signature does not verify
    NO_ROUTE = "NO_ROUTE"  # not addressed to a thread or a user the sender may write to
    REFUSED_BY_RULE = "REFUSED_BY_RULE"  # the message rules refused it (text, attachments...)


@dataclass(frozen=True)
class Decision:
    outcome: Outcome
    message_id: str | None = None
    detail: str | None = None

    @property
    def delivered(self) -> bool:
        return self.outcome is Outcome.DELIVERED


@dataclass(frozen=True)
class _Route:
    recipient_id: str
    thread_id: str | None


class InboundMailService:
    def __init__(
        self,
        directory: Directory,
        messaging: MessagingService,
        attachments: AttachmentService,
        signing_key: Callable[[], bytes],
        relay_domain: str,
        records: InboundMailRecords,
    ) -> None:
        self._records = records
        self._directory = directory
        self._messaging = messaging
        self._attachments = attachments
        self._signing_key = signing_key
        self._domain = relay_domain.lower()

    def receive(
        self, mail_id: str, recipients: list[str], verdicts: Verdicts, raw: bytes, envelope_sender: str | None = None
    ) -> Decision:
        """Decide what the mail becomes, and record the decision under the SES message id.
        ``envelope_sender``: the SMTP MAIL FROM (SES's ``mail.source``), for SPF alignment."""
        decision = self._decide(mail_id, recipients, verdicts, raw, envelope_sender)
        self._records.record(mail_id, decision.outcome.value, decision.detail, decision.message_id)
        return decision

    def _decide(
        self, mail_id: str, recipients: list[str], verdicts: Verdicts, raw: bytes, envelope_sender: str | None
    ) -> Decision:
        refusal = screen(verdicts)
        if refusal is not None:
            return Decision(Outcome(refusal.value), detail=verdicts.dmarc_policy if refusal == "DMARC_FAIL" else None)
        mail = parse_inbound(raw, max_text_length=MAX_TEXT_LENGTH)
        if mail.unusable_reason is not None:
            return Decision(Outcome.UNUSABLE, detail=mail.unusable_reason.value)
        if mail.is_auto_submitted:
            return Decision(Outcome.AUTO_REPLY, detail=str(mail.auto_submitted_reason))
        refusal = authenticate_sender(verdicts, mail.from_address or "", envelope_sender, dkim_signing_domains(raw))
        if refusal is not None:
            return Decision(Outcome(refusal.value))
        sender = self._directory.get_user_by_email(mail.from_address or "")
        if sender is None:
            return Decision(Outcome.UNKNOWN_SENDER)
        already = self._messaging.sent_message_id(sender.id, _idempotency_key(mail_id))
        if already is not None:
            return Decision(Outcome.DELIVERED, message_id=already)
        route = self._route(sender, recipients, mail)
        if isinstance(route, Outcome):
            return Decision(route)
        stored: list[Attachment] = []
        try:
            for attachment in mail.attachments:
                stored.append(self._attachments.store_received(sender.id, attachment.filename, attachment.content))
            result = self._messaging.send(
                SendMessage(
                    author_id=sender.id,
                    text=message_text(mail, MAX_TEXT_LENGTH),
                    channel=Channel.MAIL,
                    recipient_id=route.recipient_id,
                    thread_id=route.thread_id,
                    attachment_ids=tuple(a.id for a in stored),
                    idempotency_key=_idempotency_key(mail_id),
                )
            )
        except MessageCenterError as error:
            # Refused before or by the message's transaction (never after it committed): the files
            # stored for this mail belong to nothing, so they go (a redelivery stores its own).
            self._attachments.discard_received(stored)
            return Decision(Outcome.REFUSED_BY_RULE, detail=error.code)
        if result.replayed:
            # A concurrent delivery of the same mail stored it first, with its own files.
            self._attachments.discard_received(stored)
        return Decision(Outcome.DELIVERED, message_id=result.message.id)

    def _route(self, sender: User, recipients: list[str], mail: ParsedMail) -> _Route | Outcome:
        forged = False
        for address in recipients:
            target = relay_addresses.parse_reply_address(address, self._signing_key(), self._domain)
            if target is not None:
                owner = self._directory.get_user_by_alias(target.alias)
                interlocutor = self._messaging.interlocutor(sender.id, target.thread_id)
                # The address was given to one person: only they can answer through it.
                if owner is not None and owner.id == sender.id and interlocutor is not None:
                    return _Route(interlocutor, target.thread_id)
                return Outcome.NO_ROUTE
            if address.lower().startswith("r-"):
                forged = True
                continue
            alias = relay_addresses.parse_alias_address(address, self._domain)
            recipient = self._directory.get_user_by_alias(alias) if alias else None
            if recipient is not None and recipient.id != sender.id:
                return _Route(recipient.id, None)
        if forged:
            return Outcome.FORGED_ADDRESS
        # Last resort: the thread the mail answers, only for one of its participants.
        for reference in mail.thread_references:
            thread_id = relay_addresses.thread_id_from_reference(reference, self._domain)
            interlocutor = self._messaging.interlocutor(sender.id, thread_id) if thread_id else None
            if thread_id is not None and interlocutor is not None:
                return _Route(interlocutor, thread_id)
        return Outcome.NO_ROUTE


def _idempotency_key(mail_id: str) -> str:
    """An e-mail is stored once however often SES delivers it: its id is the send's key."""
    return f"mail-{mail_id}"
