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
   Those items are found through a map of each table's global index key values to the items that
   have them, made at the first index Query and kept up to date after every request that writes
   (PutItem, UpdateItem, DeleteItem, BatchWriteItem, TransactWriteItems: the items it names, as
   they are after it); any other request that may change items drops the maps, to be made again.

5. **Every attribute value is serialised through the service model.** moto writes each response by
   walking the operation's output shape and looking every member up under several aliases: for an
   attribute value, ten members (``S``, ``N``, ``B``, ...) for the one that is there. That was a
   quarter of the runtime's processor time under load (a Query of 20 items: 10 ms). Here a
   well-formed attribute value (one type, a value of that type) is written directly, exactly as
   the shape walk writes it (binary as base64); anything else still takes the walk.

``DynamoDBFixes().install()`` applies all five to the moto of this process (the emulator runs
in-process), ``uninstall()`` takes them back. One installation at a time.
"""

from __future__ import annotations

import copy
import inspect
import threading
import weakref
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from moto.core import serialize as moto_serialize
from moto.core.model_instances import model_data
from moto.dynamodb import models as dynamodb_models
from moto.dynamodb.models.dynamo_type import DynamoType, Item
from moto.dynamodb.models.table import StreamShard, Table
from moto.dynamodb.responses import DynamoHandler
from moto.dynamodbstreams.responses import DynamoDBStreamsHandler

# moto's services whose model instances are not kept (see 2.).
_UNTRACKED_SERVICES = ("dynamodb", "dynamodbstreams")
# The services (as moto's serializer names them) whose attribute values are written directly (see 5.).
_ATTRIBUTE_VALUE_SERVICES = ("dynamodb", "dynamodbstreams")

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
    """The five fixes of this module's docstring, installed into this process's moto.

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
        _index_keys_of.clear()  # made afresh: writes made meanwhile kept none of them up to date
        self._undo.append(_index_keys_of.clear)
        self._replace(dynamodb_models, "copy", _CopyKeepingTables(copy))
        self._replace(
            dynamodb_models.DynamoDBBackend,
            "transact_write_items",
            self._transact_write_items(dynamodb_models.DynamoDBBackend.transact_write_items),
        )
        self._replace(DynamoHandler, "call_action", _one_at_a_time(DynamoHandler.call_action, _refresh_index_keys))
        self._replace(DynamoDBStreamsHandler, "call_action", _one_at_a_time(DynamoDBStreamsHandler.call_action))
        for service in _UNTRACKED_SERVICES:
            for model in list(model_data[service].values()):
                self._replace(model, "instances_tracked", _KeepNothing())
        self._replace(Table, "query", _over_candidates_only(Table.query))
        serializers = moto_serialize.SERVICE_SPECIFIC_SERIALIZERS
        for service in _ATTRIBUTE_VALUE_SERVICES:
            self._replace_key(serializers, service, {**serializers.get(service, {}), "json": DirectAttributeValues})

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

    def _replace_key(self, owner: dict[str, Any], key: str, value: Any) -> None:
        had = key in owner
        original = owner.get(key)
        owner[key] = value
        self._undo.append(lambda: owner.__setitem__(key, original) if had else owner.pop(key, None))

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
    index_keys = _index_keys(table)
    for name, value in conditions:
        if index_keys is not None and name in index_keys.attributes:
            for partition_key, sort_key in index_keys.keys_with(name, value):
                item = _stored(table, (partition_key, sort_key))
                if item is not None and all(_equals(item.attrs.get(other), wanted) for other, wanted in conditions):
                    if sort_key is None:
                        narrowed[partition_key] = item
                    else:
                        narrowed[partition_key][sort_key] = item
            return narrowed
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


def _one_at_a_time(
    call_action: Callable[[Any], Any], after: Callable[[Any], None] | None = None
) -> Callable[[Any], Any]:
    """``call_action`` holding ``serialised``, then ``after(handler)`` still holding it, whatever happened."""

    def call_action_alone(handler: Any) -> Any:
        with serialised:
            try:
                return call_action(handler)
            finally:
                if after is not None:
                    after(handler)

    return call_action_alone


