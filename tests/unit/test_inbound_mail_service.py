"""InboundMailService on in-memory fakes: which received e-mails become messages, in which thread,
and that every decision is recorded under the mail's id."""

from __future__ import annotations

import itertools
from email.message import EmailMessage
from email.utils import make_msgid

import pytest
from message_center.domain.attachments import AttachmentStatus
from message_center.domain.mail import UnusableReason
from message_center.domain.mail.verdicts import Verdicts
from message_center.domain.models import MessageType
from message_center.domain.relay_addresses import alias_address, reply_address, thread_message_id
from message_center.domain.sending import SendMessage
from message_center.services.inbound_mail import Decision, InboundMailService, Outcome
from message_center.services.messaging import MessageQuery

from tests.support.files import allowed_files
from tests.unit.fakes import FakeWorld
from tests.unit.marketplace import ANNA, BIKE, JAN, SHOP, populated_world

DOMAIN = "relay.message-center.test"
KEY = b"unit-test-signing-key-0123456789"
PASSING = {"spam": "PASS", "virus": "PASS", "spf": "PASS", "dkim": "PASS", "dmarc": "PASS"}
_mail_ids = itertools.count(1)


class Inbox:
    """The service over a populated world, with anna's question to the shop already sent."""

    def __init__(self) -> None:
        self.world: FakeWorld = populated_world()
        self.service = InboundMailService(
            directory=self.world.directory,
            messaging=self.world.messaging,
            attachments=self.world.attachments,
            signing_key=lambda: KEY,
            relay_domain=DOMAIN,
            records=self.world.inbound_records,
        )
        self.thread_id = self.world.messaging.send(
            SendMessage(author_id=ANNA.id, text="Czy jest rozmiar M?", offer_id=BIKE.id)
        ).message.thread_id

    def shops_reply_address(self, thread_id: str | None = None) -> str:
        """The Reply-To of the e-mail copy the shop got of anna's question."""
        return reply_address(thread_id or self.thread_id, str(SHOP.mail_alias), KEY, DOMAIN)

    def receive(
        self,
        raw: bytes,
        recipients: list[str],
        *,
        mail_id: str | None = None,
        envelope_sender: str | None = None,
        **verdicts: str,
    ) -> Decision:
        mail_id = mail_id or f"ses-mail-{next(_mail_ids):04d}"
        decision = self.service.receive(
            mail_id, recipients, Verdicts(**(PASSING | verdicts)), raw, envelope_sender=envelope_sender
        )
        # Every decision is recorded under the mail's id, as it was returned
        assert self.world.inbound_records.records[mail_id] == (
            decision.outcome.value,
            decision.detail,
            decision.message_id,
        )
        return decision

    def texts(self, owner_id: str, thread_id: str | None = None) -> list[str]:
        page = self.world.messaging.list_messages(owner_id, thread_id or self.thread_id, MessageQuery())
        return [m.text for m in page.messages]


def mail(
    sender: str = SHOP.email,
    to: str = "",
    text: str = "Tak, mamy rozmiar M.",
    *,
    headers: dict[str, str] | None = None,
    attachment: tuple[str, bytes, str] | None = None,
) -> bytes:
    message = EmailMessage()
    if sender:
        message["From"] = f"Nadawca <{sender}>"
    message["To"] = to or f"<{alias_address('nobodyzzzz', DOMAIN)}>"
    message["Subject"] = "Re: Rower miejski"
    message["Message-ID"] = make_msgid(domain="mail.example.com")
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(text)
    if attachment:
        name, content, mime_type = attachment
        maintype, subtype = mime_type.split("/")
        message.add_attachment(content, maintype=maintype, subtype=subtype, filename=name)
    return message.as_bytes()


@pytest.fixture
def inbox() -> Inbox:
    return Inbox()


