"""An invoice's life after the draft: finalize (number, lock, credit), void, mark uncollectible."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from remit.domain.customer import Customer
from remit.domain.errors import EinvoiceRefused, NotFound
from remit.domain.invoice import Invoice
from remit.domain.numbering import SERIES_WRITE_ATTEMPTS, NumberSeries, TakenNumber
from remit.domain.organisation import Organisation
from remit.domain.reminders import next_look_date
from remit.ports.billing import BillingTransaction
from remit.services.billing_context import BillingContext, today_in
from remit.services.retry import READ_AGAIN, ReadAgain, retry_on_conflict

if TYPE_CHECKING:
    from remit.services.einvoices import EinvoiceService


class InvoiceLifecycleService:
    def __init__(self, context: BillingContext, einvoices: EinvoiceService | None = None) -> None:
        self._context = context
        self._billing = context.billing
        self._clock = context.clock
        # Checks the e-invoice of a customer who takes one before anything is numbered.
        self._einvoices = einvoices

    def finalize(
        self,
        account_id: str,
        organisation_id: str,
        invoice_id: str,
        public_base_url: str,
        request: str | None = None,
    ) -> Invoice:
        """Number, date, snapshot and lock a draft, applying the customer's credit balance in the
        invoice's currency (never another currency's).

        One transaction takes the next number of the organisation's invoice series (conditioned on
        the series being as read),
        writes the numbered invoice (conditioned on the draft being unchanged), the number's marker,
        the hosted-page token, the customer's balance and the timeline. So numbers have no gaps and
        are never reused, even under concurrent finalization; a failure leaves the draft as it was.
        Raises `InvalidTransition` unless a draft, `Conflict` for an empty or negative invoice. For a
        customer with an `einvoice_format`, the e-invoice is validated first: `EinvoiceRefused` (each
        failed rule) or `DocumentUnavailable` (the validator cannot be reached), nothing written.

        Once per `request` (a key naming the client's request, when it has one): the retry of a
        request that did finalize the invoice (its answer lost to a timeout, say) answers the invoice
        as finalized, at no extra read: the request's key is kept on the invoice.
        """

        attempts = 0

        def attempt() -> tuple[Invoice, Organisation] | ReadAgain:
            nonlocal attempts
            attempts += 1
            organisation, series, invoice, _ = self._billing.read_for_finalizing(
                organisation_id, invoice_id=invoice_id
            )
            organisation, invoice = self._context.owned(
                account_id, organisation_id, organisation, invoice, invoice_id
            )
            if series is None:  # read with the organisation, which `owned` found
                raise NotFound("organisation", organisation_id)
            if request is not None and invoice.finalized_by_request == request:
                return invoice.as_seen_on(today_in(organisation.timezone, self._clock.now())), organisation
            invoice.require_status("draft", "finalize")
            # First with the customer as the draft read it (the transaction checks its version is
            # unchanged, so its balance and details are current); after a conflict, read afresh.
            copied = invoice.draft_customer if attempts == 1 else None
            customer = copied or self._current_customer(account_id, organisation_id, invoice)
            now = self._clock.now()
            transaction = self._billing.transaction(organisation_id)
            try:
                finalized = self.stage_finalization(
                    transaction,
                    organisation,
                    series,
                    invoice,
                    customer,
                    issue_date=today_in(organisation.timezone, now),
                    now=now,
                    public_base_url=public_base_url,
                )
            except EinvoiceRefused:
                # Its e-invoice is judged before the transaction could notice a stale copy: a
                # refusal stands only for the customer as it is now, else it is judged again.
                if copied is None:
                    raise
                if self._current_customer(account_id, organisation_id, invoice).version == copied.version:
                    raise
                return READ_AGAIN
            saved = transaction.update_invoice(
                finalized.model_copy(update={"finalized_by_request": request}), as_read=invoice
            )
            transaction.commit()
            return saved.as_seen_on(finalized.issue_date or now.date()), organisation

        # The PDF is not rendered here: finalizing costs its two DynamoDB calls whatever the
        # invoice looks like, and the PDF is rendered (and kept) the first time someone needs it.
        invoice, _ = retry_on_conflict(attempt, attempts=SERIES_WRITE_ATTEMPTS)
        return invoice

    def _current_customer(self, account_id: str, organisation_id: str, invoice: Invoice) -> Customer:
        return self._context.organisation_and_customer(account_id, organisation_id, invoice.customer_id)[1]

    def stage_finalization(
        self,
        transaction: BillingTransaction,
        organisation: Organisation,
        series: NumberSeries,
        draft: Invoice,
        customer: Customer,
        *,
        issue_date: date,
        now: datetime,
        public_base_url: str,
        next_charges_billing: date | None = None,
    ) -> Invoice:
        """Stage on `transaction` everything finalizing `draft` writes, except the invoice itself.

        The next number of the organisation's invoice `series` (as read) is taken and the series
        written if still as read (so a concurrent finalization makes the transaction fail rather
        than share the number), the number's marker and the hosted-page
        token are claimed, the customer's credit in the invoice's currency is applied (conditioned on
        the customer being as read) and the timeline records it. Returns the finalized invoice for
        the caller to write. With the organisation's `notifications.invoice_finalized`, an invoice
        left to pay is emailed to the customer in the same transaction (outbox, `invoice.sent`,
        `sent_at`). Raises what `Invoice.finalize` raises.
        """
        taken = organisation.take_invoice_number(series)
        transaction.save_series(taken.series)
        return self.stage_numbered_finalization(
            transaction,
            organisation,
            taken,
            draft,
            customer,
            issue_date=issue_date,
            now=now,
            public_base_url=public_base_url,
            next_charges_billing=next_charges_billing,
        )

    def stage_numbered_finalization(
        self,
        transaction: BillingTransaction,
        organisation: Organisation,
        taken: TakenNumber,
        draft: Invoice,
        customer: Customer,
        *,
        issue_date: date,
        now: datetime,
        public_base_url: str,
        next_charges_billing: date | None = None,
    ) -> Invoice:
        """Stage what `stage_finalization` stages, with the number `taken` and without the series:
        the caller writes the series once, as its last number taken left it (several invoices
        finalized in one transaction take consecutive numbers, and the one write of the series,
        conditioned on it being as read, keeps them gapless and never reused). Raises what
        `Invoice.finalize` raises, and for a customer with an `einvoice_format` what
        `EinvoiceService.check` raises (a document that breaks the format's rules is never numbered).
        """
        token = self._context.new_hosted_token()
        finalized = draft.finalize(
            number=taken.number,
            sequence=taken.sequence,
            issue_date=issue_date,
            hosted_token=token,
            hosted_url=f"{public_base_url.rstrip('/')}/i/{token}",
            logo_key=organisation.branding.logo_key,
            customer_name=customer.name,
            customer_email=customer.email,
            customer_address=customer.address,
            customer_tax_id=customer.tax_id,
            customer_locale=customer.preferred_locale,
            customer_einvoice=customer.einvoice_details(),
            recipients=customer.billing_recipients(),
            credit_balances=customer.balances,
            now=now,
        )
        if finalized.status == "open":
            # Reminder steps after the issue date (the invoice email itself goes out today), and the
            # day it becomes overdue (its `invoice.overdue` event, reminded or not).
            first = next_look_date(
                organisation.reminders,
                finalized.due_date,
                issue_date,
                remind=customer.send_reminders,
                overdue_announced=False,
            )
            finalized = finalized.model_copy(update={"next_reminder_on": first})
        if self._einvoices is not None:
            # Validated with the number about to be taken, before the number is claimed: a refusal
            # raises here and the transaction is never committed.
            status = self._einvoices.check(finalized, organisation, customer)
            if status is not None:
                finalized = finalized.model_copy(update={"einvoice": status})
        transaction.claim_number(finalized, token)
        self._context.stage_credit(
            transaction,
            customer,
            finalized.credit_taken,
            now,
            "applied_to_invoice",
            f"Applied to invoice {finalized.number}",
            finalized.id,
            issued_invoices=1,
            expected_version=customer.version,
            next_charges_billing=next_charges_billing,
        )
        transaction.insert_event(
            self._context.event(
                finalized.id,
                "invoice.finalized",
                now,
                number=finalized.number,
                credit_applied=finalized.credit_applied,
            )
        )
        if finalized.status == "paid":
            transaction.insert_event(self._context.event(finalized.id, "invoice.paid", now))
        elif organisation.notifications.invoice_finalized and finalized.sent_at is None:
            # "Ready for payment": the invoice email, in the finalization's own transaction, so it
            # is owed exactly when the invoice is finalized, whichever door finalized it.
            finalized = self._context.stage_invoice_email(
                transaction, finalized, customer.billing_recipients(), now + timedelta(milliseconds=1)
            )
        return finalized

    def void(self, account_id: str, organisation_id: str, invoice_id: str) -> Invoice:
        """Void an open or uncollectible invoice and notify the customer (a void notice through the
        outbox). What was paid on it and the credit applied return to the customer's credit balance
        in the invoice's currency, all in one transaction. `InvalidTransition` otherwise.
        """

        def attempt() -> Invoice:
            invoice = self._context.invoice(account_id, organisation_id, invoice_id)
            now = self._clock.now()
            voided, returned = invoice.void(now)
            customer = self._context.organisation_and_customer(
                account_id, organisation_id, invoice.customer_id
            )[1]
            transaction = self._billing.transaction(organisation_id)
            saved = transaction.update_invoice(voided, as_read=invoice)
            self._context.stage_credit(
                transaction,
                customer,
                returned,
                now,
                "invoice_voided",
                f"Invoice {invoice.number} voided",
                invoice.id,
            )
            transaction.insert_outbox(
                self._context.outbox_message("void_notice", voided, customer.billing_recipients(), now)
            )
            transaction.insert_event(
                self._context.event(invoice.id, "invoice.voided", now, returned_to_balance=returned.amount)
            )
            transaction.commit()
            return saved

        return retry_on_conflict(attempt)

    def mark_uncollectible(self, account_id: str, organisation_id: str, invoice_id: str) -> Invoice:
        """Mark an open invoice uncollectible (it leaves the reminders' queue); else `InvalidTransition`."""

        def attempt() -> Invoice:
            invoice = self._context.invoice(account_id, organisation_id, invoice_id)
            now = self._clock.now()
            marked = invoice.mark_uncollectible(now)
            transaction = self._billing.transaction(organisation_id)
            saved = transaction.update_invoice(marked, as_read=invoice)
            transaction.insert_event(self._context.event(invoice.id, "invoice.marked_uncollectible", now))
            transaction.commit()
            return saved

        return retry_on_conflict(attempt)
