"""What an invoice and a payment count for in the overview, and how the figures are summed."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from remit.domain.invoice import Invoice, InvoiceStatus, priced_line
from remit.domain.overview import (
    Bucket,
    OverviewReading,
    OverviewWindow,
    Total,
    bucket_changes,
    invoice_buckets,
    payment_buckets,
    summarise,
)
from remit.domain.payment import Payment
from tests.unit.builders import NOW

TODAY = date(2026, 1, 15)


def an_invoice(status: InvoiceStatus, **fields: object) -> Invoice:
    line = priced_line("li_1", "Widget", Decimal(2), 1000, Decimal(19), None)
    invoice = Invoice.model_validate(
        {
            "id": "inv_test",
            "organisation_id": "org_test",
            "customer_id": "cus_test",
            "currency": "EUR",
            "due_date": date(2026, 1, 31),
            "created_at": NOW,
            "updated_at": NOW,
        }
    ).with_lines([line])
    issued = {"issue_date": date(2025, 12, 31)} if status != "draft" else {}
    return invoice.model_copy(update={"status": status, **issued, **fields})


def test_the_window_is_30_days_and_the_12_months_up_to_today_across_a_new_year() -> None:
    window = OverviewWindow(TODAY)

    assert window.paid_from == date(2025, 12, 17)
    assert (window.today - window.paid_from).days + 1 == 30
    assert window.months == (*(date(2025, month, 1) for month in range(2, 13)), date(2026, 1, 1))


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("draft", {}),
        (
            "open",
            {
                Bucket("open", "EUR"): Total(2380, 1),
                Bucket("due", "EUR", date(2026, 1, 31)): Total(2380, 1),
                Bucket("issued", "EUR", date(2025, 12, 1)): Total(2380, 1),
            },
        ),
        ("paid", {Bucket("issued", "EUR", date(2025, 12, 1)): Total(2380, 1)}),
        (
            "uncollectible",
            {
                Bucket("uncollectible", "EUR"): Total(2380, 1),
                Bucket("issued", "EUR", date(2025, 12, 1)): Total(2380, 1),
            },
        ),
        ("void", {}),
    ],
)
def test_an_invoice_counts_by_its_status(status: InvoiceStatus, expected: dict[Bucket, Total]) -> None:
    assert invoice_buckets(an_invoice(status)) == expected


def test_a_partial_payment_changes_what_is_due_and_nothing_else() -> None:
    before = an_invoice("open")
    after, _ = before.record_payment(1000, NOW)

    assert bucket_changes(invoice_buckets(before), invoice_buckets(after)) == {
        Bucket("open", "EUR"): Total(-1000, 0),
        Bucket("due", "EUR", date(2026, 1, 31)): Total(-1000, 0),
    }


@pytest.mark.parametrize(("status", "counts"), [("succeeded", True), ("refunded", True), ("failed", False)])
def test_a_payment_counts_on_the_day_received_unless_it_failed(status: str, counts: bool) -> None:
    payment = Payment.model_validate(
        {
            "id": "pay_test",
            "invoice_id": "inv_test",
            "customer_id": "cus_test",
            "amount": 500,
            "currency": "EUR",
            "method": "card",
            "status": status,
            "received_on": "2026-01-10",
            "created_at": NOW,
        }
    )

    expected = {Bucket("paid", "EUR", date(2026, 1, 10)): Total(500, 1)} if counts else {}
    assert payment_buckets(payment) == expected


def test_the_figures_sum_the_windows_buckets_default_currency_first() -> None:
    window = OverviewWindow(TODAY)
    buckets = {
        Bucket("open", "USD"): Total(900, 3),
        Bucket("due", "USD", TODAY): Total(100, 1),  # due today: not overdue
        Bucket("due", "USD", TODAY + timedelta(days=9)): Total(200, 1),
        Bucket("paid", "USD", window.paid_from): Total(50, 1),
        Bucket("paid", "USD", window.paid_from - timedelta(days=1)): Total(70, 1),  # outside
        Bucket("issued", "USD", date(2025, 2, 1)): Total(1000, 2),
        Bucket("issued", "USD", date(2025, 1, 1)): Total(3000, 4),  # 13 months ago: outside
        Bucket("open", "GBP"): Total(0, 0),  # a currency with nothing left in it
    }

    overview = summarise("org_test", "EUR", "Europe/Berlin", window, OverviewReading(buckets))

    assert [figures.currency for figures in overview.currencies] == ["EUR", "USD"]
    usd = overview.currencies[1]
    assert (usd.outstanding, usd.outstanding_invoices, usd.overdue, usd.overdue_invoices) == (900, 3, 600, 1)
    assert (usd.paid_last_30_days, usd.payments_last_30_days) == (50, 1)
    assert [(m.month, m.amount, m.invoices) for m in usd.revenue_by_month if m.amount] == [
        (date(2025, 2, 1), 1000, 2)
    ]
    assert overview.currencies[0].outstanding == 0


def test_overdue_stays_between_nothing_and_what_is_outstanding() -> None:
    # Buckets read a moment apart may disagree: a payment between the two reads, say
    window = OverviewWindow(TODAY)
    buckets = {
        Bucket("open", "EUR"): Total(100, 1),
        Bucket("due", "EUR", TODAY + timedelta(days=3)): Total(300, 2),
    }

    figures = summarise("org_test", "EUR", "UTC", window, OverviewReading(buckets)).currencies[0]

    assert (figures.overdue, figures.overdue_invoices) == (0, 0)
