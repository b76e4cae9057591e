"""The notification pipeline: stream event source, dead-letter queue, alarms, idempotency table,
the stream function's permissions and environment, and push only when it is configured."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import DockerImage
from aws_cdk.assertions import Template
from cdk_nag import AwsSolutionsChecks
from message_center.data import mappers

from infra import constants
from infra.layer_bundling import LocalFunctionBundler
from infra.notifications_construct import endpoint_arn_pattern, push_applications_from_context
from infra.stack import MessageCenterStack
from local_runtime import stream_poller
from tests.infra.conftest import REPO_ROOT, function_with_handler
from tests.support.stream import deployed_filter

Resource = tuple[str, dict[str, Any]]

APNS_APP = "arn:aws:sns:eu-central-1:123456789012:app/APNS/message-center"
FCM_APP = "arn:aws:sns:eu-central-1:123456789012:app/GCM/message-center"
APNS_ENDPOINTS = "arn:aws:sns:eu-central-1:123456789012:endpoint/APNS/message-center/*"
FCM_ENDPOINTS = "arn:aws:sns:eu-central-1:123456789012:endpoint/GCM/message-center/*"
PUSH_CONTEXT = {
    constants.PUSH_APNS_APPLICATION_ARN_CONTEXT_KEY: APNS_APP,
    constants.PUSH_FCM_APPLICATION_ARN_CONTEXT_KEY: FCM_APP,
}

# Spelled out rather than imported, so a change in the construct is a deliberate change here too.
EXPECTED_STREAM_TABLE_ACTIONS = {
    "dynamodb:GetItem",
    "dynamodb:BatchGetItem",
    "dynamodb:Query",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:ConditionCheckItem",
}
EXPECTED_IDEMPOTENCY_ACTIONS = {
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
}
POWERTOOLS_ENVIRONMENT = {
    "POWERTOOLS_SERVICE_NAME": "message-center",
    "POWERTOOLS_LOG_LEVEL": "INFO",
}


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _role_statements(template: Template, function: Resource) -> list[dict[str, Any]]:
    role_id = function[1]["Properties"]["Role"]["Fn::GetAtt"][0]
    return [
        statement
        for policy in template.find_resources("AWS::IAM::Policy").values()
        if {"Ref": role_id} in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


def _grants(template: Template, function: Resource, service: str) -> set[tuple[str, str]]:
    """(action, resource) pairs of one service granted to the function's role, resources as JSON."""
    grants = set()
    for statement in _role_statements(template, function):
        assert statement["Effect"] == "Allow"
        # No NotAction/NotResource, and no conditions but the sender of SES sends (test_mail_construct)
        assert set(statement) == {"Effect", "Action", "Resource"} or (
            set(statement) == {"Effect", "Action", "Resource", "Condition"}
            and _as_list(statement["Action"]) == ["ses:SendRawEmail"]
        )
        for action in _as_list(statement["Action"]):
            if action.startswith(f"{service}:"):
                grants |= {(action, json.dumps(r, sort_keys=True)) for r in _as_list(statement["Resource"])}
    return grants


def _expect(actions: set[str], *resources: Any) -> set[tuple[str, str]]:
    return {(action, json.dumps(resource, sort_keys=True)) for action in actions for resource in resources}


def _arn(logical_id: str) -> dict[str, Any]:
    return {"Fn::GetAtt": [logical_id, "Arn"]}


def _single(template: Template, resource_type: str) -> Resource:
    resources = template.find_resources(resource_type)
    assert len(resources) == 1, f"expected one {resource_type}, found {sorted(resources)}"
    logical_id, definition = next(iter(resources.items()))
    return logical_id, dict(definition)


def _matches(pattern: Any, value: Any) -> bool:
    """Lambda event filtering, for the operators the stream filter uses (exact value, prefix)."""
    if isinstance(pattern, dict):
        return isinstance(value, dict) and all(
            key in value and _matches(sub, value[key]) for key, sub in pattern.items()
        )
    for alternative in pattern:
        if isinstance(alternative, dict):
            assert set(alternative) == {"prefix"}, f"operator not modelled here: {alternative}"
            if isinstance(value, str) and value.startswith(alternative["prefix"]):
                return True
        elif alternative == value:
            return True
    return False