# -- the verdicts ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("verdicts", "envelope_sender", "outcome", "detail"),
    [
        ({"spam": "FAIL"}, None, Outcome.SPAM, None),
        ({"virus": "FAIL"}, None, Outcome.VIRUS, None),
        ({"virus": "FAIL", "spam": "FAIL"}, None, Outcome.VIRUS, None),
        ({"dmarc": "FAIL", "dmarc_policy": "none"}, None, Outcome.DMARC_FAIL, "none"),
        ({"dmarc": "FAIL", "dmarc_policy": "quarantine"}, None, Outcome.DMARC_FAIL, "quarantine"),
        ({"dmarc": "FAIL", "dmarc_policy": "reject"}, None, Outcome.DMARC_FAIL, "reject"),
        ({"spf": "FAIL", "dkim": "FAIL", "dmarc": "GRAY"}, None, Outcome.UNAUTHENTICATED, None),
        ({"spf": "GRAY", "dkim": "PROCESSING_FAILED", "dmarc": "GRAY"}, None, Outcome.UNAUTHENTICATED, None),
        # SPF passed, but for a bounce domain that is not the From address's
        ({"dkim": "FAIL", "dmarc": "GRAY"}, "bounce@bulk-mailer.example", Outcome.NOT_ALIGNED, None),
        (
            {"dkim": "FAIL", "dmarc": "PROCESSING_FAILED"},
            "sklep@rowery.example.com.evil.example",
            Outcome.NOT_ALIGNED,
            None,
        ),
        ({"dkim": "FAIL", "dmarc": "GRAY"}, None, Outcome.NOT_ALIGNED, None),
    ],
)
def test_mail_the_verdicts_refuse_is_not_delivered(inbox, verdicts, envelope_sender, outcome, detail):
    # When the shop's reply arrives with failing verdicts
    decision = inbox.receive(
        mail(to=inbox.shops_reply_address()), [inbox.shops_reply_address()], envelope_sender=envelope_sender, **verdicts
    )
    # Then it is refused with the reason (the DMARC policy named), and anna sees nothing new
    assert (decision.outcome, decision.detail, decision.message_id) == (outcome, detail, None)
    assert inbox.texts(ANNA.id) == ["Czy jest rozmiar M?"]


@pytest.mark.parametrize(
    ("verdicts", "envelope_sender", "headers"),
    [
        ({"dmarc": "PASS"}, "bounce@bulk-mailer.example", {}),  # SES checked alignment itself
        ({"dkim": "FAIL", "dmarc": "GRAY"}, "bounces@mail.rowery.example.com", {}),  # SPF for a subdomain
        ({"spf": "FAIL", "dmarc": "GRAY"}, None, {"DKIM-Signature": "v=1; a=rsa-sha256; d=rowery.example.com; s=k1"}),
    ],
)
def test_mail_authenticated_for_its_from_domain_is_delivered(inbox, verdicts, envelope_sender, headers):
    raw = mail(to=inbox.shops_reply_address(), headers=headers)
    decision = inbox.receive(raw, [inbox.shops_reply_address()], envelope_sender=envelope_sender, **verdicts)
    assert decision.outcome is Outcome.DELIVERED


def test_a_dkim_pass_that_a_third_party_may_have_signed_is_not_aligned(inbox):
    # Given a mail signed by the From domain and by another domain; SES says only that DKIM passed
    raw = mail(to=inbox.shops_reply_address())
    raw = (
        b"DKIM-Signature: v=1; d=rowery.example.com; s=k1; b=AAA\r\n"
        b"DKIM-Signature: v=1; d=mailer.example.net; s=k2; b=BBB\r\n" + raw
    )
    decision = inbox.receive(raw, [inbox.shops_reply_address()], spf="FAIL", dmarc="GRAY")
    assert decision.outcome is Outcome.NOT_ALIGNED


# -- routing ---------------------------------------------------------------------------------


def test_the_shops_reply_to_its_copy_continues_the_thread(inbox):
    # When the shop answers the e-mail copy of anna's question from its mail client
    decision = inbox.receive(mail(to=inbox.shops_reply_address()), [inbox.shops_reply_address()])
    # Then anna has a MAIL message from the shop in the same thread
    assert decision.outcome is Outcome.DELIVERED
    message = inbox.world.messaging.get_message(ANNA.id, str(decision.message_id))
    assert (message.thread_id, message.type, message.author_id, message.text) == (
        inbox.thread_id,
        MessageType.MAIL,
        SHOP.id,
        "Tak, mamy rozmiar M.",
    )
    assert inbox.world.messaging.get_thread(ANNA.id, inbox.thread_id).unread_count == 1


