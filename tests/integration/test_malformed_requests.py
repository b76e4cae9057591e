"""Malformed and hostile requests: each gets a bounded 4xx problem document; anything unexpected
a problem+json 500 with a trace id and no internals — never API Gateway's bare 500."""

from __future__ import annotations

import json

import pytest

from tests.support.api import build_event, call, invoke, load_event

QUESTION = {"offer": {"id": "pl-offer-1001"}, "text": "Czy jest rozmiar M?"}


def _start(user_id: str, body=None, **overrides):
    return call("api_write_new_message", user_id=user_id, body=body, **overrides)


def _assert_problem(response, status: int, code: str) -> dict:
    assert response.status == status, response.raw_body[:500]
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json
    assert problem["status"] == status and problem["code"] == code and problem["detail"]
    return problem


def _nothing_stored(users: dict[str, str]) -> None:
    for user_id in users.values():
        assert call("api_list_threads", user_id=user_id).json["threads"] == []


# -- bodies that are not UTF-8 JSON ----------------------------------------------------------------


@pytest.mark.parametrize(
    "encoded",
    [
        json.dumps(QUESTION | {"text": "Dzień dobry"}, ensure_ascii=False).encode("iso-8859-2"),
        json.dumps(QUESTION, ensure_ascii=False).encode("utf-16"),  # with a byte order mark
        json.dumps(QUESTION, ensure_ascii=False).encode("utf-16-le"),
        json.dumps(QUESTION, ensure_ascii=False).encode("utf-8")[:-3] + b"\xc5",  # cut inside a character
    ],
    ids=["latin-2", "utf-16", "utf-16-le-no-bom", "truncated-utf-8"],
)
def test_a_json_body_that_is_not_utf8_is_a_400(users, encoded):
    # Given a JSON body in another encoding, which API Gateway passes on base64-encoded
    event = build_event(
        "api_write_new_message",
        user_id=users["anna_kowalska"],
        binary=encoded,
        headers={"content-type": "application/json"},
    )
    # When it is sent
    response = invoke(event)
    # Then it is refused as malformed, and nothing is stored
    _assert_problem(response, 400, "MALFORMED_JSON")
    _nothing_stored(users)


def test_a_utf8_json_body_passed_on_base64_encoded_is_read(users):
    # Given a JSON body that API Gateway base64-encoded (as it does for types it does not know as text)
    event = build_event(
        "api_write_new_message",
        user_id=users["anna_kowalska"],
        binary=json.dumps(QUESTION | {"text": "Dzień dobry"}, ensure_ascii=False).encode(),
        headers={"content-type": "application/vnd.allegro.public.v1+json"},
    )
    # When it is sent
    response = invoke(event)
    # Then it is read like any JSON body
    assert response.status == 201, response.raw_body
    assert response.json["text"] == "Dzień dobry"


@pytest.mark.parametrize("depth", [65, 5_000, 100_000])
def test_json_nested_deeper_than_64_levels_is_a_400(users, depth):
    # Given a body whose unknown field nests arrays far deeper than any real request
    raw = json.dumps(QUESTION)[:-1] + ', "x": ' + "[" * depth + "]" * depth + "}"
    # When it is sent
    response = _start(users["anna_kowalska"], raw_body=raw)
    # Then it is refused as malformed before Python's recursive parser sees it
    problem = _assert_problem(response, 400, "MALFORMED_JSON")
    assert "64" in problem["detail"]
    _nothing_stored(users)


def test_nesting_up_to_64_levels_is_parsed_and_judged_by_the_model(users):
    # Given 64 levels of nesting, brackets inside strings not counted
    raw = json.dumps(QUESTION | {"text": "[[[[" * 50})[:-1] + ', "x": ' + "[" * 63 + "]" * 63 + "}"
    # When it is sent
    response = _start(users["anna_kowalska"], raw_body=raw)
    # Then it is read, and the unknown field is what is refused
    problem = _assert_problem(response, 422, "VALIDATION_ERROR")
    assert [e["location"] for e in problem["errors"]] == ["body.x"]


@pytest.mark.parametrize(
    "raw",
    [
        '{"filename": "faktura.pdf", "size": 1' + "0" * 5000 + "}",  # Python refuses to convert it
        '{"filename": "faktura.pdf", "size": NaN}',
        '{"filename": "faktura.pdf", "size": Infinity}',
        '\ufeff{"filename": "faktura.pdf", "size": 1}',
        '{"filename": "faktura.pdf", "size": 1',
    ],
    ids=["5000-digit-number", "nan", "infinity", "byte-order-mark", "truncated"],
)
def test_what_is_not_standard_json_is_a_400(users, raw):
    response = call("api_declare_attachment", user_id=users["anna_kowalska"], raw_body=raw)
    _assert_problem(response, 400, "MALFORMED_JSON")


