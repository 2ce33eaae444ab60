"""The EN 16931 semantic model of one invoice or credit note, as every e-invoice format writes it.

Amounts are decimals in the document's currency (the standard allows at most two decimals), so the
writers (`adapters/einvoice_cii.py`, `adapters/einvoice_ubl.py`) only lay out what is here; every
sum and every default is decided when the document is built from Remit's records.
The business term each field carries is named beside it.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Literal

from pydantic import Field

from remit.domain.einvoices import ElectronicAddress, VatCategory
from remit.domain.values import Model


class PostalAddress(Model):
    """BG-5 / BG-8: the country is required, the rest where known."""

    line1: str | None = None  # BT-35 / BT-50
    line2: str | None = None  # BT-36 / BT-51
    city: str | None = None  # BT-37 / BT-52
    postal_code: str | None = None  # BT-38 / BT-53
    region: str | None = None  # BT-39 / BT-54
    country: str  # BT-40 / BT-55, ISO 3166-1 alpha-2


class Contact(Model):
    """BG-6 / BG-9."""

    name: str | None = None
    phone: str | None = None
    email: str | None = None


class Party(Model):
    """The seller (BG-4) or the buyer (BG-7)."""

    name: str  # BT-27 / BT-44
    trading_name: str | None = None  # BT-28 / BT-45
    legal_id: str | None = None  # BT-30 / BT-47
    vat_id: str | None = None  # BT-31 / BT-48
    tax_registration_id: str | None = None  # BT-32 (seller only)
    electronic_address: ElectronicAddress | None = None  # BT-34 / BT-49
    address: PostalAddress
    contact: Contact | None = None


class PaymentMeans(Model):
    """BG-16: how the buyer pays: `58` SEPA credit transfer, `30` credit transfer, `48` card, `1` other."""

    code: str  # BT-81
    remittance_information: str | None = None  # BT-83
    iban: str | None = None  # BT-84
    account_name: str | None = None  # BT-85
    bic: str | None = None  # BT-86


class DocumentLine(Model):
    """BG-25: one line; `net_amount` = quantity * net_price, rounded to the currency."""

    id: str  # BT-126, the line's position ("1", "2", …)
    name: str  # BT-153
    quantity: Decimal  # BT-129
    unit_code: str  # BT-130
    net_price: Decimal  # BT-146 (base quantity 1)
    net_amount: Decimal  # BT-131
    vat_category: VatCategory  # BT-151
    vat_rate: Decimal | None  # BT-152; None for category O
    period_start: date | None = None  # BT-134
    period_end: date | None = None  # BT-135


class VatBreakdown(Model):
    """BG-23: one per (category, rate)."""

    category: VatCategory  # BT-118
    rate: Decimal | None  # BT-119; None for category O
    taxable_amount: Decimal  # BT-116
    tax_amount: Decimal  # BT-117
    exemption_reason: str | None = None  # BT-120
    exemption_reason_code: str | None = None  # BT-121 (VATEX)


class PrecedingInvoice(Model):
    """BG-3: what a credit note corrects."""

    number: str  # BT-25
    issue_date: date | None = None  # BT-26


class EinvoiceDocument(Model):
    """One invoice (380) or credit note (381) under EN 16931."""

    type_code: Literal["380", "381"]  # BT-3
    number: str  # BT-1
    issue_date: date  # BT-2
    currency: str  # BT-5
    due_date: date | None = None  # BT-9
    buyer_reference: str | None = None  # BT-10
    order_reference: str | None = None  # BT-13
    notes: list[str] = Field(default_factory=list)  # BT-22
    payment_terms: str | None = None  # BT-20
    delivery_date: date | None = None  # BT-72
    # BG-15 (BT-75 … BT-80): where the goods went; an intra-community supply must name its country.
    deliver_to: PostalAddress | None = None
    period_start: date | None = None  # BT-73
    period_end: date | None = None  # BT-74
    preceding_invoice: PrecedingInvoice | None = None  # BG-3
    seller: Party
    buyer: Party
    payment_means: PaymentMeans | None = None
    lines: list[DocumentLine]
    vat_breakdown: list[VatBreakdown]
    line_total: Decimal  # BT-106
    tax_exclusive_total: Decimal  # BT-109
    tax_total: Decimal  # BT-110
    tax_inclusive_total: Decimal  # BT-112
    prepaid_amount: Decimal = Decimal(0)  # BT-113
    payable_amount: Decimal  # BT-115
    # The language the document's words are in (notes, the exemption reasons), e.g. "de".
    language: str = "en"
