"""A customer's portal journey in headless Chromium, through the local stack: ask for a link, read
it from the outbox, sign in, see what is owed, pay an invoice in the sandbox, download documents,
save cards through the sandbox's setup page (make one the default, remove the other), sign out;
with the keyboard and axe along the way. Works without script (the pages hold none).
"""

from __future__ import annotations

import time
from typing import Any

import pytest
import requests
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Locator, Page

from tests.e2e.conftest import call
from tests.e2e.local_stack import REPOSITORY_ROOT, RunningLocalStack

pytestmark = pytest.mark.e2e

ARTIFACTS = REPOSITORY_ROOT / "test-artifacts"


def five_invoices(stack: RunningLocalStack) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A branded organisation with the sandbox provider, and five invoices sent to one customer."""
    org = call(
        stack,
        "POST",
        "/v1/organisations",
        {
            "name": "Portal Brand Ltd",
            "default_currency": "EUR",
            "branding": {"brand_colour": "#0B6E4F"},
            "payment_methods": {
                "bank_transfer": {"account_name": "Portal Brand Ltd", "iban": "DE89370400440532013000"}
            },
        },
        201,
    )
    base = f"/v1/organisations/{org['id']}"
    call(stack, "PUT", f"{base}/payment_provider", {"provider": "sandbox"})
    customer = call(
        stack, "POST", f"{base}/customers", {"name": "Globex GmbH", "email": "portal@globex.test"}, 201
    )
    invoices = []
    for amount in (10000, 20000, 30000, 40000, 50000):
        draft = call(
            stack,
            "POST",
            f"{base}/invoices",
            {
                "customer_id": customer["id"],
                "line_items": [{"description": "Work", "quantity": "1", "unit_amount": amount}],
            },
            201,
        )
        invoices.append(call(stack, "POST", f"{base}/invoices/{draft['id']}/send"))
    return org, invoices


def sign_in_link(stack: RunningLocalStack, org_id: str, seconds: float = 45.0) -> str:
    """The link of the newest sign-in email to the customer, from the local outbox."""
    deadline = time.monotonic() + seconds
    while True:
        emails = requests.get(stack.url("/_dev/outbox"), timeout=10).json()
        found = [
            e for e in emails if e["to"] == ["portal@globex.test"] and f"/p/{org_id}/sign_in/" in e["text"]
        ]
        if found:
            text = found[-1]["text"]
            start = text.index("http")
            return text[start:].split()[0]
        assert time.monotonic() < deadline, "no sign-in email arrived"
        time.sleep(0.3)


def press(page: Page, control: Locator) -> None:
    """Reach a link or button as a keyboard user does (focus) and press Enter on it."""
    control.focus()
    page.keyboard.press("Enter")


def save_a_card(page: Page, stack: RunningLocalStack, org_id: str, cards_before: int) -> None:
    """From the portal's cards page: "Add a card", type 4242 4242 4242 4242 on the sandbox's setup page,
    come back and wait for the card (it arrives by the provider's webhook) to be listed."""
    press(page, page.get_by_role("button", name="Add a card"))
    page.wait_for_url("**/_dev/sandbox/checkout/**")
    assert "Save a card" in page.inner_text("body")
    page.get_by_label("Card number").focus()
    page.keyboard.type("4242 4242 4242 4242")
    page.keyboard.press("Tab")
    page.keyboard.type("12/34")
    page.keyboard.press("Tab")
    page.keyboard.type("123")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/p/{org_id}/cards?card_setup=success*")
    deadline = time.monotonic() + 45
    while page.inner_text("body").count("Visa •••• 4242") < cards_before and time.monotonic() < deadline:
        time.sleep(0.5)
        page.goto(stack.url(f"/p/{org_id}/cards"))
    assert page.inner_text("body").count("Visa •••• 4242") == cards_before


def no_serious_axe_violations(page: Page) -> list[str]:
    return [
        f"{violation['id']} {[node['target'] for node in violation['nodes']][:3]}"
        for violation in Axe().run(page).response["violations"]
        if violation["impact"] in ("serious", "critical")
    ]


def test_a_customer_signs_in_by_email_sees_what_it_owes_pays_downloads_and_signs_out(
    stack: RunningLocalStack, browser: Browser
) -> None:
    org, invoices = five_invoices(stack)
    org_id = org["id"]
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()

    # Asks for a link with the keyboard only
    page.goto(stack.url(f"/p/{org_id}"))
    page.keyboard.press("Tab")  # the skip link
    page.keyboard.press("Tab")
    page.keyboard.type("portal@globex.test")
    page.keyboard.press("Enter")
    page.wait_for_load_state()
    assert "a sign-in link is on its way" in page.inner_text("body")

    # Opens the emailed link and signs in
    link = sign_in_link(stack, org_id)
    page.goto(link)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"**/p/{org_id}/account")
    body = page.inner_text("body")
    for invoice in invoices:
        assert invoice["number"] in body
    assert "€1,500.00" in body  # 100 + 200 + 300 + 400 + 500
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "portal-account.png"), full_page=True)

    # Downloads every document
    for invoice in invoices:
        pdf = page.request.get(stack.url(f"/p/{org_id}/invoices/{invoice['id']}/pdf"))
        assert pdf.status == 200
        assert pdf.body().startswith(b"%PDF")

    # Pays the first invoice in the sandbox
    first = invoices[0]
    page.get_by_role("button", name=f"Pay {first['number']} by card").click()
    page.wait_for_url("**/_dev/sandbox/checkout/**")
    page.get_by_label("Card number").fill("4242 4242 4242 4242")
    page.get_by_label("Expiry (MM/YY)").fill("12/34")
    page.get_by_label("CVC").fill("123")
    page.get_by_role("button", name="Pay €100.00").click()
    page.wait_for_url("**?checkout=*")
    deadline = time.monotonic() + 45
    while True:
        page.goto(stack.url(f"/p/{org_id}/account"))
        if "€1,400.00" in page.inner_text("body") or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert "€1,400.00" in page.inner_text("body")

    # Saves two cards through the sandbox's setup page, with the keyboard only
    press(page, page.get_by_role("link", name="Your saved cards"))
    page.wait_for_url(f"**/p/{org_id}/cards")
    assert "No saved cards." in page.inner_text("body")
    for saved in (1, 2):
        save_a_card(page, stack, org_id, saved)
    page.screenshot(path=str(ARTIFACTS / "portal-cards.png"), full_page=True)

    # Makes the second card the default, then removes the first
    assert page.get_by_text("Default", exact=True).count() == 1
    # (The page posts and comes back to the same address: wait for that navigation itself.)
    with page.expect_navigation(url=f"**/p/{org_id}/cards"):
        press(page, page.get_by_role("button", name="Make default •••• 4242"))
    assert page.get_by_role("button", name="Make default •••• 4242").count() == 1  # the first, now
    with page.expect_navigation(url=f"**/p/{org_id}/cards"):
        press(page, page.get_by_role("button", name="Remove •••• 4242").first)
    body = page.inner_text("body")
    assert body.count("Visa •••• 4242") == 1
    assert "Default" in body
    assert page.get_by_role("button", name="Make default •••• 4242").count() == 0

    # Another customer's invoice is not found from this session
    other = call(
        stack,
        "POST",
        f"/v1/organisations/{org_id}/customers",
        {"name": "Initech", "email": "ap@initech.test"},
        201,
    )
    draft = call(
        stack,
        "POST",
        f"/v1/organisations/{org_id}/invoices",
        {
            "customer_id": other["id"],
            "line_items": [{"description": "Work", "quantity": "1", "unit_amount": 100}],
        },
        201,
    )
    theirs = call(stack, "POST", f"/v1/organisations/{org_id}/invoices/{draft['id']}/send")
    assert page.request.get(stack.url(f"/p/{org_id}/invoices/{theirs['id']}/pdf")).status == 404

    # Signs out: the account page sends back to sign-in
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"**/p/{org_id}")
    page.goto(stack.url(f"/p/{org_id}/account"))
    assert page.url.endswith(f"/p/{org_id}")
    context.close()


def test_the_portal_pages_read_well_for_assistive_technology(
    stack: RunningLocalStack, browser: Browser
) -> None:
    org, _ = five_invoices(stack)
    link = call(
        stack,
        "POST",
        f"/v1/organisations/{org['id']}/customers",
        {"name": "Axe GmbH", "email": "axe@globex.test"},
        201,
    )
    session = call(
        stack, "POST", f"/v1/organisations/{org['id']}/customers/{link['id']}/portal_sessions", None, 201
    )
    page = browser.new_page()

    page.goto(stack.url(f"/p/{org['id']}"))
    assert no_serious_axe_violations(page) == []
    page.goto(session["url"])
    assert no_serious_axe_violations(page) == []
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"**/p/{org['id']}/account")
    assert no_serious_axe_violations(page) == []
    page.goto(stack.url(f"/p/{org['id']}/details"))
    assert no_serious_axe_violations(page) == []
    page.goto(stack.url(f"/p/{org['id']}/cards"))
    assert no_serious_axe_violations(page) == []
