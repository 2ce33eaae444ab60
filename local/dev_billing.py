"""`POST /_dev/run/invoicing-cycle {"date": "2027-02-01"}`: a day's invoicing cycle, now, to its end.

The daily schedule (`local.scheduler`) runs the planner once a day; a developer trying recurring
billing wants a given day's cycle now, and its outcome. This route invokes the planner with the
event the schedule would send that day (`scheduled_time` at the template's time of day), waits
until the billing queue is drained (every message handled, or moved to the dead-letter queue
after its last retry) and answers the billing runs the day's parts recorded (the planner only
splits the day: each part plans a page of the due index from the billing queue), read through
Remit's own services::

    200 {"date": "2027-02-01", "issued": 3, "skipped": 1, "failed": 0, "runs": [<billing run>, …]}

`issued`, `skipped` and `failed` add up the runs' `invoices_created`, `skipped` and `errors`.
400 when the body is not a JSON object, 422 when `date` is not a `YYYY-MM-DD` date, 504 when
the queue is not drained within 300 s (the work goes on), 503 when the stack stops meanwhile
(or its billing worker is not running). The machinery is `local.dev_runs`'s.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, ClassVar

from local.dev_runs import DRAIN_TIMEOUT_SECONDS, DailyRunRoute

__all__ = [
    "DRAIN_TIMEOUT_SECONDS",
    "PATH",
    "InvoicingCycleRoute",
    "PlanReader",
    "RunReader",
    "read_billing_plan",
    "read_billing_run",
]

PATH = "/_dev/run/invoicing-cycle"

#: `(organisation_id, run_id)` → the billing run as JSON.
RunReader = Callable[[str, str], dict[str, Any]]
#: The planner's report → the runs its parts recorded: `{"organisation_id", "run_id", "items"}`.
PlanReader = Callable[[dict[str, Any]], list[dict[str, Any]]]


def read_billing_plan(report: dict[str, Any]) -> list[dict[str, Any]]:
    """The runs the parts of the reported day recorded, through Remit's services."""
    from remit.bootstrap import services

    remit: Any = services()
    plan = remit.billing_cycle.planned(datetime.fromisoformat(str(report["scheduled_time"])))
    return [{"organisation_id": r.organisation_id, "run_id": r.run_id, "items": r.items} for r in plan.runs]


def read_billing_run(organisation_id: str, run_id: str) -> dict[str, Any]:
    """The billing run as the API answers it (imported here: Remit reads its settings once)."""
    from remit.bootstrap import services
    from remit.domain.answers import BillingRun

    remit: Any = services()
    run = remit.billing_runs.run_of(organisation_id, run_id)
    document: dict[str, Any] = BillingRun.of(run).model_dump(mode="json")
    return document


@dataclass
class InvoicingCycleRoute(DailyRunRoute):
    """The route, bound to the stack's planner, billing queue worker and request gate."""

    read_run: RunReader = read_billing_run
    read_plan: PlanReader = read_billing_plan

    unavailable: ClassVar[tuple[str, str]] = (
        "billing-unavailable",
        "The billing worker is not running; see the stack's log.",
    )
    timeout_type: ClassVar[str] = "cycle-timeout"
    queue_label: ClassVar[str] = "the billing queue"
    worker_label: ClassVar[str] = "the billing worker"

    def answer(self, day: date, report: dict[str, Any]) -> dict[str, Any]:
        runs = [self.read_run(entry["organisation_id"], entry["run_id"]) for entry in self.read_plan(report)]
        return {
            "date": day.isoformat(),
            "issued": sum(_count(run.get("invoices_created")) for run in runs),
            "skipped": sum(_count(run.get("skipped")) for run in runs),
            "failed": sum(_count(run.get("errors")) for run in runs),
            "runs": runs,
        }


def _count(value: Any) -> int:
    """A run's tally, whether it is kept as a number or as the list of what it counts."""
    return len(value) if isinstance(value, list) else int(value or 0)
