"""The table's DynamoDB stream → the stream handler, like the deployed Lambda event source mapping.

A background thread reads the main table's stream from the emulator (``DescribeTable`` →
``LatestStreamArn``; ``DescribeStream`` → shards; ``GetShardIterator``: ``LATEST`` for the shards
open at start, ``TRIM_HORIZON`` for shards that appear later; ``GetRecords`` every 200 ms, following
``NextShardIterator``), keeps the records the deployed mapping's filter criteria keep (``INSERT`` of
an item whose ``pk`` starts with ``MBOX#``: a new message copy), and invokes the stream handler with
``{"Records": [...]}`` batches of up to 25 records shaped as Lambda delivers them.

Failures are handled as by a mapping with ``ReportBatchItemFailures``: the handler may answer
``{"batchItemFailures": [{"itemIdentifier": "<SequenceNumber>"}]}``; the batch is then retried from
the lowest failed sequence number (that record and every later one of the batch), after a short
backoff, while the shard waits. An exception, or a malformed failure report, fails the whole batch.
After ``max_retries`` retries the remaining records go to the "on-failure destination": a warning
naming their sequence numbers (never their contents) and an entry in ``dead_letters`` shaped like
Lambda's on-failure record for stream sources, plus the records' keys. Not emulated: bisecting a
batch on error, the maximum record age and the batching window (batches are cut per poll).
"""

from __future__ import annotations

import base64
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from message_center.deployment import STREAM_FUNCTION, STREAM_SOURCE

from local_runtime import emulator
from local_runtime.gateway import ACCOUNT_ID, LambdaHandler, LocalLambdaContext

_logger = logging.getLogger(__name__)

DEFAULT_STREAM_HANDLER = "functions.stream.handler:lambda_handler"
FUNCTION_NAME = STREAM_FUNCTION.name
# The deployed event source mapping's settings, the very object infra/ reads.
SOURCE = STREAM_SOURCE
BATCH_SIZE = SOURCE.batch_size
POLL_INTERVAL_SECONDS = 0.2
MAX_RETRY_ATTEMPTS = SOURCE.retry_attempts
RETRY_BACKOFF_SECONDS = 0.2  # doubled per retry ...
RETRY_BACKOFF_CAP_SECONDS = 2.0  # ... up to this
# The deployed mapping's filter criteria (Lambda event filtering syntax): only new message copies.
FILTER_PATTERNS: tuple[Mapping[str, Any], ...] = (SOURCE.filter_pattern,)
# GetRecords page size (the service's maximum); batches are cut from it.
_RECORDS_PER_READ = 1000
# Shards are looked up again this often (in polls), and at once when one closes.
_DISCOVER_EVERY_POLLS = 25
# Emulator housekeeping (see emulator.housekeeping) this often (in polls).
_HOUSEKEEPING_EVERY_POLLS = 10
_MAX_DEAD_LETTERS = 1000
_RESTART_CODES = frozenset({"ResourceNotFoundException", "ExpiredIteratorException", "TrimmedDataAccessException"})

StreamRecord = dict[str, Any]
Invoke = Callable[[dict[str, Any]], Any]


# --- filter criteria ----------------------------------------------------------------------------


def matches_any(patterns: Iterable[Mapping[str, Any]], record: Mapping[str, Any]) -> bool:
    """True when ``record`` matches one of the Lambda event filter ``patterns`` (they are OR-ed)."""
    return any(matches(pattern, record) for pattern in patterns)


def matches(pattern: Mapping[str, Any], record: Mapping[str, Any]) -> bool:
    """Lambda event filtering, for the subset a stream filter needs.

    A pattern mirrors the record's structure; every key must match (AND). A leaf is a list of
    accepted values (OR): an exact string/number/bool/null, ``{"prefix": ...}``,
    ``{"suffix": ...}``, ``{"exists": true|false}`` or ``{"anything-but": value-or-list}``.
    """
    for key, expected in pattern.items():
        present = key in record
        value = record.get(key)
        if isinstance(expected, Mapping):
            if not present or not isinstance(value, Mapping) or not matches(expected, value):
                return False
        elif isinstance(expected, list):
            if not any(_condition_holds(condition, present, value) for condition in expected):
                return False
        else:
            raise ValueError(f"filter pattern values must be objects or lists, got {expected!r} for {key!r}")
    return True


