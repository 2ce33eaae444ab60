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
from datetime import date

from remit.adapters.dynamodb import Index, Item

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
