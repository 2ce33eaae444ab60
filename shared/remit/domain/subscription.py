"""Subscriptions (contracts): which periods are billed, on which day, and the status machine.

    draft ──activate──► active ──pause──► paused ──resume──► active
      │                   │  └──cancel (at period end)──► active until then, then cancelled
      └──cancel──► cancelled ◄──cancel (now)──┘       end_date reached ──► ended

Periods come from `BillingSchedule` (anchored on `start_date`). The first `trial_periods` are
free. Period `n` is billed on its first day, or with `charge_period_end` on the day after its last
(the next period's first day). A period that starts on or after the stop date (`end_date`, or the
date a cancellation takes effect) is not billed; once nothing is left to bill, the subscription
closes on that stop date. Nothing here reads the clock: "today" is the organisation's date, given.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import ConfigDict, Field

from remit.domain.billing_period import MAX_PERIOD_COUNT, BillingPeriod, BillingSchedule, PeriodUnit
from remit.domain.changes import nullable_as_in
from remit.domain.errors import Conflict, FieldProblem, InvalidInput
from remit.domain.invoice import MAX_LINES, Memo, NewLineItem
from remit.domain.values import CurrencyCode, Model, Strict

SubscriptionStatus = Literal["draft", "active", "paused", "cancelled", "ended"]
Collection = Literal["send_invoice", "charge_automatically"]
PeriodCount = Annotated[int, Field(ge=1, le=MAX_PERIOD_COUNT)]
TrialPeriods = Annotated[int, Field(ge=0, le=MAX_PERIOD_COUNT)]
DaysUntilDue = Annotated[int, Field(ge=0, le=365)]
# The fields that decide which periods exist and when they are billed: fixed once one was billed.
SCHEDULE_FIELDS = ("period", "period_units", "start_date", "trial_periods", "charge_period_end", "currency")


# A line billed every period: the shape of a new invoice's line.
SubscriptionLine = NewLineItem

SubscriptionLines = Annotated[list[SubscriptionLine], Field(min_length=1, max_length=MAX_LINES)]


class SubscriptionNotActive(Conflict):
    """The subscription's status does not allow the action."""


class Subscription(Model):
    """A subscription, and the schedule state the domain keeps beside what the API shows;
    `current_period_*` are as of the organisation's today."""

    id: str
    organisation_id: str
    customer_id: str
    status: SubscriptionStatus = "draft"
    template_id: str | None = None
    line_items: list[SubscriptionLine] | None = None
    currency: CurrencyCode
    period: PeriodCount = 1
    period_units: PeriodUnit = "months"
    start_date: date
    end_date: date | None = None
    charge_period_end: bool = False
    trial_periods: TrialPeriods = 0
    days_until_due: DaysUntilDue | None = None
    include_open_charges: bool = True
    collection: Collection = "send_invoice"
    memo: Memo | None = None
    current_period_start: date | None = None
    current_period_end: date | None = None
    next_billing_date: date | None = None
    cancel_at: date | None = Field(
        default=None, description="The day a cancellation at period end takes effect."
    )
    invoices_issued: int = 0
    activated_at: datetime | None = None
    paused_at: datetime | None = None
    cancelled_at: datetime | None = None
    ended_at: datetime | None = None
    created_at: datetime
    updated_at: datetime
    # The organisation's time zone when last written: whose today decides the current period.
    timezone: str = "UTC"
    # The index of the next period to bill (periods before it were billed, skipped or free).
    next_period: int = 0
    version: int = 0

    # --- the schedule --------------------------------------------------------------------

    @property
    def schedule(self) -> BillingSchedule:
        return BillingSchedule(self.start_date, self.period, self.period_units)

    def billing_date_of(self, index: int) -> date:
        """The day period `index` is billed: its first day, or the day after its last (charge_period_end)."""
        return self.schedule.start_of(index + 1 if self.charge_period_end else index)

    @property
    def stop_date(self) -> date | None:
        """Periods starting on or after this day are not billed (the end date or a cancellation)."""
        stops = [day for day in (self.end_date, self.cancel_at) if day is not None]
        return min(stops) if stops else None

    def is_billable(self, index: int) -> bool:
        stop = self.stop_date
        return index >= self.trial_periods and (stop is None or self.schedule.start_of(index) < stop)

    def periods_due(self, today: date, limit: int) -> list[BillingPeriod]:
        """The periods to bill on `today`, oldest first, at most `limit` (missed days are caught up)."""
        if self.status != "active":
            return []
        due: list[BillingPeriod] = []
        index = self.next_period
        while len(due) < limit and self.is_billable(index) and self.billing_date_of(index) <= today:
            due.append(self.schedule.period(index))
            index += 1
        return due

    def next_action_date(self) -> date | None:
        """When the cycle must next look at it: the next billing date, else the day it closes."""
        if self.status != "active":
            return None
        return self.next_billing_date or self.stop_date

    def scheduled_from(self, next_period: int) -> Subscription:
        """With `next_period` as the next period to bill, and its billing date (None: nothing left)."""
        billable = self.is_billable(next_period)
        return self.model_copy(
            update={
                "next_period": next_period,
                "next_billing_date": self.billing_date_of(next_period) if billable else None,
            }
        )

    # --- the status machine --------------------------------------------------------------

    def require_status(self, allowed: tuple[SubscriptionStatus, ...], action: str) -> None:
        if self.status not in allowed:
            raise SubscriptionNotActive(
                f"Cannot {action} subscription {self.id}: it is {self.status} "
                f"(only {' or '.join(allowed)} subscriptions can)."
            )

    def activate(self, now: datetime) -> Subscription:
        """Set live: billing starts from the first period after the trial (from `start_date`, even past)."""
        self.require_status(("draft",), "activate")
        first = max(self.trial_periods, self.next_period)
        activated = self.model_copy(update={"status": "active", "activated_at": now, "updated_at": now})
        return activated.scheduled_from(first)

    def pause(self, now: datetime) -> Subscription:
        """Stop issuing; the periods that pass while paused are skipped."""
        self.require_status(("active",), "pause")
        return self.model_copy(update={"status": "paused", "paused_at": now, "updated_at": now})

    def resume(self, today: date, now: datetime) -> Subscription:
        """Continue with the first period whose billing date is today or later (skipped ones stay skipped)."""
        self.require_status(("paused",), "resume")
        index = self.next_period
        while self.billing_date_of(index) < today:
            index += 1
        resumed = self.model_copy(update={"status": "active", "paused_at": None, "updated_at": now})
        return resumed.scheduled_from(index)

    def cancel(self, *, at_period_end: bool, today: date, now: datetime) -> Subscription:
        """Cancel now, or (an active subscription already in a period) when the current period ends."""
        self.require_status(("draft", "active", "paused"), "cancel")
        current = self.schedule.index_on(today)
        if at_period_end and self.status == "active" and current is not None:
            cancel_at = self.schedule.start_of(current + 1)
            pending = self.model_copy(update={"cancel_at": cancel_at, "updated_at": now})
            return pending.scheduled_from(self.next_period)
        return self.model_copy(
            update={"status": "cancelled", "cancelled_at": now, "next_billing_date": None, "updated_at": now}
        )

    def billed(self, period: BillingPeriod, now: datetime) -> Subscription:
        """After period `period` was invoiced: the next period is scheduled."""
        if period.index != self.next_period:
            raise Conflict(f"Period {period.index} is not the next to bill ({self.next_period}).")
        billed = self.model_copy(update={"invoices_issued": self.invoices_issued + 1, "updated_at": now})
        return billed.scheduled_from(period.index + 1)

    def close_if_done(self, today: date, now: datetime) -> Subscription | None:
        """Ended or cancelled once nothing is left to bill and the stop date has come; else None."""
        stop = self.stop_date
        if self.status != "active" or self.next_billing_date is not None or stop is None or stop > today:
            return None
        if self.cancel_at is not None and (self.end_date is None or self.cancel_at <= self.end_date):
            return self.model_copy(update={"status": "cancelled", "cancelled_at": now, "updated_at": now})
        return self.model_copy(update={"status": "ended", "ended_at": now, "updated_at": now})

    def as_seen_on(self, today: date) -> Subscription:
        """With the current period (the one containing `today`) while active or paused."""
        index = self.schedule.index_on(today) if self.status in ("active", "paused") else None
        if index is None:
            return self.model_copy(update={"current_period_start": None, "current_period_end": None})
        period = self.schedule.period(index)
        return self.model_copy(
            update={"current_period_start": period.start, "current_period_end": period.end}
        )