# -- what a JSON route takes -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "event_name",
    [
        "api_write_new_message",
        "api_write_in_thread",
        "api_mark_thread_read",
        "api_update_profile",
        "api_register_device",
        "api_declare_attachment",
    ],
)
def test_a_json_body_without_content_type_is_a_415(users, question_thread, event_name):
    anna = users["anna_kowalska"]
    before = _state_of(anna, question_thread)
    # Given a route's sample body sent without a Content-Type (API Gateway then base64-encodes it)
    sample = load_event(event_name)
    event = build_event(
        event_name,
        user_id=anna,
        path={"threadId": question_thread} if "{threadId}" in sample["routeKey"] else None,
        binary=sample["body"].encode(),
        headers={"content-type": None},
    )
    # When it is sent
    response = invoke(event)
    # Then it is refused as an unsupported media type, and nothing changed
    _assert_problem(response, 415, "UNSUPPORTED_MEDIA_TYPE")
    assert _state_of(anna, question_thread) == before


def _state_of(user_id: str, thread_id: str) -> list:
    return [
        call(name, user_id=user_id, path=path).json
        for name, path in (
            ("api_get_profile", None),
            ("api_list_devices", None),
            ("api_list_threads", None),
            ("api_list_messages", {"threadId": thread_id}),
        )
    ]


@pytest.mark.parametrize("size", ["482", 482.0, True, "0x1e2"])
def test_numbers_are_json_numbers(users, size):
    # When a number is sent as a string, a float or a boolean
    response = call(
        "api_declare_attachment", user_id=users["anna_kowalska"], body={"filename": "faktura.png", "size": size}
    )
    # Then the field is refused
    problem = _assert_problem(response, 422, "VALIDATION_ERROR")
    assert [e["location"] for e in problem["errors"]] == ["body.size"]


def test_a_refusal_stays_small_however_many_fields_are_wrong(users):
    # Given a 0.6 MB body with 20,000 unknown fields, one of them named with 100,000 characters
    body = QUESTION | {f"unknown_field_{n:05d}": "x" * 10 for n in range(20_000)} | {"k" * 100_000: 1}
    # When it is sent
    response = _start(users["anna_kowalska"], body)
    # Then the refusal names the first ten, clipped, counts the rest, and stays a few kilobytes
    problem = _assert_problem(response, 422, "VALIDATION_ERROR")
    assert len(problem["errors"]) == 10
    assert all(len(e["location"]) <= 200 and len(e["message"]) <= 200 for e in problem["errors"])
    assert problem["detail"].endswith("(and 19991 more)")
    assert len(response.raw_body) < 8_000
    _nothing_stored(users)


# -- unexpected errors --------------------------------------------------------------------------


def test_an_unexpected_error_is_a_500_problem_with_a_trace_id_and_no_internals(users, monkeypatch, caplog):
    from message_center.services.messaging import MessagingService

    # Given a failure nobody mapped to a refusal (a bug, or an outage of a dependency)
    def broken(*_args, **_kwargs):
        raise RuntimeError("table MessageCenterTest: item anna_kowalska 'Czy jest rozmiar M?'")

    monkeypatch.setattr(MessagingService, "send", broken)
    event = build_event("api_write_new_message", user_id=users["anna_kowalska"], body=QUESTION)
    # When a request runs into it
    response = invoke(event)
    # Then the caller gets a problem document with the request id to quote, and no internals
    problem = _assert_problem(response, 500, "INTERNAL_ERROR")
    assert problem["traceId"] == event["requestContext"]["requestId"]
    for internal in ("RuntimeError", "MessageCenterTest", "anna_kowalska", "rozmiar", "Traceback"):
        assert internal not in response.raw_body
    # And the log names the kind of error and where it happened, never its message or the body
    _assert_logged_without_content(caplog, "builtins.RuntimeError", "in broken")


def test_an_event_api_gateway_never_sends_still_gets_a_problem(aws, caplog):
    # Given an event missing its HTTP details (a hand-written test invoke, say)
    event = build_event("api_list_threads", user_id="someone")
    del event["requestContext"]["http"]
    # When the handler gets it
    response = invoke(event)
    # Then the error does not escape the function: the answer is still a 500 problem document
    problem = _assert_problem(response, 500, "INTERNAL_ERROR")
    assert problem["traceId"] == event["requestContext"]["requestId"]
    _assert_logged_without_content(caplog, "builtins.KeyError", "in _resolve")


def _assert_logged_without_content(caplog, error_type: str, frame: str) -> None:
    errors = [record for record in caplog.records if record.levelname in ("ERROR", "CRITICAL")]
    assert [record.getMessage() for record in errors] == ["Unexpected error"]
    assert errors[0].error_type == error_type
    assert any(frame in line for line in errors[0].error_stack)
    assert not errors[0].exc_info
    logged = json.dumps([record.__dict__ for record in caplog.records], default=str)
    for content in ("rozmiar", "MessageCenterTest", "'http'"):
        assert content not in logged
