"""The local runtime starts the SMTP server (SES receiving stand-in) with the inbound function's settings.

Kept apart from test_local_smtp.py: a runtime resets the process-wide emulator state.
"""

from __future__ import annotations

import smtplib

from local_runtime import emulator
from local_runtime.runtime import LocalRuntime
from tests.integration.test_local_smtp import WAIT_SECONDS, _Handler, _mail


def _runtime(tmp_path, inbound_mail_handler) -> LocalRuntime:
    return LocalRuntime(
        directory=None,
        handler=lambda event, context: {"statusCode": 200, "body": "{}"},
        stream_handler=None,
        inbound_mail_handler=inbound_mail_handler,
        outbox_dir=tmp_path / "outbox",
    )


def test_the_runtime_runs_the_smtp_server_with_the_functions_settings(tmp_path):
    handler = _Handler()
    runtime = _runtime(tmp_path, handler)
    state = runtime.start()
    try:
        assert state.smtp_port and runtime.smtp_server is not None
        assert state.smtp_address == f"127.0.0.1:{state.smtp_port}"
        to = f"u.seller@{state.relay_domain}"
        with smtplib.SMTP(state.host, state.smtp_port, timeout=5) as client:
            client.send_message(_mail(to), from_addr="anna@example.com", to_addrs=[to])
        assert handler.called.wait(WAIT_SECONDS)
        settings = runtime.settings.inbound_mail
        assert settings.inbound_mail_bucket == state.inbound_mail_bucket == emulator.DEFAULT_INBOUND_MAIL_BUCKET
        assert settings.inbound_mail_prefix == "inbound/"
        assert settings.aws_endpoint_url == state.aws_endpoint_url
        # and the mail the handler was told about is where those settings say
        ses_id = handler.events[0]["Records"][0]["ses"]["mail"]["messageId"]
        s3 = emulator.s3_client(state.aws_endpoint_url, state.region)
        stored = s3.get_object(Bucket=settings.inbound_mail_bucket, Key=f"{settings.inbound_mail_prefix}{ses_id}")
        assert b"u.seller@" in stored["Body"].read()
    finally:
        runtime.stop()
    assert runtime.smtp_server is None


def test_without_the_inbound_mail_handler_mail_is_stored_only(tmp_path):
    runtime = _runtime(tmp_path, "functions.not_yet_written.handler:lambda_handler")
    state = runtime.start()
    try:
        assert runtime.inbound_mail_off_reason == "functions.not_yet_written.handler does not exist yet"
        server = runtime.smtp_server
        assert server is not None
        to = f"u.seller@{state.relay_domain}"
        with smtplib.SMTP(state.host, state.smtp_port, timeout=5) as client:
            client.send_message(_mail(to), from_addr="anna@example.com", to_addrs=[to])
        assert server.wait_until_idle(WAIT_SECONDS)
        (delivery,) = server.deliveries
        assert (delivery.delivered, delivery.attempts) == (False, 0)
        s3 = emulator.s3_client(state.aws_endpoint_url, state.region)
        assert s3.head_object(Bucket=state.inbound_mail_bucket, Key=delivery.key)["ContentLength"] > 0
    finally:
        runtime.stop()
