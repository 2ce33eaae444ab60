"""What every way of issuing an item of a billing run shares: an item's outcome, staging its
invoice in the item's transaction, and counting the item done on its run.

The invoicing cycle's worker issues items one by one (`remit.services.recurring_issuing`, a bulk
run's `remit.services.bulk_issuing`) or several of one organisation together
(`remit.services.grouped_issuing`); each stages its invoices with `ItemIssuer.issue` in the same
transaction as the markers that make it exactly once.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from remit.domain.billing_run import BillingRunError
from remit.domain.charge import Charge
from remit.domain.customer import Customer
from remit.domain.errors import AlreadyDone
from remit.domain.invoice import Invoice
from remit.domain.numbering import NumberSeries, TakenNumber
from remit.domain.organisation import Organisation
from remit.ports.recurring import RecurringStore, RecurringTransaction
from remit.services.invoice_lifecycle import InvoiceLifecycleService
from remit.services.invoices import InvoiceService
from remit.services.sending import SendingService

# Attempts at one item before the message goes back to the queue (each conflict is re-read first).
ATTEMPTS = 60


@dataclass
class ItemOutcome:
    """What one message's item came to (for the worker's metrics and logs)."""

    issued: int = 0
    skipped: bool = False
    error: str | None = None
    catch_up_limit_reached: bool = False
    invoice_ids: list[str] = field(default_factory=list)


class ItemIssuer:
    """Stages an item's invoice and counts an item done on its run, in the caller's transactions."""

    def __init__(
        self,
        store: RecurringStore,
        invoices: InvoiceService,
        lifecycle: InvoiceLifecycleService,
        sending: SendingService,
        public_base_url: Callable[[], str],
    ) -> None:
        self._store = store
        self._invoices = invoices
        self._lifecycle = lifecycle
        self._sending = sending
        self._public_base_url = public_base_url

    def issue(
        self,
        transaction: RecurringTransaction,
        organisation: Organisation,
        number: NumberSeries | TakenNumber,
        customer: Customer,
        draft: Invoice,
        charges: list[Charge],
        issue_date: date,
        now: datetime,
        *,
        finalize: bool,
        send: bool,
        next_charges_billing: date | None = None,
        public_base_url: str | None = None,
    ) -> Invoice:
        """Stage the new invoice: a draft, or finalized (and sent) as the flow says. Finalized, it
        takes the next number of the series (which is written), or the number taken (the caller
        writes the series once for the numbers it took)."""
        invoice = draft
        # The timeline sorts by event id, which orders by the millisecond: created, finalized, sent.
        if finalize:
            if isinstance(number, NumberSeries):
                taken = organisation.take_invoice_number(number)
                transaction.billing.save_series(taken.series)
            else:
                taken = number
            invoice = self._lifecycle.stage_numbered_finalization(
                transaction.billing,
                organisation,
                taken,
                draft,
                customer,
                issue_date=issue_date,
                now=now + timedelta(milliseconds=1),
                public_base_url=public_base_url or self._public_base_url(),
                next_charges_billing=next_charges_billing,
            )
            # Unless finalizing emailed it already (`notifications.invoice_finalized`).
            if send and invoice.sent_at is None:
                invoice = self._sending.stage_sending(
                    transaction.billing, invoice, customer, now + timedelta(milliseconds=2)
                )
        elif next_charges_billing is not None:
            transaction.schedule_charges_billing(customer, next_charges_billing, now)
        self._invoices.stage_new_invoice(transaction.billing, draft, invoice, charges, now)
        return invoice

    def finish_item(
        self,
        organisation_id: str,
        run_id: str,
        item_id: str,
        outcome: ItemOutcome,
        *,
        customer_id: str,
        subscription_id: str | None = None,
    ) -> None:
        """Count the item done on its run, once (a redelivered item was already counted)."""
        error = (
            BillingRunError(customer_id=customer_id, subscription_id=subscription_id, detail=outcome.error)
            if outcome.error
            else None
        )
        transaction = self._store.transaction(organisation_id)
        transaction.claim_run_item(run_id, item_id)
        transaction.count_on_run(run_id, item_done=True, skipped=outcome.skipped, error=error)
        with contextlib.suppress(AlreadyDone):  # counted by an earlier delivery
            transaction.commit()


def day_of(message: Mapping[str, Any]) -> date:
    """The day a cycle item's message bills as of (its `as_of`)."""
    return date.fromisoformat(str(message["as_of"]))