# --- 4. the items of each global index key value ------------------------------------------------

ItemKey = tuple[DynamoType, DynamoType | None]  # (hash key, range key or None) of a stored item

# DynamoDB actions that change no item: the index key maps stay as they are.
_ITEMS_UNCHANGED = frozenset(
    {
        "GetItem",
        "BatchGetItem",
        "TransactGetItems",
        "Query",
        "Scan",
        "CreateTable",
        "DescribeTable",
        "ListTables",
        "DescribeTimeToLive",
        "UpdateTimeToLive",
        "DescribeContinuousBackups",
        "DescribeEndpoints",
        "DescribeLimits",
        "ListTagsOfResource",
        "TagResource",
        "UntagResource",
    }
)


class _IndexKeys:
    """Which items of one table have which value of each attribute that is a hash key of one of its
    global indexes (attribute → value → item keys, in the order written)."""

    def __init__(self, table: Table) -> None:
        self.attributes = frozenset(
            key["AttributeName"] for index in table.global_indexes for key in index.schema if key["KeyType"] == "HASH"
        )
        self._keys: dict[str, dict[DynamoType, dict[ItemKey, None]]] = {name: {} for name in self.attributes}
        self._values: dict[ItemKey, list[tuple[str, DynamoType]]] = {}
        for key in _stored_keys(table):
            self.refresh(table, key)

    def keys_with(self, attribute: str, value: DynamoType) -> list[ItemKey]:
        return list(self._keys[attribute].get(value, ()))

    def refresh(self, table: Table, key: ItemKey) -> None:
        """Take the item stored under ``key`` as it is now (or its absence)."""
        for name, value in self._values.pop(key, []):
            holders = self._keys[name][value]
            del holders[key]
            if not holders:
                del self._keys[name][value]
        item = _stored(table, key)
        if item is None:
            return
        values = [(name, item.attrs[name]) for name in self.attributes if name in item.attrs]
        for name, value in values:
            # A value that cannot be hashed cannot be an index key (DynamoDB refuses such an item).
            try:
                self._keys[name].setdefault(value, {})[key] = None
            except TypeError:
                values.remove((name, value))
        if values:
            self._values[key] = values


# Each table's map, made at its first index Query; held while serialised. Dropped with the table.
_index_keys_of: weakref.WeakKeyDictionary[Table, _IndexKeys] = weakref.WeakKeyDictionary()


def _index_keys(table: Table) -> _IndexKeys | None:
    if not _installed:
        return None
    keys = _index_keys_of.get(table)
    if keys is None:
        keys = _index_keys_of[table] = _IndexKeys(table)
    return keys


def _stored_keys(table: Table) -> list[ItemKey]:
    items: Any = table.items
    if table.range_key_attr is None:
        return [(hash_key, None) for hash_key in items]
    return [(hash_key, range_key) for hash_key, partition in items.items() for range_key in partition]


def _stored(table: Table, key: ItemKey) -> Item | None:
    items: Any = table.items
    hash_key, range_key = key
    if table.range_key_attr is None:
        return items.get(hash_key)
    partition = items.get(hash_key)
    return None if partition is None else partition.get(range_key)


def _refresh_index_keys(handler: Any) -> None:
    """After a DynamoDB request: the maps take the items it wrote as they are now."""
    if not _index_keys_of:
        return
    try:
        action = handler._get_action()
    except Exception:
        action = None
    if action in _ITEMS_UNCHANGED:
        return
    written = _written_keys(handler, action)
    if written is None:
        _index_keys_of.clear()
        return
    for table, key in written:
        keys = _index_keys_of.get(table)
        if keys is not None:
            keys.refresh(table, key)


