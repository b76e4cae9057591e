"""The local runtime's state file and its demo directory."""

from __future__ import annotations

import json
import stat

import pytest
from message_center.services.directory import parse_directory

from local_runtime import emulator, state
from local_runtime.directory import DEMO_DIRECTORY, read_directory, summarize_users
from local_runtime.state import RuntimeNotRunningError, RuntimeState

RUNNING = RuntimeState(
    api_port=8000,
    aws_port=5100,
    region="eu-central-1",
    table_name="MessageCenter",
    user_pool_id="eu-central-1_pool",
    user_pool_client_id="client",
    attachments_bucket="message-center-attachments-local",
    idempotency_table_name="MessageCenterIdempotency",
    relay_domain="relay.message-center.test",
    mail_token_secret_arn="arn:aws:secretsmanager:eu-central-1:123456789012:secret:message-center/mail-token-key-AbCdEf",
    push_apns_application_arn="arn:aws:sns:eu-central-1:123456789012:app/APNS_SANDBOX/message-center-apns",
    push_fcm_application_arn="arn:aws:sns:eu-central-1:123456789012:app/GCM/message-center-fcm",
    pid=4242,
    outbox_dir="/tmp/message-center/outbox",
)


def test_state_round_trips_and_is_private(tmp_path, monkeypatch):
    # Given a running runtime's state written to disk
    monkeypatch.setattr(state, "is_listening", lambda host, port, timeout=0.5: True)
    path = tmp_path / "nested" / "local.json"
    state.write_state(RUNNING, path)
    # When it is read back
    read = state.read_state(path)
    # Then it is the same, and only the owner can read it
    assert read == RUNNING
    assert read.api_url == "http://127.0.0.1:8000"
    assert read.outbox_url == "http://127.0.0.1:8000/_local/outbox"
    assert read.push_url == "http://127.0.0.1:8000/_local/push"
    assert read.dead_letters_url == "http://127.0.0.1:8000/_local/dead-letters"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_missing_or_stale_state_says_how_to_start(tmp_path, monkeypatch):
    # Given no state file / When read / Then the error tells what to run
    with pytest.raises(RuntimeNotRunningError, match="message-center serve"):
        state.read_state(tmp_path / "absent.json")
    # Given a state file whose emulator no longer listens
    monkeypatch.setattr(state, "is_listening", lambda host, port, timeout=0.5: False)
    state.write_state(RUNNING, tmp_path / "stale.json")
    with pytest.raises(RuntimeNotRunningError, match="stale"):
        state.read_state(tmp_path / "stale.json")


@pytest.mark.parametrize("added_later", ["attachments_bucket", "mail_token_secret_arn"])
def test_state_file_of_an_older_version_says_to_restart(tmp_path, monkeypatch, added_later):
    # Given a state file written before a resource was added
    monkeypatch.setattr(state, "is_listening", lambda host, port, timeout=0.5: True)
    path = tmp_path / "old.json"
    state.write_state(RUNNING, path)
    raw = json.loads(path.read_text())
    del raw[added_later]
    path.write_text(json.dumps(raw))
    # When it is read / Then the error says to restart serve (no TypeError)
    with pytest.raises(RuntimeNotRunningError, match="restart message-center serve"):
        state.read_state(path)


def test_functions_get_the_notification_settings_and_the_gateways_url():
    # Given the resources of a running runtime
    resources = emulator.resources_of(RUNNING)
    # When each function's settings are built with the gateway's URL
    settings = emulator.function_settings("http://127.0.0.1:5100", "eu-central-1", resources, RUNNING.api_url)
    # Then the stream function's settings are all there, pointing at the local stack
    stream = settings.stream
    assert stream.idempotency_table_name == "MessageCenterIdempotency"
    assert stream.relay_domain == "relay.message-center.test"
    assert stream.mail_token_secret_id == RUNNING.mail_token_secret_arn
    assert str(stream.push_apns_application_arn).endswith(":app/APNS_SANDBOX/message-center-apns")
    assert str(stream.push_fcm_application_arn).endswith(":app/GCM/message-center-fcm")
    assert stream.public_web_url == "http://127.0.0.1:8000"
    assert stream.notification_settings_url == "http://127.0.0.1:8000/settings"
    assert stream.aws_endpoint_url == "http://127.0.0.1:5100"
    # and every function names the same table, and the inbound function the same relay domain
    assert {settings.api.table_name, settings.inbound_mail.table_name, settings.directory.table_name} == {
        RUNNING.table_name
    }
    assert settings.inbound_mail.relay_domain == stream.relay_domain
    assert settings.directory.user_pool_id == RUNNING.user_pool_id


def test_state_is_removed_only_by_its_owner(tmp_path):
    path = tmp_path / "local.json"
    state.write_state(RUNNING, path)
    state.remove_state(path, pid=1)  # another serve's shutdown
    assert path.exists()
    state.remove_state(path, pid=RUNNING.pid)
    assert not path.exists()


def test_state_path_honours_the_override(monkeypatch, tmp_path):
    monkeypatch.setenv(state.STATE_FILE_ENV, str(tmp_path / "x.json"))
    assert state.default_state_path() == tmp_path / "x.json"
    monkeypatch.delenv(state.STATE_FILE_ENV)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    assert state.default_state_path() == tmp_path / "message-center" / "local.json"


def test_demo_directory_is_valid_and_covers_the_product():
    # Given the bundled demo directory
    document = read_directory(DEMO_DIRECTORY)
    # Then the directory service accepts it
    parsed = parse_directory(document)
    # and it spans every marketplace and language, with business and private sellers
    assert {user.marketplace.value for user in parsed.users} == {
        "allegro-pl",
        "allegro-cz",
        "allegro-sk",
        "allegro-hu",
    }
    assert {user.preferred_language.value for user in parsed.users} == {"pl", "en", "uk"}
    roles = {summary.login: summary.roles for summary in summarize_users(document)}
    assert "business seller" in roles["dom-i-ogrod-pl"]
    assert roles["peter_horvath"] == ("private seller", "buyer")
    assert roles["anna_kowalska"] == ("buyer",)
    # and every e-mail address is on a domain reserved for examples (RFC 2606)
    for user in document["users"]:
        domain = user["email"].rsplit("@", 1)[1]
        assert domain.endswith(("example.com", "example.org", "example.net")), json.dumps(user["login"])
