"""Per-function settings (message_center.settings): a missing or invalid variable fails at cold
start naming it, and each model says which variables it reads."""

from __future__ import annotations

import pytest
from message_center.deployment import Env
from message_center.settings import (
    ApiSettings,
    ConfigurationError,
    FunctionSettings,
    InboundMailSettings,
    StreamSettings,
    environment_names,
    load_settings,
)

API_ENVIRONMENT = {
    Env.TABLE_NAME: "MessageCenter",
    Env.REGION: "eu-central-1",
    Env.ATTACHMENTS_BUCKET: "message-center-attachments",
    Env.TRANSLATION_PROVIDERS: "amazon, Google,,deepl",
    Env.REALTIME_TABLE_NAME: "MessageCenterRealtime",
}


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """An environment with none of the variables any function reads."""
    for model in (ApiSettings, StreamSettings, InboundMailSettings):
        for name in environment_names(model):
            monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_the_api_settings_load_from_the_environment(environment):
    # Given the variables the stack sets for the API function
    for name, value in API_ENVIRONMENT.items():
        environment.setenv(name, value)
    # When the function starts
    settings = load_settings(ApiSettings)
    # Then it reads them, and the defaults fill the rest
    assert (settings.table_name, settings.region, settings.attachments_bucket) == (
        "MessageCenter",
        "eu-central-1",
        "message-center-attachments",
    )
    assert settings.translation_provider_names == ("amazon", "google", "deepl")
    assert settings.attachment_max_bytes == 25 * 1024 * 1024
    assert settings.aws_endpoint_url is None


def test_the_region_may_come_from_the_default_region(environment):
    for name, value in API_ENVIRONMENT.items():
        environment.setenv(name, value)
    environment.delenv(Env.REGION)
    environment.setenv(Env.DEFAULT_REGION, "eu-west-1")
    assert load_settings(ApiSettings).region == "eu-west-1"


def test_a_missing_table_name_fails_naming_it(environment):
    # Given everything but the table's name
    for name, value in API_ENVIRONMENT.items():
        if name != Env.TABLE_NAME:
            environment.setenv(name, value)
    # When the function starts, then it fails naming the variable, and only it
    with pytest.raises(ConfigurationError) as failed:
        load_settings(ApiSettings)
    assert str(failed.value) == "ApiSettings: environment variable TABLE_NAME (not set)"


def test_every_missing_and_invalid_variable_is_named(environment):
    environment.setenv(Env.ATTACHMENT_MAX_BYTES, "12")
    with pytest.raises(ConfigurationError) as failed:
        load_settings(ApiSettings)
    message = str(failed.value)
    for name in (Env.TABLE_NAME, Env.ATTACHMENTS_BUCKET, Env.TRANSLATION_PROVIDERS):
        assert f"{name} (not set)" in message
    assert f"{Env.ATTACHMENT_MAX_BYTES} (Input should be greater than or equal to 1024)" in message


def test_environment_names_are_the_variables_a_model_reads():
    assert environment_names(FunctionSettings) == {Env.TABLE_NAME, Env.REGION, Env.DEFAULT_REGION, Env.ENDPOINT_URL}
    assert environment_names(FunctionSettings, required_only=True) == {
        Env.TABLE_NAME,
        Env.REGION,
        Env.DEFAULT_REGION,
    }
    api = environment_names(ApiSettings)
    assert {Env.ATTACHMENTS_BUCKET, Env.ATTACHMENT_MAX_BYTES, Env.PUSH_FCM_APPLICATION_ARN} <= api
    assert Env.RELAY_DOMAIN not in api  # the API function does not sign reply addresses
    assert environment_names(ApiSettings, required_only=True) == {
        Env.TABLE_NAME,
        Env.REGION,
        Env.DEFAULT_REGION,
        Env.ATTACHMENTS_BUCKET,
        Env.TRANSLATION_PROVIDERS,
        Env.REALTIME_TABLE_NAME,
    }
    assert {Env.RELAY_DOMAIN, Env.MAIL_TOKEN_SECRET_ARN, Env.INBOUND_MAIL_BUCKET} <= environment_names(
        InboundMailSettings, required_only=True
    )
