"""Work queued for the batch functions, and the day's planning that queues it a page at a time."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any, Literal, Protocol

#: A work index by day: `DUE` (the invoicing cycle's) or `REMIND` (the reminders run's).
WorkIndex = Literal["DUE", "REMIND"]
#: One entry of a work index: (day, organisation id, item id, customer id).
IndexEntry = tuple[date, str, str, str]


class WorkQueue(Protocol):
    def send(self, messages: Sequence[Mapping[str, Any]]) -> None:
        """Queue every message (JSON objects) for the queue's consumer, or raise: none is dropped."""
        ...


class DayPlanning(Protocol):
    """The work indexes read a page at a time, and which planner carries each shard's day on."""

    def shards(self, index: WorkIndex) -> int:
        """How many shards the index has (each is planned on its own)."""
        ...

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
        """At most `limit` entries of the shard dated `through` or earlier, after the cursor `after`
        (from `start`, or the shard's start, when None) and up to `until` when given (both bounds of
        the index's sort key, inclusive), oldest day first; and the cursor of the next page, or None."""
        ...

    def claim_next_page(
        self, plan: str, shard: int, after: str | None, following: str, by: str
    ) -> str | None:
        """Claim the queueing of the parts that follow the page `after` (the part's page name) for
        planner `by` (a queue message's id, the same on every delivery of it). Returns `following`
        as recorded by the first claim (so a redelivery queues what it queued before), or None when
        another message claimed it: that one carries the shard's day on."""
        ...

    def record_part(self, plan: str, shard: int, after: str | None, report: Mapping[str, Any]) -> None:
        """Keep what the part (the page after `after`) planned; a part planned again replaces it."""
        ...

    def parts_recorded(self, plan: str, shards: int) -> list[dict[str, Any]]:
        """What every part of `plan` planned, as recorded (one item per part: grows with the day)."""
        ...
