"""A function's daily schedule, fired at it as EventBridge Scheduler would fire it.

The local stack runs one `Scheduler` per daily `ScheduleV2` event of the template: the invoicing
cycle's (08:15 UTC) and the reminders' (08:45 UTC). A scheduler may be told to come `after`
another: it then fires a time only once the other has handled every time it fired up to then, so
a stack started (or woken) after both times still plans the day's reminders after the day's
invoicing cycle, as the half-hour between them ensures in AWS.

In the deployed stack a `ScheduleV2` event on `InvoicingCycleFunction` invokes the planner every
day at the template's `ScheduleExpression` (`cron(15 8 * * ? *)`, UTC), with the schedule's
`Input`, in which `<aws.scheduler.scheduled-time>` becomes the time the invocation was due; a
failed invocation is retried as its `RetryPolicy` says, then sent to its dead-letter queue. Here
one thread does the same: the time of day and the retries are read from `template.yaml`, and an
invocation whose retries are spent goes to the emulated dead-letter queue.

Differences from EventBridge Scheduler: a machine that was off (or asleep) at the scheduled time
gets one invocation for the latest time missed, as soon as the stack runs (at start, today's time
if it has passed), rather than none; the planner is idempotent and catches up every day due by
then. Retries come after seconds, not minutes. Only the daily form `cron(M H * * ? *)` in UTC is
understood: anything else stops the stack at start rather than fire at other times than AWS would.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from local.autosave import RequestGate, StackStopping
from local.cloudformation import load_template
from local.lambda_runtime import LocalFunction

logger = logging.getLogger(__name__)

FUNCTION = "InvoicingCycleFunction"
SCHEDULE_EVENT = "Daily"
SCHEDULED_TIME_PLACEHOLDER = "<aws.scheduler.scheduled-time>"
# How long the thread sleeps at most before it reads the clock again: a machine that sleeps
# stops the monotonic clock that waits use, not the wall clock the schedule follows.
CHECK_SECONDS = 30.0
_FIRST_RETRY_SECONDS = 1.0
# How often a scheduler waiting for the one it follows looks whether it should stop instead.
_HANDLED_POLL_SECONDS = 0.1
_DAILY_CRON = re.compile(r"cron\((\d{1,2}) (\d{1,2}) \* \* \? \*\)")

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


def scheduled_time_text(moment: datetime) -> str:
    """`2027-02-01T08:15:00Z`: the form EventBridge Scheduler puts in place of the placeholder."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class DailySchedule:
    """A schedule that fires once a day at `hour:minute` UTC, with the template's input and retries."""

    hour: int
    minute: int
    input_template: str = json.dumps({"scheduled_time": SCHEDULED_TIME_PLACEHOLDER})
    maximum_retry_attempts: int = 185  # EventBridge Scheduler's default

    @classmethod
    def from_expression(cls, expression: str, timezone: str = "UTC", **settings: Any) -> DailySchedule:
        """The schedule of `cron(M H * * ? *)` in UTC. Raises `ValueError` for any other expression."""
        match = _DAILY_CRON.fullmatch(expression.strip())
        if match is None:
            raise ValueError(
                f"the local scheduler only runs daily schedules, cron(M H * * ? *), not {expression!r}"
            )
        if timezone != "UTC":
            raise ValueError(f"the local scheduler only runs schedules in UTC, not in {timezone!r}")
        minute, hour = int(match.group(1)), int(match.group(2))
        if not (0 <= hour <= 23 and 0 <= minute <= 59):
            raise ValueError(f"{expression!r} is not a time of day")
        return cls(hour=hour, minute=minute, **settings)

    @classmethod
    def from_template(cls, function: str = FUNCTION, event: str = SCHEDULE_EVENT) -> DailySchedule:
        properties = load_template()["Resources"][function]["Properties"]["Events"][event]["Properties"]
        retries = properties.get("RetryPolicy", {}).get("MaximumRetryAttempts")
        return cls.from_expression(
            properties["ScheduleExpression"],
            properties.get("ScheduleExpressionTimezone", "UTC"),
            input_template=properties.get("Input", cls.input_template),
            **({} if retries is None else {"maximum_retry_attempts": int(retries)}),
        )

    def on(self, day: date) -> datetime:
        """The time the schedule fires on `day`."""
        return datetime.combine(day, time(self.hour, self.minute), tzinfo=UTC)

    def latest_at_or_before(self, moment: datetime) -> datetime:
        """The last time the schedule fired up to `moment` (included)."""
        moment = moment.astimezone(UTC)
        today = self.on(moment.date())
        return today if today <= moment else today - timedelta(days=1)

    def next_after(self, moment: datetime) -> datetime:
        """The first time the schedule fires after `moment` (excluded)."""
        return self.latest_at_or_before(moment) + timedelta(days=1)

    def event(self, scheduled: datetime) -> dict[str, Any]:
        """The planner's event for the invocation due at `scheduled`, as the schedule's `Input` makes it."""
        document: dict[str, Any] = json.loads(
            self.input_template.replace(SCHEDULED_TIME_PLACEHOLDER, scheduled_time_text(scheduled))
        )
        return document


