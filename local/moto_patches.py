"""moto's DynamoDB, made to cost what a request touches: for the local stack and the tests.

Pinned to moto 5.2.5 (`install` refuses any other version; `tests/integration/test_moto_patches.py`
fails when the internals it relies on move). Stock moto 5.2.5 makes three things cost as much as
the whole table:

* `TransactWriteItems` deep-copies every table it names before it starts, to restore it when the
  transaction is cancelled. Here the "backup" is the table itself and an **undo log** saves a copy
  of each item the transaction touches, just before it is first changed; a cancelled transaction
  puts those items (and only those) back and drops the stream records it wrote.
* `Query` sorts every item of the table, then walks them. Here each partition is a `SortedDict`
  keyed by sort key and each global secondary index keeps its own sorted entries, so a query walks
  only the key range it asks for, from its `ExclusiveStartKey`, and stops at its `Limit`.
* Each item is held as many Python objects (a few hundred bytes per attribute), and building one
  checks the item's size once per attribute added (quadratic). Here a stored item is kept as
  compressed JSON and rebuilt when read, and a new item's size is checked once.
* Every response goes through a generic serializer that walks botocore's shapes value by value
  (most of a request's time). Here the item operations answer with the JSON they already hold.
* Every model object moto ever creates (each item, each stream record, each shard iterator, each
  read's copy) stays in a class-level list for moto's web dashboard: the memory the issue saw
  grow to 24 GB. Here nothing is tracked; the dashboard is not used.
* Items with a time-to-live attribute are never expired. Here `expire_items` deletes those whose
  time has passed, in order of expiry, without looking at the others.

Every change to an item also reaches the listeners registered with `on_item_changed` (the local
stack's journal saves only what changed). Whatever the patches cannot serve exactly as moto would
(filters of the legacy API, multi-attribute keys, binary prefixes) falls through to moto's own code.
"""

from __future__ import annotations

import base64
import copy
import heapq
import json
import threading
import zlib
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from sortedcontainers import SortedDict

MOTO_VERSION = "5.2.5"

ChangeListener = Callable[[str, Any, Any], None]
"""Called with (table name, hash key, range key or None), as `DynamoType`s, after an item changed."""


@dataclass
class UndoStatistics:
    """What the undo log did, counted: the guard tests read it."""

    transactions: int = 0
    cancelled: int = 0
    items_saved: int = 0
    items_restored: int = 0
    tables_copied: int = 0
    queries_served: int = 0
    queries_left_to_moto: int = 0


STATISTICS = UndoStatistics()
_listeners: list[ChangeListener] = []
_installed = False
#: moto's own `Table.query`, kept for comparing answers in the tests.
original_query: Callable[..., Any] | None = None
_local = threading.local()


def on_item_changed(listener: ChangeListener) -> Callable[[], None]:
    """Register `listener` for every item change; returns a function that unregisters it."""
    _listeners.append(listener)
    return lambda: _listeners.remove(listener) if listener in _listeners else None


def install() -> None:
    """Patch moto's DynamoDB models in this process (idempotent). Raises `RuntimeError` on another moto."""
    global _installed
    if _installed:
        return
    import moto
    from moto.dynamodb import models as backend_module
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table

    if moto.__version__ != MOTO_VERSION:
        raise RuntimeError(
            f"local/moto_patches.py is written for moto {MOTO_VERSION}, not {moto.__version__}: "
            "check the patches against the new version's DynamoDB models before moving the pin"
        )
    backend_module.copy = _TablesAreTheirOwnBackup()  # type: ignore[assignment]
    _patch_table(Table)
    _patch_backend(DynamoDBBackend)
    _patch_item_construction()
    _patch_responses()
    _stop_tracking_instances()
    _installed = True


# --- Transactions: an undo log instead of a copy of every table --------------------------------


