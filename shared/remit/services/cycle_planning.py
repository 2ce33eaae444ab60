"""The invoicing cycle's planning: the day split in parts (`remit.services.day_planning`), each
part's page of the due index recorded as one billing run per organisation and queued for the
billing worker, one message per item; a run that should have finished queued again for what it has
left.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

from remit.domain.billing_run import BillingRun
from remit.domain.errors import ConcurrentUpdate
from remit.domain.ids import derived_id
from remit.domain.organisation import Organisation
from remit.ports.clock import Clock
from remit.ports.queues import DayPlanning, WorkQueue
from remit.ports.recurring import RecurringStore
from remit.services.billing_context import latest_date_anywhere, today_in
from remit.services.bulk_issuing import BULK_CUSTOMERS_PER_MESSAGE
from remit.services.day_planning import PAGE, DayPart, PartFailed, part_of, read_page, split_day

logger = logging.getLogger(__name__)

PLAN_CYCLE = "plan_cycle"  # the kind of a part's message on the billing queue
# A run not complete this long after it was recorded lost messages (or they were dead-lettered).
STALE_RUN = timedelta(hours=1)


@dataclass(frozen=True)
class PlannedRun:
    organisation_id: str
    run_id: str
    items: int


@dataclass(frozen=True)
class CyclePlan:
    """What one part planned: its runs, the messages it queued and the parts it queued next."""

    scheduled_time: datetime
    runs: list[PlannedRun]
    enqueued: int
    next_parts: tuple[DayPart, ...] = ()


class CyclePlanner:
    """Plans the invoicing cycle's day, a part at a time (see the module)."""

    def __init__(
        self,
        store: RecurringStore,
        queue: WorkQueue,
        planning: DayPlanning,
        clock: Clock,
        page: int = PAGE,
    ) -> None:
        self._store = store
        self._queue = queue
        self._planning = planning
        self._clock = clock
        self._page = page

    def split_day(self, scheduled_time: datetime) -> list[DayPart]:
        """Queue the day's parts: see `BillingCycleService.split_day`."""
        return split_day(self._planning, self._queue, PLAN_CYCLE, "DUE", scheduled_time)

    def plan_part(self, message: Mapping[str, Any], message_id: str) -> CyclePlan:
        """Plan one part's page: see `BillingCycleService.plan_part`."""
        part = part_of(message, "DUE")
        entries, queued = read_page(
            self._planning,
            self._queue,
            part,
            latest_date_anywhere(part.scheduled_time),
            message_id,
            self._page,
        )
        due: dict[str, dict[str, tuple[date, str]]] = defaultdict(dict)
        for day, organisation_id, item_id, customer_id in entries:
            due[organisation_id][item_id] = (day, customer_id)
        organisations = self._store.organisations(sorted(due))
        plan = CyclePlan(part.scheduled_time, [], 0, queued)
        failed: list[str] = []
        for organisation_id in sorted(due):
            organisation = organisations.get(organisation_id)
            if organisation is None:
                logger.warning(
                    "Due entries of an organisation that no longer exists",
                    extra={"organisation_id": organisation_id},
                )
                continue
            try:
                plan = self._plan_organisation(plan, part, organisation, due[organisation_id])
            except Exception:
                logger.exception(
                    "An organisation's billing could not be planned",
                    extra={"organisation_id": organisation_id},
                )
                failed.append(organisation_id)
        report = {
            "runs": [
                {"organisation_id": r.organisation_id, "run_id": r.run_id, "items": r.items}
                for r in plan.runs
            ],
            "enqueued": plan.enqueued,
        }
        self._planning.record_part(part.plan, part.shard, part.page, report)
        if failed:
            raise PartFailed(
                f"The billing of {len(failed)} organisations could not be planned: {failed[:10]}"
            )
        return plan

    def planned(self, scheduled_time: datetime) -> CyclePlan:
        """What the day's parts planned so far: see `BillingCycleService.planned`."""
        runs: dict[str, PlannedRun] = {}
        enqueued = 0
        plan = DayPart(PLAN_CYCLE, "DUE", scheduled_time, 0).plan
        for report in self._planning.parts_recorded(plan, self._planning.shards("DUE")):
            enqueued += int(report["enqueued"])
            for run in report["runs"]:
                runs.setdefault(
                    run["run_id"], PlannedRun(run["organisation_id"], run["run_id"], run["items"])
                )
        return CyclePlan(scheduled_time, sorted(runs.values(), key=lambda r: r.run_id), enqueued)

    def _plan_organisation(
        self,
        plan: CyclePlan,
        part: DayPart,
        organisation: Organisation,
        entries: dict[str, tuple[date, str]],
    ) -> CyclePlan:
        """`plan` with the organisation's entries of the page recorded as a run and queued. The run's
        id names its page (the part's plan, shard and start): planned again, the page finds its run
        recorded and queues the run's items again, whatever moved in the index meanwhile (the runs
        recorded since, the items billed since)."""
        organisation_id = organisation.id
        today = today_in(organisation.timezone, plan.scheduled_time)
        # Runs that should have finished first: what they have left is theirs to bill.
        enqueued = plan.enqueued
        resumed: set[str] = set()
        for run_id in sorted(i for i in entries if _is_run(i)):
            sent, items_left = self._resume(organisation_id, run_id, plan.scheduled_time, today)
            enqueued += sent
            resumed |= items_left
        items = {
            i: customer
            for i, (day, customer) in entries.items()
            if day <= today and not _is_run(i) and i not in resumed
        }
        if not items:
            return replace(plan, enqueued=enqueued)
        item_ids = sorted(items)
        now = self._clock.now()
        page = (part.plan, str(part.shard), part.page or "")
        run = BillingRun(
            id=derived_id("brun", plan.scheduled_time, organisation_id, today.isoformat(), *page),
            organisation_id=organisation_id,
            kind="invoicing_cycle",
            customer_count=len(item_ids),
            item_ids=item_ids,
            run_date=today,
            created_at=now,
        )
        if not self._store.record_cycle_run(run):
            recorded = self._store.get_run(organisation_id, run.id, invoice_ids=False)
            if recorded is None:
                raise ConcurrentUpdate(f"Billing run {run.id} was recorded, then is not found.")
            item_ids = recorded.item_ids  # as the first planning of the page recorded them
        self._queue.send([_item_message(organisation_id, i, items.get(i), run.id, today) for i in item_ids])
        return replace(
            plan,
            runs=[*plan.runs, PlannedRun(organisation_id, run.id, len(item_ids))],
            enqueued=enqueued + len(item_ids),
        )

    def _resume(self, organisation_id: str, run_id: str, now: datetime, today: date) -> tuple[int, set[str]]:
        """Queue again what a run that should have finished has left: (messages sent, items left).
        The cycle's runs of `today` are the day's own (other parts of the day recorded them)."""
        run = self._store.get_run(organisation_id, run_id, invoice_ids=False)
        if (
            run is None
            or run.created_at > now - STALE_RUN
            or (run.run_date is not None and run.run_date >= today)
        ):
            return 0, set()
        done = set()
        for start in range(0, len(run.item_ids), 100):
            done |= self._store.run_items_done(organisation_id, run_id, run.item_ids[start : start + 100])
        left = [item for item in run.item_ids if item not in done]
        if not left:
            self._store.mark_run_completed(organisation_id, run_id, self._clock.now())
            return 0, set()
        logger.warning(
            "Billing run resumed: its items were not all done",
            extra={"run_id": run_id, "items_left": len(left)},
        )
        messages: list[Mapping[str, Any]]
        if run.kind == "bulk":
            step = BULK_CUSTOMERS_PER_MESSAGE
            messages = [
                {
                    "kind": "bulk",
                    "organisation_id": organisation_id,
                    "run_id": run_id,
                    "customer_ids": left[i : i + step],
                }
                for i in range(0, len(left), step)
            ]
        else:
            day = run.run_date or run.created_at.date()
            messages = [_item_message(organisation_id, item, None, run_id, day) for item in left]
        self._queue.send(messages)
        return len(messages), set(left)


def _is_run(item_id: str) -> bool:
    return item_id.startswith("brun_")


def _item_message(
    organisation_id: str, item_id: str, customer_id: str | None, run_id: str, day: date
) -> dict[str, str]:
    """The queue message of one item of a cycle run (see `BillingCycleService.process`)."""
    message = {"organisation_id": organisation_id, "run_id": run_id}
    if item_id.startswith("sub_"):
        message |= {"kind": "subscription", "subscription_id": item_id}
        if customer_id:
            message["customer_id"] = customer_id
    else:
        message |= {"kind": "charges", "customer_id": item_id}
    return message | {"as_of": day.isoformat()}
