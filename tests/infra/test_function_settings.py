"""The stack sets exactly what each function reads, and infra reads the same deployment facts as
the local runtime (the very objects, not copies that agree)."""

from __future__ import annotations

import ast
import json
from collections.abc import Callable
from typing import Any

import pytest
from aws_cdk.assertions import Template
from message_center import deployment
from message_center.deployment import Env
from message_center.settings import (
    ApiSettings,
    FunctionSettings,
    InboundMailSettings,
    PushSettings,
    RealtimeEventsSettings,
    RealtimeSettings,
    StreamSettings,
    TranslationSettings,
    environment_names,
)

from infra import constants
from infra.stack import MessageCenterStack
from local_runtime import smtp_server, stream_poller
from tests.infra.conftest import REPO_ROOT, function_with_handler

# Lambda sets these itself; the settings read them, the stack must not.
LAMBDA_PROVIDED = {Env.REGION, Env.DEFAULT_REGION}
# Only the local runtime and the tests point the functions at an emulator.
LOCAL_ONLY = {Env.ENDPOINT_URL}
FUNCTIONS: tuple[tuple[deployment.FunctionSpec, type[FunctionSettings]], ...] = (
    (deployment.API_FUNCTION, ApiSettings),
    (deployment.STREAM_FUNCTION, StreamSettings),
    (deployment.INBOUND_MAIL_FUNCTION, InboundMailSettings),
    (deployment.REALTIME_FUNCTION, RealtimeSettings),
    (deployment.REALTIME_EVENTS_FUNCTION, RealtimeEventsSettings),
)
SECRETS = "arn:aws:secretsmanager:eu-central-1:123456789012:secret"
PUSH_AND_KEYS = {
    constants.PUSH_APNS_APPLICATION_ARN_CONTEXT_KEY: "arn:aws:sns:eu-central-1:123456789012:app/APNS/mc",
    constants.PUSH_FCM_APPLICATION_ARN_CONTEXT_KEY: "arn:aws:sns:eu-central-1:123456789012:app/GCM/mc",
    constants.TRANSLATION_PROVIDERS_CONTEXT_KEY: "amazon,google,deepl",
    constants.GOOGLE_TRANSLATE_SECRET_ARN_CONTEXT_KEY: f"{SECRETS}:g-AbCdEf",
    constants.DEEPL_SECRET_ARN_CONTEXT_KEY: f"{SECRETS}:d-AbCdEf",
}


def _variables(template: Template, spec: deployment.FunctionSpec) -> dict[str, Any]:
    function = function_with_handler(template, spec.handler)
    return dict(function[1]["Properties"]["Environment"]["Variables"])


@pytest.mark.parametrize(("spec", "model"), FUNCTIONS, ids=[spec.package for spec, _ in FUNCTIONS])
def test_every_required_setting_is_set_and_every_variable_is_read(
    template: Template, spec: deployment.FunctionSpec, model: type[FunctionSettings]
) -> None:
    # Given the synthesized function's environment and what its settings model reads
    variables = set(_variables(template, spec))
    required = environment_names(model, required_only=True) - LAMBDA_PROVIDED
    read = environment_names(model) | set(deployment.POWERTOOLS_ENVIRONMENT)

    # Then nothing it needs is missing, and nothing set goes unread
    assert required <= variables, f"{spec.package}: read but never set: {sorted(required - variables)}"
    assert variables <= read, f"{spec.package}: set but never read: {sorted(variables - read)}"
    assert not variables & (LAMBDA_PROVIDED | LOCAL_ONLY)


@pytest.mark.parametrize(("spec", "model"), FUNCTIONS, ids=[spec.package for spec, _ in FUNCTIONS])
def test_optional_settings_set_by_context_are_read_too(
    synth_stack: Callable[..., MessageCenterStack], spec: deployment.FunctionSpec, model: type[FunctionSettings]
) -> None:
    # Given a deployment with push and every translation provider configured
    template = Template.from_stack(synth_stack(**PUSH_AND_KEYS))

    # When / Then each function still sets only variables its settings read
    variables = set(_variables(template, spec))
    assert variables <= environment_names(model) | set(deployment.POWERTOOLS_ENVIRONMENT)
    if issubclass(model, PushSettings):  # the API and the stream function push
        assert Env.PUSH_APNS_APPLICATION_ARN in variables
    if issubclass(model, TranslationSettings):  # ... and, with the live events function, translate
        assert {Env.GOOGLE_TRANSLATE_SECRET_ARN, Env.DEEPL_SECRET_ARN} <= variables


