"""Queries in the local runtime's moto (``local_runtime.moto_fixes``): a Query looks at the items it
can return only, not at the whole table, and answers exactly as moto does.

moto answers a Query by listing and sorting every item of the table; in a local runtime under load
every read got slower with every message stored. The answers must not change.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from message_center.data.schema import create_table_request
from moto import mock_aws
from moto.dynamodb.models.table import Table

from local_runtime.moto_fixes import DynamoDBFixes

REGION = "eu-central-1"
TABLE = "MessageCenterQueriesTest"
OWNERS = ("seller", "buyer-1", "buyer-2")


@pytest.fixture
def dynamodb(aws_env: None) -> Iterator[Any]:
    """moto with a table of three inboxes (sparse index attributes) and message partitions."""
    with mock_aws():
        client = boto3.client("dynamodb", region_name=REGION)
        client.create_table(**create_table_request(TABLE))
        for number in range(60):
            owner = OWNERS[number % 3]
            item: dict[str, Any] = {
                "pk": {"S": f"MBOX#{owner}#thread-{number % 7}"},
                "sk": {"S": f"MSG#{number:04d}"},
                "text": {"S": f"Wiadomość {number}"},
            }
            if number % 4 == 0:  # an inbox entry: in the index
                activity = f"2026-03-{number % 28 + 1:02d}T10:{number:02d}"
                item |= {"inboxOwner": {"S": owner}, "inboxActivity": {"S": activity}}
            client.put_item(TableName=TABLE, Item=item)
        yield client


QUERIES: tuple[dict[str, Any], ...] = (
    {"KeyConditionExpression": "pk = :pk", "ExpressionAttributeValues": {":pk": {"S": "MBOX#seller#thread-3"}}},
    {
        "KeyConditionExpression": "pk = :pk AND sk > :after",
        "ExpressionAttributeValues": {":pk": {"S": "MBOX#buyer-1#thread-1"}, ":after": {"S": "MSG#0020"}},
        "ScanIndexForward": False,
        "Limit": 2,
    },
    {"KeyConditionExpression": "pk = :pk", "ExpressionAttributeValues": {":pk": {"S": "MBOX#nobody#thread-0"}}},
    {
        "IndexName": "inbox",
        "KeyConditionExpression": "inboxOwner = :owner",
        "ExpressionAttributeValues": {":owner": {"S": "seller"}},
        "ScanIndexForward": False,
        "Limit": 3,
    },
    {
        "IndexName": "inbox",
        "KeyConditionExpression": "inboxOwner = :owner AND inboxActivity < :before",
        "ExpressionAttributeValues": {":owner": {"S": "buyer-2"}, ":before": {"S": "2026-03-20"}},
        "FilterExpression": "contains(#text, :digit)",
        "ExpressionAttributeNames": {"#text": "text"},
    },
)


def _pages(client: Any, query: dict[str, Any]) -> list[dict[str, Any]]:
    """Every page of ``query``, following LastEvaluatedKey, without the response metadata."""
    pages: list[dict[str, Any]] = []
    request = {"TableName": TABLE, **query}
    if "FilterExpression" in query:
        request["ExpressionAttributeValues"] = {**query["ExpressionAttributeValues"], ":digit": {"S": "1"}}
    while True:
        page = client.query(**request)
        page.pop("ResponseMetadata")
        pages.append(page)
        if "LastEvaluatedKey" not in page:
            return pages
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def test_queries_answer_exactly_as_moto_does(dynamodb):
    # Given the answers of moto as it is
    expected = [_pages(dynamodb, query) for query in QUERIES]
    assert sum(len(pages) for pages in expected) > len(QUERIES)  # some queries page
    # When the same queries run with the fixes applied / Then every page is the same
    with DynamoDBFixes().applied():
        assert [_pages(dynamodb, query) for query in QUERIES] == expected


def test_a_query_looks_only_at_the_items_it_can_return(dynamodb, monkeypatch):
    # Given a record of how many items moto lists for each query
    listed: list[int] = []
    all_items = Table.all_items

    def recording(table: Table) -> list[Any]:
        items = all_items(table)
        listed.append(len(items))
        return items

    monkeypatch.setattr(Table, "all_items", recording)

    # When a message partition and an inbox are queried with the fixes applied
    with DynamoDBFixes().applied():
        dynamodb.query(TableName=TABLE, **QUERIES[0])
        dynamodb.query(
            TableName=TABLE,
            IndexName="inbox",
            KeyConditionExpression="inboxOwner = :owner",
            ExpressionAttributeValues={":owner": {"S": "seller"}},
        )

    # Then moto lists the partition's 3 messages and the seller's 5 inbox entries, not all 60 items
    assert listed == [3, 5]


def _inbox_pages(client: Any) -> list[list[dict[str, Any]]]:
    """Every owner's inbox, every page, newest first (three to a page)."""
    inbox = {
        "IndexName": "inbox",
        "KeyConditionExpression": "inboxOwner = :owner",
        "ScanIndexForward": False,
        "Limit": 3,
    }
    owners = (*OWNERS, "buyer-3")
    return [_pages(client, {**inbox, "ExpressionAttributeValues": {":owner": {"S": owner}}}) for owner in owners]


