"""The e-mail channel: replies and new mail become MAIL messages; everything else is refused."""

from __future__ import annotations

import email
import uuid
from email import policy
from email.message import EmailMessage
from email.utils import make_msgid

import boto3
import pytest
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends

from tests.conftest import BUCKET as ATTACHMENTS_BUCKET
from tests.conftest import INBOUND_BUCKET, REGION, RELAY_DOMAIN, TABLE
from tests.support.api import LambdaContext, call, load_event
from tests.support.files import allowed_files, windows_executable
from tests.support.stream import StreamReader, batch

SELLER_MAIL, BUYER_MAIL = "sklep@rowery.example.com", "anna.kowalska@example.com"


def _sent() -> list[EmailMessage]:
    backend = ses_backends[DEFAULT_ACCOUNT_ID][REGION]
    return [email.message_from_string(m.raw_data, policy=policy.default) for m in backend.sent_messages]  # type: ignore[misc]


def _notify(reader: StreamReader) -> None:
    from functions.stream.handler import lambda_handler

    records = batch(reader.read())
    if records["Records"]:
        assert lambda_handler(records, LambdaContext()) == {"batchItemFailures": []}


def _receive(
    raw: bytes,
    recipients: list[str],
    *,
    mail_id: str | None = None,
    source: str | None = None,
    dmarc_policy: str = "reject",
    **verdicts: str,
) -> dict:
    """Do what SES does: store the raw mail in S3, then invoke the function with the receipt."""
    from functions.inbound_mail.handler import lambda_handler

    mail_id = mail_id or uuid.uuid4().hex
    boto3.client("s3", region_name=REGION).put_object(Bucket=INBOUND_BUCKET, Key=f"inbound/{mail_id}", Body=raw)
    event = load_event("ses_inbound_mail")
    record = event["Records"][0]["ses"]
    record["mail"]["messageId"] = mail_id
    record["mail"]["destination"] = record["receipt"]["recipients"] = recipients
    for name, status in verdicts.items():
        record["receipt"][f"{name}Verdict"] = {"status": status}
    if "dmarc" in verdicts:
        record["receipt"]["dmarcPolicy"] = dmarc_policy
    if source is not None:
        record["mail"]["source"] = source
    return lambda_handler(event, LambdaContext())["decisions"][0]


def _reply(copy: EmailMessage, sender: str, text: str, *, attach: tuple[str, bytes, str] | None = None) -> bytes:
    reply = EmailMessage()
    reply["From"] = f"Sklep <{sender}>"
    reply["To"] = copy["Reply-To"]
    reply["Subject"] = "Re: " + copy["Subject"]
    reply["Message-ID"] = make_msgid(domain="mail.example.com")
    reply["In-Reply-To"] = copy["Message-ID"]
    reply["References"] = copy["References"]
    quoted = "\n".join("> " + line for line in copy.get_body(("plain",)).get_content().splitlines())
    attribution = f"W dniu 26.11.2026 o 05:00, anna_kowalska <{copy['From'].addresses[0].addr_spec}> pisze:"
    reply.set_content(f"{text}\n\n{attribution}\n{quoted}\n")
    if attach:
        name, content, mime = attach
        maintype, subtype = mime.split("/")
        reply.add_attachment(content, maintype=maintype, subtype=subtype, filename=name)
    return reply.as_bytes()


@pytest.fixture
def seller_copy(users) -> tuple[EmailMessage, StreamReader, str]:
    """Given anna asked a question and the seller received the e-mail copy."""
    reader = StreamReader()
    thread_id = call(
        "api_write_new_message",
        user_id=users["anna_kowalska"],
        body={"offer": {"id": "pl-offer-1001"}, "text": "Czy jest rozmiar M?"},
    ).json["thread"]["id"]
    _notify(reader)
    [copy] = _sent()
    return copy, reader, thread_id


def test_a_reply_to_the_email_copy_continues_the_thread(users, seller_copy):
    copy, reader, thread_id = seller_copy
    pdf, _ = allowed_files()["invoice.pdf"]
    # When the seller replies from their mail client, quoting the copy and attaching a PDF
    decision = _receive(
        _reply(
            copy,
            SELLER_MAIL,
            "Tak, mamy M. Faktura w załączniku.",
            attach=("faktura.pdf", pdf, "application/pdf"),
        ),
        [copy["Reply-To"].addresses[0].addr_spec],
    )
    # Then it is a MAIL message in the same thread, without the quoted history, with the PDF
    assert decision["outcome"] == "DELIVERED"
    messages = call("api_list_messages", user_id=users["anna_kowalska"], path={"threadId": thread_id}).json["messages"]
    newest = messages[0]
    assert newest["type"] == "MAIL"
    assert newest["text"] == "Tak, mamy M. Faktura w załączniku."
    assert newest["author"] == {"login": "rowery-kraków", "isInterlocutor": True}
    assert [(a["fileName"], a["mimeType"]) for a in newest["attachments"]] == [("faktura.pdf", "application/pdf")]
    download = call(
        "api_download_attachment",
        user_id=users["anna_kowalska"],
        path={"attachmentId": newest["attachments"][0]["url"].rsplit("/", 1)[1]},
    )
    assert download.status == 302
    # And anna is notified like for any message
    _notify(reader)
    assert [m["To"] for m in _sent()] == [SELLER_MAIL, BUYER_MAIL]


