"""What a recipient is sent (message_center.domain.notifications): no bidirectional controls,
whatever a stored text, file name, login or offer title holds."""

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
from message_center.domain.notifications import EmailCopy, build_email, push_notification
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
    attachment_links=(("umowa\u202efdp.png", "https://api.message-center.test/messaging/message-attachments/a1"),),
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
