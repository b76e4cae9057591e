"""The pynamodb items and the CreateTable request both follow data/schema.py."""

from __future__ import annotations

from message_center.data import schema
from message_center.data.items import ALL_ITEM_CLASSES, InboxEntryItem


def test_every_item_class_uses_the_schema_keys():
    for item_class in ALL_ITEM_CLASSES:
        attributes = item_class.get_attributes()
        assert attributes["pk"].attr_name == schema.PARTITION_KEY and attributes["pk"].is_hash_key
        assert attributes["sk"].attr_name == schema.SORT_KEY and attributes["sk"].is_range_key


def test_inbox_entry_indexes_are_the_schema_indexes():
    # Given the indexes pynamodb queries
    indexes = {
        index.Meta.index_name: (
            index.Meta.attributes["owner"].attr_name,
            index.Meta.attributes["activity"].attr_name,
        )
        for index in (
            InboxEntryItem.inbox_index,
            InboxEntryItem.unread_index,
            InboxEntryItem.awaiting_index,
            InboxEntryItem.unread_awaiting_index,
        )
    }
    # Then they are exactly the indexes the table is created with
    assert indexes == {spec.name: (spec.hash_key, spec.range_key) for spec in schema.GLOBAL_INDEXES}
    # And the item writes every index key attribute the indexes read
    written = {attribute.attr_name for attribute in InboxEntryItem.get_attributes().values()}
    assert {name for pair in indexes.values() for name in pair} <= written


def test_create_table_request_matches_the_schema():
    request = schema.create_table_request("T")
    assert request["BillingMode"] == "PAY_PER_REQUEST"
    assert request["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
    assert [(k["AttributeName"], k["KeyType"]) for k in request["KeySchema"]] == [
        ("pk", "HASH"),
        ("sk", "RANGE"),
    ]
    assert {gsi["IndexName"] for gsi in request["GlobalSecondaryIndexes"]} == {s.name for s in schema.GLOBAL_INDEXES}
    defined = {a["AttributeName"] for a in request["AttributeDefinitions"]}
    assert defined == set(schema.key_attributes())
