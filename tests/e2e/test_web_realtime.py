"""End to end in a real browser: the web client's live channel (issue #12) against the local runtime's
WebSocket API — new messages appear in the open thread and the inbox reorders without a reload, a
socket killed and restored loses nothing (the client catches up from the event feed), and the read
receipt shows under the last own message only while both sides share receipts.

The app's ``/config.json`` is rewritten for these pages to poll once an hour: whatever changes on
the screen within the test came over the socket or from the event feed, not from polling. The
socket itself is routed through Playwright (``page.route_web_socket``), which lets a test close it
from the server's side and refuse new ones for a while, like a network outage would.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from typing import Any

import pytest

from local_runtime.directory import DEV_PASSWORD
from tests.e2e.conftest import LocalStack

playwright_sync = pytest.importorskip("playwright.sync_api", reason="the dev extra installs playwright")
from playwright.sync_api import (  # noqa: E402
    Browser,
    BrowserContext,
    Page,
    Response,
    Route,
    ViewportSize,
    WebSocketRoute,
    expect,
    sync_playwright,
)

from tests.e2e.test_web_client import CHROMIUM, CHROMIUM_ARGS, ROOT, _check_screen  # noqa: E402

pytestmark = pytest.mark.e2e

# Their own users: the other journeys' inboxes and badges stay as those tests expect them.
DIRECTORY = {
    "users": [
        {"login": "cycle-parts-shop", "email": "hello@cycle-parts-shop.example.com", "preferredLanguage": "en",
         "businessAccount": True, "marketplace": "allegro-pl"},
        {"login": "nina_rider", "email": "nina.rider@example.com", "preferredLanguage": "en",
         "businessAccount": False, "marketplace": "allegro-pl"},
        {"login": "oscar_tandem", "email": "oscar.tandem@example.com", "preferredLanguage": "en",
         "businessAccount": False, "marketplace": "allegro-pl"},
        {"login": "petra_commuter", "email": "petra.commuter@example.com", "preferredLanguage": "en",
         "businessAccount": False, "marketplace": "allegro-pl"},
        {"login": "quinn_gravel", "email": "quinn.gravel@example.com", "preferredLanguage": "en",
         "businessAccount": False, "marketplace": "allegro-pl"},
    ],
    "offers": [
        {"id": "14200000301", "seller": "cycle-parts-shop", "marketplace": "allegro-pl",
         "title": "Chain 8-speed, 116 links"},
        {"id": "14200000302", "seller": "cycle-parts-shop", "marketplace": "allegro-pl",
         "title": "Brake pads for hydraulic disc brakes"},
        {"id": "14200000303", "seller": "cycle-parts-shop", "marketplace": "allegro-pl",
         "title": "Rear light with a brake sensor"},
    ],
}  # fmt: skip
SELLER = "cycle-parts-shop"
# Live updates arrive within a second or two; polling (slowed to an hour here) never could.
LIVE_MS = 10_000
SLOW_POLL_SECONDS = 3600
DESKTOP: ViewportSize = {"width": 1280, "height": 800}


@pytest.fixture(scope="module")
def web(local_stack: LocalStack, tmp_path_factory: pytest.TempPathFactory) -> str:
    assert (ROOT / "web" / "dist" / "index.html").is_file(), "build the web client first: make web"
    assert local_stack.state.get("websocket_port"), "the local runtime serves no WebSocket API"
    directory = tmp_path_factory.mktemp("realtime") / "realtime.json"
    directory.write_text(json.dumps(DIRECTORY))
    local_stack.cli("directory", "load", str(directory), "--local")
    return local_stack.api_url


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    assert CHROMIUM.exists(), "install Chromium: apt-get install -y chromium (make test does)"
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield launched
        launched.close()


class Socket:
    """The page's live socket, passed through to the server until ``kill``; while ``down`` new ones
    are refused (closed at once, as when the network is gone)."""

    def __init__(self, page: Page) -> None:
        self.down = False
        self.opened = 0
        self._current: WebSocketRoute | None = None
        page.route_web_socket(re.compile(r"^wss?://"), self._route)

    def _route(self, socket: WebSocketRoute) -> None:
        if self.down:
            socket.close(code=1011, reason="unavailable")
            return
        socket.connect_to_server()
        self.opened += 1
        self._current = socket

    def kill(self) -> None:
        """Closes the open socket (both sides) and refuses new ones until ``restore``."""
        self.down = True
        if self._current is not None:
            self._current.close(code=1001, reason="going away")
            self._current = None

    def restore(self) -> None:
        self.down = False


def _page(browser: Browser) -> tuple[BrowserContext, Page]:
    context = browser.new_context(viewport=DESKTOP, locale="en-GB", timezone_id="Europe/Warsaw")
    context.set_default_timeout(15_000)
    page = context.new_page()

    def slow_polling(route: Route) -> None:
        response = route.fetch()
        config: dict[str, Any] = response.json()
        config["pollSeconds"] = SLOW_POLL_SECONDS
        route.fulfill(response=response, json=config)

    page.route("**/config.json", slow_polling)
    return context, page


def _sign_in(page: Page, web: str, login: str, path: str = "/") -> None:
    page.goto(f"{web}{path}")
    page.locator("#login").fill(login)
    page.locator("#password").fill(DEV_PASSWORD)
    page.locator("form button[type=submit]").click()
    expect(page.locator(".top-bar")).to_be_visible()


def _live(page: Page) -> None:
    expect(page.locator(".shell")).to_have_attribute("data-realtime", "open", timeout=LIVE_MS)


def _ask(local_stack: LocalStack, web: str, buyer: str, offer: str, text: str) -> str:
    """The buyer's question about an offer (through the API); the thread's id."""
    asked = local_stack.session(buyer).post(f"{web}/messaging/messages", json={"offer": {"id": offer}, "text": text})
    assert asked.status_code == 201, asked.text
    return str(asked.json()["thread"]["id"])


def _write(local_stack: LocalStack, web: str, login: str, thread_id: str, text: str) -> None:
    sent = local_stack.session(login).post(f"{web}/messaging/threads/{thread_id}/messages", json={"text": text})
    assert sent.status_code == 201, sent.text


def _texts(page: Page) -> list[str]:
    return [text.strip() for text in page.locator("[data-testid=message] .message-text").all_inner_texts()]


def test_a_new_message_appears_in_the_open_thread_and_the_inbox_reorders_without_a_reload(web, browser, local_stack):
    # Given two buyers' questions, the second one newer, and the seller reading the first thread
    first = _ask(local_stack, web, "nina_rider", "14200000301", "Does the chain fit an 8-speed cassette?")
    _ask(local_stack, web, "oscar_tandem", "14200000302", "Are the brake pads sold in pairs?")
    context, page = _page(browser)
    try:
        _sign_in(page, web, SELLER, f"/threads/{first}")
        expect(page.locator("#thread-title")).to_have_text("nina_rider")
        _live(page)
        rows = page.locator(".thread-row")
        expect(rows.first).to_contain_text("oscar_tandem")
        badge = page.locator("[data-testid=badge] .badge-count")
        expect(badge).to_have_text("1")  # oscar's thread; nina's was read by opening it

        # When the first buyer writes again (over HTTP, from another device)
        _write(local_stack, web, "nina_rider", first, "And is the chain tool included?")
        # Then the message appears in the open thread, announced, and her thread moves to the top
        expect(page.locator("[data-testid=message]", has_text="And is the chain tool included?")).to_be_visible(
            timeout=LIVE_MS
        )
        expect(page.locator("[data-testid=live-region]")).to_contain_text("And is the chain tool included?")
        expect(rows.first).to_contain_text("nina_rider", timeout=LIVE_MS)
        expect(rows.nth(1)).to_contain_text("oscar_tandem")
        # When the seller answers (their own message also comes back over the socket)
        page.locator("#reply-text").fill("Yes, it comes with the tool.")
        page.locator(".composer button[type=submit]").click()
        expect(page.locator("[data-testid=message]", has_text="Yes, it comes with the tool.")).to_be_visible()

        # When a third buyer asks a question while the seller stays in the first thread
        _ask(local_stack, web, "quinn_gravel", "14200000302", "Do the pads fit a four-piston caliper?")
        # Then a new unread row appears on top and the badge counts it
        expect(rows.first).to_contain_text("quinn_gravel", timeout=LIVE_MS)
        expect(rows.first).to_have_class(re.compile(r"\bunread\b"))
        expect(badge).to_have_text("2", timeout=LIVE_MS)
        expect(page).to_have_title("(2) Message Center")
        # And nothing in the open thread is shown twice
        assert _texts(page) == [
            "Does the chain fit an 8-speed cassette?",
            "And is the chain tool included?",
            "Yes, it comes with the tool.",
        ]
    finally:
        context.close()


def test_a_killed_socket_is_restored_and_nothing_sent_meanwhile_is_missing_or_doubled(web, browser, local_stack):
    # Given the seller reading a buyer's thread, live
    thread = _ask(local_stack, web, "petra_commuter", "14200000303", "Is the rear light USB rechargeable?")
    context, page = _page(browser)
    socket = Socket(page)
    feed: list[Response] = []

    def record(response: Response) -> None:
        if "/messaging/events" in response.url:
            feed.append(response)

    page.on("response", record)
    try:
        _sign_in(page, web, SELLER, f"/threads/{thread}")
        expect(page.locator("[data-testid=message]", has_text="Is the rear light USB rechargeable?")).to_be_visible()
        _live(page)
        _write(local_stack, web, "petra_commuter", thread, "It would be for my commute.")
        expect(page.locator("[data-testid=message]", has_text="It would be for my commute.")).to_be_visible(
            timeout=LIVE_MS
        )

        # When the socket is closed by the server's side and cannot be reopened for a while
        socket.kill()
        expect(page.locator(".shell")).to_have_attribute("data-realtime", "reconnecting")
        expect(page.locator("[data-testid=live-status]")).to_have_text("Reconnecting…")
        _check_screen(page, "desktop-reconnecting")
        # and the buyer writes twice meanwhile
        _write(local_stack, web, "petra_commuter", thread, "First message while you were away.")
        _write(local_stack, web, "petra_commuter", thread, "Second message while you were away.")
        _wait_for_events(
            local_stack, web, SELLER, ["First message while you were away.", "Second message while you were away."]
        )
        # When the socket can be opened again
        socket.restore()
        _live(page)
        # Then both messages are shown after the earlier ones, in order, each once
        expect(page.locator("[data-testid=message]", has_text="Second message while you were away.")).to_be_visible(
            timeout=LIVE_MS
        )
        assert _texts(page)[-4:] == [
            "Is the rear light USB rechargeable?",
            "It would be for my commute.",
            "First message while you were away.",
            "Second message while you were away.",
        ]
        assert len(_texts(page)) == len(set(_texts(page)))
        # And they came from the event feed, read from where the socket left off
        assert all(response.ok and "from=" in response.url for response in feed), [r.url for r in feed]
        pages = [response.json() for response in feed]
        caught_up = [event for page_ in pages for event in page_["events"] if event["type"] == "message.created"]
        assert [event["data"]["message"]["text"] for event in caught_up][-2:] == [
            "First message while you were away.",
            "Second message while you were away.",
        ]
        assert socket.opened >= 2
        expect(page.locator("[data-testid=live-status]")).to_have_count(0)

        # And the restored socket carries the next message live
        _write(local_stack, web, "petra_commuter", thread, "Third message, after you came back.")
        expect(page.locator("[data-testid=message]", has_text="Third message, after you came back.")).to_be_visible(
            timeout=LIVE_MS
        )
        assert len(_texts(page)) == len(set(_texts(page)))
    finally:
        context.close()


def test_the_read_receipt_shows_under_the_last_own_message_only_while_receipts_are_on(web, browser, local_stack):
    # Given a buyer who asked the seller, reading her thread in the browser
    thread = _ask(local_stack, web, "nina_rider", "14200000303", "Which batteries does the light take?")
    buyer_context, buyer_page = _page(browser)
    seller_context, seller_page = _page(browser)
    try:
        _sign_in(buyer_page, web, "nina_rider", f"/threads/{thread}")
        own = buyer_page.locator("[data-testid=message]", has_text="Which batteries does the light take?")
        expect(own).to_be_visible()
        _live(buyer_page)
        receipt = buyer_page.locator("[data-testid=read-receipt]")
        expect(receipt).to_have_count(0)

        # When the seller opens the thread
        _sign_in(seller_page, web, SELLER, f"/threads/{thread}")
        expect(seller_page.locator("[data-testid=message]", has_text="Which batteries")).to_be_visible()
        # Then "Seen HH:MM" appears under the buyer's last message, without a reload
        expect(receipt).to_have_text(re.compile(r"^Seen \d{2}:\d{2}$"), timeout=LIVE_MS)
        expect(buyer_page.locator(".message-slot").last.locator("[data-testid=read-receipt]")).to_have_count(1)
        _check_screen(buyer_page, "desktop-read-receipt")

        # When the buyer turns read receipts off in the settings
        buyer_page.get_by_role("link", name="Settings").click()
        toggle = buyer_page.locator("[data-testid=read-receipts]")
        expect(toggle).to_be_checked()
        toggle.uncheck()
        expect(buyer_page.get_by_role("status").filter(has_text="Saved.")).to_be_visible(timeout=LIVE_MS)
        # and writes again, and the seller reads it
        _write(local_stack, web, "nina_rider", thread, "Also, is it waterproof?")
        buyer_page.goto(f"{web}/threads/{thread}")
        expect(buyer_page.locator("[data-testid=message]", has_text="Also, is it waterproof?")).to_be_visible()
        expect(seller_page.locator("[data-testid=message]", has_text="Also, is it waterproof?")).to_be_visible(
            timeout=LIVE_MS
        )
        _wait_until_read(local_stack, web, SELLER, thread)
        # Then no receipt is shown to her, also after a reload
        buyer_page.reload()
        expect(buyer_page.locator("[data-testid=message]", has_text="Also, is it waterproof?")).to_be_visible()
        expect(receipt).to_have_count(0)

        # When she turns them on again, the seller's reading shows under her last message
        buyer_page.goto(f"{web}/settings")
        buyer_page.locator("[data-testid=read-receipts]").check()
        expect(buyer_page.get_by_role("status").filter(has_text="Saved.")).to_be_visible(timeout=LIVE_MS)
        buyer_page.goto(f"{web}/threads/{thread}")
        expect(buyer_page.locator(".message-slot").last.locator("[data-testid=read-receipt]")).to_have_text(
            re.compile(r"^Seen \d{2}:\d{2}$")
        )
    finally:
        buyer_context.close()
        seller_context.close()


def _thread_with(local_stack: LocalStack, web: str, login: str, interlocutor: str) -> str:
    listed = local_stack.session(login).get(f"{web}/messaging/threads", params={"interlocutor.login": interlocutor})
    assert listed.status_code == 200, listed.text
    (thread,) = listed.json()["threads"]
    return str(thread["id"])


def _wait_for_events(local_stack: LocalStack, web: str, login: str, texts: list[str]) -> None:
    """Until the events of these messages are in ``login``'s event feed (the stream is read
    asynchronously: only then did they happen while the socket was down)."""
    session = local_stack.session(login)
    deadline = time.monotonic() + LIVE_MS / 1000
    while True:
        found: set[str] = set()
        cursor: str | None = None
        while True:
            page = session.get(f"{web}/messaging/events", params={"limit": 100, "from": cursor}, timeout=10).json()
            found |= {e["data"]["message"]["text"] for e in page["events"] if e["type"] == "message.created"}
            if not page["events"]:
                break
            cursor = page["cursor"]
        if set(texts) <= found:
            return
        assert time.monotonic() < deadline, f"no events for {set(texts) - found}"
        time.sleep(0.2)


def _wait_until_read(local_stack: LocalStack, web: str, login: str, thread_id: str) -> None:
    """Until ``login`` has read the thread (their open page marks it read when a message arrives)."""
    session = local_stack.session(login)
    deadline = time.monotonic() + LIVE_MS / 1000
    while True:
        shown = session.get(f"{web}/messaging/threads/{thread_id}", timeout=10).json()
        if shown["read"] and shown["unreadCount"] == 0:
            return
        assert time.monotonic() < deadline, f"{login} has not read the thread"
        time.sleep(0.2)
