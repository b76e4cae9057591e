"""What each API operation costs in AWS requests and DynamoDB items read, at two inbox sizes.

    python -m benchmarks.api_requests

Everything runs in this process on moto. One seller-like user's inbox is filled with N threads
(N distinct buyers, three messages each, some unread, some awaiting the seller's reply) by
writing the items directly, in the shapes the repositories write; then each operation is called
once as that seller through the real Lambda handler with the real-shaped events of ``events/``.

Requests are counted at botocore's ``BaseClient._make_api_call``, which boto3 and pynamodb both
go through. Items read are counted from the responses (moto's ConsumedCapacity is a fixed number,
so it says nothing): an ``Item`` in GetItem, ``Responses`` of BatchGetItem, ``Items`` of Query,
with Query's ``ScannedCount`` kept beside it.

A first-page operation is independent of inbox size when it makes the same requests at both
sizes and reads the same number of items beyond those it lists: a 10-thread inbox cannot fill a
20-thread page, so a listing reads 10 items there and 20 in a big inbox, and that is not growth.
Prints Markdown (the README pastes it as is) and exits 1 when a first-page operation depends on
inbox size.
"""

from __future__ import annotations

import io
import os
import platform
import sys
import time
import warnings
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager, redirect_stdout
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Final
from unittest import mock

import boto3
from botocore.client import BaseClient
from botocore.exceptions import ClientError
from message_center.data.directory_repository import DirectoryRepository, _login_key, _user_key
from message_center.data.items import (
    LoginItem,
    MessageRefItem,
    PairItem,
    ThreadItem,
    UserItem,
    bind_table,
)
from message_center.data.mappers import to_entry_item, to_message_item
from message_center.domain import inbox
from message_center.domain.ids import new_id, utc_now
from message_center.domain.models import (
    InboxEntry,
    Language,
    Marketplace,
    Message,
    MessageStatus,
    MessageType,
    Offer,
    Order,
    RelatesTo,
    User,
)
from message_center.domain.rules import pair_key
from moto import mock_aws
from pynamodb.models import Model

from local_runtime import emulator
from local_runtime.moto_fixes import DynamoDBFixes
from tests.support.api import ApiResponse, build_event, invoke

ROOT = Path(__file__).resolve().parents[1]
REGION: Final = "eu-central-1"  # Final: a literal type, as the S3 stubs want
TABLE = "MessageCenterBenchmark"
BUCKET = "message-center-attachments-benchmark"
SIZES = (10, 2_000)
PAGE_SIZE = 20
BATCH_WRITE_LIMIT = 25

# The environment of tests/conftest.py's ``aws_env``: moto's credentials, Powertools quiet. The
# functions' settings are installed explicitly (``aws_sandbox``).
ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_REGION": REGION,
    "AWS_DEFAULT_REGION": REGION,
    "POWERTOOLS_SERVICE_NAME": "message-center",
    "POWERTOOLS_METRICS_NAMESPACE": "MessageCenter",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_DEV": "false",
    "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
}
# Would point boto3 away from moto, or at a real account's credentials.
UNSET = ("AWS_ENDPOINT_URL", "AWS_PROFILE")


class BenchmarkError(RuntimeError):
    """An operation did not answer as expected, so its counts would measure the wrong thing."""


# -- counting ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cost:
    """What one API call cost: requests by operation name (first call first), items read."""

    requests: tuple[tuple[str, int], ...]
    items_read: int
    scanned: int  # Query's ScannedCount where there was one, else the items read

    @property
    def total_requests(self) -> int:
        return sum(count for _, count in self.requests)


def items_in_response(operation: str, response: Mapping[str, Any]) -> tuple[int, int]:
    """(items read, items scanned) by one DynamoDB response; writes read nothing."""
    if operation == "GetItem":
        found = int("Item" in response)
        return found, found
    if operation in ("BatchGetItem", "TransactGetItems"):
        responses = response.get("Responses") or {}
        if isinstance(responses, Mapping):  # BatchGetItem: table name → items
            found = sum(len(items) for items in responses.values())
        else:  # TransactGetItems: one entry per key, with "Item" when found
            found = sum(1 for entry in responses if "Item" in entry)
        return found, found
    if operation in ("Query", "Scan"):
        items = len(response.get("Items") or ())
        return items, int(response.get("ScannedCount", items))
    return 0, 0


