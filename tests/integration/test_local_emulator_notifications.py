"""The local runtime's notification resources in the embedded emulator, and the outbox reading
what SES sent and SNS published there through ``/moto-api/data.json``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from local_runtime import emulator
from local_runtime.outbox import Outbox

REGION = emulator.DEFAULT_REGION


@pytest.fixture(scope="module")
def endpoint_url() -> Iterator[str]:
    aws = emulator.AwsEmulator(port=0)
    aws.start()
    try:
        yield aws.endpoint_url
    finally:
        aws.stop()


@pytest.fixture(scope="module")
def resources(endpoint_url: str) -> emulator.Resources:
    return emulator.provision(endpoint_url, REGION, "MessageCenter")


def _client(endpoint_url: str, service: str) -> Any:
    return emulator.client(service, endpoint_url, REGION)


def test_provision_creates_the_notification_resources(endpoint_url, resources):
    # The idempotency table: Powertools' key and TTL attribute, on demand
    dynamodb = _client(endpoint_url, "dynamodb")
    table = dynamodb.describe_table(TableName=resources.idempotency_table_name)["Table"]
    assert resources.idempotency_table_name == "MessageCenterIdempotency"
    assert table["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    ttl = dynamodb.describe_time_to_live(TableName=resources.idempotency_table_name)
    assert ttl["TimeToLiveDescription"] == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expiration"}
    # The relay domain is verified in SES
    ses = _client(endpoint_url, "ses")
    attributes = ses.get_identity_verification_attributes(Identities=[resources.relay_domain])
    assert attributes["VerificationAttributes"][resources.relay_domain]["VerificationStatus"] == "Success"
    # The reply-token key: 64 random URL-safe characters
    key = _client(endpoint_url, "secretsmanager").get_secret_value(SecretId=resources.mail_token_secret_arn)
    assert len(key["SecretString"]) == 64
    assert key["Name"] == "message-center/mail-token-key"
    # The push platform applications
    assert resources.push_apns_application_arn.endswith(":app/APNS_SANDBOX/message-center-apns")
    assert resources.push_fcm_application_arn.endswith(":app/GCM/message-center-fcm")
    # and a later lookup by name finds the same resources
    assert emulator.find_resources(endpoint_url, REGION) == resources


def test_mail_from_the_relay_domain_is_accepted_and_from_elsewhere_refused(endpoint_url, resources):
    ses = _client(endpoint_url, "ses")
    ses.send_email(
        Source=f"u.someone@{resources.relay_domain}",
        Destination={"ToAddresses": ["buyer@example.com"]},
        Message={"Subject": {"Data": "s"}, "Body": {"Text": {"Data": "t"}}},
    )
    with pytest.raises(ClientError, match="MessageRejected"):
        ses.send_raw_email(RawMessage={"Data": b"From: someone@example.com\r\nTo: b@example.com\r\n\r\nx"})


def test_the_outbox_shows_what_ses_sent_and_sns_published(endpoint_url, resources, tmp_path: Path):
    # Given an outbox reading the emulator, and an e-mail and a push sent the way the stream function would
    outbox = Outbox(lambda: emulator.moto_data(endpoint_url), tmp_path / "outbox")
    outbox.sync()
    already = len(outbox.emails())
    message = EmailMessage()
    message["From"] = f"anna_kowalska via Message Center <u.3651146f@{resources.relay_domain}>"
    message["To"] = "sklep@dom-i-ogrod.example.com"
    message["Reply-To"] = f"t.signed-token@{resources.relay_domain}"
    message["Subject"] = "Nowa wiadomość od anna_kowalska"
    message["Message-ID"] = f"<m1@{resources.relay_domain}>"
    message.set_content("Czy zestaw jest dostępny?\n")
    _client(endpoint_url, "sesv2").send_email(
        FromEmailAddress=message["From"],
        Destination={"ToAddresses": ["sklep@dom-i-ogrod.example.com"]},
        Content={"Raw": {"Data": bytes(message)}},
    )
    sns = _client(endpoint_url, "sns")
    device = sns.create_platform_endpoint(
        PlatformApplicationArn=resources.push_apns_application_arn, Token="a1b2c3", CustomUserData="seller-id"
    )
    payload = {"aps": {"alert": {"title": "anna_kowalska", "body": "Czy zestaw..."}, "badge": 1}}
    sns.publish(
        TargetArn=device["EndpointArn"],
        MessageStructure="json",
        Message=json.dumps({"default": "New message", "APNS_SANDBOX": json.dumps(payload)}),
    )

    # When the outbox syncs
    outbox.sync()

    # Then the e-mail is listed with its headers and written as an .eml file, byte for byte
    email = outbox.emails()[already]
    assert email["subject"] == "Nowa wiadomość od anna_kowalska"
    assert email["replyTo"] == f"t.signed-token@{resources.relay_domain}"
    assert email["operation"] == "SendRawEmail"
    assert email["envelope"]["to"] == ["sklep@dom-i-ogrod.example.com"]
    assert Path(email["file"]).read_bytes() == bytes(message)
    # and the push with the message an iPhone gets
    (push,) = outbox.pushes()
    assert push["endpointArn"] == device["EndpointArn"]
    assert push["platform"] == "APNS_SANDBOX"
    assert push["message"] == payload
    assert push["customUserData"] == "seller-id"


def test_the_in_process_reader_shows_what_data_json_shows_and_each_message_once(endpoint_url, resources):
    # Given the runtime's reader, having read everything sent so far
    read = emulator.SentMessages()
    read()
    # When an e-mail is sent and a push published
    ses = _client(endpoint_url, "ses")
    raw = f"From: u.1@{resources.relay_domain}\r\nTo: kupujacy@example.com\r\nSubject: Odpowiedź\r\n\r\nTak\r\n"
    ses.send_raw_email(RawMessage={"Data": raw.encode()})
    sns = _client(endpoint_url, "sns")
    device = sns.create_platform_endpoint(PlatformApplicationArn=resources.push_fcm_application_arn, Token="f" * 40)
    sns.publish(TargetArn=device["EndpointArn"], Message="Nowa wiadomość")
    new = read()

    # Then the next read holds exactly those two, with the fields data.json reports for them
    (email,) = new["ses"]["RawMessage"]
    assert new["ses"]["Message"] == new["ses"]["TemplateMessage"] == []
    data = emulator.moto_data(endpoint_url)
    (as_in_data_json,) = [item for item in data["ses"]["RawMessage"] if item["id"] == email["id"]]
    assert email == {field: as_in_data_json[field] for field in email}
    assert "Subject: Odpowiedź" in email["raw_data"]
    (endpoint,) = new["sns"]["PlatformEndpoint"]
    assert endpoint["arn"] == device["EndpointArn"]
    assert list(endpoint["messages"].values()) == ["Nowa wiadomość"]
    # and a read after that finds nothing new
    assert read() == {"ses": {"RawMessage": [], "Message": [], "TemplateMessage": []}, "sns": {"PlatformEndpoint": []}}
