"""The stream poller against the embedded emulator: real stream records reach the handler like an
event source mapping delivers them, and failures are retried, then dead-lettered.

Only the emulator runs here (a moto server on a free port) with the main table; the stream
handler is a fake that records what it gets.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError
from message_center.data.schema import create_table_request
from moto.dynamodbstreams.models import dynamodbstreams_backends

from local_runtime import emulator, moto_fixes
from local_runtime.stream_poller import StreamPoller

REGION = emulator.DEFAULT_REGION
TABLE = "MessageCenterStreamTest"
WAIT_SECONDS = 5.0


@pytest.fixture(scope="module")
def endpoint_url() -> Iterator[str]:
    aws = emulator.AwsEmulator(port=0)
    aws.start()
    try:
        emulator.client("dynamodb", aws.endpoint_url, REGION).create_table(**create_table_request(TABLE))
        yield aws.endpoint_url
    finally:
        aws.stop()


@pytest.fixture(scope="module")
def dynamodb(endpoint_url: str) -> Any:
    return emulator.client("dynamodb", endpoint_url, REGION)


class _Handler:
    """Records each batch; ``respond(event)`` decides what to answer (default: all delivered)."""

    def __init__(self, respond: Callable[[dict[str, Any]], Any] = lambda event: {"batchItemFailures": []}):
        self.events: list[dict[str, Any]] = []
        self.contexts: list[Any] = []
        self.arrived = threading.Event()
        self._respond = respond

    def __call__(self, event: dict[str, Any], context: Any) -> Any:
        self.events.append(event)
        self.contexts.append(context)
        self.arrived.set()
        return self._respond(event)


@pytest.fixture
def run_poller(endpoint_url: str) -> Iterator[Callable[..., StreamPoller]]:
    pollers: list[StreamPoller] = []

    def start(handler: _Handler, **options: Any) -> StreamPoller:
        poller = StreamPoller(endpoint_url, REGION, TABLE, handler, poll_interval=0.05, **options)
        poller.start()
        pollers.append(poller)
        return poller

    yield start
    for poller in pollers:
        poller.stop()


def _put(dynamodb: Any, pk: str, sk: str, **attributes: str) -> None:
    item = {"pk": {"S": pk}, "sk": {"S": sk}, **{name: {"S": value} for name, value in attributes.items()}}
    dynamodb.put_item(TableName=TABLE, Item=item)


def _wait_until(condition: Callable[[], bool], seconds: float = WAIT_SECONDS) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


def test_a_new_message_copy_reaches_the_handler_as_one_real_shaped_insert(dynamodb, run_poller):
    # Given the poller feeding a recording handler
    handler = _Handler()
    poller = run_poller(handler)

    # When a message copy and an item of another kind are written, and the copy is then updated
    _put(dynamodb, "MBOX#user-1#thread-1", "MSG#01J0000000000000000000001", text="Dzień dobry")
    _put(dynamodb, "THREAD#thread-1", "META", subject="Rower")
    dynamodb.update_item(
        TableName=TABLE,
        Key={"pk": {"S": "MBOX#user-1#thread-1"}, "sk": {"S": "MSG#01J0000000000000000000001"}},
        UpdateExpression="SET readAt = :now",
        ExpressionAttributeValues={":now": {"S": "2026-01-01T00:00:00Z"}},
    )

    # Then the handler gets exactly one batch with the INSERT of the copy, shaped as Lambda sends it
    assert handler.arrived.wait(WAIT_SECONDS), "no batch reached the handler"
    time.sleep(0.3)  # several more polls: nothing else may arrive
    assert len(handler.events) == 1
    (record,) = handler.events[0]["Records"]
    assert set(record) == {
        "eventID",
        "eventName",
        "eventVersion",
        "eventSource",
        "awsRegion",
        "dynamodb",
        "eventSourceARN",
    }
    assert record["eventName"] == "INSERT"
    assert record["eventSource"] == "aws:dynamodb"
    assert record["awsRegion"] == REGION
    assert record["eventSourceARN"] == poller.stream_arn
    assert poller.stream_arn.startswith(f"arn:aws:dynamodb:{REGION}:123456789012:table/{TABLE}/stream/")
    change = record["dynamodb"]
    assert change["Keys"] == {
        "pk": {"S": "MBOX#user-1#thread-1"},
        "sk": {"S": "MSG#01J0000000000000000000001"},
    }
    assert change["NewImage"]["text"] == {"S": "Dzień dobry"}
    assert "OldImage" not in change
    assert change["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    assert isinstance(change["ApproximateCreationDateTime"], float)
    assert abs(change["ApproximateCreationDateTime"] - time.time()) < 60
    assert change["SequenceNumber"].isdigit()
    assert change["SizeBytes"] > 0
    # and the context is the stream function's
    context = handler.contexts[0]
    assert context.function_name == "message-center-stream"
    assert context.invoked_function_arn.endswith(":function:message-center-stream")
    assert context.get_remaining_time_in_millis() > 0
    assert poller.dead_letters == []


def test_records_written_together_arrive_in_one_batch_in_order(dynamodb, run_poller):
    handler = _Handler()
    run_poller(handler)
    dynamodb.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": TABLE, "Item": {"pk": {"S": f"MBOX#user-{n}#t2"}, "sk": {"S": "MSG#2"}}}}
            for n in range(3)
        ]
    )
    assert _wait_until(lambda: sum(len(event["Records"]) for event in handler.events) >= 3)
    assert len(handler.events) == 1
    sequences = [int(record["dynamodb"]["SequenceNumber"]) for record in handler.events[0]["Records"]]
    assert sequences == sorted(sequences)


def test_a_failing_record_is_retried_from_its_sequence_number_then_dead_lettered(dynamodb, run_poller):
    # Given a handler that always reports the copy of "thread-bad" as failed
    def respond(event: dict[str, Any]) -> dict[str, Any]:
        failed = [
            {"itemIdentifier": record["dynamodb"]["SequenceNumber"]}
            for record in event["Records"]
            if record["dynamodb"]["Keys"]["pk"]["S"].endswith("#thread-bad")
        ]
        return {"batchItemFailures": failed}

    handler = _Handler(respond)
    batches_done = threading.Event()
    poller = run_poller(handler, max_retries=2, retry_backoff=0.01, after_batch=batches_done.set)

    # When a good and a bad copy are written in one transaction
    dynamodb.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": TABLE, "Item": {"pk": {"S": "MBOX#u#thread-good"}, "sk": {"S": "MSG#3"}}}},
            {"Put": {"TableName": TABLE, "Item": {"pk": {"S": "MBOX#u#thread-bad"}, "sk": {"S": "MSG#3"}}}},
        ]
    )

    # Then the batch is tried once, the bad record retried twice alone, then dead-lettered
    assert batches_done.wait(WAIT_SECONDS), "the batch was not finished"
    assert [len(event["Records"]) for event in handler.events] == [2, 1, 1]
    (letter,) = poller.dead_letters
    bad_sequence = handler.events[1]["Records"][0]["dynamodb"]["SequenceNumber"]
    assert letter["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert letter["requestContext"]["approximateInvokeCount"] == 3
    assert letter["DDBStreamBatchInfo"]["startSequenceNumber"] == bad_sequence
    assert letter["DDBStreamBatchInfo"]["streamArn"] == poller.stream_arn
    assert [entry["keys"]["pk"]["S"] for entry in letter["records"]] == ["MBOX#u#thread-bad"]


def test_a_handler_exception_retries_the_whole_batch(dynamodb, run_poller):
    calls: list[int] = []

    def respond(event: dict[str, Any]) -> dict[str, Any]:
        calls.append(len(event["Records"]))
        if len(calls) == 1:
            raise RuntimeError("SNS is down")
        return {}

    handler = _Handler(respond)
    poller = run_poller(handler, retry_backoff=0.01)
    _put(dynamodb, "MBOX#u#thread-raise", "MSG#4")
    assert _wait_until(lambda: len(calls) >= 2)
    assert calls == [1, 1]
    assert poller.dead_letters == []


def test_pruning_keeps_the_emulators_iterators_bounded(endpoint_url):
    streams = emulator.client("dynamodbstreams", endpoint_url, REGION)
    arn = emulator.client("dynamodb", endpoint_url, REGION).describe_table(TableName=TABLE)["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="LATEST")["ShardIterator"]
    for _ in range(30):
        iterator = streams.get_records(ShardIterator=iterator)["NextShardIterator"]
    emulator.prune_stream_iterators(keep=5)
    held = [
        arn
        for account in dynamodbstreams_backends.values()
        for backend in account.values()
        for arn in backend.shard_iterators
    ]
    assert 0 < len(held) <= 5
    # the newest iterator still works
    assert streams.get_records(ShardIterator=iterator)["Records"] == []


def test_after_a_cancelled_transaction_new_messages_still_reach_the_handler(dynamodb, run_poller):
    # Given the poller feeding a recording handler
    handler = _Handler()
    run_poller(handler)

    # When a transaction writing a message copy is cancelled by its last item (the pair already exists)
    _put(dynamodb, "PAIR#a#b", "PAIR", thread_id="thread-raced")
    with pytest.raises(ClientError) as refused:
        dynamodb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": TABLE, "Item": {"pk": {"S": "MBOX#a#thread-lost"}, "sk": {"S": "MSG#1"}}}},
                {
                    "Put": {
                        "TableName": TABLE,
                        "Item": {"pk": {"S": "PAIR#a#b"}, "sk": {"S": "PAIR"}, "thread_id": {"S": "thread-lost"}},
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
            ]
        )
    assert refused.value.response["Error"]["Code"] == "TransactionCanceledException"
    # and then a message is stored in the existing thread
    _put(dynamodb, "MBOX#a#thread-raced", "MSG#2", text="Druga próba")

    # Then the handler gets that message, and never the cancelled one
    assert _wait_until(lambda: _delivered(handler)), "the message after the cancelled transaction was not delivered"
    time.sleep(0.3)  # several more polls: nothing else may arrive
    assert _delivered(handler) == [("MBOX#a#thread-raced", "MSG#2")]


def _delivered(handler: _Handler) -> list[tuple[str, str]]:
    return [
        (record["dynamodb"]["Keys"]["pk"]["S"], record["dynamodb"]["Keys"]["sk"]["S"])
        for event in handler.events
        for record in event["Records"]
    ]


def test_stream_records_are_dropped_once_every_reader_has_read_them(dynamodb, endpoint_url):
    # Given two readers at the tip of the stream (and no other)
    streams = emulator.client("dynamodbstreams", endpoint_url, REGION)
    arn = dynamodb.describe_table(TableName=TABLE)["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]

    def reader(kind: str) -> str:
        return streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType=kind)["ShardIterator"]

    def read(iterator: str) -> tuple[list[str], str]:
        page = streams.get_records(ShardIterator=iterator)
        return [record["dynamodb"]["SequenceNumber"] for record in page["Records"]], page["NextShardIterator"]

    emulator.prune_stream_iterators(keep=0)
    slow, fast = reader("LATEST"), reader("LATEST")
    for number in range(10):
        _put(dynamodb, f"TRIM#{number}", "X")

    # When the fast one has read the ten records and the emulator trims
    read_fast, fast = read(fast)
    moto_fixes.trim_read_stream_records()
    # Then the slow one still gets all ten
    read_slow, slow = read(slow)
    assert len(read_fast) == 10
    assert read_slow == read_fast

    # When both have read them, their spent iterators are pruned and the emulator trims again
    emulator.prune_stream_iterators(keep=2)
    assert moto_fixes.trim_read_stream_records() >= 10
    # Then the records are gone from the stream's horizon, and numbering goes on where it was
    assert read(reader("TRIM_HORIZON"))[0] == []
    _put(dynamodb, "TRIM#after", "X")
    (after,) = read(slow)[0]
    assert int(after) > int(read_fast[-1])
    assert read(reader("TRIM_HORIZON"))[0] == [after]
