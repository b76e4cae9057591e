"""Responses of the local runtime's moto (``local_runtime.moto_fixes``): attribute values are
written directly, not looked up member by member through the service model, and every answer is
exactly the one moto writes without the fixes.

moto's serializer looked up each of an attribute value's ten members under several aliases: a
quarter of the local runtime's processor time under load went into writing responses.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from message_center.data.schema import create_table_request
from moto import mock_aws
from moto.core import serialize

from local_runtime.moto_fixes import DynamoDBFixes

REGION = "eu-central-1"
TABLE = "MessageCenterResponsesTest"
KEY = {"pk": {"S": "MBOX#anna#thread-1"}, "sk": {"S": "MSG#0001"}}


def _item(attributes: int) -> dict[str, Any]:
    """A message copy with every kind of attribute value, and ``attributes`` plain ones more."""
    return {
        **KEY,
        "inboxOwner": {"S": "anna"},
        "inboxActivity": {"S": "2026-03-01T10:00"},
        "text": {"S": "Czy mogę odebrać rower osobiście? Zażółć gęślą jaźń"},
        "size": {"N": "1024.5"},
        "raw": {"B": b"\x89PNG\r\n\x1a\n\x00"},
        "flags": {"BS": [b"\x00", b"\x01\x02"]},
        "labels": {"SS": ["pilne", "zamówienie"]},
        "counts": {"NS": ["1", "2.5"]},
        "read": {"BOOL": False},
        "deleted": {"NULL": True},
        "empty": {"M": {}},
        "none": {"L": []},
        "attachments": {
            "L": [
                {"M": {"id": {"S": "a1"}, "size": {"N": "10"}, "thumb": {"B": b"\xff"}}},
                {"L": [{"BOOL": True}, {"SS": ["x"]}, {"M": {"deep": {"NULL": True}}}]},
            ]
        },
        **{f"extra{number}": {"S": f"wartość {number}"} for number in range(attributes)},
    }


@pytest.fixture
def dynamodb(aws_env: None) -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("dynamodb", region_name=REGION)
        client.create_table(**create_table_request(TABLE))
        client.put_item(TableName=TABLE, Item=_item(0))
        yield client


def _answers(client: Any) -> dict[str, Any]:
    """GetItem, Query, an update's old and new images, and the stream's records, as boto3 parsed them."""
    answers: dict[str, Any] = {
        "get": client.get_item(TableName=TABLE, Key=KEY)["Item"],
        "query": client.query(
            TableName=TABLE,
            IndexName="inbox",
            KeyConditionExpression="inboxOwner = :owner",
            ExpressionAttributeValues={":owner": {"S": "anna"}},
        )["Items"],
        "update": client.update_item(
            TableName=TABLE,
            Key=KEY,
            UpdateExpression="SET #read = :read",
            ExpressionAttributeNames={"#read": "read"},
            ExpressionAttributeValues={":read": {"BOOL": True}},
            ReturnValues="ALL_OLD",
        )["Attributes"],
    }
    client.update_item(  # back as it was, for the next run
        TableName=TABLE,
        Key=KEY,
        UpdateExpression="SET #read = :read",
        ExpressionAttributeNames={"#read": "read"},
        ExpressionAttributeValues={":read": {"BOOL": False}},
    )
    streams = boto3.client("dynamodbstreams", region_name=REGION)
    stream_arn = client.describe_table(TableName=TABLE)["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=stream_arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    records = streams.get_records(ShardIterator=iterator["ShardIterator"])["Records"]
    answers["stream"] = [
        (record["eventName"], record["dynamodb"].get("OldImage"), record["dynamodb"]["NewImage"]) for record in records
    ]
    return answers


def test_every_kind_of_attribute_value_is_answered_as_moto_answers_it(dynamodb):
    # Given moto's answers as it is
    expected = _answers(dynamodb)
    assert expected["get"]["raw"] == {"B": b"\x89PNG\r\n\x1a\n\x00"}
    # When the same requests are answered with the fixes applied
    with DynamoDBFixes().applied():
        answers = _answers(dynamodb)
    # Then every answer is the same (the stream has the second run's two updates more)
    stream, expected_stream = answers.pop("stream"), expected.pop("stream")
    assert answers == expected
    assert len(stream) == len(expected_stream) + 2 and stream[: len(expected_stream)] == expected_stream


def test_an_items_attribute_values_are_not_looked_up_member_by_member(dynamodb, monkeypatch):
    # Given a count of moto's attribute look-ups while answering
    looked_up: list[str] = []
    pick = serialize.AttributePicker.__call__

    def counting(picker: Any, context: Any) -> Any:
        looked_up.append(context.key)
        return pick(picker, context)

    monkeypatch.setattr(serialize.AttributePicker, "__call__", counting)

    def look_ups_for(attributes: int) -> int:
        dynamodb.put_item(TableName=TABLE, Item=_item(attributes))
        looked_up.clear()
        dynamodb.get_item(TableName=TABLE, Key=KEY)
        return len(looked_up)

    # When an item of 10 and one of 200 more attributes are read with the fixes applied
    with DynamoDBFixes().applied():
        small, large = look_ups_for(10), look_ups_for(200)
    # Then both took the same few look-ups (the response's own members), none per attribute value
    assert small == large < 10
    # (moto as it is looks each value's members up: thousands for the larger item)
    assert look_ups_for(200) > 2000
