"""Faults in the middle of a batch, and at-least-once delivery at its worst: nothing lost, nothing doubled.

test_notifications.py, test_translation.py and test_inbound_mail.py already cover a channel down
for a whole one-message batch, a batch delivered three times, one malformed record, and the same
e-mail received twice. This adds what they do not: SES, SNS, S3 and the translation provider
failing part-way through a batch of several records, a batch delivered out of order, and the
Lambda runtime ending an invocation in the middle of a send. Faults are injected at the AWS SDK
boundary (``tests.support.faults``), so the adapters' own error handling runs.

With ``ReportBatchItemFailures`` a stream event source retries from the first failed record on,
so records after it are delivered again: ``_from_first_failure`` builds that retry.
"""

from __future__ import annotations

import email
import time
import uuid
from email import policy
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

import boto3
import pytest
from message_center.adapters.translation import ProviderUnavailable
from message_center.adapters.translation.dev import DevTranslator
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends
from moto.sns.models import sns_backends

from tests.conftest import INBOUND_BUCKET, REGION
from tests.support.api import LambdaContext, call, load_event
from tests.support.faults import LambdaTimeout, failing
from tests.support.files import allowed_files
from tests.support.stream import StreamReader, batch

SELLER_MAIL, JAN_MAIL, BUYER_MAIL, PETRA_MAIL = (
    "sklep@rowery.example.com",
    "jan@example.org",
    "anna.kowalska@example.com",
    "petra@example.net",
)
CZECH = "Dobrý den, zboží jsme odeslali dnes odpoledne, zásilka dorazí zítra."
CZECH_AGAIN = "Omlouváme se, kurýr má zpoždění, zásilka dorazí až v pondělí ráno."


# -- helpers --------------------------------------------------------------------------------


