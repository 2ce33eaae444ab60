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
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
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
    after: str | None = None  # the page starts after this cursor (None: the shard's first page)

    def message(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "scheduled_time": self.scheduled_time.isoformat(),
            "shard": self.shard,
            "after": self.after,
        }

    @property
    def plan(self) -> str:
        """The name of the day's plan the part belongs to (its pages' markers are under it)."""
        return f"{self.index}#{self.scheduled_time.isoformat()}"


def part_of(message: Mapping[str, Any], index: WorkIndex) -> DayPart:
    after = message.get("after")
    return DayPart(
        kind=str(message["kind"]),
        index=index,
        scheduled_time=datetime.fromisoformat(str(message["scheduled_time"])),
        shard=int(message["shard"]),
        after=str(after) if after else None,
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
) -> tuple[list[IndexEntry], DayPart | None]:
    """The part's page (at most `page` entries dated `through` or earlier), once the next part is
    queued (by this message unless another claimed it first): (entries, the next part queued here
    or None)."""
    entries, following = planning.page(part.index, part.shard, through, part.after, page)
    queued = None
    if following is not None:
        cursor = planning.claim_next_page(part.plan, part.shard, part.after, following, message_id)
        if cursor is not None:
            queued = DayPart(part.kind, part.index, part.scheduled_time, part.shard, cursor)
            queue.send([queued.message()])
    return entries, queued


class PartFailed(Exception):
    """Some organisations of a page could not be planned (the others were): the part is retried."""
