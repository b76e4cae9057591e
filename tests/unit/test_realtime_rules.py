"""Pure rules of the live channel: which inbox changes are events, receipts, keys, the feed's
window, the subprotocol carrying the token, and the connection service's refusals."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from message_center.domain import realtime
from message_center.domain.errors import ValidationError
from message_center.domain.ids import lowest_id_at, new_id
from message_center.domain.models import InboxEntry, Language, Marketplace, User
from message_center.domain.realtime import Connection, EventType
from message_center.services.realtime import (
    ConnectionRefused,
    ConnectionService,
    EventFeedService,
    token_from_subprotocols,
)

T0 = datetime(2026, 11, 26, 16, 40, tzinfo=UTC)
ENTRY = InboxEntry(
    owner_id="user-shop",
    thread_id="01M8B2SA61K65JJX1V0M46XWEA",
    interlocutor_id="user-anna",
    interlocutor_login="anna_kowalska",
    interlocutor_avatar_url=None,
    last_message_at=T0,
    last_author_id="user-anna",
    read=False,
    unread_count=2,
    version=3,
)


def _user(user_id: str, *, receipts: bool = True) -> User:
    return User(user_id, user_id, f"{user_id}@example.test", Language.PL, False, Marketplace.PL, read_receipts=receipts)


def test_marking_a_thread_read_is_a_read_state_change_and_a_receipt() -> None:
    after = replace(ENTRY, read=True, unread_count=0, version=4, last_read_at=T0 + timedelta(minutes=3))
    assert realtime.read_state_changed(ENTRY, after)
    assert realtime.newly_read_at(ENTRY, after) == T0 + timedelta(minutes=3)


def test_a_new_message_is_neither_a_read_state_change_nor_a_receipt() -> None:
    # The entry changes because a message arrived: message.created reports it
    after = replace(ENTRY, last_message_at=T0 + timedelta(minutes=1), unread_count=3, version=4)
    assert not realtime.read_state_changed(ENTRY, after)
    assert realtime.newly_read_at(ENTRY, after) is None


def test_marking_unread_updates_the_thread_but_sends_no_receipt() -> None:
    before = replace(ENTRY, read=True, unread_count=0, last_read_at=T0)
    after = replace(before, read=False, unread_count=1, version=4)
    assert realtime.read_state_changed(before, after)
    assert realtime.newly_read_at(before, after) is None


@pytest.mark.parametrize(
    ("reader", "viewer", "shared"),
    [(True, True, True), (False, True, False), (True, False, False), (False, False, False)],
)
def test_receipts_flow_only_between_users_who_both_share_them(reader: bool, viewer: bool, shared: bool) -> None:
    assert realtime.receipts_shared(_user("a", receipts=reader), _user("b", receipts=viewer)) is shared
    assert not realtime.receipts_shared(None, _user("b"))


def test_the_delivery_key_is_the_same_for_a_redelivered_record_and_differs_per_recipient_and_type() -> None:
    key = realtime.delivery_key("6c4d3de7505a", EventType.MESSAGE_CREATED, "user-shop")
    assert key == realtime.delivery_key("6c4d3de7505a", EventType.MESSAGE_CREATED, "user-shop")
    assert key != realtime.delivery_key("6c4d3de7505a", EventType.MESSAGE_CREATED, "user-anna")
    assert key != realtime.delivery_key("6c4d3de7505a", EventType.THREAD_UPDATED, "user-shop")
    assert key != realtime.delivery_key("7d5e4ef8616b", EventType.MESSAGE_CREATED, "user-shop")


def test_a_connection_expires_with_the_two_hour_limit() -> None:
    assert Connection("c1", "user-anna", T0).expires_at == T0 + timedelta(hours=2)


def test_the_feed_window_starts_a_day_back_or_at_the_cursor_and_ends_before_the_settle_time() -> None:
    window = realtime.feed_window(None, T0)
    assert window.after == lowest_id_at(T0 - timedelta(hours=24))
    assert window.until < new_id(T0 - timedelta(milliseconds=999))
    assert window.until > new_id(T0 - timedelta(seconds=1, milliseconds=1))
    cursor = new_id(T0 - timedelta(minutes=5))
    assert realtime.feed_window(cursor, T0).after == cursor
    # a cursor younger than the settle time: nothing to read yet
    assert realtime.feed_window(new_id(T0), T0).empty


@pytest.mark.parametrize(
    ("offered", "token"),
    [
        (["message-center.v1", "eyJ.a.b"], "eyJ.a.b"),
        (["eyJ.a.b", "message-center.v1"], "eyJ.a.b"),
        (["message-center.v1"], None),
        (["eyJ.a.b"], None),
        (["message-center.v1", "eyJ.a.b", "eyJ.c.d"], None),
        ([""], None),
    ],
)
def test_the_token_is_the_one_subprotocol_next_to_ours(offered: list[str], token: str | None) -> None:
    assert token_from_subprotocols(offered) == token


class _Refused(Exception):
    pass


class _Tokens:
    def verify(self, token: str) -> dict[str, Any]:
        if token != "good":
            raise _Refused("forged")
        return {"sub": "user-anna"}


class _Connections:
    def __init__(self) -> None:
        self.added: list[Connection] = []

    def add(self, live: Connection) -> None:
        self.added.append(live)

    def owner(self, connection_id: str) -> str | None:
        return None

    def remove(self, user_id: str, connection_id: str) -> None:
        raise AssertionError("not expected")

    def of_user(self, user_id: str, now: datetime) -> list[str]:
        return []


class _Sockets:
    def post(self, connection_id: str, payload: bytes) -> None:
        raise AssertionError("not expected")


def test_a_refused_token_stores_no_connection_and_a_good_one_stores_it_for_its_subject() -> None:
    connections = _Connections()
    service = ConnectionService(
        connections, _Tokens(), _Sockets(), gone=LookupError, invalid_token=_Refused, clock=lambda: T0
    )
    with pytest.raises(ConnectionRefused):
        service.connect("c1", ["message-center.v1", "forged"])
    with pytest.raises(ConnectionRefused):
        service.connect("c1", ["good"])
    assert connections.added == []
    assert service.connect("c1", ["message-center.v1", "good"]) == "user-anna"
    assert connections.added == [Connection("c1", "user-anna", T0)]


class _Feed:
    def after(self, user_id: str, after: str, until: str, limit: int) -> list[dict[str, Any]]:
        return [{"id": new_id(T0 - timedelta(minutes=1))}][:limit]


@pytest.mark.parametrize("cursor", ["", "xyz", "01M8B2SA61K65JJX1V0M46XWE", "01M8B2SA61K65JJX1V0M46XWEAA"])
def test_a_cursor_that_is_no_event_id_is_refused(cursor: str) -> None:
    with pytest.raises(ValidationError):
        EventFeedService(_Feed(), clock=lambda: T0).list("user-anna", cursor, 10)  # type: ignore[arg-type]


def test_the_next_cursor_is_the_last_event_returned_or_where_the_page_started() -> None:
    page = EventFeedService(_Feed(), clock=lambda: T0).list("user-anna", None, 10)  # type: ignore[arg-type]
    assert page.cursor == page.events[-1]["id"]
    young = new_id(T0)
    assert EventFeedService(_Feed(), clock=lambda: T0).list("user-anna", young, 10).cursor == young  # type: ignore[arg-type]


def test_the_management_api_adapter_tells_a_gone_connection_from_other_failures() -> None:
    # Given the management API answering 410 for one connection and throttling another
    import boto3
    from botocore.exceptions import ClientError
    from botocore.stub import Stubber
    from message_center.adapters.websocket import ConnectionGone, WebSocketConnections

    client = boto3.client(
        "apigatewaymanagementapi",
        region_name="eu-central-1",
        endpoint_url="https://k7x2m9q4ab.execute-api.eu-central-1.amazonaws.com/live",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    stubber = Stubber(client)
    stubber.add_client_error("post_to_connection", "GoneException", http_status_code=410)
    stubber.add_client_error("post_to_connection", "LimitExceededException", http_status_code=429)
    stubber.add_response("post_to_connection", {}, {"ConnectionId": "c3", "Data": b'{"type":"pong"}'})
    connections = WebSocketConnections(client)
    with stubber:
        # When posting to each
        with pytest.raises(ConnectionGone):
            connections.post("c1", b"{}")
        with pytest.raises(ClientError):
            connections.post("c2", b"{}")
        connections.post("c3", b'{"type":"pong"}')
    # Then every expected call was made
    stubber.assert_no_pending_responses()
