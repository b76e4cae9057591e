"""A local SMTP server standing in for SES e-mail receiving on the relay domain.

Like the deployed receipt rule (S3 action, then Lambda action with ``InvocationType=Event``):

- it listens on ``host:port`` (the CLI's ``--smtp-port``, default 2525; 0: any free port) and
  accepts mail only for recipients in the relay domain (others: ``550``), up to SES's 40 MB;
- it stores the raw message, with a ``Return-Path: <envelope sender>`` and a ``Received:`` header
  prepended as SES does, in the inbound mail bucket under ``inbound/<SES-like message id>``;
- it answers ``250`` once the message is stored, and then, in a worker thread, invokes the inbound
  mail handler with a real-shaped SES receipt event (``ses_event``); a handler that raises is
  retried twice, like Lambda retries an asynchronous invocation (sooner here: seconds, not minutes).

Verdicts are all ``PASS``. To simulate others, add a header to the mail, with any subset of::

    X-Local-Verdicts: spam=FAIL, virus=FAIL, spf=FAIL, dkim=FAIL, dmarc=FAIL, dmarcPolicy=reject

(statuses ``PASS``, ``FAIL``, ``GRAY``, ``PROCESSING_FAILED``; ``dmarcPolicy`` ``none``,
``quarantine`` or ``reject``, which SES only reports when DMARC fails). The header stays in the
stored message. An unreadable value refuses the mail with ``554`` and says why.

Logs name message ids, sizes and counts, never addresses or contents.
"""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
import string
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy
from email.message import Message
from email.parser import BytesHeaderParser
from email.utils import format_datetime, getaddresses
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from message_center.deployment import INBOUND_MAIL, INBOUND_MAIL_FUNCTION

from local_runtime import emulator
from local_runtime.gateway import ACCOUNT_ID, LambdaHandler, LocalLambdaContext

_logger = logging.getLogger(__name__)

DEFAULT_SMTP_PORT = 2525
DEFAULT_INBOUND_MAIL_HANDLER = "functions.inbound_mail.handler:lambda_handler"
FUNCTION_NAME = INBOUND_MAIL_FUNCTION.name
FUNCTION_TIMEOUT_SECONDS = float(INBOUND_MAIL_FUNCTION.timeout_seconds)
FUNCTION_MEMORY_MB = INBOUND_MAIL_FUNCTION.memory_mb
MAX_MESSAGE_BYTES = INBOUND_MAIL.max_message_bytes
VERDICTS_HEADER = "X-Local-Verdicts"
VERDICT_NAMES = ("spam", "virus", "spf", "dkim", "dmarc")
VERDICT_STATUSES = frozenset({"PASS", "FAIL", "GRAY", "PROCESSING_FAILED"})
DMARC_POLICIES = frozenset({"none", "quarantine", "reject"})
# Lambda retries a failed asynchronous invocation twice (after about 1 and 2 minutes).
RETRY_DELAYS_SECONDS: tuple[float, ...] = (1.0, 2.0)
_MESSAGE_ID_ALPHABET = string.ascii_lowercase + string.digits
_MESSAGE_ID_LENGTH = 40
_MAX_RECORDED_DELIVERIES = 1000


# --- pure parts: ids, verdicts, headers, the event ----------------------------------------------


def ses_message_id() -> str:
    """A fresh id shaped like SES's for received mail (40 lowercase letters and digits)."""
    return "".join(secrets.choice(_MESSAGE_ID_ALPHABET) for _ in range(_MESSAGE_ID_LENGTH))


class VerdictHeaderError(ValueError):
    """The ``X-Local-Verdicts`` header cannot be read."""


@dataclass(frozen=True)
class Verdicts:
    """The receipt's verdicts: ``statuses`` by name (spam, virus, spf, dkim, dmarc)."""

    statuses: Mapping[str, str] = field(default_factory=lambda: dict.fromkeys(VERDICT_NAMES, "PASS"))
    dmarc_policy: str | None = None


