"""The live channel: $connect checks the access token before anything is stored; table changes
reach exactly the connections of the users concerned, once, and the event feed keeps them."""

from __future__ import annotations

import time
from typing import Any

import boto3
import pytest

from tests.conftest import REGION
from tests.support.api import call
from tests.support.realtime import (
    CapturedSockets,
    access_token,
    connect,
    deliver,
    install,
    invoke_websocket,
    live_batch,
    signed_token,
    websocket,
)
from tests.support.stream import StreamReader

ANNA_PHONE, ANNA_LAPTOP = "AnnaPhoneConn0=", "AnnaLaptopCon0="
SHOP_DESK, SHOP_TABLET = "ShopDeskConnA0=", "ShopTabletCon0="
STRANGER = "StrangerConn00="


def _realtime_items(aws: Any) -> list[dict[str, Any]]:
    # A test may look at the whole table; the functions never scan.
    table = boto3.client("dynamodb", region_name=REGION)
    return table.scan(TableName=aws.realtime.realtime_table_name)["Items"]


def _feed_entries(aws: Any) -> list[str]:
    return sorted(item["sk"]["S"] for item in _realtime_items(aws) if item["sk"]["S"].startswith("EVENT#"))


@pytest.fixture
def sockets(aws, monkeypatch) -> CapturedSockets:
    return install(aws, monkeypatch)


@pytest.fixture
def reader(aws) -> StreamReader:
    return StreamReader()


@pytest.fixture
def connected(aws, users, sockets, question_thread, reader) -> str:
    """Given anna asked rowery-kraków a question (the thread id returned), anna is connected on
    her laptop, the shop on its desk and tablet, and olena (not in the thread) on hers; the
    changes so far have been delivered."""
    deliver(live_batch(reader.read()))
    for connection_id, login in (
        (ANNA_LAPTOP, "anna_kowalska"),
        (SHOP_DESK, "rowery-kraków"),
        (SHOP_TABLET, "rowery-kraków"),
        (STRANGER, "olena_k"),
    ):
        assert connect(connection_id, access_token(aws, login))["statusCode"] == 200
    sockets.sent.clear()
    return question_thread


def _anna_writes(users: dict[str, str], thread_id: str, text: str = "Czy mogę odebrać rower osobiście?") -> dict:
    response = call(
        "api_write_in_thread", user_id=users["anna_kowalska"], path={"threadId": thread_id}, body={"text": text}
    )
    assert response.status == 201, response.raw_body
    return response.json


# -- $connect -------------------------------------------------------------------------------------


def test_a_valid_access_token_opens_the_channel(aws, users, sockets):
    # Given anna's access token from the user pool
    token = access_token(aws, "anna_kowalska")
    # When her browser connects offering it as the second subprotocol
    result = connect(ANNA_PHONE, token)
    # Then the handshake is accepted with our subprotocol, and the connection is recorded as hers
    assert result == {"statusCode": 200, "headers": {"Sec-WebSocket-Protocol": "message-center.v1"}}
    keys = {(item["pk"]["S"], item["sk"]["S"]) for item in _realtime_items(aws)}
    assert keys == {(f"USER#{users['anna_kowalska']}", f"CONN#{ANNA_PHONE}"), (f"CONN#{ANNA_PHONE}", "CONN")}
    # ... and the record expires with API Gateway's two-hour connection limit
    expires = {int(item["expiresAt"]["N"]) for item in _realtime_items(aws)}
    assert all(7190 <= value - time.time() <= 7200 for value in expires)


