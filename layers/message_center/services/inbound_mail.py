"""The e-mail channel: a received e-mail becomes a ``MAIL`` message in the right thread, or is
refused with a reason code. Nothing is ever sent back to the (possibly forged) sender."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from aws_lambda_powertools import Logger

from ..data.directory_repository import DirectoryRepository
from ..data.inbound_mail_repository import InboundMailRepository
from ..domain import relay_addresses
from ..domain.attachments import Attachment
from ..domain.errors import MessageCenterError
from ..domain.mail import ParsedMail, parse_inbound
from ..domain.models import User
from ..domain.rules import MAX_TEXT_LENGTH
from .attachments import AttachmentService
from .messaging import MessagingService

logger = Logger(child=True)


class Verdict(StrEnum):
    PASS = "PASS"  # noqa: S105 - a verdict, not a password
    FAIL = "FAIL"
    GRAY = "GRAY"
    PROCESSING_FAILED = "PROCESSING_FAILED"
    DISABLED = "DISABLED"


@dataclass(frozen=True)
class Verdicts:
    """SES's receipt verdicts."""

    spam: str
    virus: str
    spf: str
    dkim: str
    dmarc: str
    dmarc_policy: str | None = None


class Outcome(StrEnum):
    DELIVERED = "DELIVERED"
    SPAM = "SPAM"
    VIRUS = "VIRUS"
    DMARC_REJECT = "DMARC_REJECT"
    UNAUTHENTICATED = "UNAUTHENTICATED"  # neither SPF nor DKIM passed
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
        directory: DirectoryRepository,
        messaging: MessagingService,
        attachments: AttachmentService,
        signing_key: Callable[[], bytes],
        relay_domain: str,
        records: InboundMailRepository,
    ) -> None:
        self._records = records
        self._directory = directory
        self._messaging = messaging
        self._attachments = attachments
        self._signing_key = signing_key
        self._domain = relay_domain.lower()

    def receive(self, mail_id: str, recipients: list[str], verdicts: Verdicts, raw: bytes) -> Decision:
        """Decide what the mail becomes, and record the decision under the SES message id."""
        decision = self._decide(mail_id, recipients, verdicts, raw)
        self._records.record(mail_id, decision.outcome.value, decision.detail, decision.message_id)
        return decision

    def _decide(self, mail_id: str, recipients: list[str], verdicts: Verdicts, raw: bytes) -> Decision:
        refusal = _screen(verdicts)
        if refusal is not None:
            return Decision(refusal)
        mail = parse_inbound(raw, max_text_length=MAX_TEXT_LENGTH)
        if mail.unusable_reason is not None:
            return Decision(Outcome.UNUSABLE, detail=mail.unusable_reason.value)
        if mail.is_auto_submitted:
            return Decision(Outcome.AUTO_REPLY, detail=str(mail.auto_submitted_reason))
        sender = self._directory.get_user_by_email(mail.from_address or "")
        if sender is None:
            return Decision(Outcome.UNKNOWN_SENDER)
        already = self._messaging.delivered_mail(sender.id, mail_id)
        if already is not None:
            return Decision(Outcome.DELIVERED, message_id=already.id)
        route = self._route(sender, recipients, mail)
        if isinstance(route, Outcome):
            return Decision(route)
        stored: list[Attachment] = []
        try:
            for attachment in mail.attachments:
                stored.append(self._attachments.store_received(sender.id, attachment.filename, attachment.content))
            result = self._messaging.deliver_mail(
                sender.id,
                route.recipient_id,
                _text(mail),
                tuple(a.id for a in stored),
                mail_id,
                thread_id=route.thread_id,
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
                interlocutor = self._messaging.is_participant(sender.id, target.thread_id)
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
            local, _, domain = reference.lower().partition("@")
            if domain == self._domain and local.startswith("thread-"):
                thread_id = local.removeprefix("thread-").upper()
                interlocutor = self._messaging.is_participant(sender.id, thread_id)
                if interlocutor is not None:
                    return _Route(interlocutor, thread_id)
        return Outcome.NO_ROUTE


def _screen(verdicts: Verdicts) -> Outcome | None:
    if verdicts.virus == Verdict.FAIL:
        return Outcome.VIRUS
    if verdicts.spam == Verdict.FAIL:
        return Outcome.SPAM
    if verdicts.dmarc == Verdict.FAIL and (verdicts.dmarc_policy or "").upper() == "REJECT":
        return Outcome.DMARC_REJECT
    if Verdict.PASS not in (verdicts.spf, verdicts.dkim):
        return Outcome.UNAUTHENTICATED
    return None


def _text(mail: ParsedMail) -> str:
    """The reply text, plus which attached files were not accepted and why."""
    parts = [mail.text] if mail.text else []
    if mail.refused_attachments:
        refused = "; ".join(f"{r.filename} ({r.detail or r.reason.value})" for r in mail.refused_attachments)
        parts.append(f"[Attachments not accepted: {refused}]")
    if not parts:
        parts.append("[" + ", ".join(a.filename for a in mail.attachments) + "]")
    text = "\n\n".join(parts)
    return text if len(text) <= MAX_TEXT_LENGTH else text[: MAX_TEXT_LENGTH - 1] + "…"
