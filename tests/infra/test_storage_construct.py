from __future__ import annotations

from typing import Any

from message_center.data import schema

Resource = tuple[str, dict[str, Any]]


def _key_schema(hash_key: str, range_key: str) -> list[dict[str, str]]:
    return [
        {"AttributeName": hash_key, "KeyType": "HASH"},
        {"AttributeName": range_key, "KeyType": "RANGE"},
    ]


def test_table_keys_and_attributes_come_from_the_schema(table: Resource) -> None:
    # Given the synthesized stack's one DynamoDB table
    _, definition = table

    # When reading its key definitions
    props = definition["Properties"]

    # Then the primary key and every key attribute (all strings) are the schema's
    assert props["KeySchema"] == _key_schema(schema.PARTITION_KEY, schema.SORT_KEY)
    assert sorted(props["AttributeDefinitions"], key=lambda a: a["AttributeName"]) == sorted(
        ({"AttributeName": name, "AttributeType": "S"} for name in schema.key_attributes()),
        key=lambda a: a["AttributeName"],
    )


def test_every_global_index_matches_the_schema(table: Resource) -> None:
    # Given the synthesized table
    _, definition = table

    # When indexing its GSIs by name
    indexes = {index["IndexName"]: index for index in definition["Properties"]["GlobalSecondaryIndexes"]}

    # Then there is exactly one per IndexSpec, with its keys and every attribute projected
    assert set(indexes) == {spec.name for spec in schema.GLOBAL_INDEXES}
    for spec in schema.GLOBAL_INDEXES:
        assert indexes[spec.name] == {
            "IndexName": spec.name,
            "KeySchema": _key_schema(spec.hash_key, spec.range_key),
            "Projection": {"ProjectionType": "ALL"},
        }


def test_deployed_table_has_the_same_shape_as_the_local_one(table: Resource) -> None:
    # Given the CreateTable request the local runtime sends to the emulator
    local = schema.create_table_request("MessageCenter")

    # When comparing it with the synthesized table
    props = table[1]["Properties"]

    # Then keys, indexes, billing and stream agree, so local runs exercise the deployed shape
    assert props["KeySchema"] == local["KeySchema"]
    assert props["GlobalSecondaryIndexes"] == local["GlobalSecondaryIndexes"]
    assert props["BillingMode"] == local["BillingMode"]
    assert props["StreamSpecification"] == {"StreamViewType": local["StreamSpecification"]["StreamViewType"]}


def test_table_is_on_demand_with_stream_recovery_ttl_and_encryption(table: Resource) -> None:
    # Given / When the synthesized table
    props = table[1]["Properties"]

    # Then
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["StreamSpecification"] == {"StreamViewType": schema.STREAM_VIEW_TYPE}
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert props["TimeToLiveSpecification"] == {"AttributeName": schema.TTL_ATTRIBUTE, "Enabled": True}
    assert props["SSESpecification"] == {"SSEEnabled": True}  # AWS-managed KMS key (aws/dynamodb)


def test_table_survives_stack_deletion_and_replacement(table: Resource) -> None:
    # Given / When the synthesized table
    _, definition = table

    # Then neither CloudFormation nor a console delete can drop the conversations
    assert definition["DeletionPolicy"] == "Retain"
    assert definition["UpdateReplacePolicy"] == "Retain"
    assert definition["Properties"]["DeletionProtectionEnabled"] is True
