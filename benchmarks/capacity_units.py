"""DynamoDB's capacity units of the calls a client makes, computed by the rules DynamoDB bills by.

Moto does not report consumed capacity, so the units are worked out from the items themselves: a
botocore hook on the client sees every call, and an unhooked client reads each written item as it
was before and after the call (and each read item in full). The rules (docs/access-patterns.md,
"What a write costs", cites the AWS pages):

* an item's size is the sum of its attribute names and values (strings by their UTF-8 bytes, numbers
  1 byte per two significant digits plus 1, booleans and nulls 1, lists and maps 3 bytes plus 1 per
  element plus their elements);
* a write costs 1 unit per started KB of the larger of the item before and after it (a delete, of
  the item deleted), at least 1; in `TransactWriteItems` twice that;
* each global secondary index whose entry the write changes costs a write of the entry's size
  (its keys, the table's keys and the projected attributes): one to put it, one to delete it, two
  when its keys change; none when the item is in the index neither before nor after, or when
  nothing projected changed;
* a read costs 1 unit per started 4 KB (`GetItem`, each item of `BatchGetItem`, the sum of the items
  or index entries a `Query` page evaluated), at least 1; half that when eventually consistent.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

KB = 1024
READ_UNIT_BYTES = 4 * KB

_WRITES = ("PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem")
_READS = ("GetItem", "BatchGetItem", "Query")


def attribute_size(name: str, value: Mapping[str, Any]) -> int:
    """The size of one attribute (name and value), a value in DynamoDB's JSON (`{"S": "…"}`)."""
    return len(name.encode()) + value_size(value)


def value_size(value: Mapping[str, Any]) -> int:
    (kind, inner), *_ = value.items()
    if kind == "S":
        return len(str(inner).encode())
    if kind == "N":
        return _number_size(str(inner))
    if kind == "B":
        return len(inner) if isinstance(inner, bytes | bytearray) else len(str(inner).encode())
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "L":
        return 3 + sum(1 + value_size(element) for element in inner)
    if kind == "M":
        return 3 + sum(1 + attribute_size(key, element) for key, element in inner.items())
    if kind == "SS":
        return sum(len(element.encode()) for element in inner)
    if kind == "NS":
        return sum(_number_size(element) for element in inner)
    if kind == "BS":
        return sum(len(element) for element in inner)
    raise ValueError(f"unknown DynamoDB type {kind!r}")


def _number_size(text: str) -> int:
    digits = str(abs(Decimal(text)).normalize()).replace(".", "").lstrip("0") or "0"
    if "E" in digits:
        digits = digits.split("E", 1)[0]
    return math.ceil(len(digits) / 2) + 1


def item_size(item: Mapping[str, Mapping[str, Any]] | None) -> int:
    return sum(attribute_size(name, value) for name, value in (item or {}).items())


def write_units(size: int) -> int:
    return max(1, math.ceil(size / KB))


@dataclass(frozen=True)
class IndexShape:
    """A global secondary index as the table describes it: keys and projection."""

    name: str
    keys: tuple[str, ...]
    projection: str  # ALL | KEYS_ONLY | INCLUDE
    included: frozenset[str] = frozenset()

    def entry(self, item: Mapping[str, Any] | None, table_keys: tuple[str, ...]) -> dict[str, Any] | None:
        """The index entry of a table item (None when the item is not in the index)."""
        if item is None or any(key not in item for key in self.keys):
            return None
        if self.projection == "ALL":
            return dict(item)
        kept = {*table_keys, *self.keys} | (self.included if self.projection == "INCLUDE" else set())
        return {name: value for name, value in item.items() if name in kept}


@dataclass(frozen=True)
class TableShape:
    name: str
    keys: tuple[str, ...]
    indexes: tuple[IndexShape, ...]

    @classmethod
    def described(cls, description: Mapping[str, Any]) -> TableShape:
        indexes = tuple(
            IndexShape(
                index["IndexName"],
                tuple(part["AttributeName"] for part in index["KeySchema"]),
                index["Projection"]["ProjectionType"],
                frozenset(index["Projection"].get("NonKeyAttributes", [])),
            )
            for index in description.get("GlobalSecondaryIndexes", [])
        )
        keys = tuple(part["AttributeName"] for part in description["KeySchema"])
        return cls(description["TableName"], keys, indexes)

    def key_of(self, item: Mapping[str, Any]) -> dict[str, Any]:
        return {name: item[name] for name in self.keys}