@dataclass
class _UndoLog:
    """The items a running transaction has changed, as they were before, and each stream's length."""

    saved: dict[tuple[int, Any, Any], tuple[Any, Any | None]] = field(default_factory=dict)
    stream_lengths: dict[int, tuple[Any, int]] = field(default_factory=dict)

    def save(self, table: Any, hash_key: Any, range_key: Any) -> None:
        token = (id(table), hash_key, range_key)
        if token in self.saved:
            return
        if id(table) not in self.stream_lengths and table.stream_shard is not None:
            self.stream_lengths[id(table)] = (table.stream_shard, len(table.stream_shard.items))
        current = _get(table, hash_key, range_key)
        self.saved[token] = (table, copy.deepcopy(current))
        STATISTICS.items_saved += 1

    def undo(self) -> None:
        for (_, hash_key, range_key), (table, before) in self.saved.items():
            _set(table, hash_key, range_key, before)
            STATISTICS.items_restored += 1
        for shard, length in self.stream_lengths.values():
            del shard.items[length:]


class _TablesAreTheirOwnBackup:
    """Stands in for the `copy` module inside `moto.dynamodb.models`.

    moto's `transact_write_items` "backs up" each table it names with `copy.deepcopy(table)` and,
    when the transaction is cancelled, assigns the backup back. Handing back the table itself makes
    that assignment a no-op; the undo log restores the items instead. Other copies pass through.
    """

    def deepcopy(self, value: Any, memo: dict[int, Any] | None = None) -> Any:
        from moto.dynamodb.models.table import Table

        if isinstance(value, Table) and getattr(_local, "undo", None) is not None:
            return value
        if isinstance(value, Table):
            STATISTICS.tables_copied += 1
        return copy.deepcopy(value, memo)


