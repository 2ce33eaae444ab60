"""Remit's invoices and credit notes as EN 16931 documents (`EinvoiceDocument`), ready to be written.

Everything comes from what the document keeps: an issued invoice's snapshots of its customer (name,
address, tax id, e-invoice details) are used before the customer's current record, so that a
re-download after the customer changed gives the same document. Amounts are the document's own, in
minor units turned into decimals by the currency's exponent: the e-invoice shows exactly the totals
the PDF shows. Pure: no I/O, no clock.

* A line's VAT category is its own, else derived from its rate and the customer's treatment; a
  breakdown (BG-23) is made per (category, rate), its tax the sum of its lines' taxes as Remit
  computed them (docs/einvoicing-formats.md says why BR-CO-17 can still refuse one).
* Categories that carry no VAT get an exemption reason: the lines' own, else the default words and
  VATEX code (`DEFAULT_EXEMPTION`).
* Payment means: `58` (SEPA credit transfer) for a euro document when the organisation has an IBAN,
  `30` (credit transfer) for another currency with an IBAN, else `1` (not defined).
* A negative line (a discount) keeps a positive net price and a negative quantity (BR-27).
* A document in a currency with more than two decimals (KWD, BHD, …) cannot be written: EN 16931
  amounts have at most two. Building one raises `InvalidInput` on `currency`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from remit.domain.credit_notes import CreditNote, CreditNoteLine
from remit.domain.customer import Customer
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
from remit.domain.einvoices import (
    CATEGORIES_WITH_EXEMPTION_REASON,
    DEFAULT_EXEMPTION,
    CustomerEinvoiceDetails,
    ElectronicAddress,
    TaxTreatment,
    VatCategory,
    vat_category_for,
)
from remit.domain.errors import InvalidInput
from remit.domain.invoice import Invoice, LineItem
from remit.domain.money import line_amount
from remit.domain.organisation import Organisation
from remit.domain.tax_ids import vat_number_or_none
from remit.domain.values import Address, currency_exponent

# EN 16931 amounts have at most two decimals (BR-DEC-*).
MAX_DECIMALS = 2
# Words for an exempt breakdown whose lines give no reason of their own (BR-E-10 wants one).
EXEMPT_REASON = "Exempt from VAT"
# The credit transfer codes (UNTDID 4461): SEPA within the euro area, any other otherwise.
SEPA_CREDIT_TRANSFER, CREDIT_TRANSFER, NOT_DEFINED = "58", "30", "1"


def einvoice_for_invoice(
    invoice: Invoice, *, organisation: Organisation, customer: Customer
) -> EinvoiceDocument:
    """The issued invoice as an EN 16931 commercial invoice (380).

    Raises `InvalidInput` naming `currency` for a currency with more than two decimals, and naming
    `organisation.address.country` or `customer.address.country` when a party has no country.
    """
    exponent = _exponent(invoice.currency)
    details = _buyer_details(invoice, customer)
    issue_date = invoice.issue_date or invoice.created_at.date()
    lines = [
        _invoice_line(index, line, details.tax_treatment, exponent)
        for index, line in enumerate(invoice.line_items)
    ]
    taxed = _taxed(invoice.line_items, details.tax_treatment)
    not_subject = any(line.vat_category == "O" for line in lines)
    buyer = _buyer(invoice, customer, details, not_subject=not_subject)
    prepaid = _money(invoice.credit_applied, exponent)
    total = _money(invoice.total, exponent)
    return EinvoiceDocument(
        type_code="380",
        number=invoice.number or invoice.id,
        issue_date=issue_date,
        currency=invoice.currency,
        due_date=invoice.due_date,
        buyer_reference=details.buyer_reference,
        notes=_one_note([invoice.memo, invoice.footer]),
        delivery_date=_delivery_date(invoice, issue_date),
        period_start=invoice.period_start,
        period_end=invoice.period_end,
        deliver_to=_deliver_to(lines, buyer),
        seller=_seller(organisation, not_subject=not_subject),
        buyer=buyer,
        payment_means=_payment_means(organisation, invoice.currency, invoice.number or invoice.id),
        lines=lines,
        vat_breakdown=_breakdown(taxed, exponent),
        line_total=_money(invoice.subtotal, exponent),
        tax_exclusive_total=_money(invoice.subtotal, exponent),
        tax_total=_money(invoice.tax_total, exponent),
        tax_inclusive_total=total,
        prepaid_amount=prepaid,
        payable_amount=total - prepaid,
        language=_language(invoice.customer_locale or organisation.locale),
    )


def einvoice_for_credit_note(
    credit_note: CreditNote, *, invoice: Invoice, organisation: Organisation, customer: Customer
) -> EinvoiceDocument:
    """The credit note as an EN 16931 credit note (381) that names the invoice it corrects (BG-3).

    Its buyer is the invoice's (the invoice's snapshots first). Raises as `einvoice_for_invoice`.
    """
    exponent = _exponent(credit_note.currency)
    details = _buyer_details(invoice, customer)
    treatment = details.tax_treatment
    lines = [
        _credit_note_line(index, line, treatment, exponent) for index, line in enumerate(credit_note.lines)
    ]
    taxed = _taxed(credit_note.lines, treatment)
    not_subject = any(line.vat_category == "O" for line in lines)
    buyer = _buyer(invoice, customer, details, not_subject=not_subject)
    total = _money(credit_note.total, exponent)
    invoice_issue_date = credit_note.invoice_issue_date
    return EinvoiceDocument(
        type_code="381",
        number=credit_note.number,
        issue_date=credit_note.issue_date,
        currency=credit_note.currency,
        buyer_reference=details.buyer_reference,
        notes=_one_note([credit_note.memo]),
        # A credit note is not paid by the buyer; BR-CO-25 still wants terms when its amount is positive.
        payment_terms=f"Credit note for invoice {credit_note.invoice_number}: nothing is due from the buyer.",
        delivery_date=_delivery_date(invoice, invoice_issue_date),
        period_start=invoice.period_start,
        period_end=invoice.period_end,
        preceding_invoice=PrecedingInvoice(number=credit_note.invoice_number, issue_date=invoice_issue_date),
        deliver_to=_deliver_to(lines, buyer),
        seller=_seller(organisation, not_subject=not_subject),
        buyer=buyer,
        payment_means=_payment_means(organisation, credit_note.currency, credit_note.number),
        lines=lines,
        vat_breakdown=_breakdown(taxed, exponent),
        line_total=_money(credit_note.subtotal, exponent),
        tax_exclusive_total=_money(credit_note.subtotal, exponent),
        tax_total=_money(credit_note.tax_total, exponent),
        tax_inclusive_total=total,
        payable_amount=total,
        language=_language(credit_note.customer_locale or invoice.customer_locale or organisation.locale),
    )


# --- amounts ------------------------------------------------------------------------------------


def _exponent(currency: str) -> int:
    exponent = currency_exponent(currency)
    if exponent > MAX_DECIMALS:
        raise InvalidInput.single(
            "currency",
            f"{currency} amounts have {exponent} decimals, and an EN 16931 e-invoice allows at most "
            f"{MAX_DECIMALS}: a document in {currency} cannot be issued as an e-invoice",
        )
    return exponent


def _money(minor_units: int, exponent: int) -> Decimal:
    """Minor units as a decimal amount with the currency's decimals (1999 EUR cents → 19.99)."""
    return Decimal(minor_units).scaleb(-exponent)


