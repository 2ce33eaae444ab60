"""What `POST /_dev/run/invoicing-cycle` and `POST /_dev/run/reminders` share: a day's run, now, to its end.

Each runs a planner fed by a daily schedule (`local.scheduler`) whose work goes through a queue
(`local.queue_worker`): it invokes the planner with the event the schedule would send on the
requested day (`scheduled_time` at the template's time of day), waits until the queue is drained
(every message handled, or moved to the dead-letter queue after its last retry) and answers what
the route reads of the runs the planner recorded (`DailyRunRoute.answer`).

400 when the body is not a JSON object, 422 when `date` is not a `YYYY-MM-DD` date, 504 when the
queue is not drained within 300 s (the work goes on), 503 when the stack stops meanwhile (or the
queue's worker is not running).
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import date
from typing import Any, ClassVar

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

DRAIN_TIMEOUT_SECONDS = 300.0


@dataclass
class DailyRunRoute(ABC):
    """A dev route bound to a planner, the queue worker its work goes through and the request gate."""

    planner: LocalFunction
    queue_worker: QueueWorker
    gate: RequestGate
    schedule: DailySchedule
    drain_timeout_seconds: float = DRAIN_TIMEOUT_SECONDS
    _stopping: threading.Event = field(default_factory=threading.Event, repr=False)

    #: The problem answered when the queue's worker is not running: its type and detail.
    unavailable: ClassVar[tuple[str, str]] = (
        "unavailable",
        "The queue worker is not running; see the stack's log.",
    )
    #: The problem type answered on a timeout, and what was not drained and who goes on with it.
    timeout_type: ClassVar[str] = "run-timeout"
    queue_label: ClassVar[str] = "the queue"
    worker_label: ClassVar[str] = "the queue worker"

    def stop(self) -> None:
        """Give up the waits under way (the stack is stopping): they answer 503."""
        self._stopping.set()

    @abstractmethod
    def answer(self, day: date, report: dict[str, Any]) -> dict[str, Any]:
        """The 200 answer, from the planner's `report` of `day`, once its queue is drained."""

    def __call__(self, request: HttpRequest) -> HttpResponse:
        day = requested_date(json_object_body(request))
        if not self.queue_worker.running:
            slug, detail = self.unavailable
            return problem_response(503, slug, detail)
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
                self.timeout_type,
                f"{self.queue_label[0].upper()}{self.queue_label[1:]} was not drained within "
                f"{self.drain_timeout_seconds:.0f} s; {self.worker_label} goes on with it in the background.",
            )
        return json_response(200, self.answer(day, report if isinstance(report, dict) else {}))


def requested_date(body: dict[str, Any]) -> date:
    """The body's `date`, `YYYY-MM-DD`. Raises `RequestRejected` (422, naming `date`) otherwise."""
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
