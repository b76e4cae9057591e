"""The local stream poller's logic: filter criteria, record shape, batches, partial-failure retries."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from aws_lambda_powertools.utilities.data_classes import DynamoDBStreamEvent
from aws_lambda_powertools.utilities.parser.models import DynamoDBStreamModel

from local_runtime.stream_poller import (
    FILTER_PATTERNS,
    backoff,
    batches,
    dead_letter,
    deliver,
    lambda_record,
    matches,
    matches_any,
    retry_from,
)

REGION = "eu-central-1"
STREAM_ARN = "arn:aws:dynamodb:eu-central-1:123456789012:table/MessageCenter/stream/2026-01-01T00:00:00.000"
CREATED = datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)


def _raw(sequence: int, pk: str = "MBOX#u1#t1", event: str = "INSERT", **extra: Any) -> dict[str, Any]:
    """A GetRecords record as boto3 parses it from the emulator (datetime, bytes, moto's region)."""
    keys = {"pk": {"S": pk}, "sk": {"S": f"MSG#{sequence:04d}"}}
    change: dict[str, Any] = {
        "ApproximateCreationDateTime": CREATED,
        "Keys": keys,
        "SequenceNumber": str(sequence),
        "SizeBytes": 120,
        "StreamViewType": "NEW_AND_OLD_IMAGES",
    }
    if event != "REMOVE":
        change["NewImage"] = {**keys, "text": {"S": "hello"}, **extra}
    if event != "INSERT":
        change["OldImage"] = {**keys, "text": {"S": "old"}}
    return {
        "eventID": f"event-{sequence}",
        "eventName": event,
        "eventVersion": "1.0",
        "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "dynamodb": change,
    }


def _record(sequence: int, **kwargs: Any) -> dict[str, Any]:
    return lambda_record(_raw(sequence, **kwargs), region=REGION, stream_arn=STREAM_ARN)


# --- filter ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pk", "event", "kept"),
    [
        ("MBOX#u1#t1", "INSERT", True),
        ("MBOX#u1#t1", "MODIFY", False),  # read flags, deletes for one side: no notification
        ("MBOX#u1#t1", "REMOVE", False),
        ("THREAD#t1", "INSERT", False),
        ("INBOX#u1", "INSERT", False),
        ("mbox#u1#t1", "INSERT", False),  # prefixes are case-sensitive
        ("XMBOX#u1", "INSERT", False),
    ],
)
def test_the_filter_keeps_only_inserted_message_copies(pk, event, kept):
    # Given a stream record / When the deployed mapping's filter criteria are applied
    # Then only an INSERT of an MBOX# item passes
    assert matches_any(FILTER_PATTERNS, _record(1, pk=pk, event=event)) is kept


def test_filter_operators_follow_lambda_event_filtering():
    record = {"eventName": "INSERT", "dynamodb": {"Keys": {"pk": {"S": "MBOX#1"}}, "Tags": ["a", "b"]}}
    assert matches({"eventName": ["MODIFY", "INSERT"]}, record)
    assert matches({"dynamodb": {"Keys": {"pk": {"S": [{"suffix": "#1"}]}}}}, record)
    assert matches({"dynamodb": {"Keys": {"sk": [{"exists": False}]}}}, record)
    assert not matches({"dynamodb": {"Keys": {"pk": [{"exists": False}]}}}, record)
    assert matches({"eventName": [{"anything-but": ["REMOVE"]}]}, record)
    assert not matches({"eventName": [{"anything-but": "INSERT"}]}, record)
    assert matches({"dynamodb": {"Tags": ["b"]}}, record)  # a list value matches if any element does
    assert not matches({"dynamodb": {"NewImage": {"x": ["1"]}}}, record)  # absent object
    with pytest.raises(ValueError, match="unsupported filter operator"):
        matches({"eventName": [{"numeric": [">", 1]}]}, record)
    with pytest.raises(ValueError, match="objects or lists"):
        matches({"eventName": "INSERT"}, record)


# --- record shape ---------------------------------------------------------------------------------