@pytest.fixture(scope="session")
def event_source_mapping(template: Template) -> Resource:
    stream_function_id = function_with_handler(template, "stream.handler.lambda_handler")[0]
    mappings = template.find_resources(
        "AWS::Lambda::EventSourceMapping", {"Properties": {"FunctionName": {"Ref": stream_function_id}}}
    )
    assert len(mappings) == 1
    return next(iter(mappings.items()))


@pytest.fixture(scope="session")
def dead_letter_queue(template: Template, event_source_mapping: Resource) -> Resource:
    """The queue the event source mapping sends descriptions of failed records to."""
    destination = event_source_mapping[1]["Properties"]["DestinationConfig"]["OnFailure"]["Destination"]
    queue_id = destination["Fn::GetAtt"][0]
    definition = template.to_json()["Resources"][queue_id]
    assert definition["Type"] == "AWS::SQS::Queue"
    return queue_id, dict(definition)


@pytest.fixture(scope="session")
def idempotency_table(template: Template, stream_function: Resource) -> Resource:
    """The table the stream function is told to keep its idempotency records in."""
    table_ref = stream_function[1]["Properties"]["Environment"]["Variables"]["IDEMPOTENCY_TABLE_NAME"]
    definition = template.to_json()["Resources"][table_ref["Ref"]]
    assert definition["Type"] == "AWS::DynamoDB::Table"
    return table_ref["Ref"], dict(definition)


@pytest.fixture(scope="session")
def push_template(synth_stack: Callable[..., MessageCenterStack]) -> Template:
    return Template.from_stack(synth_stack(**PUSH_CONTEXT))


@pytest.fixture(scope="session")
def push_stack_functions(push_template: Template) -> tuple[Resource, Resource]:
    return (
        function_with_handler(push_template, "api.handler.lambda_handler"),
        function_with_handler(push_template, "stream.handler.lambda_handler"),
    )


@pytest.fixture
def stream_records() -> list[dict[str, Any]]:
    """The sample stream event's records and variations of them the pipeline must tell apart."""
    event = json.loads((REPO_ROOT / "events" / "stream_new_message.json").read_text())
    (inserted,) = event["Records"]
    records = [inserted]
    for event_name in ("MODIFY", "REMOVE"):
        changed = copy.deepcopy(inserted)
        changed["eventName"] = event_name
        records.append(changed)
    for pk in ("USER#00000000-0000-4000-8000-000000000002", "THREAD#01M8B2SA61K65JJX1V0M46XWEA", "MSG#01M"):
        other = copy.deepcopy(inserted)
        other["dynamodb"]["Keys"]["pk"]["S"] = pk
        records.append(other)
    return records


# --- the event source ---------------------------------------------------------------------------


def test_stream_event_source_reads_the_table_stream_into_the_stream_function(
    event_source_mapping: Resource, table: Resource, stream_function: Resource
) -> None:
    # Given / When the synthesized event source mapping
    props = event_source_mapping[1]["Properties"]

    # Then it feeds the table's stream to the stream function, from new records, in small quick batches
    assert props["EventSourceArn"] == {"Fn::GetAtt": [table[0], "StreamArn"]}
    assert props["FunctionName"] == {"Ref": stream_function[0]}
    assert props["StartingPosition"] == "LATEST"
    assert props["BatchSize"] == 25
    assert props["MaximumBatchingWindowInSeconds"] == 1
    assert props.get("Enabled", True) is True


def test_failed_records_are_retried_alone_a_bounded_number_of_times_then_dead_lettered(
    event_source_mapping: Resource, dead_letter_queue: Resource
) -> None:
    # Given / When the synthesized event source mapping
    props = event_source_mapping[1]["Properties"]

    # Then the function reports single failed records, batches are bisected on error, retries stop
    # after 5 attempts or 6 hours, and the record goes to the dead-letter queue
    assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert props["BisectBatchOnFunctionError"] is True
    assert props["MaximumRetryAttempts"] == 5
    assert props["MaximumRecordAgeInSeconds"] == 6 * 3600
    assert props["DestinationConfig"] == {"OnFailure": {"Destination": _arn(dead_letter_queue[0])}}


