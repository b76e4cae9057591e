"""moto's DynamoDB made fit for long, busy runs: the local runtime (`serve`) and the benchmarks.

moto 5 has four habits that are harmless in a short test and break a runtime under load:

1. **TransactWriteItems copies whole tables.** Before a transaction it deep-copies every table the
   transaction names (once per item it writes), and it "rolls back" a cancelled one by replacing
   the table with the copy. The copy costs time proportional to the table (most of a send, once the
   table holds a few thousand items); and the replacement table comes with a copy of the stream
   shard, while the stream poller's shard iterators keep reading the old shard, which never
   receives another record: after one cancelled transaction nobody is notified of anything again.
   Here the items a transaction names are saved before it runs and, if it is cancelled, put back
   exactly as they were (absent ones removed), and the stream records it emitted are withdrawn;
   tables and their streams are never copied or replaced.
2. **Every model instance is kept forever.** moto appends each instance it creates to a process-wide
   list (for its ``/moto-api/data.json`` dashboard): every item a Query returns (results are deep
   copies), every old image an update makes, every stream record, every transaction's table copy.
   Here DynamoDB and DynamoDB Streams models are not kept (nothing in moto reads those lists but
   the dashboard).
3. **Requests run side by side.** moto serves each request in its own thread without locking a
   table, so a stream reader could see (and deliver) a transaction's writes before it is cancelled,
   and two conditional writes could both pass their check. Here DynamoDB and DynamoDB Streams
   requests are served one at a time, which makes every request, transactions included, atomic.
4. **A Query reads the whole table.** moto answers every Query by listing and sorting every item of
   the table, then keeping those of the queried partition or index key: each read costs time in
   proportion to the table, and a runtime under load gets slower with every message (half a second
   per Query at 15,000 items). Here a Query on the table is given only its partition, and one on an
   index only the items whose index key matches; moto then lists, sorts and pages them as before.

``DynamoDBFixes().install()`` applies all four to the moto of this process (the emulator runs
in-process), ``uninstall()`` takes them back. One installation at a time.
"""

from __future__ import annotations

import copy
import inspect
import threading
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from moto.core.model_instances import model_data
from moto.dynamodb import models as dynamodb_models
from moto.dynamodb.models.dynamo_type import DynamoType, Item
from moto.dynamodb.models.table import StreamShard, Table
from moto.dynamodb.responses import DynamoHandler
from moto.dynamodbstreams.responses import DynamoDBStreamsHandler

# moto's services whose model instances are not kept (see 2.).
_UNTRACKED_SERVICES = ("dynamodb", "dynamodbstreams")

# Held while moto serves a DynamoDB or DynamoDB Streams request (fix 3.); hold it to change moto's
# DynamoDB state from outside a request.
serialised = threading.RLock()
_installed: list[DynamoDBFixes] = []
_in_transaction = threading.local()


class _KeepNothing(list[Any]):
    """An ``instances_tracked`` list that keeps nothing (moto appends every new instance to it)."""

    def append(self, instance: Any) -> None:
        pass


class _CopyKeepingTables:
    """Stands in for the ``copy`` module in moto's DynamoDB backend: inside a transaction run by
    ``DynamoDBFixes``, a deep copy of a table is the table itself (the rollback is done item by
    item instead); everything else is copied as usual."""

    def __init__(self, real: ModuleType) -> None:
        self._real = real

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    def deepcopy(self, value: Any, memo: dict[int, Any] | None = None) -> Any:
        if isinstance(value, Table) and getattr(_in_transaction, "active", False):
            return value
        return self._real.deepcopy(value, memo)


@dataclass
class _SavedItem:
    """One item a transaction names, as it was before (``item`` None: it did not exist)."""

    table: Table
    hash_key: DynamoType
    range_key: DynamoType | None
    item: Item | None

    def restore(self) -> None:
        # moto's table: {hash: item}, or {hash: {range: item}} when there is a range key.
        items: Any = self.table.items
        if self.range_key is not None:
            items = items[self.hash_key]
            key = self.range_key
        else:
            key = self.hash_key
        if self.item is None:
            items.pop(key, None)
        else:
            items[key] = self.item


