"""What a customer is shown of an invoice (emails, PDF, hosted page): one view, built from the
finalized invoice and its organisation, so every rendering shows the same facts.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Literal

from pydantic import Field

from remit.domain.credit_notes import CreditNote, CreditNoteLine, CreditNoteReason, CreditNoteStatus
from remit.domain.invoice import Invoice, InvoiceStatus, LineItem, TaxBreakdownLine
from remit.domain.organisation import BankTransferDetails, ChequeDetails, Organisation
from remit.domain.payment import Payment
from remit.domain.values import Address, Model

DEFAULT_BRAND_COLOUR = "#1A73E8"
# The language of a document when neither the customer nor the organisation names one.
FALLBACK_LOCALE = "en"


def document_locale(customer_locale: str | None, organisation_locale: str | None) -> str:
    """The locale of a customer's documents: the customer's preferred one, else the organisation's,
    else English.
    """
    return customer_locale or organisation_locale or FALLBACK_LOCALE


class DocumentParty(Model):
    name: str
    email: str | None = None
    address: Address | None = None
    tax_id: str | None = None
    # Its VAT identifier, shown beside the tax id when it is another number.
    vat_id: str | None = None

    @property
    def other_vat_id(self) -> str | None:
        """The VAT id when the tax id shown does not already say it."""
        return self.vat_id if self.vat_id and self.vat_id != self.tax_id else None


def _seller(organisation: Organisation) -> DocumentParty:
    return DocumentParty(
        name=organisation.name,
        email=organisation.email,
        address=organisation.address,
        tax_id=organisation.tax_id,
        vat_id=organisation.legal.vat_id if organisation.legal else None,
    )


def _buyer(invoice: Invoice, name: str | None = None) -> DocumentParty:
    return DocumentParty(
        name=name or invoice.customer_name or "",
        email=invoice.customer_email,
        address=invoice.customer_address,
        tax_id=invoice.customer_tax_id,
        vat_id=invoice.customer_einvoice.vat_id if invoice.customer_einvoice else None,
    )


def reverse_charged(invoice: Invoice, categories: Sequence[str | None]) -> bool:
    """Whether a document must state that the buyer accounts for the VAT (Article 226(11a) of
    Directive 2006/112/EC): its customer was reverse-charged, or one of its lines is (AE)."""
    treatment = invoice.customer_einvoice.tax_treatment if invoice.customer_einvoice else None
    return treatment == "reverse_charge" or "AE" in categories


class CreditNoteSummary(Model):
    """A credit note as its invoice's documents list it, with the public address of its PDF."""

    credit_note_id: str
    number: str
    issue_date: date
    total: int
    status: CreditNoteStatus
    pdf_url: str


def credit_note_pdf_url(hosted_url: str, credit_note_id: str) -> str:
    """The credit note's PDF under its invoice's hosted page (the page's token is the key)."""
    return f"{hosted_url}/credit_notes/{credit_note_id}.pdf"


class InvoiceDocument(Model):
    """Everything a rendering of a finalized invoice may show. Amounts are minor units."""

    organisation_id: str
    invoice_id: str
    seller: DocumentParty
    buyer: DocumentParty
    brand_colour: str
    # The invoice's logo as its documents link to it (`<hosted_url>/logo`: the logo it was issued with).
    logo_url: str | None
    # BCP 47 ("de-DE"): the language of the labels and the formats of dates and amounts.
    locale: str = FALLBACK_LOCALE
    number: str
    status: InvoiceStatus
    currency: str
    issue_date: date
    due_date: date
    overdue: bool
    lines: list[LineItem]
    tax_breakdown: list[TaxBreakdownLine]
    subtotal: int
    tax_total: int
    total: int
    credit_applied: int
    amount_paid: int
    amount_due: int
    memo: str | None
    footer: str | None
    hosted_url: str
    pdf_url: str
    bank_transfer: BankTransferDetails | None
    cheque: ChequeDetails | None
    # A "Pay by card" button: a card provider is connected and the invoice is open.
    card_payments: bool
    # The credit notes that correct it, oldest first (void ones too, marked so); none: nothing shown.
    credit_notes: list[CreditNoteSummary] = Field(default_factory=list)
    # The legal mention that the buyer accounts for the VAT is printed.
    reverse_charge: bool = False

    @classmethod
    def of(
        cls, invoice: Invoice, organisation: Organisation, credit_notes: Sequence[CreditNote] = ()
    ) -> InvoiceDocument:
        """The document of a finalized invoice (`ValueError` for a draft: drafts are never shown),
        listing `credit_notes` (those of another invoice are left out).
        """
        if invoice.number is None or invoice.issue_date is None or invoice.hosted_url is None:
            raise ValueError(f"invoice {invoice.id} is a draft and has no document")
        hosted_url = invoice.hosted_url
        methods = organisation.payment_methods
        return cls(
            organisation_id=organisation.id,
            invoice_id=invoice.id,
            seller=_seller(organisation),
            buyer=_buyer(invoice),
            brand_colour=organisation.branding.brand_colour or DEFAULT_BRAND_COLOUR,
            logo_url=f"{invoice.hosted_url}/logo"
            if invoice.logo_shown(organisation.branding.logo_key)
            else None,
            locale=document_locale(invoice.customer_locale, organisation.locale),
            number=invoice.number,
            status=invoice.status,
            currency=invoice.currency,
            issue_date=invoice.issue_date,
            due_date=invoice.due_date,
            overdue=invoice.overdue,
            lines=invoice.line_items,
            tax_breakdown=invoice.tax_breakdown,
            subtotal=invoice.subtotal,
            tax_total=invoice.tax_total,
            total=invoice.total,
            credit_applied=invoice.credit_applied,
            amount_paid=invoice.amount_paid,
            amount_due=invoice.amount_due,
            memo=invoice.memo,
            footer=invoice.footer,
            hosted_url=invoice.hosted_url,
            pdf_url=f"{invoice.hosted_url}/pdf",
            bank_transfer=methods.bank_transfer,
            cheque=methods.cheque,
            card_payments=methods.card and invoice.status == "open",
            credit_notes=[
                CreditNoteSummary(
                    credit_note_id=note.id,
                    number=note.number,
                    issue_date=note.issue_date,
                    total=note.total,
                    status=note.status,
                    pdf_url=credit_note_pdf_url(hosted_url, note.id),
                )
                for note in credit_notes
                if note.invoice_id == invoice.id and note.organisation_id == organisation.id
            ],
            reverse_charge=reverse_charged(invoice, [line.vat_category for line in invoice.line_items]),
        )


