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
