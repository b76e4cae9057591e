"""Several items of different kinds wanted at once (one round trip), and what was found.

A send needs the author's profile, their Idempotency-Key, the offer or order it names, the
recipient, the pair's thread and both inbox entries. Each read depends on at most one earlier
one, so the service asks for everything it can name at each step in one ``Wanted`` and the data
layer answers it with one ``BatchGetItem``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from .models import InboxEntry, Offer, Order, User
from .rules import pair_key
from .sending import IdempotencyRecord


@dataclass(frozen=True)
class Wanted:
    """Keys to read together. ``pairs`` are (user, user) in any order, ``entries`` (owner,
    thread), ``claims`` (owner, Idempotency-Key)."""

    users: frozenset[str] = frozenset()
    logins: frozenset[str] = frozenset()
    offers: frozenset[str] = frozenset()
    orders: frozenset[str] = frozenset()
    pairs: frozenset[tuple[str, str]] = frozenset()
    entries: frozenset[tuple[str, str]] = frozenset()
    claims: frozenset[tuple[str, str]] = frozenset()

    @property
    def size(self) -> int:
        return sum(map(len, (self.users, self.logins, self.offers, self.orders, self.pairs, self.entries, self.claims)))


@dataclass(frozen=True)
class Found:
    """What a ``Wanted`` found; a key without an item is simply absent."""

    users: Mapping[str, User] = field(default_factory=dict)
    login_ids: Mapping[str, str] = field(default_factory=dict)  # login (case-folded) -> user id
    offers: Mapping[str, Offer] = field(default_factory=dict)
    orders: Mapping[str, Order] = field(default_factory=dict)
    pairs: Mapping[str, str] = field(default_factory=dict)  # pair key -> thread id
    entries: Mapping[tuple[str, str], InboxEntry] = field(default_factory=dict)
    claims: Mapping[tuple[str, str], IdempotencyRecord] = field(default_factory=dict)  # unexpired only

    def user(self, user_id: str | None) -> User | None:
        return self.users.get(user_id) if user_id is not None else None

    def login(self, login: str) -> str | None:
        return self.login_ids.get(login.casefold())

    def thread_of_pair(self, user_a: str, user_b: str) -> str | None:
        return self.pairs.get(pair_key(user_a, user_b))

    def entry(self, owner_id: str, thread_id: str) -> InboxEntry | None:
        return self.entries.get((owner_id, thread_id))

    def claim(self, owner_id: str, key: str) -> IdempotencyRecord | None:
        return self.claims.get((owner_id, key))
