"""The invoice state machine: draft -> open -> paid | void | uncollectible, and nothing else."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from remit.domain.credit import Credit
from remit.domain.errors import Conflict
from remit.domain.invoice import InvalidTransition, Invoice, priced_line
from tests.unit.builders import NOW

TODAY = date(2025, 3, 14)


def a_draft(unit_amount: int = 1000, **fields: object) -> Invoice:
    draft = Invoice.model_validate(
        {
            "id": "inv_test",
            "organisation_id": "org_test",
            "customer_id": "cus_test",
            "currency": "EUR",
            "due_date": TODAY + timedelta(days=30),
            "days_until_due": 30,
            "created_at": NOW,
            "updated_at": NOW,
            **fields,
        }
    )
    line = priced_line("li_1", "Widget", Decimal(2), unit_amount, Decimal(19), None)
    return draft.with_lines([line])


def finalized(draft: Invoice, credit: int = 0, credit_currency: str = "EUR") -> Invoice:
    return draft.finalize(
        number="ACME-00001",
        sequence=1,
        issue_date=TODAY,
        hosted_token="token",
        hosted_url="https://pay.test/i/token",
        customer_name="Globex",
        customer_email="ap@globex.test",
        customer_address=None,
        customer_tax_id=None,
        recipients=["ap@globex.test"],
        credit_balances={credit_currency: credit} if credit else {},
        now=NOW,
    )


def test_finalizing_numbers_dates_and_opens_the_invoice() -> None:
    invoice = finalized(a_draft())

    assert (invoice.status, invoice.number, invoice.issue_date) == ("open", "ACME-00001", TODAY)
    assert invoice.due_date == TODAY + timedelta(days=30)
    assert invoice.amount_due == invoice.total == 2380


def test_credit_is_applied_but_never_beyond_the_total() -> None:
    partly = finalized(a_draft(), credit=380)
    fully = finalized(a_draft(), credit=10_000)

    assert (partly.credit_applied, partly.amount_due, partly.status) == (380, 2000, "open")
    assert (fully.credit_applied, fully.amount_due, fully.status) == (2380, 0, "paid")


def test_payments_open_then_pay_and_report_the_excess() -> None:
    invoice = finalized(a_draft())

    partial, excess_1 = invoice.record_payment(1000, NOW)
    paid, excess_2 = partial.record_payment(2000, NOW)

    assert (partial.status, partial.amount_due, excess_1) == ("open", 1380, Credit("EUR", 0))
    assert (paid.status, paid.amount_due, paid.amount_paid, excess_2) == ("paid", 0, 2380, Credit("EUR", 620))


def test_voiding_returns_what_was_paid_and_the_credit_applied() -> None:
    invoice, _ = finalized(a_draft(), credit=380).record_payment(500, NOW)

    voided, returned = invoice.void(NOW)

    assert voided.status == "void"
    assert returned == Credit("EUR", 880)


def test_only_credit_in_the_invoices_currency_is_applied() -> None:
    in_dollars = finalized(a_draft(), credit=1000, credit_currency="USD")
    dollar_invoice = finalized(a_draft(currency="USD"), credit=1000, credit_currency="USD")

    assert (in_dollars.credit_applied, in_dollars.amount_due) == (0, 2380)
    assert (dollar_invoice.credit_applied, dollar_invoice.credit_taken) == (1000, Credit("USD", -1000))


def test_a_dollar_invoice_returns_dollars_and_credits_excess_in_dollars() -> None:
    invoice = finalized(a_draft(currency="USD"), credit=380, credit_currency="USD")

    _, excess = invoice.record_payment(3000, NOW)
    _, returned = invoice.record_payment(500, NOW)[0].void(NOW)

    assert excess == Credit("USD", 1000)
    assert returned == Credit("USD", 880)


def test_a_refund_reopens_a_paid_invoice_for_the_refunded_amount() -> None:
    paid, _ = finalized(a_draft()).record_payment(2380, NOW)

    reopened = paid.refund(1000, NOW)

    assert (reopened.status, reopened.amount_paid, reopened.amount_due) == ("open", 1380, 1000)
    assert reopened.paid_at is None


def test_a_refund_on_an_open_invoice_only_moves_the_amounts() -> None:
    partial, _ = finalized(a_draft()).record_payment(1000, NOW)

    refunded = partial.refund(1000, NOW)

    assert (refunded.status, refunded.amount_paid, refunded.amount_due) == ("open", 0, 2380)


def test_refunding_more_than_was_paid_is_refused() -> None:
    partial, _ = finalized(a_draft()).record_payment(1000, NOW)

    with pytest.raises(Conflict):
        partial.refund(1001, NOW)
    with pytest.raises(Conflict):
        partial.refund(0, NOW)


@pytest.mark.parametrize(
    ("status", "action"),
    [
        ("draft", lambda i: i.void(NOW)),
        ("draft", lambda i: i.mark_uncollectible(NOW)),
        ("draft", lambda i: i.record_payment(100, NOW)),
        ("open", lambda i: finalized(i)),
        ("open", lambda i: i.with_lines([])),
        ("paid", lambda i: i.void(NOW)),
        ("paid", lambda i: i.mark_uncollectible(NOW)),
        ("paid", lambda i: i.record_payment(100, NOW)),
        ("void", lambda i: i.void(NOW)),
        ("void", lambda i: i.record_payment(100, NOW)),
        ("uncollectible", lambda i: i.mark_uncollectible(NOW)),
        ("uncollectible", lambda i: i.record_payment(100, NOW)),
        ("draft", lambda i: i.refund(100, NOW)),
        ("void", lambda i: i.refund(100, NOW)),
    ],
)
def test_every_illegal_transition_is_refused_naming_the_status(status: str, action: object) -> None:
    invoice = a_draft().model_copy(update={"status": status})

    with pytest.raises(InvalidTransition) as refused:
        action(invoice)  # type: ignore[operator]

    assert status in refused.value.detail


def test_an_invoice_without_lines_or_with_a_negative_total_cannot_be_finalized() -> None:
    empty = a_draft().with_lines([])
    negative = a_draft(unit_amount=-1000)

    with pytest.raises(Conflict):
        finalized(empty)
    with pytest.raises(Conflict):
        finalized(negative)


def test_a_fixed_due_date_before_the_issue_date_is_refused() -> None:
    draft = a_draft(due_date=TODAY - timedelta(days=1), days_until_due=None)

    with pytest.raises(Conflict):
        finalized(draft)


def test_overdue_only_while_open_and_after_the_due_date() -> None:
    invoice = finalized(a_draft())
    due = invoice.due_date

    assert not invoice.is_overdue(due)
    assert invoice.is_overdue(due + timedelta(days=1))
    assert not invoice.record_payment(invoice.amount_due, NOW)[0].is_overdue(due + timedelta(days=1))
