"""Sending invoices: finalize if needed, then owe the customer an email (through the outbox)."""

from __future__ import annotations

from datetime import datetime

from remit.domain.customer import Customer
from remit.domain.invoice import Invoice
from remit.ports.billing import BillingTransaction
from remit.services.billing_context import BillingContext
from remit.services.invoice_lifecycle import InvoiceLifecycleService
from remit.services.retry import retry_on_conflict


class SendingService:
    def __init__(self, context: BillingContext, lifecycle: InvoiceLifecycleService) -> None:
        self._context = context
        self._lifecycle = lifecycle
        self._billing = context.billing
        self._clock = context.clock

    def send(self, account_id: str, organisation_id: str, invoice_id: str, public_base_url: str) -> Invoice:
        """Email the invoice (branded, hosted link, PDF) to the customer's billing recipients.

        A draft is finalized first (if finalizing emails it, by `notifications.invoice_finalized`,
        that is the one email). The email is owed through the outbox in the same transaction
        that sets `sent_at` and records `invoice.sent`, so it goes out once the change is committed,
        even if the mail service is briefly down. Sending again resends. `InvalidTransition` for a
        void invoice.
        """
        invoice = self._context.invoice(account_id, organisation_id, invoice_id)
        if invoice.status == "draft":
            finalized = self._lifecycle.finalize(account_id, organisation_id, invoice_id, public_base_url)
            if finalized.sent_at is not None:
                # The organisation's `notifications.invoice_finalized` emailed it as it was finalized:
                # this one request emails it once.
                return finalized

        def attempt() -> Invoice:
            current = self._context.invoice(account_id, organisation_id, invoice_id)
            current.require_status(("open", "paid", "uncollectible"), "send")
            customer = self._context.organisation_and_customer(
                account_id, organisation_id, current.customer_id
            )[1]
            now = self._clock.now()
            transaction = self._billing.transaction(organisation_id)
            saved = transaction.update_invoice(
                self.stage_sending(transaction, current, customer, now), as_read=current
            )
            transaction.commit()
            return saved

        return retry_on_conflict(attempt)

    def stage_sending(
        self, transaction: BillingTransaction, invoice: Invoice, customer: Customer, now: datetime
    ) -> Invoice:
        """Stage the email owed to the customer's billing recipients (outbox) and `invoice.sent`;
        returns the invoice with `sent_at`, for the caller to write in the same transaction.
        """
        return self._context.stage_invoice_email(transaction, invoice, customer.billing_recipients(), now)
