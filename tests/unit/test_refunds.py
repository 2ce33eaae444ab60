"""Which payments a refund is taken from, and what each then holds (remit.domain.refunds)."""

from datetime import UTC, date, datetime, timedelta

import pytest

from remit.domain.errors import InvalidInput
from remit.domain.payment import Payment
from remit.domain.refunds import (
    MAX_PAYMENTS_REFUNDED,
    RefundExceedsPayments,
    allocate_refund,
    refundable,
    with_refund,
)

T0 = datetime(2027, 1, 1, tzinfo=UTC)


def payment(n: int, amount: int, **fields: object) -> Payment:
    return Payment.model_validate(
        {
            "id": f"pay_{n}",
            "invoice_id": "inv_1",
            "customer_id": "cus_1",
            "amount": amount,
            "currency": "EUR",
            "method": "card",
            "received_on": date(2027, 1, 1),
            "created_at": T0 + timedelta(minutes=n),
            **fields,
        }
    )


def test_a_refund_is_taken_from_the_newest_payment_first_each_at_most_what_it_holds() -> None:
    older, newer = payment(1, 5000), payment(2, 3000, amount_refunded=1000, status="partially_refunded")

    portions = allocate_refund([older, newer], 4000)

    assert [(p.id, amount) for p, amount in portions] == [("pay_2", 2000), ("pay_1", 2000)]


def test_a_refund_larger_than_what_the_payments_hold_is_refused_with_what_is_available() -> None:
    failed = payment(3, 9000, status="failed")

    with pytest.raises(RefundExceedsPayments) as refused:
        allocate_refund([payment(1, 5000), failed], 5001)

    assert refused.value.available == 5000
    assert refundable(failed) == 0


def test_nothing_to_refund_takes_nothing() -> None:
    assert allocate_refund([payment(1, 5000)], 0) == []


def test_a_payment_status_follows_what_is_refunded_and_a_failed_refund_gives_it_back() -> None:
    paid = payment(1, 5000)

    partly = with_refund(paid, 2000)
    whole = with_refund(partly, 3000)
    given_back = with_refund(whole, -3000)

    assert (partly.status, partly.amount_refunded) == ("partially_refunded", 2000)
    assert (whole.status, refundable(whole)) == ("refunded", 0)
    assert (given_back.status, given_back.amount_refunded) == ("partially_refunded", 2000)
    assert with_refund(given_back, -2000).status == "succeeded"


def test_more_than_a_payment_holds_cannot_be_refunded_from_it() -> None:
    with pytest.raises(ValueError, match="cannot have 5001 refunded"):
        with_refund(payment(1, 5000), 5001)
    with pytest.raises(ValueError, match="holds nothing"):
        with_refund(payment(2, 5000, status="failed"), 1)


def test_a_refund_drawing_on_more_payments_than_one_transaction_holds_is_refused_by_name() -> None:
    payments = [payment(n, 100) for n in range(MAX_PAYMENTS_REFUNDED + 1)]

    assert len(allocate_refund(payments, 100 * MAX_PAYMENTS_REFUNDED)) == MAX_PAYMENTS_REFUNDED
    with pytest.raises(InvalidInput) as refused:
        allocate_refund(payments, 100 * MAX_PAYMENTS_REFUNDED + 1)

    assert refused.value.problems[0].field == "refund_amount"
    assert f"at most {100 * MAX_PAYMENTS_REFUNDED} here" in refused.value.problems[0].message
