"""The dashboard as a person uses it: headless Chromium on `make run`'s stack, signed in as the dev
user the banner prints, with axe-core run on every page it visits.

The walk: sign in; create an organisation and upload its logo; add a customer with contacts
through the "New customer" dialog; add two charges and draft an invoice from one of them;
finalize & lock; record a payment that pays it; see the overview's figures change; read the same
invoice through the API; sign out, and the pages send the browser to sign-in. Screenshots of the
overview, the customer profile and the invoice are written to `docs/` (and everything it saw
to `test-artifacts/dashboard/`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import DEV_API_KEY
from tests.e2e.local_stack import REPOSITORY_ROOT, RunningLocalStack, printed, start_local_stack

pytestmark = pytest.mark.e2e

ARTIFACTS = REPOSITORY_ROOT / "test-artifacts" / "dashboard"
DOCS = REPOSITORY_ROOT / "docs"
# axe-core's impacts that fail the test; "minor" and "moderate" ones are reported only.
BLOCKING = {"serious", "critical"}
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
    return [label for index, label in enumerate(controls) if str(index) not in reached | radios]


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    opened.on(
        "console",
        lambda message: errors.append(message.text) if message.type == "error" else None,
    )
    yield opened
    context.close()
    assert not errors, f"the browser reported errors (a CSP refusal is one): {errors}"


def sign_in(page: Page, stack: RunningLocalStack, email: str, password: str) -> None:
    page.goto(stack.url("/dashboard/"))
    expect(page).to_have_url(re.compile(r"/dashboard/sign-in$"))
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Organisations")).to_be_visible()


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

    # Branding: a logo and the brand colour, in Settings.
    page.get_by_role("navigation", name="Sections").get_by_role("link", name="Settings").click()
    page.get_by_label(re.compile(r"^Upload a logo")).set_input_files(str(LOGO))
    page.get_by_role("button", name="Upload logo").click()
    expect(page.get_by_role("status")).to_be_visible()
    expect(page.get_by_role("img", name=re.compile("logo", re.IGNORECASE)).first).to_be_visible()
    page.get_by_label(re.compile(r"^Brand colour")).fill("#0b6e4f")
    page.get_by_role("button", name="Save colour").click()
    expect(page.get_by_role("status")).to_be_visible()
    visits.check(page, "settings")

    # Sign out: every page sends the browser to sign-in.
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/dashboard/sign-in$"))
    page.goto(stack.url(f"/dashboard/organisations/{organisation_id}"))
    expect(page).to_have_url(re.compile(r"/dashboard/sign-in$"))

    assert api(stack, f"/v1/organisations/{organisation_id}")["name"] == "Acme Studio"
    assert not visits.violations, "\n".join(visits.violations)
