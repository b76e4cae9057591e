"""End to end: the README's walk-through against `message-center serve`, over real HTTP."""

from __future__ import annotations

import base64
import json

import pytest
import requests

pytestmark = pytest.mark.e2e

VND = "application/vnd.allegro.public.v1+json"
# Demo directory: a private buyer, a business seller with an order of hers, and a bystander.
# Each test uses its own pair of users: the tests share one running stack.
BUYER, SELLER, OUTSIDER = "anna_kowalska", "dom-i-ogrod-pl", "tomas_novak"
OFFER, ORDER = "12790441001", "5d1b8a72-3c4e-4f0a-9b61-2f8e7c1a0d01"
QA_BUYER, QA_SELLER, QA_OFFER = "olena_shevchenko", "budapest-books", "13677000032"


def test_buyer_asks_and_seller_answers(local_stack):
    buyer, seller = local_stack.session(QA_BUYER), local_stack.session(QA_SELLER)
    api = local_stack.api_url
    # Given the buyer asks a question about an offer
    asked = buyer.post(
        f"{api}/messaging/messages",
        json={"offer": {"id": QA_OFFER}, "text": "Czy słownik jest dostępny od ręki?"},
        headers={"Content-Type": VND},
    )
    assert asked.status_code == 201, asked.text
    assert asked.headers["Content-Type"] == VND
    thread_id = asked.json()["thread"]["id"]
    assert asked.json()["type"] == "ASK_QUESTION"
    # Then the seller has one unread thread with the buyer
    assert seller.get(f"{api}/messaging/me/badge").json() == {"unreadThreads": 1}
    inbox = seller.get(f"{api}/messaging/threads", params={"unread": "true"}).json()
    assert [(t["id"], t["interlocutor"]["login"]) for t in inbox["threads"]] == [(thread_id, QA_BUYER)]
    # When the seller answers in the thread and marks it read
    answered = seller.post(
        f"{api}/messaging/threads/{thread_id}/messages",
        json={"text": "Tak, wysyłamy w 24 godziny."},
        headers={"Content-Type": VND},
    )
    assert answered.status_code == 201, answered.text
    assert seller.get(f"{api}/messaging/me/badge").json() == {"unreadThreads": 0}
    # Then the buyer sees both messages, newest first, and the unread answer
    messages = buyer.get(f"{api}/messaging/threads/{thread_id}/messages").json()["messages"]
    assert [(m["author"]["login"], m["author"]["isInterlocutor"], m["text"]) for m in messages] == [
        (QA_SELLER, True, "Tak, wysyłamy w 24 godziny."),
        (QA_BUYER, False, "Czy słownik jest dostępny od ręki?"),
    ]
    assert buyer.get(f"{api}/messaging/threads/{thread_id}").json()["read"] is False
    read = buyer.put(f"{api}/messaging/threads/{thread_id}/read", json={"read": True}, headers={"Content-Type": VND})
    assert read.status_code == 200 and read.json()["read"] is True
    # And a third user cannot see any of it
    outsider = local_stack.session(OUTSIDER)
    assert outsider.get(f"{api}/messaging/threads/{thread_id}").status_code == 404
    assert outsider.get(f"{api}/messaging/threads/{thread_id}/messages").status_code == 404
    assert outsider.get(f"{api}/messaging/messages/{messages[0]['id']}").status_code == 404


def test_business_seller_starts_a_conversation_about_an_order(local_stack):
    seller = local_stack.session(SELLER)
    response = seller.post(
        f"{local_stack.api_url}/messaging/messages",
        json={"recipient": {"login": BUYER}, "order": {"id": ORDER}, "text": "Paczka wyjdzie jutro."},
    )
    assert response.status_code == 201, response.text
    assert response.json()["relatesTo"]["order"] == {"id": ORDER}


def test_requests_without_a_valid_token_never_reach_the_handler(local_stack):
    url = f"{local_stack.api_url}/messaging/threads"
    assert requests.get(url, timeout=10).status_code == 401
    assert requests.get(url, headers={"Authorization": "Bearer not-a-jwt"}, timeout=10).status_code == 401
    # A token whose payload was changed (say, to someone else's sub) fails the signature check.
    header, payload, signature = local_stack.token(BUYER).split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["sub"] = "someone-else"
    forged_payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    forged = requests.get(url, headers={"Authorization": f"Bearer {header}.{forged_payload}.{signature}"}, timeout=10)
    assert forged.status_code == 401


def test_bad_input_is_a_problem_document(local_stack):
    buyer = local_stack.session(BUYER)
    response = buyer.post(
        f"{local_stack.api_url}/messaging/messages",
        data=b'{"offer": {"id": "12790441001"}, "text": ',
        headers={"Content-Type": VND},
    )
    assert response.status_code == 400
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "MALFORMED_JSON"


def test_openapi_and_swagger_are_public(local_stack):
    document = requests.get(f"{local_stack.api_url}/openapi.json", timeout=10)
    assert document.status_code == 200
    assert "/messaging/threads/{threadId}/messages" in document.json()["paths"]
    swagger = requests.get(f"{local_stack.api_url}/swagger", timeout=10)
    assert swagger.status_code == 200
    assert "swagger" in swagger.text.lower()


def test_directory_load_adds_users_who_can_then_write(local_stack, tmp_path):
    # Given a directory file with a new business seller and an order of an existing buyer
    directory = {
        "users": [
            {
                "login": "nowy-sklep",
                "email": "kontakt@nowy-sklep.example.com",
                "preferredLanguage": "pl",
                "businessAccount": True,
                "marketplace": "allegro-pl",
            },
            {
                "login": BUYER,
                "email": "anna.kowalska@example.com",
                "preferredLanguage": "pl",
                "businessAccount": False,
                "marketplace": "allegro-pl",
            },
        ],
        "offers": [{"id": "555000111", "seller": "nowy-sklep", "marketplace": "allegro-pl", "title": "Lampa"}],
        "orders": [
            {
                "id": "order-nowy-1",
                "buyer": BUYER,
                "seller": "nowy-sklep",
                "marketplace": "allegro-pl",
                "offers": ["555000111"],
            }
        ],
    }
    path = tmp_path / "directory.json"
    path.write_text(json.dumps(directory))
    # When it is loaded into the running stack (twice: loading is an upsert)
    for _ in range(2):
        loaded = local_stack.cli("directory", "load", str(path), "--local")
        assert loaded.returncode == 0, loaded.stderr
    # Then the new seller can write to the buyer about the order
    response = local_stack.session("nowy-sklep").post(
        f"{local_stack.api_url}/messaging/messages",
        json={"recipient": {"login": BUYER}, "order": {"id": "order-nowy-1"}, "text": "Dziękujemy za zakup!"},
    )
    assert response.status_code == 201, response.text


def test_an_invalid_directory_file_is_refused_naming_the_entry(local_stack, tmp_path):
    path = tmp_path / "broken.json"
    path.write_text(
        json.dumps(
            {
                "users": [],
                "offers": [{"id": "1", "seller": "ghost", "marketplace": "allegro-pl", "title": "X"}],
            }
        )
    )
    result = local_stack.cli("directory", "load", str(path), "--local", check=False)
    assert result.returncode == 2
    assert "offers[0] (1): seller 'ghost' is not in users" in result.stdout + result.stderr
