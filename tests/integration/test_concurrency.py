"""Concurrent writers: one thread per pair, and badges that stay exact.

The race is made deterministic: the service under test reads, then a competing request
commits through the real API handler, then the service's own transaction runs and must
notice (conditions on the pair item and on the inbox entries' versions) and retry.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from message_center.composition import AwsClients
from message_center.data.directory_repository import DirectoryRepository
from message_center.data.idempotency_repository import IdempotencyRepository
from message_center.data.lookup_repository import LookupRepository
from message_center.data.thread_repository import ThreadRepository
from message_center.domain.sending import NewMessage, SendMessage
from message_center.services.messaging import MessagingService
from message_center.settings import ApiSettings

from tests.support.api import ApiResponse, call


class CompetitorFirst(ThreadRepository):
    """Lets one competing request commit between the service's reads and its transaction."""

    def __init__(self, settings: ApiSettings, competitor: Callable[[], ApiResponse]) -> None:
        super().__init__(AwsClients(settings).connection)
        self._competitor: Callable[[], ApiResponse] | None = competitor
        self.attempts = 0

    def append_message(self, new: NewMessage) -> None:
        self.attempts += 1
        if self._competitor is not None:
            competitor, self._competitor = self._competitor, None
            assert competitor().status in (200, 201)
        super().append_message(new)


def _service(threads: ThreadRepository) -> MessagingService:
    from functions.api.context import services

    return MessagingService(
        threads,
        DirectoryRepository(threads._connection),
        services().attachments,
        IdempotencyRepository(),
        lookups=LookupRepository(threads._connection),
        idempotency_ttl=timedelta(hours=1),
    )


@pytest.fixture
def services_ready(users):
    call("api_get_profile", user_id=users["anna_kowalska"])  # binds the table like a cold start
    return users


def test_concurrent_first_messages_of_a_pair_make_one_thread(services_ready, aws):
    users = services_ready
    buyer, seller = users["petra_svobodova"], users["rowery-kraków"]
    # Given the seller's first message commits while the buyer's first message is in flight
    threads = CompetitorFirst(
        aws.api,
        lambda: call(
            "api_write_new_message",
            user_id=seller,
            body={
                "recipient": {"login": "petra_svobodova"},
                "order": {"id": "order-petra-1"},
                "text": "Info",
            },
        ),
    )
    # When the buyer's message is stored
    result = _service(threads).send(SendMessage(author_id=buyer, text="Dotaz", order_id="order-petra-1"))
    # Then it noticed the new thread, retried and joined it: one thread with both messages
    assert threads.attempts == 2
    for user_id in (buyer, seller):
        inbox = call("api_list_threads", user_id=user_id).json["threads"]
        assert [t["id"] for t in inbox] == [result.message.thread_id]
        messages = call("api_list_messages", user_id=user_id, path={"threadId": result.message.thread_id}).json
        assert [m["text"] for m in messages["messages"]] == ["Dotaz", "Info"]
    # And the badges count that thread once each: unread for the seller only (the buyer wrote last)
    assert call("api_get_badge", user_id=seller).json == {"unreadThreads": 1}
    assert call("api_get_badge", user_id=buyer).json == {"unreadThreads": 0}


def test_a_read_flag_racing_a_new_message_keeps_the_badge_exact(services_ready, question_thread, aws):
    users = services_ready
    anna, seller = users["anna_kowalska"], users["rowery-kraków"]
    # Given the seller marks anna's thread read while anna's next message is in flight
    threads = CompetitorFirst(
        aws.api,
        lambda: call("api_mark_thread_read", user_id=seller, path={"threadId": question_thread}, body={"read": True}),
    )
    # When anna's message is stored
    _service(threads).send(SendMessage(author_id=anna, text="Jeszcze jedno pytanie", thread_id=question_thread))
    # Then her transaction saw the changed entry, retried on fresh state, and the thread is unread again
    assert threads.attempts == 2
    thread = call("api_get_thread", user_id=seller, path={"threadId": question_thread}).json
    assert (thread["read"], thread["unreadCount"]) == (False, 1)
    assert call("api_get_badge", user_id=seller).json == {"unreadThreads": 1}
