"""Inbound mail (SES receipt rule -> S3 -> function) and the translation grants of the API and stream."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from aws_cdk.assertions import Template
from cdk_nag import AwsSolutionsChecks

from infra import constants
from infra.stack import MessageCenterStack
from infra.translation_construct import translation_settings_from_context
from tests.infra.conftest import function_with_handler

Resource = tuple[str, dict[str, Any]]

INBOUND_HANDLER = "inbound_mail.handler.lambda_handler"
RULE_SET_NAME = f"{constants.STACK_NAME}-inbound-mail"
RULE_NAME = f"{constants.STACK_NAME}-relay-domain"
# Spelled out rather than imported, so a change in the construct is a deliberate change here too.
EXPECTED_TABLE_ACTIONS = {
    "dynamodb:GetItem",
    "dynamodb:BatchGetItem",
    "dynamodb:Query",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:ConditionCheckItem",
}
RULE_ARN = {
    "Fn::Join": [
        "",
        [
            "arn:",
            {"Ref": "AWS::Partition"},
            ":ses:",
            {"Ref": "AWS::Region"},
            ":",
            {"Ref": "AWS::AccountId"},
            f":receipt-rule-set/{RULE_SET_NAME}:receipt-rule/{RULE_NAME}",
        ],
    ]
}
GOOGLE_SECRET = "arn:aws:secretsmanager:eu-central-1:123456789012:secret:message-center/google-AbCdEf"
DEEPL_SECRET = "arn:aws:secretsmanager:eu-central-1:123456789012:secret:message-center/deepl-GhIjKl"


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _arn(logical_id: str) -> dict[str, Any]:
    return {"Fn::GetAtt": [logical_id, "Arn"]}


def _objects_arn(bucket_id: str, pattern: str) -> dict[str, Any]:
    return {"Fn::Join": ["", [_arn(bucket_id), f"/{pattern}"]]}


def _single(template: Template, resource_type: str) -> Resource:
    resources = template.find_resources(resource_type)
    assert len(resources) == 1, f"expected one {resource_type}, found {sorted(resources)}"
    logical_id, definition = next(iter(resources.items()))
    return logical_id, dict(definition)


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


@pytest.fixture(scope="session")
def inbound_function(template: Template) -> Resource:
    return function_with_handler(template, INBOUND_HANDLER)


@pytest.fixture(scope="session")
def receipt_rule(template: Template) -> Resource:
    return _single(template, "AWS::SES::ReceiptRule")


@pytest.fixture(scope="session")
def inbound_bucket(template: Template, receipt_rule: Resource) -> Resource:
    """The bucket the receipt rule's S3 action writes to."""
    s3_action = receipt_rule[1]["Properties"]["Rule"]["Actions"][0]["S3Action"]
    bucket_id = s3_action["BucketName"]["Ref"]
    definition = template.to_json()["Resources"][bucket_id]
    assert definition["Type"] == "AWS::S3::Bucket"
    return bucket_id, dict(definition)


@pytest.fixture(scope="session")
def inbound_dead_letter_queue(template: Template, inbound_function: Resource) -> Resource:
    configs = template.find_resources(
        "AWS::Lambda::EventInvokeConfig", {"Properties": {"FunctionName": {"Ref": inbound_function[0]}}}
    )
    assert len(configs) == 1
    (config,) = configs.values()
    queue_id = config["Properties"]["DestinationConfig"]["OnFailure"]["Destination"]["Fn::GetAtt"][0]
    definition = template.to_json()["Resources"][queue_id]
    assert definition["Type"] == "AWS::SQS::Queue"
    return queue_id, dict(definition)


def _bucket_policy_statements(template: Template, bucket_id: str) -> list[dict[str, Any]]:
    policies = [
        policy
        for policy in template.find_resources("AWS::S3::BucketPolicy").values()
        if policy["Properties"]["Bucket"] == {"Ref": bucket_id}
    ]
    assert len(policies) == 1, f"expected one bucket policy on {bucket_id}"
    return list(policies[0]["Properties"]["PolicyDocument"]["Statement"])


# --- the SES receipt rule -----------------------------------------------------------------------


def test_rule_set_is_named_and_exported_for_activation(template: Template) -> None:
    # Given / When the one receipt rule set and the stack outputs
    rule_set_id, rule_set = _single(template, "AWS::SES::ReceiptRuleSet")
    output = template.find_outputs("InboundMailRuleSetName")["InboundMailRuleSetName"]

    # Then its name is fixed (the policies name the rule by it) and printed with the deploy steps
    assert rule_set["Properties"] == {"RuleSetName": RULE_SET_NAME}
    assert output["Value"] == {"Ref": rule_set_id}
    assert "set-active-receipt-rule-set" in output["Description"]
    assert "MX" in output["Description"]


