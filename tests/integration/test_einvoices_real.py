"""E-invoices end to end with the real builders, writers and the official rules: a French
(Factur-X), a German public (XRechnung CII and UBL, with a Leitweg-ID) and a Belgian (Peppol BIS)
customer's invoices and a credit note download valid; a German public buyer without a buyer
reference is refused with BR-DE-15 naming `customer.buyer_reference`, and nothing is numbered."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.api_client import ApiClient
from tests.integration.billing import Billing

ORGANISATION = {
    "email": "billing@acme.test",
    "timezone": "Europe/Berlin",
    "address": {"line1": "Hauptstraße 1", "city": "Berlin", "postal_code": "10115", "country": "DE"},
    "legal": {
        "registration_name": "Acme Software GmbH",
        "company_id": "HRB 12345",
        "vat_id": "DE136695976",
        "electronic_address": {"scheme": "9930", "id": "DE136695976"},
        "contact_name": "Anna Schmidt",
        "contact_phone": "+49 30 123456",
        "contact_email": "billing@acme.test",
    },
    "payment_methods": {
        "bank_transfer": {"account_name": "Acme Software GmbH", "iban": "DE89370400440532013000"}
    },
}
GERMAN_CITY = {
    "name": "Stadt Köln",
    "email": "rechnung@stadt-koeln.test",
    "tax_rate": "19",
    "address": {"line1": "Markt 1", "city": "Köln", "postal_code": "50667", "country": "DE"},
    "electronic_address": {"scheme": "0204", "id": "05315-12345-67"},
    "buyer_reference": "05315-12345-67",
}
FRENCH_BUSINESS = {
    "name": "Exemple SARL",
    "email": "factures@exemple.test",
    "tax_rate": "0",
    "tax_treatment": "reverse_charge",
    "vat_id": "FR40303265045",
    "address": {"line1": "1 Rue de la Paix", "city": "Paris", "postal_code": "75002", "country": "FR"},
    "electronic_address": {"scheme": "0009", "id": "30326504500012"},
    "einvoice_format": "facturx",
}
BELGIAN_BUSINESS = {
    "name": "Voorbeeld BV",
    "email": "facturen@voorbeeld.test",
    "tax_rate": "0",
    "tax_treatment": "reverse_charge",
    "vat_id": "BE0403170701",
    "address": {"line1": "Grote Markt 1", "city": "Brussel", "postal_code": "1000", "country": "BE"},
    "electronic_address": {"scheme": "0208", "id": "0403170701"},
    "buyer_reference": "PO-2026-17",
    "einvoice_format": "peppol_ubl",
}


@pytest.fixture
def acme(api: ApiClient) -> Billing:
    return Billing(api, **ORGANISATION)


def finalize(acme: Billing, customer: str) -> Any:
    body = {
        "customer_id": customer,
        "line_items": [
            {"description": "Beratung", "quantity": "3", "unit_amount": 15000, "unit_code": "HUR"}
        ],
    }
    draft = acme.api.post(f"{acme.base}/invoices", body)
    assert draft.status == 201, draft.body
    return acme.api.post(f"{acme.invoice(draft.json()['id'])}/finalize")


@pytest.mark.parametrize(
    ("customer", "einvoice_format", "media_type"),
    [
        (GERMAN_CITY | {"einvoice_format": "xrechnung_cii"}, "xrechnung_cii", "application/xml"),
        (GERMAN_CITY | {"einvoice_format": "xrechnung_ubl"}, "xrechnung_ubl", "application/xml"),
        (FRENCH_BUSINESS, "facturx", "application/pdf"),
        (BELGIAN_BUSINESS, "peppol_ubl", "application/xml"),
    ],
)
def test_each_customers_invoice_and_credit_note_download_valid(
    acme: Billing, customer: dict[str, Any], einvoice_format: str, media_type: str
) -> None:
    response = finalize(acme, acme.new_customer(**customer))
    assert response.status == 200, response.body
    invoice = response.json()
    assert invoice["einvoice"]["format"] == einvoice_format
    assert invoice["einvoice"]["valid"] is True, invoice["einvoice"]["failed_rules"]

    download = acme.api.get(f"{acme.invoice(invoice['id'])}/einvoice")
    assert download.status == 200, download.body
    assert download.content_type == media_type
    assert download.headers["Remit-Einvoice-Valid"] == "true"

    body = {"lines": [{"invoice_line_id": invoice["line_items"][0]["id"], "quantity": "1"}]}
    issued = acme.api.post(f"{acme.invoice(invoice['id'])}/credit_notes", body)
    assert issued.status == 201, issued.body
    note = issued.json()
    assert note["einvoice"]["valid"] is True, note["einvoice"]["failed_rules"]
    credit_download = acme.api.get(f"{acme.base}/credit_notes/{note['id']}/einvoice")
    assert credit_download.status == 200, credit_download.body
    assert credit_download.content_type == media_type
    assert credit_download.headers["Remit-Einvoice-Valid"] == "true"


def test_a_german_public_buyer_without_buyer_reference_is_refused_with_br_de_15(acme: Billing) -> None:
    customer = acme.new_customer(
        **{k: v for k, v in GERMAN_CITY.items() if k != "buyer_reference"}, einvoice_format="xrechnung_ubl"
    )

    response = finalize(acme, customer)

    assert response.status == 422, response.body
    errors = response.json()["errors"]
    assert {"field": "customer.buyer_reference", "rule": "BR-DE-15"} in [
        {"field": e["field"], "rule": e["rule"]} for e in errors
    ]
    assert acme.api.get(acme.base).json()["invoice_numbering"]["next_number"] == 1
    assert acme.finalized()["number"] == "ACME-00001"
