"""The measured inputs of the cost model (``local_runtime/cost_model.py``), from the emulator.

    python -m benchmarks.cost_inputs          # prints them as JSON

Everything runs in this process on moto, provisioned like the local runtime: a seller's inbox is
filled as in ``benchmarks.api_requests``, every user has one push device, and each operation is
called through the real Lambda handler with the real-shaped events of ``events/``. The stream
function then gets the table's stream records as the deployed event source mapping would (the
inserted message copies only) and sends the e-mail copy and the push.

Per operation this records every AWS request (botocore's ``BaseClient._make_api_call``), the
DynamoDB read and write request units they consume (from the sizes of the items in the
responses and requests: DynamoDB's own arithmetic, see ``item_size`` and ``units_of``), the
bytes the function logged and its time in the handler. moto's ConsumedCapacity is a constant,
so the units are computed, not read.
"""

from __future__ import annotations

import io
import json
import math
import os
import sys
import time
import warnings
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager, redirect_stdout
from dataclasses import asdict, dataclass, field
from typing import Any

import boto3
from message_center.data import schema
from moto import mock_aws

from benchmarks.api_requests import BUCKET, ENVIRONMENT, REGION, TABLE, UNSET, Inbox, observing_requests, populate
from local_runtime import emulator
from local_runtime.moto_fixes import DynamoDBFixes
from tests.support.api import ApiResponse, LambdaContext, build_event, invoke

INBOUND_BUCKET = "message-center-inbound-cost"
INBOX_SIZE = 12
TIMING_REPEATS = 3
READ_UNIT_BYTES = 4096
WRITE_UNIT_BYTES = 1024
# Every index's partition key attribute: an item holding one is written to that index too.
INDEX_KEYS = tuple(index.hash_key for index in schema.GLOBAL_INDEXES)
# What the stream's event source mapping delivers (deployment's filter: inserted message copies).
MESSAGE_COPY_PREFIX = "MBOX#"


# -- DynamoDB's arithmetic -------------------------------------------------------------------


def value_size(value: Mapping[str, Any]) -> int:
    """Bytes of one attribute value as DynamoDB sizes it (strings and binaries by length,
    numbers about one byte per two digits plus one, containers 3 bytes plus their content)."""
    (kind, content), *_ = value.items()
    if kind == "S":
        return len(str(content).encode())
    if kind == "B":
        return len(content)
    if kind == "N":
        return math.ceil(len(str(content).lstrip("-").replace(".", "")) / 2) + 1
    if kind in ("BOOL", "NULL"):
        return 1
    if kind in ("SS", "BS"):
        return sum(value_size({kind[0]: item}) for item in content)
    if kind == "NS":
        return sum(value_size({"N": item}) for item in content)
    if kind == "L":
        return 3 + sum(value_size(item) + 1 for item in content)
    if kind == "M":
        return 3 + sum(len(name.encode()) + value_size(item) + 1 for name, item in content.items())
    raise ValueError(f"unknown attribute value type {kind}")


def item_size(item: Mapping[str, Mapping[str, Any]]) -> int:
    """An item's size: the names and the values of its attributes."""
    return sum(len(name.encode()) + value_size(value) for name, value in item.items())


def read_units(sizes: list[int], *, consistent: bool, together: bool = False) -> float:
    """Read request units: per item (GetItem, BatchGetItem) or of the items' total (Query),
    4 KB each, half for an eventually consistent read."""
    if together:  # a query is rounded on its total, and costs a read even when it finds nothing
        blocks = max(math.ceil(sum(sizes) / READ_UNIT_BYTES), 1)
    else:
        blocks = sum(math.ceil(size / READ_UNIT_BYTES) for size in sizes)
    return float(blocks) if consistent else blocks / 2


def write_units(size: int, *, transactional: bool) -> int:
    """Write request units of one item: 1 KB each, twice in a transaction."""
    return max(math.ceil(size / WRITE_UNIT_BYTES), 1) * (2 if transactional else 1)