def _condition_holds(condition: Any, present: bool, value: Any) -> bool:
    if isinstance(condition, Mapping):
        if len(condition) != 1:
            raise ValueError(f"unsupported filter condition {condition!r}")
        ((operator, operand),) = condition.items()
        if operator == "exists":
            return present is bool(operand)
        if not present:
            return False
        values = value if isinstance(value, list) else [value]
        if operator == "prefix":
            return any(isinstance(item, str) and item.startswith(operand) for item in values)
        if operator == "suffix":
            return any(isinstance(item, str) and item.endswith(operand) for item in values)
        if operator == "anything-but":
            excluded = operand if isinstance(operand, list) else [operand]
            return all(item not in excluded for item in values)
        raise ValueError(f"unsupported filter operator {operator!r}")
    if not present:
        return False
    values = value if isinstance(value, list) else [value]
    return condition in values


# --- records and batches ------------------------------------------------------------------------


def lambda_record(record: Mapping[str, Any], *, region: str, stream_arn: str) -> StreamRecord:
    """A ``GetRecords`` record (as boto3 parses it) in the shape Lambda delivers it.

    Lambda adds ``eventSourceARN``; the creation time is epoch seconds; binary attributes are
    base64 text, as on the wire. moto's ``awsRegion`` (always us-east-1) and ``eventVersion`` (1.0)
    are replaced by the stream's region and the service's 1.1.
    """
    change = record["dynamodb"]
    dynamodb: dict[str, Any] = {}
    created = change.get("ApproximateCreationDateTime")
    if created is not None:
        seconds = created.timestamp() if isinstance(created, datetime) else float(created)
        dynamodb["ApproximateCreationDateTime"] = float(int(seconds))
    for name in ("Keys", "NewImage", "OldImage"):
        if name in change:
            dynamodb[name] = {attribute: _wire_value(value) for attribute, value in change[name].items()}
    for name in ("SequenceNumber", "SizeBytes", "StreamViewType"):
        if name in change:
            dynamodb[name] = change[name]
    shaped: StreamRecord = {
        "eventID": record["eventID"],
        "eventName": record["eventName"],
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": region,
        "dynamodb": dynamodb,
        "eventSourceARN": stream_arn,
    }
    if "userIdentity" in record:  # TTL deletions
        shaped["userIdentity"] = record["userIdentity"]
    return shaped


def _wire_value(value: Mapping[str, Any]) -> dict[str, Any]:
    """A DynamoDB attribute value as JSON carries it (boto3 decodes B/BS to bytes)."""
    ((kind, content),) = value.items()
    if kind == "B":
        return {"B": _base64(content)}
    if kind == "BS":
        return {"BS": [_base64(item) for item in content]}
    if kind == "M":
        return {"M": {name: _wire_value(item) for name, item in content.items()}}
    if kind == "L":
        return {"L": [_wire_value(item) for item in content]}
    return {kind: content}


def _base64(content: bytes | str) -> str:
    return content if isinstance(content, str) else base64.b64encode(content).decode("ascii")


def batches(records: Sequence[StreamRecord], size: int = BATCH_SIZE) -> list[list[StreamRecord]]:
    """``records`` in order, cut into batches of at most ``size``."""
    if size < 1:
        raise ValueError("batch size must be at least 1")
    return [list(records[start : start + size]) for start in range(0, len(records), size)]


def sequence_number(record: Mapping[str, Any]) -> str:
    return str(record["dynamodb"]["SequenceNumber"])


def retry_from(response: Any, batch: Sequence[StreamRecord]) -> int | None:
    """Where Lambda resumes after this response: the index in ``batch`` of the record with the
    lowest failed sequence number, 0 when the report is malformed, or None for a complete success.

    Success: no response, no or an empty ``batchItemFailures``. Complete failure: a failure whose
    ``itemIdentifier`` is missing, empty, not a string or not the sequence number of a record of
    the batch.
    """
    if not isinstance(response, Mapping):
        return None
    failures = response.get("batchItemFailures")
    if not failures:
        return None
    if not isinstance(failures, list):
        return 0
    positions = {sequence_number(record): index for index, record in enumerate(batch)}
    failed: list[int] = []
    for failure in failures:
        identifier = failure.get("itemIdentifier") if isinstance(failure, Mapping) else None
        if not isinstance(identifier, str) or identifier not in positions:
            return 0
        failed.append(positions[identifier])
    return min(failed, key=lambda index: int(sequence_number(batch[index])))


def _sleep(seconds: float) -> bool:
    time.sleep(seconds)
    return True


