"""The AWS list prices the cost model uses (USD, on-demand, no free tier), per region.

Read on 2026-11-26 from AWS's public pricing pages named with each price (``source``). The pages
render their rate tables in the browser, so where the stored copy of a page showed a number it is
said in ``seen``; otherwise the figure is the page's published rate for that region as known on
that date and ``seen`` says so. Prices change: update this table (and its date) rather than the
model, and re-run ``message-center cost``.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

PRICES_READ_ON: Final = "2026-11-26"

DYNAMODB: Final = "https://aws.amazon.com/dynamodb/pricing/on-demand/"
LAMBDA: Final = "https://aws.amazon.com/lambda/pricing/"
API_GATEWAY: Final = "https://aws.amazon.com/api-gateway/pricing/"
SES: Final = "https://aws.amazon.com/ses/pricing/"
SNS: Final = "https://aws.amazon.com/sns/pricing/"
S3: Final = "https://aws.amazon.com/s3/pricing/"
CLOUDWATCH: Final = "https://aws.amazon.com/cloudwatch/pricing/"
XRAY: Final = "https://aws.amazon.com/xray/pricing/"
SECRETS_MANAGER: Final = "https://aws.amazon.com/secrets-manager/pricing/"
KMS: Final = "https://aws.amazon.com/kms/pricing/"
TRANSLATE: Final = "https://aws.amazon.com/translate/pricing/"
WAF: Final = "https://aws.amazon.com/waf/pricing/"
TALKJS: Final = "https://talkjs.com/pricing/"

_PAGE_ONLY = "the stored page renders its rate table client-side: the region's published rate"


@dataclass(frozen=True)
class Price:
    usd: float
    unit: str
    source: str
    seen: str = _PAGE_ONLY


def _same_in_both(price: Price) -> dict[str, Price]:
    return {"us-east-1": price, "eu-central-1": price}


# name -> region -> price
_TABLE: dict[str, dict[str, Price]] = {
    "dynamodb_write_unit": {
        "us-east-1": Price(
            0.625e-6,
            "write request unit",
            DYNAMODB,
            "$0.625 per million WRU (US East) in a stored pricing summary (airbyte.com, DynamoDB pricing)",
        ),
        "eu-central-1": Price(0.7625e-6, "write request unit", DYNAMODB),
    },
    "dynamodb_read_unit": {
        "us-east-1": Price(
            0.125e-6,
            "read request unit",
            DYNAMODB,
            "$0.125 per million RRU (US East) in a stored pricing summary (airbyte.com, DynamoDB pricing)",
        ),
        "eu-central-1": Price(0.1525e-6, "read request unit", DYNAMODB),
    },
    "dynamodb_storage_gb_month": {
        "us-east-1": Price(0.25, "GB-month", DYNAMODB),
        "eu-central-1": Price(0.306, "GB-month", DYNAMODB),
    },
    "dynamodb_pitr_gb_month": {
        "us-east-1": Price(0.20, "GB-month", DYNAMODB),
        "eu-central-1": Price(0.2448, "GB-month", DYNAMODB),
    },
    "dynamodb_stream_read_by_lambda": _same_in_both(
        Price(0.0, "stream read request by a Lambda trigger", DYNAMODB, "the page: reads by Lambda triggers are free")
    ),
    "lambda_request": _same_in_both(
        Price(0.20e-6, "request", LAMBDA, "$0.20 per 1M requests, x86 and arm64, in a stored Lambda cost note")
    ),
    "lambda_arm_gb_second": _same_in_both(
        Price(
            0.0000133334,
            "GB-second (arm64, first 7.5 billion)",
            LAMBDA,
            "$0.0000133334 per GB-second for Arm (US East) in a stored pricing breakdown (cloudchipr.com)",
        )
    ),
    "http_api_request": {
        "us-east-1": Price(
            1.00e-6,
            "HTTP API request (first 300 million)",
            API_GATEWAY,
            "$1.00/million from the page's worked example (US regions), as transcribed in a stored copy",
        ),
        "eu-central-1": Price(1.20e-6, "HTTP API request (first 300 million)", API_GATEWAY),
    },
    "websocket_message": {
        "us-east-1": Price(1.00e-6, "WebSocket message (32 KB, first 1 billion)", API_GATEWAY),
        "eu-central-1": Price(1.14e-6, "WebSocket message (32 KB, first 1 billion)", API_GATEWAY),
    },
    "websocket_connection_minute": {
        "us-east-1": Price(
            0.25e-6,
            "connection minute",
            API_GATEWAY,
            "$0.25 per million connection minutes, quoted from the page in a stored re:Post question",
        ),
        "eu-central-1": Price(0.285e-6, "connection minute", API_GATEWAY),
    },
    "ses_outbound_message": _same_in_both(
        Price(0.10e-3, "e-mail sent", SES, "$0.10 per 1,000 e-mails in stored price comparisons (gist)")
    ),
    "ses_inbound_message": _same_in_both(
        Price(0.10e-3, "e-mail received", SES, "$0.10 per 1,000 incoming e-mails in a stored comparison (gist)")
    ),
    "ses_inbound_chunk": _same_in_both(Price(0.09e-3, "256 KB chunk of incoming mail", SES)),
    "sns_mobile_push": _same_in_both(Price(0.50e-6, "mobile push notification", SNS)),
    "s3_storage_gb_month": {
        "us-east-1": Price(0.023, "GB-month (Standard, first 50 TB)", S3),
        "eu-central-1": Price(0.0245, "GB-month (Standard, first 50 TB)", S3),
    },
    "s3_put_request": {
        "us-east-1": Price(0.005e-3, "PUT, COPY, POST or LIST request", S3),
        "eu-central-1": Price(0.0054e-3, "PUT, COPY, POST or LIST request", S3),
    },
    "s3_get_request": {
        "us-east-1": Price(0.0004e-3, "GET or other request", S3),
        "eu-central-1": Price(0.00043e-3, "GET or other request", S3),
    },
    "logs_ingested_gb": {
        "us-east-1": Price(0.50, "GB ingested (Standard log class)", CLOUDWATCH),
        "eu-central-1": Price(0.63, "GB ingested (Standard log class)", CLOUDWATCH),
    },
    "xray_trace_recorded": _same_in_both(Price(5.00e-6, "trace recorded", XRAY)),
    "secret_month": _same_in_both(Price(0.40, "secret per month", SECRETS_MANAGER)),
    "secrets_api_call": _same_in_both(Price(0.05e-4, "API call", SECRETS_MANAGER)),
    "kms_key_month": _same_in_both(Price(1.00, "customer managed key per month", KMS)),
    "cloudwatch_dashboard_month": _same_in_both(Price(3.00, "custom dashboard per month", CLOUDWATCH)),
    "cloudwatch_alarm_month": _same_in_both(Price(0.10, "standard-resolution metric alarm per month", CLOUDWATCH)),
    "waf_web_acl_month": _same_in_both(Price(5.00, "web ACL per month", WAF)),
    "waf_rule_month": _same_in_both(Price(1.00, "rule or managed rule group per month", WAF)),
    "waf_request": _same_in_both(Price(0.60e-6, "request inspected", WAF)),
    "translate_character": _same_in_both(Price(15.0e-6, "character (standard real-time)", TRANSLATE)),
}

PRICES: Final = MappingProxyType(_TABLE)
REGIONS: Final = ("us-east-1", "eu-central-1")


@dataclass(frozen=True)
class Anchor:
    """What the bill is compared with."""

    name: str
    usd_per_month: float
    monthly_active_users: int
    source: str


TALKJS_BASIC: Final = Anchor("TalkJS Basic", 279.0, 10_000, TALKJS)


def prices_for(region: str) -> dict[str, Price]:
    """Every price of ``region``; a region without a table is an error (no silent fallback)."""
    if region not in REGIONS:
        raise KeyError(f"no price table for {region}; known: {', '.join(REGIONS)}")
    return {name: by_region[region] for name, by_region in PRICES.items()}