def test_the_same_mail_twice_is_one_message(users, seller_copy):
    copy, _, thread_id = seller_copy
    raw = _reply(copy, SELLER_MAIL, "Jedna odpowiedź")
    to = [copy["Reply-To"].addresses[0].addr_spec]
    assert _receive(raw, to, mail_id="same-ses-id")["outcome"] == "DELIVERED"
    assert _receive(raw, to, mail_id="same-ses-id")["outcome"] == "DELIVERED"
    texts = [
        m["text"]
        for m in call("api_list_messages", user_id=users["anna_kowalska"], path={"threadId": thread_id}).json[
            "messages"
        ]
    ]
    assert texts.count("Jedna odpowiedź") == 1


def test_refused_attachments_are_named_in_the_message(users, seller_copy):
    copy, _, thread_id = seller_copy
    raw = _reply(
        copy,
        SELLER_MAIL,
        "Program w załączniku",
        attach=("setup.exe", windows_executable(), "application/octet-stream"),
    )
    assert _receive(raw, [copy["Reply-To"].addresses[0].addr_spec])["outcome"] == "DELIVERED"
    newest = call("api_list_messages", user_id=users["anna_kowalska"], path={"threadId": thread_id}).json["messages"][0]
    assert newest["attachments"] == []
    assert newest["text"].startswith("Program w załączniku")
    assert "setup.exe" in newest["text"] and "not accepted" in newest["text"]


def test_a_reply_with_nothing_visible_but_a_file_is_the_file(users, seller_copy):
    copy, _, thread_id = seller_copy
    pdf, _ = allowed_files()["invoice.pdf"]
    # When the seller's reply holds only zero-width characters above the quote, and a PDF
    raw = _reply(copy, SELLER_MAIL, "\u200b\u200c\u2060", attach=("faktura.pdf", pdf, "application/pdf"))
    # Then the message is the file, named in the text like a mail without text
    assert _receive(raw, [copy["Reply-To"].addresses[0].addr_spec])["outcome"] == "DELIVERED"
    newest = call("api_list_messages", user_id=users["anna_kowalska"], path={"threadId": thread_id}).json["messages"][0]
    assert (newest["text"], [a["fileName"] for a in newest["attachments"]]) == ("[faktura.pdf]", ["faktura.pdf"])


def test_a_reply_with_nothing_visible_is_not_a_message(users, seller_copy):
    from message_center.data.inbound_mail_repository import InboundMailRepository

    copy, _, thread_id = seller_copy
    # When the seller's reply holds only invisible characters above the quote
    raw = _reply(copy, SELLER_MAIL, "\u200b\u3164\u2800")
    decision = _receive(raw, [copy["Reply-To"].addresses[0].addr_spec], mail_id="blank-1")
    # Then it is recorded as without content, and the thread still has only anna's question
    assert decision["outcome"] == "UNUSABLE"
    assert InboundMailRepository().outcome("blank-1") == ("UNUSABLE", "no content")
    messages = call("api_list_messages", user_id=users["anna_kowalska"], path={"threadId": thread_id}).json
    assert [m["text"] for m in messages["messages"]] == ["Czy jest rozmiar M?"]


def test_direction_controls_in_a_reply_are_removed(users, seller_copy):
    copy, _, thread_id = seller_copy
    raw = _reply(copy, SELLER_MAIL, "Faktura:\u200f \u202efdp.exe\u202c gotowa\u061c")
    assert _receive(raw, [copy["Reply-To"].addresses[0].addr_spec])["outcome"] == "DELIVERED"
    newest = call("api_list_messages", user_id=users["anna_kowalska"], path={"threadId": thread_id}).json["messages"][0]
    assert newest["text"] == "Faktura: fdp.exe gotowa"