def test_records_are_shaped_as_lambda_delivers_them():
    # Given a record as the emulator returns it, with a binary attribute
    raw = _raw(1100000000017454423009, b={"B": b"\x00\x01"}, nested={"M": {"bs": {"BS": [b"\xff"]}}})

    # When it is shaped for the handler
    record = lambda_record(raw, region=REGION, stream_arn=STREAM_ARN)

    # Then it has Lambda's fields, in Lambda's order, with the stream's ARN and region
    assert list(record) == [
        "eventID",
        "eventName",
        "eventVersion",
        "eventSource",
        "awsRegion",
        "dynamodb",
        "eventSourceARN",
    ]
    assert record["eventSourceARN"] == STREAM_ARN
    assert record["awsRegion"] == REGION
    assert record["eventSource"] == "aws:dynamodb"
    assert record["eventVersion"] == "1.1"
    change = record["dynamodb"]
    assert list(change) == [
        "ApproximateCreationDateTime",
        "Keys",
        "NewImage",
        "SequenceNumber",
        "SizeBytes",
        "StreamViewType",
    ]
    # epoch seconds, as JSON numbers, and base64 text for binary values, as on the wire
    assert change["ApproximateCreationDateTime"] == float(int(CREATED.timestamp()))
    assert change["NewImage"]["b"] == {"B": "AAE="}
    assert change["NewImage"]["nested"] == {"M": {"bs": {"BS": ["/w=="]}}}
    assert change["SequenceNumber"] == "1100000000017454423009"
    # and Powertools reads it both ways the stream function may use
    event = {"Records": [record]}
    parsed = DynamoDBStreamModel.model_validate(event)
    assert parsed.Records[0].dynamodb.Keys == {"pk": "MBOX#u1#t1", "sk": "MSG#1100000000017454423009"}
    first = next(DynamoDBStreamEvent(event).records)
    assert first.dynamodb is not None
    assert first.dynamodb.sequence_number == "1100000000017454423009"


def test_a_modified_item_keeps_its_old_image():
    record = _record(5, event="MODIFY")
    assert record["dynamodb"]["OldImage"]["text"] == {"S": "old"}
    assert "OldImage" not in _record(6)["dynamodb"]


def test_batches_hold_at_most_25_records_in_order():
    records = [_record(sequence) for sequence in range(1, 61)]
    cut = batches(records)
    assert [len(batch) for batch in cut] == [25, 25, 10]
    assert [record for batch in cut for record in batch] == records
    assert batches([]) == []
    with pytest.raises(ValueError, match="at least 1"):
        batches(records, 0)


# --- partial batch responses ---------------------------------------------------------------------

BATCH = [_record(sequence) for sequence in (98, 99, 100, 101)]


@pytest.mark.parametrize("response", [None, {}, {"batchItemFailures": []}, {"batchItemFailures": None}, "ok"])
def test_no_reported_failure_is_a_complete_success(response):
    assert retry_from(response, BATCH) is None


def test_retry_starts_at_the_lowest_failed_sequence_number():
    # sequence numbers compare as numbers: "100" comes after "99"
    response = {"batchItemFailures": [{"itemIdentifier": "101"}, {"itemIdentifier": "99"}]}
    assert retry_from(response, BATCH) == 1
    assert retry_from({"batchItemFailures": [{"itemIdentifier": "100"}]}, BATCH) == 2


@pytest.mark.parametrize(
    "failures",
    [
        [{"itemIdentifier": ""}],
        [{"itemIdentifier": None}],
        [{"itemId": "99"}],  # a bad key name
        [{"itemIdentifier": "12345"}],  # not in the batch
        ["99"],
        {"itemIdentifier": "99"},  # not a list
    ],
)
def test_a_malformed_failure_report_fails_the_whole_batch(failures):
    assert retry_from({"batchItemFailures": failures}, BATCH) == 0


class _FlakyHandler:
    """Reports ``failing`` (a sequence number) as failed ``times`` times; records every batch."""

    def __init__(self, failing: str | None = None, times: int = 0, raises: int = 0) -> None:
        self.failing, self.times, self.raises = failing, times, raises
        self.batches: list[list[str]] = []

    def __call__(self, event: dict[str, Any]) -> dict[str, Any]:
        sequences = [record["dynamodb"]["SequenceNumber"] for record in event["Records"]]
        self.batches.append(sequences)
        if self.raises:
            self.raises -= 1
            raise RuntimeError("SES is down")
        if self.failing in sequences and self.times:
            self.times -= 1
            return {"batchItemFailures": [{"itemIdentifier": self.failing}]}
        return {"batchItemFailures": []}