class RequestCounter:
    """Tallies the AWS requests made since the last ``reset``."""

    def __init__(self) -> None:
        self._requests: Counter[str] = Counter()
        self._items_read = 0
        self._scanned = 0

    def reset(self) -> None:
        self._requests.clear()
        self._items_read = self._scanned = 0

    def record(self, service: str, operation: str, response: Mapping[str, Any]) -> None:
        self._requests[operation if service == "dynamodb" else f"{service}:{operation}"] += 1
        if service == "dynamodb":
            read, scanned = items_in_response(operation, response)
            self._items_read += read
            self._scanned += scanned

    def cost(self) -> Cost:
        return Cost(tuple(self._requests.items()), self._items_read, self._scanned)


@contextmanager
def observing_requests(observe: Callable[[str, str, Mapping[str, Any], Mapping[str, Any]], None]) -> Iterator[None]:
    """Call ``observe(service, operation, params, response)`` for every botocore request (boto3's
    and pynamodb's) while the block runs; a refused request was still made (response ``{}``)."""
    original = BaseClient._make_api_call  # type: ignore[attr-defined]  # private, so not in the stubs

    def observed(client: BaseClient, operation_name: str, api_params: dict[str, Any]) -> Any:
        service = client.meta.service_model.service_name
        try:
            response = original(client, operation_name, api_params)
        except ClientError:
            observe(service, operation_name, api_params, {})
            raise
        observe(service, operation_name, api_params, response)
        return response

    with mock.patch.object(BaseClient, "_make_api_call", observed):
        yield


@contextmanager
def counting_requests() -> Iterator[RequestCounter]:
    """Count every botocore request (boto3's and pynamodb's) while the block runs."""
    counter = RequestCounter()
    with observing_requests(lambda service, operation, _params, response: counter.record(service, operation, response)):
        yield counter


# -- an isolated AWS -----------------------------------------------------------------------


@contextmanager
def aws_sandbox() -> Iterator[None]:
    """moto provisioned like the local runtime (one routine), the API function's settings
    installed, under the tests' environment, restored afterwards."""
    from functions.api.handler import container

    saved = {key: os.environ.get(key) for key in (*ENVIRONMENT, *UNSET)}
    os.environ.update(ENVIRONMENT)
    for key in UNSET:
        os.environ.pop(key, None)
    try:
        with mock_aws():
            resources = emulator.provision(None, REGION, TABLE, BUCKET)
            container.install(emulator.function_settings(None, REGION, resources, "https://api.benchmark.test").api)
            yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


# -- the inbox -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Inbox:
    """The seller whose inbox is measured, and the ids the operations need."""

    size: int
    owner: User
    focus_thread_id: str  # the newest thread: unread, awaiting the owner's reply
    focus_login: str
    focus_message_ids: tuple[str, ...]  # oldest first
    known_buyer_login: str  # has a thread with the owner and an order from them
    known_buyer_order_id: str
    new_buyer_login: str  # has an order from the owner but no thread
    new_buyer_order_id: str
    foreign_offer_id: str  # another seller's offer the owner never asked about


# By rank (0 = newest) modulo 4: (buyer wrote last, seller has read it, buyer has read it).
_STATES = (
    (True, False, True),  # unread and awaiting the seller's reply
    (True, True, True),  # read, awaiting the seller's reply
    (False, True, False),  # the seller answered; the buyer has not read it yet
    (False, True, True),  # the seller answered; both read
)


def _user(user_id: str, login: str, *, business: bool = False) -> User:
    return User(
        id=user_id,
        login=login,
        email=f"{login}@example.com",
        preferred_language=Language.PL,
        business_account=business,
        marketplace=Marketplace.PL,
    )


def _user_items(user: User, unread_threads: int, now: datetime) -> list[Model]:
    """What DirectoryRepository.upsert_user stores, with the badge the threads imply."""
    return [
        UserItem(
            *_user_key(user.id),
            login=user.login,
            email=user.email,
            preferred_language=user.preferred_language.value,
            business_account=user.business_account,
            marketplace=user.marketplace.value,
            unread_threads=unread_threads,
            updated_at=now,
        ),
        LoginItem(*_login_key(user.login), user_id=user.id),
    ]


@dataclass(frozen=True)
class Conversation:
    thread_id: str
    message_ids: list[str]  # oldest first
    items: list[Model]
    badge_changes: Counter[str]  # user id → change of their unread badge


