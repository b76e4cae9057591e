"""Product rules (message_center.domain.rules): text normalisation, pair keys, who may start a thread."""

from __future__ import annotations

import pytest
from message_center.domain.errors import ForbiddenError, MessageCenterError, NotFoundError, ValidationError
from message_center.domain.models import Language, Marketplace, MessageType, Offer, Order, RelatesTo, User
from message_center.domain.rules import (
    MAX_TEXT_LENGTH,
    ConversationStart,
    ask_about_purchase,
    ask_question,
    normalize_text,
    pair_key,
    seller_writes_to_buyer,
    write_to_existing_interlocutor,
)

ANNA = User(
    id="user-anna",
    login="anna_kowalska",
    email="anna.kowalska@example.com",
    preferred_language=Language.PL,
    business_account=False,
    marketplace=Marketplace.PL,
)
SHOP = User(
    id="user-shop",
    login="rowery-kraków",
    email="sklep@rowery.example.com",
    preferred_language=Language.PL,
    business_account=True,
    marketplace=Marketplace.PL,
)
JAN = User(
    id="user-jan",
    login="jan_prywatny",
    email="jan@example.org",
    preferred_language=Language.PL,
    business_account=False,
    marketplace=Marketplace.PL,
)
OLENA = User(
    id="user-olena",
    login="olena_k",
    email="olena@example.com",
    preferred_language=Language.UK,
    business_account=False,
    marketplace=Marketplace.SK,
)

SHOP_OFFER = Offer(id="pl-offer-1001", seller_id=SHOP.id, marketplace=Marketplace.PL, title='Rower miejski 28"')
ANNA_ORDER_FROM_SHOP = Order(
    id="order-anna-1",
    buyer_id=ANNA.id,
    seller_id=SHOP.id,
    marketplace=Marketplace.PL,
    offer_ids=(SHOP_OFFER.id,),
)
OLENA_ORDER_FROM_SHOP = Order(id="order-olena-1", buyer_id=OLENA.id, seller_id=SHOP.id, marketplace=Marketplace.SK)
ANNA_ORDER_FROM_JAN = Order(id="order-anna-jan", buyer_id=ANNA.id, seller_id=JAN.id, marketplace=Marketplace.PL)


def _assert_refused(excinfo: pytest.ExceptionInfo[MessageCenterError], error_class: type, code: str) -> None:
    """The exact error class (not just a sibling) and its stable code."""
    assert type(excinfo.value) is error_class
    assert excinfo.value.code == code
    assert excinfo.value.detail  # a human-readable explanation is always given


# --- normalize_text ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  hello  ", "hello"),
        ("\n\t hello \t\n", "hello"),
        ("\r\nhello\r\n", "hello"),
        ("  a  b  ", "a  b"),  # inner whitespace is kept
        ("x", "x"),
    ],
)
def test_normalize_text_trims_surrounding_whitespace_only(raw: str, expected: str) -> None:
    # Given a text with surrounding whitespace
    # When it is normalised
    result = normalize_text(raw)
    # Then only the outer whitespace is removed
    assert result == expected


@pytest.mark.parametrize("raw", ["", " ", "   ", "\n", "\t\n \r\n"])
def test_normalize_text_refuses_text_that_is_empty_after_trimming(raw: str) -> None:
    # Given a text with no content once trimmed
    # When it is normalised
    with pytest.raises(ValidationError) as excinfo:
        normalize_text(raw)
    # Then it is refused as empty
    _assert_refused(excinfo, ValidationError, "TEXT_EMPTY")


def test_normalize_text_limit_is_2000_characters() -> None:
    assert MAX_TEXT_LENGTH == 2000


def test_normalize_text_accepts_exactly_2000_characters() -> None:
    # Given a text of exactly the limit
    text = "a" * 2000
    # When it is normalised
    result = normalize_text(text)
    # Then it is accepted unchanged
    assert result == text
    assert len(result) == 2000


