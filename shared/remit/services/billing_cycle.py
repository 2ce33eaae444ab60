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
"""

from __future__ import annotations

import contextlib
import logging
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any

from remit.domain.billing_period import BillingPeriod
from remit.domain.billing_run import BillingRun, BillingRunError, BulkInvoice
from remit.domain.charge import Charge
from remit.domain.customer import Customer, first_of_next_month
from remit.domain.errors import AlreadyDone, ConcurrentUpdate, DomainError, NotFound
from remit.domain.ids import derived_id
from remit.domain.invoice import Invoice
from remit.domain.numbering import NumberSeries, SeriesMoved, TakenNumber
from remit.domain.organisation import Organisation
from remit.domain.subscription import Subscription
from remit.ports.queues import DayPlanning, WorkQueue
from remit.ports.recurring import RecurringStore, RecurringTransaction
from remit.services.billing_context import BillingContext, latest_date_anywhere, today_in
from remit.services.charges import billable_open_charges
from remit.services.day_planning import PAGE, DayPart, PartFailed, part_of, read_page, split_day
from remit.services.invoice_lifecycle import InvoiceLifecycleService
from remit.services.invoices import InvoiceService
from remit.services.retry import READ_AGAIN, ReadAgain, back_off, retry_on_conflict
from remit.services.sending import SendingService
from remit.services.subscriptions import period_draft

logger = logging.getLogger(__name__)

PLAN_CYCLE = "plan_cycle"  # the kind of a part's message on the billing queue
BULK_CUSTOMERS_PER_MESSAGE = 10  # one worker message bills this many customers of a bulk run
# A run not complete this long after it was recorded lost messages (or they were dead-lettered).
STALE_RUN = timedelta(hours=1)
# Attempts at one item before the message goes back to the queue (each conflict is re-read first).
_ATTEMPTS = 60
# DynamoDB's most actions in one TransactWriteItems: a group issues as many invoices as fit.
TRANSACTION_ACTIONS = 100
# A group's transaction cancelled by a conflict (not by its series moving) is sent again this often
# before its subscriptions and customers are read again.
_RESENDS = 3


@dataclass(frozen=True)
class PlannedRun:
    organisation_id: str
    run_id: str
    items: int


@dataclass(frozen=True)
class CyclePlan:
    """What one part planned: its runs, the messages it queued and the parts it queued next."""

    scheduled_time: datetime
    runs: list[PlannedRun]
    enqueued: int
    next_parts: tuple[DayPart, ...] = ()


@dataclass
class ItemOutcome:
    """What one message's item came to (for the worker's metrics and logs)."""

    issued: int = 0
    skipped: bool = False
    error: str | None = None
    catch_up_limit_reached: bool = False
    invoice_ids: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _DuePeriod:
    """A subscription message's item as a group issues it: its last period due, read with the group."""

    message_id: str
    run_id: str
    as_of: date
    subscription: Subscription
    customer: Customer
    period: BillingPeriod


@dataclass(frozen=True)
class _GroupItem:
    """An invoice a group issues: the run's item it does, its priced draft, and the markers (and
    moves) staged with it, which make it exactly once."""

    item_id: str  # the run's item: a subscription, or a customer of a bulk run
    run_id: str
    customer: Customer
    draft: Invoice
    charges: list[Charge]
    issue_date: date
    send: bool
    public_base_url: str | None
    stage_claims: Callable[[RecurringTransaction], None]


class _Retry(Exception):
    """Read again and retry the item (a concurrent writer was first)."""