# --- lines --------------------------------------------------------------------------------------


def _category(given: VatCategory | None, rate: Decimal, treatment: TaxTreatment) -> VatCategory:
    return given or vat_category_for(rate, treatment)


def _line_rate(category: VatCategory, rate: Decimal) -> Decimal | None:
    # `O` (not subject to VAT) has no rate at all (BR-O-5).
    return None if category == "O" else rate


def _invoice_line(index: int, line: LineItem, treatment: TaxTreatment, exponent: int) -> DocumentLine:
    quantity, price = _quantity_and_price(line.quantity, line.unit_amount)
    return _document_line(index, line, quantity, price, treatment, exponent)


def _credit_note_line(
    index: int, line: CreditNoteLine, treatment: TaxTreatment, exponent: int
) -> DocumentLine:
    quantity, price = Decimal(1), line.amount
    # A line credited by quantity shows it, unless its last credit took a remainder that the quantity
    # times the price would not give (then it is one unit of the amount credited).
    if (
        line.quantity is not None
        and line.unit_amount is not None
        and line_amount(line.unit_amount, line.quantity) == line.amount
    ):
        quantity, price = _quantity_and_price(line.quantity, line.unit_amount)
    return _document_line(index, line, quantity, price, treatment, exponent)


def _document_line(
    index: int,
    line: LineItem | CreditNoteLine,
    quantity: Decimal,
    price: int,
    treatment: TaxTreatment,
    exponent: int,
) -> DocumentLine:
    """Line `index` (from 0) of the document: `quantity` at the net `price`, the line's amount,
    its VAT category under the buyer's `treatment` and the rate that category carries."""
    category = _category(line.vat_category, line.tax_rate, treatment)
    return DocumentLine(
        id=str(index + 1),
        name=line.description,
        quantity=quantity,
        unit_code=line.unit_code,
        net_price=_money(price, exponent),
        net_amount=_money(line.amount, exponent),
        vat_category=category,
        vat_rate=_line_rate(category, line.tax_rate),
    )


