"""SES receipt → the e-mail channel.

SES stored the raw message in S3 and invokes this with the headers and verdicts. Each decision is
logged with a reason code (never addresses or bodies) and counted. Refusals are final (SES does
not retry a successful invocation); unexpected errors raise so the asynchronous invocation is
retried, and the same mail delivered twice still becomes one message.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes import SESEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext
from message_center.composition import Container, InboundMailServices, inbound_mail_services
from message_center.deployment import METRICS_NAMESPACE, SERVICE_NAME, TRACED_MODULES
from message_center.domain.mail.verdicts import Verdicts
from message_center.settings import InboundMailSettings

logger = Logger()
# Only the AWS SDK (boto3 and pynamodb both call through botocore): patching every library X-Ray
# knows imported and wrapped them all at cold start, the larger part of the handler's import.
tracer = Tracer(patch_modules=TRACED_MODULES)
metrics = Metrics(namespace=METRICS_NAMESPACE, service=SERVICE_NAME)
# The function's one cache: settings and services, built on the first invocation of a cold start.
container: Container[InboundMailSettings, InboundMailServices] = Container(InboundMailSettings, inbound_mail_services)


@logger.inject_lambda_context(log_event=False)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics(capture_cold_start_metric=True)
@event_source(data_class=SESEvent)
def lambda_handler(event: SESEvent, context: LambdaContext) -> dict[str, Any]:
    decisions = []
    for record in event.records:
        mail, receipt = record.ses.mail, record.ses.receipt
        verdicts = Verdicts(
            spam=receipt.spam_verdict.status,
            virus=receipt.virus_verdict.status,
            spf=receipt.spf_verdict.status,
            dkim=receipt.dkim_verdict.status,
            dmarc=receipt.dmarc_verdict.status,
            dmarc_policy=receipt.dmarc_policy,
        )
        services = container.get()
        raw = services.raw_mail.read(mail.message_id)
        decision = services.inbound.receive(
            mail.message_id, list(receipt.recipients), verdicts, raw, envelope_sender=mail.source
        )
        logger.info(
            "Inbound mail decided",
            ses_message_id=mail.message_id,
            outcome=decision.outcome.value,
            reason=decision.detail,
            message_id=decision.message_id,
        )
        metrics.add_metric(
            name=f"InboundMail{decision.outcome.value.title().replace('_', '')}",
            unit=MetricUnit.Count,
            value=1,
        )
        decisions.append({"sesMessageId": mail.message_id, "outcome": decision.outcome.value})
    return {"decisions": decisions}