@pytest.mark.parametrize(
    ("verdicts", "outcome"),
    [
        ({"spam": "FAIL"}, "SPAM"),
        ({"virus": "FAIL"}, "VIRUS"),
        ({"dmarc": "FAIL"}, "DMARC_FAIL"),
        ({"spf": "FAIL", "dkim": "FAIL"}, "UNAUTHENTICATED"),
    ],
)
def test_failing_verdicts_are_not_delivered(users, seller_copy, verdicts, outcome):
    copy, _, thread_id = seller_copy
    decision = _receive(_reply(copy, SELLER_MAIL, "Odpowiedź"), [copy["Reply-To"].addresses[0].addr_spec], **verdicts)
    assert decision["outcome"] == outcome
    assert (
        len(call("api_list_messages", user_id=users["anna_kowalska"], path={"threadId": thread_id}).json["messages"])
        == 1
    )
    assert len(_sent()) == 1  # nothing is sent back


def test_dmarc_fail_is_refused_whatever_the_domains_policy(users, seller_copy):
    copy, _, thread_id = seller_copy
    to = [copy["Reply-To"].addresses[0].addr_spec]
    # Given a domain that publishes p=none, and a mail that fails its DMARC check (SPF passed elsewhere)
    decision = _receive(_reply(copy, SELLER_MAIL, "Podrobiona"), to, dmarc="FAIL", dmarc_policy="none")
    # Then it is refused, not delivered
    assert decision["outcome"] == "DMARC_FAIL"
    messages = call("api_list_messages", user_id=users["anna_kowalska"], path={"threadId": thread_id}).json
    assert [m["text"] for m in messages["messages"]] == ["Czy jest rozmiar M?"]


def test_spf_passing_for_another_domain_does_not_authenticate_the_from_address(users, seller_copy):
    copy, _, thread_id = seller_copy
    to = [copy["Reply-To"].addresses[0].addr_spec]
    # Given a forger writes the seller's address into From and sends from their own server: SPF
    # passes for the forger's bounce domain, DKIM does not pass, and the seller's domain has no DMARC
    forged = _reply(copy, SELLER_MAIL, "Zapłać na konto 12 3456")
    decision = _receive(forged, to, source="bounce@attacker.example.net", spf="PASS", dkim="FAIL", dmarc="GRAY")
    # Then it is refused as not aligned with the From domain, and nothing reaches the buyer
    assert decision["outcome"] == "NOT_ALIGNED"
    messages = call("api_list_messages", user_id=users["anna_kowalska"], path={"threadId": thread_id}).json
    assert "Zapłać na konto 12 3456" not in [m["text"] for m in messages["messages"]]
    # When the same mail comes from the seller's own domain (SPF aligned)
    aligned = _receive(forged, to, source="bounces@mail.rowery.example.com", spf="PASS", dkim="FAIL", dmarc="GRAY")
    # Then it is delivered
    assert aligned["outcome"] == "DELIVERED"


def test_dkim_counts_only_when_signed_by_the_from_domain(users, seller_copy):
    copy, _, _ = seller_copy
    to = [copy["Reply-To"].addresses[0].addr_spec]
    raw = _reply(copy, SELLER_MAIL, "Podpisana")
    signed_elsewhere = b"DKIM-Signature: v=1; a=rsa-sha256; d=attacker.example.net; s=s1; b=abc\r\n" + raw
    signed_here = b"DKIM-Signature: v=1; a=rsa-sha256; d=rowery.example.com; s=s1; b=abc\r\n" + raw
    foreign = "bounce@attacker.example.net"
    # A DKIM pass for another domain does not authenticate the seller's From address
    assert (
        _receive(signed_elsewhere, to, source=foreign, spf="FAIL", dkim="PASS", dmarc="GRAY")["outcome"]
        == "NOT_ALIGNED"
    )
    # A DKIM pass by the seller's own domain does
    assert _receive(signed_here, to, source=foreign, spf="FAIL", dkim="PASS", dmarc="GRAY")["outcome"] == "DELIVERED"


def test_one_passing_of_spf_or_dkim_is_enough(users, seller_copy):
    copy, _, _ = seller_copy
    assert (
        _receive(_reply(copy, SELLER_MAIL, "OK"), [copy["Reply-To"].addresses[0].addr_spec], spf="FAIL")["outcome"]
        == "DELIVERED"
    )


def test_unknown_senders_and_other_participants_cannot_use_a_reply_address(users, seller_copy):
    copy, _, thread_id = seller_copy
    to = [copy["Reply-To"].addresses[0].addr_spec]
    assert _receive(_reply(copy, "stranger@example.net", "Hej"), to)["outcome"] == "UNKNOWN_SENDER"
    # jan is a known user, but the address was given to the seller
    assert _receive(_reply(copy, "jan@example.org", "Hej"), to)["outcome"] == "NO_ROUTE"
    assert (
        len(call("api_list_messages", user_id=users["anna_kowalska"], path={"threadId": thread_id}).json["messages"])
        == 1
    )


