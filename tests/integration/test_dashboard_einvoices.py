"""The dashboard's e-invoices: a refused finalize shows each failed rule next to the field to fix
(nothing numbered), an invoice's and a credit note's page show the e-invoice's status and download
links, and the downloads answer what the API answers."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import pytest

from remit import bootstrap
from tests.integration.dashboard_browser import text_of
from tests.integration.einvoice_fakes import JudgingValidator, use_fakes
from tests.integration.test_dashboard_invoices import Org

pytestmark = pytest.mark.usefixtures("user_pool")

GERMAN_PUBLIC = {"country": "DE", "einvoice_format": "xrechnung_cii"}


@pytest.fixture
def validator(aws: None) -> Iterator[JudgingValidator]:
    fake = use_fakes()
    yield fake
    bootstrap.use_einvoice_parts(None)


def body_of(response: dict[str, Any]) -> bytes:
    body = response["body"]
    return base64.b64decode(body) if response.get("isBase64Encoded") else body.encode()


def test_a_refused_finalize_shows_each_rule_next_to_the_field_and_numbers_nothing(
    validator: JudgingValidator,
) -> None:
    org = Org("einv-ada@example.com")
    customer = org.new_customer("Bundesamt", **GERMAN_PUBLIC)
    draft = org.draft(customer=customer)

    response = org.browser.post(org.path(draft, "finalize"))

    assert response["statusCode"] == 422, text_of(response["body"])
    page = response["body"]
    text = text_of(page)
    assert "BR-DE-15" in text
    assert "Buyer reference" in text
    assert "(BT-10) must be transmitted." in text
    assert "fix the customer's buyer reference" in text
    assert f'href="/dashboard/organisations/{org.id}/customers/{customer}/edit"' in page
    assert "nothing was numbered or locked" in text
    assert org.get(draft).status == "draft"
    assert org.get(draft).number is None

    # Fixed on the customer, the invoice finalizes and its page shows the e-invoice as valid
    from remit.bootstrap import services
    from remit.domain.customer import CustomerChanges

    services().customers.update(
        org.account_id, org.id, customer, CustomerChanges(buyer_reference="04011000-12345-67")
    )
    finalized = org.browser.post(org.path(draft, "finalize"))
    shown = org.followed(finalized)
    assert "E-invoice Format xrechnung_cii Valid Yes" in shown
    assert org.get(draft).status == "open"


def test_an_invoice_page_links_a_download_per_format_and_the_download_answers_the_einvoice_writing_nothing(
    validator: JudgingValidator,
) -> None:
    org = Org("einv-bo@example.com")
    invoice_id = org.finalized()
    page = org.page(org.path(invoice_id))["body"]
    assert "Not validated at issue" in text_of(page)
    for einvoice_format in ("facturx", "xrechnung_cii", "xrechnung_ubl", "peppol_ubl"):
        assert f'href="{org.path(invoice_id, "einvoice")}?format={einvoice_format}"' in page

    xml = org.browser.request("GET", f"{org.path(invoice_id, 'einvoice')}?format=peppol_ubl")
    assert xml["statusCode"] == 200, xml["body"]
    assert xml["headers"]["Content-Type"] == "application/xml"
    assert xml["headers"]["Remit-Einvoice-Valid"] == "true"
    assert org.get(invoice_id).number.encode() in body_of(xml)
    assert xml["headers"]["Content-Disposition"].startswith("attachment;")
    assert xml["headers"]["Cache-Control"] == "private, no-store"

    pdf = org.browser.request("GET", f"{org.path(invoice_id, 'einvoice')}?format=facturx")
    assert pdf["statusCode"] == 200
    assert pdf["headers"]["Content-Type"] == "application/pdf"
    assert body_of(pdf).startswith(b"%PDF")

    assert "Not validated at issue" in text_of(org.page(org.path(invoice_id))["body"])
    unknown = org.browser.request("GET", f"{org.path(invoice_id, 'einvoice')}?format=zugferd")
    assert unknown["statusCode"] == 422
    assert "format" in text_of(unknown["body"])


def test_a_credit_note_page_shows_its_einvoice_and_downloads_it(validator: JudgingValidator) -> None:
    from remit.bootstrap import services
    from remit.domain.credit_notes import NewCreditNote

    org = Org("einv-cy@example.com")
    customer = org.new_customer("Bundesamt", **GERMAN_PUBLIC, buyer_reference="04011000-12345-67")
    invoice_id = org.finalized(customer=customer)
    invoice = org.get(invoice_id)
    note = services().credit_notes.issue(
        org.account_id,
        org.id,
        invoice_id,
        NewCreditNote.model_validate(
            {"lines": [{"invoice_line_id": invoice.line_items[0].id, "quantity": "1"}]}
        ),
    )
    path = f"/dashboard/organisations/{org.id}/credit-notes/{note.id}"

    text = text_of(org.page(path)["body"])
    assert "E-invoice Format xrechnung_cii Valid Yes" in text

    download = org.browser.request("GET", f"{path}/einvoice")
    assert download["statusCode"] == 200, download["body"]
    assert download["headers"]["Content-Type"] == "application/xml"
    assert b'type="381"' in body_of(download)


def test_a_refused_credit_note_shows_each_rule_on_the_form_and_issues_nothing(
    validator: JudgingValidator,
) -> None:
    from remit.domain.einvoices import FailedRule

    org = Org("einv-di@example.com")
    customer = org.new_customer("Bundesamt", **GERMAN_PUBLIC, buyer_reference="04011000-12345-67")
    invoice_id = org.finalized(customer=customer)
    validator.fail = FailedRule(rule="BR-CO-26", message="Seller VAT identifier missing.")

    response = org.browser.post(org.path(invoice_id, "credit-notes"), {"lines.0.quantity": "1"})

    assert response["statusCode"] == 422, text_of(response["body"])
    text = text_of(response["body"])
    assert "BR-CO-26: Seller VAT identifier missing. (fix organisation legal vat id)" in text
    assert "nothing was issued" in text
    assert org.get(invoice_id).credited_amount == 0