def test_rule_receives_every_address_of_the_relay_domain(template: Template, receipt_rule: Resource) -> None:
    # Given / When the receipt rule
    rule_set_id, _ = _single(template, "AWS::SES::ReceiptRuleSet")
    props = receipt_rule[1]["Properties"]

    # Then it belongs to the rule set, is enabled, and matches the relay domain only
    assert props["RuleSetName"] == RULE_SET_NAME
    assert rule_set_id in receipt_rule[1]["DependsOn"]
    assert props["Rule"]["Name"] == RULE_NAME
    assert props["Rule"]["Enabled"] is True
    assert props["Rule"]["Recipients"] == [constants.DEV_RELAY_DOMAIN]


def test_rule_scans_for_spam_and_viruses_and_requires_tls(receipt_rule: Resource) -> None:
    rule = receipt_rule[1]["Properties"]["Rule"]

    assert rule["ScanEnabled"] is True
    assert rule["TlsPolicy"] == "Require"


def test_rule_stores_raw_mail_under_the_prefix_then_invokes_the_function(
    receipt_rule: Resource, inbound_bucket: Resource, inbound_function: Resource
) -> None:
    # Given / When the rule's ordered actions
    actions = receipt_rule[1]["Properties"]["Rule"]["Actions"]

    # Then SES first writes the object, then hands the event to the function asynchronously
    assert actions == [
        {"S3Action": {"BucketName": {"Ref": inbound_bucket[0]}, "ObjectKeyPrefix": "inbound/"}},
        {"LambdaAction": {"FunctionArn": _arn(inbound_function[0]), "InvocationType": "Event"}},
    ]


def test_relay_domain_of_the_rule_comes_from_context(synth_stack: Callable[..., MessageCenterStack]) -> None:
    # Given a deployment naming its relay domain
    template = Template.from_stack(synth_stack(**{constants.RELAY_DOMAIN_CONTEXT_KEY: "relay.allegro.example"}))

    # When reading the rule and the function
    _, rule = _single(template, "AWS::SES::ReceiptRule")
    function = function_with_handler(template, INBOUND_HANDLER)

    # Then both use that domain
    assert rule["Properties"]["Rule"]["Recipients"] == ["relay.allegro.example"]
    assert function[1]["Properties"]["Environment"]["Variables"]["RELAY_DOMAIN"] == "relay.allegro.example"


def test_ses_may_write_only_under_the_prefix_and_only_for_this_rule(
    template: Template, inbound_bucket: Resource, receipt_rule: Resource
) -> None:
    # Given the inbound bucket's policy
    statements = _bucket_policy_statements(template, inbound_bucket[0])

    # When picking what it allows
    (allow,) = [s for s in statements if s["Effect"] == "Allow"]

    # Then SES may put objects under inbound/, from this account's rule only, created after it
    assert allow["Principal"] == {"Service": "ses.amazonaws.com"}
    assert allow["Action"] == "s3:PutObject"
    assert allow["Resource"] == _objects_arn(inbound_bucket[0], "inbound/*")
    assert allow["Condition"] == {
        "StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}},
        "ArnLike": {"aws:SourceArn": RULE_ARN},
    }
    (policy_id,) = template.find_resources(
        "AWS::S3::BucketPolicy", {"Properties": {"Bucket": {"Ref": inbound_bucket[0]}}}
    )
    assert policy_id in receipt_rule[1]["DependsOn"]


def test_only_this_rule_of_ses_may_invoke_the_function(
    template: Template, inbound_function: Resource, receipt_rule: Resource
) -> None:
    # Given the function's resource-based permissions
    permissions = template.find_resources(
        "AWS::Lambda::Permission", {"Properties": {"FunctionName": _arn(inbound_function[0])}}
    )

    # When / Then the only one lets SES invoke it, for this account's rule, before the rule exists
    assert len(permissions) == 1
    ((permission_id, permission),) = permissions.items()
    assert permission["Properties"] == {
        "Action": "lambda:InvokeFunction",
        "FunctionName": _arn(inbound_function[0]),
        "Principal": "ses.amazonaws.com",
        "SourceAccount": {"Ref": "AWS::AccountId"},
        "SourceArn": RULE_ARN,
    }
    assert permission_id in receipt_rule[1]["DependsOn"]


