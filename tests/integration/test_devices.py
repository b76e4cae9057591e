"""/messaging/devices: registering devices for push notifications."""

from __future__ import annotations

import boto3
import pytest
from moto.core import DEFAULT_ACCOUNT_ID
from moto.sns.models import sns_backends

from tests.conftest import REGION
from tests.support.api import call
from tests.support.faults import answering

TOKEN = "740f4707bebcf74f9b7c25d48e3358945f6aa01da5ddb387462c7eaf61bb78ad"


def _endpoints() -> dict:
    return sns_backends[DEFAULT_ACCOUNT_ID][REGION].platform_endpoints


def test_register_list_and_remove_a_device(users):
    anna = users["anna_kowalska"]
    # When anna registers her phone
    created = call("api_register_device", user_id=anna, body={"platform": "APNS", "token": TOKEN})
    # Then it is listed, backed by an SNS endpoint for that token
    assert created.status == 201
    device = created.json
    assert device["platform"] == "APNS" and device["createdAt"].endswith("Z")
    assert call("api_list_devices", user_id=anna).json == {"devices": [device]}
    assert [e.token for e in _endpoints().values()] == [TOKEN]
    # When she registers the same token again: the same device, nothing new
    again = call("api_register_device", user_id=anna, body={"platform": "APNS", "token": TOKEN})
    assert again.status == 200 and again.json == device
    assert len(_endpoints()) == 1
    # When she removes it
    removed = call("api_delete_device", user_id=anna, path={"deviceId": device["id"]})
    assert removed.status == 204
    assert call("api_list_devices", user_id=anna).json == {"devices": []}
    assert _endpoints() == {}


def test_a_token_moving_to_another_account_stops_notifying_the_first(users):
    anna, petra = users["anna_kowalska"], users["petra_svobodova"]
    call("api_register_device", user_id=anna, body={"platform": "FCM", "token": "f" * 152})
    call("api_register_device", user_id=petra, body={"platform": "FCM", "token": "f" * 152})
    assert call("api_list_devices", user_id=anna).json == {"devices": []}
    assert len(call("api_list_devices", user_id=petra).json["devices"]) == 1


def test_a_disabled_endpoint_is_enabled_again_on_registration(users):
    anna = users["anna_kowalska"]
    call("api_register_device", user_id=anna, body={"platform": "APNS", "token": TOKEN})
    [arn] = list(_endpoints())
    sns = boto3.client("sns", region_name=REGION)
    sns.set_endpoint_attributes(EndpointArn=arn, Attributes={"Enabled": "false"})
    call("api_register_device", user_id=anna, body={"platform": "APNS", "token": TOKEN})
    assert sns.get_endpoint_attributes(EndpointArn=arn)["Attributes"]["Enabled"] == "true"


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"platform": "APNS", "token": "short"}, "DEVICE_TOKEN_INVALID"),
        ({"platform": "APNS", "token": "a" * 40 + " ; drop"}, "DEVICE_TOKEN_INVALID"),
        ({"platform": "WNS", "token": TOKEN}, "VALIDATION_ERROR"),
        ({"token": TOKEN}, "VALIDATION_ERROR"),
    ],
)
def test_bad_registrations_are_422(users, body, code):
    response = call("api_register_device", user_id=users["anna_kowalska"], body=body)
    assert response.status == 422
    assert response.json["code"] == code
    assert _endpoints() == {}


def test_without_platform_applications_push_is_off(users, aws):
    from functions.api.handler import container

    container.install(aws.api.model_copy(update={"push_apns_application_arn": None}))
    response = call("api_register_device", user_id=users["anna_kowalska"], body={"platform": "APNS", "token": TOKEN})
    assert response.status == 422
    assert response.json["code"] == "PUSH_NOT_CONFIGURED"


def test_other_users_devices_are_not_found(users):
    device = call("api_register_device", user_id=users["anna_kowalska"], body={"platform": "APNS", "token": TOKEN}).json
    response = call("api_delete_device", user_id=users["petra_svobodova"], path={"deviceId": device["id"]})
    assert response.status == 404
    assert len(call("api_list_devices", user_id=users["anna_kowalska"]).json["devices"]) == 1


def test_a_platform_application_sns_refuses_is_push_not_configured_and_logged(users, aws, caplog):
    from functions.api.handler import container

    # Given the APNS application configured is of another region, which SNS refuses with
    # InvalidParameter (moto would answer NotFound; this is the real service's answer)
    other_region = "arn:aws:sns:us-east-1:123456789012:app/APNS/message-center"
    container.install(aws.api.model_copy(update={"push_apns_application_arn": other_region}))
    with answering("sns.CreatePlatformEndpoint", 400, "InvalidParameter", "Invalid parameter: PlatformApplicationArn"):
        # When anna registers her phone
        anna = users["anna_kowalska"]
        response = call("api_register_device", user_id=anna, body={"platform": "APNS", "token": TOKEN})
    # Then she is told push is not available for the platform (not a conflict to retry), nothing
    # is stored, and the configuration error is logged
    assert response.status == 422, response.raw_body
    assert response.json["code"] == "PUSH_NOT_CONFIGURED"
    assert call("api_list_devices", user_id=users["anna_kowalska"]).json == {"devices": []}
    [logged] = [r for r in caplog.records if r.levelname == "ERROR"]
    assert logged.getMessage() == "The push platform application is not usable"
    assert (logged.platform, logged.error_code) == ("APNS", "NotFound")


def test_a_token_sns_holds_with_other_attributes_is_still_a_conflict(users, aws):
    from functions.api.handler import container

    # Given SNS refuses the endpoint for the token (one exists with other attributes) while the
    # platform application itself is fine
    with answering("sns.CreatePlatformEndpoint", 400, "InvalidParameter", "Invalid parameter: Token"):
        container.install(aws.api)  # a cold start: clients that see this answer
        # When anna registers her phone
        anna = users["anna_kowalska"]
        response = call("api_register_device", user_id=anna, body={"platform": "APNS", "token": TOKEN})
    # Then it is the conflict it always was
    assert response.status == 409
    assert response.json["code"] == "DEVICE_CONFLICT"
