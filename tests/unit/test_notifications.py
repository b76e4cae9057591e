"""What a recipient is sent (message_center.domain.notifications): no bidirectional controls,
whatever a stored text, file name, login or offer title holds; links into the web client."""

from __future__ import annotations

from datetime import UTC, datetime

from message_center.domain.models import (
    Language,
    Message,
    MessageStatus,
    MessageTranslation,
    MessageType,
    RelatesTo,
)
from message_center.domain.notifications import (
    EmailCopy,
    attachment_link,
    build_email,
    push_notification,
    thread_link,
)
from message_center.domain.rules import BIDI_CONTROLS

# A copy stored before controls were removed on the way in (or coming from the directory).
MESSAGE = Message(
    id="01KAXQ6Z8E4T1M2N3P4Q5R6S7T",
    thread_id="01KAXQ6Z8E4T1M2N3P4Q5R6S7V",
    owner_id="user-shop",
    author_id="user-anna",
    author_login="anna\u202ekowalska",
    text="Umowa w linku: \u202elp.elpmaxe//:sptth\u202c\n\nPozdrawiam \u2067Anna\u2069",
    type=MessageType.ASK_QUESTION,
    status=MessageStatus.DELIVERED,
    created_at=datetime(2026, 11, 26, 4, 0, tzinfo=UTC),
    relates_to=RelatesTo(offer_id="pl-offer-1001"),
)
COPY = EmailCopy(
    message=MESSAGE,
    language=Language.PL,
    author_login=MESSAGE.author_login,
    recipient_email="sklep@rowery.example.com",
    from_address="a-anna@relay.message-center.test",
    reply_to="r-thread@relay.message-center.test",
    relay_domain="relay.message-center.test",
    conversation_url="https://app.message-center.test/threads/01KAXQ6Z8E4T1M2N3P4Q5R6S7V",
    attachment_links=(("umowa\u202efdp.png", "https://app.message-center.test/attachments/a1"),),
    offer_title='Rower \u2066miejski\u2069 28"',
    translation=MessageTranslation(
        language="en", text="Contract at: \u202elp.elpmaxe//:sptth\u202c", source_language="pl", provider="dev"
    ),
)


def test_the_email_copy_carries_no_direction_controls() -> None:
    # Given a message, file name, login and offer title holding overrides, isolates and embeddings
    # When its e-mail copy is built
    email = build_email(COPY)
    # Then no part of it carries a control, and everything reads in the order it was written
    plain = email.get_body(("plain",)).get_content()
    html = email.get_body(("html",)).get_content()
    parts = [str(email["Subject"]), str(email["From"]), plain, html]
    assert not BIDI_CONTROLS & set("".join(parts))
    assert str(email["Subject"]) == 'Nowa wiadomość od annakowalska w sprawie oferty „Rower miejski 28"”'
    assert "lp.elpmaxe//:sptth" in plain and "umowafdp.png" in plain and "Pozdrawiam Anna" in plain
    assert "umowafdp.png" in html


def test_the_push_carries_no_direction_controls() -> None:
    push = push_notification(MESSAGE, Language.PL, badge=1)
    assert not BIDI_CONTROLS & set(push.title + push.preview)
    assert push.preview.startswith("Umowa w linku: lp.elpmaxe//:sptth")


def test_links_open_the_web_clients_thread_and_attachment_pages() -> None:
    # Given the web client's URL, with or without a trailing slash
    for web_url in ("https://app.message-center.test", "https://app.message-center.test/"):
        # When the e-mail's links are built
        # Then they are the web client's pages, not the API's resources
        assert thread_link(web_url, MESSAGE.thread_id) == f"https://app.message-center.test/threads/{MESSAGE.thread_id}"
        assert attachment_link(web_url, "01KAXQ9A") == "https://app.message-center.test/attachments/01KAXQ9A"
    # and an id can never add a path segment or a query to the link
    assert (
        thread_link("https://app.message-center.test", "a/../b?c")
        == "https://app.message-center.test/threads/a%2F..%2Fb%3Fc"
    )
