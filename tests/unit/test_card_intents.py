"""Where a card payment's money goes as its events change its net amount: the invoice or the credit."""

from __future__ import annotations

from remit.domain.card_intents import CardIntent, NetChange
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