def _quantity_and_price(quantity: Decimal, unit_amount: int) -> tuple[Decimal, int]:
    """A net price is never negative (BR-27): a discount is a negative quantity at a positive price."""
    if unit_amount < 0:
        return -quantity, -unit_amount
    return quantity, unit_amount


# --- VAT breakdown ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Taxed:
    category: VatCategory
    rate: Decimal
    amount: int
    tax_amount: int
    exemption_reason: str | None


def _taxed(lines: Iterable[LineItem | CreditNoteLine], treatment: TaxTreatment) -> list[_Taxed]:
    return [
        _Taxed(
            _category(line.vat_category, line.tax_rate, treatment),
            line.tax_rate,
            line.amount,
            line.tax_amount,
            line.exemption_reason,
        )
        for line in lines
    ]


def _breakdown(lines: Sequence[_Taxed], exponent: int) -> list[VatBreakdown]:
    """One breakdown per (category, rate), in category then rate order; its tax is the sum of its
    lines' taxes, so that BR-CO-14 (the tax total is the breakdowns' sum) holds exactly."""
    groups: dict[tuple[VatCategory, Decimal | None], list[_Taxed]] = {}
    for line in lines:
        rate = _line_rate(line.category, line.rate)
        groups.setdefault((line.category, None if rate is None else rate.normalize()), []).append(line)
    breakdown = []
    for (category, rate), members in sorted(groups.items(), key=lambda item: (item[0][0], item[0][1] or 0)):
        reason, code = _exemption(category, members)
        breakdown.append(
            VatBreakdown(
                category=category,
                # `O` lines have no rate; its breakdown says 0, as XRechnung requires a rate (BR-DE-14)
                # and EN 16931 allows one there.
                rate=Decimal(0) if rate is None else members[0].rate,
                taxable_amount=_money(sum(line.amount for line in members), exponent),
                tax_amount=_money(sum(line.tax_amount for line in members), exponent),
                exemption_reason=reason,
                exemption_reason_code=code,
            )
        )
    return breakdown


def _exemption(category: str, lines: Sequence[_Taxed]) -> tuple[str | None, str | None]:
    """The reason (BT-120) and VATEX code (BT-121) of a breakdown that carries no VAT."""
    if category not in CATEGORIES_WITH_EXEMPTION_REASON:
        return None, None
    code, default_words = DEFAULT_EXEMPTION.get(category, (None, EXEMPT_REASON))
    given = list(dict.fromkeys(line.exemption_reason for line in lines if line.exemption_reason))
    return ("; ".join(given) if given else default_words), code


# --- parties ------------------------------------------------------------------------------------