def _deliver(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    from functions.stream.handler import lambda_handler

    return lambda_handler(event, context or LambdaContext())


def _failed(response: dict[str, Any]) -> list[str]:
    return [failure["itemIdentifier"] for failure in response["batchItemFailures"]]


def _from_first_failure(event: dict[str, Any], response: dict[str, Any]) -> dict[str, Any]:
    """The retry the event source sends: the batch from the first failed record on."""
    failed = set(_failed(response))
    records = event["Records"]
    first = next(i for i, record in enumerate(records) if record["dynamodb"]["SequenceNumber"] in failed)
    return {"Records": records[first:]}


def _mail() -> list[EmailMessage]:
    backend = ses_backends[DEFAULT_ACCOUNT_ID][REGION]
    return [email.message_from_string(m.raw_data, policy=policy.default) for m in backend.sent_messages]  # type: ignore[misc]


def _mail_count() -> dict[str, int]:
    counts: dict[str, int] = {}
    for mail in _mail():
        counts[mail["To"]] = counts.get(mail["To"], 0) + 1
    return counts


def _pushes_per_device() -> list[int]:
    endpoints = sns_backends[DEFAULT_ACCOUNT_ID][REGION].platform_endpoints
    return sorted(len(endpoint.messages) for endpoint in endpoints.values())


def _write(users, login: str, body: dict[str, Any]) -> dict[str, Any]:
    response = call("api_write_new_message", user_id=users[login], body=body)
    assert response.status == 201, response.raw_body
    return response.json


def _register(users, login: str, token: str) -> None:
    response = call("api_register_device", user_id=users[login], body={"platform": "APNS", "token": token})
    assert response.status == 201, response.raw_body


@pytest.fixture
def reader(aws) -> StreamReader:
    return StreamReader()


# -- the stream: e-mail copies and pushes ---------------------------------------------------


def test_ses_failing_mid_batch_sends_each_copy_exactly_once(users, reader):
    # Given one batch with three new messages for three different recipients
    _write(users, "anna_kowalska", {"offer": {"id": "pl-offer-1001"}, "text": "Czy jest rozmiar M?"})
    _write(users, "anna_kowalska", {"offer": {"id": "pl-offer-2001"}, "text": "Czy aparat ma ładowarkę?"})
    _write(users, "petra_svobodova", {"order": {"id": "order-petra-1"}, "text": "Kdy mi to přijde?"})
    event = batch(reader.read())
    # When SES fails on the second e-mail of the batch, and the event source retries from there
    with failing("ses.SendRawEmail", 2) as ses:
        first = _deliver(event)
        retry = _deliver(_from_first_failure(event, first))
    # Then exactly that record failed, and after the retry each recipient has exactly one copy
    assert ses.failed == [2]
    assert len(_failed(first)) == 1
    assert _failed(retry) == []
    assert _mail_count() == {SELLER_MAIL: 2, JAN_MAIL: 1}  # rowery-kraków got anna's and petra's


def test_sns_failing_mid_batch_pushes_each_device_exactly_once(users, reader):
    # Given the seller has two phones, and one batch carries two questions for the seller
    _register(users, "rowery-kraków", "a" * 64)
    _register(users, "rowery-kraków", "b" * 64)
    _write(users, "anna_kowalska", {"offer": {"id": "pl-offer-1001"}, "text": "Czy jest rozmiar M?"})
    _write(users, "petra_svobodova", {"order": {"id": "order-petra-1"}, "text": "Kdy mi to přijde?"})
    event = batch(reader.read())
    # When SNS fails on the third push (the second message's first phone), and the tail is retried
    with failing("sns.Publish", 3) as sns:
        first = _deliver(event)
        retry = _deliver(_from_first_failure(event, first))
    # Then each phone got each message once, and each message one e-mail copy
    assert sns.failed == [3]
    assert len(_failed(first)) == 1 and _failed(retry) == []
    assert _pushes_per_device() == [2, 2]
    assert _mail_count() == {SELLER_MAIL: 2}


def test_the_translation_provider_failing_mid_batch_fills_in_on_retry(users, reader, monkeypatch):
    # Given one batch with two Czech messages for petra, who reads English
    first_message = _write(
        users,
        "rowery-kraków",
        {"recipient": {"login": "petra_svobodova"}, "order": {"id": "order-petra-1"}, "text": CZECH},
    )
    second_message = _write(users, "rowery-kraków", {"recipient": {"login": "petra_svobodova"}, "text": CZECH_AGAIN})
    event = batch(reader.read())
    original = DevTranslator.translate
    calls: list[str] = []

    def second_call_fails(self: DevTranslator, text: str, source: str, target: str) -> str:
        calls.append(text)
        if len(calls) == 2:
            raise ProviderUnavailable("the provider timed out")
        return original(self, text, source, target)

    monkeypatch.setattr(DevTranslator, "translate", second_call_fails)
    # When the provider fails on the second message, and the tail is retried
    first = _deliver(event)
    retry = _deliver(_from_first_failure(event, first))
    # Then both messages end up translated for petra, and she got one e-mail for each
    assert len(_failed(first)) == 1 and _failed(retry) == []
    for message in (first_message, second_message):
        seen = call("api_get_message", user_id=users["petra_svobodova"], path={"messageId": message["id"]}).json
        assert seen["translation"]["targetLanguage"] == "en", message["text"]
    assert _mail_count() == {PETRA_MAIL: 2}


def test_a_reordered_batch_notifies_each_message_once(users, reader):
    # Given two questions for the seller, the stream's records delivered newest first
    _register(users, "rowery-kraków", "a" * 64)
    _write(users, "anna_kowalska", {"offer": {"id": "pl-offer-1001"}, "text": "Pierwsze pytanie"})
    _write(users, "anna_kowalska", {"offer": {"id": "pl-offer-1001"}, "text": "Drugie pytanie"})
    event = batch(reader.read())
    reordered = {"Records": list(reversed(event["Records"]))}
    # When the reordered batch is processed, and then the batch again in its original order
    assert _deliver(reordered) == {"batchItemFailures": []}
    assert _deliver(event) == {"batchItemFailures": []}
    # Then each message made one e-mail and one push, whatever the order
    texts = [mail.get_body(("plain",)).get_content() for mail in _mail()]
    assert sum("Pierwsze pytanie" in text for text in texts) == 1
    assert sum("Drugie pytanie" in text for text in texts) == 1
    assert _pushes_per_device() == [2]


def test_a_timeout_in_the_middle_of_sending_the_email_loses_and_doubles_nothing(users, reader):
    # Given the seller has a phone and anna asked a question
    _register(users, "rowery-kraków", "a" * 64)
    _write(users, "anna_kowalska", {"offer": {"id": "pl-offer-1001"}, "text": "Czy jest rozmiar M?"})
    event = batch(reader.read())
    # When the invocation reaches its deadline while SES is sending (the runtime ends it there;
    # the send it had claimed stays claimed until that deadline)
    with failing("ses.SendRawEmail", 1, raises=LambdaTimeout) as ses, pytest.raises(LambdaTimeout):
        _deliver(event, _Context(remaining_ms=CLAIM_MS))
    ended = time.monotonic()
    assert ses.failed == [1]
    # And the event source retries at once: the interrupted send is still claimed, so the record
    # fails again (the push, which never started, goes out)
    assert len(_failed(_deliver(event))) == 1
    assert _mail() == []
    # And once the dead invocation's claim has expired, the retry sends the e-mail
    time.sleep(max(0.0, ended + CLAIM_MS / 1000 - time.monotonic()) + 0.05)
    assert _deliver(event) == {"batchItemFailures": []}
    # Then one e-mail and one push, nothing lost and nothing twice
    assert _mail_count() == {SELLER_MAIL: 1}
    assert _pushes_per_device() == [1]


# How long an interrupted invocation's claim on a send lasts: its remaining time when it claimed.
CLAIM_MS = 2000


class _Context(LambdaContext):
    """A Lambda context that always has ``remaining_ms`` left (read when a send is claimed)."""

    def __init__(self, remaining_ms: int) -> None:
        super().__init__()
        self._remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self) -> int:
        return self._remaining_ms


