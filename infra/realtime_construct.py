"""Real time: the WebSocket API (token checked on $connect), the connections/event-feed table,
and the stream → live events function with its own event source mapping, filter and dead-letter
queue.

- The browser offers its access token as a WebSocket subprotocol (Sec-WebSocket-Protocol), so it
  is never in a URL; the stage's access log records context fields only (no headers), so the
  token never reaches a log either.
- $connect runs functions/realtime, which verifies the token like the HTTP API's JWT authorizer
  before recording anything (a WebSocket API has no JWT authorizer, only Lambda/IAM ones).
- Handlers post to connections through the management API, allowed on this API's stage only.
"""

from __future__ import annotations

from aws_cdk import Acknowledgment, Aws, CfnElement, Duration, RemovalPolicy, Stack, Token, Validations
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk.aws_apigatewayv2_integrations import WebSocketLambdaIntegration
from constructs import Construct
from message_center.data import schema
from message_center.deployment import REALTIME, REALTIME_EVENTS_FUNCTION, REALTIME_FUNCTION, REALTIME_SOURCE, Env

from infra import constants
from infra.building_blocks import (
    AccessLogSettings,
    alarm_on_errors,
    alarm_when_messages,
    dead_letter_queue,
    stream_event_source,
)
from infra.python_function import build_python_function
from infra.storage_construct import grant_item_access

STAGE_NAME = "live"
# $connect/$disconnect/$default: record, look up and forget connections (two items each, written
# in one transaction, which is authorized item by item through these actions).
CONNECTION_TABLE_ACTIONS = (
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:DeleteItem",
)
# The live events function: feed entries and delivery markers (transactions, conditional puts,
# marker updates), the recipients' connections (Query on their partition), gone ones deleted.
EVENTS_REALTIME_TABLE_ACTIONS = (
    "dynamodb:GetItem",
    "dynamodb:Query",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:ConditionCheckItem",
)
# ... and the main table: the message copy, the inbox entry, the users; an automatic translation
# is stored on the recipient's copy.
EVENTS_MAIN_TABLE_ACTIONS = (
    "dynamodb:GetItem",
    "dynamodb:Query",
    "dynamodb:UpdateItem",
)
# The API reads the caller's event feed (GET /messaging/events): a Query on one partition.
API_FEED_ACTIONS = ("dynamodb:Query",)
MANAGE_CONNECTIONS_ACTIONS = ("execute-api:ManageConnections",)

# WebSocket access log: which connection did what and how it ended; no headers (the token is in
# Sec-WebSocket-Protocol), no message bodies.
ACCESS_LOG_FIELDS = {
    "requestId": "$context.requestId",
    "requestTime": "$context.requestTime",
    "sourceIp": "$context.identity.sourceIp",
    "routeKey": "$context.routeKey",
    "eventType": "$context.eventType",
    "connectionId": "$context.connectionId",
    "status": "$context.status",
    "integrationLatency": "$context.integrationLatency",
    "error": "$context.error.message",
}


