"""End to end in a real browser: the web client served by the local runtime, driven with Playwright
in Debian's headless Chromium (``/usr/bin/chromium``; ``make test`` installs it when missing).

Each journey checks what is on the screen, runs axe-core (WCAG 2.1 A/AA) on the screens it passes,
and writes screenshots to ``web/screenshots/`` (git-ignored) for a person to look at.
The web tests load their own users (``web_directory.json``): the e2e tests share one stack.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from local_runtime.directory import DEV_PASSWORD
from tests.support.files import allowed_files

playwright_sync = pytest.importorskip("playwright.sync_api", reason="the dev extra installs playwright")
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright  # noqa: E402

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
AXE = ROOT / "web" / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / "web" / "screenshots"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
SELLER, PRIVATE_SELLER = "sklep-rowerowy", "krzysztof_prywatnie"
# Poll interval of the app (10 s) plus time for the request and the render.
POLL_WAIT_MS = 25_000


@pytest.fixture(scope="module")
def web(local_stack) -> str:
    """The local stack's URL, with the web tests' users loaded and the app built."""
    assert (ROOT / "web" / "dist" / "index.html").is_file(), "build the web client first: make web"
    local_stack.cli("directory", "load", str(Path(__file__).with_name("web_directory.json")), "--local")
    return local_stack.api_url


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    assert CHROMIUM.exists(), "install Chromium: apt-get install -y chromium (make test does)"
    with sync_playwright() as playwright:
        # Playwright gives each launch a fresh, temporary --user-data-dir.
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield launched
        launched.close()


def _context(browser: Browser, viewport: dict[str, int]) -> BrowserContext:
    context = browser.new_context(viewport=viewport, accept_downloads=True, locale="en-GB", timezone_id="Europe/Warsaw")
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    context.set_default_timeout(15_000)
    return context


def _sign_in(page: Page, web: str, login: str, path: str = "/") -> None:
    page.goto(f"{web}{path}")
    page.locator("#login").fill(login)
    page.locator("#password").fill(DEV_PASSWORD)
    page.locator("form button[type=submit]").click()
    expect(page.locator(".top-bar")).to_be_visible()


def _axe_violations(page: Page) -> list[dict[str, Any]]:
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(content=AXE.read_text(encoding="utf-8"))
    result: dict[str, Any] = page.evaluate(
        "() => axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})"
    )
    return [
        {"id": v["id"], "help": v["help"], "targets": [n["target"] for n in v["nodes"]][:5]}
        for v in result["violations"]
    ]


def _check_screen(page: Page, name: str) -> None:
    """No axe violations on this screen; a screenshot of it for people."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))
    assert _axe_violations(page) == [], name


def _open_thread_with(page: Page, login: str) -> None:
    page.locator(".thread-row", has_text=login).click()
    expect(page.locator("#thread-title")).to_have_text(login)


