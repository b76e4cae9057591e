"""DynamoDB stream → live events: each change users see live becomes an entry in their event
feed and a message on each of their WebSocket connections.

A sibling of functions/stream with its own event source mapping: its filter passes inserted and
removed message copies and modified inbox entries. Failed records are reported one by one (the
stream retries only those, then the dead-letter queue gets them); a retry writes no second feed
entry and reaches only the connections that did not get the event yet.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from message_center.composition import Container, RealtimeEventsServices, realtime_events_services
from message_center.data.realtime_records import live_change_from_stream_record
from message_center.deployment import METRICS_NAMESPACE, SERVICE_NAME
from message_center.settings import RealtimeEventsSettings

logger = Logger()
tracer = Tracer()
metrics = Metrics(namespace=METRICS_NAMESPACE, service=SERVICE_NAME)
processor = BatchProcessor(event_type=EventType.DynamoDBStreams)
# The function's one cache: settings and services, built on the first invocation of a cold start.
container: Container[RealtimeEventsSettings, RealtimeEventsServices] = Container(
    RealtimeEventsSettings, realtime_events_services
)


@tracer.capture_method
def record_handler(record: DynamoDBRecord) -> None:
    change = live_change_from_stream_record(record.raw_event)
    if change is None:  # not a change users see live (the deployed filter already drops most)
        return
    sent = container.get().live.on_change(change)
    if sent:
        metrics.add_metric(name="LiveEventSent", unit=MetricUnit.Count, value=sent)


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
