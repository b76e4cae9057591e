"""The live channel in the template: the WebSocket API and its stage (throttled, access logs
without the token), the connections table with TTL, the management-API permission scoped to this
API's stage, and the live events function's own stream mapping, filter and dead-letter queue."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk.assertions import Template
from message_center import deployment
from message_center.data.realtime_records import live_change_from_stream_record

from infra.realtime_construct import ACCESS_LOG_FIELDS
from local_runtime import stream_poller
from tests.infra.conftest import REPO_ROOT, Resource, function_with_handler


@pytest.fixture(scope="module")
def websocket_api(template: Template) -> Resource:
    (item,) = template.find_resources("AWS::ApiGatewayV2::Api", {"Properties": {"ProtocolType": "WEBSOCKET"}}).items()
    return item


@pytest.fixture(scope="module")
def connections_function(template: Template) -> Resource:
    return function_with_handler(template, deployment.REALTIME_FUNCTION.handler)


@pytest.fixture(scope="module")
def events_function(template: Template) -> Resource:
    return function_with_handler(template, deployment.REALTIME_EVENTS_FUNCTION.handler)


def _statements(template: Template, function: Resource) -> list[dict[str, Any]]:
    role_id = function[1]["Properties"]["Role"]["Fn::GetAtt"][0]
    return [
        statement
        for policy in template.find_resources("AWS::IAM::Policy").values()
        if {"Ref": role_id} in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


def test_the_three_routes_reach_the_connections_function(
    template: Template, websocket_api: Resource, connections_function: Resource
) -> None:
    # Given / When the WebSocket API's routes
    routes = template.find_resources("AWS::ApiGatewayV2::Route", {"Properties": {"ApiId": {"Ref": websocket_api[0]}}})
    # Then $connect, $disconnect and $default each go to the connections function
    assert sorted(route["Properties"]["RouteKey"] for route in routes.values()) == [
        "$connect",
        "$default",
        "$disconnect",
    ]
    integrations = template.find_resources(
        "AWS::ApiGatewayV2::Integration", {"Properties": {"ApiId": {"Ref": websocket_api[0]}}}
    )
    (integration,) = integrations.values()
    assert connections_function[0] in json.dumps(integration["Properties"]["IntegrationUri"])
    for route in routes.values():
        assert route["Properties"]["Target"]["Fn::Join"][1][1] == {"Ref": next(iter(integrations))}


def test_the_stage_throttles_and_logs_access_without_headers_or_tokens(
    template: Template, websocket_api: Resource
) -> None:
    # Given / When the WebSocket stage
    (stage,) = template.find_resources(
        "AWS::ApiGatewayV2::Stage", {"Properties": {"ApiId": {"Ref": websocket_api[0]}}}
    ).values()
    props = stage["Properties"]
    # Then it is throttled
    assert props["DefaultRouteSettings"] == {
        "ThrottlingBurstLimit": deployment.REALTIME.throttle_burst_limit,
        "ThrottlingRateLimit": deployment.REALTIME.throttle_rate_limit,
    }
    # ... and logs access to its own log group, in a format naming no header (the token travels in
    # Sec-WebSocket-Protocol) and no message body
    log_format = props["AccessLogSettings"]["Format"]
    assert json.loads(log_format) == ACCESS_LOG_FIELDS
    for leak in ("header", "Sec-WebSocket", "authorizer.", "body", "$request"):
        assert leak.lower() not in log_format.lower(), leak
    log_group_id = props["AccessLogSettings"]["DestinationArn"]["Fn::GetAtt"][0]
    assert template.to_json()["Resources"][log_group_id]["Type"] == "AWS::Logs::LogGroup"


def test_connections_live_in_their_own_table_with_ttl(realtime_table: Resource) -> None:
    props = realtime_table[1]["Properties"]
    assert props["TimeToLiveSpecification"] == {"AttributeName": "expiresAt", "Enabled": True}
    assert props["KeySchema"] == [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ]
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    # no stream: its writes feed nothing
    assert "StreamSpecification" not in props


@pytest.mark.parametrize("function_name", ["connections_function", "events_function"])
def test_managing_connections_is_allowed_on_this_apis_stage_only(
    template: Template, websocket_api: Resource, function_name: str, request: pytest.FixtureRequest
) -> None:
    # Given / When the function's permissions on the management API
    function = request.getfixturevalue(function_name)
    statements = [s for s in _statements(template, function) if "execute-api" in json.dumps(s["Action"])]
    # Then it may only manage connections of this API's live stage
    (statement,) = statements
    assert statement["Action"] == "execute-api:ManageConnections"
    resource = json.dumps(statement["Resource"])
    assert f'{{"Ref": "{websocket_api[0]}"}}' in resource
    assert "/live/*/@connections/*" in resource


def test_the_connect_function_checks_tokens_of_the_apps_issuer(
    connections_function: Resource, user_pool: Resource, realtime_table: Resource
) -> None:
    variables = connections_function[1]["Properties"]["Environment"]["Variables"]
    assert user_pool[0] in json.dumps(variables["TOKEN_ISSUER"])
    assert variables["REALTIME_TABLE_NAME"] == {"Ref": realtime_table[0]}
    assert "/live" in json.dumps(variables["WEBSOCKET_MANAGEMENT_URL"])


def test_the_events_function_has_its_own_filtered_mapping_with_partial_failures_and_a_dead_letter_queue(
    template: Template, events_function: Resource, table: Resource
) -> None:
    # Given / When the live events function's event source mapping
    (mapping,) = template.find_resources(
        "AWS::Lambda::EventSourceMapping", {"Properties": {"FunctionName": {"Ref": events_function[0]}}}
    ).values()
    props = mapping["Properties"]
    # Then it reads the main table's stream, reports failed records alone, bisects and retries a
    # bounded number of times, then describes them in its own queue
    assert props["EventSourceArn"] == {"Fn::GetAtt": [table[0], "StreamArn"]}
    assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert props["BisectBatchOnFunctionError"] is True
    assert props["MaximumRetryAttempts"] == deployment.REALTIME_SOURCE.retry_attempts
    queue_id = props["DestinationConfig"]["OnFailure"]["Destination"]["Fn::GetAtt"][0]
    assert queue_id.startswith("RealtimeEventsDeadLetterQueue")
    # ... with the filters the local runtime's poller applies too
    patterns = [json.loads(f["Pattern"]) for f in props["FilterCriteria"]["Filters"]]
    assert patterns == list(deployment.REALTIME_SOURCE.filter_patterns)


def test_the_filters_pass_exactly_the_changes_users_see_live() -> None:
    # Given stream records of a new message, a read flag change and a deletion, and one of a
    # record the live events do not concern (a thread item)
    records = json.loads((REPO_ROOT / "events" / "stream_live_changes.json").read_text())["Records"]
    thread_update = json.loads(json.dumps(records[1]))
    thread_update["dynamodb"]["Keys"] = {"pk": {"S": "THREAD#01M8B2SA61K65JJX1V0M46XWEA"}, "sk": {"S": "THREAD"}}
    # When / Then the filters pass the first three, and the handler decodes each of them
    patterns = deployment.REALTIME_SOURCE.filter_patterns
    assert [stream_poller.matches_any(patterns, r) for r in [*records, thread_update]] == [True, True, True, False]
    kinds = [live_change_from_stream_record(r).kind.value for r in records]  # type: ignore[union-attr]
    assert kinds == ["MESSAGE_INSERTED", "ENTRY_MODIFIED", "MESSAGE_REMOVED"]


def test_clients_learn_the_websocket_url(template: Template, websocket_api: Resource) -> None:
    output = template.find_outputs("WebSocketUrl")["WebSocketUrl"]["Value"]
    assert {"Ref": websocket_api[0]} in output["Fn::Join"][1]
    assert output["Fn::Join"][1][0] == "wss://"