def test_infra_and_the_local_runtime_read_the_same_deployment_facts(template: Template) -> None:
    # The stream source: the same object in infra and in the local stream poller
    assert constants.STREAM_SOURCE is deployment.STREAM_SOURCE
    assert stream_poller.SOURCE is deployment.STREAM_SOURCE
    assert (deployment.STREAM_SOURCE.filter_pattern,) == stream_poller.FILTER_PATTERNS
    # and the template's event source mapping is built from it
    stream_function_id = function_with_handler(template, deployment.STREAM_FUNCTION.handler)[0]
    (mapping,) = template.find_resources(
        "AWS::Lambda::EventSourceMapping", {"Properties": {"FunctionName": {"Ref": stream_function_id}}}
    ).values()
    properties = mapping["Properties"]
    assert properties["BatchSize"] == deployment.STREAM_SOURCE.batch_size
    assert properties["MaximumRetryAttempts"] == deployment.STREAM_SOURCE.retry_attempts
    (criteria,) = properties["FilterCriteria"]["Filters"]
    assert json.loads(criteria["Pattern"]) == deployment.STREAM_SOURCE.filter_pattern
    # The inbound-mail function: sizing from the same spec in the template and in the SMTP stand-in
    inbound = function_with_handler(template, deployment.INBOUND_MAIL_FUNCTION.handler)[1]["Properties"]
    assert (
        inbound["Timeout"] == deployment.INBOUND_MAIL_FUNCTION.timeout_seconds == smtp_server.FUNCTION_TIMEOUT_SECONDS
    )
    assert inbound["MemorySize"] == deployment.INBOUND_MAIL_FUNCTION.memory_mb == smtp_server.FUNCTION_MEMORY_MB
    assert constants.INBOUND_MAIL is deployment.INBOUND_MAIL
    assert (
        _variables(template, deployment.INBOUND_MAIL_FUNCTION)[Env.INBOUND_MAIL_PREFIX]
        == deployment.INBOUND_MAIL.prefix
    )


# HTTP APIs end a Lambda integration after 30 seconds, whatever the function's timeout.
HTTP_API_INTEGRATION_TIMEOUT_SECONDS = 30
# What an on-demand translation request does besides the providers' calls: reads, the quota, the store.
API_WORK_AROUND_TRANSLATION_SECONDS = 5


def test_the_api_timeout_covers_the_translation_budget_and_stays_below_the_gateways(api_function: Any) -> None:
    # Given the API function's timeout in the template and the translation budget it must cover
    timeout = api_function[1]["Properties"]["Timeout"]

    # When / Then a translation that uses its whole budget (retries included) still answers
    # "delivered untranslated" within the function's timeout, which the gateway does not cut short
    assert timeout == deployment.API_FUNCTION.timeout_seconds
    assert timeout >= deployment.TRANSLATION_BUDGET_SECONDS + API_WORK_AROUND_TRANSLATION_SECONDS
    assert timeout < HTTP_API_INTEGRATION_TIMEOUT_SECONDS


def _powertools_readers() -> set[str]:
    """The Powertools variables something in the functions' code reads: ``Logger()``/``Tracer()``
    without ``service`` read the service name, ``Logger()`` without ``level`` the log level,
    ``Metrics()``/``single_metric()`` without ``namespace`` the metrics namespace."""
    reads = {
        "Logger": {"service": "POWERTOOLS_SERVICE_NAME", "level": "POWERTOOLS_LOG_LEVEL"},
        "Tracer": {"service": "POWERTOOLS_SERVICE_NAME"},
        "Metrics": {"namespace": "POWERTOOLS_METRICS_NAMESPACE", "service": "POWERTOOLS_SERVICE_NAME"},
        "single_metric": {"namespace": "POWERTOOLS_METRICS_NAMESPACE", "service": "POWERTOOLS_SERVICE_NAME"},
    }
    readers: set[str] = set()
    for folder in (REPO_ROOT / "functions", REPO_ROOT / "layers" / "message_center"):
        for path in folder.rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if not isinstance(node, ast.Call):
                    continue
                name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", None)
                keywords = {keyword.arg for keyword in node.keywords}
                if name in reads and "child" not in keywords:
                    readers |= {variable for argument, variable in reads[name].items() if argument not in keywords}
    return readers


def test_every_powertools_variable_the_stack_sets_is_read() -> None:
    # Given the Powertools variables every function gets and what the code leaves to them
    readers = _powertools_readers()

    # When / Then each one is read by something (every Metrics names its namespace, so the stack
    # sets no POWERTOOLS_METRICS_NAMESPACE)
    assert set(deployment.POWERTOOLS_ENVIRONMENT) <= readers
    assert "POWERTOOLS_METRICS_NAMESPACE" not in deployment.POWERTOOLS_ENVIRONMENT