def test_one_batch_per_shard_keeps_notifications_in_order(event_source_mapping: Resource) -> None:
    # Given / When the synthesized event source mapping
    props = event_source_mapping[1]["Properties"]

    # Then each shard is processed by one invocation at a time
    assert props["ParallelizationFactor"] == 1
    assert "TumblingWindowInSeconds" not in props


def test_only_inserted_message_copies_invoke_the_function(event_source_mapping: Resource) -> None:
    # Given the event source mapping's filters
    (event_filter,) = event_source_mapping[1]["Properties"]["FilterCriteria"]["Filters"]

    # When reading the pattern
    pattern = json.loads(event_filter["Pattern"])

    # Then only INSERT records whose partition key is a message copy's pass
    assert pattern == {"eventName": ["INSERT"], "dynamodb": {"Keys": {"pk": {"S": [{"prefix": "MBOX#"}]}}}}


def test_filter_prefix_is_the_key_prefix_of_message_copies(event_source_mapping: Resource) -> None:
    # Given the prefix the deployed filter lets through
    (event_filter,) = event_source_mapping[1]["Properties"]["FilterCriteria"]["Filters"]
    (prefix,) = json.loads(event_filter["Pattern"])["dynamodb"]["Keys"]["pk"]["S"]

    # When the repository builds the partition key of a message copy
    key = mappers.mailbox_key("user-1", "thread-1")

    # Then the filter matches the key the code really writes
    assert key.startswith(prefix["prefix"])


def test_deployed_filter_agrees_with_the_local_stand_in(
    event_source_mapping: Resource, stream_records: list[dict[str, Any]]
) -> None:
    # Given the deployed filter pattern and the function the local runtime and tests filter with
    (event_filter,) = event_source_mapping[1]["Properties"]["FilterCriteria"]["Filters"]
    pattern = json.loads(event_filter["Pattern"])

    # When both judge the sample insert and its variations (other events, other item kinds)
    deployed = [_matches(pattern, record) for record in stream_records]
    local = [deployed_filter(record) for record in stream_records]

    # Then they agree on every record, and only the inserted message copy passes
    assert deployed == local
    assert deployed == [True, False, False, False, False, False]


def test_local_stream_poller_emulates_the_deployed_mapping(
    event_source_mapping: Resource, stream_records: list[dict[str, Any]]
) -> None:
    # Given the deployed mapping and the local runtime's emulation of it
    props = event_source_mapping[1]["Properties"]
    deployed_patterns = [json.loads(f["Pattern"]) for f in props["FilterCriteria"]["Filters"]]

    # When comparing filter, batch size and retries, and letting both filters judge the same records
    local = [stream_poller.matches_any(stream_poller.FILTER_PATTERNS, record) for record in stream_records]
    deployed = [any(_matches(p, record) for p in deployed_patterns) for record in stream_records]

    # Then a local run sees the batches, and only the records, a deployed function would
    assert [dict(p) for p in stream_poller.FILTER_PATTERNS] == deployed_patterns
    assert props["BatchSize"] == stream_poller.BATCH_SIZE
    assert props["MaximumRetryAttempts"] == stream_poller.MAX_RETRY_ATTEMPTS
    assert local == deployed


# --- the dead-letter queue and the alarms -------------------------------------------------------


def test_dead_letter_queue_is_encrypted_tls_only_and_keeps_records_14_days(
    template: Template, dead_letter_queue: Resource
) -> None:
    # Given the dead-letter queue and its policy
    queue_id, definition = dead_letter_queue
    (policy,) = [
        p
        for p in template.find_resources("AWS::SQS::QueuePolicy").values()
        if p["Properties"]["Queues"] == [{"Ref": queue_id}]
    ]

    # When reading its settings and the statement about plain-HTTP requests
    (insecure,) = [
        s
        for s in policy["Properties"]["PolicyDocument"]["Statement"]
        if s.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}
    ]

    # Then messages are encrypted at rest, kept SQS's maximum, and refused without TLS
    assert definition["Properties"]["SqsManagedSseEnabled"] is True
    assert definition["Properties"]["MessageRetentionPeriod"] == 14 * 24 * 3600
    assert insecure["Effect"] == "Deny"
    assert insecure["Principal"] == {"AWS": "*"}
    assert insecure["Action"] == "sqs:*"


