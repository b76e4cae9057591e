"""The HTTP API: one route per contract entry, a JWT authorizer, and the API Lambda behind it."""

from __future__ import annotations

import json
from typing import cast

import jsii
from aws_cdk import Acknowledgment, CfnElement, Stack, Validations
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk.aws_apigatewayv2_authorizers import HttpJwtAuthorizer
from aws_cdk.aws_apigatewayv2_integrations import HttpLambdaIntegration
from constructs import Construct
from message_center.api.contract import ROUTES

from infra import constants
from infra.layer_bundling import layer_code

# Every DynamoDB call the API makes: item reads/writes, index queries and transactions.
# Deliberately no Scan (the design forbids it on request paths) and no table management.
API_TABLE_ACTIONS = (
    "dynamodb:GetItem",
    "dynamodb:BatchGetItem",
    "dynamodb:Query",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:TransactWriteItems",
    "dynamodb:ConditionCheckItem",
)

# HTTP API access log: who called which route and how it ended; no claims, bodies or addresses.
_ACCESS_LOG_FIELDS = {
    "requestId": "$context.requestId",
    "requestTime": "$context.requestTime",
    "sourceIp": "$context.identity.sourceIp",
    "routeKey": "$context.routeKey",
    "status": "$context.status",
    "protocol": "$context.protocol",
    "responseLength": "$context.responseLength",
    "responseLatency": "$context.responseLatency",
    "integrationLatency": "$context.integrationLatency",
    "integrationError": "$context.integrationErrorMessage",
    "authorizerError": "$context.authorizer.error",
}


@jsii.implements(apigwv2.IAccessLogSettings)
class _AccessLogSettings:
    # Properties, not attributes: jsii only forwards members declared on the class.
    def __init__(self, log_group: logs.ILogGroup) -> None:
        self._log_group = log_group

    @property
    def destination(self) -> apigwv2.IAccessLogDestination:
        return apigwv2.LogGroupLogDestination(self._log_group)

    @property
    def format(self) -> apigw.AccessLogFormat:
        return apigw.AccessLogFormat.custom(json.dumps(_ACCESS_LOG_FIELDS))