def parse_verdicts(values: str | Iterable[str] | None) -> Verdicts:
    """The verdicts an ``X-Local-Verdicts`` header (or several: applied in order) asks for.

    Items are ``name=value``, separated by commas or semicolons; names and values are
    case-insensitive. Absent names stay ``PASS``. Raises ``VerdictHeaderError`` on anything else.
    """
    if values is None:
        values = []
    elif isinstance(values, str):
        values = [values]
    statuses = dict.fromkeys(VERDICT_NAMES, "PASS")
    dmarc_policy: str | None = None
    for value in values:
        for part in re.split(r"[,;]", value):
            item = part.strip()
            if not item:
                continue
            name, equals, setting = (part.strip() for part in item.partition("="))
            if not equals or not setting:
                raise VerdictHeaderError(f"{VERDICTS_HEADER}: expected name=value, got {item[:40]!r}")
            key = name.lower().removesuffix("verdict")
            if key == "dmarcpolicy":
                if setting.lower() not in DMARC_POLICIES:
                    raise VerdictHeaderError(
                        f"{VERDICTS_HEADER}: dmarcPolicy must be one of {', '.join(sorted(DMARC_POLICIES))}"
                    )
                dmarc_policy = setting.lower()
            elif key in statuses:
                status = setting.upper()
                if status not in VERDICT_STATUSES:
                    raise VerdictHeaderError(
                        f"{VERDICTS_HEADER}: {key} must be one of {', '.join(sorted(VERDICT_STATUSES))}"
                    )
                statuses[key] = status
            else:
                raise VerdictHeaderError(
                    f"{VERDICTS_HEADER}: unknown verdict {name[:40]!r} (known: {', '.join(VERDICT_NAMES)}, dmarcPolicy)"
                )
    return Verdicts(statuses, dmarc_policy)


def _smtp_date(moment: datetime) -> str:
    return format_datetime(moment.astimezone(UTC)) + " (UTC)"


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def received_header(*, helo: str, peer_ip: str, message_id: str, recipient: str, region: str, now: datetime) -> str:
    """The ``Received:`` value SES's inbound endpoint adds."""
    helo = _header_safe(helo) or "unknown"
    return (
        f"from {helo} ({helo} [{_header_safe(peer_ip)}]) by inbound-smtp.{region}.amazonaws.com "
        f"with SMTP id {message_id} for {_header_safe(recipient)}; {_smtp_date(now)}"
    )


def _header_safe(value: str) -> str:
    return re.sub(r"[\r\n]+", " ", value).strip()


def stored_message(raw: bytes, *, mail_from: str, received: str) -> bytes:
    """The message as SES's S3 action stores it: Return-Path and Received prepended."""
    prefix = f"Return-Path: <{_header_safe(mail_from)}>\r\nReceived: {received}\r\n"
    return prefix.encode("utf-8") + raw


def _header_block(raw: bytes) -> Message:
    return BytesHeaderParser(policy=policy.compat32).parsebytes(raw)


def _text(value: Any) -> str:
    """A header value as received (undecoded), unfolded, valid Unicode."""
    text = str(value)
    text = text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return re.sub(r"\r?\n(?=[ \t])", "", text).strip()


def _decoded(value: str) -> str:
    """An unstructured header value with its encoded words decoded (commonHeaders' subject)."""
    try:
        return str(policy.default.header_factory("subject", value))
    except Exception:  # hostile header: the raw text will do
        return value


def _addresses(values: Sequence[str]) -> list[str]:
    """The addresses in address header values, one string each (``Name <local@domain>``)."""
    found: list[str] = []
    for value in values:
        try:
            header = policy.default.header_factory("to", value)
            found.extend(str(address) for address in header.addresses)
        except Exception:
            found.extend(address for _, address in getaddresses([value]) if address)
    return found


def verdicts_requested(raw: bytes) -> Verdicts:
    """The verdicts the message's ``X-Local-Verdicts`` headers ask for (all PASS without one)."""
    values = _header_block(raw).get_all(VERDICTS_HEADER) or []
    return parse_verdicts([_text(value) for value in values])


