"""The overview's counters and its open invoices by due date, in the organisation's partition.

    ORG#<org> / STATS#TOTAL#OPEN#<currency>#<shard>           open invoices: amount due, count
    ORG#<org> / STATS#TOTAL#UNCOLLECTIBLE#<currency>#<shard>  uncollectible invoices: amount due, count
    ORG#<org> / STATS#DUE#<yyyy-mm-dd>#<currency>#<shard>     open invoices due that day: amount due, count
    ORG#<org> / STATS#PAID#<yyyy-mm-dd>#<currency>#<shard>    payments received that day: amount, count
    ORG#<org> / STATS#ISSUED#<yyyy-mm>#<currency>#<shard>     invoices issued that month (not void): total
    ORG#<org> / OPENDUE#<yyyy-mm-dd>#<invoice>                an open invoice, under its due date

What each invoice and payment contributes is the domain's (`remit.domain.overview`). A counter
holds `amount` and `count` and nothing else (what it counts is its key). It changes by `ADD`, in
the same TransactWriteItems as the invoice or payment whose change it counts: `OverviewChanges`
stages the differences of one transaction, merged into one write per counter (a transaction may
write an item once), so two transactions that both add to a counter compose, and a cancelled one
changes none. `OPENDUE#` markers are put when an invoice becomes `open` and deleted when it stops
being open.

Each counter is `SHARDS` items (`<shard>` 0 to 7, one chosen at random per transaction), so that
concurrent changes seldom write the same item; a read adds them up. An overview reads, in its
partition and whatever the number of invoices: the `STATS#TOTAL#` counters (two per currency),
the `STATS#DUE#` counters from today on (one per currency and future due date), 30 days of
`STATS#PAID#`, 12 months of `STATS#ISSUED#`, and the first `OPENDUE#` markers before today with
their invoices (docs/access-patterns.md).

Invoices and payments stored before the counters carry no `in_overview` attribute; the next write
of such an invoice adds all it contributes (as if it were new), and `backfill_overview` counts the
rest once.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from datetime import date
from typing import Any

from remit.adapters.dynamodb import DynamoTable, Item, Write, delete, key, put, to_attributes
from remit.adapters.items.invoices import invoice_of, payment_of
from remit.domain.errors import ConcurrentUpdate
from remit.domain.invoice import Invoice
from remit.domain.overview import (
    Bucket,
    Buckets,
    Figure,
    OverviewReading,
    OverviewWindow,
    Total,
    bucket_changes,
    invoice_buckets,
    payment_buckets,
)
from remit.domain.payment import Payment
from remit.domain.retry import retry_on_conflict

COUNTED = "in_overview"  # the attribute of invoices and payments the counters include
_TOTAL_NAMES: dict[Figure, str] = {"open": "OPEN", "uncollectible": "UNCOLLECTIBLE"}
_DATED_NAMES: dict[Figure, str] = {"due": "DUE", "paid": "PAID", "issued": "ISSUED"}
_END = "~"  # sorts after the digits, '#' and the capital letters of every key below
# Each counter is split into this many items, and a transaction adds to one of them chosen at
# random: every change of an organisation's invoices in one currency (a bulk run finalizing
# hundreds at once, payments arriving together) would otherwise write the same item, and
# DynamoDB cancels transactions that write one item at the same time. A read sums the shards.
SHARDS = 8


def bucket_key(bucket: Bucket, shard: int = 0) -> str:
    if bucket.period is None:
        return f"STATS#TOTAL#{_TOTAL_NAMES[bucket.figure]}#{bucket.currency}#{shard}"
    period = bucket.period.isoformat()
    if bucket.figure == "issued":
        period = period[:7]
    return f"STATS#{_DATED_NAMES[bucket.figure]}#{period}#{bucket.currency}#{shard}"


_FIGURES: dict[str, Figure] = {name: figure for figure, name in (_TOTAL_NAMES | _DATED_NAMES).items()}


def _bucket_of(item: Item) -> tuple[Bucket, Total]:
    """The bucket a counter item counts, from its key (the item holds only `amount` and `count`)."""
    _, kind, *rest = str(item["SK"]).split("#")
    total = Total(int(item["amount"]), int(item["count"]))
    if kind == "TOTAL":
        return Bucket(_FIGURES[rest[0]], rest[1]), total
    period, currency = rest[:2]
    day = date.fromisoformat(period if len(period) == 10 else f"{period}-01")
    return Bucket(_FIGURES[kind], currency, day), total


def _marker_key(invoice: Invoice | None) -> str | None:
    if invoice is None or invoice.status != "open":
        return None
    return f"OPENDUE#{invoice.due_date.isoformat()}#{invoice.id}"


class OverviewChanges:
    """The counter changes and markers of one transaction in one organisation's partition."""

    def __init__(self, pk: str) -> None:
        self._pk = pk
        self._changes: dict[Bucket, Total] = {}
        self._markers: dict[str, Item | None] = {}  # SK → the marker to put, or None to delete it

    def _add(self, changes: Buckets) -> None:
        for bucket, change in changes.items():
            merged = self._changes.get(bucket, Total()) + change
            if merged:
                self._changes[bucket] = merged
            else:
                self._changes.pop(bucket, None)

    def invoice_changed(self, before: Invoice | None, after: Invoice | None) -> None:
        """`before`: the invoice as stored and counted (None: new, or stored before the counters);
        `after`: as written (None: deleted)."""
        self._add(
            bucket_changes(invoice_buckets(before) if before else {}, invoice_buckets(after) if after else {})
        )
        old, new = _marker_key(before), _marker_key(after)
        if old == new:
            return
        if old is not None:
            self._markers[old] = None
        if new is not None and after is not None:
            self._markers[new] = {
                "PK": self._pk,
                "SK": new,
                "entity": "open_invoice",
                "invoice_id": after.id,
                "currency": after.currency,
                "due_date": after.due_date.isoformat(),
            }

    def payment_recorded(self, payment: Payment) -> None:
        self._add(payment_buckets(payment))

    def __len__(self) -> int:
        return len(self._changes) + len(self._markers)

    def writes(self) -> list[Write]:
        # The counters' writes are `ADD` alone (no attribute but the two numbers): the least an
        # update can be, which the local stack's emulator charges by its expression's size.
        shard = random.randrange(SHARDS)  # noqa: S311 - spreading writes, not a secret
        writes = [
            Write(
                "Update",
                {
                    "Key": key(self._pk, bucket_key(bucket, shard)),
                    "UpdateExpression": "ADD #amount :amount, #count :count",
                    "ExpressionAttributeNames": {"#amount": "amount", "#count": "count"},
                    "ExpressionAttributeValues": to_attributes(
                        {":amount": change.amount, ":count": change.count}
                    ),
                },
            )
            for bucket, change in sorted(self._changes.items())
        ]
        for sk, marker in sorted(self._markers.items()):
            writes.append(Write("Put", put(marker)) if marker else Write("Delete", delete(self._pk, sk)))
        return writes