def _patch_backend(backend: Any) -> None:
    transact = backend.transact_write_items
    update = backend.update_item

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        undo = _UndoLog()
        _local.undo = undo
        STATISTICS.transactions += 1
        try:
            transact(self, transact_items)
        except BaseException:
            STATISTICS.cancelled += 1
            undo.undo()
            raise
        finally:
            _local.undo = None

    def update_item(self: Any, table_name: str, key: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        table = self.get_table(table_name)
        hash_key, range_key = _key_of(table, key)
        _before_change(table, hash_key, range_key)
        try:
            updated = update(self, table_name, key, *args, **kwargs)
            # moto changes the item it read in place; partitions hand out copies: store it back.
            if table.range_key_attr is not None:
                table.items[hash_key][range_key] = updated
            return updated
        finally:
            _after_change(table, hash_key, range_key)

    backend.transact_write_items = transact_write_items
    backend.update_item = update_item


# --- Items: sorted partitions, indexes kept up to date, listeners told ------------------------


def _patch_table(table_class: Any) -> None:
    init = table_class.__init__
    put_item = table_class.put_item
    delete_item = table_class.delete_item
    query = table_class.query
    global original_query
    original_query = query

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        init(self, *args, **kwargs)
        if self.range_key_attr is not None:
            self.items = defaultdict(partial(CompactPartition, self.hash_key_attr, self.range_key_attr))
        self.remit_indexes = _Indexes(self)

    def patched_put_item(self: Any, item_attrs: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        from moto.dynamodb.models.dynamo_type import DynamoType

        if self.hash_key_attr not in item_attrs or (
            self.range_key_attr is not None and self.range_key_attr not in item_attrs
        ):
            return put_item(self, item_attrs, *args, **kwargs)  # moto's own validation error
        hash_key = DynamoType(item_attrs[self.hash_key_attr])
        range_key = DynamoType(item_attrs[self.range_key_attr]) if self.range_key_attr else None
        _before_change(self, hash_key, range_key)
        try:
            return put_item(self, item_attrs, *args, **kwargs)
        finally:
            _after_change(self, hash_key, range_key)

    def patched_delete_item(self: Any, hash_key: Any, range_key: Any) -> Any:
        _before_change(self, hash_key, range_key)
        try:
            return delete_item(self, hash_key, range_key)
        finally:
            _after_change(self, hash_key, range_key)

    def patched_query(self: Any, *args: Any, **kwargs: Any) -> Any:
        served = _query_by_key_range(self, *args, **kwargs)
        if served is not None:
            STATISTICS.queries_served += 1
            return served
        STATISTICS.queries_left_to_moto += 1
        return query(self, *args, **kwargs)

    table_class.__init__ = __init__
    table_class.put_item = patched_put_item
    table_class.delete_item = patched_delete_item
    table_class.query = patched_query


def _before_change(table: Any, hash_key: Any, range_key: Any) -> None:
    undo: _UndoLog | None = getattr(_local, "undo", None)
    if undo is not None:
        undo.save(table, hash_key, range_key)


def _after_change(table: Any, hash_key: Any, range_key: Any) -> None:
    indexes: _Indexes | None = getattr(table, "remit_indexes", None)
    if indexes is not None:
        indexes.update(hash_key, range_key)
    for listener in list(_listeners):
        listener(table.name, hash_key, range_key)


def _key_of(table: Any, key: dict[str, Any]) -> tuple[Any, Any]:
    from moto.dynamodb.models.dynamo_type import DynamoType

    hash_key = DynamoType(key[table.hash_key_attr])
    range_key = DynamoType(key[table.range_key_attr]) if table.range_key_attr in key else None
    return hash_key, range_key


def _get(table: Any, hash_key: Any, range_key: Any) -> Any:
    partition = table.items.get(hash_key)
    if partition is None or table.range_key_attr is None:
        return partition
    return partition.get(range_key)


def _set(table: Any, hash_key: Any, range_key: Any, item: Any) -> None:
    """Put `item` (or nothing, when None) at a key directly: no conditions, no stream record."""
    if table.range_key_attr is None:
        if item is None:
            table.items.pop(hash_key, None)
        else:
            table.items[hash_key] = item
    elif item is None:
        partition = table.items.get(hash_key)
        if partition is not None:
            partition.pop(range_key, None)
            if not partition:
                del table.items[hash_key]
    else:
        table.items[hash_key][range_key] = item
    _after_change(table, hash_key, range_key)


def load_item(table: Any, attributes: dict[str, Any]) -> None:
    """Store an item as saved (DynamoDB JSON) without a condition or a stream record: for restoring."""
    from moto.dynamodb.models.dynamo_type import DynamoType, Item

    hash_key = DynamoType(attributes[table.hash_key_attr])
    range_key = DynamoType(attributes[table.range_key_attr]) if table.range_key_attr else None
    item = Item(hash_key, range_key, attributes)
    if table.range_key_attr is None:
        table.items[hash_key] = item
    else:
        table.items[hash_key][range_key] = item
    indexes: _Indexes | None = getattr(table, "remit_indexes", None)
    if indexes is not None:
        indexes.update(hash_key, range_key)


def current_item(table: Any, hash_key: Any, range_key: Any) -> Any:
    """The item stored at a key, or None, without creating an empty partition as moto's lookup does."""
    return _get(table, hash_key, range_key)


class _Top:
    """Greater than any key value: the inclusive upper end of a sort-key range."""

    def __lt__(self, other: object) -> bool:
        return False

    def __gt__(self, other: object) -> bool:
        return other is not self


_TOP = _Top()


class _Indexes:
    """The table's global secondary indexes with one HASH and one RANGE key, kept sorted.

    Per index: partition value → sorted entries `(index sort value, table hash, table range)`,
    and per table key the entry it has now, so that a change moves exactly one entry.
    Also the expiry heap of items with a time-to-live attribute.
    """

    def __init__(self, table: Any) -> None:
        from sortedcontainers import SortedList

        self._table = table
        self._sorted_list = SortedList
        self.by_name: dict[str, tuple[str, str]] = {}
        for index in table.global_indexes or []:
            hashes = [key["AttributeName"] for key in index.schema if key["KeyType"] == "HASH"]
            ranges = [key["AttributeName"] for key in index.schema if key["KeyType"] == "RANGE"]
            if len(hashes) == 1 and len(ranges) == 1:
                self.by_name[index.name] = (hashes[0], ranges[0])
        self._entries: dict[str, dict[Any, Any]] = {name: {} for name in self.by_name}
        self._entry_of: dict[str, dict[tuple[Any, Any], tuple[Any, tuple[Any, ...]]]] = {
            name: {} for name in self.by_name
        }
        self.expiry: list[tuple[float, Any, Any]] = []

    def update(self, hash_key: Any, range_key: Any) -> None:
        item = _get(self._table, hash_key, range_key)
        # Plain values, not moto's `DynamoType`s: an index holds one entry per item it indexes.
        table_key = (hash_key.cast_value, _cast(range_key))
        for name, (hash_attr, range_attr) in self.by_name.items():
            entry_of = self._entry_of[name]
            old = entry_of.pop(table_key, None)
            if old is not None:
                partition_value, entry = old
                entries = self._entries[name][partition_value]
                entries.discard(entry)
                if not entries:
                    del self._entries[name][partition_value]
            if item is None:
                continue
            partition_key, sort_value = item.attrs.get(hash_attr), item.attrs.get(range_attr)
            if partition_key is None or sort_value is None:
                continue  # sparse: an item without both key attributes is not in the index
            entry = (sort_value.cast_value, hash_key.cast_value, _cast(range_key))
            partition_value = (partition_key.type, partition_key.cast_value)
            self._entries[name].setdefault(partition_value, self._sorted_list()).add(entry)
            entry_of[table_key] = (partition_value, entry)
        ttl_attribute = self._table.ttl.get("AttributeName")
        if item is not None and ttl_attribute and self._table.ttl.get("TimeToLiveStatus") == "ENABLED":
            expires = item.attrs.get(ttl_attribute)
            if expires is not None and expires.type == "N":
                heapq.heappush(self.expiry, (float(expires.value), hash_key, range_key))

    def walk(
        self,
        name: str,
        partition_value: Any,
        lower: tuple[Any, ...] | None,
        upper: tuple[Any, ...] | None,
        reverse: bool,
    ) -> Iterator[tuple[Any, ...]]:
        """The index's entries of one partition between `lower` and `upper` (inclusive), in order."""
        entries = self._entries[name].get((partition_value.type, partition_value.cast_value))
        if entries is None:
            return iter(())
        return iter(entries.irange(lower, upper, inclusive=(True, True), reverse=reverse))

    def key_of_entry(self, entry: tuple[Any, ...]) -> tuple[Any, Any]:
        from moto.dynamodb.models.dynamo_type import DynamoType

        table = self._table
        hash_key = DynamoType({table.hash_key_type: _uncast(table.hash_key_type, entry[1])})
        range_key = (
            DynamoType({table.range_key_type: _uncast(table.range_key_type, entry[2])})
            if table.range_key_attr
            else None
        )
        return hash_key, range_key


def _cast(value: Any) -> Any:
    return "" if value is None else value.cast_value


def _uncast(kind: str, value: Any) -> Any:
    return str(value) if kind == "N" else value


def expire_items(table: Any, now: float) -> int:
    """Delete the table's items whose time-to-live has passed, as DynamoDB's TTL does; returns how many.

    Walks the expiry heap only as far as `now`; an entry whose item has since changed is skipped.
    """
    indexes: _Indexes | None = getattr(table, "remit_indexes", None)
    if indexes is None:
        return 0
    expired = 0
    attribute = table.ttl.get("AttributeName")
    while indexes.expiry and indexes.expiry[0][0] <= now:
        expires, hash_key, range_key = heapq.heappop(indexes.expiry)
        item = _get(table, hash_key, range_key)
        value = item.attrs.get(attribute) if item is not None and attribute else None
        if value is None or value.type != "N" or float(value.value) != expires:
            continue
        table.delete_item(hash_key, range_key)
        expired += 1
    return expired


def trim_stream(table: Any, through_sequence_number: int) -> int:
    """Drop the stream records up to and including `through_sequence_number`; returns how many.

    moto keeps every record for ever (each one holds the old and new item); DynamoDB keeps them
    24 hours. Sequence numbers stay as they were: the shard's start moves up by the records dropped.
    """
    shard = table.stream_shard
    if shard is None:
        return 0
    count = min(max(0, through_sequence_number - shard.starting_sequence_number + 1), len(shard.items))
    if count:
        del shard.items[:count]
        shard.starting_sequence_number += count
    return count


# --- Query: walk the key range asked for, no more ----------------------------------------------

_COMPARISONS_SERVED = {"EQ", "LT", "LE", "GT", "GE", "BETWEEN", "BEGINS_WITH", None}
# moto's key-condition parser names comparisons by their symbols (and the legacy API by names).
_COMPARISON_NAMES = {"=": "EQ", "<": "LT", "<=": "LE", ">": "GT", ">=": "GE"}


def _query_by_key_range(
    table: Any,
    hash_key: Any,
    range_comparison: str | None,
    range_objs: list[Any],
    limit: int | None,
    exclusive_start_key: dict[str, Any] | None,
    scan_index_forward: bool,
    projection_expressions: list[list[str]] | None,
    index_name: str | None = None,
    consistent_read: bool = False,
    filter_expression: Any = None,
    hash_key_conditions: list[tuple[str, Any]] | None = None,
    range_key_conditions: list[tuple[str, str, list[Any]]] | None = None,
    **filter_kwargs: Any,
) -> tuple[list[Any], int, dict[str, Any] | None] | None:
    """moto's `Table.query`, for a key condition on one partition and an optional sort-key range.

    Returns None for anything else, so moto's own query answers it (and raises its own errors).
    """
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.models.table import RESULT_SIZE_LIMIT

    if range_comparison is not None:
        range_comparison = _COMPARISON_NAMES.get(range_comparison, range_comparison.upper())
    if filter_kwargs or range_comparison not in _COMPARISONS_SERVED or hash_key is None:
        return None
    if len(hash_key_conditions or []) > 1 or len(range_key_conditions or []) > 1:
        return None
    if any(value.type != "S" for value in range_objs) and range_comparison == "BEGINS_WITH":
        return None
    indexes: _Indexes | None = getattr(table, "remit_indexes", None)
    if indexes is None:
        return None
    if index_name is not None:
        if index_name not in indexes.by_name or consistent_read:
            return None
        hash_attr, range_attr = indexes.by_name[index_name]
        if hash_key_conditions and hash_key_conditions[0][0] != hash_attr:
            return None
        if range_key_conditions and range_key_conditions[0][0] != range_attr:
            return None
    elif table.range_key_attr is None:
        return None

    values = [value.cast_value for value in range_objs]
    low, high = _bounds(range_comparison, values)
    reverse = scan_index_forward is False

    if index_name is None:
        partition = table.items.get(hash_key)
        start = exclusive_start_key.get(table.range_key_attr) if exclusive_start_key else None
        start_key = DynamoType(start) if start is not None else None
        minimum = (
            DynamoType({range_objs[0].type: _uncast(range_objs[0].type, low)}) if low is not None else None
        )
        maximum = (
            DynamoType({range_objs[-1].type: _uncast(range_objs[-1].type, high)})
            if high is not None
            else None
        )
        if start_key is not None:
            minimum, maximum = (minimum, start_key) if reverse else (start_key, maximum)

        def candidates() -> Iterator[Any]:
            if partition is None:
                return
            for sort_key in partition.irange(minimum, maximum, inclusive=(True, True), reverse=reverse):
                if start_key is not None and sort_key == start_key:
                    continue
                if _within(sort_key.cast_value, range_comparison, values):
                    yield partition[sort_key]

    else:
        range_attr = indexes.by_name[index_name][1]
        lower: tuple[Any, ...] | None = (low,) if low is not None else None
        upper: tuple[Any, ...] | None = (high, _TOP) if high is not None else None
        position: tuple[Any, ...] | None = None
        if exclusive_start_key:
            position = (
                DynamoType(exclusive_start_key[range_attr]).cast_value,
                DynamoType(exclusive_start_key[table.hash_key_attr]).cast_value,
                DynamoType(exclusive_start_key[table.range_key_attr]).cast_value
                if table.range_key_attr
                else "",
            )
            lower, upper = (lower, position) if reverse else (position, upper)

        def candidates() -> Iterator[Any]:
            for entry in indexes.walk(index_name, hash_key, lower, upper, reverse):
                if entry == position or not _within(entry[0], range_comparison, values):
                    continue
                item = _get(table, *indexes.key_of_entry(entry))
                if item is not None:
                    yield item

    results: list[Any] = []
    size = 0
    last_evaluated_key = None
    for item in candidates():
        if len(results) == limit or size + item.size() > RESULT_SIZE_LIMIT:
            last_evaluated_key = table._get_last_evaluated_key(results[-1], index_name)
            break
        results.append(item)
        size += item.size()
    scanned_count = len(results)

    # As moto's own query finishes: copy, project, filter.
    results = copy.deepcopy(results)
    if index_name:
        index = table.get_index(index_name)
        results = [index.project(result) for result in results]
    if filter_expression is not None:
        results = [result for result in results if filter_expression.expr(result)]
    if projection_expressions:
        results = [result.project(projection_expressions) for result in results]
    return results, scanned_count, last_evaluated_key


_HIGHEST_CHARACTER = chr(0x10FFFF)


def _bounds(comparison: str | None, values: list[Any]) -> tuple[Any, Any]:
    """The inclusive (lowest, highest) sort values a key condition can match; None where open."""
    if comparison in ("EQ", "BETWEEN"):
        return values[0], values[-1]
    if comparison in ("LT", "LE"):
        return None, values[0]
    if comparison in ("GT", "GE"):
        return values[0], None
    if comparison == "BEGINS_WITH":
        return values[0], values[0] + _HIGHEST_CHARACTER
    return None, None


def _within(value: Any, comparison: str | None, values: list[Any]) -> bool:
    """Whether a sort value meets the key condition exactly (the bounds are only inclusive ranges)."""
    if comparison == "LT":
        return bool(value < values[0])
    if comparison == "GT":
        return bool(value > values[0])
    if comparison == "BEGINS_WITH":
        return isinstance(value, str) and value.startswith(values[0])
    return True


# --- Compact items --------------------------------------------------------------------------


class CompactPartition(SortedDict):  # type: ignore[misc]
    """One partition's items by sort key, each held as compressed JSON and rebuilt when read.

    A moto `Item` costs a few hundred bytes per attribute; its JSON, compressed, a few bytes. Every
    read hands out a new `Item`, so moto's in-place updates go through `update_item`'s write-back.
    """

    def __init__(self, hash_attr: str, range_attr: str) -> None:
        super().__init__()
        self._hash_attr = hash_attr
        self._range_attr = range_attr

    def __setitem__(self, key: Any, item: Any) -> None:
        super().__setitem__(key, freeze(item))

    def __getitem__(self, key: Any) -> Any:
        return thaw(super().__getitem__(key), key.__class__, self._hash_attr, self._range_attr)

    def get(self, key: Any, default: Any = None) -> Any:
        frozen = dict.get(self, key)
        return default if frozen is None else thaw(frozen, key.__class__, self._hash_attr, self._range_attr)

    def pop(self, key: Any, *default: Any) -> Any:
        frozen = super().pop(key, *default)
        if isinstance(frozen, bytes):
            return thaw(frozen, key.__class__, self._hash_attr, self._range_attr)
        return frozen

    def values(self) -> list[Any]:  # type: ignore[override]
        return [self[key] for key in self.keys()]

    def items(self) -> list[tuple[Any, Any]]:  # type: ignore[override]
        return [(key, self[key]) for key in self.keys()]

    def __deepcopy__(self, memo: dict[int, Any]) -> CompactPartition:
        copied = CompactPartition(self._hash_attr, self._range_attr)
        for key in self.keys():
            SortedDict.__setitem__(copied, key, dict.__getitem__(self, key))
        return copied


def encode_attributes(attributes: dict[str, Any]) -> str:
    """An item's attributes (moto's `Item.to_json()["Attributes"]`) as DynamoDB JSON, binary in base64."""
    from moto.dynamodb.models.utilities import DynamoJsonEncoder

    return json.dumps(attributes, cls=DynamoJsonEncoder, separators=(",", ":"))


def decode_attributes(encoded: str | bytes) -> dict[str, Any]:
    """The attributes `encode_attributes` wrote, binary values back as bytes (as moto holds them)."""
    return binary_as_bytes(json.loads(encoded))


def binary_as_bytes(attributes: dict[str, Any]) -> dict[str, Any]:
    """DynamoDB JSON attributes with their base64 binary values (at any depth) decoded to bytes."""
    return {name: _decode_value(value) for name, value in attributes.items()}


def _decode_value(value: dict[str, Any]) -> dict[str, Any]:
    ((kind, content),) = value.items()
    if kind == "B":
        return {"B": base64.b64decode(content)}
    if kind == "BS":
        return {"BS": [base64.b64decode(member) for member in content]}
    if kind == "M":
        return {"M": {name: _decode_value(member) for name, member in content.items()}}
    if kind == "L":
        return {"L": [_decode_value(member) for member in content]}
    return value


def freeze(item: Any) -> bytes:
    return zlib.compress(encode_attributes(item.to_json()["Attributes"]).encode(), 1)


def thaw(frozen: bytes, key_type: type, hash_attr: str, range_attr: str) -> Any:
    attributes = decode_attributes(zlib.decompress(frozen))
    # Its size was checked when it was written.
    return new_item(
        key_type(attributes[hash_attr]), key_type(attributes[range_attr]), attributes, checked=True
    )


def new_item(hash_key: Any, range_key: Any, attributes: dict[str, Any], checked: bool = False) -> Any:
    """A moto `Item`, its size checked once rather than once per attribute; `ItemSizeTooLarge` over 405 KB."""
    from moto.dynamodb.exceptions import ItemSizeTooLarge
    from moto.dynamodb.models.dynamo_type import DynamoType, Item, LimitedSizeDict

    item = Item.__new__(Item)
    item.hash_key = hash_key
    item.range_key = range_key
    attrs = LimitedSizeDict.__new__(LimitedSizeDict)
    dict.__init__(attrs, ((name, DynamoType(value)) for name, value in attributes.items()))
    item.attrs = attrs
    if not checked and item.size() > _ITEM_SIZE_LIMIT:
        raise ItemSizeTooLarge
    return item


# moto's own limit (DynamoDB's is 400 KB; moto measured between 409 and 410 KB).
_ITEM_SIZE_LIMIT = 405000


def _patch_item_construction() -> None:
    """Build items with one size check: moto re-sums the whole item for every attribute it adds."""
    from moto.dynamodb.models.dynamo_type import Item

    def __init__(self: Any, hash_key: Any, range_key: Any, attrs: dict[str, Any]) -> None:
        built = new_item(hash_key, range_key, attrs)
        self.hash_key, self.range_key, self.attrs = built.hash_key, built.range_key, built.attrs

    Item.__init__ = __init__


# --- Responses: the JSON the item operations already hold -----------------------------------

_FAST_RESPONSES = frozenset(
    {
        "GetItem",
        "BatchGetItem",
        "Query",
        "Scan",
        "PutItem",
        "UpdateItem",
        "DeleteItem",
        "BatchWriteItem",
        "TransactWriteItems",
        "TransactGetItems",
    }
)


class _ResponseEncoder(json.JSONEncoder):
    def default(self, value: Any) -> Any:
        if isinstance(value, bytes):
            return base64.b64encode(value).decode()
        return super().default(value)


def fast_response(result: Any) -> tuple[int, dict[str, str], str]:
    """The JSON-1.0 answer to an item operation: its result as JSON, binary values in base64."""
    plain = {name: value for name, value in result.items() if value is not None}
    return 200, {"Content-Type": "application/x-amz-json-1.0"}, json.dumps(plain, cls=_ResponseEncoder)


#: moto's own `DynamoResult.execute_result`, kept for comparing answers in the tests.
_serialize_with_moto: Callable[..., Any] | None = None


def _patch_responses() -> None:
    from moto.dynamodb.responses import DynamoResult

    global _serialize_with_moto
    serialize = _serialize_with_moto = DynamoResult.execute_result

    def execute_result(self: Any, context: Any) -> Any:
        if context.operation_model.name in _FAST_RESPONSES and isinstance(self.result, dict):
            return fast_response(self.result)
        return serialize(self, context)

    DynamoResult.execute_result = execute_result


def _stop_tracking_instances() -> None:
    """Create moto's models without adding each to its class's `instances_tracked` list."""
    from moto.core.common_models import BaseModel

    def __new__(cls: type, *args: Any, **kwargs: Any) -> Any:
        return object.__new__(cls)

    BaseModel.__new__ = __new__  # type: ignore[method-assign, assignment]
    for model in _all_subclasses(BaseModel):
        if "instances_tracked" in vars(model):
            model.instances_tracked.clear()


def _all_subclasses(cls: type) -> list[type]:
    found = []
    for subclass in cls.__subclasses__():
        found += [subclass, *_all_subclasses(subclass)]
    return found