def ses_event(
    stored: bytes,
    *,
    message_id: str,
    source: str,
    destination: Sequence[str],
    recipients: Sequence[str],
    verdicts: Verdicts,
    function_arn: str,
    timestamp: datetime,
    processing_time_ms: int,
) -> dict[str, Any]:
    """The event SES's Lambda action delivers for ``stored`` (the message as stored in S3).

    ``source`` and ``destination`` are the envelope's; ``recipients`` the envelope recipients the
    receipt rule matched. ``commonHeaders`` carries only the headers present (``from`` and
    ``returnPath`` always), with the subject's and display names' encoded words decoded.
    """
    headers = _header_block(stored)
    pairs = [{"name": name, "value": _text(value)} for name, value in headers.items()]

    def values(name: str) -> list[str]:
        return [_text(value) for value in headers.get_all(name) or []]

    common: dict[str, Any] = {
        "returnPath": source,
        "from": _addresses(values("From")),
    }
    if date := values("Date"):
        common["date"] = date[0]
    for key, name in (("to", "To"), ("cc", "Cc"), ("bcc", "Bcc"), ("sender", "Sender"), ("reply-to", "Reply-To")):
        if found := values(name):
            common[key] = _addresses(found)
    if message_ids := values("Message-ID"):
        common["messageId"] = message_ids[0]
    if subjects := values("Subject"):
        common["subject"] = _decoded(subjects[0])
    receipt: dict[str, Any] = {
        "timestamp": _iso(timestamp),
        "processingTimeMillis": processing_time_ms,
        "recipients": list(recipients),
        **{f"{name}Verdict": {"status": verdicts.statuses[name]} for name in VERDICT_NAMES},
    }
    if verdicts.dmarc_policy is not None:
        receipt["dmarcPolicy"] = verdicts.dmarc_policy
    receipt["action"] = {"type": "Lambda", "functionArn": function_arn, "invocationType": "Event"}
    return {
        "Records": [
            {
                "eventSource": "aws:ses",
                "eventVersion": "1.0",
                "ses": {
                    "mail": {
                        "timestamp": _iso(timestamp),
                        "source": source,
                        "messageId": message_id,
                        "destination": list(destination),
                        "headersTruncated": False,
                        "headers": pairs,
                        "commonHeaders": common,
                    },
                    "receipt": receipt,
                },
            }
        ]
    }


def function_arn(region: str, function_name: str = FUNCTION_NAME) -> str:
    return f"arn:aws:lambda:{region}:{ACCOUNT_ID}:function:{function_name}"


# --- the server ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class InboundDelivery:
    """What became of one received message (no addresses, no contents)."""

    message_id: str
    key: str
    attempts: int
    delivered: bool
    # The exception type of the last failed attempt.
    error: str | None = None


@dataclass
class _Pending:
    message_id: str
    key: str
    event: dict[str, Any]


class _Controller(Controller):
    """aiosmtpd's threaded controller, able to bind port 0 (it connects to its own port once)."""

    def _trigger_server(self) -> None:
        sockets = getattr(self.server, "sockets", None)  # an asyncio.Server
        if sockets:
            self.port = sockets[0].getsockname()[1]
        super()._trigger_server()


