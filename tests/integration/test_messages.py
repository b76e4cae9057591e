"""Messages of a thread: listing, date bounds, single message, delete for me."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from tests.support.api import call


@pytest.fixture
def conversation(users, question_thread) -> tuple[str, list[str]]:
    """Given anna's question and four more messages alternating sides: thread id and message ids
    (oldest first)."""
    ids = [
        call("api_list_messages", user_id=users["anna_kowalska"], path={"threadId": question_thread}).json["messages"][
            0
        ]["id"]
    ]
    for number, login in enumerate(["rowery-kraków", "anna_kowalska", "rowery-kraków", "anna_kowalska"], start=1):
        response = call(
            "api_write_in_thread",
            user_id=users[login],
            path={"threadId": question_thread},
            body={"text": f"Wiadomość {number}"},
        )
        assert response.status == 201
        ids.append(response.json["id"])
    return question_thread, ids


def _messages(users, login, thread_id, **query):
    response = call("api_list_messages", user_id=users[login], path={"threadId": thread_id}, query=query)
    assert response.status == 200, response.raw_body
    return response.json


def test_messages_newest_first_with_author_perspective(users, conversation):
    thread_id, ids = conversation
    page = _messages(users, "anna_kowalska", thread_id)
    assert [m["id"] for m in page["messages"]] == ids[::-1]
    assert [m["author"]["isInterlocutor"] for m in page["messages"]] == [False, True, False, True, False]
    assert {m["thread"]["id"] for m in page["messages"]} == {thread_id}


def test_offset_limit_and_date_bounds(users, conversation):
    thread_id, ids = conversation
    assert [m["id"] for m in _messages(users, "anna_kowalska", thread_id, limit="2", offset="1")["messages"]] == [
        ids[3],
        ids[2],
    ]
    all_messages = _messages(users, "anna_kowalska", thread_id)["messages"]
    created = {m["id"]: m["createdAt"] for m in all_messages}
    before = _messages(users, "anna_kowalska", thread_id, before=created[ids[2]])["messages"]
    assert {m["id"] for m in before} <= {ids[0], ids[1]} and ids[1] in {m["id"] for m in before}
    after = _messages(users, "anna_kowalska", thread_id, after=created[ids[2]])["messages"]
    assert ids[3] in {m["id"] for m in after} and ids[2] not in {m["id"] for m in after}
    future = (datetime.now().astimezone() + timedelta(days=1)).isoformat()
    assert _messages(users, "anna_kowalska", thread_id, after=future)["messages"] == []


def test_before_cannot_be_combined_with_offset(users, conversation):
    thread_id, _ = conversation
    response = call(
        "api_list_messages",
        user_id=users["anna_kowalska"],
        path={"threadId": thread_id},
        query={"before": "2030-01-01T00:00:00Z", "offset": "2"},
    )
    assert response.status == 422
    assert response.json["code"] == "BEFORE_WITH_OFFSET"


@pytest.mark.parametrize(
    "query",
    [
        {"before": "0"},
        {"after": "1764129600000"},
        {"after": "2026-11-26T04:00:00"},
        {"before": "0001-01-01T00:00:00+14:00"},
        {"after": "0001-01-01T00:00:00+14:00"},
        {"after": "9999-12-31T23:59:59-12:00"},
        {"after": "1960-01-01T00:00:00Z"},
        {"limit": "5.0"},
    ],
)
def test_date_bounds_and_numbers_in_their_documented_form_only(users, question_thread, query):
    # When a bound is not an RFC 3339 date-time with a time zone that ids can represent
    response = call(
        "api_list_messages", user_id=users["anna_kowalska"], path={"threadId": question_thread}, query=query
    )
    # Then it is refused as invalid input (these used to be read as Unix times, or crash the handler)
    assert response.status == 422, response.raw_body
    assert response.headers["content-type"] == "application/problem+json"
    assert [e["location"] for e in response.json["errors"]] == [f"query.{next(iter(query))}"]


def test_get_one_message(users, conversation):
    _thread_id, ids = conversation
    response = call("api_get_message", user_id=users["rowery-kraków"], path={"messageId": ids[1]})
    assert response.status == 200
    assert response.json["id"] == ids[1]
    assert response.json["text"] == "Wiadomość 1"
    assert response.json["author"] == {"login": "rowery-kraków", "isInterlocutor": False}


@pytest.mark.parametrize("message_id", ["01JDQ5Z3W4X5Y6Z7A8B9C0D1E3", "x", "0" * 64])
def test_unknown_message_is_404(users, message_id):
    assert call("api_get_message", user_id=users["anna_kowalska"], path={"messageId": message_id}).status == 404
    assert call("api_delete_message", user_id=users["anna_kowalska"], path={"messageId": message_id}).status == 404


def test_delete_for_me_keeps_the_message_for_the_interlocutor(users, conversation):
    thread_id, ids = conversation
    # When anna deletes the seller's first answer
    response = call("api_delete_message", user_id=users["anna_kowalska"], path={"messageId": ids[1]})
    # Then it is gone for her
    assert response.status == 204 and response.raw_body == ""
    assert call("api_get_message", user_id=users["anna_kowalska"], path={"messageId": ids[1]}).status == 404
    assert ids[1] not in [m["id"] for m in _messages(users, "anna_kowalska", thread_id)["messages"]]
    # And the seller still sees it
    assert call("api_get_message", user_id=users["rowery-kraków"], path={"messageId": ids[1]}).status == 200
    assert ids[1] in [m["id"] for m in _messages(users, "rowery-kraków", thread_id)["messages"]]
    # And deleting it again is a 404
    assert call("api_delete_message", user_id=users["anna_kowalska"], path={"messageId": ids[1]}).status == 404
