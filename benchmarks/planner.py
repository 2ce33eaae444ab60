"""The invoicing cycle's planner at a million: one invocation's peak memory, and how many.

A synthetic due index of N subscriptions due on one day, spread evenly over 10,000 organisations
(sharded by organisation, as `remit.adapters.due_index.due_keys` shards them), is read a page at a
time by an in-memory `DayPlanning` that makes each page when it is asked for (nothing of the day is
held outside the planner). Remit's own `BillingCycleService` plans it as Lambda would run it: the
scheduled invocation splits the day (`split_day`), then each part's message is one invocation of
`plan_part`, which queues the next part. The queue counts the messages and drops them; the store
answers the organisations and records the runs (dropped as well). What is measured is the
planner's own code: `tracemalloc`'s peak over each invocation, from a reset before it. Printed at
10,000, 100,000 and 1,000,000 subscriptions: the invocations, the messages queued (parts and
items), the largest peak of any one invocation. The budget: the peak does not grow with the day.

    python -m benchmarks planner [--sizes 10000,100000,1000000] [--organisations 10000]
"""

from __future__ import annotations

import argparse
import time
import tracemalloc
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from types import SimpleNamespace
from typing import Any

SCHEDULED = datetime(2027, 3, 1, 8, 15, tzinfo=UTC)
DAY = date(2027, 3, 1)