class ApiConstruct(Construct):
    """HTTP API (JWT-authorized by default) proxying every contract route to one Lambda function."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        table: dynamodb.ITable,
        user_pool: cognito.IUserPool,
        user_pool_client: cognito.IUserPoolClient,
        default_avatar_url: str,
    ) -> None:
        super().__init__(scope, construct_id)
        self.layer = self._build_layer()
        self.function = self._build_function(table, user_pool, default_avatar_url)
        self.http_api, self.stage = self._build_http_api(user_pool, user_pool_client)

    @property
    def url(self) -> str:
        return self.stage.url

    def _build_layer(self) -> lambda_.LayerVersion:
        return lambda_.LayerVersion(
            self,
            "SharedLayer",
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

    def _build_function(
        self, table: dynamodb.ITable, user_pool: cognito.IUserPool, default_avatar_url: str
    ) -> lambda_.Function:
        log_group = logs.LogGroup(self, "ApiFunctionLogs", retention=constants.LOG_RETENTION)
        # An own role instead of the default one: no AWSLambdaBasicExecutionRole managed policy
        # (logs:* on every group), only writes to this function's log group.
        role = iam.Role(
            self,
            "ApiFunctionRole",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="Message Center API function",
        )
        log_group.grant_write(role)
        role.add_to_policy(
            iam.PolicyStatement(
                actions=list(API_TABLE_ACTIONS),
                resources=[table.table_arn, f"{table.table_arn}/index/*"],
            )
        )
        function = lambda_.Function(
            self,
            "ApiFunction",
            description="Message Center HTTP API",
            runtime=constants.LAMBDA_RUNTIME,
            architecture=constants.LAMBDA_ARCHITECTURE,
            code=lambda_.Code.from_asset(
                str(constants.FUNCTIONS_DIR),
                exclude=[*_other_functions(constants.API_PACKAGE), "__pycache__", "*.pyc"],
            ),
            handler=constants.API_HANDLER,
            layers=[self.layer],
            memory_size=constants.API_MEMORY_MB,
            timeout=constants.API_TIMEOUT,
            role=role,
            log_group=log_group,
            logging_format=lambda_.LoggingFormat.JSON,
            # Same level as POWERTOOLS_LOG_LEVEL, otherwise Powertools warns and Lambda's level wins.
            application_log_level_v2=lambda_.ApplicationLogLevel.INFO,
            system_log_level_v2=lambda_.SystemLogLevel.WARN,
            tracing=lambda_.Tracing.ACTIVE,
            environment={
                "TABLE_NAME": table.table_name,
                "USER_POOL_ID": user_pool.user_pool_id,
                "DEFAULT_AVATAR_URL": default_avatar_url,
                "POWERTOOLS_SERVICE_NAME": constants.SERVICE_NAME,
                "POWERTOOLS_METRICS_NAMESPACE": constants.METRICS_NAMESPACE,
                "POWERTOOLS_LOG_LEVEL": "INFO",
            },
        )
        table_logical_id = Stack.of(self).get_logical_id(cast(CfnElement, table.node.default_child))
        Validations.of(role).acknowledge(
            Acknowledgment(
                id=f"AwsSolutions-IAM5[Resource::<{table_logical_id}.Arn>/index/*]",
                reason="Queries go to the table's own GSIs (inbox, unread, awaiting reply); "
                "index ARNs are only expressible with the /index/* suffix.",
            ),
            Acknowledgment(
                id="AwsSolutions-IAM5[Resource::*]",
                reason="X-Ray PutTraceSegments/PutTelemetryRecords support no resource-level permissions.",
            ),
        )
        Validations.of(function).acknowledge(
            Acknowledgment(
                id="AwsSolutions-L1",
                reason="The layer ships cp312 wheels (pydantic-core); the runtime moves together with "
                "LAYER_PYTHON_VERSION in infra/constants.py, not on its own.",
            )
        )
        return function

    def _build_http_api(
        self, user_pool: cognito.IUserPool, user_pool_client: cognito.IUserPoolClient
    ) -> tuple[apigwv2.HttpApi, apigwv2.HttpStage]:
        stack = Stack.of(self)
        authorizer = HttpJwtAuthorizer(
            "CognitoJwtAuthorizer",
            f"https://cognito-idp.{stack.region}.{stack.url_suffix}/{user_pool.user_pool_id}",
            jwt_audience=[user_pool_client.user_pool_client_id],
        )
        http_api = apigwv2.HttpApi(
            self,
            "HttpApi",
            api_name="message-center",
            description="Message Center public API",
            # Secure by default: a route must opt out of the authorizer explicitly.
            default_authorizer=authorizer,
            # The stage is built below to configure access logs and throttling.
            create_default_stage=False,
        )
        integration = HttpLambdaIntegration("ApiIntegration", self.function)
        for route in ROUTES:
            http_routes = http_api.add_routes(
                path=route.path,
                methods=[apigwv2.HttpMethod[route.method]],
                integration=integration,
                authorizer=None if route.authorized else apigwv2.HttpNoneAuthorizer(),
            )
            if not route.authorized:
                for http_route in http_routes:
                    Validations.of(http_route).acknowledge(
                        Acknowledgment(
                            id="AwsSolutions-APIG4",
                            reason=f"{route.route_key} is public by contract (authorized=False).",
                        )
                    )
        access_logs = logs.LogGroup(self, "AccessLogs", retention=constants.LOG_RETENTION)
        stage = apigwv2.HttpStage(
            self,
            "DefaultStage",
            http_api=http_api,
            stage_name="$default",
            auto_deploy=True,
            throttle=apigwv2.ThrottleSettings(
                rate_limit=constants.API_THROTTLE_RATE_LIMIT,
                burst_limit=constants.API_THROTTLE_BURST_LIMIT,
            ),
            access_log_settings=_AccessLogSettings(access_logs),
        )
        return http_api, stage


def _other_functions(package: str) -> list[str]:
    """Asset exclusions so a function's bundle holds only its own package."""
    return sorted(
        entry.name
        for entry in constants.FUNCTIONS_DIR.iterdir()
        if entry.is_dir() and entry.name not in (package, "__pycache__")
    )