@dataclass
class Units:
    """Capacity units consumed: writes (base table and indexes apart) and reads."""

    table_writes: float = 0
    index_writes: float = 0
    reads: float = 0
    calls: int = 0
    by_index: dict[str, float] = field(default_factory=dict)
    # Write units (table and indexes) by kind of item: the sort key's first part (`INVOICE`, `OUTBOX`).
    by_item: dict[str, float] = field(default_factory=dict)

    @property
    def writes(self) -> float:
        return self.table_writes + self.index_writes

    def __add__(self, other: Units) -> Units:
        return Units(
            self.table_writes + other.table_writes,
            self.index_writes + other.index_writes,
            self.reads + other.reads,
            self.calls + other.calls,
            _summed(self.by_index, other.by_index),
            _summed(self.by_item, other.by_item),
        )

    def per(self, count: int) -> Units:
        return Units(
            self.table_writes / count,
            self.index_writes / count,
            self.reads / count,
            round(self.calls / count),
            {name: units / count for name, units in self.by_index.items()},
            {name: units / count for name, units in self.by_item.items()},
        )


def _summed(one: Mapping[str, float], other: Mapping[str, float]) -> dict[str, float]:
    total = dict(one)
    for name, units in other.items():
        total[name] = total.get(name, 0) + units
    return total


@dataclass
class _Pending:
    operation: str
    params: dict[str, Any]
    before: list[tuple[TableShape, dict[str, Any], dict[str, Any] | None, int]]  # table, key, item, factor


