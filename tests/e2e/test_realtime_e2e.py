"""End to end: live events over the local WebSocket API of `message-center serve`, as a browser
gets them (token offered as the second subprotocol), caused by ordinary HTTP calls."""

from __future__ import annotations

import json
import queue
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import requests
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect
from websockets.typing import Subprotocol

from benchmarks.realtime_latency import measure, render
from local_runtime.state import read_state

pytestmark = pytest.mark.e2e

VND = "application/vnd.allegro.public.v1+json"
JSON = {"Content-Type": VND}
SUBPROTOCOL = "message-center.v1"
EVENT_WAIT_SECONDS = 15.0
# Each test uses its own pair (the tests share one running stack); peter_horvath sells privately.
BUYER, SELLER, OFFER = "olena_shevchenko", "peter_horvath", "13458800021"
QUIET_BUYER, QUIET_OFFER = "kovacs_eszter", "13458800022"


class LiveChannel:
    """One browser tab's socket: every event it receives, in order, read in the background."""

    def __init__(self, socket: ClientConnection) -> None:
        self.socket = socket
        self._events: queue.Queue[dict[str, Any]] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        try:
            for frame in self.socket:
                self._events.put(json.loads(frame))
        except ConnectionClosed:
            pass

    def events_until(self, last: Callable[[dict[str, Any]], bool], timeout: float = EVENT_WAIT_SECONDS) -> Any:
        """Every event received from now on up to the first one ``last`` accepts (None: it did not
        come in time)."""
        seen: list[dict[str, Any]] = []
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                seen.append(self._events.get(timeout=left))
            except queue.Empty:
                return None
            if last(seen[-1]):
                return seen
        return None

    def next_event(self, matching: Callable[[dict[str, Any]], bool], timeout: float = EVENT_WAIT_SECONDS) -> Any:
        """The first event received from now on that ``matching`` accepts (None: none in time);
        the events it skips are dropped."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                event = self._events.get(timeout=left)
            except queue.Empty:
                return None
            if matching(event):
                return event
        return None


class Users:
    """Each user's token and API session, signed in once (the CLI takes seconds per token)."""

    def __init__(self, local_stack: Any) -> None:
        self.stack = local_stack
        self.api = local_stack.api_url
        self.websocket_url = f"ws://{local_stack.state['host']}:{local_stack.state['websocket_port']}"
        self._sessions: dict[str, requests.Session] = {}

    def session(self, login: str) -> requests.Session:
        if login not in self._sessions:
            self._sessions[login] = self.stack.session(login)
        return self._sessions[login]

    def token(self, login: str) -> str:
        return str(self.session(login).headers["Authorization"]).removeprefix("Bearer ")


@pytest.fixture(scope="module")
def users(local_stack) -> Users:
    return Users(local_stack)


@contextmanager
def live(users: Users, login: str) -> Iterator[LiveChannel]:
    offer = [Subprotocol(SUBPROTOCOL), Subprotocol(users.token(login))]
    with connect(users.websocket_url, subprotocols=offer, open_timeout=10) as socket:
        assert socket.subprotocol == SUBPROTOCOL
        yield LiveChannel(socket)


def _in_thread(thread_id: str, event_type: str) -> Callable[[dict[str, Any]], bool]:
    return lambda event: event.get("type") == event_type and event.get("threadId") == thread_id


def _ask(users: Users, buyer: str, offer: str, text: str) -> dict[str, Any]:
    asked = users.session(buyer).post(
        f"{users.api}/messaging/messages",
        json={"offer": {"id": offer}, "text": text},
        headers=JSON,
    )
    assert asked.status_code == 201, asked.text
    message: dict[str, Any] = asked.json()
    return message


def _read(users: Users, login: str, thread_id: str) -> None:
    read = users.session(login).put(
        f"{users.api}/messaging/threads/{thread_id}/read", json={"read": True}, headers=JSON
    )
    assert read.status_code == 200, read.text


def test_the_seller_sees_the_buyers_message_as_soon_as_it_is_sent(users):
    # Given the seller's browser is connected
    with live(users, SELLER) as seller:
        # When the buyer asks about the seller's offer (201)
        sent = _ask(users, BUYER, OFFER, "Czy lampa jest jeszcze dostępna?")

        # Then the seller receives message.created with the message as the seller's API shows it
        event = seller.next_event(_in_thread(sent["thread"]["id"], "message.created"))
    assert event is not None, "no message.created reached the seller"
    assert event["version"] == 1
    assert event["data"]["message"]["id"] == sent["id"]
    assert event["data"]["message"]["text"] == "Czy lampa jest jeszcze dostępna?"
    assert event["data"]["message"]["author"] == {"login": BUYER, "isInterlocutor": True}
    assert event["data"]["thread"]["id"] == sent["thread"]["id"]
    assert event["data"]["badge"]["unreadThreads"] >= 1


