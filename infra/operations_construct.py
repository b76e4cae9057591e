"""Operating the Message Center: who is told when an alarm fires, and one dashboard to look at.

- Every CloudWatch alarm of the stack notifies one SNS topic, when it fires and when it recovers:
  an aspect adds the actions at synth, so alarms added by any construct (now or later) are covered.
  The topic's e-mail subscriber comes from the ``alarmEmail`` context (SNS asks that address to
  confirm once); more subscribers (chat, paging) subscribe to the topic output ``AlarmTopicArn``.
- Alarms of its own: the API answering 5xx, and the account's SES reputation (bounce and complaint
  rates, which make SES pause sending when they stay high).
- The dashboard: API requests, 4xx/5xx and latency; each function's errors, throttles and duration;
  the dead-letter queues' depths; the stream's iterator age; SES bounce and complaint rates; and
  the characters sent to translation per provider (what translation bills by).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import jsii
from aws_cdk import Acknowledgment, Aspects, CfnOutput, Duration, IAspect, Stack, Validations
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct, IConstruct

from infra import constants
from infra.building_blocks import alarm_above

ALARM_EMAIL_CONTEXT_KEY = "alarmEmail"
# SES pauses an account's sending when the bounce rate reaches 10% or the complaint rate 0.5%;
# these alarms come well before (the levels at which SES places an account under review).
SES_BOUNCE_RATE_ALARM = 0.05
SES_COMPLAINT_RATE_ALARM = 0.001
API_5XX_PER_5_MINUTES_ALARM = 5
PERIOD = Duration.minutes(5)

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def alarm_email_from_context(value: Any) -> str | None:
    """The ``alarmEmail`` context value: an e-mail address, or nothing (no subscriber yet)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str) or not _EMAIL.match(value.strip()):
        raise ValueError(f"context {ALARM_EMAIL_CONTEXT_KEY!r} must be an e-mail address, got {value!r}")
    return value.strip()


@jsii.implements(IAspect)
class _NotifyTopic:
    """Adds the topic as alarm and OK action of every alarm it visits (once each)."""

    def __init__(self, topic: sns.ITopic) -> None:
        self._action = cloudwatch_actions.SnsAction(topic)
        self._done: set[str] = set()

    def visit(self, node: IConstruct) -> None:
        if isinstance(node, cloudwatch.Alarm) and node.node.path not in self._done:
            self._done.add(node.node.path)
            node.add_alarm_action(self._action)
            node.add_ok_action(self._action)


