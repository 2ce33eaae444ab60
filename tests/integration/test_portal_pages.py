"""What a signed-in customer sees and does in the portal: what it owes, its invoices, credit notes
and payments, its documents, paying by card; and that nothing of another customer or another
organisation is reachable from its session (404).
"""

from __future__ import annotations

from typing import Any

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
def acme(api: ApiClient, clock: SettableClock) -> Billing:
    return Billing(
        api,
        email="billing@acme.test",
        payment_methods={"bank_transfer": {"account_name": "Acme Ltd", "iban": "DE89370400440532013000"}},
    )


def signed_in(
    billing: Billing, email: str = "ap@globex.test", client_ip: str = "203.0.113.7"
) -> PortalBrowser:
    browser = PortalBrowser(client_ip=client_ip)
    browser.ask_for_link(billing.org, email)
    message = [m for m in sign_in_links(billing.org) if m["to"] == [email]][-1]
    assert browser.sign_in_with(message["link"]).status == 303
    return browser


def test_a_customer_sees_every_issued_invoice_what_it_owes_and_the_bank_details(
    acme: Billing, clock: SettableClock
) -> None:
    # Given five invoices of one customer: three open (one overdue), one paid, and a draft
    open_invoices = [acme.finalized(unit_amount=1000 * n) for n in (1, 2, 3)]
    paid = acme.finalized(unit_amount=500)
    assert (
        acme.api.post(
            f"{acme.invoice(paid['id'])}/payments", {"amount": paid["amount_due"], "method": "bank_transfer"}
        ).status
        == 201
    )
    draft = acme.draft()
    clock.advance(days=31)

    # When the customer signs in
    browser = signed_in(acme)
    page = browser.get(f"/p/{acme.org}/account")

    # Then it sees every issued invoice, not the draft, and the total of the open ones
    assert page.status == 200
    html = browser.last_page
    for invoice in [*open_invoices, paid]:
        assert invoice["number"] in html
    assert draft["id"] not in html
    owed = sum(invoice["amount_due"] for invoice in open_invoices)
    assert f"€{owed / 100:,.2f}" in html
    assert "Overdue" in html
    # ...its payment, and the organisation's bank details to check a PDF against
    assert "Bank transfer" in html
    assert "DE89 3704 0044 0532 0130 00" in html
    assert "Payment reference" not in html  # one per invoice: its number, on the invoice's page
    # ...and the page carries the portal's headers
    assert "default-src 'none'" in page.headers["Content-Security-Policy"]
    assert page.headers["Cache-Control"] == "no-store"


def test_a_customer_downloads_its_invoice_pdfs(acme: Billing) -> None:
    invoice = acme.finalized()
    browser = signed_in(acme)

    response = browser.get(f"/p/{acme.org}/invoices/{invoice['id']}/pdf")

    assert response.status == 200
    assert response.content_type == "application/pdf"
    assert response.body.startswith(b"%PDF")
    assert invoice["number"] in response.headers["Content-Disposition"]


def test_another_customers_or_organisations_ids_are_not_found(
    acme: Billing, api: ApiClient, other_api: ApiClient
) -> None:
    # Given a customer signed in, another customer of the same organisation with an invoice,
    # and another organisation (of another account) with its own
    mine = acme.finalized()
    neighbour = acme.new_customer(name="Initech", email="ap@initech.test")
    theirs = acme.finalized(customer_id=neighbour)
    elsewhere = Billing(other_api, name="Umbrella")
    foreign = elsewhere.finalized()
    draft = acme.draft()
    browser = signed_in(acme)
    assert browser.get(f"/p/{acme.org}/invoices/{mine['id']}/pdf").status == 200

    # Then every id that is not the customer's own issued invoice answers 404, through every route
    for invoice_id in (theirs["id"], foreign["id"], draft["id"], "inv_nothing", "../../x"):
        assert browser.get(f"/p/{acme.org}/invoices/{invoice_id}/pdf").status == 404, invoice_id
        assert browser.get(f"/p/{acme.org}/invoices/{invoice_id}/einvoice").status == 404, invoice_id
        browser.get(f"/p/{acme.org}/account")
        assert browser.post(f"/p/{acme.org}/invoices/{invoice_id}/pay").status == 404, invoice_id
    assert browser.get(f"/p/{acme.org}/credit_notes/cn_nothing/pdf").status == 404
    # ...and the other organisation's portal does not know this session
    assert browser.get(f"/p/{elsewhere.org}/invoices/{foreign['id']}/pdf").status == 303
    # ...nor does the page list anything of the neighbour
    browser.get(f"/p/{acme.org}/account")
    assert theirs["number"] not in browser.last_page
    assert "Initech" not in browser.last_page


