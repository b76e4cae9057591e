"""The shared layer and the one way every Message Center Lambda function is built.

Every function runs the same runtime and architecture as the layer's wheels, logs JSON to its own
log group, traces with X-Ray, and has its own role with no managed policy; only the handler
package, sizing, environment and the permissions its construct adds differ.
"""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import Acknowledgment, Duration, Validations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct
from message_center.deployment import POWERTOOLS_ENVIRONMENT

from infra import constants
from infra.layer_bundling import function_code, layer_code

# What a function needs with Resource "*" unless a construct adds more (and then says why).
XRAY_ONLY_REASON = "X-Ray PutTraceSegments/PutTelemetryRecords support no resource-level permissions."


def build_shared_layer(scope: Construct, construct_id: str) -> lambda_.LayerVersion:
    """The ``message_center`` package and its runtime dependencies, built once for all functions."""
    return lambda_.LayerVersion(
        scope,
        construct_id,
        code=layer_code(
            package_dir=constants.SHARED_PACKAGE_DIR,
            pyproject=constants.PYPROJECT_PATH,
            platform=constants.LAYER_PIP_PLATFORM,
            python_version=constants.LAYER_PYTHON_VERSION,
        ),
        compatible_runtimes=[constants.LAMBDA_RUNTIME],
        compatible_architectures=[constants.LAMBDA_ARCHITECTURE],
        description="message_center shared package and its runtime dependencies",
    )


def other_functions(package: str) -> list[str]:
    """Asset exclusions so a function's bundle holds only its own package.

    Reads the folders present now: a package that does not exist yet simply excludes all others.
    """
    return sorted(
        entry.name
        for entry in constants.FUNCTIONS_DIR.iterdir()
        if entry.is_dir() and entry.name not in (package, "__pycache__")
    )


def handler_code(package: str) -> lambda_.Code:
    """``functions/`` with only ``package`` in it, so the handler is ``<package>.handler``; its
    bytecode is compiled for the Lambda runtime like the layer's."""
    return function_code(
        functions_dir=constants.FUNCTIONS_DIR,
        package=package,
        python_version=constants.LAYER_PYTHON_VERSION,
        exclude=[*other_functions(package), "__pycache__", "*.pyc"],
    )


def build_python_function(
    scope: Construct,
    construct_id: str,
    *,
    package: str,
    description: str,
    layer: lambda_.ILayerVersion,
    memory_size: int,
    timeout: Duration,
    environment: Mapping[str, str],
    wildcard_resource_reason: str = XRAY_ONLY_REASON,
) -> lambda_.Function:
    """A function running ``<package>.handler.lambda_handler`` with the shared layer.

    Creates ``<construct_id>Logs`` and ``<construct_id>Role`` beside it in ``scope``.
    ``wildcard_resource_reason`` acknowledges cdk-nag IAM5 for every ``Resource: "*"`` statement
    of the role: X-Ray's, plus any a construct adds (it must then name them).
    """
    log_group = logs.LogGroup(scope, f"{construct_id}Logs", retention=constants.LOG_RETENTION)
    # An own role instead of the default one: no AWSLambdaBasicExecutionRole managed policy
    # (logs:* on every group), only writes to this function's log group.
    role = iam.Role(
        scope,
        f"{construct_id}Role",
        assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
        description=description,
    )
    log_group.grant_write(role)
    function = lambda_.Function(
        scope,
        construct_id,
        description=description,
        runtime=constants.LAMBDA_RUNTIME,
        architecture=constants.LAMBDA_ARCHITECTURE,
        code=handler_code(package),
        handler=f"{package}.handler.lambda_handler",
        layers=[layer],
        memory_size=memory_size,
        timeout=timeout,
        role=role,
        log_group=log_group,
        logging_format=lambda_.LoggingFormat.JSON,
        # Same level as POWERTOOLS_LOG_LEVEL, otherwise Powertools warns and Lambda's level wins.
        application_log_level_v2=lambda_.ApplicationLogLevel.INFO,
        system_log_level_v2=lambda_.SystemLogLevel.WARN,
        tracing=lambda_.Tracing.ACTIVE,
        environment={
            **environment,
            **POWERTOOLS_ENVIRONMENT,
        },
    )
    Validations.of(role).acknowledge(
        Acknowledgment(id="AwsSolutions-IAM5[Resource::*]", reason=wildcard_resource_reason)
    )
    Validations.of(function).acknowledge(
        Acknowledgment(
            id="AwsSolutions-L1",
            reason="The layer ships cp312 wheels (pydantic-core); the runtime moves together with "
            "LAYER_PYTHON_VERSION in infra/constants.py, not on its own.",
        )
    )
    return function
