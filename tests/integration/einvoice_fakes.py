"""A writer, a validator and document builders that stand in for the real ones where a test is about
the flow around them: what is refused, numbered, stored and answered.

The validator judges the document the writer wrote (not a flag): an XRechnung without a buyer
reference fails BR-DE-15, as the official rules would, so a test fixes the customer and sees the
invoice pass. It can also be switched to fail a given rule on everything, or to be unreachable.
"""

from __future__ import annotations

import re
import threading
from decimal import Decimal

from remit import bootstrap
from remit.domain.credit_notes import CreditNote
from remit.domain.customer import Customer
from remit.domain.einvoice_documents import EinvoiceDocument
from remit.domain.einvoices import EinvoiceFormat, FailedRule, ValidationReport
from remit.domain.errors import DocumentUnavailable
from remit.domain.invoice import Invoice
from remit.domain.organisation import Organisation

FIELDS = {"BR-DE-15": "customer.buyer_reference", "BR-CO-26": "organisation.legal.vat_id"}


def invoice_document(invoice: Invoice, *, organisation: Organisation, customer: Customer) -> EinvoiceDocument:
    snapshot = invoice.customer_einvoice
    return EinvoiceDocument.model_construct(
        type_code="380",
        number=invoice.number or "",
        buyer_reference=snapshot.buyer_reference if snapshot else customer.buyer_reference,
        currency=invoice.currency,
        payable_amount=Decimal(invoice.amount_due) / 100,
    )


def credit_note_document(
    credit_note: CreditNote, *, invoice: Invoice, organisation: Organisation, customer: Customer
) -> EinvoiceDocument:
    snapshot = invoice.customer_einvoice
    return EinvoiceDocument.model_construct(
        type_code="381",
        number=credit_note.number,
        buyer_reference=snapshot.buyer_reference if snapshot else customer.buyer_reference,
        currency=credit_note.currency,
        payable_amount=Decimal(credit_note.total) / 100,
    )


class TaggedWriter:
    """Writes the few terms the fake validator reads as XML tags."""

    def xml(self, document: EinvoiceDocument, einvoice_format: EinvoiceFormat) -> bytes:
        reference = (
            f"<BuyerReference>{document.buyer_reference}</BuyerReference>" if document.buyer_reference else ""
        )
        return (
            f'<?xml version="1.0" encoding="UTF-8"?><Einvoice format="{einvoice_format}" '
            f'type="{document.type_code}"><ID>{document.number}</ID>{reference}</Einvoice>'
        ).encode()

    def facturx_pdf(self, pdf: bytes, xml: bytes, document: EinvoiceDocument) -> bytes:
        assert pdf.startswith(b"%PDF"), "Factur-X is built on the invoice's PDF"
        return pdf + b"\n%factur-x.xml " + xml


class JudgingValidator:
    """Fails BR-DE-15 for an XRechnung without buyer reference; `fail` adds a rule to every
    document, `unreachable` makes every call fail as a validator that cannot be reached."""

    def __init__(self) -> None:
        self.fail: FailedRule | None = None
        self.unreachable = False
        self.validated: list[bytes] = []
        self._lock = threading.Lock()

    def validate(self, einvoice_format: EinvoiceFormat, document: bytes) -> ValidationReport:
        if self.unreachable:
            raise DocumentUnavailable("The e-invoice validator cannot be reached.", retry_after=30)
        with self._lock:
            self.validated.append(document)
        failed: list[FailedRule] = []
        if einvoice_format.startswith("xrechnung") and b"<BuyerReference>" not in document:
            failed.append(
                FailedRule(
                    rule="BR-DE-15",
                    message="The element 'Buyer reference' (BT-10) must be transmitted.",
                    location="/Einvoice",
                )
            )
        if self.fail is not None:
            failed.append(self.fail)
        return ValidationReport(
            format=einvoice_format, valid=not failed, failed_rules=failed, rule_sets=["fake"]
        )


def use_fakes() -> JudgingValidator:
    """The process-wide services with these fakes; returns the validator to steer."""
    validator = JudgingValidator()
    bootstrap.use_einvoice_parts(
        bootstrap.EinvoiceParts(
            writer=TaggedWriter(),
            validator=validator,
            invoice_document=invoice_document,
            credit_note_document=credit_note_document,
            field_for_rule=lambda rule, location: FIELDS.get(rule),
        )
    )
    return validator


def number_in(xml: bytes) -> str:
    found = re.search(rb"<ID>([^<]*)</ID>", xml)
    return found.group(1).decode() if found else ""