def test_normalize_text_refuses_2001_characters() -> None:
    # Given a text one character over the limit
    text = "a" * 2001
    # When it is normalised
    with pytest.raises(ValidationError) as excinfo:
        normalize_text(text)
    # Then it is refused as too long, and the message names the length and the limit
    _assert_refused(excinfo, ValidationError, "TEXT_TOO_LONG")
    assert "2001" in excinfo.value.detail
    assert "2000" in excinfo.value.detail


def test_normalize_text_counts_length_after_trimming() -> None:
    # Given 2000 characters of content padded with whitespace (2010 characters raw)
    text = "     " + "b" * 2000 + "     "
    # When it is normalised
    result = normalize_text(text)
    # Then the padding does not count against the limit
    assert result == "b" * 2000


def test_normalize_text_refuses_2001_characters_of_content_even_with_padding() -> None:
    # Given 2001 characters of content padded with whitespace
    text = "  " + "c" * 2001 + "  "
    # When it is normalised
    with pytest.raises(ValidationError) as excinfo:
        normalize_text(text)
    # Then it is refused as too long
    _assert_refused(excinfo, ValidationError, "TEXT_TOO_LONG")


@pytest.mark.parametrize(
    "control",
    ["\x00", "\x01", "\x07", "\x08", "\x0b", "\x0c", "\x1b", "\x1f", "\x7f", "\x85", "\x9f"],
    ids=lambda ch: f"U+{ord(ch):04X}",
)
def test_normalize_text_refuses_control_characters_inside_the_text(control: str) -> None:
    # Given a text with a control character between visible characters
    text = f"Dzień dobry{control}czy rower jest dostępny?"
    # When it is normalised
    with pytest.raises(ValidationError) as excinfo:
        normalize_text(text)
    # Then it is refused for its characters
    _assert_refused(excinfo, ValidationError, "TEXT_INVALID_CHARACTERS")


@pytest.mark.parametrize(
    "text",
    [
        "Pierwsza linia\nDruga linia",
        "Kolumna1\tKolumna2",
        "Windows\r\nline ending",
        "a\n\n\tb",
    ],
)
def test_normalize_text_keeps_newlines_and_tabs(text: str) -> None:
    # Given a multi-line or tabbed text
    # When it is normalised
    result = normalize_text(text)
    # Then the line breaks and tabs survive unchanged
    assert result == text


@pytest.mark.parametrize(
    "text",
    [
        "Zażółć gęślą jaźń. Czy rower jest dostępny?",
        "ĄĆĘŁŃÓŚŹŻ ąćęłńóśźż",
        "Доброго дня! Чи є ще в наявності? Ґанок, їжак, європа.",
        "Dzięki 👍🏻 🚲🎉",
        "👨\u200d👩\u200d👧",  # a family emoji joined by zero-width joiners
        "Petra: Děkuji, přijde to zítra?",
    ],
)
def test_normalize_text_accepts_polish_ukrainian_and_emoji_text(text: str) -> None:
    # Given text in Polish, Ukrainian, Czech or with emoji
    # When it is normalised
    result = normalize_text(text)
    # Then it is accepted unchanged
    assert result == text