@pytest.mark.parametrize(
    "protocol",
    [
        None,  # no subprotocols at all
        "message-center.v1",  # no token
        "chat, {token}",  # not our protocol
        "message-center.v1, {forged}",  # signed with another key
        "message-center.v1, {expired}",
        "message-center.v1, {other_client}",  # for another app client
        "message-center.v1, {other_issuer}",
        "message-center.v1, {id_token}",  # an ID token is not an access token
        "message-center.v1, not-a-jwt",
    ],
)
def test_the_handshake_is_refused_without_a_valid_access_token_and_nothing_is_stored(aws, users, sockets, protocol):
    # Given tokens that are missing, forged, expired or not for this API
    import jwt
    from cryptography.hazmat.primitives.asymmetric import rsa

    anna = users["anna_kowalska"]
    forger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = int(time.time())
    tokens = {
        "token": access_token(aws, "anna_kowalska"),
        "forged": jwt.encode(
            {
                "sub": anna,
                "iss": aws.realtime.token_issuer,
                "client_id": aws.realtime.token_audiences,
                "token_use": "access",
                "exp": now + 600,
            },
            forger,
            algorithm="RS256",
            headers={"kid": "dummy"},
        ),
        "expired": signed_token(aws, anna, iat=now - 7200, exp=now - 60),
        "other_client": signed_token(aws, anna, client_id="someone-elses-app"),
        "other_issuer": signed_token(
            aws, anna, iss="https://cognito-idp.eu-central-1.amazonaws.com/eu-central-1_Other"
        ),
        "id_token": signed_token(aws, anna, token_use="id"),
    }
    offered = protocol.format(**tokens) if protocol is not None else None
    # When a browser connects with it
    result = invoke_websocket(websocket("ws_connect", ANNA_PHONE, protocol=offered))
    # Then the handshake is refused and no connection is recorded
    assert result == {"statusCode": 401}
    assert _realtime_items(aws) == []


def test_ping_is_answered_and_disconnect_forgets_the_connection(aws, users, sockets):
    # Given anna is connected
    assert connect(ANNA_PHONE, access_token(aws, "anna_kowalska"))["statusCode"] == 200
    # When her client pings, then sends an unknown action
    assert invoke_websocket(websocket("ws_default_ping", ANNA_PHONE))["statusCode"] == 200
    invoke_websocket(websocket("ws_default_ping", ANNA_PHONE, body='{"action": "subscribe"}'))
    # Then it gets a pong, then an error naming the problem
    assert sockets.sent[ANNA_PHONE] == [{"type": "pong"}, {"type": "error", "code": "UNKNOWN_ACTION"}]
    # When the connection closes
    assert invoke_websocket(websocket("ws_disconnect", ANNA_PHONE))["statusCode"] == 200
    # Then its records are gone
    assert _realtime_items(aws) == []


# -- live events ----------------------------------------------------------------------------------


def test_a_new_message_reaches_each_device_of_both_participants_once_and_no_stranger(
    aws, users, sockets, connected, reader
):
    # When anna writes in the thread and the stream delivers the change
    sent = _anna_writes(users, connected)
    result = deliver(live_batch(reader.read()))
    # Then nothing failed
    assert result == {"batchItemFailures": []}
    # ... both of the shop's devices got the message as the shop's API shows it, with its badge
    for device in (SHOP_DESK, SHOP_TABLET):
        (event,) = sockets.events(device)
        assert event["type"] == "message.created"
        assert event["version"] == 1
        assert event["threadId"] == connected
        assert event["data"]["message"]["id"] == sent["id"]
        assert event["data"]["message"]["text"] == "Czy mogę odebrać rower osobiście?"
        assert event["data"]["message"]["author"] == {"login": "anna_kowalska", "isInterlocutor": True}
        assert event["data"]["thread"]["read"] is False
        assert event["data"]["thread"]["unreadCount"] == 2
        assert event["data"]["badge"] == {"unreadThreads": 1}
    assert sockets.events(SHOP_DESK) == sockets.events(SHOP_TABLET)
    # ... anna's other device got her own view of it
    (own,) = sockets.events(ANNA_LAPTOP)
    assert own["data"]["message"]["author"] == {"login": "anna_kowalska", "isInterlocutor": False}
    assert own["data"]["thread"]["read"] is True
    # ... and olena, who is not in the thread, got nothing at all
    assert sockets.sent[STRANGER] == []


def test_a_redelivered_batch_writes_and_sends_nothing_twice(aws, users, sockets, connected, reader):
    # Given anna's message was delivered live
    _anna_writes(users, connected)
    batch = live_batch(reader.read())
    deliver(batch)
    entries = _feed_entries(aws)
    # When the stream delivers the same batch again
    assert deliver(batch) == {"batchItemFailures": []}
    # Then every device still has exactly one event, and the feeds hold no second entry
    assert [len(sockets.events(device)) for device in (SHOP_DESK, SHOP_TABLET, ANNA_LAPTOP)] == [1, 1, 1]
    assert _feed_entries(aws) == entries


