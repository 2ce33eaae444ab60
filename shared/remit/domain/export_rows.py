"""Each accounting document as a row of its CSV export (columns in `docs/exports.md`).

The fixed columns of each kind are listed here once, beside the function that fills them, so the
header and the rows cannot drift apart; `remit.domain.exports` adds the per-rate tax columns.
"""

from __future__ import annotations

from remit.domain.credit_notes import CreditNote
from remit.domain.customer import Customer
from remit.domain.exports import AccountingKind, ExportRow, amount_cell, count_cell, taxes_of, text_cell
from remit.domain.invoice import Invoice
from remit.domain.payment import Payment

INVOICE_COLUMNS = (
    "number",
    "issue_date",
    "due_date",
    "status",
    "customer_id",
    "customer_name",
    "customer_tax_id",
    "currency",
    "net",
    "tax",
    "total",
    "credit_applied",
    "paid",
    "credited",
    "due",
    "invoice_id",
)

CREDIT_NOTE_COLUMNS = (
    "number",
    "issue_date",
    "invoice_number",
    "invoice_issue_date",
    "status",
    "reason",
    "customer_id",
    "customer_name",
    "currency",
    "net",
    "tax",
    "total",
    "off_amount_due",
    "refunded",
    "to_credit_balance",
    "out_of_band",
    "credit_note_id",
    "invoice_id",
)

PAYMENT_COLUMNS = (
    "received_on",
    "invoice_number",
    "customer_id",
    "customer_name",
    "method",
    "status",
    "reference",
    "currency",
    "amount",
    "refunded",
    "payment_id",
    "invoice_id",
    "provider_payment_id",
)

CUSTOMER_COLUMNS = (
    "customer_id",
    "name",
    "email",
    "first_name",
    "last_name",
    "country",
    "currency",
    "tax_id",
    "vat_id",
    "address_line1",
    "address_line2",
    "city",
    "state",
    "postal_code",
    "address_country",
    "external_ids",
    "payment_terms_days",
    "balance",
    "created_at",
)

COLUMNS: dict[AccountingKind, tuple[str, ...]] = {
    "invoices": INVOICE_COLUMNS,
    "credit_notes": CREDIT_NOTE_COLUMNS,
    "payments": PAYMENT_COLUMNS,
    "customers": CUSTOMER_COLUMNS,
}


def invoice_row(invoice: Invoice) -> ExportRow:
    """A finalized invoice (void ones too: their numbers belong to the series) as issued, with what
    is paid and due as of now; nothing is due on a void one."""
    currency = invoice.currency

    def money(amount: int) -> str:
        return amount_cell(amount, currency)

    return ExportRow(
        (
            text_cell(invoice.number),
            text_cell(invoice.issue_date),
            text_cell(invoice.due_date),
            text_cell(invoice.status),
            text_cell(invoice.customer_id),
            text_cell(invoice.customer_name),
            text_cell(invoice.customer_tax_id),
            text_cell(currency),
            money(invoice.subtotal),
            money(invoice.tax_total),
            money(invoice.total),
            money(invoice.credit_applied),
            money(invoice.amount_paid),
            money(invoice.credited_amount),
            # A void invoice is owed by no one, whatever it still showed as due when voided.
            money(0 if invoice.status == "void" else invoice.amount_due),
            text_cell(invoice.id),
        ),
        currency,
        taxes_of(invoice.tax_breakdown),
    )


def credit_note_row(note: CreditNote) -> ExportRow:
    """A credit note with its amounts negative: it takes from sales what its invoice added, so the
    invoices' and credit notes' files add up to net sales."""
    currency = note.currency

    def money(amount: int) -> str:
        return amount_cell(-amount, currency)

    return ExportRow(
        (
            text_cell(note.number),
            text_cell(note.issue_date),
            text_cell(note.invoice_number),
            text_cell(note.invoice_issue_date),
            text_cell(note.status),
            text_cell(note.reason),
            text_cell(note.customer_id),
            text_cell(note.customer_name),
            text_cell(currency),
            money(note.subtotal),
            money(note.tax_total),
            money(note.total),
            money(note.pre_payment_amount),
            money(note.refund_amount),
            money(note.credit_amount),
            money(note.out_of_band_amount),
            text_cell(note.id),
            text_cell(note.invoice_id),
        ),
        currency,
        taxes_of(note.tax_breakdown, sign=-1),
    )


def payment_row(payment: Payment, invoice_number: str | None, customer_name: str | None) -> ExportRow:
    """A payment received (or refunded since), with its invoice's number and its customer's name."""
    currency = payment.currency
    return ExportRow(
        (
            text_cell(payment.received_on),
            text_cell(invoice_number),
            text_cell(payment.customer_id),
            text_cell(customer_name),
            text_cell(payment.method),
            text_cell(payment.status),
            text_cell(payment.reference),
            text_cell(currency),
            amount_cell(payment.amount, currency),
            amount_cell(payment.amount_refunded, currency),
            text_cell(payment.id),
            text_cell(payment.invoice_id),
            text_cell(payment.provider_payment_id),
        ),
    )


def customer_row(customer: Customer) -> ExportRow:
    """A customer's billing details; `balance` is its credit in its own currency."""
    address = customer.address
    return ExportRow(
        (
            text_cell(customer.id),
            text_cell(customer.name),
            text_cell(customer.email),
            text_cell(customer.first_name),
            text_cell(customer.last_name),
            text_cell(customer.country),
            text_cell(customer.currency),
            text_cell(customer.tax_id),
            text_cell(customer.vat_id),
            text_cell(address.line1 if address else None),
            text_cell(address.line2 if address else None),
            text_cell(address.city if address else None),
            text_cell(address.state if address else None),
            text_cell(address.postal_code if address else None),
            text_cell(address.country if address else None),
            text_cell(" | ".join(customer.external_ids) if customer.external_ids else None),
            count_cell(customer.payment_terms_days),
            amount_cell(customer.balances.get(customer.currency, 0), customer.currency),
            text_cell(customer.created_at.isoformat().replace("+00:00", "Z")),
        ),
    )
