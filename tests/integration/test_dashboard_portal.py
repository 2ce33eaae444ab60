"""The customer portal in the dashboard: turned on and off in Settings, and "Copy portal link" on a
customer's profile, which makes a one-time sign-in link and shows it.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.integration.dashboard_browser import account_with_user, signed_in, text_of
from tests.integration.portal_browser import PortalBrowser

pytestmark = pytest.mark.usefixtures("user_pool")


def follow(browser: Any, response: dict[str, Any]) -> str:
    assert response["statusCode"] == 303, text_of(response["body"])
    return str(browser.request("GET", response["headers"]["Location"].split("#")[0])["body"])


def new_customer(account_id: str, organisation_id: str) -> str:
    from remit.bootstrap import services
    from remit.domain.customer import NewCustomer

    customer = services().customers.create(
        account_id, organisation_id, NewCustomer(name="Globex", email="ap@globex.test")
    )
    return customer.id


def test_the_portal_is_turned_off_and_on_in_settings() -> None:
    from remit.bootstrap import services

    account_id, organisation_id = account_with_user("pia@example.com", "Pia Ltd")
    browser = signed_in("pia@example.com")
    settings = f"/dashboard/organisations/{organisation_id}/settings"
    page = browser.request("GET", settings)["body"]
    assert f'action="{settings}/portal"' in page
    assert f"/p/{organisation_id}" in page

    follow(browser, browser.post(f"{settings}/portal", [("portal.enabled", "false")]))

    assert services().organisations.get(account_id, organisation_id).portal.enabled is False
    assert PortalBrowser().get(f"/p/{organisation_id}").status == 404

    follow(
        browser, browser.post(f"{settings}/portal", [("portal.enabled", "false"), ("portal.enabled", "true")])
    )
    assert services().organisations.get(account_id, organisation_id).portal.enabled is True
    assert PortalBrowser().get(f"/p/{organisation_id}").status == 200


def test_copy_portal_link_shows_a_one_time_link_that_signs_the_customer_in() -> None:
    account_id, organisation_id = account_with_user("ola@example.com", "Ola Ltd")
    customer_id = new_customer(account_id, organisation_id)
    browser = signed_in("ola@example.com")
    profile = f"/dashboard/organisations/{organisation_id}/customers/{customer_id}"
    assert "Copy portal link" in browser.request("GET", profile)["body"]

    response = browser.post(f"{profile}/portal_link")

    assert response["statusCode"] == 200
    [url] = re.findall(r'id="portal-link" type="text" readonly value="([^"]+)"', response["body"])
    assert f"/p/{organisation_id}/sign_in/" in url
    # ...with a Copy button that the script shows (the field works without it)
    assert 'data-copy="portal-link" hidden' in response["body"]
    script = browser.request("GET", "/dashboard/assets/copy-link.js")
    assert script["statusCode"] == 200
    assert "navigator.clipboard" in script["body"]
    portal = PortalBrowser()
    assert portal.sign_in_with(url).status == 303
    assert portal.get(f"/p/{organisation_id}/account").status == 200
