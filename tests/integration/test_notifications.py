"""The stream function: an e-mail copy and pushes for each new message, exactly once."""

from __future__ import annotations

import email
import json
from email import policy
from email.message import EmailMessage
from typing import Any

import boto3
import pytest
from message_center.domain import relay_addresses
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends
from moto.sns.models import sns_backends

from tests.conftest import PUBLIC_WEB_URL, REGION, RELAY_DOMAIN
from tests.support.api import LambdaContext, call
from tests.support.stream import StreamReader, batch, unfiltered

APNS_TOKEN = "a" * 64
FCM_TOKEN = "fcm-registration-token-" + "x" * 120


def _deliver(reader: StreamReader, event: dict[str, Any] | None = None) -> dict[str, Any]:
    from functions.stream.handler import lambda_handler

    return lambda_handler(event if event is not None else batch(reader.read()), LambdaContext())


def _sent_mail() -> list[EmailMessage]:
    backend = ses_backends[DEFAULT_ACCOUNT_ID][REGION]
    return [email.message_from_string(m.raw_data, policy=policy.default) for m in backend.sent_messages]  # type: ignore[misc]


def _pushes() -> dict[str, list[dict[str, Any]]]:
    endpoints = sns_backends[DEFAULT_ACCOUNT_ID][REGION].platform_endpoints
    return {arn: [json.loads(m) for m in endpoint.messages.values()] for arn, endpoint in endpoints.items()}


def _register(user_id: str, platform: str, token: str):
    return call("api_register_device", user_id=user_id, body={"platform": platform, "token": token})


@pytest.fixture
def reader(aws) -> StreamReader:
    return StreamReader()


def _ask(users, text: str = "Czy rower jest dostępny w rozmiarze M?") -> dict:
    response = call(
        "api_write_new_message",
        user_id=users["anna_kowalska"],
        body={"offer": {"id": "pl-offer-1001"}, "text": text},
    )
    assert response.status == 201
    return response.json


def test_the_recipient_gets_one_email_copy_with_masked_and_signed_addresses(users, reader):
    # Given anna asks the seller a question
    message = _ask(users)
    # When the stream delivers the new message copies
    response = _deliver(reader)
    # Then nothing failed and exactly one e-mail went out: to the seller, not to anna
    assert response == {"batchItemFailures": []}
    [mail] = _sent_mail()
    assert mail["To"] == "sklep@rowery.example.com"
    assert "anna.kowalska@example.com" not in mail.as_string()
    # From is anna's masked relay address; Reply-To is the signed address of this thread
    from_address = mail["From"].addresses[0]
    assert from_address.domain == RELAY_DOMAIN
    assert relay_addresses.parse_alias_address(from_address.addr_spec, RELAY_DOMAIN) is not None
    key = b"test-signing-key-0123456789abcdef"
    target = relay_addresses.parse_reply_address(mail["Reply-To"].addresses[0].addr_spec, key, RELAY_DOMAIN)
    assert target is not None and target.thread_id == message["thread"]["id"]
    # Threading, auto-reply and unsubscribe headers
    assert mail["Message-ID"] == f"<message-{message['id'].lower()}@{RELAY_DOMAIN}>"
    assert mail["In-Reply-To"] == mail["References"] == f"<thread-{message['thread']['id'].lower()}@{RELAY_DOMAIN}>"
    assert mail["Auto-Submitted"] == "auto-generated"
    assert mail["List-Unsubscribe"] == f"<{PUBLIC_WEB_URL}/settings>"
    # Subject in the seller's language (pl), naming the counterpart and the offer
    assert mail["Subject"] == 'Nowa wiadomość od anna_kowalska w sprawie oferty „Rower miejski 28"”'
    text = mail.get_body(("plain",)).get_content()
    assert "Czy rower jest dostępny w rozmiarze M?" in text
    assert "Odpowiedz na tego e-maila" in text


def test_the_emails_links_open_the_thread_and_the_settings_in_the_web_client(users, reader):
    # Given anna asks the seller a question
    message = _ask(users)
    # When the seller's e-mail copy goes out
    _deliver(reader)
    [mail] = _sent_mail()
    # Then "open the conversation" leads to the thread's page of the web client (which signs the
    # seller in first), in the text and in the HTML; the settings link to the web client's settings
    thread_page = f"{PUBLIC_WEB_URL}/threads/{message['thread']['id']}"
    text = mail.get_body(("plain",)).get_content()
    html_part = mail.get_body(("html",)).get_content()
    assert f"Otwórz rozmowę: {thread_page}\n" in text
    assert f'<a href="{thread_page}">Otwórz rozmowę</a>' in html_part
    assert mail["List-Unsubscribe"] == f"<{PUBLIC_WEB_URL}/settings>"
    # and nothing points at the API, whose URLs answer 401 without a bearer token
    assert "/messaging/" not in mail.as_string()


def test_html_part_escapes_user_text(users, reader):
    _ask(users, text='<script>alert("x")</script> <b>pogrubione</b>')
    _deliver(reader)
    [mail] = _sent_mail()
    html_part = mail.get_body(("html",)).get_content()
    assert "<script>" not in html_part and "&lt;script&gt;" in html_part
    assert "<b>pogrubione</b>" not in html_part


