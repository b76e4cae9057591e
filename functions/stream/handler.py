"""DynamoDB stream → an e-mail copy and push notifications for every new message.

The event source's filter passes only inserted message copies; each participant has a copy, and
only the recipient's (owner ≠ author) notifies. Failed records are reported individually so the
stream retries just those; the channels are idempotent, so a retry repeats nothing that worked.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from message_center.composition import Container, StreamServices, stream_services
from message_center.data.mappers import message_from_stream_record
from message_center.deployment import METRICS_NAMESPACE, SERVICE_NAME, TRACED_MODULES
from message_center.settings import StreamSettings

logger = Logger()
# Only the AWS SDK (boto3 and pynamodb both call through botocore): patching every library X-Ray
# knows imported and wrapped them all at cold start, the larger part of the handler's import.
tracer = Tracer(patch_modules=TRACED_MODULES)
metrics = Metrics(namespace=METRICS_NAMESPACE, service=SERVICE_NAME)
processor = BatchProcessor(event_type=EventType.DynamoDBStreams)
# The function's one cache: settings and services, built on the first invocation of a cold start.
container: Container[StreamSettings, StreamServices] = Container(StreamSettings, stream_services)


@tracer.capture_method
def record_handler(record: DynamoDBRecord) -> None:
    message = message_from_stream_record(record.raw_event)
    if message is None:  # not an inserted message copy (the deployed filter already drops these)
        return
    if container.get().notifications.on_new_message(message):
        metrics.add_metric(name="MessageNotified", unit=MetricUnit.Count, value=1)


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    services = container.get()
    services.notifications.register_lambda_context(context)
    if services.translation_deadline is not None:
        services.translation_deadline.start(context.get_remaining_time_in_millis())
    return process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
