"""Transactions in the embedded emulator (``local_runtime.moto_fixes``): a cancelled transaction
leaves the table and its stream exactly as they were, and no transaction copies a table or leaves
copies behind.

The project relies on cancelled transactions for its races (the pair item, optimistic versions of
inbox entries, idempotency keys), so a rollback that is not exact would corrupt data, and one that
costs a table copy makes the local runtime slower and bigger with every send.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError
from message_center.data.schema import create_table_request
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import Item
from moto.dynamodb.models.table import Table

from local_runtime import emulator
from local_runtime.moto_fixes import DynamoDBFixes

REGION = emulator.DEFAULT_REGION
TABLE = "MessageCenterTransactionsTest"
PAIR_IS_NEW = "attribute_not_exists(pk)"  # fails: every thread here has its pair item


@pytest.fixture(scope="module")
def aws() -> Iterator[emulator.AwsEmulator]:
    running = emulator.AwsEmulator(port=0)
    running.start()
    try:
        emulator.client("dynamodb", running.endpoint_url, REGION).create_table(**create_table_request(TABLE))
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def dynamodb(aws: emulator.AwsEmulator) -> Any:
    return emulator.client("dynamodb", aws.endpoint_url, REGION)


def _key(pk: str, sk: str) -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"S": sk}}


def _everything(dynamodb: Any) -> list[dict[str, Any]]:
    """Every item of the table, sorted (a test may scan)."""
    items = dynamodb.scan(TableName=TABLE, ConsistentRead=True)["Items"]
    return sorted(items, key=lambda item: (item["pk"]["S"], item["sk"]["S"]))


def _send_like_transaction(thread: str, *, entry_version: str, pair_condition: str) -> list[dict[str, Any]]:
    """The shape of a send: new message copy, inbox entry under an optimistic version, badge,
    thread update, a removed item, and the pair's condition check last."""
    return [
        {"Put": {"TableName": TABLE, "Item": {**_key(f"MBOX#buyer#{thread}", "MSG#02"), "text": {"S": "Hej"}}}},
        {
            "Put": {
                "TableName": TABLE,
                "Item": {**_key("INBOX#seller", f"THREAD#{thread}"), "version": {"N": "4"}, "unread": {"S": "1"}},
                "ConditionExpression": "version = :seen",
                "ExpressionAttributeValues": {":seen": {"N": entry_version}},
            }
        },
        {
            "Update": {
                "TableName": TABLE,
                "Key": _key("USER#seller", "PROFILE"),
                "UpdateExpression": "ADD unread_threads :one SET touched = :yes",
                "ExpressionAttributeValues": {":one": {"N": "1"}, ":yes": {"BOOL": True}},
            }
        },
        {
            "Update": {
                "TableName": TABLE,
                "Key": _key(f"THREAD#{thread}", "THREAD"),
                "UpdateExpression": "SET message_count = message_count + :one, tags = list_append(tags, :tag)",
                "ExpressionAttributeValues": {":one": {"N": "1"}, ":tag": {"L": [{"S": "new"}]}},
            }
        },
        {"Delete": {"TableName": TABLE, "Key": _key(f"DRAFT#{thread}", "DRAFT")}},
        {
            "ConditionCheck": {
                "TableName": TABLE,
                "Key": _key(f"PAIR#{thread}", "PAIR"),
                "ConditionExpression": pair_condition,
            }
        },
    ]


def _given_a_thread(dynamodb: Any, thread: str) -> None:
    for item in (
        {**_key("INBOX#seller", f"THREAD#{thread}"), "version": {"N": "3"}, "unread": {"S": "0"}},
        {**_key("USER#seller", "PROFILE"), "unread_threads": {"N": "2"}, "login": {"S": "sklep"}},
        {
            **_key(f"THREAD#{thread}", "THREAD"),
            "message_count": {"N": "1"},
            "tags": {"L": [{"S": "first"}]},
            "meta": {"M": {"subject": {"S": "Rower"}, "offers": {"SS": ["o1", "o2"]}}},
        },
        {**_key(f"DRAFT#{thread}", "DRAFT"), "text": {"S": "szkic"}},
        {**_key(f"PAIR#{thread}", "PAIR"), "thread_id": {"S": thread}},
    ):
        dynamodb.put_item(TableName=TABLE, Item=item)


def test_a_cancelled_transaction_leaves_every_item_exactly_as_it_was(dynamodb, aws):
    # Given a thread whose pair item exists, and the table as it is now
    _given_a_thread(dynamodb, "t-cancel")
    before = _everything(dynamodb)
    cancelled = aws.dynamodb_fixes.cancelled

    # When a send-like transaction runs whose last item fails (a concurrent first message made the pair)
    with pytest.raises(ClientError) as refused:
        dynamodb.transact_write_items(
            TransactItems=_send_like_transaction("t-cancel", entry_version="3", pair_condition=PAIR_IS_NEW)
        )

    # Then it is cancelled for that item only, and every earlier write is undone: the new copy is
    # gone, the entry, badge and thread are as before, the deleted draft is back
    assert refused.value.response["Error"]["Code"] == "TransactionCanceledException"
    reasons = [reason["Code"] for reason in refused.value.response["CancellationReasons"]]
    assert reasons == ["None", "None", "None", "None", "None", "ConditionalCheckFailed"]
    assert _everything(dynamodb) == before
    assert aws.dynamodb_fixes.cancelled == cancelled + 1


