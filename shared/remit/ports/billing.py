"""Invoices, charges, payments and templates: the billing store and its transaction."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Protocol

from remit.domain.billing_template import BillingTemplate
from remit.domain.card_intents import CardIntent
from remit.domain.charge import Charge
from remit.domain.credit_notes import CreditNote
from remit.domain.customer import Customer
from remit.domain.events import EventSource
from remit.domain.invoice import Invoice, InvoiceEvent
from remit.domain.numbering import NumberSeries
from remit.domain.organisation import Organisation
from remit.domain.outbox import OutboxMessage
from remit.domain.overview import OverviewReading, OverviewWindow
from remit.domain.pagination import Page
from remit.domain.payment import BalanceTransaction, Payment
from remit.domain.refunds import Refund
from remit.domain.saved_cards import SavedCard


class BillingTransaction(Protocol):
    """Writes staged for one atomic commit (see the DynamoDB adapter for the conditions each carries)."""

    def insert_invoice(self, invoice: Invoice) -> None: ...
    def update_invoice(self, invoice: Invoice, *, as_read: Invoice) -> Invoice:
        """Write `invoice` if still at `as_read`'s version (the overview counts the difference)."""
        ...

    def delete_invoice(self, invoice: Invoice) -> None: ...
    def claim_number(self, invoice: Invoice, token: str) -> None: ...
    def save_series(self, series: NumberSeries) -> None:
        """Write the number series (as `NumberSeries.take` left it) if still as read."""
        ...

    def adjust_customer(
        self,
        customer_id: str,
        now: datetime,
        *,
        balances: Mapping[str, int] | None = None,
        as_read: Customer | None = None,
        issued_invoices: int = 0,
        expected_version: int | None = None,
        saved_cards: list[SavedCard] | None = None,
        next_charges_billing: date | None = None,
        source: EventSource | None = None,
    ) -> None:
        """One update of the customer; `balances` (all currencies) only if still as `as_read` had them;
        `saved_cards` (the whole list, with its `customer.updated` event, whose `source` is who made
        the change: None for the organisation) only if `as_read` is current."""
        ...

    def insert_balance_transaction(self, transaction: BalanceTransaction) -> None: ...
    def insert_charge(self, charge: Charge) -> None: ...
    def update_charge(self, charge: Charge, expected_status: str) -> None: ...
    def delete_charge(self, charge: Charge) -> None: ...
    def insert_payment(self, payment: Payment, request: str | None = None) -> None: ...
    def insert_outbox(self, message: OutboxMessage) -> None: ...
    def insert_event(self, event: InvoiceEvent) -> None: ...
    def delete_events(self, invoice_id: str, event_ids: list[str]) -> None: ...
    def claim_webhook_event(self, event_id: str, event_type: str, now: datetime) -> None: ...
    def save_card_intent(self, intent: CardIntent) -> CardIntent: ...
    def insert_credit_note(self, note: CreditNote, request: str | None = None) -> None:
        """The credit note, its number's marker and (with `request`) the request's marker, all new."""
        ...

    def update_credit_note(self, note: CreditNote, *, as_read: CreditNote) -> CreditNote:
        """Write `note` if still at `as_read`'s version; returns it at its new version."""
        ...

    def update_payment(self, payment: Payment, *, as_read: Payment) -> Payment:
        """Write the payment's refunded amount and status if still as read; returns it at its new
        version (which moves even when nothing else does)."""
        ...

    def insert_refund(self, refund: Refund) -> None: ...
    def count_refund_by_remit(self, payment_intent_id: str, amount: int) -> None:
        """Add `amount` to what Remit refunded of the card payment intent (its provider's events then
        leave it out)."""
        ...

    def update_refund(self, refund: Refund, *, as_read: Refund) -> None:
        """Write the refund if its status is still `as_read`'s."""
        ...

    def commit(self) -> None: ...


class BillingStore(Protocol):
    def transaction(self, organisation_id: str) -> BillingTransaction: ...

    def read_for_billing(
        self, organisation_id: str, invoice_id: str | None = None, customer_id: str | None = None
    ) -> tuple[Organisation | None, Invoice | None, Customer | None]: ...

    def read_for_finalizing(
        self, organisation_id: str, *, invoice_id: str | None = None, customer_id: str | None = None
    ) -> tuple[Organisation | None, NumberSeries | None, Invoice | None, Customer | None]:
        """As `read_for_billing`, with the organisation's invoice number series, in one read."""
        ...

    def get_invoice(self, organisation_id: str, invoice_id: str) -> Invoice | None: ...

    def find_hosted(self, token: str) -> tuple[str, str] | None: ...

    def get_customers(self, organisation_id: str, customer_ids: list[str]) -> list[Customer]: ...

    def get_template(self, organisation_id: str, template_id: str) -> BillingTemplate | None: ...

    def list_templates(
        self, organisation_id: str, limit: int, cursor: str | None
    ) -> Page[BillingTemplate]: ...

    def save_template(
        self, organisation_id: str, template: BillingTemplate, *, new: bool
    ) -> BillingTemplate: ...

    def delete_template(self, organisation_id: str, template_id: str) -> bool: ...

    def list_invoices(
        self,
        organisation_id: str,
        limit: int,
        cursor: str | None,
        status: str | None,
        customer_id: str | None,
        *,
        newest_first: bool = False,
    ) -> Page[Invoice]: ...

    def invoices_issued(
        self, organisation_id: str, first: date, last: date, limit: int, cursor: str | None
    ) -> Page[Invoice]:
        """The invoices issued `first` to `last` (both included), by issue date; never a draft.
        Reads only those."""
        ...

    def list_events(self, organisation_id: str, invoice_id: str) -> list[InvoiceEvent]: ...

    def list_charges(
        self,
        organisation_id: str,
        customer_id: str,
        limit: int,
        cursor: str | None,
        status: str | None = None,
    ) -> Page[Charge]: ...

    def open_charges(self, organisation_id: str, customer_id: str) -> list[Charge]: ...

    def get_charges(self, organisation_id: str, customer_id: str, charge_ids: list[str]) -> list[Charge]: ...

    def get_payment(self, organisation_id: str, payment_id: str) -> Payment | None: ...

    def payment_of_request(self, organisation_id: str, request: str) -> Payment | None:
        """The payment recorded by the request `request` (see `BillingTransaction.insert_payment`)."""
        ...

    def list_payments(
        self,
        organisation_id: str,
        limit: int,
        cursor: str | None,
        invoice_id: str | None,
        customer_id: str | None,
    ) -> Page[Payment]: ...

    def payments_received(
        self, organisation_id: str, first: date, last: date, limit: int, cursor: str | None
    ) -> Page[Payment]:
        """The payments received `first` to `last` (both included), by that day. Reads only those."""
        ...

    def list_balance_transactions(
        self, organisation_id: str, customer_id: str, limit: int, cursor: str | None
    ) -> Page[BalanceTransaction]: ...

    def read_overview(self, organisation_id: str, window: OverviewWindow) -> OverviewReading:
        """The organisation's overview counters for `window` and its oldest overdue open invoices, in
        a number of reads that does not grow with its invoices (see `OverviewReading`)."""
        ...
