from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from aws_cdk.assertions import Match, Template
from message_center.api.contract import ROUTES

from infra import constants
from infra.stack import MessageCenterStack

Resource = tuple[str, dict[str, Any]]

# What the API may do with the table, spelled out here rather than imported, so that a change
# to the construct's action list is a deliberate change to this test too.
EXPECTED_TABLE_ACTIONS = {
    "dynamodb:GetItem",
    "dynamodb:BatchGetItem",
    "dynamodb:Query",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:ConditionCheckItem",
}


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _role_statements(template: Template, api_function: Resource) -> list[dict[str, Any]]:
    role_id = api_function[1]["Properties"]["Role"]["Fn::GetAtt"][0]
    policies = template.find_resources("AWS::IAM::Policy")
    return [
        statement
        for policy in policies.values()
        if {"Ref": role_id} in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


def test_each_contract_route_is_one_http_api_route(template: Template) -> None:
    # Given the route table of the API contract
    expected = sorted(route.route_key for route in ROUTES)

    # When listing the synthesized HTTP API routes
    (http_api_id,) = template.find_resources("AWS::ApiGatewayV2::Api", {"Properties": {"ProtocolType": "HTTP"}})
    routes = template.find_resources("AWS::ApiGatewayV2::Route", {"Properties": {"ApiId": {"Ref": http_api_id}}})

    # Then there is exactly one route per contract entry and nothing else (no $default catch-all)
    assert sorted(route["Properties"]["RouteKey"] for route in routes.values()) == expected


def test_only_authorized_routes_use_the_jwt_authorizer(template: Template) -> None:
    # Given the one JWT authorizer
    authorizer_id = next(iter(template.find_resources("AWS::ApiGatewayV2::Authorizer")))
    routes = {
        route["Properties"]["RouteKey"]: route["Properties"]
        for route in template.find_resources("AWS::ApiGatewayV2::Route").values()
    }

    for route in ROUTES:
        # When looking at the route of each contract entry
        props = routes[route.route_key]

        # Then it carries the JWT authorizer exactly when the contract says it is authorized
        if route.authorized:
            assert props["AuthorizationType"] == "JWT", route.route_key
            assert props["AuthorizerId"] == {"Ref": authorizer_id}, route.route_key
        else:
            assert props["AuthorizationType"] == "NONE", route.route_key
            assert "AuthorizerId" not in props, route.route_key


def test_jwt_authorizer_trusts_the_user_pool_and_its_app_clients(
    template: Template, user_pool: Resource, user_pool_client: Resource, web_client: Resource
) -> None:
    # Given the synthesized authorizer
    authorizers = template.find_resources("AWS::ApiGatewayV2::Authorizer")
    assert len(authorizers) == 1
    props = next(iter(authorizers.values()))["Properties"]

    # When reading its JWT configuration
    jwt = props["JwtConfiguration"]
    issuer_parts = jwt["Issuer"]["Fn::Join"][1]

    # Then tokens must come from this user pool's issuer and be meant for one of its app clients
    assert props["AuthorizerType"] == "JWT"
    assert props["IdentitySource"] == ["$request.header.Authorization"]
    assert issuer_parts[0] == "https://cognito-idp."
    assert issuer_parts[-1] == {"Ref": user_pool[0]}
    assert jwt["Audience"] == [{"Ref": user_pool_client[0]}, {"Ref": web_client[0]}]


def test_api_function_runtime_sizing_and_tracing(api_function: Resource) -> None:
    # Given / When the synthesized API function
    props = api_function[1]["Properties"]

    # Then it runs the handler on ARM64 with a runtime matching the layer's wheels
    assert props["Runtime"] == f"python{constants.LAYER_PYTHON_VERSION}"
    assert tuple(int(part) for part in constants.LAYER_PYTHON_VERSION.split(".")) >= (3, 12)
    assert props["Architectures"] == ["arm64"]
    assert props["Handler"] == "api.handler.lambda_handler"
    assert props["MemorySize"] == 1024
    assert props["Timeout"] <= 29  # below the HTTP API integration timeout
    assert props["TracingConfig"] == {"Mode": "Active"}


def test_api_function_logs_json_to_its_own_log_group_with_retention(template: Template, api_function: Resource) -> None:
    # Given the synthesized API function
    logging = api_function[1]["Properties"]["LoggingConfig"]

    # When following its log group reference
    log_group = template.to_json()["Resources"][logging["LogGroup"]["Ref"]]

    # Then logs are JSON, at INFO, in an explicit group that expires
    assert logging["LogFormat"] == "JSON"
    assert logging["ApplicationLogLevel"] == "INFO"
    assert log_group["Type"] == "AWS::Logs::LogGroup"
    assert log_group["Properties"]["RetentionInDays"] == 30


def test_api_function_environment(
    api_function: Resource,
    table: Resource,
    user_pool: Resource,
    attachments_bucket: Resource,
    mail_token_secret: Resource,
    realtime_table: Resource,
) -> None:
    # Given / When the synthesized API function's environment
    variables = api_function[1]["Properties"]["Environment"]["Variables"]

    # Then it names the tables (the event feed too), bucket, translation providers and Powertools settings (no push
    # or provider-key variables: neither is configured by default; nothing the API does not read)
    assert variables == {
        "TABLE_NAME": {"Ref": table[0]},
        "DEFAULT_AVATAR_URL": constants.DEFAULT_AVATAR_URL,
        "ATTACHMENTS_BUCKET": {"Ref": attachments_bucket[0]},
        "TRANSLATION_PROVIDERS": "amazon",
        "REALTIME_TABLE_NAME": {"Ref": realtime_table[0]},
        "POWERTOOLS_SERVICE_NAME": "message-center",
        "POWERTOOLS_LOG_LEVEL": "INFO",
    }


def test_default_avatar_url_comes_from_context(synth_stack: Callable[..., MessageCenterStack]) -> None:
    # Given a deployment that overrides the avatar URL in the CDK context
    stack = synth_stack(**{constants.DEFAULT_AVATAR_URL_CONTEXT_KEY: "https://cdn.example.pl/avatar.png"})

    # When synthesizing it
    template = Template.from_stack(stack)

    # Then the API function gets that URL
    template.has_resource_properties(
        "AWS::Lambda::Function",
        {"Environment": {"Variables": Match.object_like({"DEFAULT_AVATAR_URL": "https://cdn.example.pl/avatar.png"})}},
    )


def test_api_function_uses_the_shared_layer_built_for_its_runtime(template: Template, api_function: Resource) -> None:
    # Given the synthesized API function
    props = api_function[1]["Properties"]

    # When following its layer reference
    (layer_ref,) = props["Layers"]
    layer = template.to_json()["Resources"][layer_ref["Ref"]]

    # Then the layer targets exactly the function's runtime and architecture
    assert layer["Type"] == "AWS::Lambda::LayerVersion"
    assert layer["Properties"]["CompatibleRuntimes"] == [props["Runtime"]]
    assert layer["Properties"]["CompatibleArchitectures"] == props["Architectures"]


def test_api_role_may_use_the_table_and_its_indexes_but_never_scan(
    template: Template, api_function: Resource, table: Resource, realtime_table: Resource
) -> None:
    # Given every policy statement attached to the API function's role
    statements = _role_statements(template, api_function)
    actions = {action for statement in statements for action in _as_list(statement["Action"])}

    # When picking the DynamoDB statements
    table_arn = {"Fn::GetAtt": [table[0], "Arn"]}
    dynamodb = [s for s in statements if any(a.startswith("dynamodb:") for a in _as_list(s["Action"]))]
    (table_statement,) = [s for s in dynamodb if table_arn in s["Resource"]]
    # (the event feed is only queried)
    (feed_statement,) = [s for s in dynamodb if s is not table_statement]
    assert feed_statement["Action"] == "dynamodb:Query"
    assert {"Fn::GetAtt": [realtime_table[0], "Arn"]} in feed_statement["Resource"]

    # Then it grants exactly the request-path actions, on the table and its indexes only
    assert set(table_statement["Action"]) == EXPECTED_TABLE_ACTIONS
    assert table_statement["Effect"] == "Allow"
    assert table_statement["Resource"] == [table_arn, {"Fn::Join": ["", [table_arn, "/index/*"]]}]
    assert "dynamodb:Scan" not in actions
    assert not {action for action in actions if action == "*" or action.endswith(":*")}


def test_api_role_has_no_managed_policies(template: Template, api_function: Resource) -> None:
    # Given the API function's role
    role_id = api_function[1]["Properties"]["Role"]["Fn::GetAtt"][0]

    # When reading its definition
    role = template.to_json()["Resources"][role_id]["Properties"]

    # Then all its permissions are the inline, resource-scoped statements above
    assert "ManagedPolicyArns" not in role
    assert role["AssumeRolePolicyDocument"]["Statement"] == [
        {"Action": "sts:AssumeRole", "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}}
    ]


def test_default_stage_logs_access_and_throttles(template: Template) -> None:
    # Given / When the synthesized stage
    stages = template.find_resources("AWS::ApiGatewayV2::Stage", {"Properties": {"StageName": "$default"}})
    assert len(stages) == 1
    props = next(iter(stages.values()))["Properties"]
    log_settings = props["AccessLogSettings"]
    log_group_id = log_settings["DestinationArn"]["Fn::GetAtt"][0]

    # Then it deploys automatically, throttles, and writes JSON access logs to a retained group
    assert props["StageName"] == "$default"
    assert props["AutoDeploy"] is True
    assert props["DefaultRouteSettings"] == {
        "ThrottlingRateLimit": constants.API_THROTTLE_RATE_LIMIT,
        "ThrottlingBurstLimit": constants.API_THROTTLE_BURST_LIMIT,
    }
    access_log = json.loads(log_settings["Format"])
    assert {"requestId", "routeKey", "status"} <= set(access_log)
    assert template.to_json()["Resources"][log_group_id]["Properties"]["RetentionInDays"] == 30


def test_outputs_tell_clients_where_to_connect(template: Template) -> None:
    # Given / When the synthesized outputs
    outputs = template.find_outputs("*")

    # Then the web client, the API URL, the user pool, its clients, the table and the attachments
    # bucket are exported
    assert {
        "WebUrl",
        "ApiUrl",
        "UserPoolId",
        "UserPoolClientId",
        "WebClientId",
        "TableName",
        "AttachmentsBucketName",
    } <= set(outputs)


def test_another_openid_provider_can_issue_the_tokens(synth_stack: Callable[..., MessageCenterStack]) -> None:
    # Given a marketplace that signs its users in with its own OpenID Connect provider
    stack = synth_stack(
        **{
            constants.JWT_ISSUER_CONTEXT_KEY: "https://login.shop.example",
            constants.JWT_AUDIENCE_CONTEXT_KEY: "message-center,message-center-mobile",
        }
    )

    # When synthesizing the authorizer
    (authorizer,) = Template.from_stack(stack).find_resources("AWS::ApiGatewayV2::Authorizer").values()

    # Then it checks that provider's issuer and audiences instead of the user pool's
    assert authorizer["Properties"]["JwtConfiguration"] == {
        "Issuer": "https://login.shop.example",
        "Audience": ["message-center", "message-center-mobile"],
    }


@pytest.mark.parametrize(
    "context",
    [
        {constants.JWT_ISSUER_CONTEXT_KEY: "https://login.shop.example"},
        {constants.JWT_ISSUER_CONTEXT_KEY: "http://login.shop.example", constants.JWT_AUDIENCE_CONTEXT_KEY: "mc"},
    ],
    ids=["issuer-without-audience", "plain-http-issuer"],
)
def test_an_incomplete_or_insecure_issuer_fails_synth(
    synth_stack: Callable[..., MessageCenterStack], context: dict[str, str]
) -> None:
    with pytest.raises(ValueError, match=constants.JWT_ISSUER_CONTEXT_KEY):
        synth_stack(**context)


def test_by_default_the_api_allows_no_other_browser_origin(template: Template) -> None:
    # Given / When the synthesized HTTP API
    (api,) = template.find_resources("AWS::ApiGatewayV2::Api", {"Properties": {"ProtocolType": "HTTP"}}).values()

    # Then it has no CORS configuration: no origin may read its answers from a browser (the web
    # client calls it through its own distribution, same origin)
    assert "CorsConfiguration" not in api["Properties"]


def test_browser_origins_from_context_may_call_the_api(synth_stack: Callable[..., MessageCenterStack]) -> None:
    # Given a deployment allowing the marketplace's own web pages
    stack = synth_stack(
        **{constants.API_CORS_ORIGINS_CONTEXT_KEY: '["https://shop.example", "https://m.shop.example"]'}
    )

    # When synthesizing the HTTP API
    (api,) = (
        Template.from_stack(stack)
        .find_resources("AWS::ApiGatewayV2::Api", {"Properties": {"ProtocolType": "HTTP"}})
        .values()
    )

    # Then exactly those origins may send the token and a JSON body, with every method of the
    # routes, and read the replay and location headers
    cors = api["Properties"]["CorsConfiguration"]
    assert cors["AllowOrigins"] == ["https://shop.example", "https://m.shop.example"]
    assert sorted(cors["AllowMethods"]) == ["DELETE", "GET", "PATCH", "POST", "PUT"]
    assert sorted(cors["AllowHeaders"]) == ["authorization", "content-type", "idempotency-key"]
    assert sorted(cors["ExposeHeaders"]) == ["idempotent-replayed", "location"]
    assert cors["MaxAge"] == 3600
    assert "AllowCredentials" not in cors


def test_a_cors_origin_that_is_not_an_origin_fails_synth(synth_stack: Callable[..., MessageCenterStack]) -> None:
    with pytest.raises(ValueError, match=constants.API_CORS_ORIGINS_CONTEXT_KEY):
        synth_stack(**{constants.API_CORS_ORIGINS_CONTEXT_KEY: "https://shop.example/messages"})
