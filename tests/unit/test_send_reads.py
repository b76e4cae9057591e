"""How many rounds of reads a send takes (one BatchGetItem each in the real repository), and what
a send answers when the thread or a participant's entry goes between its reads and its write."""

from __future__ import annotations

from datetime import timedelta

import pytest
from message_center.domain.errors import NotFoundError
from message_center.domain.sending import SendMessage
from message_center.services.messaging import MessageQuery, PairThreads

from tests.unit.fakes import FakeClock, FakeWorld
from tests.unit.marketplace import ANNA, ANNA_BIKE_ORDER, BIKE, PETRA, PETRA_BIKE_ORDER, SHOP, populated_world


@pytest.fixture
def world() -> FakeWorld:
    return populated_world()


def _send(world: FakeWorld, author_id: str, **fields: object) -> int:
    """Send, and return how many rounds of reads it took."""
    rounds = world.lookups.rounds
    world.messaging.send(SendMessage(author_id=author_id, text="Dzień dobry", **fields))  # type: ignore[arg-type]
    return world.lookups.rounds - rounds


def _thread(world: FakeWorld) -> str:
    message = world.messaging.send(SendMessage(author_id=ANNA.id, text="Czy jest M?", offer_id=BIKE.id)).message
    return message.thread_id


def test_writing_in_a_thread_reads_twice(world):
    # Given a thread of anna and the shop
    thread_id = _thread(world)
    # When anna writes in it, with and without an Idempotency-Key
    # Then each send reads in two rounds (her profile, key and entry; the shop's profile and entry)
    assert _send(world, ANNA.id, thread_id=thread_id) == 2
    assert _send(world, ANNA.id, thread_id=thread_id, idempotency_key="k-1") == 2


@pytest.mark.parametrize(
    ("fields", "rounds"),
    [
        ({"offer_id": BIKE.id}, 2),  # the author and offer; the seller and pair (none yet)
        ({"order_id": ANNA_BIKE_ORDER.id}, 2),
    ],
)
def test_a_new_conversation_reads_twice(world, fields, rounds):
    # Given anna and the shop have no thread yet
    # When anna starts one
    # Then it took two rounds of reads
    assert _send(world, ANNA.id, **fields) == rounds


@pytest.mark.parametrize(
    "fields",
    [
        {"offer_id": BIKE.id},
        {"order_id": ANNA_BIKE_ORDER.id},
        {"recipient_login": ANNA.login},
        {"recipient_login": ANNA.login, "order_id": ANNA_BIKE_ORDER.id},
    ],
)
def test_joining_the_pairs_thread_reads_three_times(world, fields):
    # Given anna and the shop already talk, and this container has not seen their pair yet
    _thread(world)
    world.messaging.pair_threads.clear()
    author = SHOP.id if "recipient_login" in fields else ANNA.id
    # When a new message names the offer, the order or the login instead of the thread
    # Then it reads the names, then the pair's thread, then the thread's entries: three rounds
    assert _send(world, author, **fields) == 3


@pytest.mark.parametrize(
    "fields",
    [
        {"offer_id": BIKE.id},
        {"order_id": ANNA_BIKE_ORDER.id},
        {"recipient_login": ANNA.login},
        {"recipient_login": ANNA.login, "order_id": ANNA_BIKE_ORDER.id},
    ],
)
def test_a_pair_this_container_has_seen_joins_its_thread_in_two_rounds(world, fields):
    # Given anna and the shop already talk, through this container
    thread_id = _thread(world)
    author = SHOP.id if "recipient_login" in fields else ANNA.id
    # When a new message names the offer, the order or the login
    rounds = _send(world, author, **fields)
    # Then the remembered thread's entries come with the recipient: two rounds, into the same thread
    assert rounds == 2
    assert len(world.threads.threads) == 1 and thread_id in world.threads.threads


def test_the_memory_of_pairs_is_bounded_in_size_and_time():
    # Given a memory of two pairs for one minute
    clock = FakeClock(step=timedelta(0))
    memory = PairThreads(2, timedelta(minutes=1), clock)
    memory.remember("a", "b", "t-ab")
    memory.remember("a", "c", "t-ac")
    assert memory.get("b", "a") == "t-ab"  # either order; and now the most recently used
    # When a third pair is remembered
    memory.remember("c", "d", "t-cd")
    # Then the least recently used is forgotten
    assert (len(memory), memory.get("a", "c"), memory.get("a", "b")) == (2, None, "t-ab")
    # And after a minute nothing is remembered
    clock.advance(timedelta(minutes=1))
    assert (memory.get("a", "b"), memory.get("c", "d")) == (None, None)


def test_a_thread_that_goes_between_the_reads_and_the_write_is_not_found(world):
    # Given anna's thread with the shop, and the thread item goes right before her next write
    thread_id = _thread(world)
    world.threads.before_next_write(lambda: world.threads.threads.pop(thread_id))
    copies = {key: dict(value) for key, value in world.threads.copies.items()}
    # When she writes in it
    with pytest.raises(NotFoundError) as refused:
        _send(world, ANNA.id, thread_id=thread_id)
    # Then she is told the thread is not found, and nothing was stored
    assert refused.value.code == "THREAD_NOT_FOUND"
    assert world.threads.copies == copies


def test_an_author_whose_entry_goes_between_the_reads_and_the_write_is_not_found(world):
    # Given anna's thread with the shop, and her inbox entry goes right before her next write
    thread_id = _thread(world)
    world.threads.before_next_write(lambda: world.threads.entries.pop((ANNA.id, thread_id)))
    # When she writes in it
    with pytest.raises(NotFoundError) as refused:
        _send(world, ANNA.id, thread_id=thread_id)
    # Then the retry on fresh reads finds she is no longer a participant: 404, and her entry is
    # not made again (nor is anything else stored)
    assert refused.value.code == "THREAD_NOT_FOUND"
    assert (ANNA.id, thread_id) not in world.threads.entries
    assert len(world.threads.refs) == 1


def test_a_recipient_who_goes_before_a_retry_is_not_found(world):
    # Given petra asks about her order while the shop's profile goes and the shop's reply commits
    # between her reads and her write (so her write is retried on fresh reads)
    world.messaging.send(
        SendMessage(author_id=SHOP.id, text="x", recipient_login=PETRA.login, order_id=PETRA_BIKE_ORDER.id)
    )
    thread_id = world.threads.find_thread_of_pair(SHOP.id, PETRA.id)
    assert thread_id is not None

    def shop_replies_and_goes() -> None:
        world.messaging.send(SendMessage(author_id=SHOP.id, text="y", thread_id=thread_id))
        del world.table.users[SHOP.id]

    world.threads.before_next_write(shop_replies_and_goes)
    # When petra writes in the thread
    with pytest.raises(NotFoundError) as refused:
        _send(world, PETRA.id, thread_id=thread_id)
    # Then she gets the thread's 404 (never a message to someone who is gone)
    assert refused.value.code == "THREAD_NOT_FOUND"
    assert [m.text for m in world.messaging.list_messages(PETRA.id, thread_id, MessageQuery()).messages] == ["y", "x"]
