"""End to end: live events over the local WebSocket API of `message-center serve`, as a browser
gets them (token offered as the second subprotocol), caused by ordinary HTTP calls."""

from __future__ import annotations

import json
import queue
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect
from websockets.typing import Subprotocol

pytestmark = pytest.mark.e2e

VND = "application/vnd.allegro.public.v1+json"
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


@contextmanager
def live(local_stack, login: str) -> Iterator[LiveChannel]:
    url = f"ws://{local_stack.state['host']}:{local_stack.state['websocket_port']}"
    offer = [Subprotocol(SUBPROTOCOL), Subprotocol(local_stack.token(login))]
    with connect(url, subprotocols=offer, open_timeout=10) as socket:
        assert socket.subprotocol == SUBPROTOCOL
        yield LiveChannel(socket)


def _in_thread(thread_id: str, event_type: str) -> Callable[[dict[str, Any]], bool]:
    return lambda event: event.get("type") == event_type and event.get("threadId") == thread_id


def _ask(local_stack, buyer: str, offer: str, text: str) -> dict[str, Any]:
    asked = local_stack.session(buyer).post(
        f"{local_stack.api_url}/messaging/messages",
        json={"offer": {"id": offer}, "text": text},
        headers={"Content-Type": VND},
    )
    assert asked.status_code == 201, asked.text
    message: dict[str, Any] = asked.json()
    return message


def _read(local_stack, login: str, thread_id: str) -> None:
    read = local_stack.session(login).put(
        f"{local_stack.api_url}/messaging/threads/{thread_id}/read", json={"read": True}, headers={"Content-Type": VND}
    )
    assert read.status_code == 200, read.text


def test_the_seller_sees_the_buyers_message_as_soon_as_it_is_sent(local_stack):
    # Given the seller's browser is connected
    with live(local_stack, SELLER) as seller:
        # When the buyer asks about the seller's offer (201)
        sent = _ask(local_stack, BUYER, OFFER, "Czy lampa jest jeszcze dostępna?")

        # Then the seller receives message.created with the message as the seller's API shows it
        event = seller.next_event(_in_thread(sent["thread"]["id"], "message.created"))
    assert event is not None, "no message.created reached the seller"
    assert event["version"] == 1
    assert event["data"]["message"]["id"] == sent["id"]
    assert event["data"]["message"]["text"] == "Czy lampa jest jeszcze dostępna?"
    assert event["data"]["message"]["author"] == {"login": BUYER, "isInterlocutor": True}
    assert event["data"]["thread"]["id"] == sent["thread"]["id"]
    assert event["data"]["badge"]["unreadThreads"] >= 1


def test_the_buyer_sees_when_the_seller_has_read_the_thread(local_stack):
    # Given the buyer asked, and the buyer's browser is connected
    sent = _ask(local_stack, BUYER, OFFER, "Czy wyślecie jutro?")
    thread_id = sent["thread"]["id"]
    with live(local_stack, BUYER) as buyer:
        # When the seller opens the thread
        _read(local_stack, SELLER, thread_id)

        # Then the buyer receives the read receipt, naming the seller
        event = buyer.next_event(_in_thread(thread_id, "thread.read"))
    assert event is not None, "no thread.read reached the buyer"
    assert event["data"]["readBy"]["login"] == SELLER
    assert event["data"]["lastReadMessageId"] == sent["id"]


def test_with_read_receipts_off_the_buyer_is_not_told(local_stack):
    buyer_session = local_stack.session(QUIET_BUYER)
    # Given a buyer who turned read receipts off, and asked the seller a question
    turned_off = buyer_session.patch(
        f"{local_stack.api_url}/messaging/me", json={"readReceipts": False}, headers={"Content-Type": VND}
    )
    assert turned_off.status_code == 200, turned_off.text
    try:
        sent = _ask(local_stack, QUIET_BUYER, QUIET_OFFER, "Czy jest faktura VAT?")
        thread_id = sent["thread"]["id"]
        with live(local_stack, QUIET_BUYER) as buyer:
            # When the seller reads the thread, and then answers
            _read(local_stack, SELLER, thread_id)
            answer = local_stack.session(SELLER).post(
                f"{local_stack.api_url}/messaging/threads/{thread_id}/messages",
                json={"text": "Tak, wystawiam."},
                headers={"Content-Type": VND},
            )
            assert answer.status_code == 201, answer.text

            # Then the next event of the thread the buyer gets is the answer: no read receipt came first
            event = buyer.next_event(
                lambda e: e.get("threadId") == thread_id and e.get("type") in ("thread.read", "message.created")
            )
        assert event is not None
        assert (event["type"], event["data"]["message"]["id"]) == ("message.created", answer.json()["id"])
    finally:
        buyer_session.patch(
            f"{local_stack.api_url}/messaging/me", json={"readReceipts": True}, headers={"Content-Type": VND}
        )


@pytest.mark.parametrize("token", ["not-a-token", None])
def test_a_connection_without_a_valid_token_is_refused(local_stack, token):
    # Given a forged token, or none at all
    url = f"ws://{local_stack.state['host']}:{local_stack.state['websocket_port']}"
    offer = [Subprotocol(SUBPROTOCOL), *([Subprotocol(token)] if token else [])]

    # When the browser tries to connect
    with pytest.raises(InvalidStatus) as refused:
        connect(url, subprotocols=offer, open_timeout=10)

    # Then the handshake is refused
    assert refused.value.response.status_code in (401, 403)