@pytest.mark.parametrize(
    ("device", "viewport", "buyer", "offer"),
    [("desktop", DESKTOP, "marta_wisniewska", "14200000001"), ("phone", PHONE, "ivan_petrenko", "14200000002")],
)
def test_buyer_asks_about_an_offer_seller_answers_buyer_deletes_the_reply(web, browser, device, viewport, buyer, offer):
    png, _ = allowed_files()["photo.png"]
    question = f"Is the bike still available? I attach a photo of my old one ({device})."
    reply = f"Yes, we can ship it tomorrow ({device})."
    buyer_context, seller_context = _context(browser, viewport), _context(browser, viewport)
    buyer_page, seller_page = buyer_context.new_page(), seller_context.new_page()
    try:
        # Given the buyer opens the "ask a question" link of an offer and signs in
        _sign_in(buyer_page, web, buyer, f"/new?offer={offer}")
        expect(buyer_page.locator("#compose-title")).to_be_visible()
        # When they write the question and attach a PNG with the picker
        buyer_page.locator("#new-text").fill(question)
        buyer_page.locator("[data-testid=file-input]").set_input_files(
            files=[{"name": "my-old-bike.png", "mimeType": "image/png", "buffer": png}]
        )
        expect(buyer_page.locator(".pending-item", has_text="my-old-bike.png").locator(".ok")).to_be_visible()
        _check_screen(buyer_page, f"{device}-compose")
        buyer_page.locator(".compose-form button[type=submit]").click()
        # Then the conversation opens with the question, its offer and the attachment
        expect(buyer_page).to_have_url(re.compile(r"/threads/"))
        sent = buyer_page.locator("[data-testid=message]", has_text=question)
        expect(sent).to_contain_text(offer)
        expect(sent.locator(".attachment")).to_contain_text("my-old-bike.png")

        # Given the seller signs in: the badge counts the unread thread
        _sign_in(seller_page, web, SELLER)
        expect(seller_page.locator("[data-testid=badge] .badge-count")).to_have_text(re.compile(r"[1-9]"))
        # When the seller filters the inbox by the buyer's login (and unread)
        if device == "phone":
            expect(seller_page.locator(".detail-pane")).to_be_hidden()  # one pane at a time
        seller_page.locator("#filter-login").fill(buyer)
        seller_page.locator("#filter-login").press("Enter")
        seller_page.locator(".chip", has_text="Nieprzeczytane").click()
        rows = seller_page.locator(".thread-row")
        expect(rows).to_have_count(1)
        expect(rows.first).to_have_class(re.compile(r"\bunread\b"))
        expect(rows.first).to_contain_text(buyer)
        _check_screen(seller_page, f"{device}-inbox")
        # And opens the thread
        _open_thread_with(seller_page, buyer)
        message = seller_page.locator("[data-testid=message]").first
        expect(message).to_contain_text(question)
        # Then they can switch between a machine translation and the original
        if message.get_by_role("button", name="pokaż tekst w oryginale").is_visible():
            message.get_by_role("button", name="pokaż tekst w oryginale").click()
        message.get_by_role("button", name="przetłumacz").click()
        expect(message.locator(".machine-note")).to_contain_text("Tłumaczenie maszynowe")
        expect(message.locator(".message-text")).not_to_have_text(question)
        _check_screen(seller_page, f"{device}-thread")
        message.get_by_role("button", name="pokaż tekst w oryginale").click()
        expect(message.locator(".message-text")).to_have_text(question)
        # And the PNG downloads byte for byte
        with seller_page.expect_download() as download:
            message.get_by_role("button", name="Pobierz my-old-bike.png").click()
        assert download.value.suggested_filename == "my-old-bike.png"
        assert Path(download.value.path()).read_bytes() == png
        # When the seller replies in the thread
        seller_page.locator("#reply-text").fill(reply)
        seller_page.locator(".composer button[type=submit]").click()
        expect(seller_page.locator("[data-testid=message]", has_text=reply)).to_be_visible()
        expect(seller_page.locator("#reply-text")).to_have_value("")

        # Then the buyer, still on the thread, sees the reply after the next poll, announced
        expect(buyer_page.locator("[data-testid=message]", has_text=reply)).to_be_visible(timeout=POLL_WAIT_MS)
        expect(buyer_page.locator("[data-testid=live-region]")).to_contain_text(reply)
        # When the buyer deletes the reply for themselves (the dialog warns the other side keeps it)
        buyer_message = buyer_page.locator("[data-testid=message]", has_text=reply)
        buyer_message.locator("[data-testid=delete]").click()
        dialog = buyer_page.get_by_role("dialog")
        expect(dialog).to_contain_text(re.compile("Druga strona zachowa|Інша сторона збереже"))
        # (Escape closes the dialog without deleting)
        buyer_page.keyboard.press("Escape")
        expect(dialog).to_be_hidden()
        buyer_message.locator("[data-testid=delete]").click()
        dialog.locator("[data-testid=confirm]").click()
        # Then it is gone for the buyer, after a reload too, and the seller still has it
        expect(buyer_page.locator("[data-testid=message]", has_text=reply)).to_have_count(0)
        buyer_page.reload()
        expect(buyer_page.locator("[data-testid=message]", has_text=question)).to_be_visible()
        expect(buyer_page.locator("[data-testid=message]", has_text=reply)).to_have_count(0)
        seller_page.reload()
        expect(seller_page.locator("[data-testid=message]", has_text=reply)).to_be_visible()

        # And the buyer's settings switch the interface language with the profile
        buyer_page.goto(f"{web}/settings")
        expect(buyer_page.locator("#settings-title")).not_to_have_text("Settings")
        buyer_page.get_by_role("radio", name="English").click()
        expect(buyer_page.locator("#settings-title")).to_have_text("Settings")
        expect(buyer_page.get_by_role("radio", name="English")).to_be_checked()
        _check_screen(buyer_page, f"{device}-settings")
    finally:
        buyer_context.close()
        seller_context.close()


@pytest.mark.parametrize(
    ("device", "viewport", "buyer"), [("desktop", DESKTOP, "marta_wisniewska"), ("phone", PHONE, "ivan_petrenko")]
)
def test_private_sellers_new_message_is_refused_with_a_sentence_and_the_text_kept(
    web, browser, device, viewport, buyer
):
    text = f"Hello, your child seat is ready for pickup ({device})."
    context = _context(browser, viewport)
    page = context.new_page()
    try:
        # Given a private seller opens "new message" with the buyer's login and order
        order = {
            "marta_wisniewska": "0b5e7a10-4c2d-4e6f-8a9b-1c2d3e4f5a01",
            "ivan_petrenko": "0b5e7a10-4c2d-4e6f-8a9b-1c2d3e4f5a02",
        }
        _sign_in(page, web, PRIVATE_SELLER, f"/new?recipient={buyer}&order={order[buyer]}")
        expect(page.locator("#recipient")).to_have_value(buyer)
        # When they write and send
        page.locator("#new-text").fill(text)
        page.locator(".compose-form button[type=submit]").click()
        # Then the refusal is a sentence in their language (en), and the text is still there
        expect(page.locator("[data-testid=send-error]")).to_have_text(
            "Only sellers with a business account can start a conversation with a buyer. Your text is kept."
        )
        expect(page.locator("#new-text")).to_have_value(text)
        assert _axe_violations(page) == []
    finally:
        context.close()


