"""The HTTP API: one route per contract entry, a JWT authorizer, and the API Lambda behind it."""

from __future__ import annotations

import json

import jsii
from aws_cdk import Acknowledgment, Stack, Validations
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk.aws_apigatewayv2_authorizers import HttpJwtAuthorizer
from aws_cdk.aws_apigatewayv2_integrations import HttpLambdaIntegration
from constructs import Construct
from message_center.api.contract import ROUTES
from message_center.deployment import Env

from infra import constants
from infra.python_function import build_python_function
from infra.storage_construct import grant_item_access

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
        layer: lambda_.ILayerVersion,
    ) -> None:
        super().__init__(scope, construct_id)
        self.function = self._build_function(table, user_pool, default_avatar_url, layer)
        self.http_api, self.stage = self._build_http_api(user_pool, user_pool_client)

    @property
    def url(self) -> str:
        return self.stage.url

    def _build_function(
        self,
        table: dynamodb.ITable,
        user_pool: cognito.IUserPool,
        default_avatar_url: str,
        layer: lambda_.ILayerVersion,
    ) -> lambda_.Function:
        function = build_python_function(
            self,
            "ApiFunction",
            package=constants.API_PACKAGE,
            description="Message Center HTTP API",
            layer=layer,
            memory_size=constants.API_MEMORY_MB,
            timeout=constants.API_TIMEOUT,
            environment={
                Env.TABLE_NAME: table.table_name,
                Env.DEFAULT_AVATAR_URL: default_avatar_url,
            },
        )
        grant_item_access(function, table, API_TABLE_ACTIONS)
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