def index_writes(item: Mapping[str, Any], *, replaces: bool) -> int:
    """Writes to the indexes an item is projected into (each index projects whole items):
    one per index, two when an existing item's index key changes (delete, then put)."""
    units = write_units(item_size(item), transactional=False)
    return sum(units * (2 if replaces else 1) for key in INDEX_KEYS if key in item)


def units_of(operation: str, params: Mapping[str, Any], response: Mapping[str, Any]) -> tuple[float, float]:
    """(read units, write units) of one DynamoDB request, base table and indexes."""
    if operation == "GetItem":
        found = [item_size(response["Item"])] if "Item" in response else []
        return read_units(found or [1], consistent=bool(params.get("ConsistentRead"))), 0.0
    if operation == "BatchGetItem":
        reads = 0.0
        for table, items in (response.get("Responses") or {}).items():
            consistent = bool(params["RequestItems"][table].get("ConsistentRead"))
            reads += read_units([item_size(item) for item in items], consistent=consistent)
        return reads, 0.0
    if operation == "Query":
        sizes = [item_size(item) for item in response.get("Items") or ()]
        return read_units(sizes, consistent=bool(params.get("ConsistentRead")), together=True), 0.0
    if operation == "TransactWriteItems":
        writes = 0.0
        for action in params["TransactItems"]:
            if "Put" in action:
                item = action["Put"]["Item"]
                # A put on condition that no item exists makes a new one; any other replaces one.
                replaces = "attribute_not_exists" not in action["Put"].get("ConditionExpression", "")
                writes += write_units(item_size(item), transactional=True) + index_writes(item, replaces=replaces)
            else:  # Update, Delete, ConditionCheck: items under 1 KB here (thread, profile, attachment)
                writes += write_units(1, transactional=True)
        return 0.0, writes
    if operation == "PutItem":
        item = params["Item"]
        return 0.0, float(write_units(item_size(item), transactional=False) + index_writes(item, replaces=True))
    if operation in ("UpdateItem", "DeleteItem"):
        return 0.0, float(write_units(1, transactional=False))
    return 0.0, 0.0


# -- what one operation used ---------------------------------------------------------------------


@dataclass
class Usage:
    """What one operation (one Lambda invocation) used."""

    requests: Counter[str] = field(default_factory=Counter)  # "service:Operation" -> count
    read_units: float = 0.0
    write_units: float = 0.0
    log_bytes: int = 0
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "requests": dict(sorted(self.requests.items()))}


class _Recorder:
    def __init__(self) -> None:
        self.usage = Usage()

    def record(self, service: str, operation: str, params: Mapping[str, Any], response: Mapping[str, Any]) -> None:
        self.usage.requests[f"{service}:{operation}"] += 1
        if service == "dynamodb":
            reads, writes = units_of(operation, params, response)
            self.usage.read_units += reads
            self.usage.write_units += writes


@contextmanager
def _recording() -> Iterator[Callable[[], _Recorder]]:
    """Record every botocore request while the block runs; the callable starts a new recording."""
    current = [_Recorder()]

    def fresh() -> _Recorder:
        current[0] = _Recorder()
        return current[0]

    def record(service: str, operation: str, params: Mapping[str, Any], response: Mapping[str, Any]) -> None:
        current[0].record(service, operation, params, response)  # the recorder of the moment

    with observing_requests(record):
        yield fresh


def _timed(recorder: _Recorder, call: Callable[[], Any]) -> Any:
    """Run one handler call, adding its time and the bytes it logged (stdout: Powertools)."""
    out = io.StringIO()
    started = time.perf_counter()
    with redirect_stdout(out), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="No application metrics to publish")
        result = call()
    recorder.usage.seconds += time.perf_counter() - started
    recorder.usage.log_bytes += len(out.getvalue().encode())
    return result


