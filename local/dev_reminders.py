"""`POST /_dev/run/reminders {"date": "2027-02-01"}`: a day's payment reminders, now, to their end.

The daily schedule (`local.scheduler`) plans the reminders once a day, at the template's time
(08:45 UTC); a developer trying reminders wants a given day's now, and their outcome. This route
invokes the reminders function with the event the schedule would send that day
(`{"scheduled_time": "2027-02-01T08:45:00Z"}`), waits until the reminders queue is drained (every
message handled by the same function, or moved to the dead-letter queue after its last retry)
and answers the reminders runs the day's parts planned (the function's schedule only splits the
day: each part plans a page of the reminder index from the queue), read through Remit's own
services (`services().reminders.run_of(organisation_id, date)`)::

    200 {"date": "2027-02-01", "sent": 3, "skipped": {"paid": 1, "already_sent": 2},
         "runs": [<reminders run>, …]}

`sent` adds up the runs' `sent`, `skipped` the runs' `skipped` counts reason by reason. 400 when
the body is not a JSON object, 422 when `date` is not a `YYYY-MM-DD` date, 504 when the queue is
not drained within 300 s (the work goes on), 503 when the stack stops meanwhile (or the reminders
queue's worker is not running). The machinery is `local.dev_runs`'s.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, ClassVar

from local.dev_runs import DailyRunRoute

PATH = "/_dev/run/reminders"

#: `(organisation_id, date)` → the reminders run as JSON.
ReminderRunReader = Callable[[str, date], dict[str, Any]]
#: The schedule's report → the runs its parts planned: `{"organisation_id", "date", "invoices"}`.
ReminderPlanReader = Callable[[dict[str, Any]], list[dict[str, Any]]]


def read_reminders_plan(report: dict[str, Any]) -> list[dict[str, Any]]:
    """The organisations' runs the parts of the reported day planned, through Remit's services."""
    from remit.bootstrap import services

    remit: Any = services()
    plan = remit.reminders.planned(datetime.fromisoformat(str(report["scheduled_time"])))
    return [
        {"organisation_id": r.organisation_id, "date": r.date.isoformat(), "invoices": r.invoices}
        for r in plan.runs
    ]


def read_reminder_run(organisation_id: str, day: date) -> dict[str, Any]:
    """The reminders run as Remit's services answer it (imported here: Remit reads its settings once)."""
    from remit.bootstrap import services

    remit: Any = services()
    document: dict[str, Any] = remit.reminders.run_of(organisation_id, day).model_dump(mode="json")
    return document


@dataclass
class RemindersRoute(DailyRunRoute):
    """The route, bound to the stack's reminders function, its queue worker and the request gate."""

    read_run: ReminderRunReader = read_reminder_run
    read_plan: ReminderPlanReader = read_reminders_plan

    unavailable: ClassVar[tuple[str, str]] = (
        "reminders-unavailable",
        "The reminders queue's worker is not running; see the stack's log.",
    )
    timeout_type: ClassVar[str] = "reminders-timeout"
    queue_label: ClassVar[str] = "the reminders queue"
    worker_label: ClassVar[str] = "the reminders function"

    def answer(self, day: date, report: dict[str, Any]) -> dict[str, Any]:
        runs = [
            self.read_run(entry["organisation_id"], _run_date(entry, day)) for entry in self.read_plan(report)
        ]
        skipped: dict[str, int] = {}
        for run in runs:
            for reason, count in (run.get("skipped") or {}).items():
                skipped[reason] = skipped.get(reason, 0) + int(count or 0)
        return {
            "date": day.isoformat(),
            "sent": sum(int(run.get("sent") or 0) for run in runs),
            "skipped": skipped,
            "runs": runs,
        }


def _run_date(entry: dict[str, Any], day: date) -> date:
    """The date the plan gave the run (the requested day when it gave none)."""
    value = entry.get("date")
    return date.fromisoformat(value) if isinstance(value, str) else day
