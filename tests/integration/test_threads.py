"""GET /messaging/threads (inbox, filters, paging), one thread, and the read flag."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from tests.support.api import call


def _ask(users, login: str, offer: str = "pl-offer-1001", text: str = "Pytanie") -> dict:
    response = call("api_write_new_message", user_id=users[login], body={"offer": {"id": offer}, "text": text})
    assert response.status == 201, response.raw_body
    return response.json


def _reply(users, login: str, thread_id: str, text: str = "Odpowiedź") -> dict:
    response = call("api_write_in_thread", user_id=users[login], path={"threadId": thread_id}, body={"text": text})
    assert response.status == 201, response.raw_body
    return response.json


def _inbox(users, login: str, **query: str) -> dict:
    response = call("api_list_threads", user_id=users[login], query=query)
    assert response.status == 200, response.raw_body
    return response.json


def _logins(page: dict) -> list[str]:
    return [thread["interlocutor"]["login"] for thread in page["threads"]]


@pytest.fixture
def busy_seller(users) -> dict[str, str]:
    """Given three buyers asked rowery-kraków, oldest first (anna, petra, olena), and the seller
    answered petra: login → thread id."""
    threads = {login: _ask(users, login)["thread"]["id"] for login in ("anna_kowalska", "petra_svobodova", "olena_k")}
    _reply(users, "rowery-kraków", threads["petra_svobodova"])
    return threads


def test_inbox_lists_newest_activity_first(users, busy_seller):
    page = _inbox(users, "rowery-kraków")
    # petra's thread had the last message (the seller's answer)
    assert _logins(page) == ["petra_svobodova", "olena_k", "anna_kowalska"]
    assert page["offset"] == 0 and page["limit"] == 20
    first = page["threads"][0]
    assert set(first) >= {"id", "read", "lastMessageDateTime", "interlocutor"}
    assert first["interlocutor"]["avatarUrl"].startswith("https://")
    assert first["lastMessageDateTime"].endswith("Z")


def test_offset_and_limit_page_through_the_inbox(users, busy_seller):
    pages = [_logins(_inbox(users, "rowery-kraków", limit="2", offset=str(offset))) for offset in (0, 2, 4)]
    assert pages == [["petra_svobodova", "olena_k"], ["anna_kowalska"], []]


def test_before_cursor_pages_without_offset(users, busy_seller):
    first = _inbox(users, "rowery-kraków", limit="1")["threads"][0]
    page = _inbox(users, "rowery-kraków", limit="5", before=first["lastMessageDateTime"])
    assert _logins(page) == ["olena_k", "anna_kowalska"]


def test_a_cursor_in_another_time_zone_means_the_same_instant(users, busy_seller):
    first = _inbox(users, "rowery-kraków", limit="1")["threads"][0]
    in_warsaw = datetime.fromisoformat(first["lastMessageDateTime"]).astimezone(timezone(timedelta(hours=1)))
    page = _inbox(users, "rowery-kraków", limit="5", before=in_warsaw.isoformat(timespec="milliseconds"))
    assert _logins(page) == ["olena_k", "anna_kowalska"]


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ({"limit": "21"}, "VALIDATION_ERROR"),
        ({"limit": "0"}, "VALIDATION_ERROR"),
        ({"offset": "-1"}, "VALIDATION_ERROR"),
        ({"limit": "ten"}, "VALIDATION_ERROR"),
        ({"before": "yesterday"}, "VALIDATION_ERROR"),
        ({"before": "2026-01-01T00:00:00Z", "offset": "1"}, "BEFORE_WITH_OFFSET"),
        ({"unread": "maybe"}, "VALIDATION_ERROR"),
        # Only the documented form: digits, true/false, an RFC 3339 date-time with a time zone
        ({"limit": "20.0"}, "VALIDATION_ERROR"),
        ({"limit": "2_0"}, "VALIDATION_ERROR"),
        ({"limit": " 20"}, "VALIDATION_ERROR"),
        ({"offset": "+1"}, "VALIDATION_ERROR"),
        ({"unread": "1"}, "VALIDATION_ERROR"),
        ({"withoutMyReply": "yes"}, "VALIDATION_ERROR"),
        ({"before": "0"}, "VALIDATION_ERROR"),
        ({"before": "1764129600"}, "VALIDATION_ERROR"),
        ({"before": "2026-01-01T00:00:00"}, "VALIDATION_ERROR"),
        ({"before": "2026-01-01"}, "VALIDATION_ERROR"),
        # Outside what ids and dates represent (these used to crash the handler)
        ({"before": "0001-01-01T00:00:00+14:00"}, "VALIDATION_ERROR"),
        ({"before": "9999-12-31T23:59:59-12:00"}, "VALIDATION_ERROR"),
        ({"before": "1969-12-31T23:59:59Z"}, "VALIDATION_ERROR"),
        ({"before": "10000-01-01T00:00:00Z"}, "VALIDATION_ERROR"),
    ],
)
def test_bad_paging_is_a_422(users, query, code):
    response = call("api_list_threads", user_id=users["anna_kowalska"], query=query)
    assert response.status == 422
    assert response.json["code"] == code


def test_filter_by_interlocutor_login(users, busy_seller):
    page = _inbox(users, "rowery-kraków", **{"interlocutor.login": "Olena_K"})
    assert [t["id"] for t in page["threads"]] == [busy_seller["olena_k"]]
    assert _inbox(users, "rowery-kraków", **{"interlocutor.login": "jan_prywatny"})["threads"] == []
    assert _inbox(users, "rowery-kraków", **{"interlocutor.login": "nobody"})["threads"] == []


def test_unread_filter(users, busy_seller):
    # petra's thread was answered (read for the seller); the others are unread
    assert _logins(_inbox(users, "rowery-kraków", unread="true")) == ["olena_k", "anna_kowalska"]
    assert _logins(_inbox(users, "petra_svobodova", unread="true")) == ["rowery-kraków"]
    assert _inbox(users, "anna_kowalska", unread="true")["threads"] == []


def test_without_my_reply_filter(users, busy_seller):
    # The seller has not answered anna and olena; the seller's answer is petra's last message.
    assert _logins(_inbox(users, "rowery-kraków", withoutMyReply="true")) == ["olena_k", "anna_kowalska"]
    assert _logins(_inbox(users, "petra_svobodova", withoutMyReply="true")) == ["rowery-kraków"]
    assert _inbox(users, "anna_kowalska", withoutMyReply="true")["threads"] == []


def test_unread_and_without_my_reply_combined(users, busy_seller):
    # Given the seller read olena's question but still did not answer it
    call(
        "api_mark_thread_read",
        user_id=users["rowery-kraków"],
        path={"threadId": busy_seller["olena_k"]},
        body={"read": True},
    )
    # Then unread ∧ without-my-reply leaves anna only, without-my-reply alone still has olena
    assert _logins(_inbox(users, "rowery-kraków", unread="true", withoutMyReply="true")) == ["anna_kowalska"]
    assert _logins(_inbox(users, "rowery-kraków", withoutMyReply="true")) == ["olena_k", "anna_kowalska"]
    combined = _inbox(users, "rowery-kraków", unread="true", **{"interlocutor.login": "olena_k"})
    assert combined["threads"] == []


def test_get_thread_and_unread_count(users, busy_seller):
    thread_id = busy_seller["anna_kowalska"]
    _ask(users, "anna_kowalska", text="Jeszcze jedno")
    response = call("api_get_thread", user_id=users["rowery-kraków"], path={"threadId": thread_id})
    assert response.status == 200
    assert response.json["id"] == thread_id
    assert response.json["read"] is False
    assert response.json["unreadCount"] == 2


@pytest.mark.parametrize("thread_id", ["01JDQ5Z3W4X5Y6Z7A8B9C0D1E2", "not-a-thread", "..%2F..%2Fetc"])
def test_unknown_thread_is_404(users, thread_id):
    response = call("api_get_thread", user_id=users["anna_kowalska"], path={"threadId": thread_id})
    assert response.status == 404
    assert response.json["code"] == "THREAD_NOT_FOUND"


def test_a_non_participant_gets_404_for_the_thread_and_everything_in_it(users, busy_seller):
    thread_id = busy_seller["anna_kowalska"]
    outsider = users["jan_prywatny"]
    message_id = call("api_list_messages", user_id=users["anna_kowalska"], path={"threadId": thread_id}).json[
        "messages"
    ][0]["id"]
    responses = [
        call("api_get_thread", user_id=outsider, path={"threadId": thread_id}),
        call("api_list_messages", user_id=outsider, path={"threadId": thread_id}),
        call("api_mark_thread_read", user_id=outsider, path={"threadId": thread_id}, body={"read": True}),
        call(
            "api_write_in_thread",
            user_id=outsider,
            path={"threadId": thread_id},
            body={"text": "Wtrącam się"},
        ),
        call("api_get_message", user_id=outsider, path={"messageId": message_id}),
        call("api_delete_message", user_id=outsider, path={"messageId": message_id}),
    ]
    assert [r.status for r in responses] == [404] * 6
    # The same answer as for a thread that does not exist: no hint that it does.
    nonexistent = call("api_get_thread", user_id=outsider, path={"threadId": "01JDQ5Z3W4X5Y6Z7A8B9C0D1E2"})
    assert responses[0].json == nonexistent.json
    # And the participants' thread is unchanged
    seller_thread = call("api_get_thread", user_id=users["rowery-kraków"], path={"threadId": thread_id}).json
    assert seller_thread["read"] is False and seller_thread["unreadCount"] == 1


def test_mark_read_and_unread_moves_the_badge(users, busy_seller):
    seller = users["rowery-kraków"]
    assert call("api_get_badge", user_id=seller).json == {"unreadThreads": 2}
    # When the seller opens anna's thread and marks it read
    read = call(
        "api_mark_thread_read",
        user_id=seller,
        path={"threadId": busy_seller["anna_kowalska"]},
        body={"read": True},
    )
    assert read.status == 200
    assert read.json["read"] is True and read.json["unreadCount"] == 0
    assert call("api_get_badge", user_id=seller).json == {"unreadThreads": 1}
    # Marking it read again changes nothing
    call(
        "api_mark_thread_read",
        user_id=seller,
        path={"threadId": busy_seller["anna_kowalska"]},
        body={"read": True},
    )
    assert call("api_get_badge", user_id=seller).json == {"unreadThreads": 1}
    # When they mark petra's (answered, read) thread unread
    unread = call(
        "api_mark_thread_read",
        user_id=seller,
        path={"threadId": busy_seller["petra_svobodova"]},
        body={"read": False},
    )
    assert unread.json["read"] is False and unread.json["unreadCount"] == 1
    assert call("api_get_badge", user_id=seller).json == {"unreadThreads": 2}
    assert call("api_get_profile", user_id=seller).json["unreadThreads"] == 2


@pytest.mark.parametrize(
    ("body", "status"),
    [({}, 422), ({"read": "yes"}, 422), ({"read": None}, 422), ({"read": True, "extra": 1}, 422), ([], 422)],
)
def test_read_flag_is_required_and_boolean(users, busy_seller, body, status):
    response = call(
        "api_mark_thread_read",
        user_id=users["rowery-kraków"],
        path={"threadId": busy_seller["anna_kowalska"]},
        body=body,
    )
    assert response.status == status
    assert response.headers["content-type"] == "application/problem+json"