# -- the run -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Measured:
    """Per operation, what one invocation used; and the bytes a message adds to the table."""

    write_in_thread: Usage
    new_conversation: Usage
    read_calls: dict[str, Usage]  # the API calls of a reader opening a thread
    notify: Usage  # the stream function's work for one new message (its two copies: e-mail copy and push)
    stored_bytes_per_message: int
    region: str = REGION

    def as_dict(self) -> dict[str, Any]:
        return {
            "write_in_thread": self.write_in_thread.as_dict(),
            "new_conversation": self.new_conversation.as_dict(),
            "read_calls": {name: usage.as_dict() for name, usage in self.read_calls.items()},
            "notify": self.notify.as_dict(),
            "stored_bytes_per_message": self.stored_bytes_per_message,
        }


@contextmanager
def _sandbox() -> Iterator[Any]:
    from functions.api.handler import container as api_container
    from functions.stream.handler import container as stream_container

    saved = {key: os.environ.get(key) for key in (*ENVIRONMENT, *UNSET)}
    os.environ.update(ENVIRONMENT)
    for key in UNSET:
        os.environ.pop(key, None)
    try:
        with mock_aws():
            resources = emulator.provision(None, REGION, TABLE, BUCKET, INBOUND_BUCKET)
            settings = emulator.function_settings(None, REGION, resources, "https://app.cost.test")
            api_container.install(settings.api)
            stream_container.install(settings.stream)
            yield settings
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


class _Stream:
    """The table's stream from where the last read stopped, filtered as the mapping filters."""

    def __init__(self) -> None:
        self._streams = boto3.client("dynamodbstreams", region_name=REGION)
        table = boto3.client("dynamodb", region_name=REGION).describe_table(TableName=TABLE)["Table"]
        self._arn = table["LatestStreamArn"]
        self._positions: dict[str, str] = {}

    def new_message_records(self) -> list[dict[str, Any]]:
        records: list[dict[str, Any]] = []
        for shard in self._streams.describe_stream(StreamArn=self._arn)["StreamDescription"]["Shards"]:
            shard_id = shard["ShardId"]
            iterator = (
                self._positions.get(shard_id)
                or self._streams.get_shard_iterator(
                    StreamArn=self._arn, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON"
                )["ShardIterator"]
            )
            response = self._streams.get_records(ShardIterator=iterator)
            records += response["Records"]
            self._positions[shard_id] = response["NextShardIterator"]
        return [
            {**record, "dynamodb": _as_lambda_sends(record["dynamodb"])}
            for record in records
            if record["eventName"] == "INSERT" and record["dynamodb"]["Keys"]["pk"]["S"].startswith(MESSAGE_COPY_PREFIX)
        ]


def _as_lambda_sends(image: Mapping[str, Any]) -> dict[str, Any]:
    created = image.get("ApproximateCreationDateTime")
    return {**image, "ApproximateCreationDateTime": int(created.timestamp())} if created else dict(image)


def _api(recorder: _Recorder, event: dict[str, Any], expected: int) -> ApiResponse:
    response: ApiResponse = _timed(recorder, lambda: invoke(event))
    if response.status != expected:
        raise RuntimeError(f"{event['routeKey']} answered {response.status}: {response.raw_body[:300]}")
    return response


def _stored_bytes(message_id: str, thread_id: str, participants: tuple[str, str]) -> int:
    """The items one message adds: each participant's copy and the message ref."""
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    keys = [(f"{MESSAGE_COPY_PREFIX}{owner}#{thread_id}", f"MSG#{message_id}") for owner in participants]
    keys.append((f"MSG#{message_id}", "MSG"))
    total = 0
    for pk, sk in keys:
        item = dynamodb.get_item(TableName=TABLE, Key={"pk": {"S": pk}, "sk": {"S": sk}}).get("Item")
        total += item_size(item) if item else 0
    return total


