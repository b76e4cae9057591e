"""A send's reads of different kinds of items in one ``BatchGetItem`` (all in the one table)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from pynamodb.connection import Connection

from ..domain.lookups import Found, Wanted
from ..domain.models import Marketplace, Offer, Order
from ..domain.rules import pair_key
from ..domain.sending import IdempotencyRecord
from . import schema
from .directory_repository import _login_key, _to_user, _user_key
from .idempotency_repository import idempotency_key
from .items import IdempotencyItem, InboxEntryItem, LoginItem, OfferItem, OrderItem, PairItem, UserItem
from .mappers import entry_key, to_entry

# BatchGetItem's limit; a send asks for at most seven.
MAX_KEYS = 100
# UnprocessedKeys come back only under throttling; give up (an error, hence a retry) after these.
_MAX_ROUNDS = 5


class LookupRepository:
    """Answers a ``Wanted`` with one ``BatchGetItem`` (more only for keys DynamoDB left
    unprocessed). Reads are strongly consistent: a send decides on what it reads."""

    def __init__(self, connection: Connection, clock: Callable[[], datetime] | None = None) -> None:
        self._connection = connection
        self._clock = clock or (lambda: datetime.now(UTC))

    def lookup(self, wanted: Wanted) -> Found:
        if wanted.size == 0:
            return Found()
        if wanted.size > MAX_KEYS:
            raise ValueError(f"one BatchGetItem reads at most {MAX_KEYS} keys, {wanted.size} wanted")
        keys = _keys(wanted)
        raw_items = self._batch_get(list(keys))
        users: dict[str, Any] = {}
        login_ids: dict[str, str] = {}
        offers: dict[str, Offer] = {}
        orders: dict[str, Order] = {}
        pairs: dict[str, str] = {}
        entries = {}
        claims = {}
        now = self._clock()
        for raw in raw_items:
            kind, name = keys[(raw[schema.PARTITION_KEY]["S"], raw[schema.SORT_KEY]["S"])]
            if kind == "user":
                user = _to_user(UserItem.from_raw_data(raw))
                users[user.id] = user
            elif kind == "login":
                login_ids[name] = LoginItem.from_raw_data(raw).user_id
            elif kind == "offer":
                offer = OfferItem.from_raw_data(raw)
                offers[name] = Offer(name, offer.seller_id, Marketplace(offer.marketplace), offer.title)
            elif kind == "order":
                order = OrderItem.from_raw_data(raw)
                orders[name] = Order(
                    id=name,
                    buyer_id=order.buyer_id,
                    seller_id=order.seller_id,
                    marketplace=Marketplace(order.marketplace),
                    offer_ids=tuple(str(offer_id) for offer_id in order.offer_ids or ()),
                )
            elif kind == "pair":
                pairs[name] = PairItem.from_raw_data(raw).thread_id
            elif kind == "entry":
                entry = to_entry(InboxEntryItem.from_raw_data(raw))
                entries[(entry.owner_id, entry.thread_id)] = entry
            else:
                claim = IdempotencyItem.from_raw_data(raw)
                # TTL deletion lags; an expired key is treated as gone (as IdempotencyRepository.get does).
                if claim.expires_at is None or claim.expires_at >= now:
                    owner, _, key = name.partition("\n")
                    claims[(owner, key)] = IdempotencyRecord(claim.message_id, claim.thread_id, claim.request_hash)
        return Found(users, login_ids, offers, orders, pairs, entries, claims)

    def _batch_get(self, keys: list[tuple[str, str]]) -> list[dict[str, Any]]:
        table = InboxEntryItem.Meta.table_name
        pending = [{schema.PARTITION_KEY: {"S": pk}, schema.SORT_KEY: {"S": sk}} for pk, sk in keys]
        found: list[dict[str, Any]] = []
        for _ in range(_MAX_ROUNDS):
            response = self._connection.batch_get_item(table, pending, consistent_read=True)  # type: ignore[arg-type]
            found += response.get("Responses", {}).get(table, [])
            pending = response.get("UnprocessedKeys", {}).get(table, {}).get("Keys", [])
            if not pending:
                return found
        raise RuntimeError("DynamoDB left keys unprocessed in every round")


def _keys(wanted: Wanted) -> dict[tuple[str, str], tuple[str, str]]:
    """Each item key -> (kind, the name the caller used for it)."""
    keys: dict[tuple[str, str], tuple[str, str]] = {}
    keys |= {_user_key(user_id): ("user", user_id) for user_id in wanted.users}
    keys |= {_login_key(login): ("login", login.casefold()) for login in wanted.logins}
    keys |= {(f"OFFER#{offer_id}", "OFFER"): ("offer", offer_id) for offer_id in wanted.offers}
    keys |= {(f"ORDER#{order_id}", "ORDER"): ("order", order_id) for order_id in wanted.orders}
    for user_a, user_b in wanted.pairs:
        key = pair_key(user_a, user_b)
        keys[(f"PAIR#{key}", "PAIR")] = ("pair", key)
    keys |= {entry_key(owner, thread): ("entry", "") for owner, thread in wanted.entries}
    keys |= {idempotency_key(owner, key): ("claim", f"{owner}\n{key}") for owner, key in wanted.claims}
    return keys