def _conversation(
    seller: User, buyer: User, offer: Offer, last_at: datetime, state: tuple[bool, bool, bool]
) -> Conversation:
    """One thread as ThreadRepository.append_message would have left it after three messages
    (and mark_read after the read flags)."""
    buyer_last, seller_read, buyer_read = state
    authors = (buyer, seller, buyer if buyer_last else seller)
    times = [last_at - timedelta(seconds=10 * (len(authors) - 1 - n)) for n in range(len(authors))]
    thread_id = new_id(times[0])
    participants = sorted((seller.id, buyer.id))
    entries: dict[str, InboxEntry | None] = {seller.id: None, buyer.id: None}
    badges: Counter[str] = Counter()
    items: list[Model] = []
    message_ids: list[str] = []
    for number, (author, sent_at) in enumerate(zip(authors, times, strict=True)):
        recipient = buyer if author is seller else seller
        asks = number == 0  # the buyer's question about the offer opened the thread
        message = Message(
            id=new_id(sent_at),
            thread_id=thread_id,
            owner_id=author.id,
            author_id=author.id,
            author_login=author.login,
            text=f"Wiadomość {number + 1} od {author.login}",
            type=MessageType.ASK_QUESTION if asks else MessageType.MESSAGE_CENTER,
            status=MessageStatus.DELIVERED,
            created_at=sent_at,
            relates_to=RelatesTo(offer_id=offer.id) if asks else RelatesTo(),
            subject=offer.title if asks else None,
        )
        for owner, interlocutor in ((seller, buyer), (buyer, seller)):
            change = inbox.after_message(
                entries[owner.id],
                owner_id=owner.id,
                thread_id=thread_id,
                interlocutor=interlocutor,
                author_id=author.id,
                sent_at=sent_at,
            )
            entries[owner.id] = change.after
            badges[owner.id] += change.badge_delta
        items += [to_message_item(message, owner, recipient.id) for owner in (author.id, recipient.id)]
        items.append(MessageRefItem(f"MSG#{message.id}", "MSG", thread_id=thread_id, participants=participants))
        message_ids.append(message.id)
    for owner, read in ((seller, seller_read), (buyer, buyer_read)):
        entry = entries[owner.id]
        assert entry is not None
        if entry.read != read:
            change = inbox.after_read_flag(entry, read)
            entries[owner.id] = change.after
            badges[owner.id] += change.badge_delta
    items += [
        PairItem(f"PAIR#{pair_key(seller.id, buyer.id)}", "PAIR", thread_id=thread_id),
        ThreadItem(
            f"THREAD#{thread_id}",
            "THREAD",
            participants=participants,
            created_at=times[0],
            last_message_at=times[-1],
            last_message_id=message_ids[-1],
            message_count=len(message_ids),
        ),
        *(to_entry_item(entry) for entry in entries.values() if entry is not None),
    ]
    return Conversation(thread_id, message_ids, items, badges)


def _batch_write(items: Sequence[Model]) -> None:
    """BatchWriteItem, 25 items a request: the bulk of the data in seconds, not minutes."""
    client = boto3.client("dynamodb", region_name=REGION)
    for start in range(0, len(items), BATCH_WRITE_LIMIT):
        chunk = items[start : start + BATCH_WRITE_LIMIT]
        pending: Mapping[str, Any] = {TABLE: [{"PutRequest": {"Item": item.serialize()}} for item in chunk]}
        while pending:
            pending = client.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}