def test_a_transaction_cancelled_in_the_middle_undoes_the_writes_before_and_after(dynamodb):
    # Given a thread, and the table as it is now
    _given_a_thread(dynamodb, "t-middle")
    before = _everything(dynamodb)

    # When the inbox entry's optimistic version is stale (the second item fails; moto still runs the rest)
    with pytest.raises(ClientError) as refused:
        dynamodb.transact_write_items(
            TransactItems=_send_like_transaction("t-middle", entry_version="2", pair_condition="attribute_exists(pk)")
        )

    # Then nothing of it stays
    reasons = [reason["Code"] for reason in refused.value.response["CancellationReasons"]]
    assert reasons == ["None", "ConditionalCheckFailed", "None", "None", "None", "None"]
    assert _everything(dynamodb) == before


def test_a_committed_transaction_writes_everything(dynamodb, aws):
    # Given a thread
    _given_a_thread(dynamodb, "t-commit")
    committed = aws.dynamodb_fixes.committed

    # When the same transaction runs with conditions that hold
    dynamodb.transact_write_items(
        TransactItems=_send_like_transaction("t-commit", entry_version="3", pair_condition="attribute_exists(pk)")
    )

    # Then all of it is stored
    def get(pk: str, sk: str) -> dict[str, Any] | None:
        return dynamodb.get_item(TableName=TABLE, Key=_key(pk, sk), ConsistentRead=True).get("Item")

    assert get("MBOX#buyer#t-commit", "MSG#02")["text"] == {"S": "Hej"}
    assert get("INBOX#seller", "THREAD#t-commit")["version"] == {"N": "4"}
    assert get("THREAD#t-commit", "THREAD")["message_count"] == {"N": "2"}
    assert get("DRAFT#t-commit", "DRAFT") is None
    assert aws.dynamodb_fixes.committed == committed + 1


def test_a_cancelled_transaction_emits_no_stream_records(dynamodb):
    # Given a reader at the tip of the table's stream
    streams = emulator.client("dynamodbstreams", dynamodb.meta.endpoint_url, REGION)
    arn = dynamodb.describe_table(TableName=TABLE)["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="LATEST")["ShardIterator"]
    _given_a_thread(dynamodb, "t-stream")
    iterator = streams.get_records(ShardIterator=iterator)["NextShardIterator"]  # past the setup

    # When a transaction is cancelled, and then a message copy is written
    with pytest.raises(ClientError):
        dynamodb.transact_write_items(
            TransactItems=_send_like_transaction("t-stream", entry_version="3", pair_condition=PAIR_IS_NEW)
        )
    dynamodb.put_item(TableName=TABLE, Item={**_key("MBOX#buyer#t-stream", "MSG#03"), "text": {"S": "Po"}})

    # Then the same reader sees the later write, and nothing of the cancelled transaction
    records = streams.get_records(ShardIterator=iterator)["Records"]
    assert [(r["eventName"], r["dynamodb"]["Keys"]["sk"]["S"]) for r in records] == [("INSERT", "MSG#03")]


def _live(kind: type) -> int:
    gc.collect()
    return sum(1 for thing in gc.get_objects() if type(thing) is kind)


def test_transactions_neither_copy_tables_nor_keep_copies(dynamodb, aws):
    # Given a table of a few hundred items
    for number in range(300):
        dynamodb.put_item(TableName=TABLE, Item={**_key(f"FILL#{number:03d}", "FILL"), "n": {"N": str(number)}})
    _given_a_thread(dynamodb, "t-memory")
    tables, items = _live(Table), _live(Item)

    # When 40 transactions run, half of them cancelled, interleaved with queries (moto copies results)
    for number in range(40):
        condition = "attribute_exists(pk)" if number % 2 else PAIR_IS_NEW
        transaction = _send_like_transaction("t-memory", entry_version="3", pair_condition=condition)
        with contextlib.suppress(dynamodb.exceptions.TransactionCanceledException):
            dynamodb.transact_write_items(TransactItems=transaction[2:])  # badge, thread, draft, pair
        dynamodb.query(
            TableName=TABLE,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": "FILL#001"}},
        )

    # Then no table was copied and no copy of an item outlives its request (moto's way kept one
    # copy of the whole table per transaction item: 12,000 items here)
    assert _live(Table) == tables
    assert _live(Item) <= items + 10
    assert aws.dynamodb_fixes.cancelled >= 20 and aws.dynamodb_fixes.committed >= 20


def test_uninstalling_gives_moto_back_its_own_behaviour(aws):
    # Given the running emulator's fixes
    fixes = aws.dynamodb_fixes
    patched = DynamoDBBackend.transact_write_items
    try:
        # When they are uninstalled
        fixes.uninstall()
        # Then moto's own transaction and instance tracking are back
        assert DynamoDBBackend.transact_write_items is not patched
        assert type(Item.instances_tracked) is list
        # and another owner may install them now
        with DynamoDBFixes().applied():
            assert type(Item.instances_tracked) is not list
    finally:
        fixes.install()
    # And installed again, they are in force
    assert type(Item.instances_tracked) is not list
    with pytest.raises(RuntimeError):
        DynamoDBFixes().install()