def test_a_dead_lettered_record_raises_an_alarm(template: Template, dead_letter_queue: Resource) -> None:
    # Given the alarms on SQS metrics
    alarms = template.find_resources("AWS::CloudWatch::Alarm", {"Properties": {"Namespace": "AWS/SQS"}}).values()

    # When picking the one watching the dead-letter queue
    (alarm,) = [
        a["Properties"]
        for a in alarms
        if a["Properties"]["Dimensions"]
        == [{"Name": "QueueName", "Value": {"Fn::GetAtt": [dead_letter_queue[0], "QueueName"]}}]
    ]

    # Then a single visible message trips it, and an empty queue (no data) does not
    assert alarm["MetricName"] == "ApproximateNumberOfMessagesVisible"
    assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
    assert alarm["Threshold"] == 0
    assert alarm["EvaluationPeriods"] == 1
    assert alarm["TreatMissingData"] == "notBreaching"


def test_failed_invocations_and_late_records_raise_alarms(template: Template, stream_function: Resource) -> None:
    # Given the alarms on the stream function's metrics
    alarms = {
        a["Properties"]["MetricName"]: a["Properties"]
        for a in template.find_resources("AWS::CloudWatch::Alarm", {"Properties": {"Namespace": "AWS/Lambda"}}).values()
        if a["Properties"]["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": stream_function[0]}}]
    }

    # When / Then any crashed invocation, and a record waiting over five minutes, trips one
    assert set(alarms) == {"Errors", "IteratorAge"}
    assert alarms["Errors"]["Threshold"] == 0
    assert alarms["Errors"]["Statistic"] == "Sum"
    assert alarms["IteratorAge"]["Threshold"] == 5 * 60 * 1000
    assert alarms["IteratorAge"]["Statistic"] == "Maximum"
    for alarm in alarms.values():
        assert alarm["ComparisonOperator"] == "GreaterThanThreshold"


# --- the idempotency table ----------------------------------------------------------------------