def populate(size: int) -> Inbox:
    """A seller with ``size`` threads, one per buyer, newest first by rank."""
    if size < len(_STATES):
        raise ValueError(f"An inbox needs at least {len(_STATES)} threads to hold every state.")
    connection = bind_table(TABLE, REGION, None)
    now = utc_now()
    seller = _user("seller-bench", "sklep_benchmark", business=True)
    buyers = [_user(f"buyer-{rank:05d}", f"kupujacy_{rank:05d}") for rank in range(size)]
    new_buyer = _user("buyer-new", "nowy_kupujacy")
    other_seller = _user("seller-other", "inny_sklep", business=True)
    offer = Offer("bench-offer-own", seller.id, Marketplace.PL, "Rower miejski")
    foreign_offer = Offer("bench-offer-foreign", other_seller.id, Marketplace.PL, "Kask rowerowy")
    known_order = Order("bench-order-known", buyers[1].id, seller.id, Marketplace.PL, (offer.id,))
    new_order = Order("bench-order-new", new_buyer.id, seller.id, Marketplace.PL, (offer.id,))
    # The handful of offers and orders go through the real repository.
    directory = DirectoryRepository(connection)
    for each_offer in (offer, foreign_offer):
        directory.upsert_offer(each_offer)
    for order in (known_order, new_order):
        directory.upsert_order(order)

    conversations = [
        _conversation(seller, buyer, offer, now - timedelta(minutes=rank + 1), _STATES[rank % len(_STATES)])
        for rank, buyer in enumerate(buyers)
    ]
    items: list[Model] = [item for conversation in conversations for item in conversation.items]
    badges: Counter[str] = Counter()
    for conversation in conversations:
        badges.update(conversation.badge_changes)
    for user in (seller, *buyers, new_buyer, other_seller):
        items += _user_items(user, badges[user.id], now)
    _batch_write(items)
    return Inbox(
        size=size,
        owner=seller,
        focus_thread_id=conversations[0].thread_id,
        focus_login=buyers[0].login,
        focus_message_ids=tuple(conversations[0].message_ids),
        known_buyer_login=buyers[1].login,
        known_buyer_order_id=known_order.id,
        new_buyer_login=new_buyer.login,
        new_buyer_order_id=new_order.id,
        foreign_offer_id=foreign_offer.id,
    )


# -- the operations ------------------------------------------------------------------------


@dataclass(frozen=True)
class Operation:
    label: str
    first_page: bool  # deep pages may cost more in a bigger inbox; first pages must not
    expected_status: int
    event: Callable[[Inbox], dict[str, Any]]  # may make (uncounted) setup calls
    # Sends remember the pairs' threads they wrote in (per container, see PairThreads): each
    # operation starts without that memory, as in a new container, unless this says otherwise.
    remembers_pairs: bool = False


def _call(event: dict[str, Any]) -> ApiResponse:
    # Powertools Metrics prints its EMF document to stdout (and warns when it has none); keep the
    # Markdown clean.
    with redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="No application metrics to publish")
        return invoke(event)


def _threads(box: Inbox, **query: str) -> dict[str, Any]:
    return build_event("api_list_threads", user_id=box.owner.id, query={"limit": str(PAGE_SIZE), **query})


def _focus(name: str, box: Inbox, **overrides: Any) -> dict[str, Any]:
    return build_event(name, user_id=box.owner.id, path={"threadId": box.focus_thread_id}, **overrides)


def _message(name: str, box: Inbox, message_id: str) -> dict[str, Any]:
    return build_event(name, user_id=box.owner.id, path={"messageId": message_id})


def _new_message(box: Inbox, body: dict[str, Any]) -> dict[str, Any]:
    return build_event("api_write_new_message", user_id=box.owner.id, body=body)


def _after_first_page(box: Inbox) -> dict[str, Any]:
    """Page two by cursor: ``before`` = the last listed thread's time (this first call is setup)."""
    threads = _call(_threads(box)).json["threads"]
    cursor = threads[-1]["lastMessageDateTime"] if threads else "2000-01-01T00:00:00.000Z"
    return _threads(box, before=cursor)


OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "get profile (first request after a cold start)",
        True,
        200,
        lambda box: build_event("api_get_profile", user_id=box.owner.id),
    ),
    Operation("badge", True, 200, lambda box: build_event("api_get_badge", user_id=box.owner.id)),
    Operation("list threads", True, 200, lambda box: _threads(box, offset="0")),
    Operation("list threads unread=true", True, 200, lambda box: _threads(box, unread="true")),
    Operation("list threads withoutMyReply=true", True, 200, lambda box: _threads(box, withoutMyReply="true")),
    Operation(
        "list threads unread=true&withoutMyReply=true",
        True,
        200,
        lambda box: _threads(box, unread="true", withoutMyReply="true"),
    ),
    Operation(
        "list threads interlocutor.login=<a buyer>",
        True,
        200,
        lambda box: _threads(box, **{"interlocutor.login": box.focus_login}),
    ),
    Operation("list threads offset=100 (deep page)", False, 200, lambda box: _threads(box, offset="100")),
    Operation("list threads before=<cursor> (page 2)", False, 200, _after_first_page),
    Operation("get thread", True, 200, lambda box: _focus("api_get_thread", box)),
    Operation(
        "list messages",
        True,
        200,
        lambda box: _focus("api_list_messages", box, query={"limit": str(PAGE_SIZE), "offset": "0"}),
    ),
    Operation("get message", True, 200, lambda box: _message("api_get_message", box, box.focus_message_ids[-1])),
    Operation("mark thread read", True, 200, lambda box: _focus("api_mark_thread_read", box, body={"read": True})),
    Operation(
        "mark thread unread",
        True,
        200,
        lambda box: _focus("api_mark_thread_read", box, body={"read": False}),
    ),
    Operation(
        "write in thread",
        True,
        201,
        lambda box: _focus("api_write_in_thread", box, body={"text": "Wysyłka jutro.", "attachments": []}),
    ),
    Operation(
        "write new message: recipient.login (joins the pair's thread)",
        True,
        201,
        lambda box: _new_message(box, {"recipient": {"login": box.focus_login}, "text": "Jeszcze jedno."}),
    ),
    Operation(
        "write new message: recipient.login again (the container remembers the pair's thread)",
        True,
        201,
        lambda box: _new_message(box, {"recipient": {"login": box.focus_login}, "text": "I jeszcze to."}),
        remembers_pairs=True,
    ),
    Operation(
        "write new message: order.id + recipient.login (joins the pair's thread)",
        True,
        201,
        lambda box: _new_message(
            box,
            {
                "order": {"id": box.known_buyer_order_id},
                "recipient": {"login": box.known_buyer_login},
                "text": "Paczka nadana.",
            },
        ),
    ),
    Operation(
        "write new message: order.id + recipient.login (new pair, new thread)",
        True,
        201,
        lambda box: _new_message(
            box,
            {
                "order": {"id": box.new_buyer_order_id},
                "recipient": {"login": box.new_buyer_login},
                "text": "Dziękujemy za zakup.",
            },
        ),
    ),
    Operation(
        "write new message: offer.id (new pair, new thread)",
        True,
        201,
        lambda box: _new_message(box, {"offer": {"id": box.foreign_offer_id}, "text": "Jaki rozmiar?"}),
    ),
    Operation("delete message", True, 204, lambda box: _message("api_delete_message", box, box.focus_message_ids[0])),
)


@dataclass(frozen=True)
class Observation:
    cost: Cost
    listed: int | None  # threads or messages in the response; None when it is not a listing

    @property
    def read_beyond_listed(self) -> int:
        return self.cost.items_read - (self.listed or 0)

    @property
    def scanned_beyond_listed(self) -> int:
        return self.cost.scanned - (self.listed or 0)


def _listed(response: ApiResponse) -> int | None:
    body = response.json if response.status == 200 and response.raw_body else None
    if not isinstance(body, dict):
        return None
    listings = [body[key] for key in ("threads", "messages") if isinstance(body.get(key), list)]
    return sum(map(len, listings)) if listings else None


def measure_inbox(size: int, *, copy_tables_in_transactions: bool = False) -> list[Observation]:
    """Each operation of ``OPERATIONS``, in order, against a fresh ``size``-thread inbox.

    moto's transactions deep-copy the whole table (seconds per send at 2,000 threads), so the
    local runtime's ``DynamoDBFixes`` (item-level rollback) are applied, as ``serve`` does;
    ``copy_tables_in_transactions`` runs moto as it is instead, to check that they change no count.
    Every operation here is expected to commit: a cancelled transaction makes the run invalid.
    """
    from functions.api.handler import container

    observations: list[Observation] = []
    fixes = DynamoDBFixes()
    with ExitStack() as stack:
        stack.enter_context(aws_sandbox())
        if not copy_tables_in_transactions:
            stack.enter_context(fixes.applied())
        counter = stack.enter_context(counting_requests())
        box = populate(size)
        for operation in OPERATIONS:
            event = operation.event(box)
            if not operation.remembers_pairs:
                container.get().messaging.pair_threads.clear()
            counter.reset()  # setup writes and cursor look-ups are not the operation's cost
            response = _call(event)
            cost = counter.cost()
            if fixes.cancelled:
                raise BenchmarkError(f"{operation.label} at {size} threads: a transaction was cancelled.")
            if response.status != operation.expected_status:
                raise BenchmarkError(
                    f"{operation.label} at {size} threads answered {response.status}, expected "
                    f"{operation.expected_status}: {response.raw_body[:300]}"
                )
            observations.append(Observation(cost, _listed(response)))
    return observations