def test_a_gone_connection_is_removed_and_the_others_still_get_the_event(aws, users, sockets, connected, reader):
    # Given the shop's tablet has closed its connection (the management API answers 410)
    sockets.gone.add(SHOP_TABLET)
    # When anna writes
    _anna_writes(users, connected)
    assert deliver(live_batch(reader.read())) == {"batchItemFailures": []}
    # Then the desk got the event, and the tablet's connection records are gone
    assert len(sockets.events(SHOP_DESK)) == 1
    keys = {item["sk"]["S"] for item in _realtime_items(aws)} | {item["pk"]["S"] for item in _realtime_items(aws)}
    assert f"CONN#{SHOP_TABLET}" not in keys
    assert f"CONN#{SHOP_DESK}" in keys


def test_a_failing_connection_neither_blocks_nor_repeats_the_others(aws, users, sockets, connected, reader):
    # Given the shop's tablet cannot be sent to for now (throttled)
    sockets.failing.add(SHOP_TABLET)
    _anna_writes(users, connected)
    batch = live_batch(reader.read())
    # When the change is delivered
    result = deliver(batch)
    # Then the record is reported failed (the stream retries it), while the desk and anna's laptop
    # already have their event
    assert len(result["batchItemFailures"]) == 1
    assert len(sockets.events(SHOP_DESK)) == 1
    assert len(sockets.events(ANNA_LAPTOP)) == 1
    assert sockets.events(SHOP_TABLET) == []
    # When the tablet recovers and the stream retries
    sockets.failing.clear()
    assert deliver(batch) == {"batchItemFailures": []}
    # Then the tablet gets the same event (same id), and nobody else gets it twice
    assert [event["id"] for event in sockets.events(SHOP_TABLET)] == [e["id"] for e in sockets.events(SHOP_DESK)]
    assert [len(sockets.events(device)) for device in (SHOP_DESK, SHOP_TABLET, ANNA_LAPTOP)] == [1, 1, 1]


def test_reading_a_thread_updates_the_readers_devices_and_sends_a_receipt_to_the_author(
    aws, users, sockets, connected, reader
):
    # When the shop opens the thread on its desk
    response = call(
        "api_mark_thread_read", user_id=users["rowery-kraków"], path={"threadId": connected}, body={"read": True}
    )
    assert response.status == 200
    assert deliver(live_batch(reader.read())) == {"batchItemFailures": []}
    # Then both of the shop's devices see the thread read and the badge cleared
    for device in (SHOP_DESK, SHOP_TABLET):
        (event,) = sockets.events(device)
        assert event["type"] == "thread.updated"
        assert (event["data"]["thread"]["read"], event["data"]["badge"]) == (True, {"unreadThreads": 0})
    # ... anna gets a read receipt naming the shop and the message it saw
    (receipt,) = sockets.events(ANNA_LAPTOP)
    assert receipt["type"] == "thread.read"
    assert receipt["data"]["readBy"] == {"id": users["rowery-kraków"], "login": "rowery-kraków"}
    messages = call("api_list_messages", user_id=users["anna_kowalska"], path={"threadId": connected}).json
    assert receipt["data"]["lastReadMessageId"] == messages["messages"][0]["id"]
    # ... and her REST thread shows the same "seen at"
    thread = call("api_get_thread", user_id=users["anna_kowalska"], path={"threadId": connected}).json
    assert thread["interlocutorLastReadAt"] == receipt["data"]["readAt"]
    assert sockets.sent[STRANGER] == []


@pytest.mark.parametrize("who_turns_off", ["rowery-kraków", "anna_kowalska"])
def test_read_receipts_turned_off_by_either_side_are_neither_sent_nor_shown(
    aws, users, sockets, connected, reader, who_turns_off
):
    # Given one of them turned read receipts off in their profile
    response = call("api_update_profile", user_id=users[who_turns_off], body={"readReceipts": False})
    assert (response.status, response.json["readReceipts"]) == (200, False)
    # When the shop opens the thread
    call("api_mark_thread_read", user_id=users["rowery-kraków"], path={"threadId": connected}, body={"read": True})
    assert deliver(live_batch(reader.read())) == {"batchItemFailures": []}
    # Then the shop's devices still see the thread read, but anna gets no receipt
    assert [e["type"] for e in sockets.events(SHOP_DESK)] == ["thread.updated"]
    assert sockets.events(ANNA_LAPTOP) == []
    # ... and her REST thread shows no "seen at"
    thread = call("api_get_thread", user_id=users["anna_kowalska"], path={"threadId": connected}).json
    assert thread["interlocutorLastReadAt"] is None


