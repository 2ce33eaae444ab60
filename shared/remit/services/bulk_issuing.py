"""Issuing a bulk run's invoices in the background: one queue message bills up to
`BULK_CUSTOMERS_PER_MESSAGE` customers of the run, each once (a marker per customer of the run in the
transaction of its invoice), as many of them together as fit in a transaction
(`remit.services.grouped_issuing`), the others one by one.
"""

from __future__ import annotations

import logging
from datetime import date, datetime

from remit.domain.billing_run import BulkInvoice
from remit.domain.customer import Customer
from remit.domain.errors import AlreadyDone, ConcurrentUpdate, DocumentUnavailable, DomainError
from remit.domain.organisation import Organisation
from remit.ports.recurring import RecurringStore, RecurringTransaction
from remit.services.billing_context import BillingContext, today_in
from remit.services.cycle_issuing import ATTEMPTS, ItemIssuer, ItemOutcome
from remit.services.grouped_issuing import GroupedIssuing, GroupItem
from remit.services.invoices import InvoiceService
from remit.services.retry import READ_AGAIN, ReadAgain, retry_on_conflict

logger = logging.getLogger(__name__)

BULK_CUSTOMERS_PER_MESSAGE = 10  # one worker message bills this many customers of a bulk run


class BulkIssuing:
    """Issues the invoices of a bulk run's message (see the module)."""

    def __init__(
        self,
        context: BillingContext,
        store: RecurringStore,
        invoices: InvoiceService,
        issuer: ItemIssuer,
        groups: GroupedIssuing,
    ) -> None:
        self._billing = context.billing
        self._clock = context.clock
        self._store = store
        self._invoices = invoices
        self._issuer = issuer
        self._groups = groups

    def bill_bulk(self, organisation_id: str, run_id: str, customer_ids: list[str]) -> list[ItemOutcome]:
        """Issue a bulk run's invoice to each of `customer_ids` not billed yet, once (a marker per
        customer of the run in its invoice's transaction), as many together as fit in a transaction
        and the others one by one, each counted done on the run (see `BillingCycleService.process`).
        A customer gone or billed in another currency is recorded on the run. Raises `ValueError`
        when the run is not a bulk run, `ConcurrentUpdate` when a conflict persists (the message is
        retried)."""
        run = self._store.get_run(organisation_id, run_id, invoice_ids=False, item_ids=False)
        if run is None or run.bulk is None:
            raise ValueError(f"billing run {run_id} of {organisation_id} is not a bulk run")
        done = self._store.run_items_done(organisation_id, run_id, customer_ids)
        left = [c for c in customer_ids if c not in done]  # the others: issued and counted before
        together: dict[str, ItemOutcome] = {}
        while len(left) - len(together) > 1:
            try:
                issued = self._bill_bulk_together(
                    organisation_id, run_id, run.bulk, [c for c in left if c not in together]
                )
            except Exception:  # written whole or not at all: each customer is then billed on its own
                logger.warning(
                    "Issuing a group failed; its customers are billed one by one",
                    extra={"run_id": run_id},
                    exc_info=True,
                )
                break
            if not issued:
                break
            together |= issued
        return [
            together[customer_id]
            if customer_id in together
            else self._bill_bulk_customer(organisation_id, run_id, run.bulk, customer_id)
            for customer_id in left
        ]

    def _bill_bulk_together(
        self, organisation_id: str, run_id: str, bulk: BulkInvoice, customer_ids: list[str]
    ) -> dict[str, ItemOutcome]:
        """One transaction's worth of a bulk run's customers issued together (see
        `remit.services.grouped_issuing`): {customer id: outcome}; empty when fewer than two can be.
        A customer gone or billed in another currency is left to `_bill_bulk_customer`, which
        records why on the run.
        """
        refused = 0

        def attempt() -> dict[str, ItemOutcome] | ReadAgain:
            nonlocal refused
            organisation, customers = self._store.read_customers(organisation_id, customer_ids)
            if organisation is None:
                return {}
            # After a refusal, the customers a racing delivery did meanwhile are left out.
            done = self._store.run_items_done(organisation_id, run_id, customer_ids) if refused else set()
            now = self._clock.now()
            today = today_in(organisation.timezone, now)
            items = [
                self._bulk_item(organisation, run_id, bulk, customers[c], today, now)
                for c in customer_ids
                if c not in done and c in customers and customers[c].currency == bulk.currency
            ]
            if len(items) < 2:
                return {}
            try:
                issued = self._groups.commit_group(organisation, items, now)
            except AlreadyDone:
                refused += 1
                return READ_AGAIN if refused <= len(customer_ids) else {}
            except DomainError as error:
                if isinstance(error, ConcurrentUpdate):
                    raise  # a customer changed meanwhile: read again
                return {}
            return {item.item_id: ItemOutcome(issued=1, invoice_ids=[invoice.id]) for item, invoice in issued}

        return retry_on_conflict(attempt, ATTEMPTS, exhausted=f"Bulk run {run_id} kept conflicting.")

    def _bulk_item(
        self,
        organisation: Organisation,
        run_id: str,
        bulk: BulkInvoice,
        customer: Customer,
        today: date,
        now: datetime,
    ) -> GroupItem:
        """A bulk run's invoice to one customer, with the marker of its run item."""
        draft = self._invoices.draft_for(
            organisation,
            customer,
            [],
            bulk.line_items,
            today=today,
            now=now,
            due_date=bulk.due_date,
            days_until_due=bulk.days_until_due,
            memo=bulk.memo,
            source="billing",
        )

        def stage_claims(transaction: RecurringTransaction) -> None:
            transaction.claim_run_item(run_id, customer.id)

        return GroupItem(
            customer.id, run_id, customer, draft, [], today, bulk.send, bulk.public_base_url, stage_claims
        )

    def _bill_bulk_customer(
        self, organisation_id: str, run_id: str, bulk: BulkInvoice, customer_id: str
    ) -> ItemOutcome:
        outcome = ItemOutcome()

        def attempt() -> bool:
            """True when the item is finished (or counted already), False when it still must be."""
            organisation, series, _, customer = self._billing.read_for_finalizing(
                organisation_id, customer_id=customer_id
            )
            if organisation is None or series is None:
                return True
            if customer is None or customer.currency != bulk.currency:
                outcome.error = (
                    f"The customer {customer_id} no longer exists."
                    if customer is None
                    else f"The customer is now billed in {customer.currency}, not {bulk.currency}."
                )
                return False
            now = self._clock.now()
            try:
                draft = self._invoices.draft_for(
                    organisation,
                    customer,
                    [],
                    bulk.line_items,
                    today=today_in(organisation.timezone, now),
                    now=now,
                    due_date=bulk.due_date,
                    days_until_due=bulk.days_until_due,
                    memo=bulk.memo,
                    source="billing",
                )
                transaction = self._store.transaction(organisation_id)
                transaction.claim_run_item(run_id, customer_id)
                invoice = self._issuer.issue(
                    transaction,
                    organisation,
                    series,
                    customer,
                    draft,
                    [],
                    today_in(organisation.timezone, now),
                    now,
                    finalize=True,
                    send=bulk.send,
                    public_base_url=bulk.public_base_url,
                )
                transaction.count_on_run(run_id, invoice_id=invoice.id, item_done=True)
                transaction.commit()
            except AlreadyDone:
                return True  # done and counted by an earlier delivery
            except (ConcurrentUpdate, DocumentUnavailable):
                raise  # read again; or the e-invoice validator cannot be reached: delivered again
            except DomainError as error:
                outcome.error = error.detail
                return False
            outcome.issued = 1
            outcome.invoice_ids.append(invoice.id)
            return True

        if retry_on_conflict(
            attempt,
            ATTEMPTS,
            exhausted=f"Bulk run {run_id} kept conflicting on {customer_id}; the message is retried.",
        ):
            return outcome
        self._issuer.finish_item(organisation_id, run_id, customer_id, outcome, customer_id=customer_id)
        return outcome
