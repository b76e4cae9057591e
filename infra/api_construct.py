"""The HTTP API: one route per contract entry, a JWT authorizer, and the API Lambda behind it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aws_cdk import Acknowledgment, Validations
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk.aws_apigatewayv2_authorizers import HttpJwtAuthorizer
from aws_cdk.aws_apigatewayv2_integrations import HttpLambdaIntegration
from constructs import Construct
from message_center.api.contract import ROUTES
from message_center.deployment import Env

from infra import constants
from infra.building_blocks import AccessLogSettings, origins_from_context, strings_from_context
from infra.python_function import build_python_function
from infra.storage_construct import grant_item_access

# Every DynamoDB call the API makes: item reads/writes and index queries. A TransactWriteItems
# call is authorized item by item through PutItem/UpdateItem/DeleteItem/ConditionCheckItem (there
# is no IAM action of that name). Deliberately no Scan (the design forbids it on request paths)
# and no table management.
API_TABLE_ACTIONS = (
    "dynamodb:GetItem",
    "dynamodb:BatchGetItem",
    "dynamodb:Query",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:ConditionCheckItem",
)


@dataclass(frozen=True)
class RouteThrottle:
    """Requests per second (steady) and burst a route accepts from all callers together."""

    rate_limit: int
    burst_limit: int


# Routes that send something or cost money per call get limits of their own below the stage's
# (a flood of sends cannot starve reading, and cannot run up e-mail, push and translation bills);
# per-caller limits are the web ACL's rate-based rule (infra/waf_construct.py).
ROUTE_THROTTLES: Mapping[str, RouteThrottle] = {
    "POST /messaging/messages": RouteThrottle(rate_limit=20, burst_limit=40),
    "POST /messaging/threads/{threadId}/messages": RouteThrottle(rate_limit=20, burst_limit=40),
    "POST /messaging/message-attachments": RouteThrottle(rate_limit=10, burst_limit=20),
    "PUT /messaging/message-attachments/{attachmentId}": RouteThrottle(rate_limit=10, burst_limit=20),
    "GET /messaging/messages/{messageId}/translations/{language}": RouteThrottle(rate_limit=10, burst_limit=20),
}

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


# What a browser on an allowed origin may send and read (CORS): the methods of the routes, the
# token and body headers, and the headers of the API's own answers worth reading.
CORS_ALLOWED_METHODS = (
    apigwv2.CorsHttpMethod.GET,
    apigwv2.CorsHttpMethod.POST,
    apigwv2.CorsHttpMethod.PUT,
    apigwv2.CorsHttpMethod.PATCH,
    apigwv2.CorsHttpMethod.DELETE,
)
CORS_ALLOWED_HEADERS = ("authorization", "content-type", "idempotency-key")
CORS_EXPOSED_HEADERS = ("idempotent-replayed", "location")


@dataclass(frozen=True)
class TokenIssuer:
    """Whose JWTs the authorizer accepts: the ``iss`` it must carry, and the ``aud`` (or, in
    Cognito access tokens, ``client_id``) values of which it must carry one."""

    issuer: str
    audience: tuple[str, ...]


def token_issuer_from_context(context: Mapping[str, Any], *, default: TokenIssuer) -> TokenIssuer:
    """``jwtIssuer`` / ``jwtAudience`` (a list, or a JSON list / comma-separated string), else
    ``default`` (the user pool and its clients). Another issuer must name its own audience."""
    issuer = context.get(constants.JWT_ISSUER_CONTEXT_KEY)
    audience = strings_from_context(constants.JWT_AUDIENCE_CONTEXT_KEY, context.get(constants.JWT_AUDIENCE_CONTEXT_KEY))
    if issuer is None:
        return TokenIssuer(default.issuer, tuple(audience) or default.audience)
    if not isinstance(issuer, str) or not issuer.startswith("https://"):
        raise ValueError(f"context {constants.JWT_ISSUER_CONTEXT_KEY!r} must be an https:// issuer URL, got {issuer!r}")
    if not audience:
        raise ValueError(
            f"context {constants.JWT_ISSUER_CONTEXT_KEY!r} names another issuer: give its audience in "
            f"{constants.JWT_AUDIENCE_CONTEXT_KEY!r} too"
        )
    return TokenIssuer(issuer, tuple(audience))


def api_cors_origins_from_context(value: Any) -> list[str]:
    """The ``apiCorsOrigins`` context value: browser origins allowed to call the API (default none)."""
    return origins_from_context(constants.API_CORS_ORIGINS_CONTEXT_KEY, value)


class ApiConstruct(Construct):
    """HTTP API (JWT-authorized by default) proxying every contract route to one Lambda function."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        table: dynamodb.ITable,
        token_issuer: TokenIssuer,
        default_avatar_url: str,
        layer: lambda_.ILayerVersion,
        cors_origins: Sequence[str] = (),
    ) -> None:
        super().__init__(scope, construct_id)
        self.function = self._build_function(table, default_avatar_url, layer)
        self.http_api, self.stage = self._build_http_api(token_issuer, cors_origins)

    @property
    def url(self) -> str:
        return self.stage.url

    def _build_function(
        self,
        table: dynamodb.ITable,
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
        self, token_issuer: TokenIssuer, cors_origins: Sequence[str]
    ) -> tuple[apigwv2.HttpApi, apigwv2.HttpStage]:
        authorizer = HttpJwtAuthorizer(
            "CognitoJwtAuthorizer", token_issuer.issuer, jwt_audience=list(token_issuer.audience)
        )
        # Without allowed origins the API sends no CORS headers, so browsers on other origins
        # cannot read its answers (the web client calls it through its own distribution).
        cors = (
            apigwv2.CorsPreflightOptions(
                allow_origins=list(cors_origins),
                allow_methods=list(CORS_ALLOWED_METHODS),
                allow_headers=list(CORS_ALLOWED_HEADERS),
                expose_headers=list(CORS_EXPOSED_HEADERS),
                max_age=constants.API_CORS_MAX_AGE,
            )
            if cors_origins
            else None
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
            cors_preflight=cors,
        )
        integration = HttpLambdaIntegration("ApiIntegration", self.function)
        all_routes: list[apigwv2.HttpRoute] = []
        for route in ROUTES:
            http_routes = http_api.add_routes(
                path=route.path,
                methods=[apigwv2.HttpMethod[route.method]],
                integration=integration,
                authorizer=None if route.authorized else apigwv2.HttpNoneAuthorizer(),
            )
            all_routes.extend(http_routes)
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
            access_log_settings=AccessLogSettings(access_logs, _ACCESS_LOG_FIELDS),
        )
        self._throttle_routes(stage, all_routes)
        return http_api, stage

    def _throttle_routes(self, stage: apigwv2.HttpStage, routes: Sequence[apigwv2.HttpRoute]) -> None:
        """Per-route limits (``ROUTE_THROTTLES``) on the stage; each names a route of the contract."""
        known = {route.route_key for route in ROUTES}
        unknown = sorted(set(ROUTE_THROTTLES) - known)
        if unknown:
            raise ValueError(f"throttled routes not in the contract: {unknown}")
        cfn_stage = stage.node.default_child
        if not isinstance(cfn_stage, apigwv2.CfnStage):  # pragma: no cover - HttpStage always wraps one
            raise TypeError("the HTTP stage has no CfnStage")
        cfn_stage.route_settings = {
            route_key: {"ThrottlingRateLimit": limit.rate_limit, "ThrottlingBurstLimit": limit.burst_limit}
            for route_key, limit in ROUTE_THROTTLES.items()
        }
        # Route settings may only name routes that already exist.
        stage.node.add_dependency(*routes)