@dataclass
class _Rollback:
    """What a cancelled transaction must undo: the items it names and the stream records it emitted."""

    items: list[_SavedItem]
    stream_lengths: list[tuple[Table, StreamShard, int]]  # (table, its stream shard, records before)

    @classmethod
    def before(cls, backend: Any, transact_items: list[dict[str, Any]]) -> _Rollback:
        saved: list[_SavedItem] = []
        streams: dict[str, tuple[Table, StreamShard, int]] = {}
        for entry in transact_items:
            found = _named_item(backend, entry)
            if found is None:  # malformed: moto refuses the transaction before writing anything
                continue
            table, hash_key, range_key = found
            current = table.get_item(hash_key, range_key)
            # A copy, not the item: an Update changes the stored item in place.
            saved.append(_SavedItem(table, hash_key, range_key, None if current is None else copy.deepcopy(current)))
            shard = table.stream_shard
            if shard is not None and table.name not in streams:
                streams[table.name] = (table, shard, len(shard.items))
        return cls(saved, list(streams.values()))

    def apply(self) -> None:
        # Last saved first: an item named twice (which moto refuses) ends as it was before both.
        for saved in reversed(self.items):
            saved.restore()
        for table, shard, length in self.stream_lengths:
            if len(shard.items) >= length and shard is table.stream_shard:
                # Sequence numbers are positions in the shard: the next write reuses the withdrawn
                # ones, which no reader has seen (requests are serialised).
                del shard.items[length:]


def _named_item(backend: Any, entry: dict[str, Any]) -> tuple[Table, DynamoType, DynamoType | None] | None:
    """(table, hash key, range key) of the item one ``TransactItems`` entry writes or checks."""
    try:
        ((operation, request),) = entry.items()
        table = backend.tables.get(request["TableName"])
        if table is None:
            return None
        attributes = request["Item"] if operation == "Put" else request["Key"]
        hash_key = DynamoType(attributes[table.hash_key_attr])
        range_key = DynamoType(attributes[table.range_key_attr]) if table.range_key_attr is not None else None
    except (AttributeError, KeyError, TypeError, ValueError):
        return None
    return table, hash_key, range_key


class DynamoDBFixes:
    """The four fixes of this module's docstring, installed into this process's moto.

    Counts the transactions that committed and those that were cancelled (rolled back here).
    """

    def __init__(self) -> None:
        self.committed = 0
        self.cancelled = 0
        self._undo: list[Callable[[], None]] = []

    @property
    def installed(self) -> bool:
        return bool(self._undo)

    def install(self) -> None:
        """Patch moto (idempotent for this instance; another installed instance is an error)."""
        if self.installed:
            return
        if _installed:
            raise RuntimeError("moto's DynamoDB fixes are already installed by another owner")
        _installed.append(self)
        self._replace(dynamodb_models, "copy", _CopyKeepingTables(copy))
        self._replace(
            dynamodb_models.DynamoDBBackend,
            "transact_write_items",
            self._transact_write_items(dynamodb_models.DynamoDBBackend.transact_write_items),
        )
        for handler in (DynamoHandler, DynamoDBStreamsHandler):
            self._replace(handler, "call_action", _one_at_a_time(handler.call_action))
        for service in _UNTRACKED_SERVICES:
            for model in list(model_data[service].values()):
                self._replace(model, "instances_tracked", _KeepNothing())
        self._replace(Table, "query", _over_candidates_only(Table.query))

    def uninstall(self) -> None:
        """Put moto back as it was (idempotent)."""
        while self._undo:
            self._undo.pop()()
        if self in _installed:
            _installed.remove(self)

    @contextmanager
    def applied(self) -> Iterator[DynamoDBFixes]:
        """Installed for the duration of a ``with`` block."""
        self.install()
        try:
            yield self
        finally:
            self.uninstall()

    def _replace(self, owner: Any, name: str, value: Any) -> None:
        had_own = name in vars(owner)
        original = vars(owner).get(name)
        setattr(owner, name, value)
        self._undo.append(lambda: setattr(owner, name, original) if had_own else delattr(owner, name))

    def _transact_write_items(self, original: Callable[..., None]) -> Callable[..., None]:
        fixes = self

        def transact_write_items(backend: Any, transact_items: list[dict[str, Any]]) -> None:
            with serialised:
                rollback = _Rollback.before(backend, transact_items)
                _in_transaction.active = True
                try:
                    original(backend, transact_items)
                except Exception:
                    rollback.apply()
                    fixes.cancelled += 1
                    raise
                finally:
                    _in_transaction.active = False
                fixes.committed += 1

        return transact_write_items


