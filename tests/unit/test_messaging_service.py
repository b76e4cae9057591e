"""MessagingService on in-memory fakes: every form of send, idempotency, optimistic-locking
retries, participants-only reads, delete for me, read flags with badges, and the inbox filters."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from message_center.domain.errors import ConflictError, ForbiddenError, NotFoundError, ValidationError
from message_center.domain.models import MessageType, RelatesTo
from message_center.domain.sending import Channel, SendMessage
from message_center.services.messaging import InboxQuery, MessageQuery, SendResult

from tests.unit.fakes import IDEMPOTENCY_TTL, FakeWorld
from tests.unit.marketplace import (
    ANNA,
    ANNA_BIKE_ORDER,
    ANNA_CAMERA_ORDER,
    BIKE,
    HELMET,
    JAN,
    PETRA,
    PETRA_BIKE_ORDER,
    SHOP,
    populated_world,
)


@pytest.fixture
def world() -> FakeWorld:
    return populated_world()


def ask(world: FakeWorld, text: str = "Czy jest rozmiar M?", **fields: object) -> SendResult:
    """Anna asks about the bike (or sends whatever ``fields`` say)."""
    command = {"author_id": ANNA.id, "text": text, "offer_id": BIKE.id} | fields
    return world.messaging.send(SendMessage(**command))  # type: ignore[arg-type]


def write(world: FakeWorld, author_id: str, thread_id: str, text: str, **fields: object) -> SendResult:
    return world.messaging.send(SendMessage(author_id=author_id, text=text, thread_id=thread_id, **fields))  # type: ignore[arg-type]


def texts(world: FakeWorld, owner_id: str, thread_id: str) -> list[str]:
    """What the owner sees in the thread, newest first."""
    return [m.text for m in world.messaging.list_messages(owner_id, thread_id, MessageQuery()).messages]


def nothing_stored(world: FakeWorld) -> bool:
    return not (world.threads.pairs or world.threads.entries or world.threads.refs or world.table.claims)


# -- starting and continuing conversations ---------------------------------------------------


def test_asking_a_question_starts_a_thread_with_the_offers_seller():
    world = populated_world()
    # When anna asks about the shop's bike
    sent = ask(world, "  Czy jest rozmiar M?  ")
    # Then the message is the trimmed text, an ASK_QUESTION about the offer, titled like it
    message = sent.message
    assert not sent.replayed
    assert (message.text, message.type, message.relates_to, message.subject) == (
        "Czy jest rozmiar M?",
        MessageType.ASK_QUESTION,
        RelatesTo(offer_id=BIKE.id),
        BIKE.title,
    )
    # And both have their own copy in one thread of the pair
    thread_id = message.thread_id
    assert world.threads.find_thread_of_pair(SHOP.id, ANNA.id) == thread_id
    assert world.messaging.get_message(ANNA.id, message.id).owner_id == ANNA.id
    assert world.messaging.get_message(SHOP.id, message.id).owner_id == SHOP.id
    # And the shop has one unread message, anna's entry is read and waits for the shop
    shop_entry, anna_entry = (
        world.messaging.get_thread(SHOP.id, thread_id),
        world.messaging.get_thread(ANNA.id, thread_id),
    )
    assert (shop_entry.interlocutor_login, shop_entry.read, shop_entry.unread_count) == (ANNA.login, False, 1)
    assert (anna_entry.interlocutor_login, anna_entry.read, anna_entry.awaiting_reply) == (SHOP.login, True, False)
    assert [world.directory.get_user(u.id).unread_threads for u in (SHOP, ANNA)] == [1, 0]  # type: ignore[union-attr]


def test_a_second_question_to_the_same_seller_joins_the_pairs_thread():
    world = populated_world()
    first = ask(world)
    # When anna asks about another offer of the same shop
    second = ask(world, "A kask w rozmiarze L?", offer_id=HELMET.id)
    # Then it is the same thread, and the message says which offer it is about
    assert second.message.thread_id == first.message.thread_id
    assert second.message.relates_to == RelatesTo(offer_id=HELMET.id)
    assert texts(world, SHOP.id, first.message.thread_id) == ["A kask w rozmiarze L?", "Czy jest rozmiar M?"]
    # And the shop's badge counts the thread once, with two unread messages in it
    assert world.directory.get_user(SHOP.id).unread_threads == 1  # type: ignore[union-attr]
    assert world.messaging.get_thread(SHOP.id, first.message.thread_id).unread_count == 2


@pytest.mark.parametrize(
    ("author", "offer_id", "code", "error"),
    [
        (SHOP, BIKE.id, "OWN_OFFER", ValidationError),
        (ANNA, "pl-offer-missing", "OFFER_NOT_FOUND", NotFoundError),
    ],
)
def test_a_question_about_ones_own_or_a_missing_offer_is_refused(author, offer_id, code, error):
    world = populated_world()
    # When a question names the author's own offer, or one that does not exist
    with pytest.raises(error) as refused:
        world.messaging.send(SendMessage(author_id=author.id, text="Pytanie", offer_id=offer_id))
    # Then it is refused with its reason, and nothing is stored
    assert refused.value.code == code
    assert nothing_stored(world)


def test_the_buyer_asks_about_a_purchase():
    world = populated_world()
    # When anna asks about her order
    message = world.messaging.send(
        SendMessage(author_id=ANNA.id, text="Kiedy wysyłka?", order_id=ANNA_BIKE_ORDER.id)
    ).message
    # Then the shop gets it, about the order
    assert (message.type, message.relates_to) == (MessageType.MESSAGE_CENTER, RelatesTo(order_id=ANNA_BIKE_ORDER.id))
    assert world.messaging.get_thread(SHOP.id, message.thread_id).interlocutor_id == ANNA.id


@pytest.mark.parametrize(
    ("author", "order_id", "code"),
    [
        (ANNA, PETRA_BIKE_ORDER.id, "ORDER_NOT_FOUND"),  # someone else's order
        (JAN, ANNA_BIKE_ORDER.id, "ORDER_NOT_FOUND"),  # neither its buyer nor its seller
        (ANNA, "order-missing", "ORDER_NOT_FOUND"),
        (SHOP, ANNA_BIKE_ORDER.id, "RECIPIENT_REQUIRED"),  # its seller must name the buyer
    ],
)
def test_only_the_orders_buyer_asks_about_a_purchase(author, order_id, code):
    world = populated_world()
    # When someone other than the buyer asks about an order
    with pytest.raises((NotFoundError, ValidationError)) as refused:
        world.messaging.send(SendMessage(author_id=author.id, text="Kiedy wysyłka?", order_id=order_id))
    # Then they learn nothing about it (or are told to name the buyer), and nothing is stored
    assert refused.value.code == code
    assert nothing_stored(world)


def test_a_business_seller_writes_to_a_buyer_of_their_order():
    world = populated_world()
    # When the shop writes to anna about her order, naming her login in another case
    message = world.messaging.send(
        SendMessage(
            author_id=SHOP.id, text="Paczka wysłana.", recipient_login="ANNA_Kowalska", order_id=ANNA_BIKE_ORDER.id
        )
    ).message
    # Then anna has it, about the order
    assert message.relates_to == RelatesTo(order_id=ANNA_BIKE_ORDER.id)
    assert texts(world, ANNA.id, message.thread_id) == ["Paczka wysłana."]
    assert world.messaging.get_thread(ANNA.id, message.thread_id).interlocutor_login == SHOP.login


@pytest.mark.parametrize(
    ("author", "login", "order_id", "code", "error"),
    [
        (JAN, ANNA.login, ANNA_CAMERA_ORDER.id, "BUSINESS_ACCOUNT_REQUIRED", ForbiddenError),
        (SHOP, PETRA.login, ANNA_BIKE_ORDER.id, "ORDER_NOT_WITH_RECIPIENT", ForbiddenError),
        (SHOP, ANNA.login, ANNA_CAMERA_ORDER.id, "ORDER_NOT_FOUND", NotFoundError),  # another seller's order
        (SHOP, ANNA.login, "order-missing", "ORDER_NOT_FOUND", NotFoundError),
        # a login nobody has is answered like one that did not place the order
        (SHOP, "nobody_here", ANNA_BIKE_ORDER.id, "ORDER_NOT_WITH_RECIPIENT", ForbiddenError),
        (SHOP, SHOP.login, ANNA_BIKE_ORDER.id, "SELF_MESSAGE", ValidationError),
    ],
)
def test_a_seller_needs_a_business_account_and_an_order_of_that_buyer(author, login, order_id, code, error):
    world = populated_world()
    # When a seller starts a conversation without what the rules ask for
    with pytest.raises(error) as refused:
        world.messaging.send(
            SendMessage(author_id=author.id, text="Dzień dobry", recipient_login=login, order_id=order_id)
        )
    # Then it is refused with the reason, and nothing is stored
    assert refused.value.code == code
    assert nothing_stored(world)


def test_naming_only_the_login_continues_an_existing_conversation():
    world = populated_world()
    thread_id = ask(world).message.thread_id
    # When the shop writes to anna by login only
    reply = world.messaging.send(SendMessage(author_id=SHOP.id, text="Tak, jest.", recipient_login=ANNA.login))
    # Then the message joins their thread, about nothing in particular
    assert (reply.message.thread_id, reply.message.relates_to) == (thread_id, RelatesTo())
    assert texts(world, ANNA.id, thread_id) == ["Tak, jest.", "Czy jest rozmiar M?"]


@pytest.mark.parametrize(
    ("login", "code", "error"),
    [
        (JAN.login, "CONVERSATION_CONTEXT_REQUIRED", ValidationError),  # no thread with jan yet
        (ANNA.login, "SELF_MESSAGE", ValidationError),
        # a login nobody has is answered like one without a thread
        ("nobody_here", "CONVERSATION_CONTEXT_REQUIRED", ValidationError),
    ],
)
def test_a_login_alone_does_not_start_a_conversation(login, code, error):
    world = populated_world()
    ask(world)
    # When anna names only a login she has no thread with (or her own, or no one's)
    with pytest.raises(error) as refused:
        world.messaging.send(SendMessage(author_id=ANNA.id, text="Cześć", recipient_login=login))
    # Then it is refused and no other thread appears
    assert refused.value.code == code
    assert len(world.threads.pairs) == 1


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"offer_id": BIKE.id, "order_id": ANNA_BIKE_ORDER.id}, "AMBIGUOUS_CONTEXT"),
        ({"offer_id": BIKE.id, "recipient_login": SHOP.login}, "AMBIGUOUS_CONTEXT"),
        ({}, "CONVERSATION_CONTEXT_REQUIRED"),
    ],
)
def test_a_send_must_name_one_context(fields, code):
    world = populated_world()
    with pytest.raises(ValidationError) as refused:
        world.messaging.send(SendMessage(author_id=ANNA.id, text="Pytanie", **fields))
    assert refused.value.code == code
    assert nothing_stored(world)


@pytest.mark.parametrize(
    ("text", "code"),
    [("   \n ", "TEXT_EMPTY"), ("x" * 2001, "TEXT_TOO_LONG"), ("zły\x07znak", "TEXT_INVALID_CHARACTERS")],
)
def test_an_invalid_text_is_refused_before_anything_is_stored(text, code):
    world = populated_world()
    with pytest.raises(ValidationError) as refused:
        ask(world, text)
    assert refused.value.code == code
    assert nothing_stored(world)


def test_an_author_missing_from_the_directory_is_told_so():
    world = populated_world()
    with pytest.raises(NotFoundError) as refused:
        ask(world, author_id="user-not-in-directory")
    assert refused.value.code == "USER_NOT_FOUND"


def test_a_participant_writes_in_the_thread():
    world = populated_world()
    thread_id = ask(world).message.thread_id
    # When the shop answers in the thread, then anna writes again
    write(world, SHOP.id, thread_id, "Tak, jest M.")
    write(world, ANNA.id, thread_id, "Dziękuję!")
    # Then both see the conversation newest first
    assert (
        texts(world, ANNA.id, thread_id)
        == texts(world, SHOP.id, thread_id)
        == [
            "Dziękuję!",
            "Tak, jest M.",
            "Czy jest rozmiar M?",
        ]
    )
    # And the shop has one unread message (anna's last), anna has none
    assert world.messaging.get_thread(SHOP.id, thread_id).unread_count == 1
    assert world.messaging.get_thread(ANNA.id, thread_id).unread_count == 0


@pytest.mark.parametrize("thread_id", ["not-a-ulid", "01JNB3K5QY8N2W4X6Z0A1B2C3D"])
def test_writing_in_a_thread_one_is_not_part_of_is_not_found(thread_id):
    world = populated_world()
    ask(world)
    with pytest.raises(NotFoundError) as refused:
        write(world, ANNA.id, thread_id, "Halo?")
    assert refused.value.code == "THREAD_NOT_FOUND"


def test_jan_cannot_write_in_anna_and_the_shops_thread():
    world = populated_world()
    thread_id = ask(world).message.thread_id
    with pytest.raises(NotFoundError) as refused:
        write(world, JAN.id, thread_id, "Wtrącam się")
    assert refused.value.code == "THREAD_NOT_FOUND"
    assert texts(world, ANNA.id, thread_id) == ["Czy jest rozmiar M?"]


def test_an_email_joins_the_thread_its_route_names():
    world = populated_world()
    thread_id = ask(world).message.thread_id
    # When the shop's e-mail reply arrives with its decided route
    sent = world.messaging.send(
        SendMessage(
            author_id=SHOP.id,
            text="Odpowiadam mailem.",
            channel=Channel.MAIL,
            recipient_id=ANNA.id,
            thread_id=thread_id,
            idempotency_key="mail-0001",
        )
    )
    # Then it is a MAIL message in that thread, unread for anna
    assert (sent.message.type, sent.message.thread_id) == (MessageType.MAIL, thread_id)
    assert texts(world, ANNA.id, thread_id)[0] == "Odpowiadam mailem."
    assert world.messaging.get_thread(ANNA.id, thread_id).read is False


def test_an_email_to_a_masked_address_starts_the_pairs_thread():
    world = populated_world()
    # When jan's e-mail to the shop's masked address arrives (no thread between them yet)
    sent = world.messaging.send(
        SendMessage(author_id=JAN.id, text="Macie kaski?", channel=Channel.MAIL, recipient_id=SHOP.id)
    )
    # Then a thread of the pair holds it
    assert world.threads.find_thread_of_pair(JAN.id, SHOP.id) == sent.message.thread_id
    assert texts(world, SHOP.id, sent.message.thread_id) == ["Macie kaski?"]


@pytest.mark.parametrize("recipient_id", [None, ANNA.id, "user-unknown"])
def test_an_email_without_a_valid_recipient_is_refused(recipient_id):
    world = populated_world()
    with pytest.raises(NotFoundError) as refused:
        world.messaging.send(SendMessage(author_id=ANNA.id, text="?", channel=Channel.MAIL, recipient_id=recipient_id))
    assert refused.value.code == "RECIPIENT_NOT_FOUND"
    assert nothing_stored(world)


# -- idempotency -----------------------------------------------------------------------------


def test_the_same_idempotency_key_and_body_replays_the_first_message():
    world = populated_world()
    first = ask(world, idempotency_key="key-1")
    # When the client retries the same request
    again = ask(world, idempotency_key="key-1")
    # Then it gets the same message back, marked as a replay, and only one is stored
    assert again.replayed and again.message == first.message
    assert texts(world, SHOP.id, first.message.thread_id) == ["Czy jest rozmiar M?"]


def test_reusing_a_key_for_a_different_body_is_refused():
    world = populated_world()
    ask(world, idempotency_key="key-1")
    with pytest.raises(ValidationError) as refused:
        ask(world, "Inna treść", idempotency_key="key-1")
    assert refused.value.code == "IDEMPOTENCY_KEY_REUSED"
    assert len(world.threads.refs) == 1


def test_keys_belong_to_their_user():
    world = populated_world()
    ask(world, idempotency_key="key-1")
    # When jan uses the same key for his own question
    jan = world.messaging.send(SendMessage(author_id=JAN.id, text="Pytanie", offer_id=BIKE.id, idempotency_key="key-1"))
    # Then it is a new message of his
    assert not jan.replayed and jan.message.author_id == JAN.id


def test_a_key_is_remembered_for_its_time_only():
    world = populated_world()
    first = ask(world, idempotency_key="key-1")
    assert world.messaging.sent_message_id(ANNA.id, "key-1") == first.message.id
    # When the key's time has passed
    world.clock.advance(IDEMPOTENCY_TTL + timedelta(minutes=1))
    # Then it is forgotten: a new request with it is a new message, not a replay or a refusal
    assert world.messaging.sent_message_id(ANNA.id, "key-1") is None
    second = ask(world, "Drugie pytanie", idempotency_key="key-1")
    assert not second.replayed and second.message.id != first.message.id
    assert world.messaging.sent_message_id(ANNA.id, "key-1") == second.message.id
    assert texts(world, SHOP.id, first.message.thread_id) == ["Drugie pytanie", "Czy jest rozmiar M?"]


def test_replaying_a_message_its_author_deleted_is_a_conflict():
    world = populated_world()
    first = ask(world, idempotency_key="key-1")
    world.messaging.delete_message(ANNA.id, first.message.id)
    with pytest.raises(ConflictError) as refused:
        ask(world, idempotency_key="key-1")
    assert refused.value.code == "IDEMPOTENT_GONE"


def test_a_concurrent_request_with_the_same_key_is_replayed_not_stored_twice():
    world = populated_world()
    concurrent: list[SendResult] = []
    # Given the same request commits from another connection right before this one writes
    world.threads.before_next_write(lambda: concurrent.append(ask(world, idempotency_key="key-1")))
    # When this one writes
    result = ask(world, idempotency_key="key-1")
    # Then it returns the other's message as a replay, and one message exists
    assert result.replayed and result.message == concurrent[0].message
    assert len(world.threads.refs) == 1


# -- optimistic locking ----------------------------------------------------------------------


def test_a_lost_race_is_retried_on_fresh_reads():
    world = populated_world()
    thread_id = ask(world).message.thread_id
    # Given the shop's answer commits between anna's reads and her write
    world.threads.before_next_write(lambda: write(world, SHOP.id, thread_id, "Jest M."))
    writes = world.threads.writes
    # When anna writes
    write(world, ANNA.id, thread_id, "Biorę!")
    # Then her first write was refused and retried: both messages are there, in order
    assert world.threads.writes - writes == 3  # the shop's, anna's refused one, anna's retry
    assert texts(world, SHOP.id, thread_id) == ["Biorę!", "Jest M.", "Czy jest rozmiar M?"]
    # And the entries and badges add up as if the two had come one after the other
    shop_entry, anna_entry = (
        world.messaging.get_thread(SHOP.id, thread_id),
        world.messaging.get_thread(ANNA.id, thread_id),
    )
    assert (shop_entry.read, shop_entry.unread_count, anna_entry.read, anna_entry.unread_count) == (False, 1, True, 0)
    assert [world.directory.get_user(u.id).unread_threads for u in (SHOP, ANNA)] == [1, 0]  # type: ignore[union-attr]


def test_two_first_messages_of_a_pair_make_one_thread():
    world = populated_world()
    other: list[SendResult] = []
    # Given anna's question about her order commits while her question about the bike is on its way
    world.threads.before_next_write(
        lambda: other.append(
            world.messaging.send(SendMessage(author_id=ANNA.id, text="Kiedy wysyłka?", order_id=ANNA_BIKE_ORDER.id))
        )
    )
    # When the question is written
    question = ask(world)
    # Then both are in one thread of the pair
    assert question.message.thread_id == other[0].message.thread_id
    assert len(world.threads.pairs) == 1
    assert texts(world, SHOP.id, question.message.thread_id) == ["Czy jest rozmiar M?", "Kiedy wysyłka?"]


def test_a_send_gives_up_busy_after_repeated_conflicts():
    world = populated_world()
    thread_id = ask(world).message.thread_id

    def shop_marks(read: bool) -> Callable[[], None]:
        def mark() -> None:
            world.messaging.mark_read(SHOP.id, thread_id, read)

        return mark

    # Given the shop flips the thread's read flag before every one of anna's writes
    world.threads.before_next_write(*(shop_marks(read=attempt % 2 == 0) for attempt in range(5)))
    # When anna writes
    with pytest.raises(ConflictError) as refused:
        write(world, ANNA.id, thread_id, "Halo?")
    # Then she is told to try again, and nothing of hers was stored
    assert refused.value.code == "BUSY"
    assert texts(world, ANNA.id, thread_id) == ["Czy jest rozmiar M?"]


def test_marking_read_retries_a_lost_race():
    world = populated_world()
    thread_id = ask(world).message.thread_id
    # Given anna's second question commits right before the shop's read flag is written
    world.threads.before_next_write(lambda: ask(world, "Jeszcze jedno"))
    # When the shop opens the thread
    entry = world.messaging.mark_read(SHOP.id, thread_id, True)
    # Then it is read after both messages
    assert (entry.read, entry.unread_count) == (True, 0)
    assert world.messaging.get_thread(SHOP.id, thread_id) == entry
    assert world.directory.get_user(SHOP.id).unread_threads == 0  # type: ignore[union-attr]


# -- who may read what -----------------------------------------------------------------------


def test_a_non_participant_learns_nothing_about_a_thread():
    world = populated_world()
    message = ask(world).message
    thread_id = message.thread_id
    # When jan tries everything on anna and the shop's thread
    attempts = [
        lambda: world.messaging.get_thread(JAN.id, thread_id),
        lambda: world.messaging.list_messages(JAN.id, thread_id, MessageQuery()),
        lambda: world.messaging.mark_read(JAN.id, thread_id, True),
        lambda: world.messaging.get_message(JAN.id, message.id),
        lambda: world.messaging.delete_message(JAN.id, message.id),
    ]
    codes = []
    for attempt in attempts:
        with pytest.raises(NotFoundError) as refused:
            attempt()
        codes.append(refused.value.code)
    # Then every answer is "not found", and nothing changed
    assert codes == ["THREAD_NOT_FOUND"] * 3 + ["MESSAGE_NOT_FOUND"] * 2
    assert texts(world, ANNA.id, thread_id) == texts(world, SHOP.id, thread_id) == ["Czy jest rozmiar M?"]
    assert world.messaging.interlocutor(JAN.id, thread_id) is None
    assert world.messaging.interlocutor(SHOP.id, thread_id) == ANNA.id


@pytest.mark.parametrize("message_id", ["../../etc", "01JNB3K5QY8N2W4X6Z0A1B2C3E"])
def test_an_unknown_or_malformed_message_id_is_not_found(message_id):
    world = populated_world()
    ask(world)
    with pytest.raises(NotFoundError) as refused:
        world.messaging.get_message(ANNA.id, message_id)
    assert refused.value.code == "MESSAGE_NOT_FOUND"


def test_deleting_for_me_keeps_the_other_sides_copy():
    world = populated_world()
    message = ask(world).message
    reply = write(world, SHOP.id, message.thread_id, "Jest.").message
    # When anna deletes her question
    world.messaging.delete_message(ANNA.id, message.id)
    # Then she no longer sees it, the shop still does
    assert texts(world, ANNA.id, message.thread_id) == ["Jest."]
    assert texts(world, SHOP.id, message.thread_id) == ["Jest.", "Czy jest rozmiar M?"]
    assert world.messaging.get_message(SHOP.id, message.id).text == "Czy jest rozmiar M?"
    with pytest.raises(NotFoundError):
        world.messaging.get_message(ANNA.id, message.id)
    # And deleting it again is "not found"; the shop's reply is untouched
    with pytest.raises(NotFoundError) as again:
        world.messaging.delete_message(ANNA.id, message.id)
    assert again.value.code == "MESSAGE_NOT_FOUND"
    assert world.messaging.get_message(ANNA.id, reply.id).text == "Jest."


def test_messages_page_by_offset_and_by_date():
    world = populated_world()
    first = ask(world, "1").message
    sent = [first] + [write(world, SHOP.id, first.thread_id, str(n)).message for n in (2, 3, 4)]

    def page(**query: object) -> list[str]:
        found = world.messaging.list_messages(ANNA.id, first.thread_id, MessageQuery(**query))  # type: ignore[arg-type]
        return [m.text for m in found.messages]

    # When anna pages through the messages, then offset and limit cut the newest-first list
    assert page(offset=1, limit=2) == ["3", "2"]
    # And the date bounds are exclusive
    assert page(before=sent[2].created_at) == ["2", "1"]
    assert page(after=sent[2].created_at) == ["4"]
    assert page(after=sent[1].created_at, before=sent[3].created_at) == ["3"]


# -- read flags and badges -------------------------------------------------------------------


def test_read_and_unread_flags_move_the_badge_once_per_thread():
    world = populated_world()
    bike = ask(world).message.thread_id
    world.messaging.send(SendMessage(author_id=JAN.id, text="Hurt?", channel=Channel.MAIL, recipient_id=SHOP.id))
    shop = world.directory.get_user
    # Given the shop has two unread threads
    assert shop(SHOP.id).unread_threads == 2  # type: ignore[union-attr]
    # When it opens anna's
    entry = world.messaging.mark_read(SHOP.id, bike, True)
    # Then that thread is read and the badge counts one
    assert (entry.read, entry.unread_count, shop(SHOP.id).unread_threads) == (True, 0, 1)  # type: ignore[union-attr]
    # When it marks it unread, twice
    world.messaging.mark_read(SHOP.id, bike, False)
    writes = world.threads.writes
    again = world.messaging.mark_read(SHOP.id, bike, False)
    # Then the thread shows one unread message and the badge counts it once; the repeat wrote nothing
    assert (again.read, again.unread_count, shop(SHOP.id).unread_threads) == (False, 1, 2)  # type: ignore[union-attr]
    assert world.threads.writes == writes
    # And marking an already read thread read writes nothing either
    world.messaging.mark_read(ANNA.id, bike, True)
    assert world.threads.writes == writes


# -- the inbox -------------------------------------------------------------------------------


@pytest.fixture
def busy_inbox() -> tuple[FakeWorld, dict[str, str]]:
    """Given the shop's inbox: anna's question (answered), petra's order question (unanswered),
    jan's e-mail (unanswered, then opened): newest activity last in that order."""
    world = populated_world()
    anna = ask(world).message.thread_id
    petra = world.messaging.send(
        SendMessage(author_id=PETRA.id, text="Where is my bike?", order_id=PETRA_BIKE_ORDER.id)
    ).message.thread_id
    jan = world.messaging.send(
        SendMessage(author_id=JAN.id, text="Hurt?", channel=Channel.MAIL, recipient_id=SHOP.id)
    ).message.thread_id
    write(world, SHOP.id, anna, "Jest M.")
    world.messaging.mark_read(SHOP.id, jan, True)
    return world, {"anna": anna, "petra": petra, "jan": jan}


