"""The work indexes on GSI1, by day: `DUE#<shard>` for the daily invoicing cycle, `REMIND#<shard>`
for the reminders run.

Due index: what the daily invoicing cycle has to look at, by day.

A subscription carries the keys while active, dated the day the cycle must next look at it; a
customer billed monthly for its open charges carries them dated the 1st of its next invoice. The
index is sparse (an item leaves it when the attributes are removed) and sharded by organisation,
so that one day's work does not land on one partition while an organisation's work of a day sits
together (one billing run holds it, up to a page). Its sort key starts with the day, so the planner
reads exactly the entries due up to a day and nothing else.

Each planner reads one page of one shard (`DynamoDayPlanning.page`), so what a planner holds is
bounded by the page, whatever the day's size.

Reminder index: an open invoice carries the keys on the date of its next reminder step (set at
finalization and moved by each run), so the reminders run reads the invoices with a step due and
nothing else; invoices past their last step, paid or void are not in it.
"""

from __future__ import annotations

import hashlib
import json
import zlib
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

from remit.adapters.dynamodb import DynamoTable, Index, Item, Write, put
from remit.adapters.items.organisations import organisation_of
from remit.domain.errors import ConcurrentUpdate
from remit.domain.organisation import Organisation
from remit.ports.queues import IndexEntry, WorkIndex

DUE_SHARDS = 8
DUE_INDEX = Index("GSI1", "GSI1PK", "GSI1SK")


def due_keys(day: date, organisation_id: str, item_id: str) -> Item:
    """The due-index attributes of a subscription or customer with work on `day`, in its
    organisation's shard (entries written in an item's shard before are read all the same)."""
    shard = zlib.crc32(organisation_id.encode()) % DUE_SHARDS
    return {"GSI1PK": f"DUE#{shard}", "GSI1SK": f"{day.isoformat()}#{organisation_id}#{item_id}"}


REMINDER_SHARDS = 8


def reminder_keys(day: date, organisation_id: str, invoice_id: str) -> Item:
    """The reminder index's attributes of an open invoice whose next reminder step falls on `day`,
    in its organisation's shard."""
    shard = zlib.crc32(organisation_id.encode()) % REMINDER_SHARDS
    return {"GSI1PK": f"REMIND#{shard}", "GSI1SK": f"{day.isoformat()}#{organisation_id}#{invoice_id}"}


# A day's plan, by shard, in items of no organisation: PLAN#<plan>#<shard> / PAGE#<page> (who
# queued the page that follows) and PART#<page> (what the part of that page planned).
PLANS = "PLAN#"
# How long a plan's items are kept: DynamoDB's TTL deletes them after this (`expires_at`, epoch
# seconds). Longer than SQS keeps a message (14 days at most), so a part delivered again always
# finds its page's marker.
PLAN_ITEMS_KEPT = timedelta(days=30)


def _expires_at() -> int:
    return int((datetime.now(UTC) + PLAN_ITEMS_KEPT).timestamp())


def _page_key(after: str | None) -> str:
    """A page's name in its plan: its cursor's digest (START for the shard's first page)."""
    return hashlib.sha256(after.encode()).hexdigest()[:32] if after else "START"


class DynamoDayPlanning:
    """The work indexes a page at a time (a query of one shard, only the entries due), and the
    markers that let one planner per page queue the shard's next page."""

    def __init__(self, table: DynamoTable) -> None:
        self._table = table

    def shards(self, index: WorkIndex) -> int:
        return DUE_SHARDS if index == "DUE" else REMINDER_SHARDS

    def page(
        self,
        index: WorkIndex,
        shard: int,
        through: date,
        after: str | None,
        limit: int,
        *,
        start: str | None = None,
        until: str | None = None,
    ) -> tuple[list[IndexEntry], str | None]:
        """Entries of the `index` shard dated `through` or earlier, between `start` and `until`
        when given (one query of at most `limit` items): a subscription or invoice names its
        customer; a customer is its own."""
        upper = f"{through.isoformat()}#~"  # "~" sorts after every id: the whole of `through`
        request: dict[str, Any] = {
            "TableName": self._table.name,
            "IndexName": DUE_INDEX.name,
            "KeyConditionExpression": "GSI1PK = :pk AND GSI1SK BETWEEN :lower AND :upper",
            "ExpressionAttributeValues": {
                ":pk": {"S": f"{index}#{shard}"},
                ":lower": {"S": start or "0"},  # below every date
                ":upper": {"S": min(upper, until) if until else upper},
            },
            "ProjectionExpression": "GSI1SK, customer_id",
            "Limit": limit,
        }
        if after:
            request["ExclusiveStartKey"] = {k: {"S": v} for k, v in json.loads(after).items()}
        response = self._table.client.query(**request)
        entries: list[IndexEntry] = []
        for attributes in response.get("Items", []):
            day, organisation_id, item_id = attributes["GSI1SK"]["S"].split("#", 2)
            customer_id = attributes.get("customer_id", {}).get("S", item_id)
            entries.append((date.fromisoformat(day), organisation_id, item_id, customer_id))
        last = response.get("LastEvaluatedKey")
        following = (
            json.dumps({k: v["S"] for k, v in sorted(last.items())}, separators=(",", ":")) if last else None
        )
        return entries, following

    def claim_next_page(
        self, plan: str, shard: int, after: str | None, following: str, by: str
    ) -> str | None:
        item: Item = {
            "PK": f"{PLANS}{plan}#{shard}",
            "SK": f"PAGE#{_page_key(after)}",
            "entity": "marker",
            "by": by,
            "following": following,
            "expires_at": _expires_at(),
        }
        try:
            self._table.write([Write("Put", put(item, "attribute_not_exists(PK)"))])
        except ConcurrentUpdate:
            claimed = self._table.get(item["PK"], item["SK"])
            if claimed is None or claimed.get("by") != by:
                return None  # another planner queued it
            return str(claimed["following"])  # queued by this message before it was delivered again
        return following

    def record_part(self, plan: str, shard: int, after: str | None, report: Mapping[str, Any]) -> None:
        item = {
            "PK": f"{PLANS}{plan}#{shard}",
            "SK": f"PART#{_page_key(after)}",
            "entity": "plan_part",
            "expires_at": _expires_at(),
        }
        self._table.write([Write("Put", put({**item, "report": json.dumps(report, separators=(",", ":"))}))])

    def parts_recorded(self, plan: str, shards: int) -> list[dict[str, Any]]:
        return [
            json.loads(str(item["report"]))
            for shard in range(shards)
            for item in self._table.query_all(f"{PLANS}{plan}#{shard}", "PART#")
        ]


def organisations_by_id(table: DynamoTable, organisation_ids: list[str]) -> dict[str, Organisation]:
    """The organisations of the entries read, 100 to a BatchGetItem (missing ones left out)."""
    found: dict[str, Organisation] = {}
    for start in range(0, len(organisation_ids), 100):
        keys = [(f"ORG#{org}", "ORG") for org in organisation_ids[start : start + 100]]
        for item in table.batch_get(keys):
            organisation = organisation_of(item)
            found[organisation.id] = organisation
    return found