@pytest.mark.parametrize("sender", [ANNA, JAN])
def test_only_the_owner_of_a_reply_address_can_use_it(inbox, sender):
    # When someone else sends to the shop's reply address (anna, the other participant; jan, an outsider)
    decision = inbox.receive(mail(sender=sender.email), [inbox.shops_reply_address()])
    # Then it goes nowhere
    assert decision.outcome is Outcome.NO_ROUTE
    assert inbox.texts(SHOP.id) == ["Czy jest rozmiar M?"]


def test_a_genuine_reply_address_of_a_thread_the_sender_is_not_in_goes_nowhere(inbox):
    # Given a thread between jan and anna (not the shop's)
    other = inbox.world.messaging.send(SendMessage(author_id=ANNA.id, text="Aparat?", offer_id="pl-offer-2001"))
    # When the shop uses an address signed for itself and that thread
    address = inbox.shops_reply_address(other.message.thread_id)
    decision = inbox.receive(mail(to=address), [address])
    assert decision.outcome is Outcome.NO_ROUTE
    assert inbox.texts(ANNA.id, other.message.thread_id) == ["Aparat?"]


def test_a_forged_reply_address_is_refused_even_with_valid_references(inbox):
    genuine = inbox.shops_reply_address()
    local, _, domain = genuine.partition("@")
    forged = f"{local[:-1]}{'a' if local[-1] != 'a' else 'b'}@{domain}"
    raw = mail(to=forged, headers={"In-Reply-To": thread_message_id(inbox.thread_id, DOMAIN)})
    decision = inbox.receive(raw, [forged])
    assert decision.outcome is Outcome.FORGED_ADDRESS
    assert inbox.texts(ANNA.id) == ["Czy jest rozmiar M?"]


def test_mail_to_a_users_masked_address_starts_a_thread_with_them(inbox):
    address = alias_address(str(SHOP.mail_alias), DOMAIN)
    # When jan writes to the shop's masked address for the first time
    decision = inbox.receive(mail(sender=JAN.email, to=address, text="Macie kaski?"), [address.upper()])
    # Then the shop has a new thread with jan holding the MAIL message
    assert decision.outcome is Outcome.DELIVERED
    thread_id = inbox.world.threads.find_thread_of_pair(JAN.id, SHOP.id)
    assert thread_id is not None
    assert inbox.texts(SHOP.id, thread_id) == ["Macie kaski?"]
    assert inbox.world.messaging.get_thread(SHOP.id, thread_id).interlocutor_login == JAN.login


def test_mail_to_the_masked_address_of_an_interlocutor_joins_the_pairs_thread(inbox):
    address = alias_address(str(SHOP.mail_alias), DOMAIN)
    decision = inbox.receive(mail(sender=ANNA.email, to=address, text="Jeszcze pytanie"), [address])
    assert decision.outcome is Outcome.DELIVERED
    assert inbox.texts(SHOP.id) == ["Jeszcze pytanie", "Czy jest rozmiar M?"]


@pytest.mark.parametrize(
    "address",
    [
        alias_address(str(SHOP.mail_alias), DOMAIN),  # the shop's own address
        alias_address("unknownxyz", DOMAIN),
        f"{SHOP.mail_alias}@another-relay.example",
    ],
)
def test_mail_to_no_usable_address_goes_nowhere(inbox, address):
    decision = inbox.receive(mail(to=address), [address])
    assert decision.outcome is Outcome.NO_ROUTE


def test_references_find_the_thread_for_its_participants_only(inbox):
    # Given replies that lost the reply address (sent to another address) but name the thread
    address = f"kontakt@{DOMAIN}"
    headers = {"In-Reply-To": "<unrelated@mail.example.com>", "References": thread_message_id(inbox.thread_id, DOMAIN)}
    # When the shop sends one, then it joins the thread
    shop = inbox.receive(mail(to=address, headers=headers), [address])
    assert shop.outcome is Outcome.DELIVERED
    assert inbox.texts(ANNA.id)[0] == "Tak, mamy rozmiar M."
    # When jan sends one naming the same thread, then it goes nowhere
    jan = inbox.receive(mail(sender=JAN.email, to=address, headers=headers), [address])
    assert jan.outcome is Outcome.NO_ROUTE
    assert inbox.texts(ANNA.id) == ["Tak, mamy rozmiar M.", "Czy jest rozmiar M?"]


