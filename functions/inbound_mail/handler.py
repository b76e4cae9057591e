"""SES receipt → the e-mail channel.

SES stored the raw message in S3 and invokes this with the headers and verdicts. Each decision is
logged with a reason code (never addresses or bodies) and counted. Refusals are final (SES does
not retry a successful invocation); unexpected errors raise so the asynchronous invocation is
retried, and the same mail delivered twice still becomes one message.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.data_classes import SESEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext
from message_center.composition import InboundMailWiring
from message_center.services.inbound_mail import Verdicts
from message_center.settings import get_settings

logger = Logger()
tracer = Tracer()
metrics = Metrics(namespace="MessageCenter", service="message-center")


@lru_cache(maxsize=1)
def wiring() -> InboundMailWiring:
    return InboundMailWiring(get_settings())


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
        raw = wiring().read_raw_mail(mail.message_id)
        decision = wiring().inbound.receive(mail.message_id, list(receipt.recipients), verdicts, raw)
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
