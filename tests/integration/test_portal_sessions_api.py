"""`POST …/customers/{customer_id}/portal_sessions`: a one-time link for a platform that signs its
customers in itself; and the organisation's `portal.enabled` setting.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import urlsplit

import pytest

from tests.integration.api_client import ApiClient
from tests.integration.billing import Billing
from tests.integration.conftest import SettableClock
from tests.integration.portal_browser import PortalBrowser


@pytest.fixture
def acme(api: ApiClient, clock: SettableClock) -> Billing:
    return Billing(api)


def portal_session(billing: Billing, customer: str | None = None, api: ApiClient | None = None):  # type: ignore[no-untyped-def]
    return (api or billing.api).post(
        f"{billing.base}/customers/{customer or billing.customer}/portal_sessions"
    )


def test_a_platform_gets_a_five_minute_link_that_signs_its_customer_in_once(
    acme: Billing, clock: SettableClock
) -> None:
    invoice = acme.finalized()

    response = portal_session(acme)

    assert response.status == 201
    body = response.json()
    assert set(body) == {"url", "expires_at"}
    assert body["url"].startswith(f"https://api.remit.test/p/{acme.org}/sign_in/")
    assert datetime.fromisoformat(body["expires_at"]) - clock.now() == timedelta(minutes=5)
    browser = PortalBrowser()
    assert browser.sign_in_with(body["url"]).status == 303
    browser.get(f"/p/{acme.org}/account")
    assert invoice["number"] in browser.last_page
    assert PortalBrowser().sign_in_with(body["url"]).status == 404


def test_a_platform_link_expires_after_five_minutes(acme: Billing, clock: SettableClock) -> None:
    url = portal_session(acme).json()["url"]

    clock.advance(minutes=5, seconds=1)

    assert PortalBrowser().sign_in_with(url).status == 404


def test_another_accounts_customer_or_an_unknown_one_is_not_found(
    acme: Billing, other_api: ApiClient
) -> None:
    assert portal_session(acme, api=other_api).status == 404
    assert portal_session(acme, customer="cus_nothing").status == 404


def test_the_portal_is_on_by_default_and_a_disabled_one_makes_no_links(acme: Billing) -> None:
    assert acme.api.get(acme.base).json()["portal"] == {"enabled": True}

    changed = acme.api.patch(acme.base, {"portal": {"enabled": False}})

    assert changed.status == 200
    assert changed.json()["portal"] == {"enabled": False}
    refused = portal_session(acme)
    assert refused.status == 409
    assert "portal is disabled" in refused.json()["detail"]


def test_the_link_names_the_portal_under_the_stage_on_api_gateways_own_host(acme: Billing) -> None:
    path = urlsplit(portal_session(acme).json()["url"]).path

    assert path.startswith(f"/p/{acme.org}/sign_in/")
