"""A thin typed layer over the DynamoDB client: items in and out, conditional writes, transactions.

Every write names the domain error to raise when its condition fails, so repositories can say
"this external id is taken" rather than "ConditionalCheckFailed at index 2".
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from remit.domain.errors import ConcurrentUpdate, DomainError, InvalidInput

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()

Item = dict[str, Any]

# The most keys one `BatchGetItem` may ask for.
BATCH_GET_KEYS = 100


def to_attributes(item: Mapping[str, Any]) -> dict[str, Any]:
    """Python values to DynamoDB attribute values; ints and Decimals stay exact."""
    return {key: _serializer.serialize(value) for key, value in item.items()}


def from_attributes(attributes: Mapping[str, Any]) -> Item:
    """DynamoDB attribute values to Python values; whole numbers come back as `int`."""
    return {key: _plain(_deserializer.deserialize(value)) for key, value in attributes.items()}


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else value
    if isinstance(value, dict):
        return {key: _plain(inner) for key, inner in value.items()}
    if isinstance(value, list):
        return [_plain(inner) for inner in value]
    return value


def json_time(moment: datetime) -> str:
    """A timestamp as the domain's JSON writes it (`2026-12-01T10:00:00Z`), for stored attributes."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def key(pk: str, sk: str) -> dict[str, Any]:
    return {"PK": {"S": pk}, "SK": {"S": sk}}