class CreditNoteDocument(Model):
    """Everything a rendering of an issued credit note may show (its PDF, its email). Amounts are
    minor units, positive: what is credited.
    """

    organisation_id: str
    invoice_id: str
    credit_note_id: str
    seller: DocumentParty
    buyer: DocumentParty
    brand_colour: str
    # The logo its invoice was issued with, as the invoice's documents link to it.
    logo_url: str | None
    locale: str = FALLBACK_LOCALE
    number: str
    status: CreditNoteStatus
    currency: str
    issue_date: date
    invoice_number: str
    invoice_issue_date: date
    reason: CreditNoteReason
    memo: str | None
    lines: list[CreditNoteLine]
    tax_breakdown: list[TaxBreakdownLine]
    subtotal: int
    tax_total: int
    total: int
    # How the total is settled: taken off the invoice's amount due, then refunded, credited to the
    # customer's balance, or settled out of band (the four add up to `total`).
    pre_payment_amount: int
    refund_amount: int
    credit_amount: int
    out_of_band_amount: int
    footer: str | None
    # The invoice's hosted page, and the credit note's PDF beneath it.
    hosted_url: str
    pdf_url: str
    # The legal mention that the buyer accounts for the VAT is printed.
    reverse_charge: bool = False

    @classmethod
    def of(cls, credit_note: CreditNote, invoice: Invoice, organisation: Organisation) -> CreditNoteDocument:
        """The document of a credit note of `invoice` (`ValueError` when it is not that invoice's, or
        the invoice has no hosted page).
        """
        if credit_note.invoice_id != invoice.id or credit_note.organisation_id != organisation.id:
            raise ValueError(f"credit note {credit_note.id} does not correct invoice {invoice.id}")
        if invoice.hosted_url is None:
            raise ValueError(f"invoice {invoice.id} is a draft and has no document")
        return cls(
            organisation_id=organisation.id,
            invoice_id=invoice.id,
            credit_note_id=credit_note.id,
            seller=_seller(organisation),
            buyer=_buyer(invoice, credit_note.customer_name),
            brand_colour=organisation.branding.brand_colour or DEFAULT_BRAND_COLOUR,
            logo_url=f"{invoice.hosted_url}/logo"
            if invoice.logo_shown(organisation.branding.logo_key)
            else None,
            locale=document_locale(
                credit_note.customer_locale or invoice.customer_locale, organisation.locale
            ),
            number=credit_note.number,
            status=credit_note.status,
            currency=credit_note.currency,
            issue_date=credit_note.issue_date,
            invoice_number=credit_note.invoice_number,
            invoice_issue_date=credit_note.invoice_issue_date,
            reason=credit_note.reason,
            memo=credit_note.memo,
            lines=credit_note.lines,
            tax_breakdown=credit_note.tax_breakdown,
            subtotal=credit_note.subtotal,
            tax_total=credit_note.tax_total,
            total=credit_note.total,
            pre_payment_amount=credit_note.pre_payment_amount,
            refund_amount=credit_note.refund_amount,
            credit_amount=credit_note.credit_amount,
            out_of_band_amount=credit_note.out_of_band_amount,
            footer=invoice.footer,
            hosted_url=invoice.hosted_url,
            pdf_url=credit_note_pdf_url(invoice.hosted_url, credit_note.id),
            reverse_charge=reverse_charged(invoice, [line.vat_category for line in credit_note.lines]),
        )


EmailKind = Literal["invoice", "void_notice", "payment_receipt", "reminder", "credit_note", "portal_sign_in"]


class RenderedEmail(Model):
    subject: str
    html: str
    text: str


class Attachment(Model):
    filename: str
    content_type: str
    content: bytes


class OutgoingEmail(Model):
    """A message ready for the mail service."""

    sender_name: str
    reply_to: str | None
    to: list[str]
    subject: str
    html: str
    text: str
    attachments: list[Attachment] = Field(default_factory=list)


__all__ = [
    "Attachment",
    "CreditNoteDocument",
    "CreditNoteSummary",
    "DocumentParty",
    "EmailKind",
    "InvoiceDocument",
    "OutgoingEmail",
    "Payment",
    "RenderedEmail",
    "document_locale",
]
