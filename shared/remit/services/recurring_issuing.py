"""Issuing one item of the invoicing cycle: a subscription's periods due, or a customer's open
charges of the month (`billing_cycle: "monthly"`).

Each invoice is issued by one transaction that also writes the marker of what it bills (the
subscription's period, the month) with `attribute_not_exists`, the subscription's next billing date
and the run's counters: a second attempt at the same work finds the marker and counts as done. With
the customer's `invoicing_flow: "automatic"` the invoice is finalized and sent in that same
transaction (the email through the outbox); `manual` leaves a draft. A subscription collected with
`charge_automatically` from a customer with a saved card is charged after the commit instead of
being emailed (if the charge cannot even be attempted, the invoice is sent).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date

from remit.domain.billing_period import BillingPeriod
from remit.domain.customer import Customer, first_of_next_month
from remit.domain.errors import AlreadyDone, ConcurrentUpdate, DocumentUnavailable, DomainError
from remit.domain.invoice import Invoice
from remit.domain.numbering import NumberSeries
from remit.domain.organisation import Organisation
from remit.domain.subscription import Subscription
from remit.ports.recurring import RecurringStore
from remit.services.billing_context import BillingContext
from remit.services.charges import billable_open_charges
from remit.services.cycle_issuing import ATTEMPTS, ItemIssuer, ItemOutcome
from remit.services.invoices import InvoiceService
from remit.services.retry import READ_AGAIN, ReadAgain, retry_on_conflict
from remit.services.sending import SendingService
from remit.services.subscriptions import period_draft

logger = logging.getLogger(__name__)


class RecurringIssuing:
    """Issues the cycle's items one by one: a subscription's periods due, a customer's open charges."""

    def __init__(
        self,
        context: BillingContext,
        store: RecurringStore,
        invoices: InvoiceService,
        issuer: ItemIssuer,
        sending: SendingService,
        charge_card: Callable[[Organisation, Invoice], object],
        public_base_url: Callable[[], str],
        max_periods: int,
    ) -> None:
        self._billing = context.billing
        self._clock = context.clock
        self._store = store
        self._invoices = invoices
        self._issuer = issuer
        self._sending = sending
        self._charge_card = charge_card
        self._public_base_url = public_base_url
        self._max_periods = max_periods

    def bill_subscription(
        self, organisation_id: str, subscription_id: str, customer_id: str | None, run_id: str, as_of: date
    ) -> ItemOutcome:
        """Bill a subscription's item of a cycle run: each period due by `as_of`, oldest first, at
        most `max_periods`, each in one transaction with its period's marker, the last with the
        item counted done on the run (see `BillingCycleService.process`). Errors of the item are
        recorded on the run; a conflict that persists raises, so that the message is retried."""
        outcome = ItemOutcome()
        state: (
            tuple[Organisation | None, NumberSeries | None, Subscription | None, Customer | None] | None
        ) = None
        customer: Customer | None = None

        def attempt() -> bool | ReadAgain:
            """One step: True once the item is billed and counted done, False when it still must be."""
            nonlocal state, customer
            if state is None:
                state = self._store.read_subscription(organisation_id, subscription_id, customer_id)
            organisation, series, subscription, customer = state
            state = None
            if organisation is None or series is None or subscription is None:
                outcome.skipped = True
                return False
            if customer is None or customer.id != subscription.customer_id:
                outcome.error = f"The subscription's customer {subscription.customer_id} no longer exists."
                return False
            due = subscription.periods_due(as_of, 2)
            try:
                if not due:
                    self._close_if_done(subscription, as_of)
                    return False
                if outcome.issued >= self._max_periods:
                    outcome.catch_up_limit_reached = True
                    logger.warning(
                        "Catch-up limit reached: the rest of the missed periods follow in the next runs",
                        extra={"subscription_id": subscription_id, "limit": self._max_periods},
                    )
                    return False
                # The last period due is billed with the item's own count on the run: one transaction.
                last = len(due) == 1
                invoice, billed = self._bill_period(
                    organisation,
                    series,
                    subscription,
                    customer,
                    due[0],
                    run_id,
                    as_of,
                    outcome if last else None,
                )
                outcome.issued += 1
                outcome.invoice_ids.append(invoice.id)
                if last:
                    return True
                if billed.periods_due(as_of, 1) == []:
                    state = (organisation, series, billed, None)  # nothing more is due: no need to read again
                return READ_AGAIN  # the next period due
            except AlreadyDone:
                return READ_AGAIN  # read again: another attempt billed it
            except ConcurrentUpdate:
                raise  # another writer changed the subscription, customer or counter: wait, read again
            except DocumentUnavailable:
                raise  # the e-invoice validator cannot be reached: the message is delivered again
            except DomainError as error:
                outcome.error = error.detail
                return False

        if retry_on_conflict(
            attempt,
            ATTEMPTS,
            exhausted=f"Subscription {subscription_id} kept changing; the message is retried.",
        ):
            return outcome
        outcome.skipped = outcome.skipped or (outcome.issued == 0 and outcome.error is None)
        self._issuer.finish_item(
            organisation_id,
            run_id,
            subscription_id,
            outcome,
            subscription_id=subscription_id,
            customer_id=customer.id if customer else "",
        )
        return outcome

    def _bill_period(
        self,
        organisation: Organisation,
        series: NumberSeries,
        subscription: Subscription,
        customer: Customer,
        period: BillingPeriod,
        run_id: str,
        as_of: date,
        completes: ItemOutcome | None,
    ) -> tuple[Invoice, Subscription]:
        """Issue the period's invoice; with `completes`, the item is counted done in the same write."""
        now = self._clock.now()
        draft, charges = period_draft(
            self._invoices, self._billing, organisation, customer, subscription, period, as_of, now
        )
        automatic = customer.invoicing_flow == "automatic"
        by_card = (
            automatic
            and subscription.collection == "charge_automatically"
            and customer.card_on_file is not None
            and organisation.payment_methods.card
        )
        transaction = self._store.transaction(organisation.id)
        transaction.claim_period(subscription.id, period.start, draft.id)
        invoice = self._issuer.issue(
            transaction,
            organisation,
            series,
            customer,
            draft,
            charges,
            as_of,
            now,
            finalize=automatic,
            send=automatic and not by_card,
        )
        billed = subscription.billed(period, now)
        billed = billed.close_if_done(as_of, now) or billed
        saved = transaction.save_subscription(billed)
        if completes is not None:
            transaction.claim_run_item(run_id, subscription.id)
        transaction.count_on_run(run_id, invoice_id=invoice.id, item_done=completes is not None)
        transaction.commit()
        if by_card and invoice.status == "open":
            self._charge_or_send(organisation, invoice)
        return invoice, saved

    def _charge_or_send(self, organisation: Organisation, invoice: Invoice) -> None:
        try:
            self._charge_card(organisation, invoice)
        except Exception:
            logger.exception(
                "The saved card could not be charged; the invoice is sent instead",
                extra={"invoice_id": invoice.id},
            )
            if invoice.sent_at is None:  # else finalizing emailed it (`notifications.invoice_finalized`)
                self._sending.send(
                    organisation.account_id, organisation.id, invoice.id, self._public_base_url()
                )

    def _close_if_done(self, subscription: Subscription, as_of: date) -> None:
        closed = subscription.close_if_done(as_of, self._clock.now())
        if closed is not None:
            transaction = self._store.transaction(subscription.organisation_id)
            transaction.save_subscription(closed)
            transaction.commit()

    def bill_open_charges(
        self, organisation_id: str, customer_id: str, run_id: str, as_of: date
    ) -> ItemOutcome:
        """Bill a customer's open charges of the month, once (the month's marker in the invoice's
        transaction), and count the item done on the run (see `BillingCycleService.process`).
        Errors of the item are recorded on the run; a conflict that persists raises."""
        outcome = ItemOutcome()

        def attempt() -> ReadAgain | None:
            organisation, series, _, customer = self._billing.read_for_finalizing(
                organisation_id, customer_id=customer_id
            )
            day = customer.next_charges_billing if customer else None
            if organisation is None or series is None or customer is None or day is None or day > as_of:
                return None
            charges = billable_open_charges(self._billing, organisation_id, customer)
            now = self._clock.now()
            transaction = self._store.transaction(organisation_id)
            try:
                if charges:
                    draft = self._invoices.draft_for(
                        organisation, customer, charges, [], today=as_of, now=now, source="billing"
                    )
                    transaction.claim_charges_cycle(customer.id, day, draft.id)
                    automatic = customer.invoicing_flow == "automatic"
                    invoice = self._issuer.issue(
                        transaction,
                        organisation,
                        series,
                        customer,
                        draft,
                        charges,
                        as_of,
                        now,
                        finalize=automatic,
                        send=automatic,
                        next_charges_billing=first_of_next_month(as_of),
                    )
                    transaction.count_on_run(run_id, invoice_id=invoice.id)
                else:
                    transaction.claim_charges_cycle(customer.id, day, None)
                    transaction.schedule_charges_billing(customer, first_of_next_month(as_of), now)
                transaction.commit()
            except AlreadyDone:
                return READ_AGAIN
            except (ConcurrentUpdate, DocumentUnavailable):
                raise  # read again; or the e-invoice validator cannot be reached: delivered again
            except DomainError as error:
                outcome.error = error.detail
                return None
            if charges:
                outcome.issued = 1
                outcome.invoice_ids.append(invoice.id)
            return None

        retry_on_conflict(
            attempt, ATTEMPTS, exhausted=f"Customer {customer_id} kept changing; the message is retried."
        )
        outcome.skipped = outcome.issued == 0 and outcome.error is None
        self._issuer.finish_item(organisation_id, run_id, customer_id, outcome, customer_id=customer_id)
        return outcome
