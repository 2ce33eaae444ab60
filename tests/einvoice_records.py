"""Remit's records for the e-invoice tests: organisations, customers, issued invoices and credit notes
as Remit keeps them, for a German public buyer (XRechnung), a French business (Factur-X) and a
Belgian Peppol participant."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from remit.domain.changes import build
from remit.domain.credit_notes import CreditNote, NewCreditNote, price_credit_note
from remit.domain.customer import Customer
from remit.domain.invoice import Invoice, LineItem, priced_line
from remit.domain.organisation import Organisation

NOW = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
ISSUED = date(2026, 12, 1)

GERMAN_SELLER: dict[str, Any] = {
    "name": "Acme Software",
    "email": "billing@acme.test",
    "default_currency": "EUR",
    "address": {"line1": "Hauptstraße 1", "city": "Berlin", "postal_code": "10115", "country": "DE"},
    "legal": {
        "registration_name": "Acme Software GmbH",
        "company_id": "HRB 12345",
        "vat_id": "DE136695976",
        "tax_registration_id": "12/345/67890",
        "electronic_address": {"scheme": "9930", "id": "DE136695976"},
        "contact_name": "Anna Schmidt",
        "contact_phone": "+49 30 1234567",
        "contact_email": "billing@acme.test",
    },
    "payment_methods": {
        "bank_transfer": {
            "account_name": "Acme Software GmbH",
            "iban": "DE89370400440532013000",
            "bic": "COBADEFFXXX",
        }
    },
}
FRENCH_SELLER: dict[str, Any] = {
    "name": "Société Exemple",
    "email": "factures@exemple.test",
    "default_currency": "EUR",
    "locale": "fr-FR",
    "address": {"line1": "12 rue de la Paix", "city": "Paris", "postal_code": "75002", "country": "FR"},
    "legal": {
        "registration_name": "Société Exemple SAS",
        "company_id": "303265045",
        "vat_id": "FR40303265045",
        "electronic_address": {"scheme": "0009", "id": "30326504500018"},
    },
    "payment_methods": {"bank_transfer": {"iban": "FR1420041010050500013M02606", "bic": "PSSTFRPPXXX"}},
}

GERMAN_CITY: dict[str, Any] = {
    "name": "Stadt Köln",
    "email": "rechnungen@stadt-koeln.test",
    "country": "DE",
    "address": {"line1": "Willy-Brandt-Platz 2", "city": "Köln", "postal_code": "50679", "country": "DE"},
    "tax_rate": "19",
    "electronic_address": {"scheme": "0204", "id": "05315-12345-67"},
    # The Leitweg-ID: how a German public buyer routes its invoices (BT-10, BR-DE-15).
    "buyer_reference": "05315-12345-67",
    "einvoice_format": "xrechnung_cii",
}
FRENCH_BUSINESS: dict[str, Any] = {
    "name": "Entreprise Cliente SARL",
    "email": "compta@cliente.test",
    "country": "FR",
    "address": {"line1": "3 place Bellecour", "city": "Lyon", "postal_code": "69002", "country": "FR"},
    "tax_rate": "20",
    "vat_id": "FR40303265045",
    "einvoice_format": "facturx",
}
BELGIAN_PARTICIPANT: dict[str, Any] = {
    "name": "Belgische Klant BV",
    "email": "ap@klant.test",
    "country": "BE",
    "address": {"line1": "Rue de la Loi 16", "city": "Bruxelles", "postal_code": "1000", "country": "BE"},
    "tax_rate": "21",
    "vat_id": "BE0417497106",
    # The Belgian enterprise number as a Peppol participant id (EAS 0208).
    "electronic_address": {"scheme": "0208", "id": "0417497106"},
    "buyer_reference": "PO-2026-118",
    "einvoice_format": "peppol_ubl",
}


def an_organisation(fields: dict[str, Any] = GERMAN_SELLER, **changes: Any) -> Organisation:
    return build(
        Organisation,
        {
            "id": "org_acme",
            "account_id": "acct_test",
            "invoice_numbering": {"prefix": "ACME-", "padding": 5, "next_number": 1},
            "created_at": NOW,
            "updated_at": NOW,
            **fields,
            **changes,
        },
    )


def a_customer(fields: dict[str, Any] = GERMAN_CITY, **changes: Any) -> Customer:
    return build(
        Customer,
        {
            "id": "cus_buyer",
            "organisation_id": "org_acme",
            "currency": "EUR",
            "payment_terms_days": 30,
            "created_at": NOW,
            "updated_at": NOW,
            **fields,
            **changes,
        },
    )


# (description, quantity, unit amount in minor units, tax rate %), and optionally a dict of line fields.
Line = tuple[str, str, int, str] | tuple[str, str, int, str, dict[str, Any]]


def line_items(lines: list[Line]) -> list[LineItem]:
    items = []
    for index, line in enumerate(lines):
        description, quantity, unit_amount, rate = line[:4]
        extra: dict[str, Any] = line[4] if len(line) == 5 else {}  # type: ignore[misc]
        items.append(
            priced_line(
                f"li_{index}", description, Decimal(quantity), unit_amount, Decimal(rate), None, **extra
            )
        )
    return items


def an_issued_invoice(
    customer: Customer, lines: list[Line], *, currency: str = "EUR", **changes: Any
) -> Invoice:
    """An invoice to `customer` finalized on 1 December 2026, with its snapshots taken then."""
    draft = Invoice(
        id="inv_1",
        organisation_id="org_acme",
        customer_id=customer.id,
        currency=currency,
        due_date=date(2026, 12, 31),
        created_at=NOW,
        updated_at=NOW,
        **changes,
    ).with_lines(line_items(lines))
    return draft.finalize(
        number="ACME-00001",
        sequence=1,
        issue_date=ISSUED,
        hosted_token="hp_test",
        hosted_url="https://remit.test/i/hp_test",
        customer_name=customer.name,
        customer_email=customer.email,
        customer_address=customer.address,
        customer_tax_id=customer.tax_id,
        customer_einvoice=customer.einvoice_details(),
        recipients=[customer.email],
        credit_balances={},
        now=NOW,
    )


def a_credit_note_of(invoice: Invoice, request: dict[str, Any]) -> CreditNote:
    """A credit note issued on 2 December 2026 for what `request` asks of `invoice`."""
    ids = iter(range(1000))
    priced = price_credit_note(invoice, build(NewCreditNote, request), lambda: f"cnl_{next(ids)}")
    return CreditNote(
        id="cn_1",
        organisation_id=invoice.organisation_id,
        invoice_id=invoice.id,
        invoice_number=invoice.number or "",
        invoice_issue_date=invoice.issue_date or ISSUED,
        customer_id=invoice.customer_id,
        number="ACME-CN-00001",
        currency=invoice.currency,
        issue_date=date(2026, 12, 2),
        lines=priced.lines,
        subtotal=priced.subtotal,
        tax_total=priced.tax_total,
        total=priced.total,
        tax_breakdown=priced.tax_breakdown,
        reason="other",
        memo=request.get("memo"),
        pre_payment_amount=priced.pre_payment_amount,
        refund_amount=priced.refund_amount,
        credit_amount=priced.credit_amount,
        out_of_band_amount=priced.out_of_band_amount,
        customer_name=invoice.customer_name,
        created_at=NOW,
    )
