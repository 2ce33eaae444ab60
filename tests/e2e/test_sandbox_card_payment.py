"""A customer pays an invoice by card in headless Chromium, through the local stack's sandbox provider.

The sandbox checkout posts its outcome as a signed Stripe-format event to `/webhooks/stripe/<org>`,
so the invoice becomes paid by the same code path a real Stripe payment takes.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
import requests
from playwright.sync_api import Browser, Page

from tests.e2e.conftest import call
from tests.e2e.local_stack import REPOSITORY_ROOT, RunningLocalStack

pytestmark = pytest.mark.e2e

ARTIFACTS = REPOSITORY_ROOT / "test-artifacts"


def invoice_of_a_sandbox_organisation(stack: RunningLocalStack) -> tuple[str, dict[str, Any]]:
    """An organisation with the sandbox provider connected, and an invoice sent to its customer."""
    org = call(stack, "POST", "/v1/organisations", {"name": "Acme Ltd", "default_currency": "EUR"}, 201)
    base = f"/v1/organisations/{org['id']}"
    connected = call(stack, "PUT", f"{base}/payment_provider", {"provider": "sandbox"})
    assert connected["payment_methods"]["card"] is True
    customer = call(
        stack, "POST", f"{base}/customers", {"name": "Globex GmbH", "email": "ap@globex.test"}, 201
    )
    draft = call(
        stack,
        "POST",
        f"{base}/invoices",
        {
            "customer_id": customer["id"],
            "line_items": [{"description": "Consulting", "quantity": "2", "unit_amount": 25000}],
        },
        201,
    )
    return base, call(stack, "POST", f"{base}/invoices/{draft['id']}/send")


def pay_by_card(page: Page, invoice: dict[str, Any], card_number: str) -> None:
    page.goto(invoice["hosted_url"])
    page.get_by_role("button", name="Pay by card").click()
    page.wait_for_url("**/_dev/sandbox/checkout/**")
    assert "€500.00" in page.inner_text("body")
    page.get_by_label("Card number").fill(card_number)
    page.get_by_label("Expiry (MM/YY)").fill("12/34")
    page.get_by_label("CVC").fill("123")
    page.get_by_role("button", name="Pay €500.00").click()
    page.wait_for_url(f"{invoice['hosted_url']}?checkout=*")


def status_shown(page: Page, wanted: str, seconds: float = 45.0) -> str:
    """The status badge once it reads `wanted` (the webhook may land just after the redirect)."""
    deadline = time.monotonic() + seconds
    while True:
        shown = page.locator(".badge").first.inner_text()
        if wanted in shown or time.monotonic() > deadline:
            return shown
        time.sleep(0.3)
        page.reload()


def receipts_for(
    stack: RunningLocalStack, invoice: dict[str, Any], seconds: float = 45.0
) -> list[dict[str, Any]]:
    """Receipts for this invoice (organisations of other tests number theirs the same way)."""
    subject = f"Payment received for invoice {invoice['number']}"
    deadline = time.monotonic() + seconds
    while True:
        emails = requests.get(stack.url("/_dev/outbox"), timeout=10).json()
        found = [e for e in emails if e["subject"] == subject and invoice["hosted_url"] in e["text"]]
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.3)


def test_a_customer_pays_by_card_and_the_invoice_shows_paid(
    stack: RunningLocalStack, browser: Browser
) -> None:
    base, invoice = invoice_of_a_sandbox_organisation(stack)
    page = browser.new_page()

    pay_by_card(page, invoice, "4242 4242 4242 4242")

    assert "?checkout=success" in page.url
    assert "Thank you — your payment is being confirmed" in page.inner_text("body")
    assert "Paid" in status_shown(page, "Paid")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "hosted-page-paid-by-card.png"), full_page=True)
    assert page.get_by_role("button", name="Pay by card").count() == 0
    paid = call(stack, "GET", f"{base}/invoices/{invoice['id']}")
    assert (paid["status"], paid["amount_due"], paid["amount_paid"]) == ("paid", 0, 50000)
    payments = call(stack, "GET", f"{base}/payments?invoice_id={invoice['id']}")["data"]
    assert [(p["method"], p["amount"], p["status"]) for p in payments] == [("card", 50000, "succeeded")]
    [receipt] = receipts_for(stack, invoice)
    assert receipt["to"] == ["ap@globex.test"]


def test_a_declined_card_is_shown_and_the_invoice_stays_open(
    stack: RunningLocalStack, browser: Browser
) -> None:
    base, invoice = invoice_of_a_sandbox_organisation(stack)
    page = browser.new_page()

    pay_by_card(page, invoice, "4000 0000 0000 0002")

    assert "?checkout=declined" in page.url
    assert "Your card was declined." in page.inner_text("body")
    assert page.get_by_role("button", name="Pay by card").count() == 1  # they may try another card
    time.sleep(1.0)  # let the failure webhook land before reading the invoice back
    still_open = call(stack, "GET", f"{base}/invoices/{invoice['id']}")
    assert (still_open["status"], still_open["amount_due"]) == ("open", 50000)
    assert receipts_for(stack, invoice, seconds=1.0) == []
