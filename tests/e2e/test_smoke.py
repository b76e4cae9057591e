"""`message-center smoke --local` against the running local runtime, as a user runs it after `make run`."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.e2e

LINE = re.compile(r"^(PASS|FAIL|SKIP)\s+[\d.-]+s?\s+(.+?)(?:  \((.*)\))?$")
EXCHANGE = [
    "sign in the buyer anna_kowalska",
    "sign in the seller dom-i-ogrod-pl",
    "the buyer registers a device for push",
    "the buyer uploads an attachment",
    "the buyer asks about the offer, with the attachment",
    "the seller reads the question and downloads the attachment",
    "the seller got the e-mail copy of the question",
    "the seller answers in the thread",
    "the buyer reads the answer and marks the thread read",
    "the buyer's device got a push for the answer",
    "clean up: delete the messages for the buyer",
    "clean up: delete the messages for the seller",
    "clean up: unregister the buyer's device",
]


def _steps(stdout: str) -> list[tuple[str, str, str | None]]:
    return [match.groups() for line in stdout.splitlines() if (match := LINE.match(line))]  # type: ignore[misc]


def test_the_smoke_walks_the_exchange_and_cleans_up(local_stack):
    buyer = local_stack.session("anna_kowalska")
    threads_before = buyer.get(f"{local_stack.api_url}/messaging/threads").json()["threads"]
    # When the smoke runs against the running local runtime
    result = local_stack.cli("smoke", "--local", check=False)
    # Then every step passed, one line each, in the README's order, and it exits 0
    assert result.returncode == 0, result.stdout + result.stderr
    steps = _steps(result.stdout)
    assert [(outcome, name) for outcome, name, _ in steps] == [("PASS", name) for name in EXCHANGE]
    assert result.stdout.splitlines()[0].startswith("Local runtime at " + local_stack.api_url)
    assert re.search(r"^OK: 13 steps, run smoke-[0-9a-f]{8}$", result.stdout, re.MULTILINE)
    # And what it created is gone for the buyer: no message left, no device
    marker = result.stdout.strip().rsplit(" ", 1)[-1]
    threads = buyer.get(f"{local_stack.api_url}/messaging/threads").json()["threads"]
    for thread in threads:
        page = buyer.get(f"{local_stack.api_url}/messaging/threads/{thread['id']}/messages").json()
        assert not [m for m in page["messages"] if marker in m["text"]]
    assert len(threads) <= len(threads_before) + 1
    device_id = steps[2][2].removeprefix("APNS device ")
    devices = buyer.get(f"{local_stack.api_url}/messaging/devices").json()["devices"]
    assert device_id not in [device["id"] for device in devices]


def test_a_wrong_password_fails_the_first_step_and_exits_non_zero(local_stack):
    result = local_stack.cli("smoke", "--local", "--password", "not-the-password", check=False)
    assert result.returncode == 1
    [(outcome, name, note)] = _steps(result.stdout)
    assert (outcome, name) == ("FAIL", "sign in the buyer anna_kowalska")
    assert "NotAuthorizedException" in (note or "")
    assert result.stdout.rstrip().splitlines()[-1].startswith("FAILED: 1 steps")


def test_a_failing_step_stops_the_run_and_still_cleans_up(local_stack):
    # Given an offer that does not exist: the question is refused
    result = local_stack.cli("smoke", "--local", "--offer", "no-such-offer", check=False)
    assert result.returncode == 1
    steps = _steps(result.stdout)
    # Then the run stops at the question, and the device it registered is unregistered
    assert [(outcome, name) for outcome, name, _ in steps] == [
        ("PASS", "sign in the buyer anna_kowalska"),
        ("PASS", "sign in the seller dom-i-ogrod-pl"),
        ("PASS", "the buyer registers a device for push"),
        ("PASS", "the buyer uploads an attachment"),
        ("FAIL", "the buyer asks about the offer, with the attachment"),
        ("PASS", "clean up: unregister the buyer's device"),
    ]
    assert "OFFER_NOT_FOUND" in (steps[4][2] or "")
