"""Which periods a subscription bills, when: trials, period ends, pause, resume, cancel, end dates."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from remit.domain.errors import Conflict
from remit.domain.subscription import Subscription, SubscriptionNotActive

NOW = datetime(2027, 1, 1, 9, tzinfo=UTC)


def subscription(**fields: Any) -> Subscription:
    values: dict[str, Any] = {
        "id": "sub_1",
        "organisation_id": "org_1",
        "customer_id": "cus_1",
        "currency": "EUR",
        "line_items": [{"description": "Pro plan", "unit_amount": 4900}],
        "start_date": date(2027, 1, 1),
        "created_at": NOW,
        "updated_at": NOW,
        **fields,
    }
    return Subscription.model_validate(values)


def bill_through(
    sub: Subscription, today: date, limit: int = 100
) -> tuple[Subscription, list[tuple[date, date]]]:
    """Bill every period due on `today` as the worker does; returns the subscription and the periods."""
    billed = []
    for period in sub.periods_due(today, limit):
        sub = sub.billed(period, NOW)
        billed.append((period.start, period.end))
    return sub, billed


@pytest.mark.parametrize(
    ("charge_period_end", "first_billing", "second_billing"),
    [(False, date(2027, 3, 1), date(2027, 4, 1)), (True, date(2027, 4, 1), date(2027, 5, 1))],
)
def test_two_trial_periods_from_jan_1_bill_march_first(
    charge_period_end: bool, first_billing: date, second_billing: date
) -> None:
    sub = subscription(trial_periods=2, charge_period_end=charge_period_end).activate(NOW)

    assert sub.next_billing_date == first_billing
    sub, before = bill_through(sub, first_billing - (first_billing - date(2027, 2, 28)))
    assert before == []
    sub, billed = bill_through(sub, first_billing)
    assert billed == [(date(2027, 3, 1), date(2027, 3, 31))]
    assert sub.next_billing_date == second_billing


def test_a_paused_subscription_skips_the_periods_that_passed_and_resumes_with_the_next() -> None:
    sub, _ = bill_through(subscription().activate(NOW), date(2027, 1, 1))
    sub = sub.pause(NOW)

    assert sub.periods_due(date(2027, 4, 15), 100) == []
    sub = sub.resume(date(2027, 4, 15), NOW)

    assert sub.next_billing_date == date(2027, 5, 1)
    sub, billed = bill_through(sub, date(2027, 5, 1))
    assert billed == [(date(2027, 5, 1), date(2027, 5, 31))]


def test_resuming_on_a_billing_day_bills_that_period() -> None:
    sub, _ = bill_through(subscription().activate(NOW), date(2027, 1, 1))

    sub = sub.pause(NOW).resume(date(2027, 3, 1), NOW)

    assert sub.next_billing_date == date(2027, 3, 1)


def test_cancel_at_period_end_bills_the_current_period_and_then_closes() -> None:
    sub, _ = bill_through(subscription().activate(NOW), date(2027, 1, 1))

    sub = sub.cancel(at_period_end=True, today=date(2027, 1, 20), now=NOW)

    assert sub.status == "active"
    assert sub.cancel_at == date(2027, 2, 1)
    assert sub.next_billing_date is None
    assert sub.next_action_date() == date(2027, 2, 1)
    assert sub.close_if_done(date(2027, 1, 31), NOW) is None
    closed = sub.close_if_done(date(2027, 2, 1), NOW)
    assert closed is not None
    assert closed.status == "cancelled"


def test_cancel_at_period_end_with_billing_at_the_end_still_bills_the_current_period() -> None:
    sub = subscription(charge_period_end=True).activate(NOW)

    sub = sub.cancel(at_period_end=True, today=date(2027, 1, 20), now=NOW)
    sub, billed = bill_through(sub, date(2027, 2, 1))

    assert billed == [(date(2027, 1, 1), date(2027, 1, 31))]
    closed = sub.close_if_done(date(2027, 2, 1), NOW)
    assert closed is not None
    assert closed.status == "cancelled"


def test_cancel_now_stops_everything() -> None:
    sub = subscription().activate(NOW).cancel(at_period_end=False, today=date(2027, 1, 20), now=NOW)

    assert sub.status == "cancelled"
    assert sub.periods_due(date(2027, 6, 1), 100) == []
    assert sub.next_action_date() is None
    with pytest.raises(SubscriptionNotActive):
        sub.resume(date(2027, 6, 1), NOW)


def test_an_end_date_stops_billing_periods_that_start_on_or_after_it_and_then_ends() -> None:
    sub = subscription(end_date=date(2027, 4, 1)).activate(NOW)

    sub, billed = bill_through(sub, date(2027, 12, 31))

    assert [start for start, _ in billed] == [date(2027, 1, 1), date(2027, 2, 1), date(2027, 3, 1)]
    ended = sub.close_if_done(date(2027, 12, 31), NOW)
    assert ended is not None
    assert ended.status == "ended"


def test_catch_up_is_bounded_per_run() -> None:
    sub = subscription(period_units="weeks").activate(NOW)

    assert len(sub.periods_due(date(2027, 12, 31), 12)) == 12
    sub, _ = bill_through(sub, date(2027, 12, 31), limit=12)
    assert sub.next_billing_date == date(2027, 3, 26)


def test_only_the_next_period_can_be_billed() -> None:
    sub = subscription().activate(NOW)
    later = sub.schedule.period(3)

    with pytest.raises(Conflict):
        sub.billed(later, NOW)


@pytest.mark.parametrize(
    ("status_action", "action"),
    [("draft", lambda s: s.pause(NOW)), ("draft", lambda s: s.resume(date(2027, 1, 1), NOW))],
)
def test_actions_out_of_order_are_refused(status_action: str, action: Any) -> None:
    with pytest.raises(SubscriptionNotActive):
        action(subscription())


def test_the_current_period_is_the_one_containing_today() -> None:
    sub = subscription(start_date=date(2027, 1, 31)).activate(NOW)

    seen = sub.as_seen_on(date(2027, 3, 15))

    assert (seen.current_period_start, seen.current_period_end) == (date(2027, 2, 28), date(2027, 3, 30))
    assert subscription().as_seen_on(date(2027, 3, 15)).current_period_start is None