class BillingCycleService:
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
        self._context = context
        self._billing = context.billing
        self._clock = context.clock
        self._store = store
        self._invoices = invoices
        self._lifecycle = lifecycle
        self._sending = sending
        self._queue = queue
        self._planning = planning
        self._charge_card = charge_card
        self._public_base_url = public_base_url
        self._max_periods = max_periods
        self._page = page

    # --- the planner ---------------------------------------------------------------------------

    def split_day(self, scheduled_time: datetime) -> list[DayPart]:
        """Queue one part per shard of the due index for the day at `scheduled_time` (see
        `remit.services.day_planning`): constant work, whatever the day's size. Idempotent in
        effect: splitting the same day again plans its pages again, which queues nothing that bills
        twice. Raises if the queue refuses the messages (the scheduler retries).
        """
        return split_day(self._planning, self._queue, PLAN_CYCLE, "DUE", scheduled_time)

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
        part = part_of(message, "DUE")
        entries, queued = read_page(
            self._planning,
            self._queue,
            part,
            latest_date_anywhere(part.scheduled_time),
            message_id,
            self._page,
        )
        due: dict[str, dict[str, tuple[date, str]]] = defaultdict(dict)
        for day, organisation_id, item_id, customer_id in entries:
            due[organisation_id][item_id] = (day, customer_id)
        organisations = self._store.organisations(sorted(due))
        plan = CyclePlan(part.scheduled_time, [], 0, queued)
        failed: list[str] = []
        for organisation_id in sorted(due):
            organisation = organisations.get(organisation_id)
            if organisation is None:
                logger.warning(
                    "Due entries of an organisation that no longer exists",
                    extra={"organisation_id": organisation_id},
                )
                continue
            try:
                plan = self._plan_organisation(plan, part, organisation, due[organisation_id])
            except Exception:
                logger.exception(
                    "An organisation's billing could not be planned",
                    extra={"organisation_id": organisation_id},
                )
                failed.append(organisation_id)
        report = {
            "runs": [
                {"organisation_id": r.organisation_id, "run_id": r.run_id, "items": r.items}
                for r in plan.runs
            ],
            "enqueued": plan.enqueued,
        }
        self._planning.record_part(part.plan, part.shard, part.page, report)
        if failed:
            raise PartFailed(
                f"The billing of {len(failed)} organisations could not be planned: {failed[:10]}"
            )
        return plan

    def planned(self, scheduled_time: datetime) -> CyclePlan:
        """What the parts of the day at `scheduled_time` planned so far, as each recorded it: every
        run once. Reads one item per part (it grows with the day: for the local stack's dev route
        and for operators, never for the planning itself).
        """
        runs: dict[str, PlannedRun] = {}
        enqueued = 0
        plan = DayPart(PLAN_CYCLE, "DUE", scheduled_time, 0).plan
        for report in self._planning.parts_recorded(plan, self._planning.shards("DUE")):
            enqueued += int(report["enqueued"])
            for run in report["runs"]:
                runs.setdefault(
                    run["run_id"], PlannedRun(run["organisation_id"], run["run_id"], run["items"])
                )
        return CyclePlan(scheduled_time, sorted(runs.values(), key=lambda r: r.run_id), enqueued)

    def _plan_organisation(
        self,
        plan: CyclePlan,
        part: DayPart,
        organisation: Organisation,
        entries: dict[str, tuple[date, str]],
    ) -> CyclePlan:
        """`plan` with the organisation's entries of the page recorded as a run and queued. The run's
        id names its page (the part's plan, shard and start): planned again, the page finds its run
        recorded and queues the run's items again, whatever moved in the index meanwhile (the runs
        recorded since, the items billed since)."""
        organisation_id = organisation.id
        today = today_in(organisation.timezone, plan.scheduled_time)
        # Runs that should have finished first: what they have left is theirs to bill.
        enqueued = plan.enqueued
        resumed: set[str] = set()
        for run_id in sorted(i for i in entries if _is_run(i)):
            sent, items_left = self._resume(organisation_id, run_id, plan.scheduled_time, today)
            enqueued += sent
            resumed |= items_left
        items = {
            i: customer
            for i, (day, customer) in entries.items()
            if day <= today and not _is_run(i) and i not in resumed
        }
        if not items:
            return replace(plan, enqueued=enqueued)
        item_ids = sorted(items)
        now = self._clock.now()
        page = (part.plan, str(part.shard), part.page or "")
        run = BillingRun(
            id=derived_id("brun", plan.scheduled_time, organisation_id, today.isoformat(), *page),
            organisation_id=organisation_id,
            kind="invoicing_cycle",
            customer_count=len(item_ids),
            item_ids=item_ids,
            run_date=today,
            created_at=now,
        )
        if not self._store.record_cycle_run(run):
            recorded = self._store.get_run(organisation_id, run.id, invoice_ids=False)
            if recorded is None:
                raise ConcurrentUpdate(f"Billing run {run.id} was recorded, then is not found.")
            item_ids = recorded.item_ids  # as the first planning of the page recorded them
        self._queue.send([_item_message(organisation_id, i, items.get(i), run.id, today) for i in item_ids])
        return replace(
            plan,
            runs=[*plan.runs, PlannedRun(organisation_id, run.id, len(item_ids))],
            enqueued=enqueued + len(item_ids),
        )

    def _resume(self, organisation_id: str, run_id: str, now: datetime, today: date) -> tuple[int, set[str]]:
        """Queue again what a run that should have finished has left: (messages sent, items left).
        The cycle's runs of `today` are the day's own (other parts of the day recorded them)."""
        run = self._store.get_run(organisation_id, run_id, invoice_ids=False)
        if (
            run is None
            or run.created_at > now - STALE_RUN
            or (run.run_date is not None and run.run_date >= today)
        ):
            return 0, set()
        done = set()
        for start in range(0, len(run.item_ids), 100):
            done |= self._store.run_items_done(organisation_id, run_id, run.item_ids[start : start + 100])
        left = [item for item in run.item_ids if item not in done]
        if not left:
            self._store.mark_run_completed(organisation_id, run_id, self._clock.now())
            return 0, set()
        logger.warning(
            "Billing run resumed: its items were not all done",
            extra={"run_id": run_id, "items_left": len(left)},
        )
        messages: list[Mapping[str, Any]]
        if run.kind == "bulk":
            step = BULK_CUSTOMERS_PER_MESSAGE
            messages = [
                {
                    "kind": "bulk",
                    "organisation_id": organisation_id,
                    "run_id": run_id,
                    "customer_ids": left[i : i + step],
                }
                for i in range(0, len(left), step)
            ]
        else:
            day = run.run_date or run.created_at.date()
            messages = [_item_message(organisation_id, item, None, run_id, day) for item in left]
        self._queue.send(messages)
        return len(messages), set(left)

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
                self._bill_subscription(
                    organisation_id,
                    str(message["subscription_id"]),
                    str(customer_id) if customer_id else None,
                    run_id,
                    _day(message),
                )
            ]
        elif kind == "charges":
            outcomes = [
                self._bill_open_charges(organisation_id, str(message["customer_id"]), run_id, _day(message))
            ]
        elif kind == "bulk":
            outcomes = self._bill_bulk(organisation_id, run_id, [str(c) for c in message["customer_ids"]])
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
        by_organisation: dict[str, dict[str, tuple[str, Mapping[str, Any]]]] = defaultdict(dict)
        for message_id, message in messages.items():
            if message.get("kind") == "subscription" and {"organisation_id", "subscription_id"} <= set(
                message
            ):
                # A subscription queued twice (racing planners) is issued once here; `process`
                # finds the other message's item done. A message that is not whole fails in `process`.
                by_organisation[str(message["organisation_id"])].setdefault(
                    str(message["subscription_id"]), (message_id, message)
                )
        outcomes: dict[str, ItemOutcome] = {}
        for organisation_id, wanted in by_organisation.items():
            while len(wanted) > 1:
                try:
                    issued = self._issue_group(organisation_id, wanted)
                except Exception:  # written whole or not at all: `process` finishes each item
                    logger.warning(
                        "Issuing a group failed; its items are issued one by one",
                        extra={"organisation_id": organisation_id, "items": len(wanted)},
                        exc_info=True,
                    )
                    break
                if not issued:
                    break
                for subscription_id, (message_id, outcome) in issued.items():
                    outcomes[message_id] = outcome
                    del wanted[subscription_id]
        return outcomes

    def complete_runs(self, runs: set[tuple[str, str]]) -> None:
        """Stamp `completed_at` on those of the runs (organisation id, run id) whose items are all done."""
        now = self._clock.now()
        for organisation_id, run_id in sorted(runs):
            self._store.mark_run_completed(organisation_id, run_id, now)

    def _bill_subscription(
        self, organisation_id: str, subscription_id: str, customer_id: str | None, run_id: str, as_of: date
    ) -> ItemOutcome:
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
            except DomainError as error:
                outcome.error = error.detail
                return False

        if retry_on_conflict(
            attempt,
            _ATTEMPTS,
            exhausted=f"Subscription {subscription_id} kept changing; the message is retried.",
        ):
            return outcome
        outcome.skipped = outcome.skipped or (outcome.issued == 0 and outcome.error is None)
        self._finish_item(
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
        invoice = self._issue(
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

    def _issue_group(
        self, organisation_id: str, wanted: Mapping[str, tuple[str, Mapping[str, Any]]]
    ) -> dict[str, tuple[str, ItemOutcome]]:
        """One transaction's worth of `wanted` (subscription id: its message id and message) issued
        together: {subscription id: (message id, outcome)}; empty when fewer than two can be.
        """
        refused = 0

        def attempt() -> dict[str, tuple[str, ItemOutcome]] | ReadAgain:
            nonlocal refused
            organisation, series, subscriptions, customers = self._store.read_subscriptions(
                organisation_id, [(sub, message.get("customer_id")) for sub, (_, message) in wanted.items()]
            )
            if organisation is None or series is None:
                return {}
            due = self._due_together(organisation, subscriptions, customers, wanted)
            if len(due) < 2:
                return {}
            now = self._clock.now()
            messages = {item.subscription.id: item.message_id for item in due}
            try:
                items = [self._period_item(organisation, item, now) for item in due]
                issued = self._commit_group(organisation, items, now)
            except AlreadyDone:
                # A period of the group is done (an earlier delivery): read again, it is due no more.
                # Refused more often than the group has items, something else refuses: one by one.
                refused += 1
                return READ_AGAIN if refused <= len(wanted) else {}
            except DomainError as error:
                if isinstance(error, ConcurrentUpdate):
                    raise  # a subscription or customer changed meanwhile: read them again
                return {}  # an item of the group is refused: `process` records it on the run
            return {
                item.item_id: (messages[item.item_id], ItemOutcome(issued=1, invoice_ids=[invoice.id]))
                for item, invoice in issued
            }

        return retry_on_conflict(
            attempt, _ATTEMPTS, exhausted=f"The group of {organisation_id} kept conflicting."
        )

    def _due_together(
        self,
        organisation: Organisation,
        subscriptions: Mapping[str, Subscription],
        customers: Mapping[str, Customer],
        wanted: Mapping[str, tuple[str, Mapping[str, Any]]],
    ) -> list[_DuePeriod]:
        """The items of `wanted` a group issues: one period due (the item's last), finalized and sent
        (not charged), each customer once (a transaction writes an item once)."""
        due: list[_DuePeriod] = []
        seen: set[str] = set()
        for subscription_id, (message_id, message) in wanted.items():
            subscription = subscriptions.get(subscription_id)
            customer = customers.get(subscription.customer_id) if subscription else None
            if subscription is None or customer is None or customer.id in seen:
                continue
            as_of = _day(message)
            periods = subscription.periods_due(as_of, 2)
            by_card = (
                subscription.collection == "charge_automatically"
                and customer.card_on_file is not None
                and organisation.payment_methods.card
            )
            if len(periods) != 1 or customer.invoicing_flow != "automatic" or by_card:
                continue
            seen.add(customer.id)
            due.append(
                _DuePeriod(message_id, str(message["run_id"]), as_of, subscription, customer, periods[0])
            )
        return due

    def _period_item(self, organisation: Organisation, due: _DuePeriod, now: datetime) -> _GroupItem:
        """The invoice of a subscription's period due, priced, with its markers (the period's, the
        run item's) and the subscription moved on."""
        draft, charges = period_draft(
            self._invoices,
            self._billing,
            organisation,
            due.customer,
            due.subscription,
            due.period,
            due.as_of,
            now,
        )

        def stage_claims(transaction: RecurringTransaction) -> None:
            transaction.claim_period(due.subscription.id, due.period.start, draft.id)
            billed = due.subscription.billed(due.period, now)
            transaction.save_subscription(billed.close_if_done(due.as_of, now) or billed)
            transaction.claim_run_item(due.run_id, due.subscription.id)

        return _GroupItem(
            due.subscription.id, due.run_id, due.customer, draft, charges, due.as_of, True, None, stage_claims
        )

    def _commit_group(
        self, organisation: Organisation, items: list[_GroupItem], now: datetime
    ) -> list[tuple[_GroupItem, Invoice]]:
        """Issue the first of `items` that fit in one transaction (at most `TRANSACTION_ACTIONS`).

        The drafts are priced already; the number series is read last, just before the commit, and
        only it is read again when another finalization wrote it meanwhile (`SeriesMoved`): the
        organisation's finalizations wait on each other for a read and a commit, no longer.
        """
        count = self._fitting(organisation, items, now)
        conflicts = 0
        for number in range(_ATTEMPTS):
            numbering, series, _, _ = self._billing.read_for_finalizing(organisation.id)
            if numbering is None or series is None:
                raise NotFound("organisation", organisation.id)
            transaction, issued = self._stage_group(numbering, series, items[:count], now)
            while transaction.actions() > TRANSACTION_ACTIONS and count > 2:  # heavier than estimated
                count -= 1
                transaction, issued = self._stage_group(numbering, series, items[:count], now)
            try:
                transaction.commit()
            except SeriesMoved:
                back_off(number)
                continue
            except ConcurrentUpdate:
                # Another transaction held one of its items (the series, the run): send it again, a
                # few times; an item written meanwhile (a customer) is read again by the caller.
                conflicts += 1
                if conflicts > _RESENDS:
                    raise
                back_off(number)
                continue
            return issued
        raise ConcurrentUpdate("The organisation's number series kept moving.")

    def _fitting(self, organisation: Organisation, items: list[_GroupItem], now: datetime) -> int:
        """How many of `items` (at least two) one transaction holds, estimated by staging them all
        once before the series is read (the numbers do not change the actions) and kept in
        proportion; those left wait for the next transaction."""
        count = len(items)
        if count > 2:
            actions = self._stage_group(organisation, NumberSeries(), items, now)[0].actions()
            if actions > TRANSACTION_ACTIONS:
                count = max(2, count * TRANSACTION_ACTIONS // actions)
        return count

    def _stage_group(
        self, organisation: Organisation, series: NumberSeries, items: list[_GroupItem], now: datetime
    ) -> tuple[RecurringTransaction, list[tuple[_GroupItem, Invoice]]]:
        numbers = organisation.take_invoice_numbers(series, len(items))
        transaction = self._store.transaction(organisation.id)
        # The series first: when it moved, that is the refusal reported (before the number markers).
        transaction.billing.save_series(numbers[-1].series)
        issued: list[tuple[_GroupItem, Invoice]] = []
        by_run: dict[str, list[str]] = defaultdict(list)
        for item, taken in zip(items, numbers, strict=True):
            item.stage_claims(transaction)
            invoice = self._issue(
                transaction,
                organisation,
                taken,
                item.customer,
                item.draft,
                item.charges,
                item.issue_date,
                now,
                finalize=True,
                send=item.send,
                public_base_url=item.public_base_url,
            )
            by_run[item.run_id].append(invoice.id)
            issued.append((item, invoice))
        for run_id, invoice_ids in by_run.items():
            transaction.count_issued_on_run(run_id, invoice_ids)
        return transaction, issued

    def _charge_or_send(self, organisation: Organisation, invoice: Invoice) -> None:
        try:
            self._charge_card(organisation, invoice)
        except Exception:
            logger.exception(
                "The saved card could not be charged; the invoice is sent instead",
                extra={"invoice_id": invoice.id},
            )
            self._sending.send(organisation.account_id, organisation.id, invoice.id, self._public_base_url())

    def _close_if_done(self, subscription: Subscription, as_of: date) -> None:
        closed = subscription.close_if_done(as_of, self._clock.now())
        if closed is not None:
            transaction = self._store.transaction(subscription.organisation_id)
            transaction.save_subscription(closed)
            transaction.commit()

    def _bill_open_charges(
        self, organisation_id: str, customer_id: str, run_id: str, as_of: date
    ) -> ItemOutcome:
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
                    invoice = self._issue(
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
            except ConcurrentUpdate:
                raise
            except DomainError as error:
                outcome.error = error.detail
                return None
            if charges:
                outcome.issued = 1
                outcome.invoice_ids.append(invoice.id)
            return None

        retry_on_conflict(
            attempt, _ATTEMPTS, exhausted=f"Customer {customer_id} kept changing; the message is retried."
        )
        outcome.skipped = outcome.issued == 0 and outcome.error is None
        self._finish_item(organisation_id, run_id, customer_id, outcome, customer_id=customer_id)
        return outcome

    def _bill_bulk(self, organisation_id: str, run_id: str, customer_ids: list[str]) -> list[ItemOutcome]:
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
        """One transaction's worth of a bulk run's customers issued together (see `issue_together`):
        {customer id: outcome}; empty when fewer than two can be. A customer gone or billed in another
        currency is left to `_bill_bulk_customer`, which records why on the run.
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
                issued = self._commit_group(organisation, items, now)
            except AlreadyDone:
                refused += 1
                return READ_AGAIN if refused <= len(customer_ids) else {}
            except DomainError as error:
                if isinstance(error, ConcurrentUpdate):
                    raise  # a customer changed meanwhile: read again
                return {}
            return {item.item_id: ItemOutcome(issued=1, invoice_ids=[invoice.id]) for item, invoice in issued}

        return retry_on_conflict(attempt, _ATTEMPTS, exhausted=f"Bulk run {run_id} kept conflicting.")

    def _bulk_item(
        self,
        organisation: Organisation,
        run_id: str,
        bulk: BulkInvoice,
        customer: Customer,
        today: date,
        now: datetime,
    ) -> _GroupItem:
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

        return _GroupItem(
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
                invoice = self._issue(
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
            except ConcurrentUpdate:
                raise
            except DomainError as error:
                outcome.error = error.detail
                return False
            outcome.issued = 1
            outcome.invoice_ids.append(invoice.id)
            return True

        if retry_on_conflict(
            attempt,
            _ATTEMPTS,
            exhausted=f"Bulk run {run_id} kept conflicting on {customer_id}; the message is retried.",
        ):
            return outcome
        self._finish_item(organisation_id, run_id, customer_id, outcome, customer_id=customer_id)
        return outcome

    # --- shared steps --------------------------------------------------------------------------

    def _issue(
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
            if send:
                invoice = self._sending.stage_sending(
                    transaction.billing, invoice, customer, now + timedelta(milliseconds=2)
                )
        elif next_charges_billing is not None:
            transaction.schedule_charges_billing(customer, next_charges_billing, now)
        self._invoices.stage_new_invoice(transaction.billing, draft, invoice, charges, now)
        return invoice

    def _finish_item(
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


def _is_run(item_id: str) -> bool:
    return item_id.startswith("brun_")


def _item_message(
    organisation_id: str, item_id: str, customer_id: str | None, run_id: str, day: date
) -> dict[str, str]:
    """The queue message of one item of a cycle run (see `process`)."""
    message = {"organisation_id": organisation_id, "run_id": run_id}
    if item_id.startswith("sub_"):
        message |= {"kind": "subscription", "subscription_id": item_id}
        if customer_id:
            message["customer_id"] = customer_id
    else:
        message |= {"kind": "charges", "customer_id": item_id}
    return message | {"as_of": day.isoformat()}


def _day(message: Mapping[str, Any]) -> date:
    return date.fromisoformat(str(message["as_of"]))
