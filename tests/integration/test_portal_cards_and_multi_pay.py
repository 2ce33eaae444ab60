"""The portal's pages over the saved cards service and the several-invoice checkout
(`portal.cards`, `portal.multi_pay`)."""

from __future__ import annotations

import pytest

from tests.integration.api_client import ApiClient
from tests.integration.billing import Billing
from tests.integration.conftest import SettableClock
from tests.integration.fake_stripe import FakeStripe
from tests.integration.portal_browser import PortalBrowser, sign_in_links

STRIPE = {
    "provider": "stripe",
    "secret_key": "sk_test_acme_s3cr3t_0123456789",
    "webhook_secret": "whsec_acme_w3bh00k_0123456789",
}


@pytest.fixture(autouse=True)
def secrets_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REMIT_SECRETS_PREFIX", "remit/test/payment-providers")


@pytest.fixture
def acme(api: ApiClient, clock: SettableClock, stripe_api: FakeStripe) -> Billing:
    billing = Billing(api)
    assert api.put(f"{billing.base}/payment_provider", json_body=STRIPE).status == 200
    return billing


def signed_in(billing: Billing) -> PortalBrowser:
    browser = PortalBrowser()
    browser.ask_for_link(billing.org, "ap@globex.test")
    [message] = sign_in_links(billing.org)
    assert browser.sign_in_with(message["link"]).status == 303
    return browser


def test_a_customer_pays_two_open_invoices_in_one_checkout(acme: Billing, stripe_api: FakeStripe) -> None:
    first, second = acme.finalized(), acme.finalized()
    browser = signed_in(acme)
    browser.get(f"/p/{acme.org}/account")
    assert 'form="pay-several"' in browser.last_page

    response = browser.post(f"/p/{acme.org}/pay", {"invoice_id": [first["id"], second["id"]]})

    assert response.status == 303
    [session] = stripe_api.to("/v1/checkout/sessions")
    assert (
        int(session.form["line_items[0][price_data][unit_amount]"])
        == first["amount_due"] + second["amount_due"]
    )


def test_another_customers_invoice_cannot_join_a_several_invoice_checkout(
    acme: Billing, stripe_api: FakeStripe
) -> None:
    mine = acme.finalized()
    theirs = acme.finalized(customer_id=acme.new_customer(name="Initech", email="ap@initech.test"))
    browser = signed_in(acme)
    browser.get(f"/p/{acme.org}/account")
    assert 'form="pay-several"' in browser.last_page

    assert browser.post(f"/p/{acme.org}/pay", {"invoice_id": [mine["id"], theirs["id"]]}).status == 404
    assert stripe_api.to("/v1/checkout/sessions") == []


def test_a_customer_adds_a_card_through_the_providers_setup(acme: Billing, stripe_api: FakeStripe) -> None:
    browser = signed_in(acme)
    page = browser.get(f"/p/{acme.org}/cards")
    assert page.status == 200

    response = browser.post(f"/p/{acme.org}/cards")

    assert response.status == 303
    assert response.headers["Location"].startswith("https://")