def encode_cursor(last_sort_key: str) -> str:
    return base64.urlsafe_b64encode(json.dumps({"after": last_sort_key}).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, sort_key_prefix: str) -> str:
    """The sort key a cursor continues after; `InvalidInput` for a cursor we did not issue."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        after = json.loads(base64.urlsafe_b64decode(padded.encode()))["after"]
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise InvalidInput.single("cursor", "is not a cursor from a previous page of this list") from None
    if not isinstance(after, str) or not after.startswith(sort_key_prefix):
        raise InvalidInput.single("cursor", "is not a cursor from a previous page of this list")
    return after


@dataclass(frozen=True)
class Index:
    """A global secondary index of the table: its name and its key attributes."""

    name: str
    partition_key: str
    sort_key: str


@dataclass
class Write:
    """One write of a transaction, and the error to raise if its condition fails."""

    action: str  # "Put" | "Update" | "Delete" | "ConditionCheck"
    request: dict[str, Any]
    on_condition_failed: Callable[[], DomainError] = field(default=lambda: ConcurrentUpdate())


class DynamoTable:
    """One DynamoDB table, reached through a client that is created on first use."""

    def __init__(self, client_factory: Callable[[], DynamoDBClient], table_name: str) -> None:
        self._client_factory = client_factory
        self._client: DynamoDBClient | None = None
        self.name = table_name

    @property
    def client(self) -> DynamoDBClient:
        if self._client is None:
            self._client = self._client_factory()
        return self._client

    def get(self, pk: str, sk: str, projection: Sequence[str] | None = None) -> Item | None:
        request: dict[str, Any] = {"TableName": self.name, "Key": key(pk, sk), "ConsistentRead": True}
        if projection:
            request["ProjectionExpression"] = ", ".join(f"#p{i}" for i in range(len(projection)))
            request["ExpressionAttributeNames"] = {f"#p{i}": name for i, name in enumerate(projection)}
        response = self.client.get_item(**request)
        attributes = response.get("Item")
        return from_attributes(attributes) if attributes else None

    def batch_get(self, keys: Sequence[tuple[str, str]]) -> list[Item]:
        """Items for `keys`, in the order of `keys`, skipping missing ones: one `BatchGetItem` per
        100 keys (its limit), each repeated for the keys DynamoDB left unprocessed.
        """
        found: dict[tuple[str, str], Item] = {}
        for start in range(0, len(keys), BATCH_GET_KEYS):
            pending = [key(pk, sk) for pk, sk in keys[start : start + BATCH_GET_KEYS]]
            while pending:
                response = self.client.batch_get_item(
                    RequestItems={self.name: {"Keys": pending, "ConsistentRead": True}}
                )
                for attributes in response["Responses"].get(self.name, []):
                    item = from_attributes(attributes)
                    found[(item["PK"], item["SK"])] = item
                unprocessed: dict[str, Any] = dict(response.get("UnprocessedKeys") or {})
                pending = list(unprocessed.get(self.name, {}).get("Keys", []))
        return [found[k] for k in keys if k in found]

    def query_prefix(
        self,
        pk: str,
        sk_prefix: str,
        limit: int,
        after_sk: str | None,
        equal_to: Mapping[str, str] | None = None,
        *,
        descending: bool = False,
        below: str | None = None,
    ) -> tuple[list[Item], bool]:
        """Up to `limit` items of the partition whose sort key starts with `sk_prefix` (and is at most
        `below`, a key of the same prefix, if given), in key order (reversed if `descending`),
        keeping only items whose attributes equal `equal_to` (if given).

        Returns the items and whether more follow. With a filter, DynamoDB pages are read until
        `limit` items matched or the prefix is exhausted.
        """
        after = key(pk, after_sk) if after_sk is not None else None
        return self._query(None, pk, sk_prefix, limit, after, equal_to, descending=descending, below=below)

    def query_index_prefix(
        self,
        index: Index,
        pk: str,
        sk_prefix: str,
        limit: int,
        after: Mapping[str, str] | None,
        equal_to: Mapping[str, str] | None = None,
        *,
        descending: bool = False,
        below: str | None = None,
    ) -> tuple[list[Item], bool]:
        """As `query_prefix`, in the global secondary index `index` (eventually consistent).

        `after` is the full key (the index's and the table's attributes) of the item to continue
        after; it need not still be in the index.
        """
        start = {name: {"S": value} for name, value in after.items()} if after is not None else None
        return self._query(index, pk, sk_prefix, limit, start, equal_to, descending=descending, below=below)

    def query_index_keys_between(
        self,
        index: Index,
        pk: str,
        low: str,
        high: str,
        limit: int,
        after: Mapping[str, str] | None,
    ) -> tuple[list[Item], bool]:
        """The keys (the table's and the index's) of up to `limit` entries of the index partition
        `pk` whose sort key is between `low` and `high` (both included), in key order, continuing
        after the entry keyed `after` (the same four attributes) if given. Returns the keys and
        whether more follow: for an index that projects keys only, read the items by their keys.
        """
        request: dict[str, Any] = {
            "TableName": self.name,
            "IndexName": index.name,
            "KeyConditionExpression": "#pk = :pk AND #sk BETWEEN :low AND :high",
            "ProjectionExpression": "#pk, #sk, #tpk, #tsk",
            "ExpressionAttributeNames": {
                "#pk": index.partition_key,
                "#sk": index.sort_key,
                "#tpk": "PK",
                "#tsk": "SK",
            },
            "ExpressionAttributeValues": {":pk": {"S": pk}, ":low": {"S": low}, ":high": {"S": high}},
            "Limit": limit + 1,
        }
        if after is not None:
            request["ExclusiveStartKey"] = {name: {"S": value} for name, value in after.items()}
        return self._first(request, limit)

    def _first(self, request: dict[str, Any], limit: int) -> tuple[list[Item], bool]:
        """The first `limit` items `request` (a `Query` asking for `limit + 1`) finds, following its
        pages (a filter or the 1 MB page limit may leave one short), and whether more follow."""
        items: list[Item] = []
        while True:
            response = self.client.query(**request)
            items += [from_attributes(attributes) for attributes in response.get("Items", [])]
            last = response.get("LastEvaluatedKey")
            if len(items) > limit or not last:
                break
            request["ExclusiveStartKey"] = last
        return items[:limit], len(items) > limit

    def _query(
        self,
        index: Index | None,
        pk: str,
        sk_prefix: str,
        limit: int,
        start_key: dict[str, Any] | None,
        equal_to: Mapping[str, str] | None,
        *,
        descending: bool = False,
        below: str | None = None,
    ) -> tuple[list[Item], bool]:
        pk_name, sk_name = (index.partition_key, index.sort_key) if index else ("PK", "SK")
        request: dict[str, Any] = {
            "TableName": self.name,
            "KeyConditionExpression": "#pk = :pk AND begins_with(#sk, :prefix)",
            "ExpressionAttributeNames": {"#pk": pk_name, "#sk": sk_name},
            "ExpressionAttributeValues": {":pk": {"S": pk}, ":prefix": {"S": sk_prefix}},
            "Limit": limit + 1,
        }
        if below is not None:
            if not below.startswith(sk_prefix):
                raise ValueError(f"{below!r} is not a key under {sk_prefix!r}")
            request["KeyConditionExpression"] = "#pk = :pk AND #sk BETWEEN :prefix AND :below"
            request["ExpressionAttributeValues"][":below"] = {"S": below}
        if descending:
            request["ScanIndexForward"] = False
        if index:
            request["IndexName"] = index.name
        else:
            request["ConsistentRead"] = True  # global secondary indexes cannot be read consistently
        if equal_to:
            request["FilterExpression"] = " AND ".join(f"#f{i} = :f{i}" for i in range(len(equal_to)))
            request["ExpressionAttributeNames"].update({f"#f{i}": name for i, name in enumerate(equal_to)})
            request["ExpressionAttributeValues"].update(
                {f":f{i}": {"S": value} for i, value in enumerate(equal_to.values())}
            )
            request["Limit"] = max(limit + 1, 100)
        if start_key is not None:
            request["ExclusiveStartKey"] = start_key
        return self._first(request, limit)

    def query_between(self, pk: str, low: str, high: str, limit: int | None = None) -> list[Item]:
        """The partition's items whose sort key is between `low` and `high` (both included), in key
        order, at most `limit` of them (all by default: for ranges that are small by construction).
        """
        request: dict[str, Any] = {
            "TableName": self.name,
            "KeyConditionExpression": "PK = :pk AND SK BETWEEN :low AND :high",
            "ExpressionAttributeValues": {":pk": {"S": pk}, ":low": {"S": low}, ":high": {"S": high}},
            "ConsistentRead": True,
        }
        items: list[Item] = []
        while True:
            if limit is not None:
                request["Limit"] = limit - len(items)
            response = self.client.query(**request)
            items += [from_attributes(attributes) for attributes in response.get("Items", [])]
            last = response.get("LastEvaluatedKey")
            if not last or (limit is not None and len(items) >= limit):
                return items
            request["ExclusiveStartKey"] = last

    def query_all(self, pk: str, sk_prefix: str) -> list[Item]:
        """Every item of the partition under `sk_prefix` (for small, bounded collections)."""
        items, more = self.query_prefix(pk, sk_prefix, 1000, None)
        while more:
            page, more = self.query_prefix(pk, sk_prefix, 1000, items[-1]["SK"])
            items += page
        return items

    def scan(
        self, filter_expression: str, names: Mapping[str, str], values: Mapping[str, Any]
    ) -> Iterator[Item]:
        """Every item of the table that passes the filter (for maintenance, never for a request)."""
        request: dict[str, Any] = {
            "TableName": self.name,
            "FilterExpression": filter_expression,
            "ExpressionAttributeNames": dict(names),
            "ExpressionAttributeValues": to_attributes(values),
        }
        while True:
            response = self.client.scan(**request)
            for attributes in response.get("Items", []):
                yield from_attributes(attributes)
            last = response.get("LastEvaluatedKey")
            if not last:
                return
            request["ExclusiveStartKey"] = last

    def write(self, writes: Sequence[Write]) -> None:
        """Commit every write or none. A single write uses the plain API (same guarantees, cheaper)."""
        if len(writes) == 1:
            self._write_one(writes[0])
            return
        transact_items = [{write.action: {"TableName": self.name, **write.request}} for write in writes]
        try:
            self.client.transact_write_items(TransactItems=transact_items)  # type: ignore[arg-type]
        except ClientError as error:
            if error.response["Error"]["Code"] != "TransactionCanceledException":
                raise
            response: dict[str, Any] = dict(error.response)
            reasons: list[dict[str, Any]] = response.get("CancellationReasons") or []
            for write, reason in zip(writes, reasons, strict=False):
                if reason.get("Code") == "ConditionalCheckFailed":
                    raise write.on_condition_failed() from None
            raise ConcurrentUpdate() from None

    def _write_one(self, write: Write) -> None:
        operations: dict[str, Callable[..., Any]] = {
            "Put": self.client.put_item,
            "Update": self.client.update_item,
            "Delete": self.client.delete_item,
        }
        operation = operations[write.action]
        try:
            operation(TableName=self.name, **write.request)
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                raise write.on_condition_failed() from None
            raise


def put(item: Mapping[str, Any], condition: str | None = None, **values: Any) -> dict[str, Any]:
    """The request of a Put of `item`, guarded by `condition` with `:name` placeholders from `values`."""
    request: dict[str, Any] = {"Item": to_attributes(item)}
    if condition:
        request["ConditionExpression"] = condition
    if values:
        request["ExpressionAttributeValues"] = to_attributes({f":{k}": v for k, v in values.items()})
    return request


def delete(pk: str, sk: str, condition: str | None = None, **values: Any) -> dict[str, Any]:
    request: dict[str, Any] = {"Key": key(pk, sk)}
    if condition:
        request["ConditionExpression"] = condition
    if values:
        request["ExpressionAttributeValues"] = to_attributes({f":{k}": v for k, v in values.items()})
    return request


def keyed(attributes: Mapping[str, Any], pk: str, sk: str, kind: str) -> Item:
    """A stored item: an entity's attributes (mapped in `remit.adapters.items`) under its keys and kind."""
    return {**attributes, "PK": pk, "SK": sk, "entity": kind}


def backfill(
    table: DynamoTable,
    done: tuple[str, str],
    stale: tuple[str, Mapping[str, str], Mapping[str, Any]],
    writes_of: Callable[[Item], Sequence[Write]],
) -> int | None:
    """Give the items stored before a change what the change writes for them (a maintenance run).

    Scans for the `stale` items (a filter expression, its names and values) and commits
    `writes_of(item)` for each, skipping an item it has nothing to write for. Idempotent and safe
    while the API runs, when each item's writes are guarded by a condition on what was scanned: an
    item changed or deleted since is skipped (that write wrote the same itself). Once done it puts
    the marker item `done`, so running it again costs one read. Returns the number of items
    updated, or None when a previous run had finished (nothing scanned, nothing written).
    """
    if table.get(*done):
        return None
    updated = 0
    for item in table.scan(*stale):
        writes = writes_of(item)
        if not writes:
            continue
        try:
            table.write(writes)
            updated += 1
        except ConcurrentUpdate:
            continue  # changed or deleted since the scan: that write wrote the same itself
    table.write([Write("Put", put({"PK": done[0], "SK": done[1], "entity": "schema_marker"}))])
    return updated