# --- the inbound bucket -------------------------------------------------------------------------


def test_inbound_bucket_is_private_encrypted_and_tls_only(template: Template, inbound_bucket: Resource) -> None:
    # Given the bucket and its policy
    props = inbound_bucket[1]["Properties"]
    statements = _bucket_policy_statements(template, inbound_bucket[0])

    # When / Then all public access is blocked, objects are SSE-S3 encrypted, ACLs are off
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"] == [
        {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
    ]
    assert props["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    # and plain HTTP and TLS < 1.2 are denied to everyone
    (insecure,) = [s for s in statements if s.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}]
    assert insecure["Effect"] == "Deny"
    assert insecure["Principal"] == {"AWS": "*"}
    assert insecure["Resource"] == [_arn(inbound_bucket[0]), _objects_arn(inbound_bucket[0], "*")]
    assert any(
        s["Effect"] == "Deny" and s.get("Condition") == {"NumericLessThan": {"s3:TlsVersion": 1.2}} for s in statements
    )


def test_raw_mail_expires_after_30_days(inbound_bucket: Resource) -> None:
    (rule,) = inbound_bucket[1]["Properties"]["LifecycleConfiguration"]["Rules"]

    assert rule == {
        "Id": "expire-raw-inbound-mail",
        "Prefix": "inbound/",
        "ExpirationInDays": 30,
        "Status": "Enabled",
    }


def test_inbound_bucket_logs_access_to_the_shared_log_bucket(
    template: Template, inbound_bucket: Resource, access_log_bucket: Resource
) -> None:
    # Given the bucket's logging configuration and the log bucket's policy
    logging = inbound_bucket[1]["Properties"]["LoggingConfiguration"]
    statements = _bucket_policy_statements(template, access_log_bucket[0])

    # When / Then its access logs go to the log bucket under their own prefix, which S3 log
    # delivery may write for this bucket
    assert logging == {"DestinationBucketName": {"Ref": access_log_bucket[0]}, "LogFilePrefix": "inbound-mail-bucket/"}
    assert any(
        s["Effect"] == "Allow"
        and s["Principal"] == {"Service": "logging.s3.amazonaws.com"}
        and s["Condition"]["ArnLike"] == {"aws:SourceArn": _arn(inbound_bucket[0])}
        for s in statements
    )


# --- the function -------------------------------------------------------------------------------


def test_inbound_function_runtime_sizing_logs_and_tracing(
    template: Template, inbound_function: Resource, api_function: Resource
) -> None:
    props = inbound_function[1]["Properties"]

    assert props["Runtime"] == "python3.12"
    assert props["Architectures"] == ["arm64"]
    assert props["MemorySize"] == 1024
    assert props["Timeout"] == 60
    assert props["TracingConfig"] == {"Mode": "Active"}
    assert props["LoggingConfig"]["LogFormat"] == "JSON"
    assert props["Layers"] == api_function[1]["Properties"]["Layers"]
    log_group = template.to_json()["Resources"][props["LoggingConfig"]["LogGroup"]["Ref"]]
    assert log_group["Properties"]["RetentionInDays"] == 30


def test_inbound_function_environment(
    inbound_function: Resource,
    inbound_bucket: Resource,
    table: Resource,
    attachments_bucket: Resource,
    mail_token_secret: Resource,
) -> None:
    variables = inbound_function[1]["Properties"]["Environment"]["Variables"]

    assert variables == {
        "TABLE_NAME": {"Ref": table[0]},
        "ATTACHMENTS_BUCKET": {"Ref": attachments_bucket[0]},
        "INBOUND_MAIL_BUCKET": {"Ref": inbound_bucket[0]},
        "INBOUND_MAIL_PREFIX": "inbound/",
        "RELAY_DOMAIN": constants.DEV_RELAY_DOMAIN,
        "MAIL_TOKEN_SECRET_ARN": {"Ref": mail_token_secret[0]},
        "POWERTOOLS_SERVICE_NAME": "message-center",
        "POWERTOOLS_LOG_LEVEL": "INFO",
    }


def test_inbound_role_uses_the_table_and_its_indexes_but_never_scans(
    template: Template, inbound_function: Resource, table: Resource
) -> None:
    grants = _grants(template, inbound_function, "dynamodb")
    table_arn = _arn(table[0])

    assert grants == _expect(EXPECTED_TABLE_ACTIONS, table_arn, {"Fn::Join": ["", [table_arn, "/index/*"]]})
    assert not {action for action, _ in grants if action in {"dynamodb:Scan", "dynamodb:*"}}


