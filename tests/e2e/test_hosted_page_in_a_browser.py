"""A customer's view: the emailed link opened in headless Chromium, as a person would see it.

Saves screenshots under `test-artifacts/` (git-ignored). Runs on Debian's `chromium`, driven
by Playwright through `executable_path`; no browser is downloaded.
"""

from __future__ import annotations

import base64
import re
import time
from typing import Any

import pytest
import requests
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page

from tests.e2e.conftest import call
from tests.e2e.local_stack import REPOSITORY_ROOT, RunningLocalStack

pytestmark = pytest.mark.e2e

ARTIFACTS = REPOSITORY_ROOT / "test-artifacts"
BRAND = "#0B6E4F"
# A 120x40 PNG logo in the brand colour.
LOGO = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAHgAAAAoCAIAAAC6iKlyAAAAd0lEQVR4nO3QMRHAIADAQGCtOJzgf6yKhqH/CnKZz9mD763bAX9hdMToiNERoyNGR4yOGB0xOmJ0xOiI0RGjI0ZHjI4YHTE6YnTE6IjREaMjRkeMjhgdMTpidMToiNERoyNGR4yOGB0xOmJ0xOiI0RGjI0ZHjI68Gy8BGPOtH08AAAAASUVORK5CYII="
)


def sent_invoice(stack: RunningLocalStack) -> tuple[dict[str, Any], dict[str, Any]]:
    """An organisation with branding and bank details, and an invoice sent to its customer."""
    org = call(
        stack,
        "POST",
        "/v1/organisations",
        {
            "name": "Acme Ltd",
            "default_currency": "EUR",
            "email": "billing@acme.test",
            "branding": {"brand_colour": BRAND},
            "payment_methods": {
                "bank_transfer": {
                    "account_name": "Acme Ltd",
                    "iban": "FR1420041010050500013M02606",
                    "bic": "BNPAFRPP",
                    "instructions": "Quote the invoice number.",
                }
            },
        },
        201,
    )
    logo = requests.put(
        stack.url(f"/v1/organisations/{org['id']}/logo"),
        data=LOGO,
        headers={**stack.auth(), "Content-Type": "image/png"},
        timeout=30,
    )
    assert logo.status_code == 200, logo.text
    base = f"/v1/organisations/{org['id']}"
    customer = call(
        stack,
        "POST",
        f"{base}/customers",
        {"name": "Łódź Müller GmbH", "email": "ap@lodz.test", "tax_rate": "19"},
        201,
    )
    draft = call(
        stack,
        "POST",
        f"{base}/invoices",
        {
            "customer_id": customer["id"],
            "line_items": [{"description": "Consulting", "quantity": "10", "unit_amount": 12345}],
        },
        201,
    )
    invoice = call(stack, "POST", f"{base}/invoices/{draft['id']}/send")
    return org, invoice


def the_email_for(stack: RunningLocalStack, number: str) -> dict[str, Any]:
    for _ in range(100):
        emails = requests.get(stack.url("/_dev/outbox"), timeout=10).json()
        found = [email for email in emails if number in email["subject"]]
        if found:
            return found[-1]
        time.sleep(0.2)
    raise AssertionError(f"no email for {number} in the outbox")


def test_the_emailed_link_opens_a_branded_page_a_customer_can_act_on(
    stack: RunningLocalStack, browser: Browser
) -> None:
    _, invoice = sent_invoice(stack)
    email = the_email_for(stack, invoice["number"])
    link = re.search(r"https?://[^\s\"'<>]+/i/[A-Za-z0-9_\-]+", email["html"])
    assert link, email["html"]
    assert email["attachments"][0]["content_type"] == "application/pdf"

    page: Page = browser.new_page(viewport={"width": 1200, "height": 1400})
    response = page.goto(link.group(0))
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "hosted-page.png"), full_page=True)

    assert response is not None
    assert response.status == 200
    text = page.inner_text("body")
    assert invoice["number"] in text
    assert "€1,469.06" in text  # 10 x 123.45 + 19% VAT, as the customer reads it
    assert "Łódź Müller GmbH" in text
    assert "FR14" in text.replace(" ", "")
    assert "Pay by card" not in text  # no card provider connected
    logo_width = page.eval_on_selector("img", "img => img.naturalWidth")
    assert logo_width > 0, "the logo did not load"
    colours = page.evaluate(
        "() => Array.from(document.querySelectorAll('*')).flatMap(e => [getComputedStyle(e).backgroundColor, "
        "getComputedStyle(e).borderTopColor, getComputedStyle(e).color])"
    )
    assert "rgb(11, 110, 79)" in colours, "the brand colour is not used"
    pdf = page.request.get(f"{link.group(0)}/pdf")
    assert pdf.status == 200
    assert pdf.body().startswith(b"%PDF")


def test_the_page_reads_well_on_a_phone(stack: RunningLocalStack, browser: Browser) -> None:
    _, invoice = sent_invoice(stack)
    page = browser.new_page(viewport={"width": 390, "height": 844})

    page.goto(invoice["hosted_url"])
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "hosted-page-phone.png"), full_page=True)

    overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1, "the page scrolls sideways on a phone"
    assert invoice["number"] in page.inner_text("body")


def test_an_unknown_link_is_a_friendly_404(stack: RunningLocalStack, browser: Browser) -> None:
    page = browser.new_page()

    response = page.goto(stack.url("/i/" + "A" * 43))

    assert response is not None
    assert response.status == 404
    assert "not valid" in page.inner_text("body").lower()


def test_a_credit_note_reaches_the_customer_by_email_and_on_the_invoices_page(
    stack: RunningLocalStack, browser: Browser
) -> None:
    # Given an invoice sent to the customer
    org, invoice = sent_invoice(stack)
    base = f"/v1/organisations/{org['id']}"
    [line] = invoice["line_items"]

    # When the business credits two of its ten hours
    note = call(
        stack,
        "POST",
        f"{base}/invoices/{invoice['id']}/credit_notes",
        {"lines": [{"invoice_line_id": line["id"], "quantity": "2"}], "reason": "order_change"},
        201,
    )

    # Then the customer is emailed the credit note with its PDF
    email = the_email_for(stack, note["number"])
    assert [a["content_type"] for a in email["attachments"]] == ["application/pdf"]
    # And the invoice's page lists it, with its PDF, and reads well (axe: nothing serious)
    page: Page = browser.new_page(viewport={"width": 1200, "height": 1400})
    response = page.goto(invoice["hosted_url"])
    assert response is not None
    assert response.status == 200
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "hosted-page-credit-note.png"), full_page=True)
    listed = page.inner_text("#credit-notes-title >> xpath=..")
    assert note["number"] in listed
    assert "€293.81" in listed  # 2 x 123.45 = 246.90, + 19% VAT (46.91)
    pdf = page.request.get(page.get_attribute(f"a[href*='{note['id']}']", "href") or "")
    assert pdf.status == 200
    assert pdf.body().startswith(b"%PDF")
    serious = [
        f"{violation['id']} {[node['target'] for node in violation['nodes']][:3]}"
        for violation in Axe().run(page).response["violations"]
        if violation["impact"] in ("serious", "critical")
    ]
    assert serious == []
    # And what it still owes is lowered by the credit
    credited = call(stack, "GET", f"{base}/invoices/{invoice['id']}")
    assert credited["amount_due"] == invoice["amount_due"] - 29381