@dataclass(frozen=True)
class Delivery:
    """What became of one batch."""

    attempts: int
    # The records given up on (the failed record and the rest of the batch after it); empty: delivered.
    failed: list[StreamRecord] = field(default_factory=list)
    # "Unhandled" when the last attempt raised (Lambda's functionError).
    function_error: str | None = None
    # Stopped while waiting to retry: the records were neither delivered nor dead-lettered.
    interrupted: bool = False


def backoff(attempt: int, base: float = RETRY_BACKOFF_SECONDS, cap: float = RETRY_BACKOFF_CAP_SECONDS) -> float:
    """Seconds to wait before retry ``attempt`` (1, 2, ...): doubling from ``base``, at most ``cap``."""
    return float(min(cap, base * 2 ** (attempt - 1)))


def deliver(
    batch: Sequence[StreamRecord],
    invoke: Invoke,
    *,
    max_retries: int = MAX_RETRY_ATTEMPTS,
    delay: Callable[[int], float] = backoff,
    wait: Callable[[float], bool] | None = None,
) -> Delivery:
    """Invoke with ``{"Records": batch}``, retrying from the lowest failed record up to
    ``max_retries`` times. ``wait(seconds)`` sleeps before a retry and returns False to give up
    (the runtime is stopping)."""
    wait = wait or _sleep
    pending = list(batch)
    attempt = 0
    while True:
        attempt += 1
        function_error = None
        try:
            start = retry_from(invoke({"Records": pending}), pending)
        except Exception as error:  # the function failed: Lambda retries the whole batch
            _logger.warning(
                "stream handler raised %s on a batch of %d record(s) (attempt %d)",
                type(error).__name__,
                len(pending),
                attempt,
                exc_info=attempt == 1,  # the traceback once, not on every retry
            )
            start, function_error = 0, "Unhandled"
        if start is None:
            return Delivery(attempt)
        pending = pending[start:]
        if attempt > max_retries:
            return Delivery(attempt, pending, function_error)
        _logger.info(
            "stream batch: %d record(s) failed from sequence number %s; retry %d of %d",
            len(pending),
            sequence_number(pending[0]),
            attempt,
            max_retries,
        )
        if not wait(delay(attempt)):
            return Delivery(attempt, pending, function_error, interrupted=True)


def dead_letter(
    delivery: Delivery,
    *,
    shard_id: str,
    stream_arn: str,
    function_arn: str,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The on-failure destination's record for a batch given up on (Lambda's shape for stream
    sources), plus ``records``: each record's sequence number, event and keys (no item contents)."""
    records = delivery.failed
    created = [record["dynamodb"].get("ApproximateCreationDateTime") for record in records]
    response_context: dict[str, Any] = {"statusCode": 200, "executedVersion": "$LATEST"}
    if delivery.function_error:
        response_context["functionError"] = delivery.function_error
    return {
        "requestContext": {
            "requestId": str(uuid.uuid4()),
            "functionArn": function_arn,
            "condition": "RetryAttemptsExhausted",
            "approximateInvokeCount": delivery.attempts,
        },
        "responseContext": response_context,
        "version": "1.0",
        "timestamp": _iso(now or datetime.now(UTC)),
        "DDBStreamBatchInfo": {
            "shardId": shard_id,
            "startSequenceNumber": sequence_number(records[0]),
            "endSequenceNumber": sequence_number(records[-1]),
            "approximateArrivalOfFirstRecord": _iso_epoch(created[0]),
            "approximateArrivalOfLastRecord": _iso_epoch(created[-1]),
            "batchSize": len(records),
            "streamArn": stream_arn,
        },
        "records": [
            {
                "sequenceNumber": sequence_number(record),
                "eventID": record["eventID"],
                "eventName": record["eventName"],
                "keys": record["dynamodb"].get("Keys", {}),
            }
            for record in records
        ],
    }


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _iso_epoch(seconds: float | None) -> str | None:
    return None if seconds is None else _iso(datetime.fromtimestamp(seconds, UTC))


# --- the poller ---------------------------------------------------------------------------------


@dataclass
class _Shard:
    shard_id: str
    parent_id: str | None
    iterator: str | None


