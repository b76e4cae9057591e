"""No function may do more than its code does: every action a role grants is one the function's
code calls (or that Lambda performs with the role on its behalf).

What the code calls is listed here per adapter and boto3 method, with the IAM actions each call is
authorized by; an AST scan of the adapters keeps the list honest (a new boto3 call, or one that is
gone, fails the scan until the list says what it needs). Each function is then compared with the
adapters it is wired with (message_center.composition) in the synthesized template.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import pytest
from aws_cdk.assertions import Template

from infra import constants
from infra.stack import MessageCenterStack
from tests.infra.conftest import REPO_ROOT, function_with_handler

PACKAGE = REPO_ROOT / "layers" / "message_center"

# adapter module -> boto3 client method it calls -> the IAM actions that authorize the call.
ADAPTER_CALLS: Mapping[str, Mapping[str, tuple[str, ...]]] = {
    "adapters/attachment_files.py": {
        "put_object": ("s3:PutObject",),
        # reads the checked version (VersionId) or the current object
        "get_object": ("s3:GetObject", "s3:GetObjectVersion"),
        # CopySource with a VersionId: GetObjectVersion on the source, PutObject on the destination
        "copy_object": ("s3:GetObjectVersion", "s3:PutObject"),
        # always with a VersionId: no delete marker, the version is gone
        "delete_object": ("s3:DeleteObjectVersion",),
        # presigned URLs carry the signer's rights: a GET (of a version) and a POST upload
        "generate_presigned_url": ("s3:GetObject", "s3:GetObjectVersion"),
        "generate_presigned_post": ("s3:PutObject",),
    },
    "adapters/raw_mail.py": {"get_object": ("s3:GetObject",)},
    "adapters/mailer.py": {"send_raw_email": ("ses:SendRawEmail",)},
    "adapters/push.py": {
        "create_platform_endpoint": ("sns:CreatePlatformEndpoint",),
        "get_platform_application_attributes": ("sns:GetPlatformApplicationAttributes",),
        "get_endpoint_attributes": ("sns:GetEndpointAttributes",),
        "set_endpoint_attributes": ("sns:SetEndpointAttributes",),
        "delete_endpoint": ("sns:DeleteEndpoint",),
        "publish": ("sns:Publish",),
    },
    # SourceLanguageCode="auto" makes Translate call Comprehend as the caller
    "adapters/translation/amazon.py": {
        "translate_text": ("translate:TranslateText", "comprehend:DetectDominantLanguage"),
    },
    # The real-time functions send to and close WebSocket connections through the management API.
    "adapters/websocket.py": {
        "post_to_connection": ("execute-api:ManageConnections",),
        "delete_connection": ("execute-api:ManageConnections",),
    },
    # Run by `message-center directory load` with the operator's credentials, never by a function.
    "adapters/cognito.py": {
        "admin_get_user": ("cognito-idp:AdminGetUser",),
        "admin_create_user": ("cognito-idp:AdminCreateUser",),
        "admin_update_user_attributes": ("cognito-idp:AdminUpdateUserAttributes",),
    },
}
# pynamodb operations of the repositories (data/) and the actions authorizing them; a
# TransactWriteItems call is authorized item by item with the same four write actions.
TABLE_ACTIONS = (
    "dynamodb:GetItem",
    "dynamodb:BatchGetItem",
    "dynamodb:Query",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:ConditionCheckItem",
)
# pynamodb operations that would need other actions: the repositories must not use them.
UNLISTED_TABLE_OPERATIONS = {"scan", "count", "batch_write", "TransactGet", "describe_table", "create_table"}
# Powertools' DynamoDBPersistenceLayer (the stream function's idempotency records).
IDEMPOTENCY_ACTIONS = ("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem")
# Powertools' SecretsProvider: the reply-token key, the translation providers' API keys.
SECRET_ACTIONS = ("secretsmanager:GetSecretValue",)
# Used by Lambda with the function's role, not by its code: logs, traces, the stream event
# source (ListStreams has no resource-level permission) and the on-failure destinations.
LAMBDA_SERVICE_ACTIONS = {
    "logs:CreateLogStream",
    "logs:PutLogEvents",
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
}
STREAM_SOURCE_ACTIONS = {
    "dynamodb:DescribeStream",
    "dynamodb:GetRecords",
    "dynamodb:GetShardIterator",
    "dynamodb:ListStreams",
}
ON_FAILURE_QUEUE_ACTIONS = {"sqs:SendMessage", "sqs:GetQueueAttributes", "sqs:GetQueueUrl"}


def _adapter_actions(*modules: str) -> set[str]:
    return {action for module in modules for actions in ADAPTER_CALLS[module].values() for action in actions}


def expected_actions(function: str, *, secrets: bool) -> set[str]:
    """What ``function``'s code may call (composition.py wires these adapters), plus Lambda's own."""
    translation = _adapter_actions("adapters/translation/amazon.py")
    code = {
        "api": _adapter_actions("adapters/attachment_files.py", "adapters/push.py") | translation,
        "stream": _adapter_actions("adapters/mailer.py", "adapters/push.py") | translation | set(IDEMPOTENCY_ACTIONS),
        "inbound_mail": _adapter_actions("adapters/attachment_files.py", "adapters/raw_mail.py"),
        "realtime": _adapter_actions("adapters/websocket.py"),
        "realtime_events": _adapter_actions("adapters/websocket.py") | translation,
    }[function] | set(TABLE_ACTIONS)
    if secrets:
        code |= set(SECRET_ACTIONS)
    service = set(LAMBDA_SERVICE_ACTIONS)
    if function in ("stream", "realtime_events"):
        service |= STREAM_SOURCE_ACTIONS | ON_FAILURE_QUEUE_ACTIONS
    if function == "inbound_mail":
        service |= ON_FAILURE_QUEUE_ACTIONS
    return code | service


def _calls_on(tree: ast.AST, receiver: Callable[[ast.expr], bool]) -> set[str]:
    """Names of the methods called on receivers matching ``receiver`` in ``tree``."""
    return {
        node.func.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and receiver(node.func.value)
    }


def _is_client(expr: ast.expr) -> bool:
    """``self._client`` (how every adapter holds its boto3 client), or ``self._<x>_client(...)``
    (a client built for one request, e.g. with the timeouts a translation deadline allows)."""
    if isinstance(expr, ast.Call):
        expr = expr.func
    return isinstance(expr, ast.Attribute) and expr.attr.startswith("_") and expr.attr.endswith("_client")


def _modules(folder: Path) -> Iterable[Path]:
    return sorted(path for path in folder.rglob("*.py") if "__pycache__" not in path.parts)


def test_the_listed_calls_are_exactly_the_adapters_boto3_calls() -> None:
    # Given every adapter module and the boto3 client methods it calls
    scanned = {
        str(path.relative_to(PACKAGE)): calls
        for path in _modules(PACKAGE / "adapters")
        if (calls := _calls_on(ast.parse(path.read_text()), _is_client))
    }

    # When / Then the list above names exactly those calls (a new one must say which actions it needs)
    assert {module: set(calls) for module, calls in ADAPTER_CALLS.items()} == scanned


def test_no_code_outside_the_adapters_calls_a_boto3_client() -> None:
    # Given every module of the shared package and the handlers except the adapters
    # (composition.py builds the clients; the repositories go through pynamodb)
    folders = [PACKAGE, REPO_ROOT / "functions"]
    outside = [
        path
        for folder in folders
        for path in _modules(folder)
        if "adapters" not in path.relative_to(folder).parts and _calls_on(ast.parse(path.read_text()), _is_client)
    ]

    # When / Then none holds a client of its own
    assert outside == []


def test_the_repositories_use_only_the_listed_table_operations() -> None:
    # Given every method called anywhere in the repositories
    called = {
        name for path in _modules(PACKAGE / "data") for name in _calls_on(ast.parse(path.read_text()), lambda _: True)
    }
    names = {
        node.id
        for path in _modules(PACKAGE / "data")
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Name)
    }

    # When / Then no operation needs an action outside TABLE_ACTIONS (no Scan on request paths)
    assert not (called | names) & UNLISTED_TABLE_OPERATIONS


def _granted(template: Template, handler: str) -> set[str]:
    function = function_with_handler(template, handler)
    role_id = function[1]["Properties"]["Role"]["Fn::GetAtt"][0]
    actions: set[str] = set()
    for policy in template.find_resources("AWS::IAM::Policy").values():
        if {"Ref": role_id} not in policy["Properties"]["Roles"]:
            continue
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            assert statement["Effect"] == "Allow"
            listed = statement["Action"]
            actions |= set(listed if isinstance(listed, list) else [listed])
    (role,) = [r for i, r in template.find_resources("AWS::IAM::Role").items() if i == role_id]
    assert "ManagedPolicyArns" not in role["Properties"] and "Policies" not in role["Properties"]
    return actions


SECRETS = "arn:aws:secretsmanager:eu-central-1:123456789012:secret"
CONFIGURED = {
    constants.PUSH_APNS_APPLICATION_ARN_CONTEXT_KEY: "arn:aws:sns:eu-central-1:123456789012:app/APNS/mc",
    constants.PUSH_FCM_APPLICATION_ARN_CONTEXT_KEY: "arn:aws:sns:eu-central-1:123456789012:app/GCM/mc",
    constants.TRANSLATION_PROVIDERS_CONTEXT_KEY: "amazon,google,deepl",
    constants.GOOGLE_TRANSLATE_SECRET_ARN_CONTEXT_KEY: f"{SECRETS}:g-AbCdEf",
    constants.DEEPL_SECRET_ARN_CONTEXT_KEY: f"{SECRETS}:d-AbCdEf",
}
# Which functions read a secret: the stream function always (the reply-token key), the API only
# for a configured Google or DeepL key, the inbound function always (it verifies reply addresses).
FUNCTIONS = ("api", "stream", "inbound_mail", "realtime", "realtime_events")
# The functions that read a secret in the default deployment (the API and the real-time functions
# only when a Google or DeepL key is configured).
READS_A_SECRET_BY_DEFAULT = ("stream", "inbound_mail")


@pytest.mark.parametrize("function", FUNCTIONS)
def test_by_default_no_role_grants_an_action_its_code_never_calls(template: Template, function: str) -> None:
    # Given the default deployment (Amazon Translate only, push off)
    granted = _granted(template, f"{function}.handler.lambda_handler")

    # When comparing with what the function's code calls
    extra = granted - expected_actions(function, secrets=function in READS_A_SECRET_BY_DEFAULT)

    # Then nothing is granted beyond it (no ses:SendEmail, no TransactWriteItems, no secret the API never reads)
    assert extra == set()


@pytest.mark.parametrize("function", FUNCTIONS)
def test_fully_configured_no_role_grants_an_action_its_code_never_calls(
    configured_template: Template, function: str
) -> None:
    # Given a deployment with push and every translation provider configured
    granted = _granted(configured_template, f"{function}.handler.lambda_handler")

    # When / Then the same holds (the API now reads the providers' keys)
    assert granted - expected_actions(function, secrets=True) == set()


def test_what_each_function_calls_is_granted(template: Template, configured_template: Template) -> None:
    # Given the calls each function's code makes in the default and the configured deployment
    # When / Then each role grants at least its table, mail, push and translation calls
    api = _granted(configured_template, "api.handler.lambda_handler")
    stream = _granted(configured_template, "stream.handler.lambda_handler")
    inbound = _granted(template, "inbound_mail.handler.lambda_handler")
    assert set(TABLE_ACTIONS) <= api & stream & inbound
    assert {
        "sns:CreatePlatformEndpoint",
        "sns:GetPlatformApplicationAttributes",
        "sns:SetEndpointAttributes",
        "sns:DeleteEndpoint",
    } <= api
    assert {"sns:Publish", "ses:SendRawEmail", "secretsmanager:GetSecretValue"} <= stream
    assert {"translate:TranslateText", "secretsmanager:GetSecretValue"} <= api
    assert {"s3:GetObject", "s3:PutObject", "s3:DeleteObjectVersion", "secretsmanager:GetSecretValue"} <= inbound


@pytest.fixture(scope="module")
def configured_template(synth_stack: Callable[..., MessageCenterStack]) -> Any:
    return Template.from_stack(synth_stack(**CONFIGURED))
