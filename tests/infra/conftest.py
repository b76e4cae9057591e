"""One synthesized Message Center stack shared by the infra tests."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App
from aws_cdk.assertions import Template

from infra.app import build
from infra.stack import MessageCenterStack

REPO_ROOT = Path(__file__).resolve().parents[2]

Resource = tuple[str, dict[str, Any]]  # logical id, definition


def _synth_stack(**context: Any) -> MessageCenterStack:
    """The stack as ``cdk synth`` builds it (cdk.json context, cdk-nag), minus asset bundling.

    With no stack selected for bundling CDK stages the layer asset from its source folder and
    never calls the local bundler, so no pip run and no network (layer_bundling has own tests).
    """
    cdk_context = json.loads((REPO_ROOT / "cdk.json").read_text())["context"]
    app = App(context={**cdk_context, "aws:cdk:bundling-stacks": [], **context})
    return build(app)


@pytest.fixture(scope="session")
def synth_stack() -> Callable[..., MessageCenterStack]:
    """Factory for a stack synthesized with extra CDK context."""
    return _synth_stack


@pytest.fixture(scope="session")
def stack() -> MessageCenterStack:
    return _synth_stack()


@pytest.fixture(scope="session")
def template(stack: MessageCenterStack) -> Template:
    return Template.from_stack(stack)


def _single(template: Template, resource_type: str) -> Resource:
    resources = template.find_resources(resource_type)
    assert len(resources) == 1, f"expected one {resource_type}, found {sorted(resources)}"
    logical_id, definition = next(iter(resources.items()))
    return logical_id, dict(definition)


def _output_resource(template: Template, output: str, resource_type: str) -> Resource:
    """The resource a stack output refers to with ``Ref``."""
    logical_id = template.find_outputs(output)[output]["Value"]["Ref"]
    definition = template.to_json()["Resources"][logical_id]
    assert definition["Type"] == resource_type
    return logical_id, dict(definition)


@pytest.fixture(scope="session")
def table(template: Template) -> Resource:
    """The Message Center table: the one the stack exports as ``TableName``."""
    return _output_resource(template, "TableName", "AWS::DynamoDB::Table")


@pytest.fixture(scope="session")
def realtime_table(template: Template) -> Resource:
    """The connections and event-feed table of the live channel."""
    tables = {
        logical_id: definition
        for logical_id, definition in template.find_resources("AWS::DynamoDB::Table").items()
        if logical_id.startswith("RealtimeConnectionsTable")
    }
    assert len(tables) == 1, sorted(tables)
    return next(iter(tables.items()))


@pytest.fixture(scope="session")
def user_pool(template: Template) -> Resource:
    return _single(template, "AWS::Cognito::UserPool")


@pytest.fixture(scope="session")
def user_pool_client(template: Template) -> Resource:
    """The app client for API clients (``UserPoolClientId``)."""
    return _output_resource(template, "UserPoolClientId", "AWS::Cognito::UserPoolClient")


@pytest.fixture(scope="session")
def web_client(template: Template) -> Resource:
    """The web client's app client (``WebClientId``)."""
    return _output_resource(template, "WebClientId", "AWS::Cognito::UserPoolClient")


@pytest.fixture(scope="session")
def distribution(template: Template) -> Resource:
    return _single(template, "AWS::CloudFront::Distribution")


@pytest.fixture(scope="session")
def web_url(template: Template) -> Any:
    """The ``WebUrl`` output's value: ``https://`` and the distribution's domain name."""
    return template.find_outputs("WebUrl")["WebUrl"]["Value"]


def function_with_handler(template: Template, handler: str) -> Resource:
    """The one Lambda function of the template running ``handler``."""
    functions = template.find_resources("AWS::Lambda::Function", {"Properties": {"Handler": handler}})
    assert len(functions) == 1, f"expected one function running {handler}, found {sorted(functions)}"
    logical_id, definition = next(iter(functions.items()))
    return logical_id, dict(definition)


@pytest.fixture(scope="session")
def api_function(template: Template) -> Resource:
    return function_with_handler(template, "api.handler.lambda_handler")


@pytest.fixture(scope="session")
def stream_function(template: Template) -> Resource:
    return function_with_handler(template, "stream.handler.lambda_handler")


@pytest.fixture(scope="session")
def attachments_bucket(template: Template) -> Resource:
    """The bucket the stack exports as ``AttachmentsBucketName`` (what clients and the API use)."""
    return _output_resource(template, "AttachmentsBucketName", "AWS::S3::Bucket")


@pytest.fixture(scope="session")
def mail_token_secret(template: Template) -> Resource:
    return _single(template, "AWS::SecretsManager::Secret")


@pytest.fixture(scope="session")
def relay_identity(template: Template) -> Resource:
    return _single(template, "AWS::SES::EmailIdentity")


@pytest.fixture(scope="session")
def access_log_bucket(template: Template, attachments_bucket: Resource) -> Resource:
    """The bucket the attachments bucket writes its server access logs to."""
    logging = attachments_bucket[1]["Properties"]["LoggingConfiguration"]
    bucket_id = logging["DestinationBucketName"]["Ref"]
    definition = template.to_json()["Resources"][bucket_id]
    assert definition["Type"] == "AWS::S3::Bucket"
    return bucket_id, dict(definition)
