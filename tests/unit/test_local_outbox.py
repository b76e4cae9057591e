"""The local outbox: the emulator's data.json → e-mails and pushes, .eml files, /_local/ endpoints."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any

import pytest

from local_runtime.authorizer import AuthorizerContext, UnauthorizedError
from local_runtime.gateway import HttpRequest, LocalGateway
from local_runtime.outbox import (
    LocalEndpoints,
    Outbox,
    platform_message,
    push_messages,
    sent_emails,
    summarize_email,
)

APNS_ENDPOINT = (
    "arn:aws:sns:eu-central-1:123456789012:endpoint/APNS_SANDBOX/message-center-apns/"
    "7dd71c9a-1d5e-45ae-86fd-7ca4552a3d2f"
)
FCM_ENDPOINT = (
    "arn:aws:sns:eu-central-1:123456789012:endpoint/GCM/message-center-fcm/0b7c1f8e-5d2a-4c61-9f0e-3a8d2b1c4e5f"
)
APNS_PAYLOAD = {"aps": {"alert": {"title": "anna_kowalska", "body": "Czy zestaw jest dostępny?"}, "badge": 1}}
FCM_PAYLOAD = {"notification": {"title": "anna_kowalska"}, "data": {"threadId": "T1", "badge": "1"}}


def _copy_email() -> bytes:
    """An e-mail copy as the stream function would send it: masked From, signed Reply-To, threading."""
    message = EmailMessage()
    message["From"] = "anna_kowalska via Message Center <u.3651146f@relay.message-center.test>"
    message["To"] = "sklep@dom-i-ogrod.example.com"
    message["Reply-To"] = "t.01M8B310.e7f7a842.sig@relay.message-center.test"
    message["Subject"] = "Pytanie o ofertę: Zestaw mebli ogrodowych"
    message["Message-ID"] = "<01M8B310S6SG5C7ECS6ZETN5BW.e7f7a842@relay.message-center.test>"
    message["In-Reply-To"] = "<01M8B310S6SG5C7ECS6ZETN5BV@relay.message-center.test>"
    message["References"] = "<01M8B310S6SG5C7ECS6ZETN5BV@relay.message-center.test>"
    message["Date"] = format_datetime(datetime(2026, 11, 26, 4, 50, 7, tzinfo=UTC))
    message["Auto-Submitted"] = "auto-generated"
    message["List-Unsubscribe"] = "<http://127.0.0.1:8000/settings>"
    message.set_content("Czy zestaw jest dostępny od ręki?\n", charset="utf-8")
    message.add_alternative("<p>Czy zestaw jest dostępny od ręki?</p>", subtype="html", charset="utf-8")
    message["Content-Language"] = "pl"  # last: setting the content moves Content-* headers
    return bytes(message)


COPY_EMAIL = _copy_email()

# The parts of GET /moto-api/data.json (moto 5.2) the outbox reads, captured from the emulator after
# SendRawEmail, SendEmail and two publishes to platform endpoints; other services are left out.
DATA_JSON: dict[str, Any] = {
    "dynamodb": {"Table": [{"name": "MessageCenter"}]},
    "ses": {
        "BulkTemplateMessage": [],
        "EmailIdentity": [{"email_identity": "relay.message-center.test", "identity_type": "DOMAIN"}],
        "Message": [
            {
                "body": "<p>h</p>",
                "destinations": {"ToAddresses": ["c@example.com"]},
                "id": "nbpupwktdqwxguca-ywrrtnmg-ynhf-elsc-phaq-halzadxqdywd-bcwpgj",
                "source": "a.x@relay.message-center.test",
                "subject": "s",
            }
        ],
        "RawMessage": [
            {
                # moto adds the header recipients to the envelope ones
                "destinations": ["sklep@dom-i-ogrod.example.com", "sklep@dom-i-ogrod.example.com"],
                "id": "cjjomydorhabngqb-yewjabfr-eggc-fslq-grkc-acbmafygnvqi-tkomqn",
                "raw_data": COPY_EMAIL.decode("utf-8"),
                "source": "u.3651146f@relay.message-center.test",
            }
        ],
        "TemplateMessage": [],
    },
    "sns": {
        "PlatformApplication": [
            {
                "arn": "arn:aws:sns:eu-central-1:123456789012:app/APNS_SANDBOX/message-center-apns",
                "name": "message-center-apns",
                "platform": "APNS_SANDBOX",
            }
        ],
        "PlatformEndpoint": [
            {
                "arn": APNS_ENDPOINT,
                "attributes": {"Token": "abcd", "Enabled": True},
                "custom_user_data": "e7f7a842",
                "enabled": True,
                "messages": {
                    "52acaddd-e792-4934-9a33-e8894f6fdb01": json.dumps(
                        {"default": "New message", "APNS_SANDBOX": json.dumps(APNS_PAYLOAD)}
                    )
                },
                "region": "eu-central-1",
                "token": "abcd",
            },
            {
                "arn": FCM_ENDPOINT,
                "attributes": {"Token": "fcm-token", "Enabled": False},
                "custom_user_data": None,
                "enabled": False,
                "messages": {
                    "7f3e2a10-0c4b-4d7e-8a55-1b2c3d4e5f60": json.dumps(
                        {"default": "New message", "GCM": json.dumps(FCM_PAYLOAD)}
                    )
                },
                "region": "eu-central-1",
                "token": "fcm-token",
            },
            {"arn": APNS_ENDPOINT.replace("7dd7", "0000"), "messages": {}, "token": "idle"},
        ],
        "Topic": [],
    },
}


# --- data.json parsing ---------------------------------------------------------------------------


def test_sent_emails_are_read_from_data_json():
    emails = sent_emails(DATA_JSON)
    assert [(e.operation, e.source) for e in emails] == [
        ("SendRawEmail", "u.3651146f@relay.message-center.test"),
        ("SendEmail", "a.x@relay.message-center.test"),
    ]
    raw = emails[0]
    assert raw.raw == COPY_EMAIL
    assert raw.destinations == ("sklep@dom-i-ogrod.example.com",)  # moto's duplicate dropped
    rebuilt = summarize_email(emails[1].raw)
    assert (rebuilt["from"], rebuilt["to"], rebuilt["subject"]) == (
        "a.x@relay.message-center.test",
        "c@example.com",
        "s",
    )
    assert rebuilt["parts"] == ["text/html"]


def test_an_email_summary_shows_the_headers_a_developer_checks():
    summary = summarize_email(COPY_EMAIL)
    assert summary["from"] == "anna_kowalska via Message Center <u.3651146f@relay.message-center.test>"
    assert summary["replyTo"] == "t.01M8B310.e7f7a842.sig@relay.message-center.test"
    assert summary["subject"] == "Pytanie o ofertę: Zestaw mebli ogrodowych"  # RFC 2047 decoded
    assert summary["messageId"] == "<01M8B310S6SG5C7ECS6ZETN5BW.e7f7a842@relay.message-center.test>"
    assert summary["inReplyTo"] == summary["references"]
    assert summary["autoSubmitted"] == "auto-generated"
    assert summary["listUnsubscribe"] == "<http://127.0.0.1:8000/settings>"
    assert summary["contentLanguage"] == "pl"
    assert summary["date"] == "Thu, 26 Nov 2026 04:50:07 +0000"
    assert summary["parts"] == ["text/plain", "text/html"]
    assert summary["text"] == "Czy zestaw jest dostępny od ręki?\n"


def test_pushes_are_read_from_data_json_with_each_platforms_message():
    pushes = push_messages(DATA_JSON)
    assert [(p.platform, p.application, p.token, p.enabled) for p in pushes] == [
        ("APNS_SANDBOX", "message-center-apns", "abcd", True),
        ("GCM", "message-center-fcm", "fcm-token", False),
    ]
    assert platform_message(pushes[0].published, "APNS_SANDBOX") == APNS_PAYLOAD
    assert platform_message(pushes[1].published, "GCM") == FCM_PAYLOAD


@pytest.mark.parametrize(
    ("published", "platform", "expected"),
    [
        ('{"default": "plain text"}', "GCM", "plain text"),  # no key for the platform: default
        ('{"default": "x", "APNS": "{\\"aps\\": {}}"}', "APNS", {"aps": {}}),
        ("just a message", "GCM", "just a message"),  # published without MessageStructure=json
        ('{"other": 1}', "GCM", '{"other": 1}'),
    ],
)
def test_platform_message_follows_sns_message_structure(published, platform, expected):
    assert platform_message(published, platform) == expected


def test_missing_services_mean_an_empty_outbox():
    assert sent_emails({}) == []
    assert push_messages({"sns": {}}) == []


# --- the outbox ---------------------------------------------------------------------------------


class _Emulator:
    """data.json that grows as messages are sent."""

    def __init__(self) -> None:
        self.data: dict[str, Any] = {"ses": {"RawMessage": []}, "sns": {"PlatformEndpoint": []}}
        self.fetches = 0

    def __call__(self) -> dict[str, Any]:
        self.fetches += 1
        return copy.deepcopy(self.data)

    def send(self, message_id: str, raw: bytes = COPY_EMAIL) -> None:
        self.data["ses"]["RawMessage"].append(
            {
                "id": message_id,
                "source": "u@relay.message-center.test",
                "destinations": [],
                "raw_data": raw.decode(),
            }
        )


def test_the_outbox_numbers_emails_once_and_writes_eml_files(tmp_path):
    # Given an outbox folder left over from an earlier run
    folder = tmp_path / "outbox"
    folder.mkdir()
    (folder / "0001.eml").write_text("old")
    (folder / "notes.txt").write_text("mine")
    emulator = _Emulator()
    outbox = Outbox(emulator, folder, clock=lambda: datetime(2026, 1, 1, tzinfo=UTC))
    outbox.clear_folder()
    assert sorted(path.name for path in folder.iterdir()) == ["notes.txt"]

    # When e-mails are sent between syncs
    emulator.send("first")
    assert outbox.sync() == 1
    emulator.send("second", COPY_EMAIL.replace(b"Pytanie", b"Odpowiedz"))
    assert outbox.sync() == 1
    assert outbox.sync() == 0

    # Then each is numbered once in the order seen, and written as NNNN.eml
    emails = outbox.emails(link_prefix="http://127.0.0.1:8000")
    assert [(e["index"], e["sesMessageId"]) for e in emails] == [(1, "first"), (2, "second")]
    assert emails[1]["subject"].startswith("Odpowiedz")
    assert emails[0]["eml"] == "http://127.0.0.1:8000/_local/outbox/1.eml"
    assert emails[0]["seenAt"] == "2026-01-01T00:00:00.000Z"
    assert (folder / "0001.eml").read_bytes() == COPY_EMAIL
    assert emails[0]["file"] == str(folder / "0001.eml")
    assert outbox.raw_email(2) == (folder / "0002.eml").read_bytes()
    assert outbox.raw_email(3) is None


def test_an_outbox_without_a_folder_writes_nothing():
    emulator = _Emulator()
    emulator.send("only")
    outbox = Outbox(emulator)
    outbox.clear_folder()
    outbox.sync()
    assert outbox.emails()[0]["file"] is None


def test_pushes_are_listed_with_the_platform_message():
    outbox = Outbox(lambda: DATA_JSON)
    outbox.sync()
    pushes = outbox.pushes()
    assert [(p["index"], p["platform"], p["message"]) for p in pushes] == [
        (1, "APNS_SANDBOX", APNS_PAYLOAD),
        (2, "GCM", FCM_PAYLOAD),
    ]
    assert pushes[0]["endpointArn"] == APNS_ENDPOINT
    assert pushes[0]["customUserData"] == "e7f7a842"
    assert pushes[1]["endpointEnabled"] is False


# --- /_local/ endpoints -------------------------------------------------------------------------


def _get(target: str, method: str = "GET") -> HttpRequest:
    return HttpRequest(method=method, target=target, headers=[("Host", "127.0.0.1:8000")])


@pytest.fixture
def endpoints() -> LocalEndpoints:
    letters = [{"DDBStreamBatchInfo": {"startSequenceNumber": "7"}, "records": []}]
    return LocalEndpoints(Outbox(lambda: DATA_JSON), dead_letters=lambda: letters)


def test_local_endpoints_list_the_outbox_and_serve_raw_messages(endpoints):
    listed = endpoints.handle(_get("/_local/outbox"))
    assert listed.status == 200
    assert ("content-type", "application/json; charset=utf-8") in listed.headers
    emails = json.loads(listed.body)
    assert [e["index"] for e in emails] == [1, 2]
    assert emails[0]["eml"] == "http://127.0.0.1:8000/_local/outbox/1.eml"

    raw = endpoints.handle(_get("/_local/outbox/1.eml"))
    assert raw.status == 200
    assert ("content-type", "message/rfc822") in raw.headers
    assert raw.body == COPY_EMAIL
    assert endpoints.handle(_get("/_local/outbox/9.eml")).status == 404


def test_local_endpoints_serve_pushes_dead_letters_and_an_index(endpoints):
    assert len(json.loads(endpoints.handle(_get("/_local/push")).body)) == 2
    assert json.loads(endpoints.handle(_get("/_local/dead-letters")).body)[0]["DDBStreamBatchInfo"] == {
        "startSequenceNumber": "7"
    }
    assert json.loads(endpoints.handle(_get("/_local/")).body)["outbox"] == "/_local/outbox"
    assert endpoints.handle(_get("/_local/unknown")).status == 404
    refused = endpoints.handle(_get("/_local/outbox", method="DELETE"))
    assert refused.status == 405


def test_an_unreachable_emulator_is_a_bad_gateway():
    def broken() -> dict[str, Any]:
        raise ConnectionError("refused")

    response = LocalEndpoints(Outbox(broken)).handle(_get("/_local/outbox"))
    assert response.status == 502


class _RefusingAuthorizer:
    def authorize(self, authorization: str | None) -> AuthorizerContext:
        raise UnauthorizedError(None)


def test_the_gateway_hands_local_paths_to_the_local_endpoints_before_routing(endpoints):
    # Given a gateway whose API handler is not loaded yet, with the developer endpoints
    gateway = LocalGateway(None, _RefusingAuthorizer(), local_routes=endpoints.handle)

    # Then /_local/ paths never reach the authorizer or the API routes
    assert gateway.handle(_get("/_local/push")).status == 200
    assert gateway.handle(_get("/_local")).status == 200
    # and other paths are API Gateway's as before: no route, or no token
    assert gateway.handle(_get("/_localx")).status == 404
    assert gateway.handle(_get("/messaging/threads")).status == 401
    # and a public route before the handler is loaded is unavailable
    assert gateway.handle(_get("/openapi.json")).status == 503
