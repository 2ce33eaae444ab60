"""What a customer is shown of an invoice (emails, PDF, hosted page): one view, built from the
finalized invoice and its organisation, so every rendering shows the same facts.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import Field

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

    @classmethod
    def of(cls, invoice: Invoice, organisation: Organisation) -> InvoiceDocument:
        """The document of a finalized invoice (`ValueError` for a draft: drafts are never shown)."""
        if invoice.number is None or invoice.issue_date is None or invoice.hosted_url is None:
            raise ValueError(f"invoice {invoice.id} is a draft and has no document")
        methods = organisation.payment_methods
        return cls(
            organisation_id=organisation.id,
            invoice_id=invoice.id,
            seller=DocumentParty(
                name=organisation.name,
                email=organisation.email,
                address=organisation.address,
                tax_id=organisation.tax_id,
            ),
            buyer=DocumentParty(
                name=invoice.customer_name or "",
                email=invoice.customer_email,
                address=invoice.customer_address,
                tax_id=invoice.customer_tax_id,
            ),
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
        )


EmailKind = Literal["invoice", "void_notice", "payment_receipt", "reminder", "credit_note"]


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
    "DocumentParty",
    "EmailKind",
    "InvoiceDocument",
    "OutgoingEmail",
    "Payment",
    "RenderedEmail",
    "document_locale",
]