# -- inbound mail ---------------------------------------------------------------------------


@pytest.fixture
def reply_address(users, reader) -> tuple[str, str]:
    """Given anna asked the seller a question and the seller got its e-mail copy: the thread and
    the copy's signed Reply-To address."""
    question = _write(users, "anna_kowalska", {"offer": {"id": "pl-offer-1001"}, "text": "Czy jest M?"})
    assert _deliver(batch(reader.read())) == {"batchItemFailures": []}
    [copy] = _mail()
    return question["thread"]["id"], copy["Reply-To"].addresses[0].addr_spec


def _seller_reply(to: str, text: str, attachments: tuple[tuple[str, bytes, str], ...] = ()) -> bytes:
    reply = EmailMessage()
    reply["From"] = f"Sklep <{SELLER_MAIL}>"
    reply["To"] = to
    reply["Subject"] = "Re: pytanie"
    reply["Message-ID"] = make_msgid(domain="mail.example.com")
    reply.set_content(text)
    for name, content, mime in attachments:
        maintype, subtype = mime.split("/")
        reply.add_attachment(content, maintype=maintype, subtype=subtype, filename=name)
    return reply.as_bytes()


def _ses_event(*mails: tuple[str, bytes], to: str) -> dict[str, Any]:
    """SES's invocation for ``mails`` (id, raw), each stored in S3 first as the receipt rule does."""
    s3 = boto3.client("s3", region_name=REGION)
    records = []
    for mail_id, raw in mails:
        s3.put_object(Bucket=INBOUND_BUCKET, Key=f"inbound/{mail_id}", Body=raw)
        record = load_event("ses_inbound_mail")["Records"][0]
        record["ses"]["mail"]["messageId"] = mail_id
        record["ses"]["mail"]["destination"] = record["ses"]["receipt"]["recipients"] = [to]
        records.append(record)
    return {"Records": records}