def test_a_failed_record_is_retried_with_the_records_after_it_until_it_succeeds():
    # Given a handler that fails the second record twice
    handler = _FlakyHandler(failing="99", times=2)
    waits: list[float] = []

    # When the batch is delivered
    delivery = deliver(BATCH, handler, max_retries=5, wait=lambda seconds: waits.append(seconds) is None)

    # Then it is retried twice from that record (the one before it is not sent again), then done
    assert handler.batches == [["98", "99", "100", "101"], ["99", "100", "101"], ["99", "100", "101"]]
    assert delivery.attempts == 3
    assert delivery.failed == []
    assert waits == [backoff(1), backoff(2)]


def test_a_record_failing_every_retry_goes_to_the_on_failure_destination():
    # Given a handler that always fails the third record
    handler = _FlakyHandler(failing="100", times=99)

    # When the batch is delivered with 5 retries
    delivery = deliver(BATCH, handler, max_retries=5, wait=lambda seconds: True)

    # Then it was tried 6 times, and the failed record and the rest of the batch are given up on
    assert len(handler.batches) == 6
    assert handler.batches[1:] == [["100", "101"]] * 5
    assert [record["dynamodb"]["SequenceNumber"] for record in delivery.failed] == ["100", "101"]
    assert delivery.function_error is None


def test_an_exception_fails_the_whole_batch():
    handler = _FlakyHandler(raises=1)
    delivery = deliver(BATCH, handler, max_retries=5, wait=lambda seconds: True)
    assert handler.batches == [["98", "99", "100", "101"]] * 2
    assert delivery.attempts == 2
    assert delivery.failed == []

    always = _FlakyHandler(raises=99)
    given_up = deliver(BATCH, always, max_retries=1, wait=lambda seconds: True)
    assert len(always.batches) == 2
    assert len(given_up.failed) == 4
    assert given_up.function_error == "Unhandled"


def test_stopping_during_the_backoff_abandons_the_batch_without_dead_lettering_it():
    handler = _FlakyHandler(failing="98", times=99)
    delivery = deliver(BATCH, handler, max_retries=5, wait=lambda seconds: False)
    assert delivery.interrupted
    assert len(handler.batches) == 1


def test_backoff_doubles_up_to_a_cap():
    assert [backoff(attempt, 0.2, 2.0) for attempt in range(1, 7)] == [0.2, 0.4, 0.8, 1.6, 2.0, 2.0]


def test_the_dead_letter_names_the_batch_and_its_keys_but_no_contents():
    # Given a batch given up on after 6 attempts, the last of which raised
    delivery = deliver(BATCH[2:], _FlakyHandler(raises=99), max_retries=5, wait=lambda seconds: True)

    # When it is sent to the on-failure destination
    letter = dead_letter(
        delivery,
        shard_id="shardId-1",
        stream_arn=STREAM_ARN,
        function_arn="arn:aws:lambda:eu-central-1:123456789012:function:message-center-stream",
        now=datetime(2026, 1, 2, 3, 4, 6, tzinfo=UTC),
    )

    # Then it has Lambda's on-failure record shape, plus the records' keys only
    assert letter["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert letter["requestContext"]["approximateInvokeCount"] == 6
    assert letter["responseContext"]["functionError"] == "Unhandled"
    assert letter["timestamp"] == "2026-01-02T03:04:06.000Z"
    assert letter["DDBStreamBatchInfo"] == {
        "shardId": "shardId-1",
        "startSequenceNumber": "100",
        "endSequenceNumber": "101",
        "approximateArrivalOfFirstRecord": "2026-01-02T03:04:05.000Z",
        "approximateArrivalOfLastRecord": "2026-01-02T03:04:05.000Z",
        "batchSize": 2,
        "streamArn": STREAM_ARN,
    }
    assert [entry["sequenceNumber"] for entry in letter["records"]] == ["100", "101"]
    assert letter["records"][0]["keys"] == {"pk": {"S": "MBOX#u1#t1"}, "sk": {"S": "MSG#0100"}}
    assert "hello" not in str(letter)
