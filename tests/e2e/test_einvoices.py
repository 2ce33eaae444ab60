"""Issue's end state, over HTTP against the local stack: for a German public buyer (XRechnung), a
French business (Factur-X) and a Belgian Peppol participant (Peppol BIS 3, reverse charge), the
invoice and a credit note download as e-invoices that the official rules accept, checked again
here by the rules engine in this process; and a German public buyer's invoice that would be
rejected (no Leitweg-ID) cannot be finalized.
"""

from __future__ import annotations

import uuid
from typing import Any

import facturx
import pytest
import requests

from remit.adapters.einvoice_rules import EinvoiceRules
from remit.domain.einvoices import EinvoiceFormat, ValidationReport
from tests.e2e.local_stack import RunningLocalStack
from tests.e2e.test_local_outbox import Client

pytestmark = pytest.mark.e2e

SELLER = {
    "name": "Muster Software GmbH",
    "default_currency": "EUR",
    "locale": "de-DE",
    "email": "rechnung@muster.test",
    "address": {"line1": "Hauptstraße 1", "city": "Berlin", "postal_code": "10115", "country": "DE"},
    "legal": {
        "registration_name": "Muster Software GmbH",
        "company_id": "HRB 12345 B",
        "vat_id": "DE136695976",
        "electronic_address": {"scheme": "9930", "id": "DE136695976"},
        "contact_name": "Erika Mustermann",
        "contact_phone": "+49 30 1234567",
        "contact_email": "rechnung@muster.test",
    },
    "payment_methods": {
        "bank_transfer": {
            "account_name": "Muster Software GmbH",
            "iban": "DE02120300000000202051",
            "bic": "BYLADEM1001",
        }
    },
}

BUYERS: dict[EinvoiceFormat, dict[str, Any]] = {
    "xrechnung_cii": {
        "name": "Bundesamt für Beispiele",
        "country": "DE",
        "tax_rate": "19",
        "address": {"line1": "Amtsweg 5", "city": "Bonn", "postal_code": "53113", "country": "DE"},
        "buyer_reference": "04011000-12345-03",
        "electronic_address": {"scheme": "0204", "id": "04011000-12345-03"},
        "einvoice_format": "xrechnung_cii",
    },
    "facturx": {
        "name": "Exemple SARL",
        "country": "FR",
        "tax_rate": "0",
        "address": {"line1": "1 rue de la Paix", "city": "Paris", "postal_code": "75002", "country": "FR"},
        "vat_id": "FR40303265045",
        "tax_treatment": "reverse_charge",
        "einvoice_format": "facturx",
    },
    "peppol_ubl": {
        "name": "Voorbeeld NV",
        "country": "BE",
        "address": {"line1": "Kunstlaan 10", "city": "Brussel", "postal_code": "1000", "country": "BE"},
        "vat_id": "BE0477472701",
        "tax_treatment": "reverse_charge",
        "electronic_address": {"scheme": "0208", "id": "0477472701"},
        "buyer_reference": "PO-2026-117",
        "einvoice_format": "peppol_ubl",
    },
}


@pytest.fixture(scope="module")
def rules() -> EinvoiceRules:
    # The official rule sets, loaded in this process: the documents are checked again here, apart
    # from the validator the local stack ran when it finalized them.
    return EinvoiceRules()


def independent_report(
    rules: EinvoiceRules, einvoice_format: EinvoiceFormat, document: bytes
) -> ValidationReport:
    if einvoice_format == "facturx":
        filename, document = facturx.get_xml_from_pdf(document, check_xsd=False)
        assert filename == "factur-x.xml"
    return rules.validate(einvoice_format, document)


def _seller(client: Client) -> str:
    organisation = client.call("POST", "/v1/organisations", SELLER, expect=201)
    return f"/v1/organisations/{organisation['id']}"


def _customer(client: Client, base: str, fields: dict[str, Any]) -> dict[str, Any]:
    email = f"ap-{uuid.uuid4().hex[:8]}@buyer.test"
    return client.call("POST", f"{base}/customers", {**fields, "email": email}, expect=201)


def _draft(client: Client, base: str, customer_id: str) -> dict[str, Any]:
    lines = [
        {"description": "Softwarelizenz Dezember", "unit_amount": 120000, "quantity": "1"},
        {"description": "Beratung", "unit_amount": 9500, "quantity": "7.5", "unit_code": "HUR"},
    ]
    return client.call(
        "POST", f"{base}/invoices", {"customer_id": customer_id, "line_items": lines}, expect=201
    )


def _download(stack: RunningLocalStack, path: str) -> requests.Response:
    answer = requests.get(stack.url(path), headers=stack.auth(), timeout=120)
    assert answer.status_code == 200, answer.text[:2000]
    return answer


@pytest.mark.parametrize("einvoice_format", sorted(BUYERS))
def test_each_buyer_gets_an_einvoice_the_official_rules_accept(
    stack: RunningLocalStack, rules: EinvoiceRules, einvoice_format: EinvoiceFormat
) -> None:
    client = Client(stack)
    base = _seller(client)
    customer = _customer(client, base, BUYERS[einvoice_format])
    invoice = _draft(client, base, customer["id"])

    finalized = client.call("POST", f"{base}/invoices/{invoice['id']}/finalize")
    credit_note = client.call(
        "POST",
        f"{base}/invoices/{invoice['id']}/credit_notes",
        {"amount": 5000, "reason": "order_change"},
        expect=201,
    )

    assert finalized["einvoice"]["format"] == einvoice_format
    assert finalized["einvoice"]["valid"] is True, finalized["einvoice"]
    assert credit_note["einvoice"]["valid"] is True, credit_note["einvoice"]
    for path in (
        f"{base}/invoices/{invoice['id']}/einvoice",
        f"{base}/credit_notes/{credit_note['id']}/einvoice",
    ):
        document = _download(stack, path)
        assert document.headers["Remit-Einvoice-Valid"] == "true"
        if einvoice_format == "facturx":
            assert document.headers["Content-Type"].startswith("application/pdf")
            assert document.content.startswith(b"%PDF-")
        else:
            assert document.headers["Content-Type"].startswith("application/xml")
        report = independent_report(rules, einvoice_format, document.content)
        assert report.valid, report.failed_rules
        assert len(report.rule_sets) >= 2, report.rule_sets


def test_a_german_public_buyer_without_leitweg_id_is_refused_and_nothing_is_numbered(
    stack: RunningLocalStack,
) -> None:
    client = Client(stack)
    base = _seller(client)
    fields = {k: v for k, v in BUYERS["xrechnung_cii"].items() if k not in ("buyer_reference",)}
    customer = _customer(client, base, fields)
    refused = _draft(client, base, customer["id"])

    answer = client.call("POST", f"{base}/invoices/{refused['id']}/finalize", expect=422)

    assert {"field": "customer.buyer_reference", "rule": "BR-DE-15"}.items() <= next(
        error for error in answer["errors"] if error["rule"] == "BR-DE-15"
    ).items()
    assert client.call("GET", f"{base}/invoices/{refused['id']}")["status"] == "draft"
    client.call("PATCH", f"{base}/customers/{customer['id']}", {"buyer_reference": "04011000-12345-03"})
    assert client.call("POST", f"{base}/invoices/{refused['id']}/finalize")["number"].endswith("00001")
