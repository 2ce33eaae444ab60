"""The daily invoicing cycle and the billing worker: every invoice issued exactly once.

The planner is split (`split_day`, then `plan_part` for each part, see
`remit.services.day_planning`): each part reads one page of one shard of the due index up to each
organisation's today, records one billing run per organisation in the page and queues one message
per item. The worker (`process`) bills an item per message:

* a subscription: each period due by the run's day, oldest first, at most `max_periods` per run;
* a customer billed monthly: all of its open charges, on the 1st;
* a customer of a bulk run: one invoice with the run's lines.

Each invoice is issued by one transaction that also writes the marker of what it bills (the
subscription's period, the month, the run's customer) with `attribute_not_exists`, the
subscription's next billing date and the run's counters. A second attempt at the same work (a
duplicate schedule delivery, a concurrent planner, an SQS redelivery, a retry after a crash between
any two steps) finds the marker and counts as done: no duplicate, and nothing is skipped, because a
crash before the commit leaves nothing behind and the message is delivered again.

Several items of one organisation (the subscriptions of one batch's messages, `issue_together`; the
customers of one bulk message) are issued together: one transaction issues their invoices with
consecutive numbers and writes the organisation's number series once, each invoice with its own
markers, so the organisation's finalizations do not queue on its series one invoice at a time. A
transaction refused because one of its items is done already writes nothing; the group is read
again and issued without it, its numbers taken afresh.

With the customer's `invoicing_flow: "automatic"` the invoice is finalized and sent in that same
transaction (the email through the outbox); `manual` leaves a draft. A subscription collected with
`charge_automatically` from a customer with a saved card is charged after the commit instead of
being emailed (if the charge cannot even be attempted, the invoice is sent).

This service is the cycle's one door; the work is done by a module per concept:
`remit.services.cycle_planning` (the planner), `remit.services.recurring_issuing` (a subscription's
periods, a customer's open charges), `remit.services.grouped_issuing` (several items of one
organisation together), `remit.services.bulk_issuing` (a bulk run's customers) and
`remit.services.cycle_issuing` (what issuing an item always does).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from remit.domain.invoice import Invoice
from remit.domain.organisation import Organisation
from remit.ports.queues import DayPlanning, WorkQueue
from remit.ports.recurring import RecurringStore
from remit.services.billing_context import BillingContext
from remit.services.bulk_issuing import BulkIssuing
from remit.services.cycle_issuing import ItemIssuer, ItemOutcome, day_of
from remit.services.cycle_planning import CyclePlan, CyclePlanner
from remit.services.day_planning import PAGE, DayPart
from remit.services.grouped_issuing import GroupedIssuing
from remit.services.invoice_lifecycle import InvoiceLifecycleService
from remit.services.invoices import InvoiceService
from remit.services.recurring_issuing import RecurringIssuing
from remit.services.sending import SendingService


class BillingCycleService:
    """The invoicing cycle as the scheduler and the billing worker call it (see the module)."""

    def __init__(
        self,
        context: BillingContext,
        store: RecurringStore,
        invoices: InvoiceService,
        lifecycle: InvoiceLifecycleService,
        sending: SendingService,
        queue: WorkQueue,
        planning: DayPlanning,
        charge_card: Callable[[Organisation, Invoice], object],
        public_base_url: Callable[[], str],
        max_periods: int,
        page: int = PAGE,
    ) -> None:
        self._clock = context.clock
        self._store = store
        self._planner = CyclePlanner(store, queue, planning, context.clock, page)
        issuer = ItemIssuer(store, invoices, lifecycle, sending, public_base_url)
        self._recurring = RecurringIssuing(
            context, store, invoices, issuer, sending, charge_card, public_base_url, max_periods
        )
        self._groups = GroupedIssuing(context, store, invoices, issuer)
        self._bulk = BulkIssuing(context, store, invoices, issuer, self._groups)

    # --- the planner (`remit.services.cycle_planning`) ------------------------------------------

    def split_day(self, scheduled_time: datetime) -> list[DayPart]:
        """Queue one part per shard of the due index for the day at `scheduled_time` (see
        `remit.services.day_planning`): constant work, whatever the day's size. Idempotent in
        effect: splitting the same day again plans its pages again, which queues nothing that bills
        twice. Raises if the queue refuses the messages (the scheduler retries).
        """
        return self._planner.split_day(scheduled_time)

    def plan_part(self, message: Mapping[str, Any], message_id: str) -> CyclePlan:
        """Plan one page of one shard of the due index (a `split_day` part; `message_id` is its
        queue message's id, the same on each delivery): the next page's part is queued first, then
        each organisation's entries due on or before its own date at the scheduled time are
        recorded as a billing run and queued for the worker. Reads the page and one organisation
        item per organisation in it; holds no more than the page.

        Idempotent: a run's id names its organisation, day and page, so a page planned again
        records no second run and queues its run's items again, which the worker's markers bill
        once. A run older than `STALE_RUN` found in the page, not complete (its messages were lost
        or dead-lettered), is queued again for what it has left. One
        organisation that cannot be planned does not stop the others of the page: they are queued,
        then `PartFailed` is raised so that the part is retried. Raises if the queue refuses.
        """
        return self._planner.plan_part(message, message_id)

    def planned(self, scheduled_time: datetime) -> CyclePlan:
        """What the parts of the day at `scheduled_time` planned so far, as each recorded it: every
        run once. Reads one item per part (it grows with the day: for the local stack's dev route
        and for operators, never for the planning itself).
        """
        return self._planner.planned(scheduled_time)

    # --- the worker ----------------------------------------------------------------------------

    def process(self, message: Mapping[str, Any]) -> list[ItemOutcome]:
        """Do one queued message's work (exactly once, see the module's docstring). Messages:

            {"kind": "subscription", "organisation_id", "subscription_id", "customer_id"?, "run_id", "as_of"}
            {"kind": "charges", "organisation_id", "customer_id", "run_id", "as_of"}
            {"kind": "bulk", "organisation_id", "run_id", "customer_ids": [...]}   (up to 10)

        Errors of the item itself (a customer deleted meanwhile, a template gone) are recorded on
        the run and not raised; anything else raises, so that the queue delivers it again.
        """
        kind = message.get("kind")
        organisation_id = str(message["organisation_id"])
        run_id = str(message["run_id"])
        if kind == "subscription":
            customer_id = message.get("customer_id")
            outcomes = [
                self._recurring.bill_subscription(
                    organisation_id,
                    str(message["subscription_id"]),
                    str(customer_id) if customer_id else None,
                    run_id,
                    day_of(message),
                )
            ]
        elif kind == "charges":
            outcomes = [
                self._recurring.bill_open_charges(
                    organisation_id, str(message["customer_id"]), run_id, day_of(message)
                )
            ]
        elif kind == "bulk":
            outcomes = self._bulk.bill_bulk(
                organisation_id, run_id, [str(c) for c in message["customer_ids"]]
            )
        else:
            raise ValueError(f"unknown billing message kind {kind!r}")
        return outcomes

    def issue_together(self, messages: Mapping[str, Mapping[str, Any]]) -> dict[str, ItemOutcome]:
        """Issue the subscription items among `messages` (by message id) together, organisation by
        organisation, and answer the outcome of each message whose item this did.

        A transaction issues as many of one organisation's invoices as fit in it, with consecutive
        numbers and one write of the number series (conditioned on it being as read), each invoice
        with the markers of its period and its run item: exactly once, as `process` would, and
        gapless. Only items of one period due, finalized and sent by the automatic flow and with a
        customer of their own in the group, are issued together. A transaction refused because one
        of its periods is done already writes nothing; the group is read again and issued without
        it, with its numbers taken afresh. The messages not answered (other kinds, catch-ups, drafts,
        card charges, a customer's second subscription, an item that failed or kept conflicting) are
        for `process`, one by one; so this raises nothing a message should fail for.
        """
        return self._groups.issue_together(messages)

    def complete_runs(self, runs: set[tuple[str, str]]) -> None:
        """Stamp `completed_at` on those of the runs (organisation id, run id) whose items are all done."""
        now = self._clock.now()
        for organisation_id, run_id in sorted(runs):
            self._store.mark_run_completed(organisation_id, run_id, now)