# -- the report ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    operation: Operation
    small: Observation
    large: Observation

    @property
    def same_cost(self) -> bool:
        """Same requests, and no more items read (or scanned) beyond what is listed."""
        small, large = self.small, self.large
        return (
            dict(small.cost.requests) == dict(large.cost.requests)
            and small.read_beyond_listed == large.read_beyond_listed
            and small.scanned_beyond_listed == large.scanned_beyond_listed
        )

    def difference(self) -> str:
        small, large = self.small, self.large
        return (
            f"{self.operation.label}: requests {_requests(small.cost)} vs {_requests(large.cost)}; "
            f"items read {small.cost.items_read} (listing {small.listed}, scanned {small.cost.scanned}) vs "
            f"{large.cost.items_read} (listing {large.listed}, scanned {large.cost.scanned})"
        )


@dataclass(frozen=True)
class Report:
    sizes: tuple[int, int]
    rows: tuple[Row, ...]
    seconds_by_size: tuple[float, float]

    @property
    def size_dependent(self) -> tuple[Row, ...]:
        return tuple(row for row in self.rows if row.operation.first_page and not row.same_cost)

    @property
    def independent(self) -> bool:
        return not self.size_dependent


def measure(sizes: tuple[int, int] = SIZES) -> Report:
    """Measure every operation at a small and a large inbox size."""
    timings: list[float] = []
    runs: list[list[Observation]] = []
    for size in sizes:
        started = time.perf_counter()
        runs.append(measure_inbox(size))
        timings.append(time.perf_counter() - started)
    rows = tuple(Row(op, small, large) for op, small, large in zip(OPERATIONS, *runs, strict=True))
    return Report(sizes, rows, (timings[0], timings[1]))


def _requests(cost: Cost) -> str:
    detail = ", ".join(f"{name} {count}" for name, count in cost.requests)
    return f"{cost.total_requests} ({detail})" if detail else "0"


def _items(observation: Observation) -> str:
    cost = observation.cost
    text = f"{cost.items_read:,}"
    if observation.listed is not None:
        text += f" (lists {observation.listed})"
    if cost.scanned != cost.items_read:
        text += f", scanned {cost.scanned:,}"
    return text


def render(report: Report) -> str:
    small, large = (f"{size:,} threads" for size in report.sizes)
    lines = [
        f"| operation (as the seller, limit {PAGE_SIZE}) | {small}: requests | {small}: items read "
        f"| {large}: requests | {large}: items read | first page: same cost |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for row in report.rows:
        verdict = ("yes" if row.same_cost else "**NO**") if row.operation.first_page else "n/a (deep page)"
        lines.append(
            f"| {row.operation.label} | {_requests(row.small.cost)} | {_items(row.small)} "
            f"| {_requests(row.large.cost)} | {_items(row.large)} | {verdict} |"
        )
    lines += [
        "",
        f"Same cost: the same requests, and the same number of items read beyond those the response "
        f"lists (a {report.sizes[0]:,}-thread inbox cannot fill a {PAGE_SIZE}-thread page). Items read "
        "are counted from the DynamoDB responses; requests include every AWS call the handler made.",
        "(Cold imports: `python -m benchmarks.cold_start`, measured as Lambda starts the functions.)",
    ]
    return "\n".join(lines)


def machine() -> str:
    return (
        f"Python {platform.python_version()} ({platform.python_implementation()}) on "
        f"{platform.platform()}, {os.cpu_count()} CPUs"
    )


def main() -> int:
    started = time.perf_counter()
    print(f"Machine: {machine()}\n")
    report = measure()
    print(render(report))
    print()
    for row in report.size_dependent:
        print(f"Depends on inbox size: {row.difference()}")
    setup = ", ".join(
        f"{size:,} threads {seconds:.1f} s" for size, seconds in zip(report.sizes, report.seconds_by_size, strict=True)
    )
    print(f"Run time: {time.perf_counter() - started:.1f} s (setup and measurement: {setup}).")
    print(f"first-page operations independent of inbox size: {'yes' if report.independent else 'no'}")
    return 0 if report.independent else 1


if __name__ == "__main__":
    sys.exit(main())
