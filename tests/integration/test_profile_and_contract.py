"""The caller's profile and badge, the route table, and the served OpenAPI document."""

from __future__ import annotations

import pytest
from message_center.api.contract import ROUTES

from tests.support.api import call


def test_profile_shows_the_directory_entry(users):
    response = call("api_get_profile", user_id=users["olena_k"])
    assert response.status == 200
    assert response.json == {
        "id": users["olena_k"],
        "login": "olena_k",
        "preferredLanguage": "uk",
        "marketplace": "allegro-sk",
        "businessAccount": False,
        "unreadThreads": 0,
        "readReceipts": True,
    }


def test_preferred_language_can_be_changed(users):
    response = call("api_update_profile", user_id=users["anna_kowalska"], body={"preferredLanguage": "en"})
    assert response.status == 200
    assert response.json["preferredLanguage"] == "en"
    assert call("api_get_profile", user_id=users["anna_kowalska"]).json["preferredLanguage"] == "en"


@pytest.mark.parametrize("body", [{"preferredLanguage": "de"}, {"preferredLanguage": ""}, {}, {"login": "hacker"}])
def test_bad_profile_updates_are_422(users, body):
    response = call("api_update_profile", user_id=users["anna_kowalska"], body=body)
    assert response.status == 422
    assert call("api_get_profile", user_id=users["anna_kowalska"]).json["preferredLanguage"] == "pl"


def test_badge_counts_unread_threads_not_messages(users):
    for text in ("Pierwsze", "Drugie"):
        call(
            "api_write_new_message",
            user_id=users["anna_kowalska"],
            body={"offer": {"id": "pl-offer-1001"}, "text": text},
        )
    call(
        "api_write_new_message",
        user_id=users["petra_svobodova"],
        body={"order": {"id": "order-petra-1"}, "text": "Dotaz"},
    )
    assert call("api_get_badge", user_id=users["rowery-kraków"]).json == {"unreadThreads": 2}
    # The author's own messages never count for them
    assert call("api_get_badge", user_id=users["anna_kowalska"]).json == {"unreadThreads": 0}


def test_the_handler_serves_exactly_the_contract_routes(aws):
    from functions.api.handler import app

    registered = {
        (method, route.path if hasattr(route, "path") else route)
        for route in app._static_routes + app._dynamic_routes  # type: ignore[attr-defined]
        for method in ([route.method] if isinstance(route.method, str) else route.method)
    }
    assert {(r.method, r.path) for r in ROUTES} <= {(m, p.replace("<", "{").replace(">", "}")) for m, p in registered}


def test_openapi_document_describes_the_api_and_its_extensions(aws):
    response = call("api_openapi", user_id=None)
    assert response.status == 200
    document = response.json
    assert document["openapi"].startswith("3.")
    paths = document["paths"]
    for route in ROUTES:
        if route.path not in ("/openapi.json", "/events.schema.json"):  # documents, not operations
            assert route.method.lower() in paths[route.path], route.route_key
    inbox_params = {p["name"] for p in paths["/messaging/threads"]["get"]["parameters"]}
    assert {"limit", "offset", "before", "interlocutor.login", "unread", "withoutMyReply"} <= inbox_params
    send_params = {p["name"] for p in paths["/messaging/messages"]["post"]["parameters"]}
    assert "idempotency-key" in send_params
    assert "MessageOut" in document["components"]["schemas"]


def test_openapi_document_describes_refusals_as_the_problem_documents_sent(aws):
    document = call("api_openapi", user_id=None).json
    schemas = document["components"]["schemas"]
    # Powertools' own 422 body is never sent, so it is not described
    assert "HTTPValidationError" not in schemas
    assert {"code", "detail", "errors", "traceId"} <= set(schemas["Problem"]["properties"])
    problem = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    send = document["paths"]["/messaging/messages"]["post"]
    for status in ("400", "403", "404", "409", "415", "422", "500"):
        assert send["responses"][status]["content"] == problem, status
    # Each operation names its refusals: no catch-all that would let an undeclared one pass
    assert "default" not in send["responses"]
    # A JSON body may be sent in either media type, and must name one
    assert set(send["requestBody"]["content"]) == {"application/json", "application/vnd.allegro.public.v1+json"}
    thread = document["paths"]["/messaging/threads/{threadId}"]["get"]
    assert "400" not in thread["responses"] and thread["responses"]["500"]["content"] == problem


def test_unknown_routes_are_a_404_problem(aws):
    from tests.support.api import build_event, invoke

    event = build_event("api_list_threads", user_id="someone")
    event["rawPath"] = event["requestContext"]["http"]["path"] = "/messaging/nothing-here"
    response = invoke(event)
    assert response.status == 404
    assert response.headers["content-type"] == "application/problem+json"