@pytest.mark.parametrize(
    "blank",
    [
        "\u200b\u200c\u200d\u2060",  # zero-width space, non-joiner, joiner, word joiner
        "\u3164\u3164",  # Hangul filler, a "letter" that draws nothing
        "\u115f\u1160\uffa0",  # more Hangul fillers
        "\u2800\u2800",  # blank Braille pattern, a "symbol" that draws nothing
        "\ufeff\u00ad\u180e",  # byte order mark, soft hyphen, Mongolian vowel separator
        "\u0301\u034f\ufe0f",  # combining marks and a variation selector with nothing to sit on
        "\U000e0041\U000e0042",  # tag characters
        "\ue000",  # private use: no standard glyph
        "\u202e\u2067",  # only direction controls
    ],
)
def test_normalize_text_refuses_text_with_nothing_visible(blank: str) -> None:
    # Given a text that would show nothing
    # When it is normalised
    with pytest.raises(ValidationError) as excinfo:
        normalize_text(f" {blank} ")
    # Then it is refused as empty
    _assert_refused(excinfo, ValidationError, "TEXT_EMPTY")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("faktura\u202efdp.exe", "fakturafdp.exe"),  # would read "fakturaexe.pdf"
        ("Link: \u202elp.elpmaxe//:sptth\u202c, dzięki", "Link: lp.elpmaxe//:sptth, dzięki"),
        ("\u2066a\u2069\u2067b\u2069\u2068c\u2069", "abc"),  # isolates
        ("\u202aa\u202bb\u202dc\u202c", "abc"),  # embeddings and a left-to-right override
        ("a\u200eb\u200fc\u061cd", "abcd"),  # marks
        ("\u202e Dzień dobry \u202e", "Dzień dobry"),  # trimmed once the controls are gone
    ],
)
def test_normalize_text_removes_direction_controls(raw: str, expected: str) -> None:
    # Given a text with bidirectional controls
    # When it is normalised
    result = normalize_text(raw)
    # Then it reads in the order it was written
    assert result == expected


# --- pair_key -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("user_a", "user_b", "expected"),
    [
        ("alice", "bob", "alice#bob"),
        ("bob", "alice", "alice#bob"),
        (
            "01HRZ0000000000000000000B",
            "01HRZ0000000000000000000A",
            "01HRZ0000000000000000000A#01HRZ0000000000000000000B",
        ),
        ("same", "same", "same#same"),
    ],
)
def test_pair_key_is_sorted_and_joined(user_a: str, user_b: str, expected: str) -> None:
    # Given two user ids
    # When the pair key is computed
    # Then it is both ids in sorted order, joined by '#'
    assert pair_key(user_a, user_b) == expected


def test_pair_key_is_independent_of_order() -> None:
    # Given the same two users in either order
    # When both pair keys are computed
    # Then they are equal (one thread per pair)
    assert pair_key(ANNA.id, SHOP.id) == pair_key(SHOP.id, ANNA.id) == "user-anna#user-shop"


def test_pair_key_differs_for_different_pairs() -> None:
    assert pair_key(ANNA.id, SHOP.id) != pair_key(ANNA.id, JAN.id)


# --- ask_question -------------------------------------------------------------------------------


def test_ask_question_about_a_missing_offer_is_not_found() -> None:
    # Given no offer
    # When a buyer asks a question about it
    with pytest.raises(NotFoundError) as excinfo:
        ask_question(ANNA, None)
    # Then the offer is not found
    _assert_refused(excinfo, NotFoundError, "OFFER_NOT_FOUND")


def test_ask_question_about_own_offer_is_refused() -> None:
    # Given the seller's own offer
    # When the seller asks a question about it
    with pytest.raises(ValidationError) as excinfo:
        ask_question(SHOP, SHOP_OFFER)
    # Then it is refused as a question to oneself
    _assert_refused(excinfo, ValidationError, "OWN_OFFER")


@pytest.mark.parametrize("asker", [ANNA, JAN, OLENA], ids=lambda u: u.login)
def test_ask_question_goes_to_the_offer_seller(asker: User) -> None:
    # Given another user's offer
    # When someone who is not its seller asks a question
    start = ask_question(asker, SHOP_OFFER)
    # Then the message goes to the seller as ASK_QUESTION, relating to the offer, titled like it
    assert start == ConversationStart(
        recipient_id="user-shop",
        type=MessageType.ASK_QUESTION,
        relates_to=RelatesTo(offer_id="pl-offer-1001", order_id=None),
        subject='Rower miejski 28"',
    )


# --- ask_about_purchase -------------------------------------------------------------------------


def test_ask_about_purchase_of_a_missing_order_is_not_found() -> None:
    # Given no order
    # When a buyer asks about it
    with pytest.raises(NotFoundError) as excinfo:
        ask_about_purchase(ANNA, None)
    # Then the order is not found
    _assert_refused(excinfo, NotFoundError, "ORDER_NOT_FOUND")


