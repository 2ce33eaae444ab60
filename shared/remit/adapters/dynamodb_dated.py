"""Invoices, credit notes and payments by date: the sparse, keys-only date index (`GSI6`).

    GSI6PK = ORG#<org>#INVOICES#BY_DATE       GSI6SK = <issue date>#<invoice id>      issued invoices
    GSI6PK = ORG#<org>#CREDITNOTES#BY_DATE    GSI6SK = <issue date>#<credit note id>
    GSI6PK = ORG#<org>#PAYMENTS#BY_DATE       GSI6SK = <received on>#<payment id>

The dates are the ones an accounting export's period selects by (docs/exports.md), as stored (a
day in the organisation's time zone). A draft invoice has no issue date and no keys: it gets them
at finalization, the one write that costs the index a write. Once set they never change (an
invoice's issue date, a credit note's and a payment's dates are fixed), so every later write of
the document leaves the index alone. The index holds keys only: a period's documents are read as
a query of the keys, then a `BatchGetItem` of the page's items (consistent).

`date_keys` computes the keys from the stored item alone, so the adapters' item mapping
(`invoice_item`, `payment_item`, `credit_note_item`) and the backfill use the same function. `GSI6`
also holds customers by email (dynamodb_customers), under other partitions.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Literal

from remit.adapters.dynamodb import (
    DynamoTable,
    Index,
    Item,
    Write,
    backfill,
    decode_cursor,
    encode_cursor,
    to_attributes,
)
from remit.domain.errors import InvalidInput

GSI6 = Index("GSI6", "GSI6PK", "GSI6SK")

Dated = Literal["invoice", "credit_note", "payment"]

# Per kind: the partition's name after the organisation's, the item's sort key prefix, and the
# stored attribute holding its date.
_KINDS: dict[str, tuple[str, str, str]] = {
    "invoice": ("INVOICES#BY_DATE", "INVOICE#", "issue_date"),
    "credit_note": ("CREDITNOTES#BY_DATE", "CREDITNOTE#", "issue_date"),
    "payment": ("PAYMENTS#BY_DATE", "PAYMENT#", "received_on"),
}

_SORT_KEY = re.compile(r"\d{4}-\d{2}-\d{2}#[^#]+")


def _partition(organisation_id: str, kind: str) -> str:
    return f"ORG#{organisation_id}#{_KINDS[kind][0]}"


def date_keys(item: Item) -> Item:
    """The date-index attributes of a stored invoice, credit note or payment ({} for other items,
    and for a draft invoice, which has no issue date)."""
    kind = item.get("entity")
    if kind not in _KINDS or (kind == "invoice" and item.get("status") == "draft"):
        return {}
    _, prefix, attribute = _KINDS[kind]
    day = item.get(attribute)
    if not day:
        return {}
    organisation_id = str(item["PK"]).removeprefix("ORG#")
    document_id = str(item["SK"]).removeprefix(prefix)
    return {
        GSI6.partition_key: _partition(organisation_id, str(kind)),
        GSI6.sort_key: f"{day}#{document_id}",
    }


def read_dated(
    table: DynamoTable,
    organisation_id: str,
    kind: Dated,
    first: date,
    last: date,
    limit: int,
    cursor: str | None,
) -> tuple[list[Item], str | None]:
    """Up to `limit` of the organisation's items of `kind` dated `first` to `last` (both included),
    by date then id (the order they were created), and the cursor of the next page (None at the
    end): one query of the index's keys and one `BatchGetItem` (100 keys) per page.

    `InvalidInput` naming `cursor` for a cursor this read did not issue.
    """
    partition = _partition(organisation_id, kind)
    prefix = _KINDS[kind][1]
    low, high = f"{first.isoformat()}#", f"{last.isoformat()}$"  # `$` follows `#`: the whole last day
    after: dict[str, str] | None = None
    if cursor is not None:
        after_sk = decode_cursor(cursor, "")
        if not _SORT_KEY.fullmatch(after_sk) or not low <= after_sk <= high:
            raise InvalidInput.single("cursor", "is not a cursor from a previous page of this list")
        document_id = after_sk.split("#", 1)[1]
        after = {
            "PK": f"ORG#{organisation_id}",
            "SK": f"{prefix}{document_id}",
            GSI6.partition_key: partition,
            GSI6.sort_key: after_sk,
        }
    keys, more = table.query_index_keys_between(GSI6, partition, low, high, limit, after)
    items = table.batch_get([(str(entry["PK"]), str(entry["SK"])) for entry in keys])
    return items, encode_cursor(str(keys[-1][GSI6.sort_key])) if more else None


# Present once every invoice, credit note and payment of the table carries its date keys.
_DATE_KEYS_DONE = ("SCHEMA#date_index", "SCHEMA")


def backfill_date_keys(table: DynamoTable) -> int | None:
    """Give the invoices, credit notes and payments stored before the date index their keys in it
    (`backfill`). An item is updated only if it still has no keys and its date is still the one its
    keys were computed from (a draft finalized meanwhile has written its own)."""
    stale = (
        "#e IN (:invoice, :credit_note, :payment) AND attribute_not_exists(#k)",
        {"#e": "entity", "#k": GSI6.partition_key},
        {":invoice": "invoice", ":credit_note": "credit_note", ":payment": "payment"},
    )
    return backfill(table, _DATE_KEYS_DONE, stale, _date_keys_write)


def _date_keys_write(item: Item) -> list[Write]:
    keys = date_keys(item)
    if not keys:
        return []  # a draft: finalization gives it its keys
    attribute = _KINDS[str(item["entity"])][2]
    request = {
        "Key": {"PK": {"S": item["PK"]}, "SK": {"S": item["SK"]}},
        "UpdateExpression": "SET #pk6 = :pk6, #sk6 = :sk6",
        "ConditionExpression": "attribute_exists(PK) AND attribute_not_exists(#pk6) AND #day = :day",
        "ExpressionAttributeNames": {"#pk6": GSI6.partition_key, "#sk6": GSI6.sort_key, "#day": attribute},
        "ExpressionAttributeValues": to_attributes(
            {":pk6": keys[GSI6.partition_key], ":sk6": keys[GSI6.sort_key], ":day": item[attribute]}
        ),
    }
    return [Write("Update", request)]