class RealtimeConstruct(Construct):
    """The WebSocket API and stage, the connections table, and the live events pipeline."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        table: dynamodb.Table,
        layer: lambda_.ILayerVersion,
        token_issuer: str,
        token_audiences: list[str],
        public_web_url: str,
        default_avatar_url: str,
    ) -> None:
        super().__init__(scope, construct_id)
        self.table = self._build_table()
        self.api = apigwv2.WebSocketApi(
            self, "WebSocketApi", description="Message Center live channel (events for signed-in users)"
        )
        # Built from the API id and the literal stage name, not the stage's attributes: the
        # functions behind the routes must not depend on the stage that depends on the routes.
        self.management_url = f"https://{self.api.api_id}.execute-api.{Aws.REGION}.{Aws.URL_SUFFIX}/{STAGE_NAME}"
        self.url = f"wss://{self.api.api_id}.execute-api.{Aws.REGION}.{Aws.URL_SUFFIX}/{STAGE_NAME}"
        channel = {
            Env.TABLE_NAME: table.table_name,
            Env.REALTIME_TABLE_NAME: self.table.table_name,
            Env.WEBSOCKET_MANAGEMENT_URL: self.management_url,
        }
        self.connect_function = build_python_function(
            self,
            "ConnectionsFunction",
            package=REALTIME_FUNCTION.package,
            description="Message Center live channel: $connect (token check), $disconnect, $default (ping)",
            layer=layer,
            memory_size=REALTIME_FUNCTION.memory_mb,
            timeout=Duration.seconds(REALTIME_FUNCTION.timeout_seconds),
            environment={
                **channel,
                Env.TOKEN_ISSUER: token_issuer,
                Env.TOKEN_AUDIENCES: ",".join(token_audiences),
            },
        )
        grant_item_access(self.connect_function, self.table, CONNECTION_TABLE_ACTIONS)
        self.events_function = build_python_function(
            self,
            "EventsFunction",
            package=REALTIME_EVENTS_FUNCTION.package,
            description="Message Center live events (table stream -> event feed and WebSocket connections)",
            layer=layer,
            memory_size=REALTIME_EVENTS_FUNCTION.memory_mb,
            timeout=Duration.seconds(REALTIME_EVENTS_FUNCTION.timeout_seconds),
            environment={**channel, Env.PUBLIC_WEB_URL: public_web_url, Env.DEFAULT_AVATAR_URL: default_avatar_url},
            wildcard_resource_reason="X-Ray PutTraceSegments/PutTelemetryRecords and dynamodb:ListStreams "
            "(added by the stream event source) support no resource-level permissions.",
        )
        grant_item_access(self.events_function, self.table, EVENTS_REALTIME_TABLE_ACTIONS)
        grant_item_access(self.events_function, table, EVENTS_MAIN_TABLE_ACTIONS)
        self._build_routes()
        self.stage = self._build_stage()
        for function in (self.connect_function, self.events_function):
            self._grant_manage_connections(function)
        self.dead_letter_queue = dead_letter_queue(
            self,
            "EventsDeadLetterQueue",
            retention_period=constants.STREAM_DLQ_RETENTION,
            consumer_reason="live events' stream event source; a queue behind it would have no consumer either.",
        )
        self.events_function.add_event_source(stream_event_source(table, REALTIME_SOURCE, self.dead_letter_queue))
        self.alarms = [
            alarm_when_messages(
                self,
                "EventsDeadLettersAlarm",
                queue=self.dead_letter_queue,
                description="Live events were not delivered: stream records exhausted their retries "
                "and are described in the dead-letter queue (the feed may miss them).",
            ),
            alarm_on_errors(
                self,
                "EventsFunctionErrorsAlarm",
                function=self.events_function,
                description="The live events function failed whole invocations (crash or timeout).",
            ),
        ]

    def grant_feed_reading(self, function: lambda_.Function) -> None:
        """Let the API read its callers' event feeds."""
        function.add_environment(Env.REALTIME_TABLE_NAME, self.table.table_name)
        grant_item_access(function, self.table, API_FEED_ACTIONS)

    def _build_table(self) -> dynamodb.Table:
        return dynamodb.Table(
            self,
            "ConnectionsTable",
            partition_key=dynamodb.Attribute(name=schema.PARTITION_KEY, type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name=schema.SORT_KEY, type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            # Connections expire with API Gateway's 2-hour limit, feed entries after their retention.
            time_to_live_attribute=schema.TTL_ATTRIBUTE,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            encryption=dynamodb.TableEncryption.AWS_MANAGED,
            # Only short-lived connections and events that expire by TTL.
            removal_policy=RemovalPolicy.DESTROY,
        )

    def _build_routes(self) -> None:
        integration = WebSocketLambdaIntegration("ConnectionsIntegration", self.connect_function)
        for route_key in ("$connect", "$disconnect", "$default"):
            route = self.api.add_route(route_key, integration=integration)
            Validations.of(route).acknowledge(
                Acknowledgment(
                    id="AwsSolutions-APIG4",
                    reason="$connect verifies the Cognito access token (signature, issuer, client, "
                    "token_use, expiry) in functions/realtime before recording anything; "
                    "$disconnect and $default only serve connections $connect accepted.",
                )
            )

    def _build_stage(self) -> apigwv2.WebSocketStage:
        access_logs = logs.LogGroup(self, "AccessLogs", retention=constants.LOG_RETENTION)
        return apigwv2.WebSocketStage(
            self,
            "Stage",
            web_socket_api=self.api,
            stage_name=STAGE_NAME,
            auto_deploy=True,
            throttle=apigwv2.ThrottleSettings(
                rate_limit=REALTIME.throttle_rate_limit, burst_limit=REALTIME.throttle_burst_limit
            ),
            access_log_settings=AccessLogSettings(access_logs, ACCESS_LOG_FIELDS),
        )

    def _grant_manage_connections(self, function: lambda_.Function) -> None:
        resource = Stack.of(self).format_arn(
            service="execute-api", resource=self.api.api_id, resource_name=f"{STAGE_NAME}/*/@connections/*"
        )
        function.add_to_role_policy(iam.PolicyStatement(actions=list(MANAGE_CONNECTIONS_ACTIONS), resources=[resource]))
        if function.role is None:  # pragma: no cover
            raise ValueError(f"{function.node.path} has no role")
        Validations.of(function.role).acknowledge(
            Acknowledgment(
                id=f"AwsSolutions-IAM5[Resource::{self._connections_finding()}]",
                reason="Connection ids are assigned by API Gateway at $connect; the wildcard covers "
                "connections of this one API's stage only (POST and DELETE @connections).",
            )
        )

    def _connections_finding(self) -> str:
        """The connections ARN as cdk-nag names it (unresolved parts as ``<AWS::...>``)."""
        stack = Stack.of(self)

        def known(value: str, pseudo: str) -> str:
            return f"<AWS::{pseudo}>" if Token.is_unresolved(value) else value

        api_id = stack.get_logical_id(_cfn(self.api))
        return (
            f"arn:{known(stack.partition, 'Partition')}:execute-api:{known(stack.region, 'Region')}:"
            f"{known(stack.account, 'AccountId')}:<{api_id}>/{STAGE_NAME}/*/@connections/*"
        )


def _cfn(construct: Construct) -> CfnElement:
    child = construct.node.default_child
    assert isinstance(child, CfnElement)
    return child