def _seller(organisation: Organisation, *, not_subject: bool) -> Party:
    legal = organisation.legal
    registration_name = legal.registration_name if legal else None
    vat_id = (legal.vat_id if legal else None) or vat_number_or_none(organisation.tax_id)
    contact_email = (legal.contact_email if legal else None) or organisation.email
    electronic_address = legal.electronic_address if legal else None
    if electronic_address is None and contact_email:
        electronic_address = ElectronicAddress(scheme="EM", id=contact_email)
    return Party(
        name=registration_name or organisation.name,
        trading_name=organisation.name
        if registration_name and registration_name != organisation.name
        else None,
        legal_id=legal.company_id if legal else None,
        # A document with lines not subject to VAT names no VAT identifier (BR-O-2).
        vat_id=None if not_subject else vat_id,
        tax_registration_id=legal.tax_registration_id if legal else None,
        electronic_address=electronic_address,
        address=_postal_address(organisation.address, None, "organisation.address.country"),
        contact=Contact(
            name=legal.contact_name if legal else None,
            phone=legal.contact_phone if legal else None,
            email=contact_email,
        ),
    )


def _buyer_details(invoice: Invoice, customer: Customer) -> CustomerEinvoiceDetails:
    """The buyer's e-invoice details as the invoice recorded them at finalization, else as they are."""
    return invoice.customer_einvoice or customer.einvoice_details()


def _buyer(
    invoice: Invoice, customer: Customer, details: CustomerEinvoiceDetails, *, not_subject: bool
) -> Party:
    snapshotted = invoice.customer_name is not None
    email = invoice.customer_email if snapshotted else customer.email
    address = invoice.customer_address if snapshotted else customer.address
    vat_id = details.vat_id
    if vat_id is None and not invoice.customer_einvoice:
        vat_id = vat_number_or_none(invoice.customer_tax_id if snapshotted else customer.tax_id)
    electronic_address = details.electronic_address
    if electronic_address is None and email:
        electronic_address = ElectronicAddress(scheme="EM", id=email)
    return Party(
        name=(invoice.customer_name if snapshotted else None) or customer.name,
        vat_id=None if not_subject else vat_id,
        electronic_address=electronic_address,
        address=_postal_address(address, customer.country, "customer.address.country"),
    )


def _postal_address(address: Address | None, country: str | None, field: str) -> PostalAddress:
    found = (address.country if address else None) or country
    if not found:
        raise InvalidInput.single(field, "an e-invoice names each party's country (BT-40, BT-55): set it")
    return PostalAddress(
        line1=address.line1 if address else None,
        line2=address.line2 if address else None,
        city=address.city if address else None,
        postal_code=address.postal_code if address else None,
        region=address.state if address else None,
        country=found,
    )


# --- the rest -----------------------------------------------------------------------------------


def _payment_means(organisation: Organisation, currency: str, reference: str) -> PaymentMeans:
    bank = organisation.payment_methods.bank_transfer
    if bank is None or not bank.iban:
        return PaymentMeans(code=NOT_DEFINED, remittance_information=reference)
    return PaymentMeans(
        code=SEPA_CREDIT_TRANSFER if currency == "EUR" else CREDIT_TRANSFER,
        remittance_information=reference,
        iban=bank.iban,
        account_name=bank.account_name or organisation.name,
        bic=bank.bic,
    )


def _delivery_date(invoice: Invoice, fallback: date) -> date | None:
    """BT-72: the delivery date, else none when an invoicing period says when (BT-73/74), else the
    issue date (the supply is taken to be when it was invoiced)."""
    if invoice.delivery_date is not None:
        return invoice.delivery_date
    if invoice.period_start is not None or invoice.period_end is not None:
        return None
    return fallback


def _deliver_to(lines: Sequence[DocumentLine], buyer: Party) -> PostalAddress | None:
    """BG-15: an intra-community supply (K) names where the goods went (BR-IC-12); Remit knows the
    buyer's address only, so that is where they are taken to have gone."""
    if any(line.vat_category == "K" for line in lines):
        return buyer.address
    return None


def _one_note(texts: Iterable[str | None]) -> list[str]:
    # Peppol allows one note on the document (PEPPOL-EN16931-R002): the memo and footer share it.
    kept = [text.strip() for text in texts if text and text.strip()]
    return ["\n\n".join(kept)] if kept else []


def _language(locale: str) -> str:
    return locale.split("-")[0].lower()
