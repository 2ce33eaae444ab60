"""Where a card payment's money goes as its events change its net amount: the invoice or the credit."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from remit.domain.card_intents import (
    CardIntent,
    InvoiceHolding,
    NetChange,
    RefundedShare,
    SeveralRefund,
    divide_refund_of_several,
)
from remit.domain.credit import Credit, refund_from_credit
from tests.unit.builders import NOW
from tests.unit.test_invoice_state_machine import a_draft, finalized


def an_intent(**fields: object) -> CardIntent:
    return CardIntent.model_validate(
        {
            "payment_intent_id": "pi_1",
            "invoice_id": "inv_test",
            "customer_id": "cus_test",
            "currency": "EUR",
            "status": "succeeded",
            "updated_at": NOW,
            **fields,
        }
    )


def test_a_payment_pays_what_an_open_invoice_owes_and_credits_the_rest() -> None:
    invoice = finalized(a_draft())  # 2380 due

    divided = an_intent(status="failed").divide(3000, invoice)

    assert divided == NetChange(to_invoice=2380, to_credit=Credit("EUR", 620), applied=2380, credited=620)


def test_a_payment_on_an_invoice_that_is_not_open_is_all_credit() -> None:
    invoice, _ = finalized(a_draft()).void(NOW)

    divided = an_intent(status="failed").divide(2380, invoice)

    assert divided == NetChange(to_invoice=0, to_credit=Credit("EUR", 2380), applied=0, credited=2380)


def test_a_refund_reopens_what_the_payment_paid_then_takes_back_its_credit() -> None:
    invoice, _ = finalized(a_draft()).record_payment(2380, NOW)
    intent = an_intent(payment_id="pay_1", amount=3000, applied=2380, credited=620)

    divided = intent.divide(-2500, invoice)

    assert divided == NetChange(to_invoice=-2380, to_credit=Credit("EUR", -120), applied=0, credited=500)


def test_a_refund_after_a_void_takes_back_what_the_void_returned_as_credit() -> None:
    paid, _ = finalized(a_draft()).record_payment(1000, NOW)
    voided, _ = paid.void(NOW)
    intent = an_intent(payment_id="pay_1", amount=1000, applied=1000)

    divided = intent.divide(-1000, voided)

    assert divided == NetChange(to_invoice=0, to_credit=Credit("EUR", -1000), applied=0, credited=0)


def test_no_change_moves_nothing() -> None:
    intent = an_intent(payment_id="pay_1", amount=1000, applied=600, credited=400)

    assert intent.divide(0, finalized(a_draft())) == NetChange(0, Credit("EUR", 0), 600, 400)


def test_a_payment_in_dollars_divides_into_dollars() -> None:
    invoice = finalized(a_draft(currency="USD"))

    assert an_intent(currency="USD", status="failed").divide(3000, invoice).to_credit == Credit("USD", 620)


def test_a_refund_takes_back_no_more_credit_than_is_left_in_its_currency() -> None:
    balances = {"EUR": 200, "USD": 900}

    assert refund_from_credit(Credit("EUR", -500), balances) == Credit("EUR", -200)
    assert refund_from_credit(Credit("USD", -500), balances) == Credit("USD", -500)
    assert refund_from_credit(Credit("JPY", -500), balances) == Credit("JPY", 0)
    assert refund_from_credit(Credit("JPY", 700), balances) == Credit("JPY", 700)


def test_a_refund_of_a_payment_of_several_invoices_takes_the_credit_then_the_last_invoice_paid() -> None:
    holdings = [InvoiceHolding("inv_a", 1000, 1000), InvoiceHolding("inv_b", 800, 800)]

    divided = divide_refund_of_several(1500, 200, holdings)

    assert divided == SeveralRefund(
        [RefundedShare("inv_b", 800, 800), RefundedShare("inv_a", 500, 500)], from_credit=200
    )


def test_the_share_of_a_voided_invoice_is_taken_from_the_credit_it_went_to() -> None:
    holdings = [InvoiceHolding("inv_a", 1000, 1000), InvoiceHolding("inv_void", 800, 0)]

    divided = divide_refund_of_several(900, 0, holdings)

    assert divided == SeveralRefund(
        [RefundedShare("inv_void", 800, 0), RefundedShare("inv_a", 100, 100)], from_credit=800
    )


@given(
    refund=st.integers(-10, 10_000),
    credited=st.integers(0, 3_000),
    holdings=st.lists(st.tuples(st.integers(0, 3_000), st.integers(0, 3_000)), max_size=8),
)
def test_a_refund_of_several_invoices_moves_exactly_its_amount_never_more_than_a_payment_holds(
    refund: int, credited: int, holdings: list[tuple[int, int]]
) -> None:
    held = [InvoiceHolding(f"inv_{n}", left, reopenable) for n, (left, reopenable) in enumerate(holdings)]

    divided = divide_refund_of_several(refund, credited, held)

    by_id = {holding.invoice_id: holding for holding in held}
    assert sum(share.reopened for share in divided.shares) + divided.from_credit == max(refund, 0)
    for share in divided.shares:
        assert 0 < share.from_payment <= by_id[share.invoice_id].payment_left
        assert 0 <= share.reopened <= min(share.from_payment, by_id[share.invoice_id].reopenable)
