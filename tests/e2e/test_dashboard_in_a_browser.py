"""The dashboard as a person uses it: headless Chromium on `make run`'s stack, signed in as the dev
user the banner prints, with axe-core run on every page it visits.

The walk: sign in; create an organisation and upload its logo; add a customer with contacts
through the "New customer" dialog; add two charges and draft an invoice from one of them;
finalize & lock; record a payment that pays it; see the overview's figures change; issue a credit
note that refunds part of it (the form, its preview, the confirmation) and see it on its own page,
the invoice's and the list of credit notes; read the same invoice through the API; sign out, and
the pages send the browser to sign-in. Screenshots of the overview, the customer profile and the
invoice are written to `docs/` (and everything it saw to `test-artifacts/dashboard/`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Locator, Page, expect

from tests.e2e.conftest import DEV_API_KEY
from tests.e2e.local_stack import REPOSITORY_ROOT, RunningLocalStack, printed, start_local_stack

pytestmark = pytest.mark.e2e

ARTIFACTS = REPOSITORY_ROOT / "test-artifacts" / "dashboard"
DOCS = REPOSITORY_ROOT / "docs"
# axe-core's impacts that fail the test; "minor" and "moderate" ones are reported only.
BLOCKING = {"serious", "critical"}
SETTLED = "() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling, .htmx-added')"
# An invoice id no one has: its page is the not-found page, answered 404.
MISSING = "inv_missing"
LOGO = REPOSITORY_ROOT / "tests" / "e2e" / "logo.png"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningLocalStack]:
    running = start_local_stack(tmp_path_factory.mktemp("dashboard-stack") / "data", DEV_API_KEY)
    yield running
    assert running.interrupt() == 0, running.log()


@pytest.fixture(scope="module")
def dev_user(stack: RunningLocalStack) -> tuple[str, str]:
    """The dev user's email and password, as `make run` prints them."""
    line = printed(stack, r"Dev user\s+(\S+ / \S+)$", 5)
    email, _, password = line.partition(" / ")
    return email, password


class Visits:
    """Every page the walk sees: axe-core on each, its violations gathered by impact."""

    def __init__(self) -> None:
        self.axe = Axe()
        self.violations: list[str] = []
        self.pages: list[str] = []

    def check(self, page: Page, name: str) -> None:
        page.wait_for_load_state("networkidle")
        # htmx swaps a boosted page in after its request: check the page once it has settled.
        page.wait_for_function(SETTLED)
        results = self.axe.run(page)
        self.pages.append(f"{name}: {page.url}")
        for violation in results.response["violations"]:
            if violation["impact"] in BLOCKING:
                targets = [node["target"] for node in violation["nodes"]][:3]
                self.violations.append(
                    f"{name} ({page.url}): {violation['id']} {violation['impact']} {targets}"
                )
        unreachable = keyboard_unreachable(page)
        if unreachable:
            self.violations.append(f"{name} ({page.url}): not reachable with Tab: {unreachable}")
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{len(self.pages):02d}-{name}.png"), full_page=True)


# Marks every visible control of the page with its index and answers how many there are.
_MARK_CONTROLS = """() => {
  const selector = 'a[href], button, input:not([type=hidden]), select, textarea, summary';
  const controls = [...document.querySelectorAll(selector)]
    .filter(element => element.checkVisibility() && !element.disabled);
  controls.forEach((element, index) => element.dataset.keyboard = String(index));
  const label = element => (element.textContent || element.name || element.id || element.tagName);
  return controls.map(element => label(element).trim().slice(0, 40));
}"""
_RADIOS = (
    "() => [...document.querySelectorAll('input[type=radio][data-keyboard]')].map(e => e.dataset.keyboard)"
)