def read_overview(table: DynamoTable, organisation_id: str, window: OverviewWindow) -> OverviewReading:
    """The counters of the window and the oldest overdue open invoices: five queries and a batch get,
    each reading only what it returns."""
    pk = f"ORG#{organisation_id}"
    today = window.today.isoformat()
    first_month, last_month = window.months[0].isoformat()[:7], window.months[-1].isoformat()[:7]
    items = (
        table.query_between(pk, "STATS#TOTAL#", f"STATS#TOTAL#{_END}")
        + table.query_between(pk, f"STATS#DUE#{today}", f"STATS#DUE#{_END}")
        + table.query_between(pk, f"STATS#PAID#{window.paid_from.isoformat()}", f"STATS#PAID#{today}#{_END}")
        + table.query_between(pk, f"STATS#ISSUED#{first_month}", f"STATS#ISSUED#{last_month}#{_END}")
    )
    buckets: dict[Bucket, Total] = {}
    for item in items:  # a counter's shards add up
        bucket, total = _bucket_of(item)
        buckets[bucket] = buckets.get(bucket, Total()) + total
    # Every marker sorts before `OPENDUE#<today>` exactly when its due date is before today.
    markers = table.query_between(pk, "OPENDUE#", f"OPENDUE#{today}", limit=window.attention_limit)
    found = table.batch_get([(pk, f"INVOICE#{marker['invoice_id']}") for marker in markers])
    invoices = [invoice_of(item) for item in found]
    return OverviewReading(buckets, [invoice for invoice in invoices if invoice.status == "open"])