def measure(inbox_size: int = INBOX_SIZE) -> Measured:
    """Run the operations the cost model prices once each and record what they used."""
    from functions.stream.handler import lambda_handler as stream_handler

    with ExitStack() as stack:
        stack.enter_context(_sandbox())
        fixes = DynamoDBFixes()
        stack.enter_context(fixes.applied())
        fresh = stack.enter_context(_recording())
        box: Inbox = populate(inbox_size)
        buyer_id = f"buyer-{0:05d}"
        for user_id in (box.owner.id, buyer_id):
            setup = fresh()
            token = f"{user_id}-device-token-0001".ljust(64, "0")
            device = {"platform": "FCM", "token": token}
            _api(setup, build_event("api_register_device", user_id=user_id, body=device), 201)
        stream = _Stream()
        stream.new_message_records()  # the inbox's own items are not this run's messages

        path = {"threadId": box.focus_thread_id}

        def answer(text: str) -> tuple[Usage, Usage, dict[str, Any]]:
            """The seller answers in the focus thread, then the stream function notifies."""
            send = fresh()
            message = {"text": text, "attachments": []}
            event = build_event("api_write_in_thread", user_id=box.owner.id, path=path, body=message)
            sent = _api(send, event, 201).json
            fresh()  # reading the stream here is the event source mapping's work, not the function's
            records = {"Records": stream.new_message_records()}
            notify = fresh()
            result = _timed(notify, lambda: stream_handler(records, LambdaContext()))
            # Both participants' copies pass the mapping's filter; the function notifies the recipient.
            if len(records["Records"]) != 2 or (result or {}).get("batchItemFailures"):
                raise RuntimeError(f"the stream function did not take the new message's copies: {result}")
            return send.usage, notify.usage, sent

        # The first call of a container also builds its clients and reads its secret: measure warm ones.
        answer("Dzień dobry, sprawdzam stan magazynu.")
        send_usage, notify_usage, sent = answer("Wysyłka jutro rano, numer przesyłki prześlę wieczorem.")
        # Time on a shared machine varies: the fastest of a few of the same operation is the estimate.
        for attempt in range(TIMING_REPEATS - 1):
            again_send, again_notify, _ = answer(f"Jeszcze jedna informacja ({attempt + 1}).")
            send_usage.seconds = min(send_usage.seconds, again_send.seconds)
            notify_usage.seconds = min(notify_usage.seconds, again_notify.seconds)
        stored = _stored_bytes(sent["id"], box.focus_thread_id, (box.owner.id, buyer_id))

        # A new conversation: the seller writes about a new buyer's order.
        new = fresh()
        body: dict[str, Any] = {
            "order": {"id": box.new_buyer_order_id},
            "recipient": {"login": box.new_buyer_login},
            "text": "Dziękujemy za zakup!",
        }
        _api(new, build_event("api_write_new_message", user_id=box.owner.id, body=body), 201)

        # The buyer reads: badge, inbox, the thread's messages, marks it read.
        reader = "buyer-00000"
        calls = {
            "badge": build_event("api_get_badge", user_id=reader),
            "list threads": build_event("api_list_threads", user_id=reader, query={"limit": "20"}),
            "list messages": build_event("api_list_messages", user_id=reader, path=path, query={"limit": "20"}),
            "mark thread read": build_event("api_mark_thread_read", user_id=reader, path=path, body={"read": True}),
        }
        read_calls: dict[str, Usage] = {}
        for name, call_event in calls.items():
            for _ in range(TIMING_REPEATS):
                recorder = fresh()
                _api(recorder, call_event, 200)
                # The first call's requests (marking read again changes nothing); the fastest's time.
                first = read_calls.setdefault(name, recorder.usage)
                first.seconds = min(first.seconds, recorder.usage.seconds)
        if fixes.cancelled:
            raise RuntimeError("a transaction was cancelled: the counts would measure a retry")
        return Measured(send_usage, new.usage, read_calls, notify_usage, stored)


def main() -> int:
    print(json.dumps(measure().as_dict(), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
