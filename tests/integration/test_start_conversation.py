"""POST /messaging/messages: the three ways to start a conversation and every refusal."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.support.api import call


def _start(user_id: str, body: dict, **overrides) -> object:
    return call("api_write_new_message", user_id=user_id, body=body, **overrides)


def test_buyer_asks_a_question_about_an_offer(users):
    # Given a buyer and an offer of a business seller
    # When the buyer asks a question about it
    response = _start(users["anna_kowalska"], {"offer": {"id": "pl-offer-1001"}, "text": "  Jest rozmiar M?  "})
    # Then the question is stored as ASK_QUESTION, relating to the offer, text trimmed
    assert response.status == 201
    assert response.headers["content-type"] == "application/vnd.allegro.public.v1+json"
    message = response.json
    assert message["type"] == "ASK_QUESTION"
    assert message["status"] == "DELIVERED"
    assert message["text"] == "Jest rozmiar M?"
    assert message["relatesTo"] == {"offer": {"id": "pl-offer-1001"}, "order": None}
    assert message["author"] == {"login": "anna_kowalska", "isInterlocutor": False}
    assert message["subject"] == 'Rower miejski 28"'
    assert message["attachments"] == [] and message["hasAdditionalAttachments"] is False
    # And the seller sees it as an unread thread with anna
    inbox = call("api_list_threads", user_id=users["rowery-kraków"]).json
    assert [(t["id"], t["read"], t["interlocutor"]["login"]) for t in inbox["threads"]] == [
        (message["thread"]["id"], False, "anna_kowalska")
    ]
    seen = call("api_get_message", user_id=users["rowery-kraków"], path={"messageId": message["id"]}).json
    assert seen["author"] == {"login": "anna_kowalska", "isInterlocutor": True}


def test_buyer_asks_about_a_purchase(users):
    response = _start(users["anna_kowalska"], {"order": {"id": "order-anna-1"}, "text": "Kiedy wysyłka?"})
    assert response.status == 201
    assert response.json["type"] == "MESSAGE_CENTER"
    assert response.json["relatesTo"] == {"offer": None, "order": {"id": "order-anna-1"}}


def test_business_seller_writes_to_a_buyer_of_their_order(users):
    # Given a business seller and a buyer's order with that seller
    body = {"recipient": {"login": "petra_svobodova"}, "order": {"id": "order-petra-1"}, "text": "Dobrý den!"}
    # When the seller writes to the buyer
    response = _start(users["rowery-kraków"], body)
    # Then the message is stored and the buyer sees the thread
    assert response.status == 201
    assert response.json["relatesTo"]["order"] == {"id": "order-petra-1"}
    threads = call("api_list_threads", user_id=users["petra_svobodova"]).json["threads"]
    assert [t["interlocutor"]["login"] for t in threads] == ["rowery-kraków"]


def test_all_messages_of_a_pair_share_one_thread(users):
    # Given anna asked about an offer
    first = _start(users["anna_kowalska"], {"offer": {"id": "pl-offer-1001"}, "text": "Pytanie 1"}).json
    # When she asks about her order with the same seller, and the seller writes about it too
    second = _start(users["anna_kowalska"], {"order": {"id": "order-anna-1"}, "text": "Pytanie 2"}).json
    third = _start(
        users["rowery-kraków"],
        {"recipient": {"login": "ANNA_KOWALSKA"}, "order": {"id": "order-anna-1"}, "text": "Odpowiedź"},
    ).json
    # Then all three messages are in one thread, each saying what it relates to
    assert first["thread"] == second["thread"] == third["thread"]
    messages = call("api_list_messages", user_id=users["anna_kowalska"], path={"threadId": first["thread"]["id"]})
    assert [m["relatesTo"] for m in messages.json["messages"]] == [
        {"offer": None, "order": {"id": "order-anna-1"}},
        {"offer": None, "order": {"id": "order-anna-1"}},
        {"offer": {"id": "pl-offer-1001"}, "order": None},
    ]


def test_naming_only_the_login_continues_an_existing_conversation(users, question_thread):
    response = _start(users["rowery-kraków"], {"recipient": {"login": "anna_kowalska"}, "text": "Tak, jest."})
    assert response.status == 201
    assert response.json["thread"]["id"] == question_thread


@pytest.mark.parametrize(
    ("login", "body", "status", "code"),
    [
        # A private seller (no business account) cannot start a conversation with a buyer.
        (
            "jan_prywatny",
            {"recipient": {"login": "anna_kowalska"}, "order": {"id": "order-anna-jan"}, "text": "Hej"},
            403,
            "BUSINESS_ACCOUNT_REQUIRED",
        ),
        # The order belongs to another buyer of this seller.
        (
            "rowery-kraków",
            {"recipient": {"login": "anna_kowalska"}, "order": {"id": "order-petra-1"}, "text": "Hej"},
            403,
            "ORDER_NOT_WITH_RECIPIENT",
        ),
        # An order of another seller is unknown to this seller.
        (
            "rowery-kraków",
            {"recipient": {"login": "anna_kowalska"}, "order": {"id": "order-anna-jan"}, "text": "Hej"},
            404,
            "ORDER_NOT_FOUND",
        ),
        # A login nobody has is answered like one that did not place the order.
        (
            "rowery-kraków",
            {"recipient": {"login": "nobody_here"}, "order": {"id": "order-anna-1"}, "text": "Hej"},
            403,
            "ORDER_NOT_WITH_RECIPIENT",
        ),
        ("anna_kowalska", {"offer": {"id": "no-such-offer"}, "text": "Hej"}, 404, "OFFER_NOT_FOUND"),
        ("anna_kowalska", {"order": {"id": "no-such-order"}, "text": "Hej"}, 404, "ORDER_NOT_FOUND"),
        # Somebody else's purchase.
        ("petra_svobodova", {"order": {"id": "order-anna-1"}, "text": "Hej"}, 404, "ORDER_NOT_FOUND"),
        ("jan_prywatny", {"offer": {"id": "pl-offer-2001"}, "text": "Hej"}, 422, "OWN_OFFER"),
        (
            "anna_kowalska",
            {"offer": {"id": "pl-offer-1001"}, "order": {"id": "order-anna-1"}, "text": "Hej"},
            422,
            "AMBIGUOUS_CONTEXT",
        ),
        ("anna_kowalska", {"text": "Hej"}, 422, "CONVERSATION_CONTEXT_REQUIRED"),
        # No conversation yet: a login alone is not enough to start one.
        (
            "anna_kowalska",
            {"recipient": {"login": "petra_svobodova"}, "text": "Hej"},
            422,
            "CONVERSATION_CONTEXT_REQUIRED",
        ),
        ("anna_kowalska", {"recipient": {"login": "anna_kowalska"}, "text": "Hej"}, 422, "SELF_MESSAGE"),
        ("anna_kowalska", {"offer": {"id": "pl-offer-1001"}, "text": "   "}, 422, "TEXT_EMPTY"),
        # Nothing visible: zero-width characters, a Hangul filler, a blank Braille pattern, an override
        (
            "anna_kowalska",
            {"offer": {"id": "pl-offer-1001"}, "text": "\u200b\u200d\u3164\u2800\u202e"},
            422,
            "TEXT_EMPTY",
        ),
        ("anna_kowalska", {"offer": {"id": "pl-offer-1001"}, "text": "x" * 2001}, 422, "TEXT_TOO_LONG"),
        (
            "anna_kowalska",
            {"offer": {"id": "pl-offer-1001"}, "text": "a\u0000b"},
            422,
            "TEXT_INVALID_CHARACTERS",
        ),
        (
            "anna_kowalska",
            {"offer": {"id": "pl-offer-1001"}, "text": "Hej", "attachments": [{"id": "nope"}]},
            422,
            "ATTACHMENT_NOT_FOUND",
        ),
        (
            "anna_kowalska",
            {"offer": {"id": "pl-offer-1001"}, "text": "Hej", "priority": "high"},
            422,
            "VALIDATION_ERROR",
        ),
        ("anna_kowalska", {"offer": {"id": "../../etc"}, "text": "Hej"}, 422, "VALIDATION_ERROR"),
        ("anna_kowalska", {"offer": {"id": "pl-offer-1001"}, "text": 42}, 422, "VALIDATION_ERROR"),
    ],
)
def test_refusals_are_clear_problems_and_store_nothing(users, login, body, status, code):
    # When a conversation start breaks a rule
    response = _start(users[login], body)
    # Then it is refused with a problem document naming the rule
    assert response.status == status, response.raw_body
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json
    assert problem["status"] == status and problem["code"] == code and problem["detail"]
    # And nothing was written: nobody has a thread
    for user_id in users.values():
        assert call("api_list_threads", user_id=user_id).json["threads"] == []
        assert call("api_get_badge", user_id=user_id).json == {"unreadThreads": 0}


@pytest.mark.parametrize(
    ("login", "existing_login", "form"),
    [
        # a login alone (continue a conversation): petra exists but has never talked with anna
        ("anna_kowalska", "petra_svobodova", {"text": "Hej"}),
        # the seller form: olena exists but did not place the shop's order-anna-1
        ("rowery-kraków", "olena_k", {"order": {"id": "order-anna-1"}, "text": "Hej"}),
    ],
    ids=["login-only", "seller-form"],
)
def test_the_forms_naming_a_login_do_not_tell_whether_it_exists(users, login, existing_login, form):
    # When the same request names a login that exists and one that does not
    existing = _start(users[login], {**form, "recipient": {"login": existing_login}})
    missing = _start(users[login], {**form, "recipient": {"login": "nobody_here"}})
    # Then both get the same refusal, word for word
    assert existing.status == missing.status and existing.status in (403, 422)
    assert existing.json == missing.json


def test_exactly_2000_characters_are_accepted(users):
    response = _start(users["anna_kowalska"], {"offer": {"id": "pl-offer-1001"}, "text": "ż" * 2000})
    assert response.status == 201
    assert len(response.json["text"]) == 2000


def test_malformed_json_is_a_400_problem(users):
    response = _start(users["anna_kowalska"], None, raw_body='{"offer": {"id": "pl-offer-1001"}, "text": ')
    assert response.status == 400
    assert response.json["code"] == "MALFORMED_JSON"


@pytest.mark.parametrize("content_type", ["text/plain", "application/xml", "application/x-www-form-urlencoded"])
def test_non_json_content_types_are_refused(users, content_type):
    response = _start(
        users["anna_kowalska"],
        {"offer": {"id": "pl-offer-1001"}, "text": "Hej"},
        headers={"content-type": content_type},
    )
    assert response.status == 415
    assert response.json["code"] == "UNSUPPORTED_MEDIA_TYPE"
    assert call("api_list_threads", user_id=users["anna_kowalska"]).json["threads"] == []


def test_plain_json_is_accepted_and_answered_as_json(users):
    response = _start(
        users["anna_kowalska"],
        {"offer": {"id": "pl-offer-1001"}, "text": "Hej"},
        headers={"content-type": "application/json; charset=utf-8", "accept": "application/json"},
    )
    assert response.status == 201
    assert response.headers["content-type"] == "application/json"


def test_a_caller_without_verified_claims_is_unauthorized(users):
    response = _start(None, {"offer": {"id": "pl-offer-1001"}, "text": "Hej"})  # type: ignore[arg-type]
    assert response.status == 401
    assert response.json["code"] == "UNAUTHORIZED"


def test_a_token_for_someone_outside_the_directory_is_refused(users):
    response = _start("3f0f0b4e-0000-4000-8000-000000000000", {"offer": {"id": "pl-offer-1001"}, "text": "Hej"})
    assert response.status == 404
    assert response.json["code"] == "USER_NOT_FOUND"


def test_the_same_idempotency_key_stores_one_message(users):
    # Given a send with an Idempotency-Key
    body = {"offer": {"id": "pl-offer-1001"}, "text": "Czy wysyłacie do Czech?"}
    headers = {"idempotency-key": "retry-me-0001"}
    first = _start(users["anna_kowalska"], body, headers=headers)
    # When the client retries it (a lost response, a double tap)
    again = _start(users["anna_kowalska"], body, headers=headers)
    # Then the same message comes back, marked as a replay, and only one is stored
    assert first.status == again.status == 201
    assert again.json == first.json
    assert again.headers.get("idempotent-replayed") == "true"
    thread_id = first.json["thread"]["id"]
    seller_view = call("api_list_messages", user_id=users["rowery-kraków"], path={"threadId": thread_id}).json
    assert [m["id"] for m in seller_view["messages"]] == [first.json["id"]]
    assert call("api_get_thread", user_id=users["rowery-kraków"], path={"threadId": thread_id}).json["unreadCount"] == 1


def test_an_idempotency_key_reused_for_another_request_is_refused(users):
    headers = {"idempotency-key": "retry-me-0002"}
    _start(users["anna_kowalska"], {"offer": {"id": "pl-offer-1001"}, "text": "Pierwsza"}, headers=headers)
    response = _start(users["anna_kowalska"], {"offer": {"id": "pl-offer-1001"}, "text": "Inna"}, headers=headers)
    assert response.status == 422
    assert response.json["code"] == "IDEMPOTENCY_KEY_REUSED"


def test_idempotency_keys_are_per_user(users, question_thread):
    headers = {"idempotency-key": "shared-key"}
    body = {"text": "Ta sama treść"}
    anna = call(
        "api_write_in_thread",
        user_id=users["anna_kowalska"],
        path={"threadId": question_thread},
        body=body,
        headers=headers,
    )
    shop = call(
        "api_write_in_thread",
        user_id=users["rowery-kraków"],
        path={"threadId": question_thread},
        body=body,
        headers=headers,
    )
    assert anna.status == shop.status == 201
    assert anna.json["id"] != shop.json["id"]


def test_a_key_past_its_time_is_a_new_request_even_before_its_record_is_deleted(users):
    from message_center.data.idempotency_repository import idempotency_key
    from message_center.data.items import IdempotencyItem

    # Given a send with an Idempotency-Key whose remembered time has passed, while its record is
    # still in the table (DynamoDB's TTL deletes expired items only some time later)
    anna = users["anna_kowalska"]
    headers = {"idempotency-key": "expired-key-0001"}
    first = _start(anna, {"offer": {"id": "pl-offer-1001"}, "text": "Pierwsze pytanie"}, headers=headers)
    record = IdempotencyItem.get(*idempotency_key(anna, "expired-key-0001"))
    record.update(actions=[IdempotencyItem.expires_at.set(datetime.now(UTC) - timedelta(minutes=1))])
    # When the client uses the key again, for another message
    again = _start(anna, {"offer": {"id": "pl-offer-1001"}, "text": "Drugie pytanie"}, headers=headers)
    # Then it is a new message, stored once, not a refusal
    assert again.status == 201, again.json
    assert again.json["id"] != first.json["id"] and "idempotent-replayed" not in again.headers
    thread_id = first.json["thread"]["id"]
    shop_view = call("api_list_messages", user_id=users["rowery-kraków"], path={"threadId": thread_id}).json
    assert [m["text"] for m in shop_view["messages"]] == ["Drugie pytanie", "Pierwsze pytanie"]
