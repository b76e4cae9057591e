"""Route matching of the local gateway: the HTTP API rules, on the contract's route table."""

from __future__ import annotations

import pytest
from message_center.api.contract import ROUTES, Route

from local_runtime.gateway import RouteTable


@pytest.fixture
def table() -> RouteTable:
    return RouteTable.default()


@pytest.mark.parametrize(
    ("method", "path", "route_key", "parameters"),
    [
        ("GET", "/messaging/threads", "GET /messaging/threads", {}),
        ("GET", "/messaging/threads/01J9Z", "GET /messaging/threads/{threadId}", {"threadId": "01J9Z"}),
        (
            "PUT",
            "/messaging/threads/01J9Z/read",
            "PUT /messaging/threads/{threadId}/read",
            {"threadId": "01J9Z"},
        ),
        (
            "POST",
            "/messaging/threads/T1/messages",
            "POST /messaging/threads/{threadId}/messages",
            {"threadId": "T1"},
        ),
        ("DELETE", "/messaging/messages/M1", "DELETE /messaging/messages/{messageId}", {"messageId": "M1"}),
        ("GET", "/messaging/me/badge", "GET /messaging/me/badge", {}),
        ("GET", "/swagger", "GET /swagger", {}),
        ("GET", "/openapi.json", "GET /openapi.json", {}),
    ],
)
def test_matches_each_route_and_extracts_path_parameters(table, method, path, route_key, parameters):
    # Given the contract's routes
    # When a request for a known route comes in
    match = table.match(method, path)
    # Then the route and its path parameters are found
    assert match is not None
    assert match.route.route_key == route_key
    assert match.path_parameters == parameters


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/nope"),
        ("GET", "/messaging"),
        ("GET", "/messaging/threads/"),  # an empty segment is no {threadId}
        ("GET", "/messaging/threads/T1/extra/segments"),
        ("GET", "/Messaging/threads"),  # paths are case-sensitive
        ("POST", "/messaging/me/badge"),  # known path, other method: no route (HTTP API answers 404)
        ("HEAD", "/messaging/threads"),  # HTTP API does not map HEAD to GET
        ("GET", "messaging/threads"),
    ],
)
def test_unknown_paths_and_methods_do_not_match(table, method, path):
    # Given the contract's routes / When an unknown method or path comes in / Then nothing matches
    assert table.match(method, path) is None


def test_every_contract_route_is_served_and_keeps_its_authorization(table):
    # Given the contract / When the default table is built / Then it holds each contract route unchanged
    by_key = {route.route_key: route for route in table.routes}
    for route in ROUTES:
        assert by_key[route.route_key] == route
    assert by_key["GET /swagger"].authorized is False


def test_literal_segments_win_over_parameters_and_greedy_last():
    # Given overlapping routes in any order
    table = RouteTable(
        [
            Route("GET", "/files/{proxy+}"),
            Route("GET", "/files/{name}"),
            Route("GET", "/files/latest"),
        ]
    )
    # When / Then: the most specific route wins, like API Gateway
    assert table.match("GET", "/files/latest").route.path == "/files/latest"
    assert table.match("GET", "/files/report.pdf").route.path == "/files/{name}"
    deep = table.match("GET", "/files/2024/05/report.pdf")
    assert deep.route.path == "/files/{proxy+}"
    assert deep.path_parameters == {"proxy": "2024/05/report.pdf"}


def test_path_parameters_are_url_decoded(table):
    # Given a percent-encoded segment / When matched / Then the parameter is decoded
    match = table.match("GET", "/messaging/threads/a%20b%2Fc")
    assert match is not None
    assert match.path_parameters == {"threadId": "a b/c"}