def test_a_forged_reply_address_is_refused(users, seller_copy):
    copy, _, _ = seller_copy
    address = copy["Reply-To"].addresses[0].addr_spec
    local, domain = address.split("@")
    forged = local[:-1] + ("a" if local[-1] != "a" else "b") + "@" + domain
    assert _receive(_reply(copy, SELLER_MAIL, "Hej"), [forged])["outcome"] == "FORGED_ADDRESS"


def test_auto_replies_are_never_posted(users, seller_copy):
    copy, _, thread_id = seller_copy
    raw = _reply(copy, SELLER_MAIL, "Jestem na urlopie do poniedziałku.")
    auto = raw.replace(b"Subject:", b"Auto-Submitted: auto-replied\r\nSubject:", 1)
    assert _receive(auto, [copy["Reply-To"].addresses[0].addr_spec])["outcome"] == "AUTO_REPLY"
    assert (
        len(call("api_list_messages", user_id=users["anna_kowalska"], path={"threadId": thread_id}).json["messages"])
        == 1
    )


def test_a_buyer_writes_to_a_sellers_masked_address(users, seller_copy):
    _, reader, thread_id = seller_copy
    # The seller's masked address is the From of copies anna receives; make one by replying
    call(
        "api_write_in_thread",
        user_id=users["rowery-kraków"],
        path={"threadId": thread_id},
        body={"text": "Tak"},
    )
    _notify(reader)
    to_anna = _sent()[-1]
    seller_alias = to_anna["From"].addresses[0].addr_spec
    assert seller_alias.endswith("@" + RELAY_DOMAIN)
    fresh = EmailMessage()
    fresh["From"] = BUYER_MAIL
    fresh["To"] = seller_alias
    fresh["Subject"] = "Pytanie"
    fresh["Message-ID"] = make_msgid(domain="example.com")
    fresh.set_content("Czy wysyłacie też kurierem?")
    assert _receive(fresh.as_bytes(), [seller_alias])["outcome"] == "DELIVERED"
    newest = call("api_list_messages", user_id=users["rowery-kraków"], path={"threadId": thread_id}).json["messages"][0]
    assert (newest["type"], newest["text"]) == ("MAIL", "Czy wysyłacie też kurierem?")


def test_broken_mime_is_refused_without_crashing_and_recorded(users):
    from message_center.data.inbound_mail_repository import InboundMailRepository

    decision = _receive(b"\x00\x01 not a mail at all", [f"abcdefgh23@{RELAY_DOMAIN}"], mail_id="broken-1")
    assert decision["outcome"] == "UNUSABLE"
    assert InboundMailRepository().outcome("broken-1") == ("UNUSABLE", "no sender")


def test_a_mail_refused_after_its_attachment_was_stored_leaves_nothing_behind(users, seller_copy, monkeypatch):
    # Given the seller replies with a PDF, and the message's transaction will be refused: its
    # attachment, valid when checked, has expired by the time the transaction runs
    copy, _, thread_id = seller_copy
    from datetime import timedelta

    from functions.inbound_mail.handler import container

    messaging = container.get().inbound._messaging
    later = messaging._clock() + timedelta(hours=25)
    monkeypatch.setattr(messaging, "_clock", lambda: later)
    pdf, _ = allowed_files()["invoice.pdf"]
    raw = _reply(copy, SELLER_MAIL, "Faktura w załączniku.", attach=("faktura.pdf", pdf, "application/pdf"))

    # When the mail arrives
    decision = _receive(raw, [copy["Reply-To"].addresses[0].addr_spec])

    # Then it is refused and recorded as such, and nothing of its attachment remains: no object
    # (or version, or delete marker) in the attachments bucket, no attachment record
    assert decision["outcome"] == "REFUSED_BY_RULE"
    listing = boto3.client("s3", region_name=REGION).list_object_versions(Bucket=ATTACHMENTS_BUCKET)
    assert listing.get("Versions", []) == []
    assert listing.get("DeleteMarkers", []) == []
    items = boto3.client("dynamodb", region_name=REGION).scan(TableName=TABLE)["Items"]  # test-only scan
    assert [i for i in items if i["pk"]["S"].startswith("ATTACHMENT#")] == []
    messages = call("api_list_messages", user_id=users["anna_kowalska"], path={"threadId": thread_id}).json["messages"]
    assert [m["text"] for m in messages] == ["Czy jest rozmiar M?"]