def test_the_email_is_in_the_recipients_language(users, reader):
    call("api_update_profile", user_id=users["rowery-kraków"], body={"preferredLanguage": "uk"})
    _ask(users)
    _deliver(reader)
    [mail] = _sent_mail()
    assert mail["Subject"].startswith("Нове повідомлення від anna_kowalska")
    assert mail["Content-Language"] == "uk"


def test_attachments_are_links_not_bytes(users, reader):
    from tests.support.files import allowed_files

    png, _ = allowed_files()["photo.png"]
    anna = users["anna_kowalska"]
    declared = call("api_declare_attachment", user_id=anna, body={"filename": "rower.png", "size": len(png)}).json
    call(
        "api_upload_attachment",
        user_id=anna,
        path={"attachmentId": declared["id"]},
        binary=png,
        headers={"content-type": "image/png"},
    )
    call(
        "api_write_new_message",
        user_id=anna,
        body={"offer": {"id": "pl-offer-1001"}, "text": "Zdjęcie", "attachments": [{"id": declared["id"]}]},
    )
    _deliver(reader)
    [mail] = _sent_mail()
    assert not any(part.get_filename() for part in mail.walk())
    # Each attachment links to its download page in the web client: it works from a mail client
    # whenever the copy is read (a presigned URL would expire within minutes; the API's URL needs
    # a bearer token), and gives the file only to a participant who signs in
    download_page = f"{PUBLIC_WEB_URL}/attachments/{declared['id']}"
    assert f"- rower.png: {download_page}\n" in mail.get_body(("plain",)).get_content()
    assert f'<a href="{download_page}">rower.png</a>' in mail.get_body(("html",)).get_content()
    assert "/messaging/" not in mail.as_string()


def test_direction_controls_are_neither_stored_nor_mailed(users, reader):
    from message_center.domain.rules import BIDI_CONTROLS

    from tests.support.files import allowed_files

    # Given anna attaches a PNG named so that it would read "umowaexe.pdf", and writes a text that
    # would show a link reversed
    png, _ = allowed_files()["photo.png"]
    anna = users["anna_kowalska"]
    declared = call("api_declare_attachment", user_id=anna, body={"filename": "umowa\u202efdp.png", "size": len(png)})
    call(
        "api_upload_attachment",
        user_id=anna,
        path={"attachmentId": declared.json["id"]},
        binary=png,
        headers={"content-type": "image/png"},
    )
    # When she sends them
    sent = call(
        "api_write_new_message",
        user_id=anna,
        body={
            "offer": {"id": "pl-offer-1001"},
            "text": "Umowa: \u202elp.elpmaxe//:sptth\u202c i \u2067zdjęcie\u2069",
            "attachments": [{"id": declared.json["id"]}],
        },
    )
    # Then what is stored reads in the order it was written, without the controls
    assert sent.status == 201, sent.raw_body
    assert sent.json["text"] == "Umowa: lp.elpmaxe//:sptth i zdjęcie"
    assert sent.json["attachments"][0]["fileName"] == "umowafdp.png"
    # And so does the e-mail copy, in every part
    _deliver(reader)
    [mail] = _sent_mail()
    parts = [str(mail["Subject"]), str(mail["From"])] + [
        mail.get_body((kind,)).get_content() for kind in ("plain", "html")
    ]
    assert "umowafdp.png" in parts[2] and "lp.elpmaxe//:sptth" in parts[2]
    assert not BIDI_CONTROLS & set("".join(parts))


def test_push_goes_to_every_device_with_the_badge(users, reader):
    seller = users["rowery-kraków"]
    assert _register(seller, "APNS", APNS_TOKEN).status == 201
    assert _register(seller, "FCM", FCM_TOKEN).status == 201
    message = _ask(users)
    _deliver(reader)
    pushes = _pushes()
    delivered = [payloads for payloads in pushes.values() if payloads]
    assert len(delivered) == 2 and all(len(p) == 1 for p in delivered)
    structures = [p[0] for p in delivered]
    apns = json.loads(structures[0]["APNS"]) if "APNS" in structures[0] else None
    assert apns is not None
    assert apns["aps"]["badge"] == 1
    assert apns["aps"]["alert"]["body"] == "Czy rower jest dostępny w rozmiarze M?"
    assert apns["threadId"] == message["thread"]["id"] and apns["messageId"] == message["id"]
    assert apns["interlocutor"] == "anna_kowalska"
    fcm = json.loads(structures[0]["GCM"])["fcmV1Message"]["message"]
    assert fcm["data"]["badge"] == "1" and fcm["data"]["threadId"] == message["thread"]["id"]


def test_a_retried_or_duplicated_batch_sends_nothing_twice(users, reader):
    _register(users["rowery-kraków"], "APNS", APNS_TOKEN)
    _ask(users)
    event = batch(reader.read())
    # When the same batch is delivered three times
    for _ in range(3):
        assert _deliver(reader, event) == {"batchItemFailures": []}
    # Then one e-mail and one push
    assert len(_sent_mail()) == 1
    assert sum(len(p) for p in _pushes().values()) == 1


