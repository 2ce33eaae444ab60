"""Offline payments on invoices, payment listings, and customers' credit balances."""

from __future__ import annotations

from datetime import date

from remit.domain.credit import Credit
from remit.domain.errors import Conflict, InvalidInput
from remit.domain.ids import new_id
from remit.domain.invoice import Invoice
from remit.domain.pagination import Page
from remit.domain.payment import BalanceTransaction, NewBalanceTransaction, NewOfflinePayment, Payment
from remit.services.billing_context import BillingContext, today_in
from remit.services.retry import retry_on_conflict


class PaymentService:
    def __init__(self, context: BillingContext) -> None:
        self._context = context
        self._billing = context.billing
        self._clock = context.clock

    def record_offline_payment(
        self,
        account_id: str,
        organisation_id: str,
        invoice_id: str,
        new: NewOfflinePayment,
        request: str | None = None,
    ) -> tuple[Invoice, Payment]:
        """Record a bank transfer, cheque, cash or other payment on an open invoice.

        The invoice becomes `paid` when nothing is left due; any excess goes to the customer's credit
        balance in the invoice's currency (the payment's). One transaction writes the payment, the
        invoice (conditioned on its version, so concurrent payments never lose an update: the loser
        re-reads and retries), the timeline, the balance and the receipt owed through the outbox.
        `InvalidTransition` unless the invoice is open.

        Once per `request` (a key naming the client's request, when it has one): a retry of a request
        whose payment was recorded (its answer lost to a timeout, say) returns that payment again.
        """

        def attempt() -> tuple[Invoice, Payment]:
            invoice = self._context.invoice(account_id, organisation_id, invoice_id)
            now = self._clock.now()
            paid, excess = invoice.record_payment(new.amount, now)
            payment = Payment(
                id=new_id("pay", now),
                invoice_id=invoice.id,
                customer_id=invoice.customer_id,
                amount=new.amount,
                currency=invoice.currency,
                method=new.method,
                reference=new.reference,
                received_on=new.received_on or today_in(invoice.timezone, now),
                created_at=now,
            )
            transaction = self._billing.transaction(organisation_id)
            saved = transaction.update_invoice(paid, as_read=invoice)
            transaction.insert_payment(payment, request)
            transaction.insert_event(
                self._context.event(
                    invoice.id,
                    "invoice.payment_recorded",
                    now,
                    payment_id=payment.id,
                    amount=new.amount,
                    method=new.method,
                )
            )
            if paid.status == "paid":
                transaction.insert_event(self._context.event(invoice.id, "invoice.paid", now))
            transaction.insert_outbox(
                self._context.outbox_message("payment_receipt", saved, invoice.recipients, now, payment.id)
            )
            if excess.amount:
                customer = self._context.organisation_and_customer(
                    account_id, organisation_id, invoice.customer_id
                )[1]
                self._context.stage_payment_credit(
                    transaction, customer, excess, now, f"Overpayment of invoice {invoice.number}", invoice.id
                )
            transaction.commit()
            return saved.as_seen_on(today_in(invoice.timezone, now)), payment

        try:
            return retry_on_conflict(attempt)
        except Conflict:
            # Read only on this rare path: was this the retry of a request that recorded its payment?
            earlier = self._billing.payment_of_request(organisation_id, request) if request else None
            if earlier is None or earlier.invoice_id != invoice_id:
                raise
            invoice = self._context.invoice(account_id, organisation_id, invoice_id)
            return invoice.as_seen_on(today_in(invoice.timezone, self._clock.now())), earlier

    def list_payments(
        self,
        account_id: str,
        organisation_id: str,
        limit: int,
        cursor: str | None,
        invoice_id: str | None,
        customer_id: str | None,
    ) -> Page[Payment]:
        """The organisation's payments, oldest first, optionally of one invoice and/or customer."""
        self._context.access.require_access(account_id, organisation_id)
        return self._billing.list_payments(organisation_id, limit, cursor, invoice_id, customer_id)

    def list_received(
        self, account_id: str, organisation_id: str, first: date, last: date, limit: int, cursor: str | None
    ) -> Page[Payment]:
        """The organisation's payments received `first` to `last` (both included), by that day.
        Reads only those."""
        self._context.access.require_access(account_id, organisation_id)
        return self._billing.payments_received(organisation_id, first, last, limit, cursor)

    def adjust_balance(
        self, account_id: str, organisation_id: str, customer_id: str, new: NewBalanceTransaction
    ) -> BalanceTransaction:
        """Add credit (positive) or remove it (negative) in `new.currency`, the customer's currency
        when not given; no currency's balance ever goes below 0, and no other currency's moves.

        Atomic with the ledger entry, conditioned on the balances read. Raises `InvalidInput` for 0,
        `InsufficientCredit` (a `Conflict` naming `amount`) when removing more than the currency's
        balance holds; then nothing changes.
        """
        if new.amount == 0:
            raise InvalidInput.single("amount", "must not be 0")

        def attempt() -> BalanceTransaction:
            customer = self._context.organisation_and_customer(account_id, organisation_id, customer_id)[1]
            now = self._clock.now()
            transaction = self._billing.transaction(organisation_id)
            entry = self._context.stage_credit(
                transaction,
                customer,
                Credit(new.currency or customer.currency, new.amount),
                now,
                "adjustment",
                new.description,
            )
            if entry is None:  # only 0 writes no entry
                raise InvalidInput.single("amount", "must not be 0")
            transaction.commit()
            return entry

        return retry_on_conflict(attempt)

    def balance_transactions(
        self, account_id: str, organisation_id: str, customer_id: str, limit: int, cursor: str | None
    ) -> Page[BalanceTransaction]:
        """The customer's credit-balance ledger, oldest first."""
        self._context.organisation_and_customer(account_id, organisation_id, customer_id)
        return self._billing.list_balance_transactions(organisation_id, customer_id, limit, cursor)