class SyntheticDueIndex:
    """`DayPlanning` over a day of `subscriptions` spread over `organisations`, made page by page."""

    def __init__(self, subscriptions: int, organisations: int, shards: int) -> None:
        self._shards = shards
        self._per_organisation = subscriptions // organisations
        self._organisations: list[list[str]] = [[] for _ in range(shards)]
        for n in range(organisations):
            organisation_id = f"org_{n:05d}"
            self._organisations[zlib.crc32(organisation_id.encode()) % shards].append(organisation_id)
        self._claims: dict[tuple[str, int, str | None], tuple[str, str]] = {}

    def shards(self, index: str) -> int:
        return self._shards

    def page(
        self,
        index: str,
        shard: int,
        through: date,
        after: str | None,
        limit: int,
        *,
        start: str | None = None,
        until: str | None = None,
    ) -> tuple[list[tuple[date, str, str, str]], str | None]:
        organisations = self._organisations[shard]
        total = len(organisations) * self._per_organisation
        # Entries of the shard before the page: after the cursor, or from the bound `start`
        # (`<day>#<organisation>$`: the first entry of the organisation after it).
        position = int(after) if after else self._bound(organisations, start) if start else 0
        last = self._bound(organisations, until) if until else total  # `<day>#<organisation>#~`
        end = min(position + limit, last)
        entries = []
        for n in range(position, end):
            organisation_id = organisations[n // self._per_organisation]
            k = n % self._per_organisation
            entries.append((DAY, organisation_id, f"sub_{k:07d}", f"cus_{k:07d}"))
        return entries, (str(end) if end < last else None)

    def _bound(self, organisations: list[str], key: str) -> int:
        """The position just after the entries of the organisation a bound names."""
        organisation_id = key.split("#")[1].rstrip("$")
        return (organisations.index(organisation_id) + 1) * self._per_organisation

    def claim_next_page(
        self, plan: str, shard: int, after: str | None, following: str, by: str
    ) -> str | None:
        claimed = self._claims.setdefault((plan, shard, after), (following, by))
        return claimed[0] if claimed[1] == by else None

    def record_part(self, plan: str, shard: int, after: str | None, report: Mapping[str, Any]) -> None:
        """Dropped: what parts planned is counted from their answers."""

    def parts_recorded(self, plan: str, shards: int) -> list[dict[str, Any]]:
        return []


class CountingQueue:
    """The billing queue: counts what is sent, keeps only the parts (the planner's own messages)."""

    def __init__(self) -> None:
        self.messages = 0
        self.parts: list[dict[str, Any]] = []

    def send(self, messages: Sequence[Mapping[str, Any]]) -> None:
        self.messages += len(messages)
        self.parts += [dict(m) for m in messages if m.get("kind") == "plan_cycle"]


class Organisations:
    """The recurring store as the planner uses it: organisations read, runs recorded (dropped)."""

    def __init__(self) -> None:
        from remit.domain.organisation import InvoiceNumbering, Organisation

        self._template = Organisation(
            id="org_00000",
            account_id="acct_bench",
            name="Bench",
            default_currency="EUR",
            invoice_numbering=InvoiceNumbering(),
            created_at=SCHEDULED,
            updated_at=SCHEDULED,
        )

    def organisations(self, organisation_ids: list[str]) -> dict[str, Any]:
        return {i: self._template.model_copy(update={"id": i}) for i in organisation_ids}

    def record_cycle_run(self, run: Any) -> bool:
        return True


@dataclass
class Figures:
    subscriptions: int
    invocations: int
    messages: int
    peak_bytes: int
    seconds: float


def plan_day(subscriptions: int, organisations: int) -> Figures:
    from remit.adapters.due_index import DUE_SHARDS
    from remit.services.billing_cycle import BillingCycleService

    index = SyntheticDueIndex(subscriptions, organisations, DUE_SHARDS)
    queue = CountingQueue()
    clock = SimpleNamespace(now=lambda: SCHEDULED)
    service = BillingCycleService(
        SimpleNamespace(billing=None, clock=clock),  # type: ignore[arg-type]
        Organisations(),  # type: ignore[arg-type]
        None,  # type: ignore[arg-type]  # the worker's collaborators: planning never reaches them
        None,  # type: ignore[arg-type]
        None,  # type: ignore[arg-type]
        queue,
        index,  # type: ignore[arg-type]
        charge_card=lambda organisation, invoice: None,
        public_base_url=lambda: "",
        max_periods=12,
    )
    started = time.perf_counter()
    peak = 0
    invocations = 0

    def invoke(action: Any) -> None:
        nonlocal peak, invocations
        tracemalloc.reset_peak()
        before = tracemalloc.get_traced_memory()[0]
        action()
        peak = max(peak, tracemalloc.get_traced_memory()[1] - before)
        invocations += 1

    tracemalloc.start()
    try:
        invoke(lambda: service.split_day(SCHEDULED))
        while queue.parts:
            part = queue.parts.pop()
            invoke(lambda part=part: service.plan_part(part, f"message-{invocations}"))
    finally:
        tracemalloc.stop()
    return Figures(subscriptions, invocations, queue.messages, peak, time.perf_counter() - started)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks planner", description=__doc__)
    parser.add_argument("--sizes", default="10000,100000,1000000", help="subscriptions due, comma-separated")
    parser.add_argument("--organisations", type=int, default=10_000, help="organisations (default 10,000)")
    args = parser.parse_args(argv)
    sizes = [int(size) for size in args.sizes.split(",")]
    from remit.services.day_planning import PAGE

    print(f"planner: subscriptions due in one day over {args.organisations:,} organisations, {PAGE} a page")
    print(f"  {'subscriptions':>13} {'invocations':>11} {'messages':>10} {'peak of one':>12} {'time':>7}")
    figures = [plan_day(size, args.organisations) for size in sizes]
    for f in figures:
        print(
            f"  {f.subscriptions:>13,} {f.invocations:>11,} {f.messages:>10,}"
            f" {f.peak_bytes / 1024 / 1024:>9.2f} MB {f.seconds:>6.1f}s"
        )
    smallest, largest = figures[0], figures[-1]
    growth = largest.peak_bytes / smallest.peak_bytes if smallest.peak_bytes else float("inf")
    print(
        f"  peak of one invocation at {largest.subscriptions:,} / at {smallest.subscriptions:,}:"
        f" {growth:.2f}x for {largest.subscriptions / smallest.subscriptions:,.0f}x the day (budget: flat)"
    )
    return 0
