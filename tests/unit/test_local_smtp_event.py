"""The local SMTP server's pure parts: X-Local-Verdicts parsing and the SES receipt event."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from local_runtime.smtp_server import (
    VERDICT_NAMES,
    VerdictHeaderError,
    Verdicts,
    parse_verdicts,
    received_header,
    ses_event,
    ses_message_id,
    stored_message,
    verdicts_requested,
)

ARN = "arn:aws:lambda:eu-central-1:123456789012:function:message-center-inbound-mail"
NOW = datetime(2025, 3, 4, 5, 6, 7, 891000, tzinfo=UTC)
RAW = (
    b"From: =?utf-8?q?Anna_Kowalska?= <anna@example.com>\r\n"
    b"To: Seller <t.abc@relay.message-center.test>, other@relay.message-center.test\r\n"
    b"Cc: cc@example.com\r\n"
    b"Subject: =?iso-8859-2?q?Za=BF=F3=B3=E6?= question\r\n"
    b"Date: Tue, 04 Mar 2025 06:06:00 +0100\r\n"
    b"Message-ID: <abc@example.com>\r\n"
    b"X-Long: first\r\n second\r\n"
    b"\r\n"
    b"Hello\r\n"
)


def _event(raw: bytes = RAW, verdicts: Verdicts | None = None) -> dict:
    stored = stored_message(
        raw,
        mail_from="anna@example.com",
        received=received_header(
            helo="client.example",
            peer_ip="127.0.0.1",
            message_id="m" * 40,
            recipient="t.abc@relay.message-center.test",
            region="eu-central-1",
            now=NOW,
        ),
    )
    return ses_event(
        stored,
        message_id="m" * 40,
        source="anna@example.com",
        destination=["t.abc@relay.message-center.test"],
        recipients=["t.abc@relay.message-center.test"],
        verdicts=verdicts or Verdicts(),
        function_arn=ARN,
        timestamp=NOW,
        processing_time_ms=12,
    )


def test_message_ids_look_like_ses_ones():
    ids = {ses_message_id() for _ in range(50)}
    assert len(ids) == 50
    assert all(len(value) == 40 and value.isalnum() and value == value.lower() for value in ids)


def test_without_a_header_every_verdict_passes():
    verdicts = parse_verdicts(None)
    assert dict(verdicts.statuses) == dict.fromkeys(VERDICT_NAMES, "PASS")
    assert verdicts.dmarc_policy is None


def test_the_header_sets_any_subset_case_insensitively():
    verdicts = parse_verdicts("spam=fail; SPF=Gray, dkimVerdict=PROCESSING_FAILED, dmarc=FAIL, dmarcPolicy=Reject")
    assert dict(verdicts.statuses) == {
        "spam": "FAIL",
        "virus": "PASS",
        "spf": "GRAY",
        "dkim": "PROCESSING_FAILED",
        "dmarc": "FAIL",
    }
    assert verdicts.dmarc_policy == "reject"


def test_several_headers_apply_in_order():
    assert parse_verdicts(["virus=FAIL", "virus=PASS, spf=FAIL"]).statuses["virus"] == "PASS"


@pytest.mark.parametrize("value", ["spam", "spam=", "spam=MAYBE", "ham=FAIL", "dmarcPolicy=strict"])
def test_an_unreadable_header_is_an_error(value):
    with pytest.raises(VerdictHeaderError):
        parse_verdicts(value)


def test_the_verdicts_header_is_read_from_the_raw_message():
    raw = b"Subject: x\r\nX-Local-Verdicts: spf=FAIL,\r\n dkim=FAIL\r\n\r\nX-Local-Verdicts: virus=FAIL\r\n"
    verdicts = verdicts_requested(raw)
    assert (verdicts.statuses["spf"], verdicts.statuses["dkim"], verdicts.statuses["virus"]) == (
        "FAIL",
        "FAIL",
        "PASS",
    )


def test_the_stored_message_starts_with_return_path_and_received():
    stored = stored_message(b"Subject: x\r\n\r\nbody\r\n", mail_from="a@example.com", received="from x")
    assert stored == b"Return-Path: <a@example.com>\r\nReceived: from x\r\nSubject: x\r\n\r\nbody\r\n"


def test_the_event_has_ses_shape():
    (record,) = _event()["Records"]
    assert (record["eventSource"], record["eventVersion"]) == ("aws:ses", "1.0")
    mail, receipt = record["ses"]["mail"], record["ses"]["receipt"]
    assert mail["timestamp"] == receipt["timestamp"] == "2025-03-04T05:06:07.891Z"
    assert mail["source"] == "anna@example.com"
    assert mail["messageId"] == "m" * 40
    assert mail["destination"] == ["t.abc@relay.message-center.test"]
    assert mail["headersTruncated"] is False
    names = [header["name"] for header in mail["headers"]]
    assert names[:3] == ["Return-Path", "Received", "From"]
    assert mail["headers"][0]["value"] == "<anna@example.com>"
    received = mail["headers"][1]["value"]
    assert received.startswith("from client.example (client.example [127.0.0.1]) by inbound-smtp.eu-central-1")
    assert received.endswith("for t.abc@relay.message-center.test; Tue, 04 Mar 2025 05:06:07 +0000 (UTC)")
    assert {"name": "X-Long", "value": "first second"} in mail["headers"]
    assert mail["commonHeaders"] == {
        "returnPath": "anna@example.com",
        "from": ["Anna Kowalska <anna@example.com>"],
        "date": "Tue, 04 Mar 2025 06:06:00 +0100",
        "to": ["Seller <t.abc@relay.message-center.test>", "other@relay.message-center.test"],
        "cc": ["cc@example.com"],
        "messageId": "<abc@example.com>",
        "subject": "Zażółć question",
    }
    assert receipt == {
        "timestamp": "2025-03-04T05:06:07.891Z",
        "processingTimeMillis": 12,
        "recipients": ["t.abc@relay.message-center.test"],
        "spamVerdict": {"status": "PASS"},
        "virusVerdict": {"status": "PASS"},
        "spfVerdict": {"status": "PASS"},
        "dkimVerdict": {"status": "PASS"},
        "dmarcVerdict": {"status": "PASS"},
        "action": {"type": "Lambda", "functionArn": ARN, "invocationType": "Event"},
    }


def test_failed_verdicts_and_the_dmarc_policy_reach_the_receipt():
    receipt = _event(verdicts=parse_verdicts("spam=FAIL, dmarc=FAIL, dmarcPolicy=reject"))["Records"][0]["ses"][
        "receipt"
    ]
    assert receipt["spamVerdict"] == {"status": "FAIL"}
    assert receipt["dmarcVerdict"] == {"status": "FAIL"}
    assert receipt["dmarcPolicy"] == "reject"


def test_a_message_without_headers_still_makes_an_event():
    common = _event(raw=b"\r\njust a body\r\n")["Records"][0]["ses"]["mail"]["commonHeaders"]
    assert common == {"returnPath": "anna@example.com", "from": []}


def test_hostile_headers_do_not_break_the_event():
    raw = b"From: \xff\xfe <<<@@@>>>\r\nSubject: =?bogus?x?zzz?=\r\nTo: ,,,\r\n\r\nx"
    mail = _event(raw=raw)["Records"][0]["ses"]["mail"]
    assert mail["commonHeaders"]["subject"]
    assert all(isinstance(header["value"], str) for header in mail["headers"])