def test_inbound_role_reads_raw_mail_and_stores_attachments_under_their_prefixes(
    template: Template, inbound_function: Resource, inbound_bucket: Resource, attachments_bucket: Resource
) -> None:
    # Given / When the S3 grants of the function's role
    grants = _grants(template, inbound_function, "s3")

    # Then it reads raw mail under inbound/ only, and reads/writes the two attachment prefixes,
    # by version too (the checked version is copied; a refused delivery removes the versions it
    # wrote); no plain delete, no listing, no whole-bucket resource
    assert grants == _expect({"s3:GetObject"}, _objects_arn(inbound_bucket[0], "inbound/*")) | _expect(
        {"s3:GetObject", "s3:GetObjectVersion", "s3:PutObject", "s3:DeleteObjectVersion"},
        _objects_arn(attachments_bucket[0], "uploads/*"),
        _objects_arn(attachments_bucket[0], "attachments/*"),
    )


def test_inbound_role_reads_the_token_key_sends_failures_and_nothing_else(
    template: Template,
    inbound_function: Resource,
    mail_token_secret: Resource,
    inbound_dead_letter_queue: Resource,
) -> None:
    statements = _role_statements(template, inbound_function)
    actions = {a for s in statements for a in _as_list(s["Action"])}

    assert _grants(template, inbound_function, "secretsmanager") == _expect(
        {"secretsmanager:GetSecretValue"}, {"Ref": mail_token_secret[0]}
    )
    assert _grants(template, inbound_function, "sqs") == _expect(
        {"sqs:SendMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl"}, _arn(inbound_dead_letter_queue[0])
    )
    assert not {a for a in actions if "*" in a}
    # Inbound mail neither sends e-mail nor translates: detection runs offline in the layer.
    assert {a.split(":")[0] for a in actions} == {"logs", "xray", "dynamodb", "s3", "secretsmanager", "sqs"}


def test_failed_invocations_are_retried_then_dead_lettered_with_an_alarm(
    template: Template, inbound_function: Resource, inbound_dead_letter_queue: Resource
) -> None:
    # Given the function's asynchronous invocation config
    (config,) = template.find_resources(
        "AWS::Lambda::EventInvokeConfig", {"Properties": {"FunctionName": {"Ref": inbound_function[0]}}}
    ).values()
    queue = inbound_dead_letter_queue[1]["Properties"]

    # When / Then Lambda retries twice within 6 hours, then describes the event in the queue
    assert config["Properties"]["MaximumRetryAttempts"] == 2
    assert config["Properties"]["MaximumEventAgeInSeconds"] == 6 * 3600
    assert queue["SqsManagedSseEnabled"] is True
    assert queue["MessageRetentionPeriod"] == 14 * 24 * 3600
    # and a dead-lettered event raises an alarm at once
    queue_name = {"Fn::GetAtt": [inbound_dead_letter_queue[0], "QueueName"]}
    alarms = template.find_resources(
        "AWS::CloudWatch::Alarm", {"Properties": {"Dimensions": [{"Name": "QueueName", "Value": queue_name}]}}
    )
    assert len(alarms) == 1
    (alarm,) = alarms.values()
    assert alarm["Properties"]["MetricName"] == "ApproximateNumberOfMessagesVisible"
    assert alarm["Properties"]["Threshold"] == 0
    assert alarm["Properties"]["ComparisonOperator"] == "GreaterThanThreshold"


# --- translation: the API and stream functions ----------------------------------------------------


def test_api_and_stream_may_call_amazon_translate_and_its_language_detection(
    template: Template, api_function: Resource, stream_function: Resource
) -> None:
    for function in (api_function, stream_function):
        # Given / When the translation grants of each function
        grants = _grants(template, function, "translate") | _grants(template, function, "comprehend")

        # Then it may translate and detect the source language; neither has resource-level permissions
        assert grants == _expect({"translate:TranslateText", "comprehend:DetectDominantLanguage"}, "*")
        assert function[1]["Properties"]["Environment"]["Variables"]["TRANSLATION_PROVIDERS"] == "amazon"