def test_wrong_password_is_refused_and_the_session_survives_a_reload(web, browser):
    context = _context(browser, DESKTOP)
    page = context.new_page()
    try:
        # Given the sign-in screen / When a wrong password is given
        page.goto(f"{web}/settings")
        page.locator("#login").fill(SELLER)
        page.locator("#password").fill("not-the-password")
        page.locator("form button[type=submit]").click()
        # Then it is refused with a sentence and nobody is signed in
        expect(page.get_by_role("alert")).to_be_visible()
        expect(page.locator(".top-bar")).to_have_count(0)
        # When the right one is given, the user lands where they wanted to go, and stays after a reload
        page.locator("#password").fill(DEV_PASSWORD)
        page.locator("form button[type=submit]").click()
        expect(page.locator("#settings-title")).to_be_visible()
        page.reload()
        expect(page.locator("#settings-title")).to_be_visible()
        # And signing out returns to the sign-in screen, also after a reload
        page.locator(".top-bar").get_by_role("button").last.click()
        expect(page.locator("#login")).to_be_visible()
        page.reload()
        expect(page.locator("#login")).to_be_visible()
    finally:
        context.close()


# Their own users (loaded by the test): the links' journey must not change the other journeys' inboxes.
LINK_DIRECTORY = {
    "users": [
        {"login": "olena_kowal", "email": "olena.kowal@example.com", "preferredLanguage": "pl",
         "businessAccount": False, "marketplace": "allegro-pl"},
        {"login": "narzedzia-pro", "email": "biuro@narzedzia-pro.example.com", "preferredLanguage": "pl",
         "businessAccount": True, "marketplace": "allegro-pl"},
    ],
    "offers": [{"id": "14200000101", "seller": "narzedzia-pro", "marketplace": "allegro-pl",
                "title": "Wiertarka udarowa 750 W z walizką"}],
}  # fmt: skip


def test_the_email_copys_links_open_the_thread_and_the_settings_after_sign_in(web, browser, local_stack, tmp_path):
    # Given a buyer who asked a seller about an offer (through the API), and the seller's e-mail copy
    directory = tmp_path / "links.json"
    directory.write_text(json.dumps(LINK_DIRECTORY))
    local_stack.cli("directory", "load", str(directory), "--local")
    text = "Czy wiertarka ma w zestawie wiertła do betonu?"
    asked = local_stack.session("olena_kowal").post(
        f"{web}/messaging/messages", json={"offer": {"id": "14200000101"}, "text": text}
    )
    assert asked.status_code == 201, asked.text
    thread_id = asked.json()["thread"]["id"]
    copy = _email_to(web, "biuro@narzedzia-pro.example.com")
    # whose links lead into the web client, not to the API
    (open_link,) = re.findall(r"^Otwórz rozmowę: (\S+)$", copy["text"], flags=re.MULTILINE)
    assert open_link == f"{web}/threads/{thread_id}"
    assert copy["listUnsubscribe"] == f"<{web}/settings>"

    context = _context(browser, DESKTOP)
    page = context.new_page()
    try:
        # When the seller follows "open the conversation" and signs in
        _sign_in(page, web, "narzedzia-pro", open_link.removeprefix(web))
        # Then that thread is open, with the buyer's question
        expect(page).to_have_url(open_link)
        expect(page.locator("#thread-title")).to_have_text("olena_kowal")
        expect(page.locator("[data-testid=message]", has_text=text)).to_be_visible()
        # And the settings link of the same e-mail opens the settings
        page.goto(copy["listUnsubscribe"].strip("<>"))
        expect(page.locator("#settings-title")).to_be_visible()
    finally:
        context.close()


def _email_to(web: str, address: str) -> dict[str, Any]:
    """The local outbox's e-mail to ``address`` (the stream poller sends it within a second or two)."""
    deadline = time.monotonic() + 15
    while True:
        found = [m for m in requests.get(f"{web}/_local/outbox", timeout=10).json() if m["to"] == address]
        if found or time.monotonic() > deadline:
            assert found, f"no e-mail to {address} in the outbox"
            return dict(found[-1])
        time.sleep(0.2)
