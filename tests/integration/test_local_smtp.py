"""The local SMTP server receives mail for the relay domain like SES: the raw message in the
inbound bucket, then the inbound mail handler invoked asynchronously with an SES receipt event."""

from __future__ import annotations

import os
import smtplib
import threading
from collections.abc import Iterator
from email.message import EmailMessage
from typing import Any

import pytest

from local_runtime import emulator
from local_runtime.smtp_server import LocalSmtpServer

REGION = emulator.DEFAULT_REGION
BUCKET = emulator.DEFAULT_INBOUND_MAIL_BUCKET
RELAY = emulator.RELAY_DOMAIN
WAIT_SECONDS = 5.0


class _Handler:
    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.failures_left = 0
        self.environment: dict[str, str] = {}
        self.called = threading.Event()

    def __call__(self, event: dict[str, Any], context: Any) -> None:
        self.environment = dict(os.environ)
        self.events.append(event)
        self.called.set()
        if self.failures_left:
            self.failures_left -= 1
            raise RuntimeError("boom")


@pytest.fixture(scope="module")
def aws() -> Iterator[emulator.AwsEmulator]:
    server = emulator.AwsEmulator()
    server.start()
    emulator.provision_inbound_mail_bucket(server.endpoint_url, REGION, BUCKET)
    yield server
    server.stop()


@pytest.fixture
def handler() -> _Handler:
    return _Handler()


@pytest.fixture
def smtp(aws: emulator.AwsEmulator, handler: _Handler) -> Iterator[LocalSmtpServer]:
    synced = []
    server = LocalSmtpServer(
        aws.endpoint_url,
        REGION,
        BUCKET,
        RELAY,
        handler,
        port=0,
        retry_delays=(0.05, 0.05),
        after_delivery=lambda: synced.append(1),
    )
    server.start()
    server.synced = synced  # type: ignore[attr-defined]
    yield server
    server.stop()


def _mail(to: str, **headers: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = "Anna <anna@example.com>"
    message["To"] = to
    message["Subject"] = "Re: Zażółć"
    message["Message-ID"] = "<reply-1@example.com>"
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content("Thanks!\n\n> quoted\n")
    return message


def _send(server: LocalSmtpServer, message: EmailMessage, recipients: list[str]) -> dict[str, tuple[int, bytes]]:
    with smtplib.SMTP("127.0.0.1", server.port, timeout=5) as client:
        return client.send_message(message, from_addr="anna@example.com", to_addrs=recipients)


def test_mail_to_the_relay_domain_is_stored_and_handed_to_the_handler(aws, smtp, handler):
    to = f"t.thread-1.sig@{RELAY}"
    assert _send(smtp, _mail(to), [to]) == {}

    assert smtp.wait_until_idle(WAIT_SECONDS)
    (event,) = handler.events
    (record,) = event["Records"]
    mail, receipt = record["ses"]["mail"], record["ses"]["receipt"]
    (delivery,) = smtp.deliveries
    assert (delivery.delivered, delivery.attempts) == (True, 1)
    assert delivery.key == f"inbound/{mail['messageId']}"
    assert len(mail["messageId"]) == 40
    assert mail["source"] == "anna@example.com"
    assert mail["destination"] == receipt["recipients"] == [to]
    assert {receipt[f"{name}Verdict"]["status"] for name in ("spam", "virus", "spf", "dkim", "dmarc")} == {"PASS"}
    assert "dmarcPolicy" not in receipt
    assert receipt["action"]["type"] == "Lambda"
    assert mail["commonHeaders"]["subject"] == "Re: Zażółć"
    assert mail["commonHeaders"]["messageId"] == "<reply-1@example.com>"
    stored = emulator.s3_client(aws.endpoint_url, REGION).get_object(Bucket=BUCKET, Key=delivery.key)["Body"].read()
    assert stored.startswith(b"Return-Path: <anna@example.com>\r\nReceived: from ")
    assert b"Thanks!" in stored
    assert smtp.synced == [1]  # the outbox is synced after the handler ran


def test_recipients_outside_the_relay_domain_are_refused(smtp, handler):
    with smtplib.SMTP("127.0.0.1", smtp.port, timeout=5) as client:
        client.ehlo()
        client.mail("anna@example.com")
        code, reply = client.rcpt("someone@example.com")
        assert code == 550
        assert RELAY.encode() in reply
        code, _ = client.rcpt(f"someone@sub.{RELAY}")
        assert code == 550
    with pytest.raises(smtplib.SMTPRecipientsRefused):
        _send(smtp, _mail("x@example.com"), ["x@example.com"])
    assert smtp.wait_until_idle(WAIT_SECONDS)
    assert handler.events == []


def test_only_relay_recipients_are_kept_when_some_are_refused(smtp, handler):
    good = f"u.seller@{RELAY}"
    refused = _send(smtp, _mail(good), [good, "x@example.com"])
    assert set(refused) == {"x@example.com"}
    assert smtp.wait_until_idle(WAIT_SECONDS)
    assert handler.events[0]["Records"][0]["ses"]["receipt"]["recipients"] == [good]


def test_x_local_verdicts_set_the_receipt_verdicts(smtp, handler):
    to = f"u.seller@{RELAY}"
    _send(smtp, _mail(to, X_Local_Verdicts="spam=FAIL, dkim=FAIL, dmarc=FAIL, dmarcPolicy=reject"), [to])
    assert smtp.wait_until_idle(WAIT_SECONDS)
    receipt = handler.events[0]["Records"][0]["ses"]["receipt"]
    assert receipt["spamVerdict"] == {"status": "FAIL"}
    assert receipt["virusVerdict"] == {"status": "PASS"}
    assert receipt["dkimVerdict"] == receipt["dmarcVerdict"] == {"status": "FAIL"}
    assert receipt["dmarcPolicy"] == "reject"


def test_an_unreadable_verdicts_header_is_refused(smtp, handler):
    to = f"u.seller@{RELAY}"
    with pytest.raises(smtplib.SMTPDataError) as refused:
        _send(smtp, _mail(to, X_Local_Verdicts="spam=MAYBE"), [to])
    assert refused.value.smtp_code == 554
    assert handler.events == []


def test_a_failing_handler_is_retried_twice(smtp, handler):
    handler.failures_left = 5
    to = f"u.seller@{RELAY}"
    _send(smtp, _mail(to), [to])
    assert smtp.wait_until_idle(WAIT_SECONDS)
    assert len(handler.events) == 3
    (delivery,) = smtp.deliveries
    assert (delivery.delivered, delivery.attempts, delivery.error) == (False, 3, "RuntimeError")


def test_messages_over_the_size_limit_are_refused(aws, handler):
    server = LocalSmtpServer(aws.endpoint_url, REGION, BUCKET, RELAY, handler, port=0, max_message_bytes=2000)
    server.start()
    try:
        to = f"u.seller@{RELAY}"
        message = _mail(to)
        message.set_content("x" * 5000)
        with pytest.raises((smtplib.SMTPDataError, smtplib.SMTPSenderRefused)) as refused:
            _send(server, message, [to])
        assert refused.value.smtp_code == 552
    finally:
        server.stop()
