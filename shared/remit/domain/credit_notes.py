"""Credit notes: the lawful correction of an issued invoice, a document of its own.

A finalized invoice is never edited; a credit note credits part or all of it. It is numbered at
once in its own gapless series per organisation, dated in the organisation's time zone and locked.
Its credited `total` first lowers what is still due on the invoice (`pre_payment_amount`); the rest
is settled exactly as `refund_amount + credit_amount + out_of_band_amount`. The credit notes of an
invoice never add up to more than its total. This module holds the entity as stored and shown;
the rules that build one from a request live beside it. Pure: no I/O, no clock.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import Field

from remit.domain.invoice import Memo, TaxBreakdownLine
from remit.domain.money import Quantity
from remit.domain.values import CurrencyCode, Model, Percentage

CreditNoteStatus = Literal["issued", "void"]
CreditNoteReason = Literal["duplicate", "fraudulent", "order_change", "product_unsatisfactory", "other"]
# Invoices a credit note may correct: issued and not void.
CREDITABLE_INVOICE_STATUSES = ("open", "paid", "uncollectible")


class CreditNoteLine(Model):
    """One credited line: part of an invoice line (by quantity or by net amount), or a free line."""

    id: str  # cnl_…
    invoice_line_id: str | None = Field(
        default=None, description="The invoice line credited; null for a free line."
    )
    description: Annotated[str, Field(min_length=1, max_length=500)]
    quantity: Quantity | None = Field(
        default=None, description="The quantity credited, when the line was credited by quantity."
    )
    unit_amount: int | None = Field(default=None, description="The invoice line's unit amount, by quantity.")
    tax_rate: Percentage
    amount: int = Field(description="Net of tax, in minor units.")
    tax_amount: int


class CreditNote(Model):
    """An issued credit note: locked from the moment it is numbered."""

    id: str  # cn_…
    organisation_id: str
    invoice_id: str
    invoice_number: str = Field(description="The number of the invoice it corrects.")
    invoice_issue_date: date = Field(description="The issue date of the invoice it corrects.")
    customer_id: str
    number: str
    status: CreditNoteStatus = "issued"
    currency: CurrencyCode
    issue_date: date
    lines: list[CreditNoteLine]
    subtotal: int
    tax_total: int
    total: int
    tax_breakdown: list[TaxBreakdownLine]
    reason: CreditNoteReason
    memo: Memo | None = None
    pre_payment_amount: int = Field(description="What the credit note took off the invoice's amount due.")
    refund_amount: int = 0
    credit_amount: int = 0
    out_of_band_amount: int = 0
    customer_name: str | None = Field(default=None, description="The invoice's snapshot of the customer.")
    customer_locale: str | None = None
    recipients: list[str] = Field(default_factory=list)
    created_at: datetime
    voided_at: datetime | None = None
    version: int = 0