def keyboard_unreachable(page: Page) -> list[str]:
    """The page's visible controls that pressing Tab from the top never focuses."""
    controls: list[str] = page.evaluate(_MARK_CONTROLS)
    reached: set[str] = set()
    page.evaluate("() => { document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0); }")
    for _ in range(len(controls) + 10):
        page.keyboard.press("Tab")
        focused = page.evaluate("() => document.activeElement && document.activeElement.dataset.keyboard")
        if focused is not None:
            reached.add(focused)
        if len(reached) == len(controls):
            break
    # Radio buttons of one group take a single Tab stop; arrows move between them.
    radios = set(page.evaluate(_RADIOS))
    page.evaluate("() => { document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0); }")
    return [label for index, label in enumerate(controls) if str(index) not in reached | radios]


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    opened.on(
        "console",
        lambda message: (
            errors.append(f"{message.text} ({message.location.get('url')})")
            if message.type == "error" and not str(message.location.get("url", "")).endswith(MISSING)
            else None
        ),
    )
    yield opened
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    opened.screenshot(path=str(ARTIFACTS / "last.png"), full_page=True)  # where a failure stopped
    context.close()
    assert not errors, f"the browser reported errors (a CSP refusal is one): {errors}"


def sign_in(page: Page, stack: RunningLocalStack, email: str, password: str) -> None:
    page.goto(stack.url("/dashboard/"))
    expect(page).to_have_url(re.compile(r"/dashboard/sign-in$"))
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Organisations")).to_be_visible()


def figure(page: Page, name: str) -> Locator:
    """One of the overview's figures, by its name."""
    return page.locator(".figure", has=page.get_by_text(name, exact=True))


def confirm(page: Page, visits: Visits, name: str) -> None:
    """Answer a confirmation page with its own button (it says what the change will do)."""
    form = page.locator("form:has(input[name=confirmed])")
    expect(form).to_be_visible()
    visits.check(page, name)
    form.locator("button[type=submit]").click()