class StreamPoller:
    """Polls the stream of ``table_name`` and feeds ``handler`` in a background thread.

    ``start`` takes the shards' ``LATEST`` positions before it returns: every change made after it
    reaches the handler. ``after_batch`` is called once a batch is done with (the local outbox
    collects what the handler sent); ``housekeeping`` now and then between polls. ``invoke_lock``
    serialises the invocations with other functions' running in this process.
    """

    def __init__(
        self,
        endpoint_url: str,
        region: str,
        table_name: str,
        handler: LambdaHandler,
        *,
        batch_size: int = BATCH_SIZE,
        poll_interval: float = POLL_INTERVAL_SECONDS,
        max_retries: int = MAX_RETRY_ATTEMPTS,
        retry_backoff: float = RETRY_BACKOFF_SECONDS,
        retry_backoff_cap: float = RETRY_BACKOFF_CAP_SECONDS,
        filter_patterns: Sequence[Mapping[str, Any]] = FILTER_PATTERNS,
        function_name: str = FUNCTION_NAME,
        after_batch: Callable[[], object] | None = None,
        housekeeping: Callable[[], object] | None = None,
        invoke_lock: threading.Lock | None = None,
    ) -> None:
        self._region = region
        self._table_name = table_name
        self._handler = handler
        self._batch_size = batch_size
        self._poll_interval = poll_interval
        self._max_retries = max_retries
        self._retry_backoff = retry_backoff
        self._retry_backoff_cap = retry_backoff_cap
        self._filter_patterns = tuple(filter_patterns)
        self._function_name = function_name
        self._function_arn = f"arn:aws:lambda:{region}:{ACCOUNT_ID}:function:{function_name}"
        self._after_batch = after_batch
        self._housekeeping = housekeeping
        self._dynamodb = emulator.client("dynamodb", endpoint_url, region)
        self._streams = emulator.client("dynamodbstreams", endpoint_url, region)
        self._stream_arn = ""
        self._shards: dict[str, _Shard] = {}
        self._finished: set[str] = set()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._invoke_lock = invoke_lock or threading.Lock()
        self._dead_letters: list[dict[str, Any]] = []
        self._invocations = 0
        self._last_error = ""

    @property
    def stream_arn(self) -> str:
        return self._stream_arn

    @property
    def dead_letters(self) -> list[dict[str, Any]]:
        """The batches given up on, oldest first (on-failure destination records)."""
        with self._lock:
            return list(self._dead_letters)

    @property
    def invocations(self) -> int:
        """How many times the handler has been invoked."""
        with self._lock:
            return self._invocations

    def start(self) -> None:
        """Find the stream and its shards (at their latest position), then poll in a daemon thread."""
        self._restart()
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="stream-poller", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop polling; a batch being retried is abandoned (idempotent)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=timeout)
            if self._thread.is_alive():
                _logger.warning("the stream poller did not stop within %.0f s", timeout)
        self._thread = None

    # -- the loop --

    def _run(self) -> None:
        polls = 0
        while not self._stop.is_set():
            polls += 1
            busy = False
            try:
                if polls % _DISCOVER_EVERY_POLLS == 0:
                    self._discover(initial=False)
                busy = self._poll_shards()
                self._last_error = ""
            except ClientError as error:
                code = error.response.get("Error", {}).get("Code", "")
                self._report_error(f"{code}: {error}")
                if code in _RESTART_CODES and not self._stop.is_set():
                    self._try_restart()
            except (BotoCoreError, OSError) as error:  # the emulator is stopping, or briefly unreachable
                self._report_error(str(error))
            except Exception as error:  # never let the thread die: the developer would get no mail
                message = f"{type(error).__name__}: {error}"
                if message != self._last_error and not self._stop.is_set():
                    _logger.exception("the stream poller failed; it keeps polling")
                self._last_error = message
            if self._housekeeping is not None and polls % _HOUSEKEEPING_EVERY_POLLS == 0:
                try:
                    self._housekeeping()
                except Exception:
                    _logger.debug("stream poller housekeeping failed", exc_info=True)
            if not busy:
                self._stop.wait(self._poll_interval)

    def _report_error(self, message: str) -> None:
        if self._stop.is_set():
            return
        if message != self._last_error:  # once per distinct error, not every 200 ms
            _logger.warning("stream poller: %s", message)
        self._last_error = message

    def _try_restart(self) -> None:
        try:
            self._restart()
        except (ClientError, BotoCoreError, OSError, LookupError) as error:
            self._report_error(f"cannot find the stream of {self._table_name}: {error}")

    def _restart(self) -> None:
        """(Re)start at the latest position of the table's current stream."""
        table = self._dynamodb.describe_table(TableName=self._table_name)["Table"]
        stream_arn = table.get("LatestStreamArn")
        if not stream_arn or not table.get("StreamSpecification", {}).get("StreamEnabled", False):
            raise LookupError(f"table {self._table_name} has no stream")
        self._stream_arn = stream_arn
        self._shards = {}
        self._finished = set()
        self._discover(initial=True)

    def _discover(self, *, initial: bool) -> None:
        """Take up shards not seen yet: the open ones at their tip when starting, later ones from
        their beginning (a shard that appears while polling holds only new records)."""
        start_after: str | None = None
        while True:
            arguments: dict[str, Any] = {"StreamArn": self._stream_arn}
            if start_after:
                arguments["ExclusiveStartShardId"] = start_after
            description = self._streams.describe_stream(**arguments)["StreamDescription"]
            for shard in description.get("Shards", []):
                shard_id = shard["ShardId"]
                if shard_id in self._shards or shard_id in self._finished:
                    continue
                closed = "EndingSequenceNumber" in shard.get("SequenceNumberRange", {})
                if initial and closed:
                    self._finished.add(shard_id)
                    continue
                iterator = self._streams.get_shard_iterator(
                    StreamArn=self._stream_arn,
                    ShardId=shard_id,
                    ShardIteratorType="LATEST" if initial else "TRIM_HORIZON",
                )["ShardIterator"]
                self._shards[shard_id] = _Shard(shard_id, shard.get("ParentShardId"), iterator)
            start_after = description.get("LastEvaluatedShardId")
            if not start_after:
                return

    def _poll_shards(self) -> bool:
        """One read of every shard whose parent is done; True when a read returned records."""
        busy = False
        for shard in list(self._shards.values()):
            if self._stop.is_set():
                break
            if shard.parent_id in self._shards:  # children wait for their parent, as in Lambda
                continue
            page = self._streams.get_records(ShardIterator=shard.iterator, Limit=_RECORDS_PER_READ)
            records = page.get("Records", [])
            if records:
                busy = busy or len(records) >= _RECORDS_PER_READ
                self._process(shard.shard_id, records)
            shard.iterator = page.get("NextShardIterator")
            if shard.iterator is None:  # closed and read to the end
                del self._shards[shard.shard_id]
                self._finished.add(shard.shard_id)
                self._discover(initial=False)
        return busy

    def _process(self, shard_id: str, records: list[dict[str, Any]]) -> None:
        shaped = [lambda_record(record, region=self._region, stream_arn=self._stream_arn) for record in records]
        kept = [record for record in shaped if matches_any(self._filter_patterns, record)]
        for batch in batches(kept, self._batch_size):
            if self._stop.is_set():
                return
            started = time.monotonic()
            delivery = deliver(
                batch,
                self._invoke,
                max_retries=self._max_retries,
                delay=lambda attempt: backoff(attempt, self._retry_backoff, self._retry_backoff_cap),
                wait=lambda seconds: not self._stop.wait(seconds),
            )
            self._after(batch, delivery, shard_id, started)

    def _after(self, batch: list[StreamRecord], delivery: Delivery, shard_id: str, started: float) -> None:
        elapsed_ms = (time.monotonic() - started) * 1000
        if delivery.interrupted:
            _logger.info("stream poller stopping: %d record(s) left undelivered", len(delivery.failed))
        elif delivery.failed:
            letter = dead_letter(
                delivery, shard_id=shard_id, stream_arn=self._stream_arn, function_arn=self._function_arn
            )
            with self._lock:
                self._dead_letters.append(letter)
                del self._dead_letters[:-_MAX_DEAD_LETTERS]
            _logger.warning(
                "stream batch sent to the on-failure destination after %d attempt(s) "
                "(RetryAttemptsExhausted%s): %d record(s), sequence numbers %s; see /_local/dead-letters",
                delivery.attempts,
                ", the handler raised" if delivery.function_error else "",
                len(delivery.failed),
                ", ".join(sequence_number(record) for record in delivery.failed),
            )
        else:
            _logger.info(
                "stream batch: %d record(s) delivered in %d attempt(s) (%.0f ms)",
                len(batch),
                delivery.attempts,
                elapsed_ms,
            )
        if self._after_batch is not None:
            try:
                self._after_batch()
            except Exception:
                _logger.warning("after-batch hook failed", exc_info=True)

    def _invoke(self, event: dict[str, Any]) -> Any:
        context = LocalLambdaContext(
            aws_request_id=str(uuid.uuid4()),
            function_name=self._function_name,
            invoked_function_arn=self._function_arn,
            timeout_seconds=60.0,
            log_group_name=f"/aws/lambda/{self._function_name}",
        )
        with self._lock:
            self._invocations += 1
        with self._invoke_lock:
            return self._handler(event, context)
