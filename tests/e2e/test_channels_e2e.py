"""End to end through `message-center serve`: push and e-mail copy, a reply over SMTP, translation."""

from __future__ import annotations

import smtplib
import time
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import make_msgid

import pytest
import requests

from tests.support.files import allowed_files

pytestmark = pytest.mark.e2e

# Their own users: the e2e tests share one running stack.
BUYER, SELLER = "peter_horvath", "dom-i-ogrod-pl"
BUYER_MAIL, SELLER_MAIL = "peter.horvath@example.net", "sklep@dom-i-ogrod.example.com"
ORDER = "b7c3e5a1-0f2d-4e8b-8c6a-4d9f1e2b3c05"
APNS_TOKEN = "740f4707bebcf74f9b7c25d48e3358945f6aa01da5ddb387462c7eaf61bb78ad"


def _wait_for(fetch, predicate, seconds: float = 10.0):
    deadline = time.monotonic() + seconds
    while True:
        value = fetch()
        if predicate(value) or time.monotonic() > deadline:
            return value
        time.sleep(0.1)


def _outbox(api: str) -> list[dict]:
    return requests.get(f"{api}/_local/outbox", timeout=10).json()


def test_question_pushes_and_mails_the_seller_who_answers_by_email(local_stack):
    api = local_stack.api_url
    buyer, seller = local_stack.session(BUYER), local_stack.session(SELLER)
    # Given the seller registered a phone
    registered = seller.post(f"{api}/messaging/devices", json={"platform": "APNS", "token": APNS_TOKEN})
    assert registered.status_code in (200, 201), registered.text
    # When the buyer asks about his order
    asked = buyer.post(f"{api}/messaging/messages", json={"order": {"id": ORDER}, "text": "Kedy odošlete hadicu?"})
    assert asked.status_code == 201, asked.text
    question = asked.json()
    # Then the seller's push (badge 1) and e-mail copy appear in the local outbox
    pushes = _wait_for(
        lambda: requests.get(f"{api}/_local/push", timeout=10).json(),
        lambda found: any(p["message"].get("messageId") == question["id"] for p in found),
    )
    push = next(p for p in pushes if p["message"].get("messageId") == question["id"])
    assert push["token"] == APNS_TOKEN
    assert push["message"]["aps"]["badge"] == 1
    assert push["message"]["threadId"] == question["thread"]["id"]
    mails = _wait_for(lambda: _outbox(api), lambda found: any(m["to"] == SELLER_MAIL for m in found))
    copy_summary = next(m for m in mails if m["to"] == SELLER_MAIL)
    assert "@relay.message-center.test" in copy_summary["from"] and BUYER_MAIL not in copy_summary["from"]
    assert copy_summary["replyTo"].startswith("r-")
    assert copy_summary["inReplyTo"] == f"<thread-{question['thread']['id'].lower()}@relay.message-center.test>"
    copy = message_from_bytes(requests.get(copy_summary["eml"], timeout=10).content, policy=policy.default)

    # When the seller replies to that e-mail over SMTP, quoting it and attaching a PDF
    pdf, _ = allowed_files()["invoice.pdf"]
    reply = EmailMessage()
    reply["From"] = SELLER_MAIL
    reply["To"] = copy["Reply-To"]
    reply["Subject"] = "Re: " + copy["Subject"]
    reply["Message-ID"] = make_msgid(domain="dom-i-ogrod.example.com")
    reply["In-Reply-To"] = copy["Message-ID"]
    quoted = "\n".join("> " + line for line in copy.get_body(("plain",)).get_content().splitlines())
    reply.set_content(f"Wysyłamy jutro rano.\n\nW dniu 26.11.2026 peter_horvath pisze:\n{quoted}\n")
    reply.add_attachment(pdf, maintype="application", subtype="pdf", filename="faktura.pdf")
    state = local_stack.state
    with smtplib.SMTP(state["host"], state["smtp_port"], timeout=10) as smtp:
        smtp.send_message(reply)

    # Then the reply is in the thread, without the quote, with the PDF, and the buyer is notified
    def newest() -> dict:
        url = f"{api}/messaging/threads/{question['thread']['id']}/messages"
        return buyer.get(url).json()["messages"][0]

    answer = _wait_for(newest, lambda message: message["type"] == "MAIL")
    assert answer["type"] == "MAIL"
    assert answer["text"] == "Wysyłamy jutro rano."
    assert [(a["fileName"], a["mimeType"]) for a in answer["attachments"]] == [("faktura.pdf", "application/pdf")]
    downloaded = requests.get(
        buyer.get(answer["attachments"][0]["url"], allow_redirects=False).headers["Location"], timeout=10
    )
    assert downloaded.content == pdf
    mails = _wait_for(lambda: _outbox(api), lambda found: any(m["to"] == BUYER_MAIL for m in found))
    assert any(m["to"] == BUYER_MAIL for m in mails)


def test_a_czech_seller_is_translated_for_a_polish_buyer(local_stack):
    api = local_stack.api_url
    seller, buyer = local_stack.session("cz-elektro-shop"), local_stack.session("anna_kowalska")
    czech = "Dobrý den, powerbanku jsme odeslali dnes odpoledne, zásilka dorazí zítra."
    sent = seller.post(
        f"{api}/messaging/messages",
        json={
            "recipient": {"login": "anna_kowalska"},
            "order": {"id": "8e4f0c19-6a2b-4d7e-a3f5-91c0b2d4e603"},
            "text": czech,
        },
    )
    assert sent.status_code == 201, sent.text
    message_id = sent.json()["id"]
    assert sent.json()["language"] == "cs"
    seen = _wait_for(
        lambda: buyer.get(f"{api}/messaging/messages/{message_id}").json(), lambda m: m.get("translation") is not None
    )
    assert seen["text"] == czech
    assert seen["translation"]["targetLanguage"] == "pl" and seen["translation"]["machineTranslated"] is True
    # On demand into Ukrainian, twice: the same answer (the second from the stored translation)
    first = buyer.get(f"{api}/messaging/messages/{message_id}/translations/uk").json()
    assert buyer.get(f"{api}/messaging/messages/{message_id}/translations/uk").json() == first
    assert first["targetLanguage"] == "uk" and first["sourceLanguage"] == "cs"
