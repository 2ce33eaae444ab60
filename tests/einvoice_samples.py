"""EN 16931 documents for the e-invoice tests: a German public buyer, a French business, a Belgian
Peppol participant, reverse charge, exemptions, mixed rates and JPY, each stated once."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from remit.domain.einvoice_documents import (
    Contact,
    DocumentLine,
    EinvoiceDocument,
    Party,
    PaymentMeans,
    PostalAddress,
    PrecedingInvoice,
    VatBreakdown,
)
from remit.domain.einvoices import ElectronicAddress

SELLER = Party(
    name="Acme Software GmbH",
    vat_id="DE123456789",
    tax_registration_id="12/345/67890",
    legal_id="HRB 12345",
    electronic_address=ElectronicAddress(scheme="EM", id="billing@acme.test"),
    address=PostalAddress(line1="Hauptstraße 1", city="Berlin", postal_code="10115", country="DE"),
    contact=Contact(name="Anna Schmidt", phone="+49 30 123456", email="billing@acme.test"),
)
GERMAN_CITY = Party(
    name="Stadt Köln",
    electronic_address=ElectronicAddress(scheme="0204", id="05315-12345-67"),
    address=PostalAddress(line1="Markt 1", city="Köln", postal_code="50667", country="DE"),
)
SEPA = PaymentMeans(
    code="58",
    remittance_information="ACME-00001",
    iban="DE89370400440532013000",
    account_name="Acme",
    bic="COBADEFFXXX",
)


def a_document(**changes: Any) -> EinvoiceDocument:
    """An invoice from a German seller to the city of Cologne: two lines at 19 % and 7 %."""
    lines = [
        DocumentLine(
            id="1",
            name="Consulting",
            quantity=Decimal(3),
            unit_code="HUR",
            net_price=Decimal("150.00"),
            net_amount=Decimal("450.00"),
            vat_category="S",
            vat_rate=Decimal(19),
        ),
        DocumentLine(
            id="2",
            name="Handbook",
            quantity=Decimal("1.5"),
            unit_code="C62",
            net_price=Decimal("10.333"),
            net_amount=Decimal("15.50"),
            vat_category="S",
            vat_rate=Decimal(7),
        ),
    ]
    fields: dict[str, Any] = {
        "type_code": "380",
        "number": "ACME-00001",
        "issue_date": date(2026, 12, 1),
        "currency": "EUR",
        "due_date": date(2026, 12, 15),
        "buyer_reference": "05315-12345-67",
        "notes": ["Thank you for your order."],
        "payment_terms": "Payable within 14 days.",
        "delivery_date": date(2026, 12, 1),
        "seller": SELLER,
        "buyer": GERMAN_CITY,
        "payment_means": SEPA,
        "lines": lines,
        "vat_breakdown": [
            VatBreakdown(
                category="S", rate=Decimal(19), taxable_amount=Decimal("450.00"), tax_amount=Decimal("85.50")
            ),
            VatBreakdown(
                category="S", rate=Decimal(7), taxable_amount=Decimal("15.50"), tax_amount=Decimal("1.09")
            ),
        ],
        "line_total": Decimal("465.50"),
        "tax_exclusive_total": Decimal("465.50"),
        "tax_total": Decimal("86.59"),
        "tax_inclusive_total": Decimal("552.09"),
        "payable_amount": Decimal("552.09"),
    }
    fields.update(changes)
    return EinvoiceDocument(**fields)


def a_credit_note(**changes: Any) -> EinvoiceDocument:
    """The credit note that corrects `a_document()` in full."""
    return a_document(
        type_code="381",
        number="CN-00001",
        preceding_invoice=PrecedingInvoice(number="ACME-00001", issue_date=date(2026, 12, 1)),
        **changes,
    )
