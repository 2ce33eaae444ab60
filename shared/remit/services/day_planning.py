"""The day's planning in parts: the scheduled planner only splits the day, one part per shard of
the work index, and each part is planned by its own invocation from the queue, a page at a time.

A part plans one page of its shard (at most `PAGE` entries, or as configured), so what one
invocation reads, holds and queues is bounded by the page, whatever the number of organisations
or items due. Before it plans its page, a part queues the part that plans the next page of its
shard, so a page that keeps failing (retried, then dead-lettered) holds back no organisation of
the pages after it, and the shards are planned side by side. The next page is queued by one
message only: the first to claim it (a marker per page, `DayPlanning.claim_next_page`); a
redelivery of that message queues the same page again (it may have been lost in a crash), any
other message stops there. What a page records is named after the page (its plan, shard and
start), so a page planned twice records nothing twice, and the items it queues twice are billed or
reminded once (the workers' markers).

One organisation with more work than a page does not hold back the organisations after it in its
shard: a full page of one organisation's entries of one day queues two parts, a lane that goes on
with that organisation's entries of that day alone, and the shard's next part, which starts after
them. So an organisation behind a large one waits one page, not the large one's every page.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from remit.ports.queues import DayPlanning, IndexEntry, WorkIndex, WorkQueue

PAGE = 500  # entries per part by default (`REMIT_PLANNER_PAGE_SIZE`): a query and as many messages


@dataclass(frozen=True)
class DayPart:
    """One page of one shard of a work index, for the day planned at `scheduled_time`."""

    kind: str  # the queue message's kind: "plan_cycle", "plan_reminders"
    index: WorkIndex
    scheduled_time: datetime
    shard: int
    after: str | None = None  # the page starts after this cursor (None: at `start`)
    # The part's bounds in the index's sort key (inclusive): `start` is where a part that jumped
    # past a large organisation's day begins; `until` closes a lane on one organisation's day.
    start: str | None = None
    until: str | None = None

    def message(self) -> dict[str, Any]:
        bounds = {"start": self.start, "until": self.until}
        return {
            "kind": self.kind,
            "scheduled_time": self.scheduled_time.isoformat(),
            "shard": self.shard,
            "after": self.after,
            **{name: value for name, value in bounds.items() if value is not None},
        }

    @property
    def page(self) -> str | None:
        """The page's name within its shard's day (None for the shard's first page): what its
        markers, records and run ids are named after, the same on every delivery."""
        if self.start is None and self.until is None:
            return self.after
        return json.dumps([self.after, self.start, self.until], separators=(",", ":"))

    def following(self, cursor: str) -> DayPart:
        """The part of the page after this one's, within the same bounds."""
        return replace(self, after=cursor)

    @property
    def plan(self) -> str:
        """The name of the day's plan the part belongs to (its pages' markers are under it)."""
        return f"{self.index}#{self.scheduled_time.isoformat()}"


def part_of(message: Mapping[str, Any], index: WorkIndex) -> DayPart:
    after, start, until = (message.get(name) for name in ("after", "start", "until"))
    return DayPart(
        kind=str(message["kind"]),
        index=index,
        scheduled_time=datetime.fromisoformat(str(message["scheduled_time"])),
        shard=int(message["shard"]),
        after=str(after) if after else None,
        start=str(start) if start else None,
        until=str(until) if until else None,
    )


def split_day(
    planning: DayPlanning, queue: WorkQueue, kind: str, index: WorkIndex, scheduled_time: datetime
) -> list[DayPart]:
    """Queue the first part of each shard of `index` for the day at `scheduled_time`: constant work."""
    parts = [DayPart(kind, index, scheduled_time, shard) for shard in range(planning.shards(index))]
    queue.send([part.message() for part in parts])
    return parts


def read_page(
    planning: DayPlanning, queue: WorkQueue, part: DayPart, through: date, message_id: str, page: int
) -> tuple[list[IndexEntry], tuple[DayPart, ...]]:
    """The part's page (at most `page` entries dated `through` or earlier), once the parts that
    follow it are queued (by this message unless another claimed them first): (entries, the parts
    queued here). A full page of one organisation's day, outside a lane, is followed by a lane on
    the rest of that day and by the shard's part after it; any other page by its next page."""
    entries, cursor = planning.page(
        part.index, part.shard, through, part.after, page, start=part.start, until=part.until
    )
    if cursor is None:
        return entries, ()
    following = [part.following(cursor)]
    days = {(day, organisation_id) for day, organisation_id, _, _ in entries}
    if part.until is None and len(days) == 1:
        ((day, organisation_id),) = days
        lane = f"{day.isoformat()}#{organisation_id}#"
        following = [
            DayPart(part.kind, part.index, part.scheduled_time, part.shard, cursor, part.start, f"{lane}~"),
            DayPart(part.kind, part.index, part.scheduled_time, part.shard, None, f"{lane[:-1]}$"),
        ]
    wanted = json.dumps([p.message() for p in following], separators=(",", ":"))
    claimed = planning.claim_next_page(part.plan, part.shard, part.page, wanted, message_id)
    if claimed is None:
        return entries, ()
    recorded = json.loads(claimed)
    if isinstance(recorded, dict):  # a marker of one cursor, as pages were claimed before lanes
        recorded = [part.following(claimed).message()]
    queued = tuple(part_of(message, part.index) for message in recorded)
    queue.send([p.message() for p in queued])
    return entries, queued


class PartFailed(Exception):
    """Some organisations of a page could not be planned (the others were): the part is retried."""
