"""What happens between a send's reads and its transaction, against moto through the real API
handler: the transaction's conditions stand in for reading again, and each refusal is mapped
back to the answer the same request would have got a moment later."""

from __future__ import annotations

from collections.abc import Callable

import boto3
import pytest
from message_center.data.thread_repository import ThreadRepository
from message_center.domain.sending import NewMessage

from tests.support.api import ApiResponse, call

from ..conftest import REGION


@pytest.fixture
def between_reads_and_write(monkeypatch) -> Callable[[Callable[[], None]], list[int]]:
    """Runs a callable once, right before the next send's transaction (the service has read by
    then); returns the list of attempted transactions' count."""
    attempts: list[int] = []

    def install(action: Callable[[], None]) -> list[int]:
        pending = [action]
        original = ThreadRepository.append_message

        def append_message(self: ThreadRepository, new: NewMessage) -> None:
            attempts.append(1)
            if pending:
                pending.pop()()
            original(self, new)

        monkeypatch.setattr(ThreadRepository, "append_message", append_message)
        return attempts

    return install


def _delete(aws, pk: str, sk: str) -> None:
    boto3.client("dynamodb", region_name=REGION).delete_item(
        TableName=aws.api.table_name, Key={"pk": {"S": pk}, "sk": {"S": sk}}
    )


def _write(user_id: str, thread_id: str, text: str, **headers: str) -> ApiResponse:
    return call(
        "api_write_in_thread", user_id=user_id, path={"threadId": thread_id}, body={"text": text}, headers=headers
    )


def _texts(user_id: str, thread_id: str) -> list[str]:
    listed = call("api_list_messages", user_id=user_id, path={"threadId": thread_id})
    return [m["text"] for m in listed.json["messages"]]


def test_a_thread_item_gone_before_the_write_answers_not_found(users, question_thread, aws, between_reads_and_write):
    anna, shop = users["anna_kowalska"], users["rowery-kraków"]
    # Given the thread item goes after anna's send has read her entry and the shop's
    attempts = between_reads_and_write(lambda: _delete(aws, f"THREAD#{question_thread}", "THREAD"))
    # When she writes in the thread
    response = _write(anna, question_thread, "Czy już wysłane?")
    # Then the refused condition on the thread item is a 404 at once (no retries), and nothing is stored
    assert (response.status, response.json["code"]) == (404, "THREAD_NOT_FOUND")
    assert response.headers["content-type"] == "application/problem+json"
    assert len(attempts) == 1
    assert "Czy już wysłane?" not in _texts(shop, question_thread)


def test_a_participant_gone_before_the_write_is_not_written_back(users, question_thread, aws, between_reads_and_write):
    anna, shop = users["anna_kowalska"], users["rowery-kraków"]
    # Given anna's inbox entry of the thread goes after her send has read it
    between_reads_and_write(lambda: _delete(aws, f"USER#{anna}", f"INBOX#{question_thread}"))
    # When she writes in the thread
    response = _write(anna, question_thread, "Halo?")
    # Then the retry on fresh reads finds she is no longer in it: 404, her entry stays gone, the
    # shop sees nothing new
    assert (response.status, response.json["code"]) == (404, "THREAD_NOT_FOUND")
    assert call("api_get_thread", user_id=anna, path={"threadId": question_thread}).status == 404
    assert "Halo?" not in _texts(shop, question_thread)


def test_the_same_key_committed_between_reads_and_write_is_replayed(users, question_thread, between_reads_and_write):
    anna, shop = users["anna_kowalska"], users["rowery-kraków"]
    first: list[ApiResponse] = []
    # Given the same request (same Idempotency-Key and body) commits after this one has read the
    # key (none yet) and before it writes
    between_reads_and_write(
        lambda: first.append(_write(anna, question_thread, "Dziękuję", **{"idempotency-key": "k-7"}))
    )
    # When this one writes
    response = _write(anna, question_thread, "Dziękuję", **{"idempotency-key": "k-7"})
    # Then the refused claim is mapped to a replay of the first: the same message, stored once
    assert first[0].status == 201
    assert response.status == 201
    assert response.headers.get("idempotent-replayed") == "true"
    assert response.json["id"] == first[0].json["id"]
    assert _texts(shop, question_thread).count("Dziękuję") == 1