class CapacityMeter:
    """Counts the units of the DynamoDB calls of every client made from a session while measuring.

    `reader` is a client that does not carry the hooks (it reads items as they are before and after
    each write). Single-threaded: one call at a time.
    """

    def __init__(self, reader: Any) -> None:
        self._reader = reader
        self._tables: dict[str, TableShape] = {}
        self._pending: _Pending | None = None
        self.units = Units()
        self.items_written: list[dict[str, Any]] = []
        # The largest size written of each kind of item (bytes), for reading the figures.
        self.sizes: dict[str, int] = {}

    def register(self, events: Any) -> None:
        events.register("before-parameter-build.dynamodb", self._before)
        events.register("after-call.dynamodb", self._after)

    def unregister(self, events: Any) -> None:
        events.unregister("before-parameter-build.dynamodb", self._before)
        events.unregister("after-call.dynamodb", self._after)

    @contextmanager
    def measuring(self) -> Iterator[Units]:
        """The units of the calls made inside, filled in when the block ends."""
        start = self.units
        self.units = Units()
        found = Units()
        try:
            yield found
        finally:
            measured = self.units
            self.units = start + measured
            found.table_writes, found.index_writes = measured.table_writes, measured.index_writes
            found.reads, found.calls = measured.reads, measured.calls
            found.by_index, found.by_item = measured.by_index, measured.by_item

    def table(self, name: str) -> TableShape:
        if name not in self._tables:
            self._tables[name] = TableShape.described(self._reader.describe_table(TableName=name)["Table"])
        return self._tables[name]

    # hooks --------------------------------------------------------------------------------------
    def _before(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        operation = model.name
        if operation not in _WRITES:
            self._pending = _Pending(operation, dict(params), [])
            return
        before = [
            (table, key, self._item(table, key), factor)
            for table, key, factor in self._targets(operation, params)
        ]
        self._pending = _Pending(operation, dict(params), before)

    def _after(self, parsed: dict[str, Any], model: Any, **_: Any) -> None:
        pending, self._pending = self._pending, None
        if pending is None or pending.operation != model.name:
            return
        self.units.calls += 1
        if "Error" in parsed:
            return  # refused (a condition failed, a transaction cancelled): not counted
        if pending.operation in _WRITES:
            self._count_writes(pending)
        elif pending.operation in _READS:
            self.units.reads += self._read_units(pending.operation, pending.params, parsed)

    # writes -------------------------------------------------------------------------------------
    def _targets(
        self, operation: str, params: Mapping[str, Any]
    ) -> Iterator[tuple[TableShape, dict[str, Any], int]]:
        if operation == "TransactWriteItems":
            for action in params["TransactItems"]:
                ((kind, request),) = action.items()
                table = self.table(request["TableName"])
                key = table.key_of(request["Item"]) if kind == "Put" else dict(request["Key"])
                yield table, key, 2
        elif operation == "BatchWriteItem":
            for name, requests in params["RequestItems"].items():
                table = self.table(name)
                for request in requests:
                    if "PutRequest" in request:
                        yield table, table.key_of(request["PutRequest"]["Item"]), 1
                    else:
                        yield table, dict(request["DeleteRequest"]["Key"]), 1
        else:
            table = self.table(params["TableName"])
            key = table.key_of(params["Item"]) if operation == "PutItem" else dict(params["Key"])
            yield table, key, 1

    def _count_writes(self, pending: _Pending) -> None:
        checks = set()
        if pending.operation == "TransactWriteItems":
            checks = {
                n for n, action in enumerate(pending.params["TransactItems"]) if "ConditionCheck" in action
            }
        for n, (table, key, before, factor) in enumerate(pending.before):
            after = self._item(table, key)
            if after is not None and (before is None or after != before):
                self.items_written.append(after)
            kind = str(key.get("SK", {}).get("S", "")).split("#", 1)[0] or table.name
            self.sizes[kind] = max(self.sizes.get(kind, 0), item_size(after))
            if n in checks:
                self._add(kind, None, factor * write_units(item_size(before)))
                continue
            self._add(kind, None, factor * write_units(max(item_size(before), item_size(after))))
            for index in table.indexes:
                old, new = index.entry(before, table.keys), index.entry(after, table.keys)
                if old == new:
                    continue  # in the index neither before nor after, or nothing it holds changed
                units = 0
                same_keys = old is not None and new is not None and all(old[k] == new[k] for k in index.keys)
                if same_keys:
                    units = write_units(max(item_size(old), item_size(new)))
                else:
                    units = (write_units(item_size(old)) if old is not None else 0) + (
                        write_units(item_size(new)) if new is not None else 0
                    )
                self._add(kind, index.name, units)

    def _add(self, kind: str, index: str | None, units: float) -> None:
        if index is None:
            self.units.table_writes += units
        else:
            self.units.index_writes += units
            self.units.by_index[index] = self.units.by_index.get(index, 0) + units
        self.units.by_item[kind] = self.units.by_item.get(kind, 0) + units

    def _item(self, table: TableShape, key: Mapping[str, Any]) -> dict[str, Any] | None:
        response = self._reader.get_item(TableName=table.name, Key=dict(key), ConsistentRead=True)
        item = response.get("Item")
        return dict(item) if item is not None else None

    # reads --------------------------------------------------------------------------------------
    def _read_units(self, operation: str, params: Mapping[str, Any], parsed: Mapping[str, Any]) -> float:
        if operation == "GetItem":
            table = self.table(params["TableName"])
            factor = 1.0 if params.get("ConsistentRead") else 0.5
            return factor * max(1, math.ceil(item_size(self._item(table, params["Key"])) / READ_UNIT_BYTES))
        if operation == "BatchGetItem":
            units = 0.0
            for name, request in params["RequestItems"].items():
                table = self.table(name)
                factor = 1.0 if request.get("ConsistentRead") else 0.5
                for key in request["Keys"]:
                    size = item_size(self._item(table, key))
                    units += factor * max(1, math.ceil(size / READ_UNIT_BYTES))
            return units
        # Query: what the page evaluated, in full (a projection expression or a filter does not
        # lower the units): the same page asked again without them.
        again = {
            name: value
            for name, value in params.items()
            if name not in ("ProjectionExpression", "FilterExpression", "Select", "ReturnConsumedCapacity")
        }
        if "FilterExpression" in params or "ProjectionExpression" in params:
            used = _names_used(again)
            names = {k: v for k, v in again.get("ExpressionAttributeNames", {}).items() if k in used}
            values = {k: v for k, v in again.get("ExpressionAttributeValues", {}).items() if k in used}
            again.pop("ExpressionAttributeNames", None)
            again.pop("ExpressionAttributeValues", None)
            if names:
                again["ExpressionAttributeNames"] = names
            if values:
                again["ExpressionAttributeValues"] = values
        page = self._reader.query(**again)
        size = sum(item_size(item) for item in page.get("Items", []))
        factor = 1.0 if params.get("ConsistentRead") else 0.5
        return factor * max(1, math.ceil(size / READ_UNIT_BYTES))


def _names_used(params: Mapping[str, Any]) -> set[str]:
    text = " ".join(str(params.get(name, "")) for name in ("KeyConditionExpression",))
    return {
        token
        for token in text.replace("(", " ").replace(")", " ").replace(",", " ").split()
        if token[:1] in "#:"
    }
