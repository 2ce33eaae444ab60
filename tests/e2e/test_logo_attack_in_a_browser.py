"""An uploaded logo attacks a signed-in dashboard user, in headless Chromium on the local stack.

The attack of the SVG logo: an `<a>` whose `href` a `<set>` animation turns into a `javascript:`
URL. Opened from the platform's own host by a person signed in to the dashboard, one click would run
the uploader's script with that person's session: it reads the CSRF token of the API-keys page and
creates a key. The test plays the victim: signs in, opens the logo's URL, clicks where the link is,
and checks that nothing ran (the page's title, a marker request, the account's keys).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import requests
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import DEV_API_KEY, call
from tests.e2e.local_stack import RunningLocalStack, printed, start_local_stack

pytestmark = pytest.mark.e2e

MARKER = "/health?logo-script-ran"
STOLEN_KEY = "made-by-the-logo"
# What the uploader's script does with the victim's session: mark that it ran, then read the
# CSRF token of the API-keys page and create a key.
PAYLOAD = (
    "javascript:document.title='pwned';"
    f"fetch('{MARKER}');"
    "fetch('/dashboard/account/api-keys').then(r=>r.text()).then(t=>{"
    'const token=t.match(/name=.csrf_token. value=.([^"]+)/);'
    "const body=new URLSearchParams({name:'" + STOLEN_KEY + "',csrf_token:token[1],confirmed:'yes'});"
    "return fetch('/dashboard/account/api-keys',{method:'POST',body:body});})"
)
MALICIOUS_SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="400" height="200" viewBox="0 0 400 200">'
    "<a>"
    f'<set attributeName="href" to="{PAYLOAD.replace(chr(34), "&quot;")}"/>'
    '<rect width="400" height="200" fill="#0b6e4f"/>'
    '<text x="200" y="110" font-size="40" text-anchor="middle" fill="white">Acme</text>'
    "</a></svg>"
).encode()


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningLocalStack]:
    running = start_local_stack(tmp_path_factory.mktemp("logo-attack-stack") / "data", DEV_API_KEY)
    yield running
    assert running.interrupt() == 0, running.log()


def sign_in(page: Page, stack: RunningLocalStack) -> None:
    email, _, password = printed(stack, r"Dev user\s+(\S+ / \S+)$", 5).partition(" / ")
    page.goto(stack.url("/dashboard/sign-in"))
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Organisations")).to_be_visible()


def keys_page(page: Page, stack: RunningLocalStack) -> str:
    page.goto(stack.url("/dashboard/account/api-keys"))
    return page.content()


def test_a_logo_opened_by_a_signed_in_user_runs_no_script(stack: RunningLocalStack, browser: Browser) -> None:
    # Given a person signed in to the dashboard, and an organisation of theirs whose logo is the attack
    context = browser.new_context(viewport={"width": 1000, "height": 700})
    page = context.new_page()
    sign_in(page, stack)
    assert STOLEN_KEY not in keys_page(page, stack)
    organisation = call(
        stack, "POST", "/v1/organisations", {"name": "Acme Ltd", "default_currency": "EUR"}, 201
    )
    upload = requests.put(
        stack.url(f"/v1/organisations/{organisation['id']}/logo"),
        data=MALICIOUS_SVG,
        headers={**stack.auth(), "Content-Type": "image/svg+xml"},
        timeout=60,
    )
    if upload.status_code == 422:
        # Refused outright: nothing of it is stored, so nothing can be served.
        assert upload.json()["errors"][0]["field"] == "body"
        return
    assert upload.status_code == 200, upload.text
    logo_url = upload.json()["branding"]["logo_url"]
    requests_seen: list[str] = []
    page.on("request", lambda request: requests_seen.append(request.url))
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))

    # When they open the logo's URL (on the platform's own host) and click where the link would be
    opened = page.goto(stack.url(re.sub(r"^https?://[^/]+", "", logo_url)))
    assert opened is not None
    assert opened.status == 200
    page.mouse.click(200, 100)
    page.mouse.click(100, 50)
    page.wait_for_timeout(1500)

    # Then no script ran: the title is untouched, no marker was fetched, and no key was created
    title = page.title()
    assert title != "pwned", "the logo's script ran"
    assert not [url for url in requests_seen if MARKER in url], "the logo's script fetched its marker"
    assert not dialogs
    assert STOLEN_KEY not in keys_page(page, stack), "the logo's script created an API key"
    served = requests.get(stack.url(re.sub(r"^https?://[^/]+", "", logo_url)), timeout=30)
    assert (
        served.headers["Content-Security-Policy"] == "default-src 'none'; style-src 'unsafe-inline'; sandbox"
    )
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    context.close()