def test_only_new_messages_notify_and_never_their_author(users, reader):
    thread_id = _ask(users)["thread"]["id"]
    _deliver(reader)
    # When the seller reads the thread, anna deletes her copy, the badge changes...
    seller = users["rowery-kraków"]
    call("api_mark_thread_read", user_id=seller, path={"threadId": thread_id}, body={"read": True})
    messages = call("api_list_messages", user_id=users["anna_kowalska"], path={"threadId": thread_id}).json["messages"]
    call("api_delete_message", user_id=users["anna_kowalska"], path={"messageId": messages[0]["id"]})
    everything = reader.read()
    assert {r["eventName"] for r in everything} >= {"MODIFY", "REMOVE"}
    # Then even unfiltered (as if the mapping had no filter) no one is notified again
    assert _deliver(reader, unfiltered(everything)) == {"batchItemFailures": []}
    assert len(_sent_mail()) == 1  # only the seller's copy of anna's question, earlier
    assert _sent_mail()[0]["To"] == "sklep@rowery.example.com"


def test_ses_down_fails_the_record_but_push_is_sent_once(users, reader, monkeypatch):
    _register(users["rowery-kraków"], "APNS", APNS_TOKEN)
    _ask(users)
    event = batch(reader.read())
    from functions.stream.handler import container

    mailer = container.get().notifications._mailer

    def ses_down(*args: Any, **kwargs: Any) -> str:
        raise ConnectionError("SES is unreachable")

    monkeypatch.setattr(mailer, "send", ses_down)
    failed = _deliver(reader, event)
    # Then only the recipient's record is reported failed, and the push went out
    seller_copy = [r for r in event["Records"] if r["dynamodb"]["NewImage"]["ownerId"]["S"] != users["anna_kowalska"]]
    assert failed == {"batchItemFailures": [{"itemIdentifier": seller_copy[0]["dynamodb"]["SequenceNumber"]}]}
    assert sum(len(p) for p in _pushes().values()) == 1
    # When SES is back and the stream retries
    monkeypatch.undo()
    assert _deliver(reader, event) == {"batchItemFailures": []}
    # Then the e-mail is sent and the push is not repeated
    assert len(_sent_mail()) == 1
    assert sum(len(p) for p in _pushes().values()) == 1


def test_sns_down_does_not_block_the_email(users, reader, monkeypatch):
    _register(users["rowery-kraków"], "APNS", APNS_TOKEN)
    _ask(users)
    event = batch(reader.read())
    from functions.stream.handler import container

    push = container.get().notifications._push

    def sns_down(*args: Any, **kwargs: Any) -> None:
        raise ConnectionError("SNS is unreachable")

    monkeypatch.setattr(push, "publish", sns_down)
    assert len(_deliver(reader, event)["batchItemFailures"]) == 1
    assert len(_sent_mail()) == 1
    monkeypatch.undo()
    assert _deliver(reader, event) == {"batchItemFailures": []}
    assert len(_sent_mail()) == 1
    assert sum(len(p) for p in _pushes().values()) == 1


def test_one_bad_record_fails_alone(users, reader):
    _ask(users)
    event = batch(reader.read())
    broken = json.loads(json.dumps(event["Records"][-1]))
    broken["dynamodb"]["NewImage"]["createdAt"] = {"S": "not a date"}
    broken["dynamodb"]["SequenceNumber"] = "999999"
    response = _deliver(reader, {"Records": [*event["Records"], broken]})
    assert response == {"batchItemFailures": [{"itemIdentifier": "999999"}]}
    assert len(_sent_mail()) == 1


def test_a_disabled_endpoint_is_cleaned_up(users, reader):
    seller = users["rowery-kraków"]
    device = _register(seller, "APNS", APNS_TOKEN).json
    [arn] = list(_pushes())
    boto3.client("sns", region_name=REGION).set_endpoint_attributes(EndpointArn=arn, Attributes={"Enabled": "false"})
    _ask(users)
    assert _deliver(reader) == {"batchItemFailures": []}
    # Then the device is gone from the seller's list and its endpoint deleted
    assert call("api_list_devices", user_id=seller).json == {"devices": []}
    assert arn not in _pushes()
    assert device["platform"] == "APNS"


def test_the_stream_event_sample_is_processed(aws, users):
    """events/stream_new_message.json: a recipient's copy as the event source mapping delivers it."""
    from tests.support.api import load_event

    event = load_event("stream_new_message")
    image = event["Records"][0]["dynamodb"]["NewImage"]
    image["ownerId"]["S"] = users["rowery-kraków"]
    image["recipientId"]["S"] = users["rowery-kraków"]
    image["authorId"]["S"] = users["anna_kowalska"]
    from functions.stream.handler import lambda_handler

    assert lambda_handler(event, LambdaContext()) == {"batchItemFailures": []}
    [mail] = _sent_mail()
    assert mail["To"] == "sklep@rowery.example.com"
