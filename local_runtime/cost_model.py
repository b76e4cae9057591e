"""A month of Message Center on AWS in dollars, from measured usage per operation.

Pure arithmetic: ``bill`` takes what one invocation of each operation used (``Measurements``,
measured on the emulator by ``benchmarks/cost_inputs.py``), the explicit ``Assumptions`` about
how people use it, the functions' memory (``deployment.py``) and a region's prices
(``aws_prices.py``), and returns the bill line by line. ``message-center cost`` prints it beside
the anchor, TalkJS Basic.

Not priced: free tiers (none is subtracted), data transfer out, CloudFront and the web client's
bucket, Cognito (the marketplace's sign-in), the SQS dead-letter queue, CloudWatch metrics and
alarms. DynamoDB stream reads are listed at their price: none when a Lambda trigger reads them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any, Final

from .aws_prices import PRICES_READ_ON, Anchor, Price

SECONDS_PER_MONTH_HOURS = 30 * 24
DAYS_PER_MONTH = 30
GB = 1024**3
# START, END and REPORT lines Lambda writes for every invocation (about 100 bytes each).
PLATFORM_LOG_BYTES = 300
# DynamoDB adds about 100 bytes of indexing overhead per stored item.
ITEM_OVERHEAD_BYTES = 100
ITEMS_PER_MESSAGE = 3  # each participant's copy and the message ref
_STREAM_READ = "dynamodb_stream_read_by_lambda"


@dataclass(frozen=True)
class OperationUsage:
    """What one invocation of an operation used."""

    requests: Mapping[str, int]  # "service:Operation" -> count
    read_units: float
    write_units: float
    log_bytes: int
    seconds: float

    def count(self, service: str, *operations: str) -> int:
        return sum(n for name, n in self.requests.items() if name in {f"{service}:{op}" for op in operations})

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> OperationUsage:
        return cls(
            requests=dict(data["requests"]),
            read_units=float(data["read_units"]),
            write_units=float(data["write_units"]),
            log_bytes=int(data["log_bytes"]),
            seconds=float(data["seconds"]),
        )


@dataclass(frozen=True)
class Measurements:
    write_in_thread: OperationUsage
    new_conversation: OperationUsage
    read_calls: Mapping[str, OperationUsage]  # a reader opening a thread: badge, inbox, messages, mark read
    notify: OperationUsage  # the stream function's work for one new message
    stored_bytes_per_message: int

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Measurements:
        return cls(
            write_in_thread=OperationUsage.from_dict(data["write_in_thread"]),
            new_conversation=OperationUsage.from_dict(data["new_conversation"]),
            read_calls={name: OperationUsage.from_dict(usage) for name, usage in data["read_calls"].items()},
            notify=OperationUsage.from_dict(data["notify"]),
            stored_bytes_per_message=int(data["stored_bytes_per_message"]),
        )


# What the deployed stack has (tests/infra/test_operations_construct.py compares with the template).
ALARMS_IN_STACK: Final = 10
WAF_RULES_IN_STACK: Final = 2
# Live events (functions/realtime_events): per event a feed entry of about 1 KB (1 WRU) and a
# delivery marker per connection (1 WRU), written to the real-time table; not measured yet.
LIVE_EVENT_WRITE_UNITS: Final = 2


def _assumption(default: float, help_text: str) -> Any:
    return field(default=default, metadata={"help": help_text})


@dataclass(frozen=True)
class Assumptions:
    """How the users use it; every field is a ``message-center cost`` flag."""

    users: int = 10_000
    messages_per_user: float = 20
    messages_per_thread: float = _assumption(5, "messages per thread: one in this many starts a conversation")
    reads_per_message: float = _assumption(
        1, "times a message is read: the recipient opens the thread (badge, inbox, messages, mark read)"
    )
    app_opens_per_user: float = _assumption(30, "monthly app opens without a new message (badge and inbox)")
    attachment_share: float = _assumption(0.05, "share of messages with one attachment")
    attachment_kb: float = _assumption(300, "mean attachment size, KB (kept in S3 for the month)")
    inbound_mail_share: float = _assumption(0.10, "share of messages that arrive as e-mail replies")
    mail_kb: float = _assumption(30, "mean size of a received e-mail, KB")
    translation_share: float = _assumption(0.10, "share of messages auto-translated (another language)")
    message_chars: float = _assumption(120, "mean characters per message (what translation is billed for)")
    email_share: float = _assumption(1, "share of messages e-mailed to the recipient (the product: every one)")
    devices_per_user: float = _assumption(1, "push devices per user")
    online_minutes_per_day: float = _assumption(20, "minutes a day a user's browser holds the WebSocket")
    xray_sampling: float = _assumption(0.05, "share of invocations traced by X-Ray")
    warm_containers: float = _assumption(4, "warm containers per function (each re-reads its secret hourly)")
    alarms: float = _assumption(ALARMS_IN_STACK, "CloudWatch alarms in the stack (tests/infra keeps this equal)")
    waf_rules: float = _assumption(WAF_RULES_IN_STACK, "WAF rules on CloudFront (managed common set, rate limit)")

    @property
    def messages(self) -> float:
        return self.users * self.messages_per_user

    def described(self) -> list[tuple[str, str, float]]:
        """(flag, meaning, value) of every assumption."""
        return [
            (f"--{item.name.replace('_', '-')}", item.metadata.get("help", ""), getattr(self, item.name))
            for item in fields(self)
            if item.metadata.get("help")
        ]


@dataclass(frozen=True)
class Line:
    service: str
    what: str
    quantity: float
    unit: str
    usd: float
    measured: bool  # from the emulator's counts (else from the assumptions alone)
    fixed: bool = False  # paid at rest, whatever the traffic


@dataclass(frozen=True)
class Bill:
    region: str
    assumptions: Assumptions
    lines: tuple[Line, ...]
    anchor: Anchor

    @property
    def total(self) -> float:
        return sum(line.usd for line in self.lines)

    def service_total(self, service: str) -> float:
        return sum(line.usd for line in self.lines if line.service == service)

    @property
    def share_of_anchor(self) -> float:
        return self.total / self.anchor.usd_per_month

    @property
    def at_rest(self) -> float:
        """What the stack costs a month with no traffic at all."""
        return sum(line.usd for line in self.lines if line.fixed)

    @property
    def total_without_translation(self) -> float:
        """The like-for-like figure: the anchor has no machine translation."""
        return self.total - self.service_total("Translate")


def _mean(a: OperationUsage, weight_a: float, b: OperationUsage, weight_b: float) -> OperationUsage:
    total = weight_a + weight_b
    names = set(a.requests) | set(b.requests)
    return OperationUsage(
        requests={n: round((a.requests.get(n, 0) * weight_a + b.requests.get(n, 0) * weight_b) / total) for n in names},
        read_units=(a.read_units * weight_a + b.read_units * weight_b) / total,
        write_units=(a.write_units * weight_a + b.write_units * weight_b) / total,
        log_bytes=round((a.log_bytes * weight_a + b.log_bytes * weight_b) / total),
        seconds=(a.seconds * weight_a + b.seconds * weight_b) / total,
    )


def _sum(usages: list[OperationUsage]) -> tuple[float, float, float, float]:
    """(read units, write units, log bytes, seconds) of several invocations together."""
    return (
        sum(u.read_units for u in usages),
        sum(u.write_units for u in usages),
        sum(u.log_bytes for u in usages),
        sum(u.seconds for u in usages),
    )


def bill(
    measured: Measurements,
    assumptions: Assumptions,
    prices: Mapping[str, Price],
    memory_mb: Mapping[str, int],
    *,
    region: str,
    anchor: Anchor,
) -> Bill:
    """The month's bill. ``memory_mb``: each function's memory ("api", "stream", "inbound_mail")."""
    a = assumptions
    messages = a.messages
    by_mail = messages * a.inbound_mail_share
    by_api = messages - by_mail
    new_share = 1 / a.messages_per_thread if a.messages_per_thread > 0 else 1.0
    send = _mean(measured.new_conversation, new_share, measured.write_in_thread, 1 - new_share)
    opening = list(measured.read_calls.values())
    app_open = [measured.read_calls[name] for name in ("badge", "list threads") if name in measured.read_calls]
    openings = messages * a.reads_per_message
    app_opens = a.users * a.app_opens_per_user
    attachments = messages * a.attachment_share

    # API function: sends, openings (one invocation per call), app opens, attachments (declare + upload).
    open_reads, open_writes, open_logs, open_seconds = _sum(opening)
    app_reads, app_writes, app_logs, app_seconds = _sum(app_open)
    api_calls = by_api + openings * len(opening) + app_opens * len(app_open) + attachments * 2
    api_seconds = (
        by_api * send.seconds + openings * open_seconds + app_opens * app_seconds + attachments * 2 * send.seconds
    )
    api_logs = by_api * send.log_bytes + openings * open_logs + app_opens * app_logs
    # Inbound mail function: stores the message like a send (its DynamoDB work and time), plus
    # reading the raw mail; one invocation per e-mail.
    inbound_seconds = by_mail * send.seconds
    # Stream function: one invocation per message (a batch holds one message at this rate).
    stream_calls = messages
    stream_seconds = messages * measured.notify.seconds

    read_units = (
        messages * send.read_units
        + openings * open_reads
        + app_opens * app_reads
        + messages * measured.notify.read_units
        + attachments * 1
    )
    write_units = (
        (messages * send.write_units + openings * open_writes + app_opens * app_writes)
        + messages * measured.notify.write_units
        + attachments * 2
    )
    stored_gb = messages * (measured.stored_bytes_per_message + ITEMS_PER_MESSAGE * ITEM_OVERHEAD_BYTES) / GB

    def price(name: str) -> float:
        return prices[name].usd

    def gb_seconds(seconds: float, function: str) -> float:
        return seconds * memory_mb[function] / 1024

    lambda_gb_s = gb_seconds(api_seconds, "api") + gb_seconds(stream_seconds, "stream")
    lambda_gb_s += gb_seconds(inbound_seconds, "inbound_mail")
    invocations = api_calls + stream_calls + by_mail
    log_gb = (api_logs + messages * measured.notify.log_bytes + by_mail * send.log_bytes) / GB
    log_gb += invocations * PLATFORM_LOG_BYTES / GB
    emails = messages * a.email_share * measured.notify.count("ses", "SendRawEmail", "SendEmail")
    pushes = messages * a.devices_per_user * measured.notify.count("sns", "Publish")
    characters = messages * a.translation_share * a.message_chars
    ws_minutes = a.users * a.online_minutes_per_day * DAYS_PER_MONTH
    ws_messages = messages * 2 + openings  # a new message to both sides, a read receipt per opening
    # Live events: one per message to each side, one per opening (read change; receipt to the author).
    live_events = messages * 2 + openings * 2
    secret_calls = a.warm_containers * SECONDS_PER_MONTH_HOURS * 2  # stream and inbound-mail functions
    s3_gb = (attachments * a.attachment_kb + by_mail * a.mail_kb) * 1024 / GB
    chunks = by_mail * max(math.ceil(a.mail_kb / 256), 1)
    s3_requests = attachments * 2 + by_mail

    rows = [
        ("DynamoDB", "write request units (tables and indexes)", write_units, "WRU", "dynamodb_write_unit", True),
        ("DynamoDB", "read request units", read_units, "RRU", "dynamodb_read_unit", True),
        ("DynamoDB", "storage of the month's messages", stored_gb, "GB-month", "dynamodb_storage_gb_month", True),
        ("DynamoDB", "point-in-time recovery of it", stored_gb, "GB-month", "dynamodb_pitr_gb_month", True),
        ("DynamoDB", "stream records read by the stream function", messages * 2, "records", _STREAM_READ, True),
        ("Lambda", "requests", invocations, "requests", "lambda_request", True),
        ("Lambda", "duration (arm64, memory × measured time)", lambda_gb_s, "GB-s", "lambda_arm_gb_second", True),
        ("API Gateway", "HTTP API requests", api_calls, "requests", "http_api_request", True),
        ("API Gateway", "WebSocket messages", ws_messages, "messages", "websocket_message", False),
        ("API Gateway", "WebSocket connection minutes", ws_minutes, "minutes", "websocket_connection_minute", False),
        ("SES", "e-mail copies sent", emails, "e-mails", "ses_outbound_message", True),
        ("SES", "e-mails received", by_mail, "e-mails", "ses_inbound_message", False),
        ("SES", "received mail chunks (256 KB)", chunks, "chunks", "ses_inbound_chunk", False),
        ("SNS", "mobile pushes", pushes, "pushes", "sns_mobile_push", True),
        ("S3", "attachments and raw mail stored", s3_gb, "GB-month", "s3_storage_gb_month", False),
        ("S3", "PUT/COPY (upload, keep; raw mail)", s3_requests, "requests", "s3_put_request", False),
        ("S3", "GET (check, download; raw mail)", s3_requests, "requests", "s3_get_request", False),
        ("CloudWatch Logs", "log data ingested", log_gb, "GB", "logs_ingested_gb", True),
        (
            "DynamoDB",
            "live events: feed entries and deliveries",
            live_events * LIVE_EVENT_WRITE_UNITS,
            "WRU",
            "dynamodb_write_unit",
            False,
        ),
        ("Lambda", "live-events function requests", messages + openings, "requests", "lambda_request", False),
        ("WAF", "requests inspected (API calls through CloudFront)", api_calls, "requests", "waf_request", False),
        ("X-Ray", "traces recorded", invocations * a.xray_sampling, "traces", "xray_trace_recorded", False),
        ("Secrets Manager", "mail token key", 1, "secrets", "secret_month", False),
        ("Secrets Manager", "GetSecretValue (hourly, per container)", secret_calls, "calls", "secrets_api_call", False),
        ("KMS", "customer managed keys (none: AWS managed keys)", 0, "keys", "kms_key_month", False),
        ("Translate", "characters auto-translated", characters, "characters", "translate_character", False),
    ]
    fixed_rows = [
        ("WAF", "web ACL (at rest)", 1, "web ACLs", "waf_web_acl_month"),
        ("WAF", "rules (at rest)", a.waf_rules, "rules", "waf_rule_month"),
        ("CloudWatch", "dashboard (at rest)", 1, "dashboards", "cloudwatch_dashboard_month"),
        ("CloudWatch", "alarms (at rest)", a.alarms, "alarms", "cloudwatch_alarm_month"),
    ]
    lines = tuple(
        Line(service, what, quantity, unit, quantity * price(name), measured)
        for service, what, quantity, unit, name, measured in rows
    ) + tuple(
        Line(service, what, quantity, unit, quantity * price(name), False, fixed=True)
        for service, what, quantity, unit, name in fixed_rows
    )
    return Bill(region=region, assumptions=a, lines=lines, anchor=anchor)


def _quantity(value: float) -> str:
    if value == 0:
        return "0"
    if value < 10:
        return f"{value:.3g}"
    return f"{value:,.0f}"


def render(bill: Bill, measured: Measurements) -> str:
    """The bill as Markdown: the lines, the total beside the anchor, the assumptions, the inputs."""
    a = bill.assumptions
    lines = [
        f"Monthly bill, {bill.region}: {a.users:,} users × {a.messages_per_user:g} messages = "
        f"{a.messages:,.0f} messages (prices read {PRICES_READ_ON}, local_runtime/aws_prices.py; no free tier)",
        "",
        "| service | what | quantity | unit | USD / month | from |",
        "| --- | --- | ---: | --- | ---: | --- |",
    ]
    for line in bill.lines:
        source = "measured" if line.measured else "assumed"
        lines.append(
            f"| {line.service} | {line.what} | {_quantity(line.quantity)} | {line.unit} | {line.usd:,.2f} | {source} |"
        )
    anchor = bill.anchor
    goal = anchor.usd_per_month * 0.10
    without = bill.total_without_translation
    lines += [
        f"| **total** | | | | **{bill.total:,.2f}** | |",
        f"| total without translation (the anchor has none) | | | | {without:,.2f} | |",
        f"| of which at rest (no traffic: WAF, dashboard, alarms; plus the mail key above) | | | | "
        f"{bill.at_rest:,.2f} | |",
        f"| {anchor.name} ({anchor.monthly_active_users:,} monthly active users, {anchor.source}) | | | | "
        f"{anchor.usd_per_month:,.2f} | |",
        "",
        f"{bill.total / anchor.usd_per_month:.1%} of {anchor.name} ({without / anchor.usd_per_month:.1%} without "
        f"translation); goal: at most 10 % (${goal:,.2f}): "
        f"{'met' if bill.total <= goal else 'met without translation' if without <= goal else 'not met'}.",
        "",
        "Assumptions (flags of `message-center cost`):",
        "",
        *(f"- `{flag}` {value:g}: {meaning}" for flag, meaning, value in a.described()),
        "",
        "Measured on the emulator, per invocation (requests; read/write request units; log bytes; ms):",
        "",
    ]
    named = {
        "write in thread": measured.write_in_thread,
        "new conversation": measured.new_conversation,
        **{f"open a thread: {name}": usage for name, usage in measured.read_calls.items()},
        "notify (stream function)": measured.notify,
    }
    for name, usage in named.items():
        requests = ", ".join(f"{op} {n}" for op, n in sorted(usage.requests.items()))
        lines.append(
            f"- {name}: {requests}; {usage.read_units:g} RRU / {usage.write_units:g} WRU; "
            f"{usage.log_bytes} B; {usage.seconds * 1000:.0f} ms"
        )
    lines.append(f"- a message stores {measured.stored_bytes_per_message} bytes (both copies and its ref)")
    return "\n".join(lines)