def test_without_provider_keys_no_function_reads_a_provider_secret(
    template: Template, api_function: Resource, stream_function: Resource, mail_token_secret: Resource
) -> None:
    # (the stream function reads the reply-token key; the API reads no secret at all)
    token_key = {"stream": _expect({"secretsmanager:GetSecretValue"}, {"Ref": mail_token_secret[0]}), "api": set()}
    for name, function in (("api", api_function), ("stream", stream_function)):
        variables = function[1]["Properties"]["Environment"]["Variables"]

        assert _grants(template, function, "secretsmanager") == token_key[name]
        assert "GOOGLE_TRANSLATE_SECRET_ARN" not in variables
        assert "DEEPL_SECRET_ARN" not in variables


def test_configured_providers_get_their_key_secrets(synth_stack: Callable[..., MessageCenterStack]) -> None:
    # Given a deployment routing Amazon, then Google, then DeepL
    stack = synth_stack(
        **{
            constants.TRANSLATION_PROVIDERS_CONTEXT_KEY: "amazon,google,deepl",
            constants.GOOGLE_TRANSLATE_SECRET_ARN_CONTEXT_KEY: GOOGLE_SECRET,
            constants.DEEPL_SECRET_ARN_CONTEXT_KEY: DEEPL_SECRET,
        }
    )
    template = Template.from_stack(stack)
    (secret_id,) = template.find_resources("AWS::SecretsManager::Secret")

    for handler in ("api.handler.lambda_handler", "stream.handler.lambda_handler"):
        # When reading each function's environment and secret grants
        function = function_with_handler(template, handler)
        variables = function[1]["Properties"]["Environment"]["Variables"]

        # Then it knows the providers in order and may read exactly those two keys (and the stream
        # function, which signs reply addresses, the token key)
        assert variables["TRANSLATION_PROVIDERS"] == "amazon,google,deepl"
        assert variables["GOOGLE_TRANSLATE_SECRET_ARN"] == GOOGLE_SECRET
        assert variables["DEEPL_SECRET_ARN"] == DEEPL_SECRET
        keys = [GOOGLE_SECRET, DEEPL_SECRET] + ([{"Ref": secret_id}] if handler.startswith("stream") else [])
        assert _grants(template, function, "secretsmanager") == _expect({"secretsmanager:GetSecretValue"}, *keys)
    # and the inbound function reads none of them
    inbound = function_with_handler(template, INBOUND_HANDLER)
    assert not {r for _, r in _grants(template, inbound, "secretsmanager")} & {
        json.dumps(GOOGLE_SECRET),
        json.dumps(DEEPL_SECRET),
    }

    # and cdk-nag has nothing unacknowledged to say about it
    report = AwsSolutionsChecks().validate_scope(stack)
    assert [(v.rule_name, r.construct_path) for v in report.violations for r in v.violating_resources] == []


@pytest.mark.parametrize(
    ("context", "expected"),
    [
        ({}, ("amazon",)),
        ({constants.TRANSLATION_PROVIDERS_CONTEXT_KEY: "amazon, google"}, ("amazon", "google")),
        ({constants.TRANSLATION_PROVIDERS_CONTEXT_KEY: '["deepl", "amazon"]'}, ("deepl", "amazon")),
        ({constants.TRANSLATION_PROVIDERS_CONTEXT_KEY: ["dev"]}, ("dev",)),
    ],
)
def test_translation_providers_context(context: dict[str, Any], expected: tuple[str, ...]) -> None:
    keys = {
        constants.GOOGLE_TRANSLATE_SECRET_ARN_CONTEXT_KEY: GOOGLE_SECRET,
        constants.DEEPL_SECRET_ARN_CONTEXT_KEY: DEEPL_SECRET,
    }
    assert translation_settings_from_context({**keys, **context}).providers == expected


@pytest.mark.parametrize(
    "context",
    [
        {constants.TRANSLATION_PROVIDERS_CONTEXT_KEY: "amazon,babelfish"},
        {constants.TRANSLATION_PROVIDERS_CONTEXT_KEY: "amazon,amazon"},
        {constants.TRANSLATION_PROVIDERS_CONTEXT_KEY: []},
        {constants.TRANSLATION_PROVIDERS_CONTEXT_KEY: "amazon,google"},  # Google without its key
        {constants.TRANSLATION_PROVIDERS_CONTEXT_KEY: "deepl"},  # DeepL without its key
        {constants.GOOGLE_TRANSLATE_SECRET_ARN_CONTEXT_KEY: "message-center/google"},  # not an ARN
    ],
)
def test_translation_context_rejects_what_cannot_work(context: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=r"context|provider"):
        translation_settings_from_context(context)