def test_deleting_a_message_for_me_reaches_my_other_devices_only(aws, users, sockets, connected, reader):
    # Given the shop's copy of anna's question
    messages = call("api_list_messages", user_id=users["rowery-kraków"], path={"threadId": connected}).json
    message_id = messages["messages"][0]["id"]
    # When the shop deletes it for itself
    assert call("api_delete_message", user_id=users["rowery-kraków"], path={"messageId": message_id}).status == 204
    assert deliver(live_batch(reader.read())) == {"batchItemFailures": []}
    # Then both shop devices are told, and anna (who still sees the message) is not
    for device in (SHOP_DESK, SHOP_TABLET):
        (event,) = sockets.events(device)
        assert (event["type"], event["data"]["messageId"]) == ("message.deleted", message_id)
        assert event["data"]["thread"]["id"] == connected
    assert sockets.events(ANNA_LAPTOP) == []


def test_a_foreign_message_arrives_live_with_its_automatic_translation(aws, users, sockets, reader):
    # Given the shop (Polish) is connected
    deliver(live_batch(reader.read()))
    assert connect(SHOP_DESK, access_token(aws, "rowery-kraków"))["statusCode"] == 200
    # When olena asks about the shop's offer in Ukrainian
    response = call(
        "api_write_new_message",
        user_id=users["olena_k"],
        body={
            "offer": {"id": "pl-offer-1001"},
            "text": "Добрий день! Чи можна замовити цей велосипед із доставкою до Кошице наступного тижня?",
        },
    )
    assert response.status == 201, response.raw_body
    assert deliver(live_batch(reader.read())) == {"batchItemFailures": []}
    # Then the shop's event shows the message as its API does: original text, Polish translation
    (event,) = sockets.events(SHOP_DESK)
    message = event["data"]["message"]
    assert message["language"] == "uk"
    assert message["translation"]["targetLanguage"] == "pl"
    assert message["translation"]["machineTranslated"] is True
    shown = call("api_get_message", user_id=users["rowery-kraków"], path={"messageId": message["id"]}).json
    assert shown["translation"] == message["translation"]


# -- the event feed -------------------------------------------------------------------------------


def test_the_feed_pages_my_events_oldest_first_with_its_cursor(aws, users, sockets, connected, reader):
    # Given anna wrote twice and the shop read the thread, all delivered live
    first = _anna_writes(users, connected, "Czy rower ma dzwonek?")
    second = _anna_writes(users, connected, "A błotniki?")
    call("api_mark_thread_read", user_id=users["rowery-kraków"], path={"threadId": connected}, body={"read": True})
    assert deliver(live_batch(reader.read())) == {"batchItemFailures": []}
    time.sleep(1.1)  # the feed serves events once they are older than its settle time
    # When the shop polls its feed one event at a time
    seen: list[dict[str, Any]] = []
    cursor = None
    for _ in range(6):
        query = {"limit": "1", **({"from": cursor} if cursor else {})}
        page = call("api_list_events", user_id=users["rowery-kraków"], query=query)
        assert page.status == 200, page.raw_body
        seen.extend(page.json["events"])
        cursor = page.json["cursor"]
        if not page.json["events"]:
            break
    # Then it gets its own events, oldest first, each once: anna's question from before it
    # connected, then the same events its devices got
    assert [e["type"] for e in seen] == ["message.created", "message.created", "message.created", "thread.updated"]
    assert [e["data"]["message"]["id"] for e in seen[1:3]] == [first["id"], second["id"]]
    assert seen[1:] == sockets.events(SHOP_DESK)
    # ... and the stranger's feed holds nothing of this thread
    assert call("api_list_events", user_id=users["olena_k"]).json["events"] == []


@pytest.mark.parametrize("cursor", ["not-a-cursor", "01JDQ5Z3W4X5Y6Z7A8B9C0D1E", "'; DROP TABLE--"])
def test_a_bad_cursor_is_a_problem_document(aws, users, cursor):
    response = call("api_list_events", user_id=users["anna_kowalska"], query={"from": cursor})
    assert response.status == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json["code"] == "VALIDATION_ERROR"
