"""An invoice's stored item (`INVOICE#…`), and the items of what hangs on invoices: charges,
payments, timeline entries, credit-balance entries and card payment intents."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from pydantic import Field

from remit.adapters.dynamodb import Item, keyed
from remit.adapters.items import StoredItem
from remit.adapters.items.customers import DraftCustomerItem, without_einvoice_defaults
from remit.domain.card_intents import CardIntent
from remit.domain.charge import Charge
from remit.domain.einvoices import DEFAULT_UNIT_CODE, CustomerEinvoiceDetails, EinvoiceStatus
from remit.domain.invoice import CreditedLine, Invoice, InvoiceEvent, LineItem, TaxBreakdownLine
from remit.domain.payment import BalanceTransaction, Payment
from remit.domain.values import Address

_LINE_DEFAULTS: tuple[tuple[str, str | None], ...] = (
    ("vat_category", None),
    ("exemption_reason", None),
    ("unit_code", DEFAULT_UNIT_CODE),
)


class InvoiceItem(StoredItem):
    id: str
    organisation_id: str
    customer_id: str
    number: str | None = None
    status: str = "draft"
    currency: str
    issue_date: date | None = None
    due_date: date
    line_items: list[LineItem] = Field(default_factory=list)
    subtotal: int = 0
    tax_total: int = 0
    total: int = 0
    tax_breakdown: list[TaxBreakdownLine] = Field(default_factory=list)
    credit_applied: int = 0
    amount_paid: int = 0
    amount_due: int = 0
    credited_amount: int = 0
    # As of the last write; the API's answer says it as of the organisation's today.
    overdue: bool = False
    memo: str | None = None
    footer: str | None = None
    hosted_url: str | None = None
    source: str = "manual"
    subscription_id: str | None = None
    period_start: date | None = None
    period_end: date | None = None
    delivery_date: date | None = None
    customer_name: str | None = None
    customer_email: str | None = None
    customer_address: Address | None = None
    customer_tax_id: str | None = None
    customer_locale: str | None = None
    customer_einvoice: CustomerEinvoiceDetails | None = None
    einvoice: EinvoiceStatus | None = None
    finalized_at: datetime | None = None
    sent_at: datetime | None = None
    paid_at: datetime | None = None
    voided_at: datetime | None = None
    marked_uncollectible_at: datetime | None = None
    created_at: datetime
    updated_at: datetime
    # Storage and the domain only: never part of the API's invoice.
    days_until_due: int | None = None
    timezone: str = "UTC"
    draft_customer: DraftCustomerItem | None = None
    recipients: list[str] = Field(default_factory=list)
    sequence: int | None = None
    next_reminder_on: date | None = None
    overdue_announced: bool = False
    hosted_token: str | None = None
    logo_key: str | None = None
    finalized_by_request: str | None = None
    in_overview: bool = False
    credited_before_payment: int = 0
    credited_lines: dict[str, CreditedLine] = Field(default_factory=dict)
    credited_nets: dict[str, int] = Field(default_factory=dict)
    credited_taxes: dict[str, int] = Field(default_factory=dict)
    version: int = 0

    @classmethod
    def of(cls, invoice: Invoice) -> InvoiceItem:
        draft = invoice.draft_customer
        return cls.copied_from(invoice, draft_customer=DraftCustomerItem.of(draft) if draft else None)

    def invoice(self) -> Invoice:
        draft = self.draft_customer.customer() if self.draft_customer else None
        return Invoice.model_construct(**self.values("draft_customer"), draft_customer=draft)

    def attributes(self) -> Item:
        # An invoice never credited (nor e-invoiced) keeps its item as it was before (no migration).
        attributes = super().attributes()
        for name, nothing in (
            ("credited_amount", 0),
            ("credited_before_payment", 0),
            ("credited_lines", {}),
            ("credited_nets", {}),
            ("credited_taxes", {}),
            ("delivery_date", None),
            ("customer_einvoice", None),
            ("einvoice", None),
            ("overdue_announced", False),
        ):
            if attributes.get(name) == nothing:
                del attributes[name]
        if attributes.get("draft_customer"):
            without_einvoice_defaults(attributes["draft_customer"])
        # A line keeps only the e-invoice attributes that differ from what an older line reads as.
        for line in attributes.get("line_items", []):
            for line_name, default in _LINE_DEFAULTS:
                if line.get(line_name, default) == default:
                    line.pop(line_name, None)
        return attributes


def invoice_attributes(invoice: Invoice) -> Item:
    """The attributes of the invoice's item (its keys aside)."""
    return InvoiceItem.of(invoice).attributes()


def invoice_of(item: Item) -> Invoice:
    """The invoice a stored item holds."""
    return InvoiceItem.model_validate(item).invoice()


# Entities stored as they are: their items are their fields (plus keys), read back as validated.


def charge_attributes(charge: Charge) -> Item:
    return charge.model_dump(mode="json")


def charge_of(item: Item) -> Charge:
    return Charge.model_validate(item)


def payment_attributes(payment: Payment) -> Item:
    return payment.model_dump(mode="json")


def payment_of(item: Item) -> Payment:
    return Payment.model_validate(item)


# Timeline entries: the entries one transaction adds to one invoice share one item (a transaction
# bills each item it writes twice per started KB, however small: the billing cycle's created,
# finalized and sent cost one item, not three). The item is the first entry as it is, keyed by its
# id, and the entries after it in `FOLLOWING`, each without the invoice's id; an item of one entry
# (and every item stored before entries were folded) is that entry alone.
FOLLOWING = "following"


def timeline_items(pk: str, entries: Sequence[InvoiceEvent]) -> list[Item]:
    """The items of the timeline entries one transaction adds, one per invoice, in the order given."""
    by_invoice: dict[str, list[InvoiceEvent]] = {}
    for entry in entries:
        by_invoice.setdefault(entry.invoice_id, []).append(entry)
    items = []
    for invoice_id, added in by_invoice.items():
        first, *following = sorted(added, key=lambda entry: entry.id)
        item = keyed(first.model_dump(mode="json"), pk, f"EVENT#{invoice_id}#{first.id}", "invoice_event")
        if following:
            item[FOLLOWING] = [entry.model_dump(mode="json", exclude={"invoice_id"}) for entry in following]
        items.append(item)
    return items


def invoice_events_of(item: Item) -> list[InvoiceEvent]:
    """The timeline entries an item holds, oldest first."""
    first = InvoiceEvent.model_validate(item)
    following = [
        InvoiceEvent.model_validate({**entry, "invoice_id": first.invoice_id})
        for entry in item.get(FOLLOWING, [])
    ]
    return [first, *following]


def balance_transaction_attributes(transaction: BalanceTransaction) -> Item:
    return transaction.model_dump(mode="json")


def balance_transaction_of(item: Item) -> BalanceTransaction:
    return BalanceTransaction.model_validate(item)


def card_intent_attributes(intent: CardIntent) -> Item:
    return intent.model_dump(mode="json")


def card_intent_of(item: Item) -> CardIntent:
    return CardIntent.model_validate(item)
