"""Product rules, as pure functions of plain values."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from .errors import ForbiddenError, NotFoundError, ValidationError
from .models import MessageType, Offer, Order, RelatesTo, User

MAX_TEXT_LENGTH = 2000
_ALLOWED_CONTROL_CHARACTERS = frozenset("\n\r\t")
# Unicode's Bidi_Control characters. An override makes "invoice\u202egnp.exe" read as
# "invoiceexe.png"; embeddings, isolates and marks can reorder a link's text around it.
BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_WITHOUT_BIDI_CONTROLS = dict.fromkeys(map(ord, BIDI_CONTROLS))
# Nothing is drawn for separators, format and control characters, unassigned or private code
# points, or combining marks without a base; nor for these letters and symbols ("fillers").
_INVISIBLE_CATEGORIES = frozenset({"Zs", "Zl", "Zp", "Cc", "Cf", "Cs", "Co", "Cn", "Mn", "Me"})
_FILLERS = frozenset("\u115f\u1160\u3164\uffa0\u2800")


def without_bidi_controls(text: str) -> str:
    """``text`` without bidirectional controls, so that it reads in the order it is written."""
    return text.translate(_WITHOUT_BIDI_CONTROLS)


def has_visible_character(text: str) -> bool:
    """True when something of ``text`` would be drawn: a letter, digit, punctuation or symbol."""
    return any(unicodedata.category(ch) not in _INVISIBLE_CATEGORIES and ch not in _FILLERS for ch in text)


def normalize_text(text: str) -> str:
    """Remove bidirectional controls, trim, and enforce 1–2000 characters of printable text of
    which at least one is visible."""
    trimmed = without_bidi_controls(text).strip()
    if not trimmed:
        raise ValidationError("Message text must not be empty.", code="TEXT_EMPTY")
    if len(trimmed) > MAX_TEXT_LENGTH:
        raise ValidationError(
            f"Message text is {len(trimmed)} characters long; the limit is {MAX_TEXT_LENGTH}.",
            code="TEXT_TOO_LONG",
        )
    if any(unicodedata.category(ch) == "Cc" and ch not in _ALLOWED_CONTROL_CHARACTERS for ch in trimmed):
        raise ValidationError("Message text contains control characters.", code="TEXT_INVALID_CHARACTERS")
    if not has_visible_character(trimmed):
        raise ValidationError("Message text has no visible character.", code="TEXT_EMPTY")
    return trimmed


def pair_key(user_a: str, user_b: str) -> str:
    """The order-independent key of a pair of users (one thread per pair)."""
    first, second = sorted((user_a, user_b))
    return f"{first}#{second}"


@dataclass(frozen=True)
class ConversationStart:
    """What a new message must look like once the starting rules allowed it."""

    recipient_id: str
    type: MessageType
    relates_to: RelatesTo
    subject: str | None = None


def ask_question(buyer: User, offer: Offer | None) -> ConversationStart:
    """ "Ask a question": any user may write to the seller of an offer, except its seller."""
    if offer is None:
        raise NotFoundError("Offer not found.", code="OFFER_NOT_FOUND")
    if offer.seller_id == buyer.id:
        raise ValidationError("You cannot ask a question about your own offer.", code="OWN_OFFER")
    return ConversationStart(
        recipient_id=offer.seller_id,
        type=MessageType.ASK_QUESTION,
        relates_to=RelatesTo(offer_id=offer.id),
        subject=offer.title,
    )


def ask_about_purchase(buyer: User, order: Order | None) -> ConversationStart:
    """ "Ask about purchase": only the order's buyer, to its seller."""
    if order is None or buyer.id not in (order.buyer_id, order.seller_id):
        raise NotFoundError("Order not found.", code="ORDER_NOT_FOUND")
    if order.buyer_id != buyer.id:
        raise ValidationError(
            "As the seller of this order, name the buyer in recipient.login.", code="RECIPIENT_REQUIRED"
        )
    return ConversationStart(
        recipient_id=order.seller_id,
        type=MessageType.MESSAGE_CENTER,
        relates_to=RelatesTo(order_id=order.id),
    )


def seller_writes_to_buyer(seller: User, buyer: User | None, order: Order | None) -> ConversationStart:
    """A seller may start a thread only with an active business account, naming the buyer and
    an order of that buyer with this seller. A login that does not exist is answered like one
    that did not place the order: the form must not tell which logins exist."""
    if not seller.business_account:
        raise ForbiddenError(
            "Only sellers with an active business account can start a conversation with a buyer.",
            code="BUSINESS_ACCOUNT_REQUIRED",
        )
    if buyer is not None and buyer.id == seller.id:
        raise ValidationError("You cannot write to yourself.", code="SELF_MESSAGE")
    if order is None or order.seller_id != seller.id:
        raise NotFoundError("Order not found.", code="ORDER_NOT_FOUND")
    if buyer is None or order.buyer_id != buyer.id:
        raise ForbiddenError("This order was not placed by the named recipient.", code="ORDER_NOT_WITH_RECIPIENT")
    return ConversationStart(
        recipient_id=buyer.id,
        type=MessageType.MESSAGE_CENTER,
        relates_to=RelatesTo(order_id=order.id),
    )


def write_to_existing_interlocutor(author: User, recipient: User | None, thread_id: str | None) -> ConversationStart:
    """Naming only a login is allowed when the pair already talks: the message joins that thread.
    A login that does not exist is answered like one without a conversation, so that the form
    does not tell which logins exist."""
    if recipient is not None and recipient.id == author.id:
        raise ValidationError("You cannot write to yourself.", code="SELF_MESSAGE")
    if recipient is None or thread_id is None:
        raise ValidationError(
            "Naming only recipient.login continues an existing conversation. Start one from an offer "
            "(offer.id) or an order (order.id); a seller names the buyer in recipient.login together "
            "with order.id.",
            code="CONVERSATION_CONTEXT_REQUIRED",
        )
    return ConversationStart(recipient_id=recipient.id, type=MessageType.MESSAGE_CENTER, relates_to=RelatesTo())
