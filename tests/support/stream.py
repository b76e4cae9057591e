"""The table's DynamoDB stream as the deployed event source mapping delivers it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import boto3

from tests.conftest import REGION, TABLE


class StreamReader:
    """Reads every shard of the table's stream from where the last read stopped."""

    def __init__(self) -> None:
        self._dynamodb = boto3.client("dynamodb", region_name=REGION)
        self._streams = boto3.client("dynamodbstreams", region_name=REGION)
        self._arn = self._dynamodb.describe_table(TableName=TABLE)["Table"]["LatestStreamArn"]
        self._positions: dict[str, str] = {}

    def read(self) -> list[dict[str, Any]]:
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
            records.extend(response["Records"])
            self._positions[shard_id] = response["NextShardIterator"]
        return records


def deployed_filter(record: dict[str, Any]) -> bool:
    """The event source mapping's filter: inserted message copies only."""
    return record["eventName"] == "INSERT" and record["dynamodb"]["Keys"]["pk"]["S"].startswith("MBOX#")


def batch(records: list[dict[str, Any]]) -> dict[str, Any]:
    """A Lambda event of the filtered records (dates as epoch seconds, as Lambda sends them)."""
    return {"Records": [_as_lambda_sends(record) for record in records if deployed_filter(record)]}


def unfiltered(records: list[dict[str, Any]]) -> dict[str, Any]:
    """A Lambda event of every record, as if the mapping had no filter."""
    return {"Records": [_as_lambda_sends(record) for record in records]}


def _as_lambda_sends(record: dict[str, Any]) -> dict[str, Any]:
    dynamodb = dict(record["dynamodb"])
    created = dynamodb.get("ApproximateCreationDateTime")
    if isinstance(created, datetime):
        dynamodb["ApproximateCreationDateTime"] = int(created.timestamp())
    return {**record, "dynamodb": dynamodb}
