"""Small shared building blocks of the constructs: secure buckets, dead-letter queues, alarms."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

import jsii
from aws_cdk import Acknowledgment, Duration, RemovalPolicy, Validations
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs
from constructs import Construct
from message_center.deployment import StreamSource


def secure_bucket(
    scope: Construct,
    construct_id: str,
    *,
    lifecycle_rules: Sequence[s3.LifecycleRule],
    server_access_logs_bucket: s3.IBucket | None = None,
    logs_prefix: str | None = None,
    cors: Sequence[s3.CorsRule] | None = None,
    versioned: bool = False,
    removal_policy: RemovalPolicy = RemovalPolicy.RETAIN,
) -> s3.Bucket:
    """A private, TLS-only (1.2+), SSE-S3 encrypted bucket with ACLs disabled.

    SSE-S3 because server access logs can only be delivered to SSE-S3 buckets and SES's S3 action
    needs no key policy for it. ACLs stay disabled: log delivery is granted by a bucket policy
    (feature flag serverAccessLogsUseBucketPolicy). Retained by default: a stack deletion must
    never take users' files, mail under investigation or audit evidence along.
    """
    return s3.Bucket(
        scope,
        construct_id,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        enforce_ssl=True,
        minimum_tls_version=1.2,
        encryption=s3.BucketEncryption.S3_MANAGED,
        versioned=versioned,
        object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        lifecycle_rules=list(lifecycle_rules),
        cors=list(cors) if cors is not None else None,
        server_access_logs_bucket=server_access_logs_bucket,
        server_access_logs_prefix=logs_prefix,
        removal_policy=removal_policy,
    )


def dead_letter_queue(
    scope: Construct, construct_id: str, *, retention_period: Duration, consumer_reason: str
) -> sqs.Queue:
    """An encrypted, TLS-only queue that is itself an on-failure destination (hence no DLQ of its own).

    ``consumer_reason`` completes the cdk-nag acknowledgment: "This queue is itself the on-failure
    destination (dead-letter queue) of the <consumer_reason>".
    """
    queue = sqs.Queue(
        scope,
        construct_id,
        encryption=sqs.QueueEncryption.SQS_MANAGED,
        enforce_ssl=True,
        retention_period=retention_period,
    )
    Validations.of(queue).acknowledge(
        Acknowledgment(
            id="AwsSolutions-SQS3",
            reason=f"This queue is itself the on-failure destination (dead-letter queue) of the {consumer_reason}",
        )
    )
    return queue


def alarm_above(
    scope: Construct,
    construct_id: str,
    *,
    metric: cloudwatch.IMetric,
    description: str,
    threshold: float = 0,
    or_equal: bool = False,
) -> cloudwatch.Alarm:
    """Alarm as soon as one period of ``metric`` exceeds ``threshold`` (``or_equal``: reaches it);
    no data is not a breach."""
    return cloudwatch.Alarm(
        scope,
        construct_id,
        alarm_description=description,
        metric=metric,
        threshold=threshold,
        comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD
        if or_equal
        else cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluation_periods=1,
        treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
    )


def alarm_when_messages(
    scope: Construct, construct_id: str, *, queue: sqs.IQueue, description: str
) -> cloudwatch.Alarm:
    """Alarm while ``queue`` holds any visible message."""
    return alarm_above(
        scope,
        construct_id,
        metric=queue.metric_approximate_number_of_messages_visible(statistic=cloudwatch.Stats.MAXIMUM),
        description=description,
    )


def alarm_on_errors(
    scope: Construct, construct_id: str, *, function: lambda_.IFunction, description: str
) -> cloudwatch.Alarm:
    """Alarm on any failed invocation of ``function``."""
    return alarm_above(
        scope,
        construct_id,
        metric=function.metric_errors(statistic=cloudwatch.Stats.SUM),
        description=description,
    )


def strings_from_context(key: str, value: Any) -> list[str]:
    """A list of strings from a CDK context value: ``None`` is empty, ``cdk.json`` gives a list,
    ``cdk -c key=...`` a string, read as a JSON list or as comma-separated values."""
    if value is None:
        return []
    if isinstance(value, str):
        text = value.strip()
        value = json.loads(text) if text.startswith("[") else [part.strip() for part in text.split(",") if part.strip()]
    if not isinstance(value, list) or not all(isinstance(item, str) and item for item in value):
        raise ValueError(f"context {key!r} must be a list of strings, got {value!r}")
    return value


def origins_from_context(key: str, value: Any) -> list[str]:
    """Web origins (``https://host[:port]``, no path) from a CDK context value, for CORS or a
    Content-Security-Policy; anything else fails synth with the key named."""
    origins = strings_from_context(key, value)
    for origin in origins:
        parts = urlsplit(origin)
        if parts.scheme not in ("https", "http") or not parts.netloc or origin != f"{parts.scheme}://{parts.netloc}":
            raise ValueError(f"context {key!r}: {origin!r} is not an origin such as https://shop.example")
    return origins


@jsii.implements(apigwv2.IAccessLogSettings)
class AccessLogSettings:
    """A stage's JSON access log of ``fields`` (name -> ``$context`` variable) into ``log_group``."""

    # Properties, not attributes: jsii only forwards members declared on the class.
    def __init__(self, log_group: logs.ILogGroup, fields: dict[str, str]) -> None:
        self._log_group = log_group
        self._fields = fields

    @property
    def destination(self) -> apigwv2.IAccessLogDestination:
        return apigwv2.LogGroupLogDestination(self._log_group)

    @property
    def format(self) -> apigw.AccessLogFormat:
        return apigw.AccessLogFormat.custom(json.dumps(self._fields))


def stream_event_source(
    table: dynamodb.ITable, source: StreamSource, dead_letters: sqs.IQueue
) -> event_sources.DynamoEventSource:
    """The table stream as ``source`` describes its mapping: batching, bisecting retries up to a
    record age, partial batch failures, the failed records described in ``dead_letters``, and
    ``source``'s filters. One batch per shard at a time: a thread's changes go out in order."""
    return event_sources.DynamoEventSource(
        table,
        starting_position=lambda_.StartingPosition.LATEST,
        batch_size=source.batch_size,
        max_batching_window=Duration.seconds(source.max_batching_window_seconds),
        bisect_batch_on_error=True,
        retry_attempts=source.retry_attempts,
        max_record_age=Duration.seconds(source.max_record_age_seconds),
        report_batch_item_failures=True,
        parallelization_factor=source.parallelization_factor,
        on_failure=event_sources.SqsDlq(dead_letters),
        filters=[lambda_.FilterCriteria.filter(pattern) for pattern in source.filter_patterns],
    )