def _receive(event: dict[str, Any]) -> dict[str, Any]:
    from functions.inbound_mail.handler import lambda_handler

    return lambda_handler(event, LambdaContext())


def _thread_texts(users, thread_id: str) -> list[str]:
    page = call("api_list_messages", user_id=users["anna_kowalska"], path={"threadId": thread_id}).json
    return [message["text"] for message in page["messages"]]


def test_s3_failing_mid_batch_delivers_each_mail_once(users, reply_address):
    thread_id, to = reply_address
    # Given SES hands over two replies in one invocation
    event = _ses_event(
        (uuid.uuid4().hex, _seller_reply(to, "Tak, mamy M.")),
        (uuid.uuid4().hex, _seller_reply(to, "I jeszcze L.")),
        to=to,
    )
    # When reading the second raw mail from S3 fails, the invocation fails and SES retries it
    with failing("s3.GetObject", 2) as s3, pytest.raises(Exception, match="Could not connect"):
        _receive(event)
    decisions = _receive(event)["decisions"]
    # Then both replies are in the thread, each once
    assert s3.failed == [2]
    assert [d["outcome"] for d in decisions] == ["DELIVERED", "DELIVERED"]
    texts = _thread_texts(users, thread_id)
    assert texts.count("Tak, mamy M.") == 1 and texts.count("I jeszcze L.") == 1


def test_s3_failing_while_storing_the_second_attachment_delivers_one_whole_message(users, reply_address):
    thread_id, to = reply_address
    files = allowed_files()
    # Given a reply with two attachments
    event = _ses_event(
        (
            uuid.uuid4().hex,
            _seller_reply(
                to,
                "Faktura i zdjęcie w załączniku.",
                (("faktura.pdf", files["invoice.pdf"][0], "application/pdf"), ("rower.png", *files["photo.png"])),
            ),
        ),
        to=to,
    )
    # When storing the second file in S3 fails, and SES retries the invocation
    with failing("s3.PutObject", 2), pytest.raises(Exception, match="Could not connect"):
        _receive(event)
    assert _receive(event)["decisions"][0]["outcome"] == "DELIVERED"
    # Then the thread has the reply once, with both files
    messages = call("api_list_messages", user_id=users["anna_kowalska"], path={"threadId": thread_id}).json["messages"]
    replies = [m for m in messages if m["text"] == "Faktura i zdjęcie w załączniku."]
    assert len(replies) == 1
    assert sorted(a["fileName"] for a in replies[0]["attachments"]) == ["faktura.pdf", "rower.png"]


def test_a_timeout_after_storing_a_mail_does_not_store_it_twice(users, reply_address, monkeypatch):
    from message_center.data.inbound_mail_repository import InboundMailRepository

    thread_id, to = reply_address
    mail_id = uuid.uuid4().hex
    event = _ses_event((mail_id, _seller_reply(to, "Wysłane dziś.")), to=to)
    original = InboundMailRepository.record

    def deadline_while_recording(self: InboundMailRepository, *args: Any, **kwargs: Any) -> Any:
        monkeypatch.setattr(InboundMailRepository, "record", original)
        raise LambdaTimeout("the invocation ended after the message was stored")

    monkeypatch.setattr(InboundMailRepository, "record", deadline_while_recording)
    # When the invocation ends after the message is stored but before the outcome is recorded
    with pytest.raises(LambdaTimeout):
        _receive(event)
    # And SES retries it
    assert _receive(event)["decisions"] == [{"sesMessageId": mail_id, "outcome": "DELIVERED"}]
    # Then the reply is in the thread once, and its outcome is recorded
    assert _thread_texts(users, thread_id).count("Wysłane dziś.") == 1
    assert InboundMailRepository().outcome(mail_id)[0] == "DELIVERED"