@pytest.mark.parametrize("outsider", [JAN, OLENA], ids=lambda u: u.login)
def test_ask_about_purchase_by_a_non_participant_is_not_found(outsider: User) -> None:
    # Given an order between Anna and the shop
    # When someone else asks about it
    with pytest.raises(NotFoundError) as excinfo:
        ask_about_purchase(outsider, ANNA_ORDER_FROM_SHOP)
    # Then they learn nothing: the order is "not found"
    _assert_refused(excinfo, NotFoundError, "ORDER_NOT_FOUND")


def test_ask_about_purchase_by_the_seller_requires_a_recipient() -> None:
    # Given an order
    # When its seller uses "ask about purchase"
    with pytest.raises(ValidationError) as excinfo:
        ask_about_purchase(SHOP, ANNA_ORDER_FROM_SHOP)
    # Then the seller is told to name the buyer
    _assert_refused(excinfo, ValidationError, "RECIPIENT_REQUIRED")


def test_ask_about_purchase_by_the_buyer_goes_to_the_seller() -> None:
    # Given Anna's order from the shop
    # When Anna asks about it
    start = ask_about_purchase(ANNA, ANNA_ORDER_FROM_SHOP)
    # Then the message goes to the shop, relating to the order, without a subject
    assert start == ConversationStart(
        recipient_id="user-shop",
        type=MessageType.MESSAGE_CENTER,
        relates_to=RelatesTo(offer_id=None, order_id="order-anna-1"),
        subject=None,
    )


def test_ask_about_purchase_from_a_private_seller_goes_to_that_seller() -> None:
    # Given Anna's order from Jan (a private seller)
    # When Anna asks about it
    start = ask_about_purchase(ANNA, ANNA_ORDER_FROM_JAN)
    # Then the message goes to Jan
    assert start.recipient_id == "user-jan"
    assert start.relates_to == RelatesTo(order_id="order-anna-jan")


# --- seller_writes_to_buyer ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("buyer", "order"),
    [
        (ANNA, ANNA_ORDER_FROM_JAN),  # an otherwise valid request
        (None, None),  # the business-account rule is checked first
    ],
)
def test_seller_without_business_account_cannot_start_a_conversation(buyer: User | None, order: Order | None) -> None:
    # Given a private seller (no business account)
    # When they try to start a conversation with a buyer
    with pytest.raises(ForbiddenError) as excinfo:
        seller_writes_to_buyer(JAN, buyer, order)
    # Then it is forbidden
    _assert_refused(excinfo, ForbiddenError, "BUSINESS_ACCOUNT_REQUIRED")


@pytest.mark.parametrize(
    ("order", "error_class", "code"),
    [
        (ANNA_ORDER_FROM_SHOP, ForbiddenError, "ORDER_NOT_WITH_RECIPIENT"),
        (ANNA_ORDER_FROM_JAN, NotFoundError, "ORDER_NOT_FOUND"),
        (None, NotFoundError, "ORDER_NOT_FOUND"),
    ],
    ids=["own-order", "order-of-another-seller", "missing-order"],
)
def test_seller_naming_an_unknown_login_learns_no_more_than_for_a_login_that_did_not_buy(
    order: Order | None, error_class: type, code: str
) -> None:
    # Given a business seller naming a login nobody has, and a login that exists but did not place
    # the order (Olena, for an order of Anna)
    with pytest.raises(MessageCenterError) as unknown:
        seller_writes_to_buyer(SHOP, None, order)
    with pytest.raises(MessageCenterError) as existing:
        seller_writes_to_buyer(SHOP, OLENA, order)
    # Then both are refused alike: the form does not tell which logins exist
    _assert_refused(unknown, error_class, code)
    _assert_refused(existing, error_class, code)
    assert unknown.value.detail == existing.value.detail


def test_seller_writes_to_themselves_is_refused() -> None:
    # Given a business seller naming themselves as the buyer
    # When the seller writes
    with pytest.raises(ValidationError) as excinfo:
        seller_writes_to_buyer(SHOP, SHOP, ANNA_ORDER_FROM_SHOP)
    # Then writing to oneself is refused
    _assert_refused(excinfo, ValidationError, "SELF_MESSAGE")


