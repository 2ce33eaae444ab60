"""The work indexes on GSI1, by day: `DUE#<shard>` for the daily invoicing cycle, `REMIND#<shard>`
for the reminders run.

Due index: what the daily invoicing cycle has to look at, by day.

A subscription carries the keys while active, dated the day the cycle must next look at it; a
customer billed monthly for its open charges carries them dated the 1st of its next invoice. The
index is sparse (an item leaves it when the attributes are removed) and sharded, so that one day's
work does not land on one partition. Its sort key starts with the day, so the planner reads
exactly the entries due up to a day and nothing else.

Reminder index: an open invoice carries the keys on the date of its next reminder step (set at
finalization and moved by each run), so the reminders run reads the invoices with a step due and
nothing else; invoices past their last step, paid or void are not in it.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from datetime import date
from typing import Any

from remit.adapters.dynamodb import DynamoTable, Index, Item
from remit.adapters.items.organisations import organisation_of
from remit.domain.organisation import Organisation

DUE_SHARDS = 8
DUE_INDEX = Index("GSI1", "GSI1PK", "GSI1SK")


def due_keys(day: date, organisation_id: str, item_id: str) -> Item:
    """The due-index attributes of a subscription or customer with work on `day`."""
    shard = zlib.crc32(item_id.encode()) % DUE_SHARDS
    return {"GSI1PK": f"DUE#{shard}", "GSI1SK": f"{day.isoformat()}#{organisation_id}#{item_id}"}


REMINDER_SHARDS = 8


def reminder_keys(day: date, organisation_id: str, invoice_id: str) -> Item:
    """The reminder index's attributes of an open invoice whose next reminder step falls on `day`."""
    shard = zlib.crc32(invoice_id.encode()) % REMINDER_SHARDS
    return {"GSI1PK": f"REMIND#{shard}", "GSI1SK": f"{day.isoformat()}#{organisation_id}#{invoice_id}"}


def entries_through(
    table: DynamoTable, prefix: str, shards: int, through: date
) -> Iterator[tuple[date, str, str, str]]:
    """Every entry of the `prefix` index (`DUE`, `REMIND`) dated `through` or earlier, as (day,
    organisation id, item id, customer id): only those entries are read, shard by shard, oldest
    day first in each. A subscription or invoice names its customer; a customer is its own.
    """
    upper = date.fromordinal(through.toordinal() + 1).isoformat()  # "<through>#…" < "<next day>"
    for shard in range(shards):
        request: dict[str, Any] = {
            "TableName": table.name,
            "IndexName": DUE_INDEX.name,
            "KeyConditionExpression": "GSI1PK = :pk AND GSI1SK < :upper",
            "ExpressionAttributeValues": {":pk": {"S": f"{prefix}#{shard}"}, ":upper": {"S": upper}},
            "ProjectionExpression": "GSI1SK, customer_id",
        }
        while True:
            response = table.client.query(**request)
            for attributes in response.get("Items", []):
                day, organisation_id, item_id = attributes["GSI1SK"]["S"].split("#", 2)
                customer_id = attributes.get("customer_id", {}).get("S", item_id)
                yield date.fromisoformat(day), organisation_id, item_id, customer_id
            last = response.get("LastEvaluatedKey")
            if not last:
                break
            request["ExclusiveStartKey"] = last


def organisations_by_id(table: DynamoTable, organisation_ids: list[str]) -> dict[str, Organisation]:
    """The organisations of the entries read, 100 to a BatchGetItem (missing ones left out)."""
    found: dict[str, Organisation] = {}
    for start in range(0, len(organisation_ids), 100):
        keys = [(f"ORG#{org}", "ORG") for org in organisation_ids[start : start + 100]]
        for item in table.batch_get(keys):
            organisation = organisation_of(item)
            found[organisation.id] = organisation
    return found
