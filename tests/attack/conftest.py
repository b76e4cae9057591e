"""The attack suite's world: the API behind the gateway's real JWT authorizer, and one buyer's
private objects (a thread, a message, an attachment, a device) for the others to go after."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from ulid import ULID

from tests.conftest import BUCKET, REGION, TABLE
from tests.support.files import allowed_files
from tests.support.gateway import Answer, GatewayClient
from tests.support.stream import StreamReader

if TYPE_CHECKING:
    from local_runtime.emulator import FunctionSettings

OWNER, INTERLOCUTOR, STRANGER = "anna_kowalska", "rowery-kraków", "jan_prywatny"
# The marker is unique enough that finding it in a response means the text leaked (ASCII, since
# JSON answers may escape the rest).
PRIVATE_MARKER = "prywatne-7f3c9e"
PRIVATE_TEXT = f"Czy rower będzie gotowy do odbioru? [{PRIVATE_MARKER}]"


@dataclass
class World:
    api: GatewayClient
    users: dict[str, str]  # login → user id
    tokens: dict[str, str]  # login → valid access token
    ids: dict[str, str]  # path parameter → the owner's object of that kind
    secrets: dict[str, str]  # what → a value only its owner may see

    def random_ids(self) -> dict[str, str]:
        """Well-formed ids of the same kinds that belong to nothing."""
        return {name: str(ULID()) for name in self.ids}


@pytest.fixture
def api(aws: FunctionSettings) -> GatewayClient:
    return GatewayClient(user_pool_id=aws.directory.user_pool_id)


@pytest.fixture
def world(api: GatewayClient, users: dict[str, str]) -> World:
    """Given anna asked the seller a question with a photo attached, and registered her phone."""
    tokens = {login: api.token(user_id, login) for login, user_id in users.items()}
    owner = tokens[OWNER]
    photo, _ = allowed_files()["photo.png"]
    attachment = api.json(
        "POST", "/messaging/message-attachments", owner, {"filename": "rower.png", "size": len(photo)}
    )
    uploaded = api.request(
        "PUT",
        f"/messaging/message-attachments/{attachment['id']}",
        token=owner,
        headers={"content-type": "image/png"},
        body=photo,
    )
    assert uploaded.status == 200, uploaded.body
    message = api.json(
        "POST",
        "/messaging/messages",
        owner,
        {"offer": {"id": "pl-offer-1001"}, "text": PRIVATE_TEXT, "attachments": [{"id": attachment["id"]}]},
    )
    device = api.json("POST", "/messaging/devices", owner, {"platform": "APNS", "token": "c0ffee" * 10 + "0123"})
    ids = {
        "threadId": message["thread"]["id"],
        "messageId": message["id"],
        "attachmentId": attachment["id"],
        "deviceId": device["id"],
    }
    secrets = {
        **ids,
        "text": PRIVATE_MARKER,
        "user id": users[OWNER],
        "e-mail": "anna.kowalska@example.com",
    }
    return World(api=api, users=users, tokens=tokens, ids=ids, secrets=secrets)


def stored() -> str:
    """Everything the API keeps (the table's items and the attachment files), comparable."""
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    items: list[dict[str, Any]] = []
    for page in dynamodb.get_paginator("scan").paginate(TableName=TABLE):  # test-only: see it all
        items.extend(page["Items"])
    rows = sorted(json.dumps(item, sort_keys=True, default=str) for item in items)
    return json.dumps({"items": rows, "files": _files()})


def _files() -> list[tuple[str, str]]:
    s3 = boto3.client("s3", region_name=REGION)
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET)
    return sorted((entry["Key"], entry["ETag"]) for page in pages for entry in page.get("Contents", []))


class Writes:
    """What was written since the last look: the table's stream (every change of an item shows
    there) and the attachment files. Cheaper than comparing whole snapshots after each request."""

    def __init__(self) -> None:
        self._stream = StreamReader()
        self._stream.read()
        self._files = _files()

    def since_last_look(self) -> list[str]:
        changes = [f"{r['eventName']} {r['dynamodb']['Keys']['pk']['S']}" for r in self._stream.read()]
        files = _files()
        if files != self._files:
            changes.append("attachment files")
        self._files = files
        return changes


def comparable(answer: Answer) -> tuple[int, str, bytes]:
    """What a client can tell two answers apart by (not the per-request id)."""
    return answer.status, answer.content_type, answer.body