class Scheduler:
    """A thread that invokes `function` at every time `schedule` fires, on the wall clock `clock`.

    `label` names the function's runs in the log ("invoicing cycle"). With `after`, each time is
    fired only once that scheduler has handled its own times up to it (`wait_until_handled`).

        At start it fires for today's time if that has passed (a stack started after 08:15 still
        plans today). Each invocation holds the request gate like an HTTP request and marks the data
        as changed. `stop()` lets the invocation under way finish (retries are abandoned).
    """

    def __init__(
        self,
        function: LocalFunction,
        gate: RequestGate,
        on_change: Callable[[], None],
        *,
        schedule: DailySchedule | None = None,
        clock: Clock = utc_now,
        check_seconds: float = CHECK_SECONDS,
        first_retry_seconds: float = _FIRST_RETRY_SECONDS,
        dead_letters: Callable[[dict[str, Any]], None] | None = None,
        label: str = "invoicing cycle",
        after: Scheduler | None = None,
    ) -> None:
        self._function = function
        self._gate = gate
        self._on_change = on_change
        self.schedule = schedule or DailySchedule.from_template()
        self._clock = clock
        self._check_seconds = check_seconds
        self._first_retry_seconds = first_retry_seconds
        # Where an invocation goes once its retries are spent (the template's dead-letter queue).
        self._dead_letters = dead_letters
        self._label = label
        self._after = after
        self._last_fired: datetime | None = None
        # Every time up to this one has been fired and its invocation has returned (or its
        # retries were spent); times before the start-up are never fired, so count as handled.
        self._handled_through: datetime | None = None
        self._handled = threading.Condition()
        self._stopping = threading.Event()
        self._wake = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"remit-scheduler-{function.name}")

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop firing, after the invocation under way (if any) has returned."""
        self._stopping.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join()

    def wake(self) -> None:
        """Read the clock now rather than at the next check (a test that moved its clock)."""
        self._wake.set()

    def wait_until_handled(self, moment: datetime, cancelled: threading.Event) -> bool:
        """Wait until every time this schedule fired up to `moment` has been handled.

        True once it has; False, without waiting further, when `cancelled` is set or this
        scheduler is not running (never started, or stopped), since then it never will be.
        """
        due = self.schedule.latest_at_or_before(moment)
        with self._handled:
            while self._handled_through is None or self._handled_through < due:
                if cancelled.is_set() or self._stopping.is_set() or not self._thread.is_alive():
                    return False
                self._handled.wait(_HANDLED_POLL_SECONDS)
        return True

    def next_fire(self) -> datetime:
        """When the schedule fires next, after the last invocation (or from now, before any)."""
        return self.schedule.next_after(self._last_fired or self._clock())

    def _run(self) -> None:
        now = self._clock()
        latest = self.schedule.latest_at_or_before(now)
        # Today's time, passed before the stack started, is fired once; yesterday's is not.
        self._last_fired = latest - timedelta(days=1) if latest.date() == now.date() else latest
        self._mark_handled(self._last_fired)
        while not self._stopping.is_set():
            due = self.schedule.latest_at_or_before(self._clock())
            if due > self._last_fired:
                if self._after is not None and not self._after.wait_until_handled(due, self._stopping):
                    if self._stopping.is_set():
                        return
                    logger.warning(
                        "the %s of %s runs without waiting for the scheduler it follows (not running)",
                        self._label,
                        scheduled_time_text(due),
                    )
                self._last_fired = due
                try:
                    self._fire(due)
                except StackStopping:
                    return
                self._mark_handled(due)
                continue
            delay = (self.next_fire() - self._clock()).total_seconds()
            self._wake.wait(max(0.0, min(delay, self._check_seconds)))
            self._wake.clear()

    def _mark_handled(self, moment: datetime) -> None:
        with self._handled:
            self._handled_through = moment
            self._handled.notify_all()

    def _fire(self, scheduled: datetime) -> None:
        """Invoke the planner for `scheduled`, retrying as the schedule's retry policy says."""
        event = self.schedule.event(scheduled)
        retries = self.schedule.maximum_retry_attempts
        attempt = 0
        while True:
            try:
                with self._gate.request():
                    report = self._function.invoke(dict(event))
            except StackStopping:
                raise
            except Exception:
                logger.exception("the %s of %s failed", self._label, scheduled_time_text(scheduled))
            else:
                logger.info("%s of %s: %s", self._label, scheduled_time_text(scheduled), _summary(report))
                return
            finally:
                self._on_change()
            if attempt >= retries:
                logger.warning(
                    "the %s of %s still failed after %d retries; sent to its dead-letter queue. "
                    "The next day's run catches up.",
                    self._label,
                    scheduled_time_text(scheduled),
                    retries,
                )
                if self._dead_letters is not None:
                    self._dead_letters(event)
                return
            delay = self._first_retry_seconds * 2**attempt
            attempt += 1
            if self._stopping.wait(delay):
                return


def _summary(report: Any) -> str:
    if isinstance(report, dict) and isinstance(report.get("runs"), list):
        return f"{len(report['runs'])} runs, {report.get('enqueued', 0)} messages queued"
    if isinstance(report, dict) and isinstance(report.get("parts"), list):
        return f"the day split into {len(report['parts'])} parts, queued"
    return repr(report)
