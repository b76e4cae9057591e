"""Instant notifications: the table's stream -> functions/stream -> push (SNS) and e-mail (SES).

Only inserted message copies invoke the function (event filtering). A failing record is retried by
bisecting its batch, a bounded number of times and for a bounded age, and the function reports
partial batch failures, so a good record is never held back by a bad one; a record that exhausts
its retries is described in an SQS dead-letter queue, which raises an alarm. Retried or duplicated
records notify once: the function keeps Powertools idempotency records in its own table.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aws_cdk import Acknowledgment, RemovalPolicy, Stack, Token, Validations
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from constructs import Construct
from message_center.deployment import Env

from infra import constants
from infra.building_blocks import (
    alarm_above,
    alarm_on_errors,
    alarm_when_messages,
    dead_letter_queue,
    stream_event_source,
)
from infra.mail_construct import MailConstruct
from infra.python_function import build_python_function
from infra.storage_construct import grant_item_access

# What the stream function does with the main table: read the message, users, offers and devices,
# create a user's mail alias, forget a device whose endpoint is gone. Its transactions (alias,
# device) are authorized item by item through these same actions. No Scan.
STREAM_TABLE_ACTIONS = (
    "dynamodb:GetItem",
    "dynamodb:BatchGetItem",
    "dynamodb:Query",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:ConditionCheckItem",
)
# Powertools DynamoDBPersistenceLayer: get/put/update/delete of one record by key.
IDEMPOTENCY_TABLE_ACTIONS = (
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
)
# The API registers devices: an endpoint per token, kept enabled and current, removed on request.
# SNS authorizes endpoint calls against the endpoint ARN and CreatePlatformEndpoint against the
# platform application ARN, so both are scoped to the configured applications. When SNS refuses a
# registration with InvalidParameter, the API reads the application's attributes to tell an unusable
# application (422 PUSH_NOT_CONFIGURED) from a token conflict (409).
API_CREATE_ENDPOINT_ACTIONS = ("sns:CreatePlatformEndpoint", "sns:GetPlatformApplicationAttributes")
API_ENDPOINT_ACTIONS = ("sns:DeleteEndpoint", "sns:SetEndpointAttributes", "sns:GetEndpointAttributes")
# The stream function publishes to endpoints and cleans up the ones SNS reports disabled.
STREAM_ENDPOINT_ACTIONS = ("sns:Publish", "sns:GetEndpointAttributes", "sns:DeleteEndpoint")

# arn:<partition>:sns:<region>:<account>:app/<platform>/<name>; endpoints of that application are
# arn:<partition>:sns:<region>:<account>:endpoint/<platform>/<name>/<uuid>.
_PLATFORM_APPLICATION_ARN = re.compile(
    r"^(?P<prefix>arn:aws[a-z-]*:sns:(?P<region>[a-z0-9-]+):(?P<account>\d{12})):app/(?P<platform>[A-Z_]+)/"
    r"(?P<name>[A-Za-z0-9_.-]{1,256})$"
)
_PLATFORMS = {
    constants.PUSH_APNS_APPLICATION_ARN_CONTEXT_KEY: ("APNS", "APNS_SANDBOX"),
    constants.PUSH_FCM_APPLICATION_ARN_CONTEXT_KEY: ("GCM",),  # FCM's SNS platform name
}


@dataclass(frozen=True)
class PushApplications:
    """The SNS platform applications devices register with; neither set means push is off."""

    apns_arn: str | None = None
    fcm_arn: str | None = None

    @property
    def application_arns(self) -> list[str]:
        return [arn for arn in (self.apns_arn, self.fcm_arn) if arn]

    @property
    def endpoint_arns(self) -> list[str]:
        """ARN patterns matching every endpoint of the configured applications."""
        return [endpoint_arn_pattern(arn) for arn in self.application_arns]

    @property
    def environment(self) -> dict[str, str]:
        variables = {Env.PUSH_APNS_APPLICATION_ARN: self.apns_arn, Env.PUSH_FCM_APPLICATION_ARN: self.fcm_arn}
        return {name: value for name, value in variables.items() if value}


def endpoint_arn_pattern(application_arn: str) -> str:
    """``arn:...:app/APNS/<name>`` -> ``arn:...:endpoint/APNS/<name>/*``."""
    match = _PLATFORM_APPLICATION_ARN.match(application_arn)
    if match is None:
        raise ValueError(f"not an SNS platform application ARN: {application_arn!r}")
    return f"{match['prefix']}:endpoint/{match['platform']}/{match['name']}/*"


def _application_arn(key: str, value: Any) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    match = _PLATFORM_APPLICATION_ARN.match(value.strip()) if isinstance(value, str) else None
    if match is None or match["platform"] not in _PLATFORMS[key]:
        raise ValueError(
            f"context {key!r} must be the ARN of an SNS platform application of platform "
            f"{' or '.join(_PLATFORMS[key])}, got {value!r}"
        )
    return match.string


def push_applications_from_context(context: Mapping[str, Any]) -> PushApplications:
    """Read ``pushApnsApplicationArn`` / ``pushFcmApplicationArn``; absent or empty means off."""
    return PushApplications(
        apns_arn=_application_arn(
            constants.PUSH_APNS_APPLICATION_ARN_CONTEXT_KEY,
            context.get(constants.PUSH_APNS_APPLICATION_ARN_CONTEXT_KEY),
        ),
        fcm_arn=_application_arn(
            constants.PUSH_FCM_APPLICATION_ARN_CONTEXT_KEY,
            context.get(constants.PUSH_FCM_APPLICATION_ARN_CONTEXT_KEY),
        ),
    )


def require_same_environment(push: PushApplications, *, region: str, account: str) -> None:
    """Refuse platform applications of another region or account than the stack's: the functions'
    SNS clients call their own region, where such an application does not exist, so every device
    registration would fail. Unresolved (environment-agnostic) values are not checked."""
    for arn in push.application_arns:
        match = _PLATFORM_APPLICATION_ARN.match(arn)
        if match is None:  # pragma: no cover - push_applications_from_context validated it
            raise ValueError(f"not an SNS platform application ARN: {arn!r}")
        for what, expected in (("region", region), ("account", account)):
            if not Token.is_unresolved(expected) and match[what] != expected:
                raise ValueError(
                    f"push application {arn} is in {what} {match[what]}, but the stack deploys to {what} "
                    f"{expected}: create the SNS platform application in {expected} (the stack's {what}) and "
                    "pass its ARN, see docs/deploy.md"
                )


class NotificationsConstruct(Construct):
    """The stream function, its event source, dead-letter queue, alarms and idempotency table."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        table: dynamodb.Table,
        layer: lambda_.ILayerVersion,
        mail: MailConstruct,
        push: PushApplications,
        public_web_url: str,
        notification_settings_url: str,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        require_same_environment(push, region=stack.region, account=stack.account)
        self.push = push
        self.idempotency_table = self._build_idempotency_table()
        self.function = build_python_function(
            self,
            "StreamFunction",
            package=constants.STREAM_PACKAGE,
            description="Message Center notifications (push and e-mail copy of new messages)",
            layer=layer,
            memory_size=constants.STREAM_MEMORY_MB,
            timeout=constants.STREAM_TIMEOUT,
            environment={
                Env.TABLE_NAME: table.table_name,
                Env.IDEMPOTENCY_TABLE_NAME: self.idempotency_table.table_name,
                Env.PUBLIC_WEB_URL: public_web_url,
                Env.NOTIFICATION_SETTINGS_URL: notification_settings_url,
                **push.environment,
            },
            wildcard_resource_reason="X-Ray PutTraceSegments/PutTelemetryRecords and dynamodb:ListStreams "
            "(added by the stream event source) support no resource-level permissions.",
        )
        grant_item_access(self.function, table, STREAM_TABLE_ACTIONS)
        self.function.add_to_role_policy(
            iam.PolicyStatement(actions=list(IDEMPOTENCY_TABLE_ACTIONS), resources=[self.idempotency_table.table_arn])
        )
        mail.grant_reply_addressing(self.function)
        mail.grant_send(self.function)
        if push.application_arns:
            self.function.add_to_role_policy(
                iam.PolicyStatement(actions=list(STREAM_ENDPOINT_ACTIONS), resources=push.endpoint_arns)
            )
            self._acknowledge_endpoint_wildcards(self.function)
        self.dead_letter_queue = self._build_dead_letter_queue()
        self.function.add_event_source(stream_event_source(table, constants.STREAM_SOURCE, self.dead_letter_queue))
        self.alarms = self._build_alarms()

    def grant_device_registration(self, function: lambda_.Function) -> None:
        """Let the API function register and remove devices; nothing at all while push is off."""
        for name, value in self.push.environment.items():
            function.add_environment(name, value)
        if not self.push.application_arns:
            return
        function.add_to_role_policy(
            iam.PolicyStatement(actions=list(API_CREATE_ENDPOINT_ACTIONS), resources=self.push.application_arns)
        )
        function.add_to_role_policy(
            iam.PolicyStatement(actions=list(API_ENDPOINT_ACTIONS), resources=self.push.endpoint_arns)
        )
        self._acknowledge_endpoint_wildcards(function)

    def _acknowledge_endpoint_wildcards(self, function: lambda_.Function) -> None:
        if function.role is None:  # pragma: no cover - every function here has its own role
            raise ValueError(f"{function.node.path} has no role")
        Validations.of(function.role).acknowledge(
            *(
                Acknowledgment(
                    id=f"AwsSolutions-IAM5[Resource::{pattern}]",
                    reason="Endpoint ARNs end in an id SNS assigns when a device registers; the "
                    "wildcard covers the endpoints of this one platform application only.",
                )
                for pattern in self.push.endpoint_arns
            )
        )

    def _build_idempotency_table(self) -> dynamodb.Table:
        return dynamodb.Table(
            self,
            "IdempotencyTable",
            partition_key=dynamodb.Attribute(
                name=constants.IDEMPOTENCY_KEY_ATTRIBUTE, type=dynamodb.AttributeType.STRING
            ),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            time_to_live_attribute=constants.IDEMPOTENCY_TTL_ATTRIBUTE,
            encryption=dynamodb.TableEncryption.AWS_MANAGED,
            # Only short-lived "already notified" records that expire by TTL; nothing to keep once
            # the stack, and with it the stream consumer, is gone.
            removal_policy=RemovalPolicy.DESTROY,
        )

    def _build_dead_letter_queue(self) -> sqs.Queue:
        return dead_letter_queue(
            self,
            "StreamDeadLetterQueue",
            retention_period=constants.STREAM_DLQ_RETENTION,
            consumer_reason="stream event source; a queue behind it would have no consumer either.",
        )

    def _build_alarms(self) -> list[cloudwatch.Alarm]:
        dead_letters = alarm_when_messages(
            self,
            "StreamDeadLettersAlarm",
            queue=self.dead_letter_queue,
            description="New messages were not notified: stream records exhausted their retries "
            "and are described in the dead-letter queue.",
        )
        errors = alarm_on_errors(
            self,
            "StreamFunctionErrorsAlarm",
            function=self.function,
            description="The stream function failed whole invocations (crash or timeout), not single records.",
        )
        iterator_age = alarm_above(
            self,
            "StreamIteratorAgeAlarm",
            metric=self.function.metric("IteratorAge", statistic=cloudwatch.Stats.MAXIMUM),
            threshold=constants.STREAM_ITERATOR_AGE_ALARM.to_milliseconds(),
            description="Notifications are late: the oldest stream record handed to the function "
            "waited longer than the threshold.",
        )
        return [dead_letters, errors, iterator_age]