def trim_read_stream_records() -> int:
    """Drop the DynamoDB stream records every reader has read; returns how many were dropped.

    moto keeps every record a stream ever had (with old and new images), so a busy local runtime
    grows by them; DynamoDB itself trims records after 24 hours. A shard is trimmed up to the
    oldest position of the shard iterators moto still holds (those a reader may still use; see
    ``emulator.prune_stream_iterators``), never past it; a shard nobody reads keeps everything.
    moto numbers records by their position in the shard, so the shard's starting sequence number
    moves up by as many as are dropped and every record keeps its number.
    """
    from moto.dynamodbstreams.models import dynamodbstreams_backends

    dropped = 0
    with serialised:
        oldest: dict[int, tuple[Any, int]] = {}  # id(shard) → (shard, lowest position still needed)
        for account_backends in list(dynamodbstreams_backends.values()):
            for backend in list(account_backends.values()):
                for iterator in list(backend.shard_iterators.values()):
                    shard, position = iterator.stream_shard, int(iterator.sequence_number)
                    _, lowest = oldest.get(id(shard), (shard, position))
                    oldest[id(shard)] = (shard, min(lowest, position))
        for shard, position in oldest.values():
            read = min(position - shard.starting_sequence_number, len(shard.items))
            if read > 0:
                del shard.items[:read]
                shard.starting_sequence_number += read
                dropped += read
    return dropped


def _over_candidates_only(query: Callable[..., Any]) -> Callable[..., Any]:
    """``Table.query`` run over a table narrowed to the items the query can return (fix 4)."""
    signature = inspect.signature(query)

    def query_candidates(table: Table, *args: Any, **kwargs: Any) -> Any:
        arguments = signature.bind(table, *args, **kwargs).arguments
        with serialised:  # nothing else sees the narrowed table: requests are served one at a time
            narrowed = _candidates(table, arguments.get("hash_key"), arguments.get("index_name"), arguments)
            if narrowed is None:
                return query(table, *args, **kwargs)
            everything = table.items
            table.items = narrowed
            try:
                return query(table, *args, **kwargs)
            finally:
                table.items = everything

    return query_candidates


def _candidates(
    table: Table, hash_key: DynamoType | None, index_name: str | None, arguments: dict[str, Any]
) -> defaultdict[Any, Any] | None:
    """The table's items as moto stores them, keeping only those a query can return; None: all.

    On the table: the partition of ``hash_key``. On an index: the items whose attributes equal every
    hash key condition (moto drops the others the same way, after sorting the whole table)."""
    items: Any = table.items
    narrowed: defaultdict[Any, Any] = defaultdict(dict)
    if index_name is None:
        if hash_key is None:
            return None
        if hash_key in items:
            narrowed[hash_key] = items[hash_key]
        return narrowed
    conditions = arguments.get("hash_key_conditions") or []
    if not conditions:
        return None
    for partition_key, partition in items.items():
        for key, item in partition.items() if table.range_key_attr is not None else [(None, partition)]:
            if all(_equals(item.attrs.get(name), value) for name, value in conditions):
                if key is None:
                    narrowed[partition_key] = item
                else:
                    narrowed[partition_key][key] = item
    return narrowed


def _equals(attribute: DynamoType | None, value: DynamoType) -> bool:
    return attribute is not None and attribute == value


def _one_at_a_time(call_action: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def call_action_alone(handler: Any) -> Any:
        with serialised:
            return call_action(handler)

    return call_action_alone
