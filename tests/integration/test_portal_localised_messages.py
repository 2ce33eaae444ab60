"""A customer whose language is not English reads the portal's word for what a service refused,
in its language: an invalid tax id or postal code on the billing-details form, an invoice that is
no longer open when it pays. The services' English sentences (the API's) never reach the page.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from remit.domain.documents import InvoiceDocument
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
FORM = {
    "address.line1": "Hauptstraße 1",
    "address.line2": "",
    "address.postal_code": "10115",
    "address.city": "Berlin",
    "address.state": "",
    "address.country": "DE",
    "tax_id": "DE136695976",
}
TAX_ID_PROBLEM = {
    "de-DE": "Geben Sie eine gültige Steuernummer oder USt-IdNr. für das Land Ihrer Rechnungsadresse ein.",
    "ja-JP": "請求先住所の国で有効な税番号または VAT 番号を入力してください。",
}
POSTAL_CODE_PROBLEM = {
    "de-DE": "Geben Sie eine gültige Postleitzahl ein.",
    "ja-JP": "有効な郵便番号を入力してください。",
}
NOT_OPEN = {
    "de-DE": "Diese Rechnung ist nicht mehr offen: Es ist nichts zu bezahlen.",
    "ja-JP": "この請求書はすでに未払いではないため、支払うものはありません。",
}
UNAVAILABLE = {
    "de-DE": "Dieses Dokument kann im Moment nicht erstellt werden. "
    "Versuchen Sie es in ein paar Minuten erneut.",
    "ja-JP": "現在この書類を作成できません。数分後にもう一度お試しください。",
}
LOCALES = ["de-DE", "ja-JP"]


class FailingRenderer:
    """A PDF renderer that runs out of memory on every document."""

    def render(self, document: InvoiceDocument, logo: tuple[bytes, str] | None) -> bytes:
        raise MemoryError("out of memory drawing the logo")


@pytest.fixture(autouse=True)
def secrets_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REMIT_SECRETS_PREFIX", "remit/test/payment-providers")


@pytest.fixture
def acme(api: ApiClient, clock: SettableClock) -> Billing:
    return Billing(api, email="billing@acme.test")


def signed_in_speaking(billing: Billing, locale: str) -> PortalBrowser:
    response = billing.api.patch(f"{billing.base}/customers/{billing.customer}", {"preferred_locale": locale})
    assert response.status == 200, response.body
    browser = PortalBrowser()
    browser.ask_for_link(billing.org, "ap@globex.test")
    [message] = sign_in_links(billing.org)
    assert browser.sign_in_with(message["link"]).status == 303
    return browser


def customer(billing: Billing) -> dict[str, object]:
    return dict(billing.api.get(f"{billing.base}/customers/{billing.customer}").json())


@pytest.mark.parametrize("locale", LOCALES)
def test_an_invalid_tax_id_is_explained_in_the_customers_language(acme: Billing, locale: str) -> None:
    # Given a customer whose language is German or Japanese, signed in
    browser = signed_in_speaking(acme, locale)
    before = customer(acme)
    browser.get(f"/p/{acme.org}/details")

    # When it saves a tax id that is no German VAT number (with markup in it)
    response = browser.post(f"/p/{acme.org}/details", {**FORM, "tax_id": "DE12<b>3</b>"})

    # Then the field's problem is the portal's sentence in its language, none of the API's English
    assert response.status == 422
    page = browser.last_page
    assert 'id="tax_id-problem"' in page
    assert TAX_ID_PROBLEM[locale] in page
    assert "Enter a valid tax ID" not in page
    assert "not a valid" not in page
    # ...what it typed is only ever shown escaped, in the field it typed it in
    assert "<b>3</b>" not in page
    assert customer(acme) == before


@pytest.mark.parametrize("locale", LOCALES)
def test_a_postal_code_too_long_is_explained_in_the_customers_language(acme: Billing, locale: str) -> None:
    browser = signed_in_speaking(acme, locale)
    before = customer(acme)
    browser.get(f"/p/{acme.org}/details")

    response = browser.post(f"/p/{acme.org}/details", {**FORM, "address.postal_code": "1" * 41})

    assert response.status == 422
    page = browser.last_page
    assert 'id="address.postal_code-problem"' in page
    assert POSTAL_CODE_PROBLEM[locale] in page
    assert "Enter a valid postal code" not in page
    assert "at most 40 characters" not in page
    assert customer(acme) == before


@pytest.mark.parametrize("locale", LOCALES)
def test_paying_an_invoice_no_longer_open_is_refused_in_the_customers_language(
    acme: Billing, locale: str, stripe_api: FakeStripe
) -> None:
    # Given a connected card provider and an invoice the customer saw open, since paid by transfer
    assert acme.api.put(f"{acme.base}/payment_provider", json_body=STRIPE).status == 200
    invoice = acme.finalized()
    browser = signed_in_speaking(acme, locale)
    browser.get(f"/p/{acme.org}/account")
    acme.pay(invoice["id"], invoice["amount_due"])

    # When the customer pays it by card
    response = browser.post(f"/p/{acme.org}/invoices/{invoice['id']}/pay")

    # Then it is refused in its language, with no checkout started
    assert response.status == 409
    page = browser.last_page
    assert NOT_OPEN[locale] in page
    assert "there is nothing to pay" not in page
    assert stripe_api.to("/v1/checkout/sessions") == []


@pytest.fixture
def failing_renderer(aws: None) -> Iterator[None]:
    from remit import bootstrap

    bootstrap.use_pdf_renderer(FailingRenderer())
    yield
    bootstrap.use_pdf_renderer(None)


@pytest.mark.parametrize("locale", LOCALES)
def test_a_pdf_that_cannot_be_made_now_is_explained_in_the_customers_language(
    acme: Billing, locale: str, failing_renderer: None
) -> None:
    # Given an invoice whose PDF fails to render
    invoice = acme.finalized()
    browser = signed_in_speaking(acme, locale)

    # When the customer downloads it
    response = browser.get(f"/p/{acme.org}/invoices/{invoice['id']}/pdf")

    # Then it is told in its language to come back later, and when
    assert response.status == 503
    assert response.headers["Retry-After"] == "3600"
    page = browser.last_page
    assert UNAVAILABLE[locale] in page
    assert "could not" not in page
    assert "MemoryError" not in page
