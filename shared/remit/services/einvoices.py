"""E-invoices: checked before an invoice or credit note is numbered, and produced for download.

Guarantees:

* For a customer with an `einvoice_format`, `check` (invoices) and `check_credit_note` build the
  EN 16931 document with the number about to be given, write it in the format and validate it
  (XSD, EN 16931, the format's own rules) before the caller locks or numbers anything: a document
  that breaks a rule raises `EinvoiceRefused` naming every failed rule (and the Remit field behind
  it when known), a validator that cannot be reached raises `DocumentUnavailable` (retryable). The
  caller's transaction is then never committed: nothing is locked, numbered or consumed.
* The report of that check is stored with the invoice or credit note (`einvoice`) by the
  transaction that numbers it; for a customer without a format, nothing is checked at finalization
  and nothing is stored.
* `invoice_einvoice` and `credit_note_einvoice` answer the document (the XML, or for `facturx` the
  Factur-X PDF built on the invoice PDF the documents service renders) with its validation report,
  computed for the download: a download is a pure read, it writes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from remit.domain.credit_notes import CreditNote
from remit.domain.customer import Customer
from remit.domain.einvoice_documents import EinvoiceDocument
from remit.domain.einvoices import Einvoice, EinvoiceFormat, EinvoiceStatus, ValidationReport
from remit.domain.errors import Conflict, EinvoiceRefused, InvalidInput, NotFound
from remit.domain.invoice import Invoice
from remit.domain.organisation import Organisation
from remit.ports.credit_notes import CreditNoteReader
from remit.ports.einvoices import EinvoiceValidator, EinvoiceWriter
from remit.services.billing_context import BillingContext
from remit.services.documents import DocumentService

XML = "application/xml"
PDF = "application/pdf"


class InvoiceEinvoiceBuilder(Protocol):
    def __call__(
        self, invoice: Invoice, *, organisation: Organisation, customer: Customer
    ) -> EinvoiceDocument:
        """The invoice in the EN 16931 semantic model."""
        ...


class CreditNoteEinvoiceBuilder(Protocol):
    def __call__(
        self, credit_note: CreditNote, *, invoice: Invoice, organisation: Organisation, customer: Customer
    ) -> EinvoiceDocument:
        """The credit note (of `invoice`) in the EN 16931 semantic model."""
        ...


def einvoice_format_of(invoice: Invoice, customer: Customer | None) -> EinvoiceFormat | None:
    """The format the invoice's e-invoices are in: the snapshot taken at finalization, else the
    customer's (a draft, or an invoice finalized before e-invoices)."""
    snapshot = invoice.customer_einvoice
    if snapshot is not None:
        return snapshot.einvoice_format
    return customer.einvoice_format if customer is not None else None