def inbox(world: FakeWorld, **query: object) -> list[str]:
    page = world.messaging.list_threads(SHOP.id, InboxQuery(**query))  # type: ignore[arg-type]
    return [entry.interlocutor_login for entry in page.entries]


def test_the_inbox_lists_threads_by_newest_activity(busy_inbox):
    world, _ = busy_inbox
    assert inbox(world) == [ANNA.login, JAN.login, PETRA.login]
    assert inbox(world, offset=1, limit=1) == [JAN.login]


def test_the_inbox_filters_unread_and_awaiting_reply(busy_inbox):
    world, _ = busy_inbox
    assert inbox(world, unread_only=True) == [PETRA.login]
    assert inbox(world, awaiting_reply_only=True) == [JAN.login, PETRA.login]
    assert inbox(world, unread_only=True, awaiting_reply_only=True) == [PETRA.login]


def test_the_inbox_pages_by_date(busy_inbox):
    world, threads = busy_inbox
    jan_entry = world.messaging.get_thread(SHOP.id, threads["jan"])
    assert inbox(world, before=jan_entry.last_message_at) == [PETRA.login]


def test_the_inbox_finds_the_thread_with_an_interlocutor_by_login(busy_inbox):
    world, threads = busy_inbox
    # When the shop filters by petra's login, in another case
    page = world.messaging.list_threads(SHOP.id, InboxQuery(interlocutor_login="PETRA_SVOBODOVA"))
    # Then it is their thread, which also passes the other filters it meets
    assert [e.thread_id for e in page.entries] == [threads["petra"]]
    assert inbox(world, interlocutor_login=PETRA.login, unread_only=True, awaiting_reply_only=True) == [PETRA.login]
    # And filters it fails, a later page, unknown logins and users without a thread give nothing
    assert inbox(world, interlocutor_login=ANNA.login, unread_only=True) == []
    assert inbox(world, interlocutor_login=ANNA.login, awaiting_reply_only=True) == []
    assert inbox(world, interlocutor_login=PETRA.login, offset=1) == []
    assert inbox(world, interlocutor_login="nobody_here") == []
    assert world.messaging.list_threads(JAN.id, InboxQuery(interlocutor_login=PETRA.login)).entries == ()


def test_an_inbox_holds_only_its_owners_threads(busy_inbox):
    world, threads = busy_inbox
    anna = world.messaging.list_threads(ANNA.id, InboxQuery()).entries
    assert [(e.thread_id, e.interlocutor_login) for e in anna] == [(threads["anna"], SHOP.login)]
    assert world.messaging.list_threads(ANNA.id, InboxQuery(unread_only=True)).entries == anna