def test_idempotency_table_has_the_powertools_key_and_ttl(idempotency_table: Resource, table: Resource) -> None:
    # Given / When the table named in the stream function's IDEMPOTENCY_TABLE_NAME
    table_id, definition = idempotency_table
    props = definition["Properties"]

    # Then it is not the main table, is keyed by "id" and expires records by "expiration"
    assert table_id != table[0]
    assert props["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]
    assert props["AttributeDefinitions"] == [{"AttributeName": "id", "AttributeType": "S"}]
    assert props["TimeToLiveSpecification"] == {"AttributeName": "expiration", "Enabled": True}


def test_idempotency_table_is_on_demand_recoverable_and_encrypted(idempotency_table: Resource) -> None:
    # Given / When the idempotency table
    props = idempotency_table[1]["Properties"]

    # Then
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert props["SSESpecification"] == {"SSEEnabled": True}
    assert "StreamSpecification" not in props


# --- the stream function ------------------------------------------------------------------------


def test_stream_function_runtime_sizing_logs_and_tracing(
    template: Template, stream_function: Resource, api_function: Resource
) -> None:
    # Given the two functions
    props = stream_function[1]["Properties"]
    api = api_function[1]["Properties"]

    # When following the stream function's log group
    log_group = template.to_json()["Resources"][props["LoggingConfig"]["LogGroup"]["Ref"]]

    # Then it runs like the API function (runtime, ARM64, JSON logs, X-Ray), sized for a batch
    assert props["Runtime"] == api["Runtime"]
    assert props["Architectures"] == api["Architectures"] == ["arm64"]
    assert props["TracingConfig"] == {"Mode": "Active"}
    assert props["LoggingConfig"]["LogFormat"] == "JSON"
    assert props["LoggingConfig"]["ApplicationLogLevel"] == "INFO"
    assert props["LoggingConfig"]["LogGroup"] != api["LoggingConfig"]["LogGroup"]
    assert log_group["Properties"]["RetentionInDays"] == 30
    assert props["MemorySize"] == 512
    assert props["Timeout"] == 30
    assert "ReservedConcurrentExecutions" not in props


def test_both_functions_share_one_layer(template: Template, stream_function: Resource, api_function: Resource) -> None:
    # Given the synthesized layers of the shared package (the site deployment brings CDK's own)
    layers = template.find_resources(
        "AWS::Lambda::LayerVersion",
        {"Properties": {"Description": "message_center shared package and its runtime dependencies"}},
    )

    # When / Then there is one, and both functions use exactly it
    assert len(layers) == 1
    (layer_id,) = layers
    assert stream_function[1]["Properties"]["Layers"] == [{"Ref": layer_id}]
    assert api_function[1]["Properties"]["Layers"] == [{"Ref": layer_id}]


def test_each_function_asset_holds_only_its_own_package(
    synth_stack: Callable[..., MessageCenterStack], tmp_path: Path
) -> None:
    # Given the handler packages under functions/ and a synth that records where assets are staged
    packages = {entry.name for entry in constants.FUNCTIONS_DIR.iterdir() if (entry / "handler.py").is_file()}
    assert {"api", "stream", "inbound_mail"} <= packages
    stack = synth_stack(**{"aws:cdk:enable-asset-metadata": True})
    template = Template.from_stack(stack)

    for package in ("api", "stream", "inbound_mail"):
        # When the code of the function running that package is bundled as synth bundles it (the
        # shared synth skips bundling, so it is run here)
        function_with_handler(template, f"{package}.handler.lambda_handler")
        staged = tmp_path / package
        staged.mkdir()
        LocalFunctionBundler(
            functions_dir=constants.FUNCTIONS_DIR, package=package, python_version=constants.LAYER_PYTHON_VERSION
        ).try_bundle(str(staged), image=DockerImage.from_registry("never-pulled"))
        top_level = {entry.name for entry in staged.iterdir() if entry.is_dir()} - {"__pycache__"}

        # Then it holds its own package and no other function's, and only bytecode of the runtime's
        # Python, one file per module (none of this machine's)
        assert top_level == {package}, package
        assert (staged / package / "handler.py").is_file(), package
        modules = sorted(path.stem for path in staged.rglob("*.py"))
        bytecode = sorted(path.name.split(".")[0] for path in staged.rglob("*.pyc"))
        assert bytecode == modules, package
        assert {path.name.split(".")[1] for path in staged.rglob("*.pyc")} == {"cpython-312"}, package


def test_stream_function_environment(
    template: Template,
    stream_function: Resource,
    table: Resource,
    idempotency_table: Resource,
    mail_token_secret: Resource,
    web_url: Any,
) -> None:
    # Given / When the stream function's environment (no push context)
    variables = stream_function[1]["Properties"]["Environment"]["Variables"]

    # Then it names its tables, the relay domain and the token key; e-mails link to the web client
    # (the distribution) and its settings page; push stays off
    assert variables == {
        "TABLE_NAME": {"Ref": table[0]},
        "IDEMPOTENCY_TABLE_NAME": {"Ref": idempotency_table[0]},
        "RELAY_DOMAIN": "relay.message-center.example",
        "MAIL_TOKEN_SECRET_ARN": {"Ref": mail_token_secret[0]},
        "PUBLIC_WEB_URL": web_url,
        "NOTIFICATION_SETTINGS_URL": {"Fn::Join": ["", [*web_url["Fn::Join"][1], "/settings"]]},
        "TRANSLATION_PROVIDERS": "amazon",
        **POWERTOOLS_ENVIRONMENT,
    }


def test_urls_and_relay_domain_come_from_context(synth_stack: Callable[..., MessageCenterStack]) -> None:
    # Given a deployment naming its relay domain and settings page
    stack = synth_stack(
        **{
            constants.RELAY_DOMAIN_CONTEXT_KEY: "relay.allegro.example",
            constants.NOTIFICATION_SETTINGS_URL_CONTEXT_KEY: "https://allegro.example/notifications",
        }
    )

    # When synthesizing it
    template = Template.from_stack(stack)
    inbound = function_with_handler(template, "inbound_mail.handler.lambda_handler")[1]["Properties"]
    stream = function_with_handler(template, "stream.handler.lambda_handler")[1]["Properties"]

    # Then both mail functions use that domain, and the stream function links to that page
    assert inbound["Environment"]["Variables"]["RELAY_DOMAIN"] == "relay.allegro.example"
    assert stream["Environment"]["Variables"]["RELAY_DOMAIN"] == "relay.allegro.example"
    assert stream["Environment"]["Variables"]["NOTIFICATION_SETTINGS_URL"] == ("https://allegro.example/notifications")


def test_stream_role_may_use_the_table_and_its_indexes_but_never_scan(
    template: Template, stream_function: Resource, table: Resource, idempotency_table: Resource
) -> None:
    # Given the DynamoDB grants of the stream function's role
    grants = _grants(template, stream_function, "dynamodb")
    table_arn = _arn(table[0])
    indexes = {"Fn::Join": ["", [table_arn, "/index/*"]]}

    # When / Then it has the item actions on the table and its indexes, the idempotency actions on
    # its own table, reads the stream (listing streams has no resource), and nothing else
    assert grants == (
        _expect(EXPECTED_STREAM_TABLE_ACTIONS, table_arn, indexes)
        | _expect(EXPECTED_IDEMPOTENCY_ACTIONS, _arn(idempotency_table[0]))
        | _expect(
            {"dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"},
            {"Fn::GetAtt": [table[0], "StreamArn"]},
        )
        | _expect({"dynamodb:ListStreams"}, "*")
    )
    assert not {action for action, _ in grants if action in {"dynamodb:Scan", "dynamodb:*"}}


def test_stream_role_may_send_only_to_its_dead_letter_queue(
    template: Template, stream_function: Resource, dead_letter_queue: Resource
) -> None:
    # Given / When the SQS grants of the stream function's role
    grants = _grants(template, stream_function, "sqs")

    # Then it may only put failure descriptions on the dead-letter queue
    assert grants == _expect(
        {"sqs:SendMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl"}, _arn(dead_letter_queue[0])
    )


def test_stream_role_has_only_known_services_and_no_wildcard_action(
    template: Template, stream_function: Resource
) -> None:
    # Given every statement of the stream function's role
    actions = {a for s in _role_statements(template, stream_function) for a in _as_list(s["Action"])}

    # When / Then no action is a wildcard and each belongs to a service the pipeline uses
    assert not {a for a in actions if "*" in a}
    assert {a.split(":")[0] for a in actions} == {
        "logs",
        "xray",
        "dynamodb",
        "sqs",
        "ses",
        "secretsmanager",
        "translate",
        "comprehend",
    }


# --- push: configured or not --------------------------------------------------------------------


def test_without_push_context_no_role_may_touch_sns(
    template: Template, stream_function: Resource, api_function: Resource
) -> None:
    for function in (stream_function, api_function):
        # Given / When the function's grants and environment in the default synth
        variables = function[1]["Properties"]["Environment"]["Variables"]

        # Then push is off: no SNS permission and no platform application
        assert _grants(template, function, "sns") == set(), function[0]
        assert not {name for name in variables if name.startswith("PUSH_")}, function[0]


def test_with_push_context_the_api_registers_devices_of_the_configured_applications(
    push_template: Template, push_stack_functions: tuple[Resource, Resource]
) -> None:
    # Given the API function of a stack with both platform applications configured
    api, _ = push_stack_functions

    # When reading its SNS grants
    grants = _grants(push_template, api, "sns")

    # Then it creates endpoints in those applications and manages only their endpoints
    assert grants == _expect(
        {"sns:CreatePlatformEndpoint", "sns:GetPlatformApplicationAttributes"}, APNS_APP, FCM_APP
    ) | _expect(
        {"sns:DeleteEndpoint", "sns:SetEndpointAttributes", "sns:GetEndpointAttributes"},
        APNS_ENDPOINTS,
        FCM_ENDPOINTS,
    )


def test_with_push_context_the_stream_publishes_to_those_endpoints_only(
    push_template: Template, push_stack_functions: tuple[Resource, Resource]
) -> None:
    # Given the stream function of a stack with both platform applications configured
    _, stream = push_stack_functions

    # When reading its SNS grants
    grants = _grants(push_template, stream, "sns")

    # Then it publishes to, inspects and removes endpoints of those applications, and creates none
    assert grants == _expect(
        {"sns:Publish", "sns:GetEndpointAttributes", "sns:DeleteEndpoint"}, APNS_ENDPOINTS, FCM_ENDPOINTS
    )


def test_with_push_context_both_functions_know_the_applications(
    push_stack_functions: tuple[Resource, Resource],
) -> None:
    for function in push_stack_functions:
        # Given / When each function's environment
        variables = function[1]["Properties"]["Environment"]["Variables"]

        # Then it names both platform applications
        assert variables["PUSH_APNS_APPLICATION_ARN"] == APNS_APP, function[0]
        assert variables["PUSH_FCM_APPLICATION_ARN"] == FCM_APP, function[0]


def test_one_configured_platform_enables_only_that_platform(
    synth_stack: Callable[..., MessageCenterStack],
) -> None:
    # Given a deployment with only an FCM application
    template = Template.from_stack(synth_stack(**{constants.PUSH_FCM_APPLICATION_ARN_CONTEXT_KEY: FCM_APP}))

    for handler in ("api.handler.lambda_handler", "stream.handler.lambda_handler"):
        # When reading each function's SNS resources and environment
        function = function_with_handler(template, handler)
        resources = {json.loads(resource) for _, resource in _grants(template, function, "sns")}
        variables = function[1]["Properties"]["Environment"]["Variables"]

        # Then nothing refers to APNS
        assert resources and resources <= {FCM_APP, FCM_ENDPOINTS}, handler
        assert variables["PUSH_FCM_APPLICATION_ARN"] == FCM_APP
        assert "PUSH_APNS_APPLICATION_ARN" not in variables


def test_push_enabled_stack_has_no_unacknowledged_cdk_nag_finding(
    synth_stack: Callable[..., MessageCenterStack],
) -> None:
    # Given the stack with push configured (its endpoint wildcards are acknowledged separately)
    stack = synth_stack(**PUSH_CONTEXT)

    # When running the AWS Solutions rule pack over it
    report = AwsSolutionsChecks().validate_scope(stack)

    # Then nothing is left unacknowledged
    assert [(v.rule_name, r.construct_path) for v in report.violations for r in v.violating_resources] == []


@pytest.mark.parametrize(
    ("context", "expected"),
    [
        ({}, (None, None)),
        ({constants.PUSH_APNS_APPLICATION_ARN_CONTEXT_KEY: ""}, (None, None)),
        ({constants.PUSH_APNS_APPLICATION_ARN_CONTEXT_KEY: APNS_APP}, (APNS_APP, None)),
        (
            {
                constants.PUSH_APNS_APPLICATION_ARN_CONTEXT_KEY: (
                    "arn:aws:sns:eu-central-1:123456789012:app/APNS_SANDBOX/mc-dev"
                )
            },
            ("arn:aws:sns:eu-central-1:123456789012:app/APNS_SANDBOX/mc-dev", None),
        ),
        (PUSH_CONTEXT, (APNS_APP, FCM_APP)),
    ],
)
def test_push_context_values(context: dict[str, Any], expected: tuple[str | None, str | None]) -> None:
    # Given / When the context as cdk.json or `cdk -c` gives it
    applications = push_applications_from_context(context)

    # Then
    assert (applications.apns_arn, applications.fcm_arn) == expected


@pytest.mark.parametrize(
    "context",
    [
        {constants.PUSH_APNS_APPLICATION_ARN_CONTEXT_KEY: FCM_APP},  # an FCM application as APNs
        {constants.PUSH_FCM_APPLICATION_ARN_CONTEXT_KEY: APNS_APP},
        {constants.PUSH_FCM_APPLICATION_ARN_CONTEXT_KEY: "arn:aws:sns:eu-central-1:123456789012:topic"},
        {constants.PUSH_FCM_APPLICATION_ARN_CONTEXT_KEY: "arn:aws:sns:eu-central-1:1234:app/GCM/mc"},
        {constants.PUSH_APNS_APPLICATION_ARN_CONTEXT_KEY: f"{APNS_APP}/extra"},
        {constants.PUSH_APNS_APPLICATION_ARN_CONTEXT_KEY: ["not", "a", "string"]},
    ],
)
def test_push_context_rejects_anything_but_a_platform_application_arn(context: dict[str, Any]) -> None:
    (key,) = context
    with pytest.raises(ValueError, match=key):
        push_applications_from_context(context)


def test_endpoint_pattern_covers_the_endpoints_of_one_application() -> None:
    # Given / When / Then endpoint ARNs are the application's ARN with app/ -> endpoint/ plus an id
    assert endpoint_arn_pattern(APNS_APP) == APNS_ENDPOINTS
    assert endpoint_arn_pattern(FCM_APP) == FCM_ENDPOINTS