class EinvoiceService:
    def __init__(
        self,
        context: BillingContext,
        credit_notes: CreditNoteReader,
        documents: DocumentService,
        writer: Callable[[], EinvoiceWriter],
        validator: Callable[[], EinvoiceValidator],
        *,
        invoice_document: InvoiceEinvoiceBuilder,
        credit_note_document: CreditNoteEinvoiceBuilder,
        field_for_rule: Callable[[str, str | None], str | None],
    ) -> None:
        self._context = context
        self._billing = context.billing
        self._clock = context.clock
        self._credit_notes = credit_notes
        self._documents = documents
        # Factories: the XML libraries and the rule sets load only for requests that need them.
        self._writer = writer
        self._validator = validator
        self._invoice_document = invoice_document
        self._credit_note_document = credit_note_document
        self._field_for_rule = field_for_rule

    # --- before numbering -----------------------------------------------------------------------

    def check(
        self, invoice: Invoice, organisation: Organisation, customer: Customer
    ) -> EinvoiceStatus | None:
        """Validate the e-invoice of `invoice` (finalized in memory, with the number it is about to
        take) in the customer's format: its status when valid, None for a customer without a format.

        Raises `EinvoiceRefused` (422, each failed rule) when it breaks a rule, `DocumentUnavailable`
        (503) when the validator cannot be reached. Writes nothing.
        """
        einvoice_format = einvoice_format_of(invoice, customer)
        if einvoice_format is None:
            return None
        document = self._invoice_document(invoice, organisation=organisation, customer=customer)
        return self._refused_unless_valid(einvoice_format, self._validated(einvoice_format, document)[1])

    def check_credit_note(
        self, credit_note: CreditNote, invoice: Invoice, organisation: Organisation, customer: Customer
    ) -> EinvoiceStatus | None:
        """As `check`, for a credit note about to be issued on `invoice` (the invoice's format)."""
        einvoice_format = einvoice_format_of(invoice, customer)
        if einvoice_format is None:
            return None
        document = self._credit_note_document(
            credit_note, invoice=invoice, organisation=organisation, customer=customer
        )
        return self._refused_unless_valid(einvoice_format, self._validated(einvoice_format, document)[1])

    def _refused_unless_valid(
        self, einvoice_format: EinvoiceFormat, report: ValidationReport
    ) -> EinvoiceStatus:
        if not report.valid:
            raise EinvoiceRefused(einvoice_format, report.failed_rules)
        return self._status(report, self._clock.now())

    # --- downloads ------------------------------------------------------------------------------

    def invoice_einvoice(
        self, account_id: str, organisation_id: str, invoice_id: str, einvoice_format: EinvoiceFormat | None
    ) -> Einvoice:
        """The finalized invoice's e-invoice in `einvoice_format` (else the one its customer takes),
        validated (the report is answered, not stored).

        Raises `NotFound` for an unknown invoice or another account's; `Conflict` (409) for a draft;
        `InvalidInput` naming `format` when none is given and the customer takes none;
        `DocumentUnavailable` when the validator (or, for `facturx`, the PDF) cannot be produced.
        """
        organisation, invoice, _ = self._billing.read_for_billing(organisation_id, invoice_id=invoice_id)
        organisation, invoice = self._context.owned(
            account_id, organisation_id, organisation, invoice, invoice_id
        )
        if invoice.status == "draft":
            raise Conflict("A draft has no e-invoice yet: finalize the invoice first.")
        customer = self._context.existing_customer_of(invoice)
        einvoice_format = einvoice_format or einvoice_format_of(invoice, customer)
        if einvoice_format is None:
            raise InvalidInput.single("format", _NO_FORMAT)
        document = self._invoice_document(invoice, organisation=organisation, customer=customer)
        xml, report = self._validated(einvoice_format, document)
        if einvoice_format == "facturx":
            _, pdf = self._documents.pdf_of(invoice, organisation)
            return Einvoice(
                self._writer().facturx_pdf(pdf, xml, document), PDF, f"{invoice.number}.pdf", report
            )
        return Einvoice(xml, XML, f"{invoice.number}-{einvoice_format}.xml", report)

    def credit_note_einvoice(
        self,
        account_id: str,
        organisation_id: str,
        credit_note_id: str,
        einvoice_format: EinvoiceFormat | None,
    ) -> Einvoice:
        """The credit note's e-invoice in `einvoice_format` (else its invoice's), validated (the
        report is answered, not stored). Raises as `invoice_einvoice` does (`NotFound` for an unknown
        credit note or another account's).
        """
        self._context.access.require_access(account_id, organisation_id)
        credit_note = self._credit_notes.get(organisation_id, credit_note_id)
        if credit_note is None:
            raise NotFound("credit note", credit_note_id)
        organisation, invoice, _ = self._billing.read_for_billing(
            organisation_id, invoice_id=credit_note.invoice_id
        )
        if organisation is None or invoice is None:
            raise NotFound("credit note", credit_note_id)
        customer = self._context.existing_customer_of(invoice)
        einvoice_format = einvoice_format or einvoice_format_of(invoice, customer)
        if einvoice_format is None:
            raise InvalidInput.single("format", _NO_FORMAT)
        document = self._credit_note_document(
            credit_note, invoice=invoice, organisation=organisation, customer=customer
        )
        xml, report = self._validated(einvoice_format, document)
        if einvoice_format == "facturx":
            _, pdf = self._documents.credit_note_pdf_of(credit_note, invoice, organisation)
            content = self._writer().facturx_pdf(pdf, xml, document)
            return Einvoice(content, PDF, f"{credit_note.number}.pdf", report)
        return Einvoice(xml, XML, f"{credit_note.number}-{einvoice_format}.xml", report)

    # --- helpers --------------------------------------------------------------------------------

    def _validated(
        self, einvoice_format: EinvoiceFormat, document: EinvoiceDocument
    ) -> tuple[bytes, ValidationReport]:
        xml = self._writer().xml(document, einvoice_format)
        report = self._validator().validate(einvoice_format, xml)
        # Each failed rule names the Remit field behind it when the validator could not.
        named = [
            rule
            if rule.field
            else rule.model_copy(update={"field": self._field_for_rule(rule.rule, rule.location)})
            for rule in report.failed_rules
        ]
        return xml, report.model_copy(update={"failed_rules": named})

    @staticmethod
    def _status(report: ValidationReport, now: datetime) -> EinvoiceStatus:
        return EinvoiceStatus(
            format=report.format, valid=report.valid, validated_at=now, failed_rules=report.failed_rules
        )


_NO_FORMAT = (
    "is required: the customer takes no e-invoice format "
    "(facturx, xrechnung_cii, xrechnung_ubl or peppol_ubl)"
)