def _writes_of_every_kind(client: Any) -> None:
    """Items enter, leave and move between inboxes by every write DynamoDB has."""
    entry = {"inboxOwner": {"S": "buyer-3"}, "inboxActivity": {"S": "2026-04-01T08:00"}}
    client.put_item(TableName=TABLE, Item={"pk": {"S": "MBOX#buyer-3#thread-9"}, "sk": {"S": "MSG#0100"}, **entry})
    client.update_item(  # moves an entry from the seller's inbox to buyer-3's
        TableName=TABLE,
        Key={"pk": {"S": "MBOX#seller#thread-0"}, "sk": {"S": "MSG#0000"}},
        UpdateExpression="SET inboxOwner = :owner",
        ExpressionAttributeValues={":owner": {"S": "buyer-3"}},
    )
    client.update_item(  # takes an entry out of every inbox (sparse index)
        TableName=TABLE,
        Key={"pk": {"S": "MBOX#seller#thread-5"}, "sk": {"S": "MSG#0012"}},
        UpdateExpression="REMOVE inboxOwner",
    )
    client.delete_item(TableName=TABLE, Key={"pk": {"S": "MBOX#buyer-1#thread-4"}, "sk": {"S": "MSG#0004"}})
    client.batch_write_item(
        RequestItems={
            TABLE: [
                {"PutRequest": {"Item": {"pk": {"S": "MBOX#buyer-2#thread-8"}, "sk": {"S": "MSG#0200"}, **entry}}},
                {"DeleteRequest": {"Key": {"pk": {"S": "MBOX#buyer-2#thread-2"}, "sk": {"S": "MSG#0008"}}}},
            ]
        }
    )
    client.transact_write_items(
        TransactItems=[
            {
                "Put": {
                    "TableName": TABLE,
                    "Item": {"pk": {"S": "MBOX#seller#thread-9"}, "sk": {"S": "MSG#0300"}, **entry},
                }
            },
            {"Delete": {"TableName": TABLE, "Key": {"pk": {"S": "MBOX#buyer-2#thread-6"}, "sk": {"S": "MSG#0020"}}}},
        ]
    )
    with pytest.raises(client.exceptions.TransactionCanceledException):  # cancelled: changes nothing
        client.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": TABLE, "Item": {"pk": {"S": "MBOX#x#thread-0"}, "sk": {"S": "MSG#1"}, **entry}}},
                {
                    "ConditionCheck": {
                        "TableName": TABLE,
                        "Key": {"pk": {"S": "MBOX#nobody#thread-0"}, "sk": {"S": "MSG#0000"}},
                        "ConditionExpression": "attribute_exists(pk)",
                    }
                },
            ]
        )


def test_index_queries_follow_every_kind_of_write(dynamodb):
    # Given the fixes applied and the inboxes read once (the index map is made)
    fixes = DynamoDBFixes()
    with fixes.applied():
        _inbox_pages(dynamodb)
        # When items are put, updated into and out of inboxes, deleted, batch-written and written
        # in transactions, one of them cancelled
        _writes_of_every_kind(dynamodb)
        with_fixes = _inbox_pages(dynamodb)
    # Then every inbox page is what moto as it is answers for the table as it now is
    assert fixes.cancelled == 1
    assert with_fixes == _inbox_pages(dynamodb)
    assert any(item["pk"]["S"] == "MBOX#seller#thread-0" for page in with_fixes[3] for item in page["Items"])