class OperationsConstruct(Construct):
    """The alarm topic, the stack-wide alarm actions, the API and SES alarms and the dashboard."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        alarm_email: str | None,
        http_api: apigwv2.IHttpApi,
        functions: Mapping[str, lambda_.IFunction],
        dead_letter_queues: Mapping[str, sqs.IQueue],
        stream_function: lambda_.IFunction,
    ) -> None:
        super().__init__(scope, construct_id)
        self.topic = sns.Topic(self, "AlarmTopic", display_name="Message Center alarms", enforce_ssl=True)
        Validations.of(self.topic).acknowledge(
            Acknowledgment(
                id="AwsSolutions-SNS2",
                reason="Alarm notifications carry alarm names and metric values only, no user data; "
                "CloudWatch cannot publish to a topic encrypted with the AWS managed SNS key.",
            )
        )
        if alarm_email:
            self.topic.add_subscription(subscriptions.EmailSubscription(alarm_email))
        Aspects.of(Stack.of(self)).add(_NotifyTopic(self.topic))
        self.alarms = self._build_alarms(http_api)
        self.dashboard = self._build_dashboard(http_api, functions, dead_letter_queues, stream_function)
        outputs = (
            CfnOutput(self, "AlarmTopicArn", value=self.topic.topic_arn, description="Every alarm notifies this topic"),
            CfnOutput(
                self,
                "DashboardName",
                value=self.dashboard.dashboard_name,
                description="CloudWatch dashboard of the Message Center",
            ),
        )
        for output in outputs:
            output.override_logical_id(output.node.id)

    def _build_alarms(self, http_api: apigwv2.IHttpApi) -> list[cloudwatch.Alarm]:
        server_errors = alarm_above(
            self,
            "Api5xxAlarm",
            description="The API answered with 5xx errors (a fault, a timeout or a throttled function).",
            metric=http_api.metric_server_error(statistic=cloudwatch.Stats.SUM, period=PERIOD),
            threshold=API_5XX_PER_5_MINUTES_ALARM,
            or_equal=True,
        )
        bounces = alarm_above(
            self,
            "SesBounceRateAlarm",
            description="The SES account's bounce rate is high: SES pauses sending at 10%.",
            metric=_ses_metric("Reputation.BounceRate"),
            threshold=SES_BOUNCE_RATE_ALARM,
            or_equal=True,
        )
        complaints = alarm_above(
            self,
            "SesComplaintRateAlarm",
            description="The SES account's complaint rate is high: SES pauses sending at 0.5%.",
            metric=_ses_metric("Reputation.ComplaintRate"),
            threshold=SES_COMPLAINT_RATE_ALARM,
            or_equal=True,
        )
        return [server_errors, bounces, complaints]

    def _build_dashboard(
        self,
        http_api: apigwv2.IHttpApi,
        functions: Mapping[str, lambda_.IFunction],
        dead_letter_queues: Mapping[str, sqs.IQueue],
        stream_function: lambda_.IFunction,
    ) -> cloudwatch.Dashboard:
        dashboard = cloudwatch.Dashboard(self, "Dashboard", default_interval=Duration.hours(3))
        api_widgets: list[cloudwatch.IWidget] = [
            _graph(
                "API requests and errors",
                [
                    http_api.metric_count(statistic=cloudwatch.Stats.SUM, period=PERIOD, label="requests"),
                    http_api.metric_client_error(statistic=cloudwatch.Stats.SUM, period=PERIOD, label="4xx"),
                    http_api.metric_server_error(statistic=cloudwatch.Stats.SUM, period=PERIOD, label="5xx"),
                ],
            ),
            _graph(
                "API latency (ms)",
                [
                    http_api.metric_latency(statistic=stat, period=PERIOD, label=f"latency {stat}")
                    for stat in (cloudwatch.Stats.percentile(50), cloudwatch.Stats.percentile(99))
                ]
                + [
                    http_api.metric_integration_latency(
                        statistic=cloudwatch.Stats.percentile(99), period=PERIOD, label="integration p99"
                    )
                ],
            ),
        ]
        function_widgets: list[cloudwatch.IWidget] = [
            _graph(
                "Function errors",
                [
                    fn.metric_errors(statistic=cloudwatch.Stats.SUM, period=PERIOD, label=name)
                    for name, fn in functions.items()
                ],
            ),
            _graph(
                "Function throttles",
                [
                    fn.metric_throttles(statistic=cloudwatch.Stats.SUM, period=PERIOD, label=name)
                    for name, fn in functions.items()
                ],
            ),
            _graph(
                "Function duration p99 (ms)",
                [
                    fn.metric_duration(statistic=cloudwatch.Stats.percentile(99), period=PERIOD, label=name)
                    for name, fn in functions.items()
                ],
            ),
        ]
        delivery_widgets: list[cloudwatch.IWidget] = [
            _graph(
                "Dead-letter queue depth",
                [
                    queue.metric_approximate_number_of_messages_visible(
                        statistic=cloudwatch.Stats.MAXIMUM, period=PERIOD, label=name
                    )
                    for name, queue in dead_letter_queues.items()
                ],
            ),
            _graph(
                "Stream iterator age (ms)",
                [
                    stream_function.metric(
                        "IteratorAge", statistic=cloudwatch.Stats.MAXIMUM, period=PERIOD, label="max age"
                    )
                ],
            ),
            _graph(
                "SES bounce and complaint rate",
                [
                    _ses_metric("Reputation.BounceRate", label="bounce rate"),
                    _ses_metric("Reputation.ComplaintRate", label="complaint rate"),
                ],
            ),
        ]
        translation_widgets: list[cloudwatch.IWidget] = [
            _graph(
                "Translated characters per provider",
                [
                    cloudwatch.MathExpression(
                        # Per provider, whatever other dimensions Powertools adds (service).
                        expression=f'SEARCH(\'Namespace="{constants.METRICS_NAMESPACE}" '
                        "MetricName=\"TranslatedCharacters\"', 'Sum', 300)",
                        label="",
                        period=PERIOD,
                    )
                ],
            ),
        ]
        dashboard.add_widgets(*api_widgets)
        dashboard.add_widgets(*function_widgets)
        dashboard.add_widgets(*delivery_widgets)
        dashboard.add_widgets(*translation_widgets)
        return dashboard


def _ses_metric(name: str, *, label: str | None = None) -> cloudwatch.Metric:
    """An account-level SES reputation metric (published in the SES region, i.e. the stack's)."""
    return cloudwatch.Metric(
        namespace="AWS/SES", metric_name=name, statistic=cloudwatch.Stats.MAXIMUM, period=PERIOD, label=label
    )


def _graph(title: str, metrics: Sequence[cloudwatch.IMetric]) -> cloudwatch.GraphWidget:
    return cloudwatch.GraphWidget(title=title, left=list(metrics), width=8, height=6)