@pytest.mark.parametrize(
    "order",
    [None, ANNA_ORDER_FROM_JAN],  # no order; an order of Anna with a different seller
    ids=["missing-order", "order-of-another-seller"],
)
def test_seller_writes_about_an_order_that_is_not_theirs_is_not_found(order: Order | None) -> None:
    # Given a business seller and an order that does not exist or belongs to another seller
    # When the seller writes to its buyer
    with pytest.raises(NotFoundError) as excinfo:
        seller_writes_to_buyer(SHOP, ANNA, order)
    # Then the order is not found
    _assert_refused(excinfo, NotFoundError, "ORDER_NOT_FOUND")


def test_seller_writes_about_an_order_of_a_different_buyer_is_forbidden() -> None:
    # Given the shop's order placed by Olena
    # When the shop writes to Anna about it
    with pytest.raises(ForbiddenError) as excinfo:
        seller_writes_to_buyer(SHOP, ANNA, OLENA_ORDER_FROM_SHOP)
    # Then it is forbidden: the order was not placed by the named recipient
    _assert_refused(excinfo, ForbiddenError, "ORDER_NOT_WITH_RECIPIENT")


def test_seller_writes_to_the_buyer_of_their_order() -> None:
    # Given the shop's order placed by Anna
    # When the shop writes to Anna about it
    start = seller_writes_to_buyer(SHOP, ANNA, ANNA_ORDER_FROM_SHOP)
    # Then the message goes to Anna, relating to the order, without a subject
    assert start == ConversationStart(
        recipient_id="user-anna",
        type=MessageType.MESSAGE_CENTER,
        relates_to=RelatesTo(offer_id=None, order_id="order-anna-1"),
        subject=None,
    )


# --- write_to_existing_interlocutor -------------------------------------------------------------


def test_writing_to_an_unknown_login_is_answered_like_a_login_without_a_conversation() -> None:
    # Given a login nobody has, and Jan, with whom Anna has no thread
    # When Anna writes to each by login only
    with pytest.raises(ValidationError) as unknown:
        write_to_existing_interlocutor(ANNA, None, None)
    with pytest.raises(ValidationError) as existing:
        write_to_existing_interlocutor(ANNA, JAN, None)
    # Then both are refused alike: the form does not tell which logins exist
    _assert_refused(unknown, ValidationError, "CONVERSATION_CONTEXT_REQUIRED")
    _assert_refused(existing, ValidationError, "CONVERSATION_CONTEXT_REQUIRED")
    assert unknown.value.detail == existing.value.detail


def test_write_to_oneself_is_refused() -> None:
    # Given Anna naming herself
    # When she writes by login
    with pytest.raises(ValidationError) as excinfo:
        write_to_existing_interlocutor(ANNA, ANNA, None)
    # Then writing to oneself is refused
    _assert_refused(excinfo, ValidationError, "SELF_MESSAGE")


def test_write_to_someone_without_an_existing_thread_needs_a_context() -> None:
    # Given a pair that has never talked (no thread)
    # When Anna writes to Jan by login only
    with pytest.raises(ValidationError) as excinfo:
        write_to_existing_interlocutor(ANNA, JAN, None)
    # Then she is told to start from an offer or an order
    _assert_refused(excinfo, ValidationError, "CONVERSATION_CONTEXT_REQUIRED")


def test_write_to_an_existing_interlocutor_joins_the_thread() -> None:
    # Given a pair that already has a thread
    # When Anna writes to the shop by login only
    start = write_to_existing_interlocutor(ANNA, SHOP, "01HRZ5K3N2V7Q8W9X0Y1Z2A3B4")
    # Then the message goes to the shop, relating to nothing, without a subject
    assert start == ConversationStart(
        recipient_id="user-shop",
        type=MessageType.MESSAGE_CENTER,
        relates_to=RelatesTo(offer_id=None, order_id=None),
        subject=None,
    )
