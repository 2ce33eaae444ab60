"""Payment reminders: which step of an organisation's schedule is due for an open invoice, on its date.

An organisation's schedule has steps `d` days before the due date and `d` days after it. A step is
due once the organisation's date has reached it. A run sends only the latest step that is due
(a late run never sends a burst of the steps it missed), and only if that step was never sent for
the invoice (a marker per invoice and step guarantees it: invariant 7). Dates are calendar dates
in the organisation's time zone, so daylight-saving changes move nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from pydantic import Field

from remit.domain.organisation import Reminders
from remit.domain.values import Model

When = Literal["before", "after"]
SkipReason = Literal[
    "already_sent",
    "nothing_due",
    "paid",
    "void",
    "uncollectible",
    "draft",
    "reminders_disabled",
    "customer_opted_out",
    "not_found",
]


@dataclass(frozen=True, order=True)
class ReminderStep:
    when: When
    days: int

    @property
    def key(self) -> str:
        """The step's name in markers and events: `before_3`, `after_15`."""
        return f"{self.when}_{self.days}"

    def date_for(self, due_date: date) -> date:
        offset = timedelta(days=self.days)
        return due_date - offset if self.when == "before" else due_date + offset

    def describe(self) -> str:
        """As the email says it: "due in 3 days", "15 days overdue"."""
        unit = "day" if self.days == 1 else "days"
        return f"due in {self.days} {unit}" if self.when == "before" else f"{self.days} {unit} overdue"


def step_of(key: str) -> ReminderStep:
    """The step named `key` (`before_3`, `after_15`); `ValueError` for another name."""
    when, _, days = key.partition("_")
    if when not in ("before", "after") or not days.isdigit():
        raise ValueError(f"{key!r} is not a reminder step")
    return ReminderStep("before" if when == "before" else "after", int(days))


def steps_of(reminders: Reminders) -> list[ReminderStep]:
    """The organisation's steps, in the order their dates come for any invoice."""
    before = [ReminderStep("before", d) for d in sorted(reminders.days_before_due, reverse=True)]
    return before + [ReminderStep("after", d) for d in sorted(reminders.days_after_due)]


def latest_due_step(reminders: Reminders, due_date: date, today: date) -> ReminderStep | None:
    """The latest step whose date has come by `today`, or None (none yet, or reminders disabled)."""
    if not reminders.enabled:
        return None
    reached = [step for step in steps_of(reminders) if step.date_for(due_date) <= today]
    return reached[-1] if reached else None


def next_reminder_date(reminders: Reminders, due_date: date, after: date) -> date | None:
    """The first step date later than `after` (when the reminders run must look again), or None."""
    if not reminders.enabled:
        return None
    later = [step.date_for(due_date) for step in steps_of(reminders) if step.date_for(due_date) > after]
    return min(later) if later else None


def next_look_date(
    reminders: Reminders, due_date: date, after: date, *, remind: bool, overdue_announced: bool
) -> date | None:
    """When the reminders run must look at an open invoice again, or None: its first reminder step
    later than `after` (if its customer gets reminders) or, until its `invoice.overdue` event is
    written, the day after its due date (already past for an invoice overdue when this is asked),
    whichever comes first."""
    dates = []
    step = next_reminder_date(reminders, due_date, after) if remind else None
    if step is not None:
        dates.append(step)
    if not overdue_announced:
        dates.append(due_date + timedelta(days=1))
    return min(dates) if dates else None


class ReminderRun(Model):
    """What one organisation's reminders run of one date did (the local stack's summary)."""

    organisation_id: str
    date: date
    invoices: int = Field(description="Invoices the run looked at.")
    sent: int = 0
    skipped: dict[str, int] = Field(default_factory=dict)
