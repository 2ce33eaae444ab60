"""The overview page: the figures of each currency, the revenue chart with its table, and the
invoices needing attention, as they change with invoices, payments and the date.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.integration.conftest import SettableClock
from tests.integration.dashboard_browser import account_with_user, signed_in, text_of

pytestmark = pytest.mark.usefixtures("user_pool")


def issued_invoice(account_id: str, organisation_id: str, amount: int, currency: str = "EUR") -> str:
    from remit.bootstrap import services
    from remit.domain.customer import NewCustomer
    from remit.domain.invoice import NewInvoice

    everything = services()
    customer = everything.customers.create(
        account_id,
        organisation_id,
        NewCustomer(name=f"Globex {currency}", email="ap@globex.test", currency=currency),
    )
    draft = everything.invoices.create_draft(
        account_id,
        organisation_id,
        NewInvoice.model_validate(
            {
                "customer_id": customer.id,
                "days_until_due": 14,
                "line_items": [{"description": "Work", "unit_amount": amount}],
            }
        ),
    )
    return everything.invoice_lifecycle.finalize(
        account_id, organisation_id, draft.id, "https://remit.test"
    ).id


def test_the_overview_shows_what_is_owed_paid_and_invoiced_and_what_needs_attention(
    clock: SettableClock,
) -> None:
    from remit.bootstrap import services
    from remit.domain.payment import NewOfflinePayment

    account_id, organisation_id = account_with_user("ovid@example.com", "Ovid Ltd")
    browser = signed_in("ovid@example.com")
    url = f"/dashboard/organisations/{organisation_id}"

    empty = text_of(browser.request("GET", url)["body"])
    assert "Outstanding €0.00" in empty
    assert "Nothing is overdue." in empty

    paid = issued_invoice(account_id, organisation_id, 50000)
    late = issued_invoice(account_id, organisation_id, 12345)
    issued_invoice(account_id, organisation_id, 150000, "JPY")
    services().payments.record_offline_payment(
        account_id,
        organisation_id,
        paid,
        NewOfflinePayment.model_validate({"amount": 50000, "method": "bank_transfer"}),
    )

    page = browser.request("GET", url)
    text = text_of(page["body"])
    assert page["statusCode"] == 200
    assert "Outstanding €123.45 1 open invoice" in text
    assert "Overdue €0.00" in text
    assert "Paid in the last 30 days €500.00 1 payment" in text
    assert "In JPY" in text
    assert "￥150,000" in text or "¥150,000" in text
    # The chart says what it shows, and the same figures are in a table.
    assert '<svg xmlns="http://www.w3.org/2000/svg"' in page["body"]
    assert "Revenue by month in EUR, the last 12 months" in page["body"]
    assert "Nov 26: €623.45" in page["body"]
    assert "2026-11 2 €623.45" in text

    clock.current += timedelta(days=20)
    browser = signed_in("ovid@example.com")  # sessions last 12 hours
    later = text_of(browser.request("GET", url)["body"])
    assert "Overdue €123.45 1 invoice past due" in later
    assert "Globex EUR" in later
    assert "Overdue" in later
    assert late  # the late one is the one listed
    assert (
        f'href="/dashboard/organisations/{organisation_id}/invoices/{late}"'
        in browser.request("GET", url)["body"]
    )


def test_another_accounts_overview_is_not_found() -> None:
    _, organisation_id = account_with_user("own@example.com", "Own Ltd")
    account_with_user("other@example.com", "Other Ltd")

    response = signed_in("other@example.com").request("GET", f"/dashboard/organisations/{organisation_id}")

    assert response["statusCode"] == 404
