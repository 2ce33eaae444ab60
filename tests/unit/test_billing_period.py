"""Billing periods from the anchor: contiguous, never overlapping, the anchor day kept (hypothesis)."""

from __future__ import annotations

import calendar
from datetime import date, timedelta

from hypothesis import assume, given
from hypothesis import strategies as st

from remit.domain.billing_period import BillingSchedule

anchors = st.dates(min_value=date(1990, 1, 1), max_value=date(2200, 12, 31))
counts = st.integers(min_value=1, max_value=256)
units = st.sampled_from(["days", "weeks", "months", "years"])


@given(anchors, counts, units, st.integers(min_value=0, max_value=60))
def test_periods_are_contiguous_and_never_overlap(anchor: date, count: int, unit: str, n: int) -> None:
    years_per_period = {"days": 1 / 365, "weeks": 7 / 365, "months": 1 / 12, "years": 1}[unit]
    assume(anchor.year + (n + 2) * count * years_per_period < 9999)  # dates end in year 9999
    schedule = BillingSchedule(anchor, count, unit)  # type: ignore[arg-type]

    this, following = schedule.period(n), schedule.period(n + 1)

    assert this.start <= this.end
    assert following.start == this.end + timedelta(days=1)
    assert schedule.period(0).start == anchor


@given(anchors, st.integers(min_value=1, max_value=24), st.integers(min_value=0, max_value=120))
def test_monthly_periods_keep_the_anchor_day_whenever_the_month_has_it(
    anchor: date, count: int, n: int
) -> None:
    start = BillingSchedule(anchor, count, "months").start_of(n)

    last_day = calendar.monthrange(start.year, start.month)[1]
    assert start.day == min(anchor.day, last_day)
    months = (start.year - anchor.year) * 12 + start.month - anchor.month
    assert months == count * n


@given(anchors, counts, units, st.integers(min_value=0, max_value=3000))
def test_the_period_containing_a_day_contains_it(anchor: date, count: int, unit: str, offset: int) -> None:
    schedule = BillingSchedule(anchor, count, unit)  # type: ignore[arg-type]
    day = anchor + timedelta(days=offset)

    index = schedule.index_on(day)

    assert index is not None
    period = schedule.period(index)
    assert period.start <= day <= period.end
    assert schedule.index_on(anchor - timedelta(days=1)) is None


def test_jan_31_bills_on_the_last_day_of_shorter_months_and_returns_to_the_31st() -> None:
    schedule = BillingSchedule(date(2027, 1, 31), 1, "months")

    starts = [schedule.start_of(n) for n in range(5)]

    assert starts == [
        date(2027, 1, 31),
        date(2027, 2, 28),
        date(2027, 3, 31),
        date(2027, 4, 30),
        date(2027, 5, 31),
    ]
    assert BillingSchedule(date(2028, 1, 31), 1, "months").start_of(1) == date(2028, 2, 29)


def test_a_yearly_schedule_from_feb_29_bills_on_feb_28_outside_leap_years() -> None:
    schedule = BillingSchedule(date(2028, 2, 29), 1, "years")

    assert [schedule.start_of(n) for n in range(5)] == [
        date(2028, 2, 29),
        date(2029, 2, 28),
        date(2030, 2, 28),
        date(2031, 2, 28),
        date(2032, 2, 29),
    ]
