"""What every billing use case needs: access checks, the clock, the organisation's today, ids."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from remit.domain.credit import Credit, balance_in, balances_after
from remit.domain.customer import Customer
from remit.domain.documents import EmailKind
from remit.domain.errors import InvalidInput, NotFound
from remit.domain.ids import new_id, new_token
from remit.domain.invoice import Invoice, InvoiceEvent
from remit.domain.organisation import Organisation
from remit.domain.outbox import OutboxMessage
from remit.domain.payment import BalanceTransaction, BalanceTransactionType
from remit.domain.saved_cards import SavedCard
from remit.ports.billing import BillingStore, BillingTransaction
from remit.ports.clock import Clock
from remit.services.organisations import OrganisationService


def today_in(timezone: str, now: datetime) -> date:
    """The calendar date at `now` in the organisation's time zone."""
    return now.astimezone(ZoneInfo(timezone)).date()


# The furthest any time zone is ahead of UTC (Pacific/Kiritimati, UTC+14).
_LATEST_OFFSET = timedelta(hours=14)


def latest_date_anywhere(moment: datetime) -> date:
    """The latest calendar date any organisation can be on at `moment` (what a daily run reads up to)."""
    return (moment.astimezone(UTC) + _LATEST_OFFSET).date()


class BillingContext:
    def __init__(self, billing: BillingStore, access: OrganisationService, clock: Clock) -> None:
        self.billing = billing
        self.access = access
        self.clock = clock

    def customer_of(self, invoice: Invoice) -> Customer | None:
        """The invoice's customer as stored now (one read); None once it is deleted."""
        found = self.billing.get_customers(invoice.organisation_id, [invoice.customer_id])
        return found[0] if found else None

    def existing_customer_of(self, invoice: Invoice) -> Customer:
        """The invoice's customer as stored now; `NotFound` once it is deleted."""
        customer = self.customer_of(invoice)
        if customer is None:
            raise NotFound("customer", invoice.customer_id)
        return customer

    def organisation_and_customer(
        self, account_id: str, organisation_id: str, customer_id: str, *, customer_field: str | None = None
    ) -> tuple[Organisation, Customer]:
        """Both in one read. An unknown customer is `NotFound`, or `InvalidInput` naming `customer_field`."""
        organisation, _, customer = self.billing.read_for_billing(organisation_id, customer_id=customer_id)
        if organisation is None or organisation.account_id != account_id:
            raise NotFound("organisation", organisation_id)
        if customer is None:
            if customer_field:
                raise InvalidInput.single(
                    customer_field, f"no customer with id '{customer_id}' in this organisation"
                )
            raise NotFound("customer", customer_id)
        return organisation, customer

    def owned(
        self,
        account_id: str,
        organisation_id: str,
        organisation: Organisation | None,
        invoice: Invoice | None,
        invoice_id: str,
    ) -> tuple[Organisation, Invoice]:
        """The organisation and invoice as read, if they exist and the account owns them; else `NotFound`."""
        if organisation is None or organisation.account_id != account_id:
            raise NotFound("organisation", organisation_id)
        if invoice is None:
            raise NotFound("invoice", invoice_id)
        return organisation, invoice

    def invoice(self, account_id: str, organisation_id: str, invoice_id: str) -> Invoice:
        """The account's invoice (one read once the organisation's owner is cached); `NotFound` otherwise."""
        self.access.require_access(account_id, organisation_id)
        invoice = self.billing.get_invoice(organisation_id, invoice_id)
        if invoice is None:
            raise NotFound("invoice", invoice_id)
        return invoice

    def new_hosted_token(self) -> str:
        """The unguessable part of a hosted invoice page's URL (256 bits)."""
        return new_token(32)

    def outbox_message(
        self,
        kind: EmailKind,
        invoice: Invoice,
        to: list[str],
        now: datetime,
        payment_id: str | None = None,
        reminder: str | None = None,
        credit_note_id: str | None = None,
    ) -> OutboxMessage:
        """An email owed to `to`, to be written in the same transaction as the state change that
        owes it (the notifications function delivers it once that is committed).
        """
        return OutboxMessage(
            id=new_id("msg", now),
            organisation_id=invoice.organisation_id,
            invoice_id=invoice.id,
            kind=kind,
            to=to,
            payment_id=payment_id,
            reminder=reminder,
            credit_note_id=credit_note_id,
            created_at=now,
        )

    def stage_invoice_email(
        self, transaction: BillingTransaction, invoice: Invoice, recipients: list[str], now: datetime
    ) -> Invoice:
        """Stage the invoice email owed to `recipients` (outbox) and `invoice.sent`; returns the
        invoice with `sent_at`, for the caller to write in the same transaction. Every sending of an
        invoice (send, the daily cycle's, the "ready for payment" one of finalizing) stages it here.
        """
        message = self.outbox_message("invoice", invoice, recipients, now)
        transaction.insert_outbox(message)
        transaction.insert_event(self.event(invoice.id, "invoice.sent", now, to=", ".join(message.to)))
        return invoice.model_copy(update={"sent_at": now, "updated_at": now})

    def event(self, invoice_id: str, kind: str, now: datetime, **data: str | int | None) -> InvoiceEvent:
        return InvoiceEvent(
            id=new_id("evt", now), invoice_id=invoice_id, type=kind, created_at=now, data=data
        )

    def stage_payment_credit(
        self,
        transaction: BillingTransaction,
        customer: Customer,
        credit: Credit,
        now: datetime,
        description: str | None,
        invoice_id: str,
        *,
        saved_cards: list[SavedCard] | None = None,
    ) -> BalanceTransaction | None:
        """Stage what a payment on invoice `invoice_id` moves on `customer`'s credit balance: the excess
        `settle` left (an over-payment, `credit` > 0) or credit a refund takes back (< 0), in the
        invoice's currency; with the customer's saved cards replaced when given. Every payment path (offline
        and card) stages its credit here. Raises what `stage_credit` raises.
        """
        kind: BalanceTransactionType = "overpayment" if credit.amount > 0 else "adjustment"
        return self.stage_credit(
            transaction, customer, credit, now, kind, description, invoice_id, saved_cards=saved_cards
        )

    def stage_credit(
        self,
        transaction: BillingTransaction,
        customer: Customer,
        credit: Credit,
        now: datetime,
        kind: BalanceTransactionType,
        description: str | None,
        invoice_id: str | None = None,
        *,
        issued_invoices: int = 0,
        expected_version: int | None = None,
        saved_cards: list[SavedCard] | None = None,
        next_charges_billing: date | None = None,
    ) -> BalanceTransaction | None:
        """Stage the one update of `customer` (as read) a transaction makes: its credit balance in
        `credit.currency` moved by `credit.amount` (no other currency's), and the other changes given.

        The balances are written whole, conditioned on being as read, with the ledger entry of that
        currency (`kind`, `description`, `invoice_id`), which is returned; no entry when no credit
        moves, nothing staged when nothing changes. Raises `InsufficientCredit` (nothing staged) if
        the currency's balance would go below 0.
        """
        balances = balances_after(customer.balances, credit) if credit.amount else None
        if balances is None and not issued_invoices and saved_cards is None and next_charges_billing is None:
            return None  # nothing changes: the customer is not touched
        transaction.adjust_customer(
            customer.id,
            now,
            balances=balances,
            as_read=customer,
            issued_invoices=issued_invoices,
            expected_version=expected_version,
            saved_cards=saved_cards,
            next_charges_billing=next_charges_billing,
        )
        if not credit.amount:
            return None
        ledger_entry = BalanceTransaction(
            id=new_id("btx", now),
            customer_id=customer.id,
            type=kind,
            amount=credit.amount,
            currency=credit.currency,
            description=description,
            invoice_id=invoice_id,
            ending_balance=balance_in(balances or {}, credit.currency),
            created_at=now,
        )
        transaction.insert_balance_transaction(ledger_entry)
        return ledger_entry