# --- data stored before the counters ------------------------------------------------------------

# Present once every invoice and payment stored before the counters has been counted.
_OVERVIEW_DONE = ("SCHEMA#overview", "SCHEMA")
# The most writes counting one item takes: its own update, its counters (an invoice's open, due and
# issued; a payment's paid) and an open invoice's marker. A transaction holds at most 100 writes.
_MOST_WRITES = {"invoice": 5, "payment": 2}
_TRANSACTION_WRITES = 100
_ATTEMPTS = 8


def _contributes(item: Item) -> bool:
    if item["entity"] == "invoice":
        return bool(invoice_buckets(invoice_of(item)))
    return bool(payment_buckets(payment_of(item)))


def _counting_writes(items: Iterable[Item]) -> list[Write]:
    """Mark the items counted (if they are still as read and uncounted) and add what they contribute."""
    writes: list[Write] = []
    changes: OverviewChanges | None = None
    for item in items:
        changes = changes or OverviewChanges(item["PK"])
        condition = "attribute_exists(PK) AND (attribute_not_exists(#c) OR #c = :no)"
        values: dict[str, Any] = {":yes": True, ":no": False}
        if item["entity"] == "invoice":
            changes.invoice_changed(None, invoice_of(item))
            condition += " AND version = :version"
            values[":version"] = item["version"]
        else:
            changes.payment_recorded(payment_of(item))
        writes.append(
            Write(
                "Update",
                {
                    "Key": key(item["PK"], item["SK"]),
                    "UpdateExpression": "SET #c = :yes",
                    "ConditionExpression": condition,
                    "ExpressionAttributeNames": {"#c": COUNTED},
                    "ExpressionAttributeValues": to_attributes(values),
                },
            )
        )
    return writes + (changes.writes() if changes else [])


def _count(table: DynamoTable, items: list[Item]) -> int:
    """Count the items (one organisation's) in one transaction, or one by one if one changed meanwhile."""
    try:
        table.write(_counting_writes(items))
        return len(items)
    except ConcurrentUpdate:
        return sum(_count_one(table, item) for item in items)


def _count_one(table: DynamoTable, item: Item) -> int:
    def attempt() -> int:
        fresh = table.get(item["PK"], item["SK"])
        if fresh is None or fresh.get(COUNTED) or not _contributes(fresh):
            return 0  # deleted, or counted by its own write since the scan, or nothing to count
        table.write(_counting_writes([fresh]))
        return 1

    return retry_on_conflict(
        attempt, _ATTEMPTS, exhausted=f"{item['SK']} of {item['PK']} kept changing; run the backfill again."
    )


def backfill_overview(table: DynamoTable) -> int | None:
    """Count the invoices and payments stored before the overview counters into them, once each.

    Idempotent and safe while the API runs: an item is counted only if it is still uncounted and (an
    invoice) at the version read, in the transaction that adds what it contributes; otherwise its own
    write has counted it. Drafts, void invoices and failed payments contribute nothing and are left
    as they are. Once done it leaves a marker item, so running it again costs one read. Returns the
    number of items counted, or None when a previous run had finished (nothing scanned or written).
    """
    if table.get(*_OVERVIEW_DONE):
        return None
    stale = table.scan(
        "#e IN (:invoice, :payment) AND (attribute_not_exists(#c) OR #c = :no)",
        {"#e": "entity", "#c": COUNTED},
        {":invoice": "invoice", ":payment": "payment", ":no": False},
    )
    counted = 0
    batch: list[Item] = []
    writes = 0
    for item in stale:  # a scan returns a partition's items together: one organisation per batch
        if not _contributes(item):
            continue
        most = _MOST_WRITES[item["entity"]]
        if batch and (writes + most > _TRANSACTION_WRITES or batch[0]["PK"] != item["PK"]):
            counted += _count(table, batch)
            batch, writes = [], 0
        batch.append(item)
        writes += most
    if batch:
        counted += _count(table, batch)
    marker = {"PK": _OVERVIEW_DONE[0], "SK": _OVERVIEW_DONE[1], "entity": "schema_marker"}
    table.write([Write("Put", put(marker))])
    return counted
