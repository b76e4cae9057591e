"""The embedded emulator answers its own process without a socket (``local_runtime.in_process``),
exactly as it answers over one.

The local runtime's functions run in the emulator's process; over the loopback socket every call
cost a new TCP connection and a server thread, about a third of the runtime's processor time under
load. The answers must not change: the same items, the same errors, the same objects, and URLs
that still work from outside the process.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
import urllib3.util.connection
from botocore.exceptions import ClientError
from message_center.data.schema import create_table_request

from local_runtime import emulator

REGION = emulator.DEFAULT_REGION
TABLE = "MessageCenterInProcessTest"
BUCKET = "message-center-in-process-test"


@pytest.fixture(scope="module")
def aws() -> Iterator[emulator.AwsEmulator]:
    running = emulator.AwsEmulator(port=0)
    running.start()
    try:
        emulator.client("dynamodb", running.endpoint_url, REGION).create_table(**create_table_request(TABLE))
        emulator.s3_client(running.endpoint_url, REGION).create_bucket(
            Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION}
        )
        yield running
    finally:
        running.stop()


@pytest.fixture
def connections(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """Every TCP connection botocore (urllib3) opens during the test."""
    opened: list[tuple[str, int]] = []
    create = urllib3.util.connection.create_connection

    def recording(address: tuple[str, int], *args: Any, **kwargs: Any) -> Any:
        opened.append(address)
        return create(address, *args, **kwargs)

    monkeypatch.setattr(urllib3.util.connection, "create_connection", recording)
    monkeypatch.setattr("urllib3.connection.connection.create_connection", recording)
    return opened


def _calls(endpoint_url: str, run: int) -> dict[str, Any]:
    """DynamoDB, DynamoDB Streams, S3 and SES calls as the functions make them; what they answered."""
    dynamodb = emulator.client("dynamodb", endpoint_url, REGION)
    s3 = emulator.s3_client(endpoint_url, REGION)
    key = {"pk": {"S": f"MBOX#anna#thread-{run}"}, "sk": {"S": "MSG#0001"}}
    item = {
        **key,
        "text": {"S": "Dzień dobry, czy rower jest dostępny?"},
        "inboxOwner": {"S": "anna"},
        "inboxActivity": {"S": f"2026-03-0{run}T10:00"},
        "size": {"N": "42"},
        "raw": {"B": b"\x00\x01binary"},
        "tags": {"SS": ["a", "b"]},
        "nested": {"M": {"list": {"L": [{"S": "x"}, {"N": "1"}, {"NULL": True}, {"BOOL": False}]}}},
    }
    dynamodb.put_item(TableName=TABLE, Item=item)
    answers: dict[str, Any] = {
        "get": dynamodb.get_item(TableName=TABLE, Key=key, ConsistentRead=True)["Item"],
        "query": dynamodb.query(
            TableName=TABLE,
            IndexName="inbox",
            KeyConditionExpression="inboxOwner = :owner",
            ExpressionAttributeValues={":owner": {"S": "anna"}},
        )["Items"],
    }
    try:
        dynamodb.put_item(TableName=TABLE, Item=item, ConditionExpression="attribute_not_exists(pk)")
    except ClientError as error:
        answers["refused"] = (error.response["Error"]["Code"], error.response["ResponseMetadata"]["HTTPStatusCode"])
    stream_arn = dynamodb.describe_table(TableName=TABLE)["Table"]["LatestStreamArn"]
    streams = emulator.client("dynamodbstreams", endpoint_url, REGION)
    shard = streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=stream_arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    records = streams.get_records(ShardIterator=iterator["ShardIterator"])["Records"]
    answers["stream"] = [record["dynamodb"]["NewImage"] for record in records if record["eventName"] == "INSERT"]
    object_key = f"attachments/{run}/zdjęcie z_podkreśleniem.pdf"
    s3.put_object(Bucket=BUCKET, Key=object_key, Body=b"%PDF-1.7\n", Metadata={"original_name": "a.pdf"})
    head = s3.head_object(Bucket=BUCKET, Key=object_key)
    answers["object"] = (
        s3.get_object(Bucket=BUCKET, Key=object_key)["Body"].read(),
        head["ContentLength"],
        head["Metadata"],
    )
    answers["missing"] = _error_code(lambda: s3.head_object(Bucket=BUCKET, Key="attachments/none"))
    answers["link"] = s3.generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": object_key})
    ses = emulator.client("ses", endpoint_url, REGION)
    ses.verify_domain_identity(Domain="relay.example")
    answers["mail"] = _error_code(
        lambda: ses.send_raw_email(Source="nobody@unverified.example", RawMessage={"Data": b"Subject: x\r\n\r\nx"})
    )
    answers["mail sent"] = "MessageId" in ses.send_raw_email(
        Source="a@relay.example", Destinations=["b@example.com"], RawMessage={"Data": b"Subject: x\r\n\r\nx"}
    )
    return answers


def _error_code(call: Any) -> str:
    try:
        call()
    except ClientError as error:
        return str(error.response["Error"]["Code"])
    return "no error"


def test_the_emulators_own_process_reaches_it_without_a_connection(aws, connections):
    # When this process calls DynamoDB, DynamoDB Streams, S3 and SES at the emulator's URL
    answers = _calls(aws.endpoint_url, 1)
    # Then it got its answers and opened no TCP connection
    assert answers["get"]["text"] == {"S": "Dzień dobry, czy rower jest dostępny?"}
    assert answers["object"][0] == b"%PDF-1.7\n"
    assert connections == []
    # And a presigned link it made, followed the way a browser does, works over the socket
    assert requests.get(answers["link"], timeout=10).content == b"%PDF-1.7\n"
    assert len(connections) == 1


def test_the_answers_are_the_same_as_over_the_socket(aws):
    # Given the answers of calls made without a socket
    in_process = _calls(aws.endpoint_url, 2)
    # When the same calls go over the socket (the in-process path taken back for them)
    transport = aws._in_process
    assert transport is not None
    transport.uninstall()
    try:
        over_the_socket = _calls(aws.endpoint_url, 3)
    finally:
        transport.install()
    # Then every answer is the same: items and attribute types, index pages, errors, stream
    # images, objects with their metadata, presigned downloads, mail
    over_the_socket["get"]["pk"] = over_the_socket["get"]["pk"] | {"S": "MBOX#anna#thread-2"}
    over_the_socket["get"]["inboxActivity"] = {"S": "2026-03-02T10:00"}
    assert in_process["get"] == over_the_socket["get"]
    assert in_process["refused"] == over_the_socket["refused"] == ("ConditionalCheckFailedException", 400)
    assert in_process["object"] == over_the_socket["object"]
    assert in_process["object"][2] == {"original_name": "a.pdf"}
    assert in_process["missing"] == over_the_socket["missing"] == "404"
    assert requests.get(in_process["link"], timeout=10).content == b"%PDF-1.7\n"
    assert in_process["link"].split("?")[0] == over_the_socket["link"].split("?")[0].replace("/3/", "/2/")
    assert in_process["mail"] == over_the_socket["mail"] == "MessageRejected"
    assert in_process["mail sent"] and over_the_socket["mail sent"]
    assert len(over_the_socket["query"]) == len(in_process["query"]) + 1  # one item more by then
    assert over_the_socket["query"][: len(in_process["query"])] == in_process["query"]
    assert over_the_socket["stream"][: len(in_process["stream"])] == in_process["stream"]


def test_other_urls_still_go_over_the_network(aws, connections):
    # Given nothing listens on another local port
    # When a client calls it
    other = emulator.client("dynamodb", "http://127.0.0.1:9", REGION)
    with pytest.raises(Exception, match="Could not connect"):
        other.list_tables()
    # Then botocore tried a real connection there
    assert ("127.0.0.1", 9) in connections
