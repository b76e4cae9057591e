"""The one definition of the Message Center table: keys, indexes, stream.

The pynamodb models (``items.py``), the local runtime's ``CreateTable`` call and the CDK
storage construct all read these constants, and a test proves the synthesized template
matches them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

PARTITION_KEY = "pk"
SORT_KEY = "sk"
STREAM_VIEW_TYPE = "NEW_AND_OLD_IMAGES"
TTL_ATTRIBUTE = "expiresAt"


@dataclass(frozen=True)
class IndexSpec:
    """A global secondary index: string hash and range keys, all attributes projected."""

    name: str
    hash_key: str
    range_key: str


# A user's inbox entries, newest activity first. The range key is "<ISO time>#<thread id>" so it
# is unique and sorts by time.
INBOX_INDEX = IndexSpec("inbox", "inboxOwner", "inboxActivity")
# Sparse: the hash attribute exists only while the entry is unread / awaiting the owner's reply /
# both, so these queries read only the entries they return.
UNREAD_INDEX = IndexSpec("unread", "unreadOwner", "inboxActivity")
AWAITING_INDEX = IndexSpec("awaitingReply", "awaitingOwner", "inboxActivity")
UNREAD_AWAITING_INDEX = IndexSpec("unreadAwaitingReply", "unreadAwaitingOwner", "inboxActivity")

GLOBAL_INDEXES: tuple[IndexSpec, ...] = (INBOX_INDEX, UNREAD_INDEX, AWAITING_INDEX, UNREAD_AWAITING_INDEX)


def key_attributes() -> list[str]:
    """Every attribute that is a key of the table or of an index (all strings)."""
    names = [PARTITION_KEY, SORT_KEY]
    for index in GLOBAL_INDEXES:
        for name in (index.hash_key, index.range_key):
            if name not in names:
                names.append(name)
    return names


def create_table_request(table_name: str) -> dict[str, Any]:
    """Keyword arguments for DynamoDB ``CreateTable`` (local runtime and tests)."""
    return {
        "TableName": table_name,
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [{"AttributeName": n, "AttributeType": "S"} for n in key_attributes()],
        "KeySchema": [
            {"AttributeName": PARTITION_KEY, "KeyType": "HASH"},
            {"AttributeName": SORT_KEY, "KeyType": "RANGE"},
        ],
        "GlobalSecondaryIndexes": [
            {
                "IndexName": index.name,
                "KeySchema": [
                    {"AttributeName": index.hash_key, "KeyType": "HASH"},
                    {"AttributeName": index.range_key, "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
            for index in GLOBAL_INDEXES
        ],
        "StreamSpecification": {"StreamEnabled": True, "StreamViewType": STREAM_VIEW_TYPE},
    }