class LocalSmtpServer:
    """Receives mail for ``relay_domain`` on ``host:port`` into ``bucket`` and hands it to
    ``handler`` like SES (see the module docstring). ``handler`` None: mail is stored only.

    ``invoke_lock`` serialises the invocations with other functions' running in this process;
    ``after_delivery`` runs after each message's invocations (the outbox collects what was sent).
    """

    def __init__(
        self,
        endpoint_url: str,
        region: str,
        bucket: str,
        relay_domain: str,
        handler: LambdaHandler | None,
        *,
        host: str = "127.0.0.1",
        port: int = DEFAULT_SMTP_PORT,
        prefix: str = emulator.INBOUND_MAIL_PREFIX,
        max_message_bytes: int = MAX_MESSAGE_BYTES,
        retry_delays: Sequence[float] = RETRY_DELAYS_SECONDS,
        function_name: str = FUNCTION_NAME,
        invoke_lock: threading.Lock | None = None,
        after_delivery: Callable[[], object] | None = None,
    ) -> None:
        self._region = region
        self._bucket = bucket
        self._prefix = prefix
        self._relay_domain = relay_domain.lower()
        self.handler = handler
        self._host = host
        self._port = port
        self._max_message_bytes = max_message_bytes
        self._retry_delays = tuple(retry_delays)
        self._function_name = function_name
        self._function_arn = function_arn(region, function_name)
        self._invoke_lock = invoke_lock or threading.Lock()
        self._after_delivery = after_delivery
        self._s3 = emulator.s3_client(endpoint_url, region)
        self._controller: _Controller | None = None
        self._queue: deque[_Pending] = deque()
        self._condition = threading.Condition()
        self._busy = False
        self._stopping = threading.Event()
        self._worker: threading.Thread | None = None
        self._deliveries: list[InboundDelivery] = []

    @property
    def port(self) -> int:
        if self._controller is None:
            raise RuntimeError("the SMTP server is not running")
        return int(self._controller.port)

    @property
    def deliveries(self) -> list[InboundDelivery]:
        """Each received message's fate, oldest first."""
        with self._condition:
            return list(self._deliveries)

    def start(self) -> int:
        """Listen (``OSError`` when the port is taken) and start the worker; return the port."""
        if self._port:
            emulator._ensure_free(self._host, self._port)
        self._stopping.clear()
        self._worker = threading.Thread(target=self._work, name="smtp-inbound-worker", daemon=True)
        self._worker.start()
        controller = _Controller(
            _SmtpHooks(self),
            hostname=self._host,
            port=self._port,
            data_size_limit=self._max_message_bytes,
            server_hostname=f"inbound-smtp.{self._region}.amazonaws.com",
            ident="Message Center local SMTP (SES receiving stand-in)",
        )
        controller.start()
        self._controller = controller
        return self.port

    def stop(self, timeout: float = 10.0) -> None:
        """Stop listening; a message waiting for a retry is abandoned (idempotent)."""
        if self._controller is not None:
            self._controller.stop(no_assert=True)
            self._controller = None
        self._stopping.set()
        with self._condition:
            self._condition.notify_all()
        if self._worker is not None:
            self._worker.join(timeout=timeout)
            if self._worker.is_alive():
                _logger.warning("the inbound mail worker did not stop within %.0f s", timeout)
            self._worker = None

    def wait_until_idle(self, timeout: float = 10.0) -> bool:
        """Wait until every received message has been handed to the handler (and retried)."""
        with self._condition:
            return self._condition.wait_for(lambda: not self._queue and not self._busy, timeout=timeout)

    # -- SMTP side (the event loop's thread) --

    def accepts(self, address: str) -> bool:
        domain = address.rpartition("@")[2].lower()
        return bool(address.partition("@")[0]) and domain == self._relay_domain

    @property
    def relay_domain(self) -> str:
        return self._relay_domain

    def receive(self, envelope: Envelope, session: Session, started: float) -> str:
        """Store one message and queue its invocation; return the SMTP reply."""
        raw = envelope.content if isinstance(envelope.content, bytes) else bytes(envelope.original_content or b"")
        try:
            verdicts = verdicts_requested(raw)
        except VerdictHeaderError as error:
            return f"554 5.6.0 {error}"
        message_id = ses_message_id()
        now = datetime.now(UTC)
        recipients = [str(address) for address in envelope.rcpt_tos]
        source = str(envelope.mail_from or "")
        peer = session.peer[0] if isinstance(session.peer, tuple) else str(session.peer or "")
        stored = stored_message(
            raw,
            mail_from=source,
            received=received_header(
                helo=str(session.host_name or ""),
                peer_ip=str(peer),
                message_id=message_id,
                recipient=recipients[0] if recipients else "",
                region=self._region,
                now=now,
            ),
        )
        key = f"{self._prefix}{message_id}"
        self._s3.put_object(Bucket=self._bucket, Key=key, Body=stored)
        event = ses_event(
            stored,
            message_id=message_id,
            source=source,
            destination=recipients,
            recipients=recipients,
            verdicts=verdicts,
            function_arn=self._function_arn,
            timestamp=now,
            processing_time_ms=int((time.monotonic() - started) * 1000),
        )
        _logger.info(
            "received mail %s (%d bytes, %d recipient(s)); stored as s3://%s/%s",
            message_id,
            len(stored),
            len(recipients),
            self._bucket,
            key,
        )
        with self._condition:
            self._queue.append(_Pending(message_id, key, event))
            self._condition.notify_all()
        return f"250 2.0.0 Ok {message_id}"

    # -- the worker: SES's asynchronous Lambda invocation --

    def _work(self) -> None:
        while True:
            with self._condition:
                self._condition.wait_for(lambda: self._queue or self._stopping.is_set())
                if self._stopping.is_set():
                    if self._queue:
                        _logger.info("SMTP server stopping: %d message(s) not handed over", len(self._queue))
                    return
                pending = self._queue.popleft()
                self._busy = True
            try:
                delivery = self._deliver(pending)
                with self._condition:
                    self._deliveries.append(delivery)
                    del self._deliveries[:-_MAX_RECORDED_DELIVERIES]
                if self._after_delivery is not None:
                    try:
                        self._after_delivery()
                    except Exception:
                        _logger.warning("after-delivery hook failed", exc_info=True)
            finally:
                with self._condition:
                    self._busy = False
                    self._condition.notify_all()

    def _deliver(self, pending: _Pending) -> InboundDelivery:
        handler = self.handler
        if handler is None:
            _logger.warning("no inbound mail handler: mail %s is stored only", pending.message_id)
            return InboundDelivery(pending.message_id, pending.key, 0, False, None)
        attempts = 0
        error: str | None = None
        for delay in (0.0, *self._retry_delays):
            if delay and self._stopping.wait(delay):
                break
            attempts += 1
            context = LocalLambdaContext(
                aws_request_id=str(uuid.uuid4()),
                function_name=self._function_name,
                invoked_function_arn=self._function_arn,
                timeout_seconds=FUNCTION_TIMEOUT_SECONDS,
                memory_limit_in_mb=FUNCTION_MEMORY_MB,
                log_group_name=f"/aws/lambda/{self._function_name}",
            )
            try:
                with self._invoke_lock:
                    handler(pending.event, context)
            except Exception as exception:  # Lambda retries an asynchronous invocation that fails
                error = type(exception).__name__
                _logger.warning(
                    "inbound mail handler raised %s on mail %s (attempt %d of %d)",
                    error,
                    pending.message_id,
                    attempts,
                    1 + len(self._retry_delays),
                    exc_info=attempts == 1,
                )
                continue
            _logger.info("inbound mail %s handled (attempt %d)", pending.message_id, attempts)
            return InboundDelivery(pending.message_id, pending.key, attempts, True)
        _logger.warning(
            "inbound mail %s given up after %d attempt(s) (the deployed function's dead-letter queue "
            "would get it); the raw mail stays in s3://%s/%s",
            pending.message_id,
            attempts,
            self._bucket,
            pending.key,
        )
        return InboundDelivery(pending.message_id, pending.key, attempts, False, error)


class _SmtpHooks:
    """aiosmtpd handler hooks of ``LocalSmtpServer``."""

    def __init__(self, server: LocalSmtpServer) -> None:
        self._server = server

    async def handle_RCPT(  # aiosmtpd's hook name
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        if not self._server.accepts(address):
            return f"550 5.1.1 Recipient rejected: this server accepts mail for @{self._server.relay_domain} only"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 Ok"

    async def handle_DATA(  # aiosmtpd's hook name
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        started = time.monotonic()
        try:
            return await asyncio.to_thread(self._server.receive, envelope, session, started)
        except Exception as error:
            _logger.warning("cannot store received mail: %s", type(error).__name__, exc_info=True)
            return "451 4.3.0 Cannot store the message now; try again later"