def test_the_buyer_sees_when_the_seller_has_read_the_thread(users):
    # Given the buyer asked, and the buyer's browser is connected
    sent = _ask(users, BUYER, OFFER, "Czy wyślecie jutro?")
    thread_id = sent["thread"]["id"]
    with live(users, BUYER) as buyer:
        # When the seller opens the thread
        _read(users, SELLER, thread_id)

        # Then the buyer receives the read receipt, naming the seller
        event = buyer.next_event(_in_thread(thread_id, "thread.read"))
    assert event is not None, "no thread.read reached the buyer"
    assert event["data"]["readBy"]["login"] == SELLER
    assert event["data"]["lastReadMessageId"] == sent["id"]


def test_with_read_receipts_off_the_buyer_is_not_told(users):
    buyer_session = users.session(QUIET_BUYER)
    # Given a buyer who turned read receipts off, and asked the seller a question
    turned_off = buyer_session.patch(f"{users.api}/messaging/me", json={"readReceipts": False}, headers=JSON)
    assert turned_off.status_code == 200, turned_off.text
    try:
        sent = _ask(users, QUIET_BUYER, QUIET_OFFER, "Czy jest faktura VAT?")
        thread_id = sent["thread"]["id"]
        with live(users, QUIET_BUYER) as buyer:
            # When the seller reads the thread and answers, and then the buyer reads the answer
            _read(users, SELLER, thread_id)
            answer = users.session(SELLER).post(
                f"{users.api}/messaging/threads/{thread_id}/messages", json={"text": "Tak, wystawiam."}, headers=JSON
            )
            assert answer.status_code == 201, answer.text
            opened = buyer_session.put(
                f"{users.api}/messaging/threads/{thread_id}/read", json={"read": True}, headers=JSON
            )
            assert opened.status_code == 200, opened.text

            # Then, up to the buyer's own change, the buyer got the answer but no read receipt
            events = buyer.events_until(_in_thread(thread_id, "thread.updated"))
        assert events is not None, "the buyer's own thread.updated never came"
        kinds = [event["type"] for event in events]
        assert "thread.read" not in kinds
        assert any(
            event["type"] == "message.created" and event["data"]["message"]["id"] == answer.json()["id"]
            for event in events
        ), kinds
    finally:
        buyer_session.patch(f"{users.api}/messaging/me", json={"readReceipts": True}, headers=JSON)


def test_the_browsers_keep_alive_ping_is_answered(users):
    # Given a connected browser
    with live(users, BUYER) as browser:
        # When it pings (every 5 minutes, under API Gateway's 10-minute idle timeout), then sends nonsense
        browser.socket.send(json.dumps({"action": "ping"}))
        pong = browser.next_event(lambda event: event.get("type") == "pong")
        browser.socket.send(json.dumps({"action": "dance"}))
        error = browser.next_event(lambda event: event.get("type") == "error")

    # Then $default answered each through the management API
    assert pong == {"type": "pong"}
    assert error is not None
    assert error["code"] == "UNKNOWN_ACTION"


@pytest.mark.parametrize("token", ["not-a-token", None])
def test_a_connection_without_a_valid_token_is_refused(users, token):
    # Given a forged token, or none at all
    offer = [Subprotocol(SUBPROTOCOL), *([Subprotocol(token)] if token else [])]

    # When the browser tries to connect
    with pytest.raises(InvalidStatus) as refused:
        connect(users.websocket_url, subprotocols=offer, open_timeout=10)

    # Then the handshake is refused
    assert refused.value.response.status_code in (401, 403)


def test_the_latency_benchmark_measures_every_send(local_stack):
    # Given the running stack (python -m benchmarks.realtime_latency starts its own)
    state = read_state(Path(local_stack.environment["MESSAGE_CENTER_STATE_FILE"]))

    # When the benchmark makes a few sends
    report = measure(state, sends=3)

    # Then each send's event was timed, and the figures are printed
    assert report.missing == 0
    assert len(report.latencies_ms) == 3
    text = render(report)
    assert "3 sends" in text
    assert {line.split()[0] for line in text.splitlines()[1:4]} == {"p50", "p99", "max"}
