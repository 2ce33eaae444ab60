"""Billing periods of a subscription: every date from the anchor, never from the previous period.

Period `n` starts at `anchor + n * count units`. Months and years are added with python-dateutil's
`relativedelta`, which clamps to the month's last day: a monthly schedule anchored on Jan 31 starts
periods on Feb 28 (29 in leap years), Mar 31, Apr 30, … Because each start is computed from the
anchor, a short month never drags the later periods to an earlier day (Feb 28 → Mar 31, not Mar 28).

A period runs from its start up to the day before the next period's start: `end` is that last day,
so periods are contiguous and never overlap.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from dateutil.relativedelta import relativedelta

PeriodUnit = Literal["days", "weeks", "months", "years"]
MAX_PERIOD_COUNT = 256


@dataclass(frozen=True)
class BillingSchedule:
    """How a subscription's periods fall: `count` `unit`s each, from `anchor` (the start date)."""

    anchor: date
    count: int
    unit: PeriodUnit

    def start_of(self, index: int) -> date:
        """The first day of period `index` (0 is the period that starts on the anchor)."""
        if index < 0:
            raise ValueError("period indexes start at 0")
        steps = self.count * index
        if self.unit == "days":
            return self.anchor + relativedelta(days=steps)
        if self.unit == "weeks":
            return self.anchor + relativedelta(weeks=steps)
        if self.unit == "months":
            return self.anchor + relativedelta(months=steps)
        return self.anchor + relativedelta(years=steps)

    def period(self, index: int) -> BillingPeriod:
        start = self.start_of(index)
        return BillingPeriod(index, start, self.start_of(index + 1) - timedelta(days=1))

    def index_on(self, day: date) -> int | None:
        """The index of the period that contains `day`, or None before the anchor."""
        if day < self.anchor:
            return None
        # A first guess from the average length of the unit, then exact steps from the anchor.
        average_days = {"days": 1, "weeks": 7, "months": 30.436875, "years": 365.2425}[self.unit]
        index = max(0, int((day - self.anchor).days / (average_days * self.count)) - 1)
        while self.start_of(index) > day:
            index -= 1
        while self.start_of(index + 1) <= day:
            index += 1
        return index


@dataclass(frozen=True)
class BillingPeriod:
    index: int
    start: date
    end: date  # the period's last day