def check_subscription(subscription: Subscription) -> None:
    """The rules across fields, each broken one named: `InvalidInput` otherwise."""
    problems = []
    if subscription.template_id is None and not subscription.line_items:
        problems.append(FieldProblem("line_items", "give line_items or a template_id"))
    if subscription.template_id is not None and subscription.line_items:
        problems.append(FieldProblem("template_id", "give either line_items or a template_id, not both"))
    if subscription.end_date is not None and subscription.end_date <= subscription.start_date:
        problems.append(FieldProblem("end_date", "must be after start_date"))
    if problems:
        raise InvalidInput(problems)


class NewSubscription(Strict):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "customer_id": "cus_01jd3v9m2k8q4r6t8w0y2a4c6e",
                    "line_items": [{"description": "Hosting", "unit_amount": 2500}],
                    "period": 1,
                    "period_units": "months",
                    "start_date": "2027-01-31",
                }
            ]
        }
    )

    customer_id: str
    template_id: str | None = None
    line_items: SubscriptionLines | None = None
    currency: CurrencyCode | None = Field(default=None, description="Defaults to the customer's.")
    period: PeriodCount = 1
    period_units: PeriodUnit = "months"
    start_date: date | None = Field(default=None, description="Defaults to the organisation's today.")
    end_date: date | None = None
    charge_period_end: bool = False
    trial_periods: TrialPeriods = 0
    days_until_due: DaysUntilDue | None = Field(default=None, description="Defaults to the customer's terms.")
    include_open_charges: bool = True
    collection: Collection = "send_invoice"
    memo: Memo | None = None


class SubscriptionChanges(Strict):
    """A PATCH. The schedule fields (`SCHEDULE_FIELDS`) are read-only once a period was billed."""

    model_config = ConfigDict(json_schema_extra=nullable_as_in(Subscription))

    template_id: str | None = None
    line_items: SubscriptionLines | None = None
    currency: CurrencyCode | None = None
    period: PeriodCount | None = None
    period_units: PeriodUnit | None = None
    start_date: date | None = None
    end_date: date | None = None
    charge_period_end: bool | None = None
    trial_periods: TrialPeriods | None = None
    days_until_due: DaysUntilDue | None = None
    include_open_charges: bool | None = None
    collection: Collection | None = None
    memo: Memo | None = None


class CancelSubscription(Strict):
    at_period_end: bool = True