def _written_keys(handler: Any, action: str | None) -> list[tuple[Table, ItemKey]] | None:
    """The items a write request names (None: not known, so any item may have changed)."""
    parameters = getattr(handler, "body", None)
    if not isinstance(parameters, dict):
        return None
    try:
        backend = handler.dynamodb_backend
        named: list[tuple[str, dict[str, Any]]] = []
        if action == "PutItem":
            named.append((parameters["TableName"], parameters["Item"]))
        elif action in ("UpdateItem", "DeleteItem"):
            named.append((parameters["TableName"], parameters["Key"]))
        elif action == "BatchWriteItem":
            for table_name, requests in parameters["RequestItems"].items():
                for request in requests:
                    if "PutRequest" in request:
                        named.append((table_name, request["PutRequest"]["Item"]))
                    else:
                        named.append((table_name, request["DeleteRequest"]["Key"]))
        elif action == "TransactWriteItems":
            found = [_named_item(backend, entry) for entry in parameters["TransactItems"]]
            return [(table, (hash_key, range_key)) for table, hash_key, range_key in filter(None, found)]
        else:
            return None
        written: list[tuple[Table, ItemKey]] = []
        for table_name, attributes in named:
            table = backend.tables.get(table_name)
            if table is not None:
                range_key = DynamoType(attributes[table.range_key_attr]) if table.range_key_attr else None
                written.append((table, (DynamoType(attributes[table.hash_key_attr]), range_key)))
        return written
    except (AttributeError, KeyError, TypeError, ValueError):
        return None


# --- 5. attribute values written directly -------------------------------------------------------

_NOT_DIRECT = object()  # an attribute value the shape walk must write


class DirectAttributeValues(moto_serialize.JSONSerializer):
    """moto's JSON serializer, writing a well-formed DynamoDB attribute value directly (fix 5)."""

    def _serialize_type_structure(self, serialized: Any, value: Any, shape: Any, key: str) -> None:
        if key and shape.name == "AttributeValue":
            direct = self._attribute_value(value)
            if direct is not _NOT_DIRECT:
                self._default_serialize(serialized, direct, shape, key)
                return
        super()._serialize_type_structure(serialized, value, shape, key)

    def _attribute_value(self, value: Any) -> Any:
        """``value`` as the shape walk writes it, or ``_NOT_DIRECT`` when it is not one plain
        ``{type: value}`` (then the walk decides)."""
        if type(value) is not dict or len(value) != 1:
            return _NOT_DIRECT
        ((kind, content),) = value.items()
        if kind in ("S", "N"):
            written = content if type(content) is str else _NOT_DIRECT
        elif kind in ("BOOL", "NULL"):
            written = content if type(content) is bool else _NOT_DIRECT
        elif kind == "B":
            written = self._base64(content) if isinstance(content, bytes | str) else _NOT_DIRECT
        elif kind in ("SS", "NS"):
            ok = type(content) is list and all(type(member) is str for member in content)
            written = list(content) if ok else _NOT_DIRECT
        elif kind == "BS":
            ok = type(content) is list and all(isinstance(member, bytes | str) for member in content)
            written = [self._base64(member) for member in content] if ok else _NOT_DIRECT
        elif kind == "M":
            written = self._attribute_map(content)
        elif kind == "L":
            written = self._attribute_list(content)
        else:
            written = _NOT_DIRECT
        return _NOT_DIRECT if written is _NOT_DIRECT else {kind: written}

    def _attribute_map(self, content: Any) -> Any:
        if type(content) is not dict:
            return _NOT_DIRECT
        written = {}
        for name, member in content.items():
            direct = self._attribute_value(member)
            if direct is _NOT_DIRECT or type(name) is not str:
                return _NOT_DIRECT
            written[name] = direct
        return written

    def _attribute_list(self, content: Any) -> Any:
        if type(content) is not list:
            return _NOT_DIRECT
        written = []
        for member in content:
            direct = self._attribute_value(member)
            if direct is _NOT_DIRECT:
                return _NOT_DIRECT
            written.append(direct)
        return written