def api(stack: RunningLocalStack, path: str) -> Any:
    response = requests.get(stack.url(path), headers=stack.auth(), timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


def test_a_person_sets_up_bills_and_is_paid_in_the_dashboard(
    stack: RunningLocalStack, dev_user: tuple[str, str], page: Page
) -> None:
    visits = Visits()
    page.goto(stack.url("/dashboard/sign-in"))
    visits.check(page, "sign-in")
    sign_in(page, stack, *dev_user)
    visits.check(page, "home")

    # An organisation, from the home page's form.
    page.get_by_label(re.compile(r"^Name")).fill("Acme Studio")
    page.get_by_label(re.compile(r"^Default currency")).fill("EUR")
    page.get_by_role("button", name="Create organisation").click()
    expect(page.get_by_role("status")).to_contain_text("Acme Studio created.")
    organisation_id = re.search(r"/organisations/([^/?#]+)", page.url).group(1)  # type: ignore[union-attr]
    visits.check(page, "overview-empty")
    expect(figure(page, "Outstanding")).to_contain_text("€0.00")
    expect(figure(page, "Paid in the last 30 days")).to_contain_text("€0.00")

    # Branding: a logo and the brand colour, in Settings.
    page.get_by_role("navigation", name="Sections").get_by_role("link", name="Settings").click()
    page.get_by_label(re.compile(r"^Upload a logo")).set_input_files(str(LOGO))
    page.get_by_role("button", name="Upload logo").click()
    expect(page.get_by_role("status")).to_contain_text(re.compile("logo", re.IGNORECASE))
    expect(page.get_by_role("img", name=re.compile("logo", re.IGNORECASE)).first).to_be_visible()
    page.get_by_label(re.compile(r"^Brand colour")).fill("#0b6e4f")
    page.get_by_role("button", name="Save colour").click()
    expect(page.get_by_role("status")).to_contain_text("Brand colour saved")
    visits.check(page, "settings")

    # A customer with a contact, through the "New customer" dialog.
    sections = page.get_by_role("navigation", name="Sections")
    sections.get_by_role("link", name="Customers").click()
    page.get_by_role("link", name="New customer").click()
    dialog = page.locator("dialog[open]")
    expect(dialog).to_be_visible()
    dialog.locator("#f-name").fill("Globex GmbH")
    dialog.locator("#f-email").fill("ap@globex.test")
    dialog.locator("#f-contacts-0-name").fill("Grete Ops")
    dialog.locator("#f-contacts-0-email").fill("grete@globex.test")
    dialog.get_by_role("checkbox", name="billing").first.check()
    dialog.get_by_role("button", name="Create customer").click()
    expect(page.get_by_role("heading", level=1, name="Globex GmbH")).to_be_visible()
    customer_url = page.url
    visits.check(page, "customer-new")

    # Two charges, and a draft invoice from one of them.
    page.locator("main").get_by_role("link", name="Billing", exact=True).click()
    expect(page.get_by_role("heading", level=1, name="Billing Globex GmbH")).to_be_visible()
    for description, amount in (("Design sprint", "1200.00"), ("Hosting, December", "49.90")):
        page.locator("#f-charge-description").fill(description)
        page.locator("#f-charge-unit_amount").fill(amount)
        page.get_by_role("button", name="Add charge").click()
        # The new page, not the one before it (which also said what changed), lists the charge.
        expect(page.get_by_role("checkbox", name=re.compile(re.escape(description)))).to_be_visible()
    visits.check(page, "billing-customer")
    page.get_by_role("checkbox", name=re.compile("Design sprint")).check()
    page.get_by_role("button", name="Draft an invoice from selected").click()
    confirm(page, visits, "confirm-draft")
    expect(page.get_by_role("status")).to_be_visible()
    invoice_url = page.url
    invoice_id = invoice_url.rstrip("/").rsplit("/", 1)[1]
    expect(page.get_by_role("cell", name="Design sprint")).to_be_visible()
    expect(page.get_by_role("cell", name="Hosting, December")).to_have_count(0)

    # Finalize & lock, then the payment that pays it.
    page.get_by_role("button", name="Finalize & lock").click()
    confirm(page, visits, "confirm-finalize")
    expect(page.get_by_role("status")).to_contain_text("ACME")
    sections.get_by_role("link", name="Overview").click()
    expect(figure(page, "Outstanding")).to_contain_text("€1,200.00")
    page.goto(invoice_url)
    page.get_by_role("link", name="Mark as paid").click()
    visits.check(page, "payment")
    page.get_by_role("button", name="Record payment").click()
    confirm(page, visits, "confirm-payment")
    expect(page.get_by_role("status")).to_be_visible()
    expect(page.locator(".status").first).to_have_text("Paid")
    visits.check(page, "invoice-paid")
    page.screenshot(path=str(DOCS / "dashboard-invoice.png"), full_page=True)

    # The overview shows the money in.
    sections.get_by_role("link", name="Overview").click()
    expect(figure(page, "Outstanding")).to_contain_text("€0.00")
    expect(figure(page, "Paid in the last 30 days")).to_contain_text("€1,200.00")
    expect(page.get_by_role("img", name=re.compile("Revenue by month in EUR"))).to_be_visible()
    visits.check(page, "overview")
    page.screenshot(path=str(DOCS / "dashboard-overview.png"), full_page=True)
    page.goto(customer_url)
    visits.check(page, "customer")
    page.screenshot(path=str(DOCS / "dashboard-customer.png"), full_page=True)

    # A credit note on the paid invoice: 200.00 of the design sprint, paid back on the payment.
    page.goto(invoice_url)
    page.get_by_role("link", name="Issue credit note").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Issue a credit note on invoice ACME-00001")
    expect(page.locator("#split-explained")).to_contain_text("What it credits above €0.00 is left to split")
    visits.check(page, "credit-note-new")
    page.get_by_label("Or an amount before tax").fill("200.00")
    page.get_by_label("Reason", exact=True).select_option("order_change")
    page.get_by_label(re.compile(r"^Refund")).fill("200.00")
    page.get_by_role("button", name="Preview credit note").click()
    expect(page.get_by_text("Preview: nothing is issued yet")).to_be_visible()
    expect(page.locator("main")).to_contain_text("€1,200.00 €200.00")  # the payment, and its refund
    visits.check(page, "credit-note-preview")
    page.get_by_role("button", name="Issue credit note").click()
    expect(page.get_by_role("status")).to_contain_text("Credit note ACME-CN-00001 of €200.00 issued")
    expect(page.get_by_role("heading", level=1, name="Credit note ACME-CN-00001")).to_be_visible()
    expect(page.locator("main")).to_contain_text("Succeeded")
    visits.check(page, "credit-note")
    page.get_by_role("link", name="ACME-00001", exact=True).click()
    expect(page.get_by_role("link", name="ACME-CN-00001", exact=True)).to_be_visible()
    expect(page.locator("main")).to_contain_text("partially refunded")
    visits.check(page, "invoice-credited")
    sections.get_by_role("link", name="Credit notes").click()
    visits.check(page, "credit-notes")
    page.get_by_role("link", name="ACME-CN-00001", exact=True).click()
    expect(page.get_by_role("heading", level=1, name="Credit note ACME-CN-00001")).to_be_visible()
    pdf = page.get_by_role("link", name="Download the PDF (ACME-CN-00001.pdf)")
    downloaded = page.context.request.get(stack.url(pdf.get_attribute("href") or ""))
    assert downloaded.status == 200
    assert downloaded.headers["content-type"] == "application/pdf"
    assert downloaded.body().startswith(b"%PDF")

    # Every other page, read as a person would: axe and the keyboard on each.
    customer_id = customer_url.rstrip("/").rsplit("/", 1)[1]
    base = f"/dashboard/organisations/{organisation_id}"
    for name, path in (
        ("customers", f"{base}/customers"),
        ("customer-new-page", f"{base}/customers/new"),
        ("customer-edit", f"{base}/customers/{customer_id}/edit"),
        ("billing", f"{base}/billing"),
        ("invoices", f"{base}/invoices"),
        ("invoices-paid", f"{base}/invoices?status=paid"),
        ("invoice-new", f"{base}/invoices/new?customer_id={customer_id}"),
        ("subscriptions", f"{base}/subscriptions"),
        ("subscription-new", f"{base}/subscriptions/new"),
        ("templates", f"{base}/templates"),
        ("template-new", f"{base}/templates/new"),
        ("bulk-billing", f"{base}/bulk-billing"),
        ("bulk-billing-runs", f"{base}/bulk-billing/runs"),
        ("account-users", "/dashboard/account/users"),
        ("account-api-keys", "/dashboard/account/api-keys"),
        ("account-security", "/dashboard/account/security"),
        ("not-found", f"{base}/invoices/{MISSING}"),  # its 404 is the page's own answer
    ):
        page.goto(stack.url(path))
        visits.check(page, name)

    # The API sees the same invoice, at once.
    invoice = api(stack, f"/v1/organisations/{organisation_id}/invoices/{invoice_id}")
    assert invoice["status"] == "paid"
    assert invoice["number"] == "ACME-00001"
    assert invoice["total"] == 120000
    assert invoice["amount_paid"] == 120000
    assert invoice["credited_amount"] == 20000
    (payment,) = api(stack, f"/v1/organisations/{organisation_id}/payments?invoice_id={invoice_id}")["data"]
    assert (payment["amount_refunded"], payment["status"]) == (20000, "partially_refunded")

    # Sign out: every page sends the browser to sign-in.
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/dashboard/sign-in$"))
    page.goto(stack.url(f"/dashboard/organisations/{organisation_id}"))
    expect(page).to_have_url(re.compile(r"/dashboard/sign-in$"))

    assert api(stack, f"/v1/organisations/{organisation_id}")["name"] == "Acme Studio"
    assert not visits.violations, "\n".join(visits.violations)
