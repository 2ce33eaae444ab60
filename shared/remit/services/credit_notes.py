"""Credit notes: issue (numbered at once), preview, read, list and void; the refunds they ask for.

Guarantees:

* One transaction issues a credit note: the next number of the organisation's credit note series
  (conditioned on the series being as read: no gap, no reuse), the number's marker, the credit note,
  the invoice's new amount due and credited total (conditioned on its version: two credit notes
  racing on one invoice never over-credit, the loser re-reads and is refused or fits), the credit
  to the customer's balance (conditioned on the balances as read), each payment a refund takes money
  from (conditioned on what it held as read: two refunds never take the same money), the refunds,
  the timeline and the email owed through the outbox. Nothing of it is written when any part fails.
* Once per client request (`Idempotency-Key`): the retry of a request that issued its credit note
  answers that credit note, whatever happened to the first answer.
* An offline payment's refund is recorded `succeeded` at once; a card payment's is `pending`, sent
  to the provider after the commit (with the refund's id as the provider's idempotency key), and
  sent again by the refund sweep if that call failed (see services/refunds.py).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import TYPE_CHECKING

from remit.domain.credit import Credit, InsufficientCredit
from remit.domain.credit_notes import (
    CreditNote,
    CreditNoteNotVoidable,
    NewCreditNote,
    PricedCreditNote,
    credited_invoice,
    price_credit_note,
    uncredited_invoice,
    voided_credit_note,
)
from remit.domain.errors import AlreadyDone, NotFound
from remit.domain.ids import new_id
from remit.domain.invoice import Invoice
from remit.domain.numbering import SERIES_WRITE_ATTEMPTS
from remit.domain.pagination import Page
from remit.domain.payment import Payment
from remit.domain.refunds import Refund, allocate_refund, with_refund
from remit.domain.reminders import next_look_date
from remit.ports.billing import BillingTransaction
from remit.ports.credit_notes import CreditNoteStore
from remit.services.billing_context import BillingContext, today_in
from remit.services.retry import retry_on_conflict

if TYPE_CHECKING:
    from remit.services.einvoices import EinvoiceService


class CreditNoteService:
    def __init__(
        self,
        context: BillingContext,
        store: CreditNoteStore,
        send_refunds: Callable[[str, list[Refund]], None] = lambda organisation_id, refunds: None,
        einvoices: EinvoiceService | None = None,
    ) -> None:
        self._context = context
        self._billing = context.billing
        self._clock = context.clock
        self._store = store
        # Called after the commit with the card refunds to send to the provider (services/refunds.py).
        self._send_refunds = send_refunds
        # Checks the e-invoice of a customer who takes one before the credit note is numbered.
        self._einvoices = einvoices

    # --- issuing ------------------------------------------------------------------------------

    def preview(
        self, account_id: str, organisation_id: str, invoice_id: str, new: NewCreditNote
    ) -> tuple[CreditNote, Invoice]:
        """The credit note `new` would issue (unnumbered: `number` empty) and the invoice as it would
        leave it. Stores nothing. Raises what `issue` raises for the request itself."""
        organisation, _, invoice = self._store.read_for_crediting(organisation_id, invoice_id)
        organisation, invoice = self._context.owned(
            account_id, organisation_id, organisation, invoice, invoice_id
        )
        now = self._clock.now()
        priced = price_credit_note(invoice, new, lambda: new_id("cnl", now))
        if priced.refund_amount:
            allocate_refund(self._payments_of(invoice), priced.refund_amount)
        note = _credit_note("", "", invoice, priced, new, today_in(organisation.timezone, now), now)
        return note, credited_invoice(invoice, note, now)

    def issue(
        self,
        account_id: str,
        organisation_id: str,
        invoice_id: str,
        new: NewCreditNote,
        request: str | None = None,
    ) -> CreditNote:
        """Issue a credit note on an open, paid or uncollectible invoice, numbered at once in the
        organisation's credit note series and dated in its time zone (see the module for what one
        transaction writes).

        Raises `NotFound` for another account's organisation or an unknown invoice;
        `InvalidTransition` (409) for an invoice that is draft or void; `InvalidInput` (422) naming
        the field for an unknown line, a line credited beyond what is left, or a settlement that does
        not add up; `CreditExceedsInvoice` (409) beyond the invoice's total; `RefundExceedsPayments`
        (409) for a refund larger than the invoice's payments still hold; for a customer with an
        `einvoice_format`, `EinvoiceRefused` (422, each failed rule) when its e-invoice would break a
        rule and `DocumentUnavailable` (503) when the validator cannot be reached. Then nothing is
        written.
        """

        def attempt() -> tuple[CreditNote, list[Refund]]:
            organisation, series, invoice = self._store.read_for_crediting(organisation_id, invoice_id)
            organisation, invoice = self._context.owned(
                account_id, organisation_id, organisation, invoice, invoice_id
            )
            if series is None:
                raise NotFound("organisation", organisation_id)
            now = self._clock.now()
            priced = price_credit_note(invoice, new, lambda: new_id("cnl", now))
            portions = (
                allocate_refund(self._payments_of(invoice), priced.refund_amount)
                if priced.refund_amount
                else []
            )
            taken = organisation.take_credit_note_number(series)
            note = _credit_note(
                new_id("cn", now),
                taken.number,
                invoice,
                priced,
                new,
                today_in(organisation.timezone, now),
                now,
            )
            if self._einvoices is not None:
                # Validated with the number about to be taken; a refusal raises before any write.
                status = self._einvoices.check_credit_note(
                    note, invoice, organisation, self._context.existing_customer_of(invoice)
                )
                if status is not None:
                    note = note.model_copy(update={"einvoice": status})
            transaction = self._billing.transaction(organisation_id)
            transaction.save_series(taken.series)
            transaction.insert_credit_note(note, request)
            credited = transaction.update_invoice(credited_invoice(invoice, note, now), as_read=invoice)
            if note.credit_amount:
                self._context.stage_credit(
                    transaction,
                    self._context.existing_customer_of(invoice),
                    Credit(invoice.currency, note.credit_amount),
                    now,
                    "credit_note",
                    f"Credit note {note.number} on invoice {invoice.number}",
                    invoice.id,
                )
            refunds = [
                self._stage_refund(transaction, payment, amount, note, now) for payment, amount in portions
            ]
            transaction.insert_event(
                self._context.event(
                    invoice.id,
                    "invoice.credit_note_issued",
                    now,
                    credit_note_id=note.id,
                    number=note.number,
                    total=note.total,
                    refund_amount=note.refund_amount,
                    credit_amount=note.credit_amount,
                )
            )
            if credited.status == "paid" and invoice.status != "paid":
                transaction.insert_event(self._context.event(invoice.id, "invoice.paid", now))
            transaction.insert_outbox(
                self._context.outbox_message(
                    "credit_note", credited, invoice.recipients, now, credit_note_id=note.id
                )
            )
            transaction.commit()
            return note, refunds

        try:
            note, refunds = retry_on_conflict(attempt, attempts=SERIES_WRITE_ATTEMPTS)
        except AlreadyDone:
            earlier = self._store.credit_note_of_request(organisation_id, request) if request else None
            if earlier is None or earlier.invoice_id != invoice_id:
                raise
            return earlier
        pending = [refund for refund in refunds if refund.status == "pending"]
        if pending:
            self._send_refunds(organisation_id, pending)
        return note

    def _stage_refund(
        self, transaction: BillingTransaction, payment: Payment, amount: int, note: CreditNote, now: datetime
    ) -> Refund:
        refund = Refund(
            id=new_id("re", now),
            payment_id=payment.id,
            invoice_id=payment.invoice_id,
            customer_id=payment.customer_id,
            credit_note_id=note.id,
            amount=amount,
            currency=payment.currency,
            method=payment.method,
            status="pending" if payment.method == "card" else "succeeded",
            created_at=now,
            updated_at=now,
        )
        transaction.update_payment(with_refund(payment, amount), as_read=payment)
        transaction.insert_refund(refund)
        if refund.through_provider and payment.provider_payment_id:
            transaction.count_refund_by_remit(payment.provider_payment_id, amount)
        transaction.insert_event(
            self._context.event(
                payment.invoice_id,
                "invoice.refund_created",
                now,
                refund_id=refund.id,
                payment_id=payment.id,
                amount=amount,
                status=refund.status,
            )
        )
        return refund

    def _payments_of(self, invoice: Invoice) -> list[Payment]:
        payments: list[Payment] = []
        cursor: str | None = None
        while True:
            page = self._billing.list_payments(invoice.organisation_id, 100, cursor, invoice.id, None)
            payments += page.items
            if page.next_cursor is None:
                return payments
            cursor = page.next_cursor

    # --- reading --------------------------------------------------------------------------------

    def get(self, account_id: str, organisation_id: str, credit_note_id: str) -> CreditNote:
        """The credit note; `NotFound` for an unknown one or another account's."""
        self._context.access.require_access(account_id, organisation_id)
        note = self._store.get(organisation_id, credit_note_id)
        if note is None:
            raise NotFound("credit note", credit_note_id)
        return note

    def list_credit_notes(
        self,
        account_id: str,
        organisation_id: str,
        limit: int,
        cursor: str | None,
        invoice_id: str | None = None,
        customer_id: str | None = None,
    ) -> Page[CreditNote]:
        """The organisation's credit notes, oldest first, optionally of one invoice and/or customer."""
        self._context.access.require_access(account_id, organisation_id)
        return self._store.list_credit_notes(
            organisation_id, limit, cursor, invoice_id=invoice_id, customer_id=customer_id
        )

    def list_issued(
        self, account_id: str, organisation_id: str, first: date, last: date, limit: int, cursor: str | None
    ) -> Page[CreditNote]:
        """The organisation's credit notes issued `first` to `last` (both included), by issue date.
        Reads only those."""
        self._context.access.require_access(account_id, organisation_id)
        return self._store.credit_notes_issued(organisation_id, first, last, limit, cursor)

    def of_invoice(
        self, account_id: str, organisation_id: str, invoice_id: str, limit: int, cursor: str | None
    ) -> Page[CreditNote]:
        """The invoice's credit notes, oldest first; `NotFound` for an unknown invoice."""
        self._context.invoice(account_id, organisation_id, invoice_id)
        return self._store.list_credit_notes(organisation_id, limit, cursor, invoice_id=invoice_id)

    def list_refunds(
        self,
        account_id: str,
        organisation_id: str,
        limit: int,
        cursor: str | None,
        payment_id: str | None = None,
        invoice_id: str | None = None,
    ) -> Page[Refund]:
        """The organisation's refunds, oldest first, optionally of one payment and/or invoice."""
        self._context.access.require_access(account_id, organisation_id)
        return self._store.list_refunds(
            organisation_id, limit, cursor, payment_id=payment_id, invoice_id=invoice_id
        )

    # --- voiding --------------------------------------------------------------------------------

    def void(self, account_id: str, organisation_id: str, credit_note_id: str) -> CreditNote:
        """Void an issued credit note whose effects can be undone, in one transaction: the invoice's
        amount due restored (a `paid` invoice reopened when something is due again), its credit taken
        back from the customer's balance, the timeline. Its number stays used. A reopened invoice
        is chased by the reminders from its next step on.

        Raises `NotFound`; `CreditNoteNotVoidable` (409) when it is void already, its invoice is void,
        money was paid back through it (a refund or an amount settled out of band), or the customer
        has spent the credit it gave. Then nothing changes.
        """

        def attempt() -> CreditNote:
            note = self.get(account_id, organisation_id, credit_note_id)
            organisation, _, invoice = self._store.read_for_crediting(organisation_id, note.invoice_id)
            organisation, invoice = self._context.owned(
                account_id, organisation_id, organisation, invoice, note.invoice_id
            )
            now = self._clock.now()
            customer = self._context.existing_customer_of(invoice) if note.credit_amount else None
            held = customer.balances.get(note.currency, 0) if customer is not None else None
            voided = voided_credit_note(note, invoice, now, credit_held=held)
            restored = uncredited_invoice(invoice, note, now)
            if restored.status == "open" and invoice.status == "paid":
                # Reopened: the reminders run looks at it again from its next step (the run still
                # skips a customer who opted out).
                today = today_in(organisation.timezone, now)
                first = next_look_date(
                    organisation.reminders,
                    restored.due_date,
                    today,
                    remind=True,
                    overdue_announced=restored.overdue_announced,
                )
                restored = restored.model_copy(update={"next_reminder_on": first})
            transaction = self._billing.transaction(organisation_id)
            saved = transaction.update_credit_note(voided, as_read=note)
            transaction.update_invoice(restored, as_read=invoice)
            if customer is not None:
                try:
                    self._context.stage_credit(
                        transaction,
                        customer,
                        Credit(note.currency, -note.credit_amount),
                        now,
                        "credit_note_voided",
                        f"Credit note {note.number} voided",
                        invoice.id,
                    )
                except InsufficientCredit:
                    raise CreditNoteNotVoidable(
                        f"Credit note {note.number} cannot be voided: the customer has spent the "
                        f"{note.credit_amount} it credited to their balance."
                    ) from None
            transaction.insert_event(
                self._context.event(
                    invoice.id, "invoice.credit_note_voided", now, credit_note_id=note.id, number=note.number
                )
            )
            transaction.commit()
            return saved

        return retry_on_conflict(attempt)


def _credit_note(
    credit_note_id: str,
    number: str,
    invoice: Invoice,
    priced: PricedCreditNote,
    new: NewCreditNote,
    issue_date: date,
    now: datetime,
) -> CreditNote:
    return CreditNote.model_construct(
        id=credit_note_id,
        organisation_id=invoice.organisation_id,
        invoice_id=invoice.id,
        invoice_number=invoice.number or "",
        invoice_issue_date=invoice.issue_date or issue_date,
        customer_id=invoice.customer_id,
        number=number,
        status="issued",
        currency=invoice.currency,
        issue_date=issue_date,
        lines=priced.lines,
        subtotal=priced.subtotal,
        tax_total=priced.tax_total,
        total=priced.total,
        tax_breakdown=priced.tax_breakdown,
        reason=new.reason,
        memo=new.memo,
        pre_payment_amount=priced.pre_payment_amount,
        refund_amount=priced.refund_amount,
        credit_amount=priced.credit_amount,
        out_of_band_amount=priced.out_of_band_amount,
        customer_name=invoice.customer_name,
        customer_locale=invoice.customer_locale,
        recipients=list(invoice.recipients),
        created_at=now,
        einvoice=None,
        voided_at=None,
        version=0,
    )