def test_references_of_another_domain_are_not_followed(inbox):
    address = f"kontakt@{DOMAIN}"
    raw = mail(to=address, headers={"In-Reply-To": thread_message_id(inbox.thread_id, "relay.other.example")})
    assert inbox.receive(raw, [address]).outcome is Outcome.NO_ROUTE


# -- what is not a message -------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers", [{"Auto-Submitted": "auto-replied"}, {"X-Autoreply": "yes"}, {"Precedence": "bulk"}]
)
def test_an_auto_reply_is_never_posted(inbox, headers):
    raw = mail(to=inbox.shops_reply_address(), text="Jestem na urlopie do poniedziałku.", headers=headers)
    decision = inbox.receive(raw, [inbox.shops_reply_address()])
    assert decision.outcome is Outcome.AUTO_REPLY and decision.detail
    assert inbox.texts(ANNA.id) == ["Czy jest rozmiar M?"]


def test_a_sender_the_directory_does_not_know_is_refused(inbox):
    decision = inbox.receive(
        mail(sender="someone@unknown.example", to=inbox.shops_reply_address()), [inbox.shops_reply_address()]
    )
    assert decision.outcome is Outcome.UNKNOWN_SENDER


def test_a_mail_without_a_sender_is_unusable(inbox):
    decision = inbox.receive(mail(sender="", to=inbox.shops_reply_address()), [inbox.shops_reply_address()])
    assert (decision.outcome, decision.detail) == (Outcome.UNUSABLE, UnusableReason.NO_SENDER.value)


# -- at-least-once delivery and attachments --------------------------------------------------


def test_the_same_mail_delivered_twice_is_stored_once(inbox):
    raw = mail(to=inbox.shops_reply_address(), text="Jedna odpowiedź")
    # When SES delivers the same mail twice
    first = inbox.receive(raw, [inbox.shops_reply_address()], mail_id="ses-mail-same")
    again = inbox.receive(raw, [inbox.shops_reply_address()], mail_id="ses-mail-same")
    # Then both decisions name the one message, and anna sees it once
    assert first.outcome is again.outcome is Outcome.DELIVERED
    assert first.message_id == again.message_id
    assert inbox.texts(ANNA.id) == ["Jedna odpowiedź", "Czy jest rozmiar M?"]


def test_a_redelivery_after_the_sender_deleted_their_copy_stays_delivered(inbox):
    raw = mail(to=inbox.shops_reply_address(), text="Odpowiedź do usunięcia")
    first = inbox.receive(raw, [inbox.shops_reply_address()], mail_id="ses-mail-deleted")
    assert first.message_id is not None
    # Given the shop deleted its own copy of the message the mail became
    inbox.world.messaging.delete_message(SHOP.id, first.message_id)
    # When SES delivers the same mail again
    again = inbox.receive(raw, [inbox.shops_reply_address()], mail_id="ses-mail-deleted")
    # Then it is still the one delivered message (not a refusal), and anna still has it once
    assert (again.outcome, again.message_id) == (Outcome.DELIVERED, first.message_id)
    assert inbox.texts(ANNA.id) == ["Odpowiedź do usunięcia", "Czy jest rozmiar M?"]


def test_an_attached_file_arrives_with_the_message(inbox):
    pdf, _ = allowed_files()["invoice.pdf"]
    raw = mail(
        to=inbox.shops_reply_address(), text="Faktura w załączniku.", attachment=("faktura.pdf", pdf, "application/pdf")
    )
    decision = inbox.receive(raw, [inbox.shops_reply_address()])
    message = inbox.world.messaging.get_message(ANNA.id, str(decision.message_id))
    [attached] = message.attachments
    assert (attached.file_name, attached.mime_type) == ("faktura.pdf", "application/pdf")
    record = inbox.world.attachment_records.get(attached.id)
    assert (record.owner_id, record.status, record.message_id) == (SHOP.id, AttachmentStatus.SAFE, message.id)
    assert inbox.world.attachments.download_url(ANNA.id, attached.id)
