"""The dashboard's customer import: upload (a check first), the problems per row, the mapping
pre-filled with suggestions, import for real, the progress page, and markup kept inert."""

from __future__ import annotations

import html

import pytest

from tests.integration.billing_queue import BillingQueue
from tests.integration.dashboard_browser import account_with_user, signed_in, text_of
from tests.integration.test_dashboard_settings import post_multipart

pytestmark = pytest.mark.usefixtures("user_pool")

CSV = (
    b"Company,E-mail,City,Loyalty\n"
    b"<script>alert(1)</script>,ap@evil.test,Bonn,gold\n"
    b"Initech,not-an-email,Austin,silver\n"
)


def email_message() -> str:
    """What the API answers for the file's bad email."""
    from remit.domain.changes import build
    from remit.domain.customer import NewCustomer
    from remit.domain.errors import InvalidInput

    with pytest.raises(InvalidInput) as refused:
        build(NewCustomer, {"name": "Initech", "email": "not-an-email"})
    return refused.value.problems[0].message


def customers(account_id: str, organisation_id: str) -> list[str]:
    from remit.bootstrap import services

    return [c.name for c in services().customers.list(account_id, organisation_id, 100, None, None).items]


def test_a_file_is_checked_first_then_imported_with_the_mapping_chosen() -> None:
    # Given a signed-in owner
    account_id, organisation_id = account_with_user("imports@ada.test")
    browser = signed_in("imports@ada.test")
    base = f"/dashboard/organisations/{organisation_id}/imports"

    # When they upload a file: it is checked (a dry run), nothing imported yet
    uploaded = post_multipart(
        browser, base, {"csrf_token": browser.csrf}, {"file": ("c.csv", "text/csv", CSV)}
    )
    assert uploaded["statusCode"] == 303, uploaded["body"]
    check_page = uploaded["headers"]["Location"]
    BillingQueue().drain()
    page = browser.request("GET", check_page)["body"]

    # Then the problems are listed with the API's message, markup shown as text, suggestions selected
    assert f"3 email {email_message()}" in text_of(html.unescape(page))
    assert "<script>alert(1)</script>" not in page
    assert '<option value="address.city" selected>' in page
    assert '<option value="" selected>— not imported —</option>' in page  # "Loyalty": no field of that name
    assert customers(account_id, organisation_id) == []

    # When they keep Loyalty as metadata and import
    fields = {"map.0": "name", "map.1": "email", "map.2": "address.city", "map.3": "metadata.Loyalty"}
    started = browser.post(check_page.removeprefix("/prod"), {**fields, "action": "import"})
    assert started["statusCode"] == 303, started["body"]
    BillingQueue().drain()
    report = browser.request("GET", started["headers"]["Location"])["body"]

    # Then the good row is imported, the bad one reported, and the name stays inert everywhere
    assert customers(account_id, organisation_id) == ["<script>alert(1)</script>"]
    assert "completed" in report
    listed = browser.request("GET", f"/dashboard/organisations/{organisation_id}/customers")["body"]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in listed
    assert "<script>alert(1)</script>" not in listed


def test_an_unreadable_file_is_refused_on_the_upload_page_and_nothing_is_started() -> None:
    _, organisation_id = account_with_user("unreadable@ada.test")
    browser = signed_in("unreadable@ada.test")
    base = f"/dashboard/organisations/{organisation_id}/imports"

    refused = post_multipart(
        browser, base, {"csrf_token": browser.csrf}, {"file": ("c.xlsx", "application/zip", b"PK\x03\x04zip")}
    )

    assert refused["statusCode"] == 422
    assert "it is a spreadsheet, not CSV" in refused["body"]
    assert "No import yet." in refused["body"]


def test_an_import_is_refused_without_the_csrf_token() -> None:
    _, organisation_id = account_with_user("csrf@ada.test")
    browser = signed_in("csrf@ada.test")

    refused = post_multipart(
        browser,
        f"/dashboard/organisations/{organisation_id}/imports",
        {},
        {"file": ("c.csv", "text/csv", CSV)},
    )

    assert refused["statusCode"] == 403


def test_a_problem_quoting_a_hostile_cell_is_shown_as_text() -> None:
    _, organisation_id = account_with_user("hostile@ada.test")
    browser = signed_in("hostile@ada.test")
    content = b"Name,Email,Country\nGlobex,ap@globex.test,<img src=x onerror=alert(1)>\n"

    uploaded = post_multipart(
        browser,
        f"/dashboard/organisations/{organisation_id}/imports",
        {"csrf_token": browser.csrf},
        {"file": ("c.csv", "text/csv", content)},
    )
    BillingQueue().drain()
    page = browser.request("GET", uploaded["headers"]["Location"])["body"]

    assert "is not an ISO 3166-1 alpha-2 country code" in html.unescape(page)
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "<img src=x" not in page
