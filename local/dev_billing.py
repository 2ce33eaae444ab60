"""`POST /_dev/run/invoicing-cycle {"date": "2027-02-01"}`: a day's invoicing cycle, now, to its end.

The daily schedule (`local.scheduler`) runs the planner once a day; a developer trying recurring
billing wants a given day's cycle now, and its outcome. This route invokes the planner with the
event the schedule would send that day (`scheduled_time` at the template's time of day), waits
until the billing queue is drained (every message handled, or moved to the dead-letter queue
after its last retry) and answers the billing runs the planner recorded, read through Remit's
own services::

    200 {"date": "2027-02-01", "issued": 3, "skipped": 1, "failed": 0, "runs": [<billing run>, …]}

`issued`, `skipped` and `failed` add up the runs' `invoices_created`, `skipped` and `errors`.
400 when the body is not a JSON object, 422 when `date` is not a `YYYY-MM-DD` date, 504 when
the queue is not drained within 300 s (the work goes on), 503 when the stack stops meanwhile
(or its billing worker is not running).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from local.autosave import RequestGate, StackStopping
from local.http_messages import (
    HttpRequest,
    HttpResponse,
    RequestRejected,
    json_object_body,
    json_response,
    problem_response,
)
from local.lambda_runtime import LocalFunction
from local.queue_worker import QueueWorker
from local.scheduler import DailySchedule

logger = logging.getLogger(__name__)

PATH = "/_dev/run/invoicing-cycle"
DRAIN_TIMEOUT_SECONDS = 300.0

#: `(organisation_id, run_id)` → the billing run as JSON.
RunReader = Callable[[str, str], dict[str, Any]]


def read_billing_run(organisation_id: str, run_id: str) -> dict[str, Any]:
    """The billing run as Remit's services answer it (imported here: Remit reads its settings once)."""
    from remit.bootstrap import services

    remit: Any = services()
    document: dict[str, Any] = remit.billing_runs.run_of(organisation_id, run_id).model_dump(mode="json")
    return document


@dataclass
class InvoicingCycleRoute:
    """The route, bound to the stack's planner, billing queue worker and request gate."""

    planner: LocalFunction
    queue_worker: QueueWorker
    gate: RequestGate
    schedule: DailySchedule
    read_run: RunReader = read_billing_run
    drain_timeout_seconds: float = DRAIN_TIMEOUT_SECONDS
    _stopping: threading.Event = field(default_factory=threading.Event, repr=False)

    def stop(self) -> None:
        """Give up the waits under way (the stack is stopping): they answer 503."""
        self._stopping.set()

    def __call__(self, request: HttpRequest) -> HttpResponse:
        day = _requested_date(json_object_body(request))
        if not self.queue_worker.running:
            return problem_response(
                503, "billing-unavailable", "The billing worker is not running; see the stack's log."
            )
        event = self.schedule.event(self.schedule.on(day))
        report = self.planner.invoke(event)
        try:
            # The worker's invocations hold the gate too: holding it here while waiting for them
            # would let a waiting snapshot stop them until this request gave up.
            with self.gate.outside():
                drained = self.queue_worker.wait_until_drained(self.drain_timeout_seconds, self._stopping)
        except StackStopping:
            drained = False
        if not drained:
            if self._stopping.is_set() or not self.queue_worker.running:
                return problem_response(503, "stack-stopping", "The local stack is stopping.")
            return problem_response(
                504,
                "cycle-timeout",
                f"The billing queue was not drained within {self.drain_timeout_seconds:.0f} s; "
                "the billing worker goes on with it in the background.",
            )
        runs = [self.read_run(entry["organisation_id"], entry["run_id"]) for entry in report.get("runs", [])]
        return json_response(
            200,
            {
                "date": day.isoformat(),
                "issued": sum(_count(run.get("invoices_created")) for run in runs),
                "skipped": sum(_count(run.get("skipped")) for run in runs),
                "failed": sum(_count(run.get("errors")) for run in runs),
                "runs": runs,
            },
        )


def _count(value: Any) -> int:
    """A run's tally, whether it is kept as a number or as the list of what it counts."""
    return len(value) if isinstance(value, list) else int(value or 0)


def _requested_date(body: dict[str, Any]) -> date:
    value = body.get("date")
    if value is None:
        message = "is required"
    elif not isinstance(value, str):
        message = "must be a string"
    else:
        try:
            if len(value) == 10:  # YYYY-MM-DD only: fromisoformat also takes 20270201
                return date.fromisoformat(value)
        except ValueError:
            pass
        message = "must be a date, YYYY-MM-DD"
    raise RequestRejected(
        problem_response(
            422, "invalid-fields", f"Invalid fields: date: {message}", [{"field": "date", "message": message}]
        )
    )