def test_paying_an_open_invoice_goes_to_the_providers_checkout(acme: Billing, stripe_api: FakeStripe) -> None:
    # Given a connected card provider and an open invoice
    assert acme.api.put(f"{acme.base}/payment_provider", json_body=STRIPE).status == 200
    invoice = acme.finalized()
    browser = signed_in(acme)
    browser.get(f"/p/{acme.org}/account")
    assert f"Pay {invoice['number']} by card" in browser.last_page

    # When the customer pays it
    response = browser.post(f"/p/{acme.org}/invoices/{invoice['id']}/pay")

    # Then it goes to the provider's checkout for the amount due
    assert response.status == 303
    assert response.headers["Location"] == "https://checkout.stripe.test/c/pay/cs_test_1"
    [session] = stripe_api.to("/v1/checkout/sessions")
    assert session.form["metadata[invoice_id]"] == invoice["id"]


def test_paying_needs_the_sessions_csrf_token_and_a_provider(acme: Billing, stripe_api: FakeStripe) -> None:
    invoice = acme.finalized()
    browser = signed_in(acme)
    browser.get(f"/p/{acme.org}/account")
    assert "by card" not in browser.last_page  # no provider: nothing offered

    assert browser.post(f"/p/{acme.org}/invoices/{invoice['id']}/pay").status == 409

    assert acme.api.put(f"{acme.base}/payment_provider", json_body=STRIPE).status == 200
    assert browser.post(f"/p/{acme.org}/invoices/{invoice['id']}/pay", csrf="forged").status == 403
    assert stripe_api.to("/v1/checkout/sessions") == []


def test_credit_notes_are_listed_and_downloadable(acme: Billing) -> None:
    invoice = acme.finalized()
    response = acme.api.post(f"{acme.invoice(invoice['id'])}/credit_notes", {"amount": 500})
    assert response.status == 201, response.body
    note: dict[str, Any] = response.json()
    browser = signed_in(acme)

    browser.get(f"/p/{acme.org}/account")
    assert note["number"] in browser.last_page
    pdf = browser.get(f"/p/{acme.org}/credit_notes/{note['id']}/pdf")
    assert pdf.status == 200
    assert pdf.body.startswith(b"%PDF")


def test_a_customer_that_takes_e_invoices_downloads_them(api: ApiClient, clock: SettableClock) -> None:
    from remit import bootstrap
    from tests.integration.einvoice_fakes import use_fakes

    # Given a customer that takes XRechnung, and one of its invoices (validated by the fakes)
    validator = use_fakes()
    try:
        billing = Billing(api)
        customer = billing.new_customer(
            name="Bundesamt",
            email="ap@bund.test",
            country="DE",
            einvoice_format="xrechnung_cii",
            buyer_reference="04011000-12345-67",
        )
        invoice = billing.finalized(customer_id=customer)
        browser = signed_in(billing, email="ap@bund.test")
        browser.get(f"/p/{billing.org}/account")
        assert f"/p/{billing.org}/invoices/{invoice['id']}/einvoice" in browser.last_page

        # When it downloads the e-invoice
        response = browser.get(f"/p/{billing.org}/invoices/{invoice['id']}/einvoice")

        # Then it gets the validated document, named after the invoice
        assert response.status == 200
        assert "xml" in response.content_type
        assert f"{invoice['number']}-xrechnung_cii.xml" in response.headers["Content-Disposition"]
        assert validator.validated
    finally:
        bootstrap.use_einvoice_parts(None)
