"""Issuing several items of one organisation together: the subscriptions of one batch's messages
(`GroupedIssuing.issue_together`) or the customers of one bulk message (`remit.services.bulk_issuing`).

One transaction issues as many of their invoices as fit in it (`TRANSACTION_ACTIONS`), with
consecutive numbers, and writes the organisation's number series once, each invoice with its own
markers, so the organisation's finalizations do not queue on its series one invoice at a time. A
transaction refused because one of its items is done already writes nothing; the group is read
again and issued without it, its numbers taken afresh.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from remit.domain.billing_period import BillingPeriod
from remit.domain.charge import Charge
from remit.domain.customer import Customer
from remit.domain.errors import AlreadyDone, ConcurrentUpdate, DomainError, NotFound
from remit.domain.invoice import Invoice
from remit.domain.numbering import NumberSeries, SeriesMoved
from remit.domain.organisation import Organisation
from remit.domain.subscription import Subscription
from remit.ports.recurring import RecurringStore, RecurringTransaction
from remit.services.billing_context import BillingContext
from remit.services.cycle_issuing import ATTEMPTS, ItemIssuer, ItemOutcome, day_of
from remit.services.invoices import InvoiceService
from remit.services.retry import READ_AGAIN, ReadAgain, back_off, retry_on_conflict
from remit.services.subscriptions import period_draft

logger = logging.getLogger(__name__)

# DynamoDB's most actions in one TransactWriteItems: a group issues as many invoices as fit.
TRANSACTION_ACTIONS = 100
# A group's transaction cancelled by a conflict (not by its series moving) is sent again this often
# before its subscriptions and customers are read again.
_RESENDS = 3


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
class GroupItem:
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


class GroupedIssuing:
    """Issues several items of one organisation in one transaction (see the module)."""

    def __init__(
        self,
        context: BillingContext,
        store: RecurringStore,
        invoices: InvoiceService,
        issuer: ItemIssuer,
    ) -> None:
        self._billing = context.billing
        self._clock = context.clock
        self._store = store
        self._invoices = invoices
        self._issuer = issuer

    def issue_together(self, messages: Mapping[str, Mapping[str, Any]]) -> dict[str, ItemOutcome]:
        """Issue the subscription items among `messages` (by message id) together, organisation by
        organisation: see `BillingCycleService.issue_together`."""
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
                issued = self.commit_group(organisation, items, now)
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
            attempt, ATTEMPTS, exhausted=f"The group of {organisation_id} kept conflicting."
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
            as_of = day_of(message)
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

    def _period_item(self, organisation: Organisation, due: _DuePeriod, now: datetime) -> GroupItem:
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

        return GroupItem(
            due.subscription.id, due.run_id, due.customer, draft, charges, due.as_of, True, None, stage_claims
        )

    def commit_group(
        self, organisation: Organisation, items: list[GroupItem], now: datetime
    ) -> list[tuple[GroupItem, Invoice]]:
        """Issue the first of `items` that fit in one transaction (at most `TRANSACTION_ACTIONS`).

        The drafts are priced already; the number series is read last, just before the commit, and
        only it is read again when another finalization wrote it meanwhile (`SeriesMoved`): the
        organisation's finalizations wait on each other for a read and a commit, no longer. Written
        whole or not at all: raises `AlreadyDone` when an item is done already, `ConcurrentUpdate`
        when another writer held an item or the series kept moving, `NotFound` when the
        organisation is gone, or the `DomainError` an item is refused for.
        """
        count = self._fitting(organisation, items, now)
        conflicts = 0
        for number in range(ATTEMPTS):
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

    def _fitting(self, organisation: Organisation, items: list[GroupItem], now: datetime) -> int:
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
        self, organisation: Organisation, series: NumberSeries, items: list[GroupItem], now: datetime
    ) -> tuple[RecurringTransaction, list[tuple[GroupItem, Invoice]]]:
        numbers = organisation.take_invoice_numbers(series, len(items))
        transaction = self._store.transaction(organisation.id)
        # The series first: when it moved, that is the refusal reported (before the number markers).
        transaction.billing.save_series(numbers[-1].series)
        issued: list[tuple[GroupItem, Invoice]] = []
        by_run: dict[str, list[str]] = defaultdict(list)
        for item, taken in zip(items, numbers, strict=True):
            item.stage_claims(transaction)
            invoice = self._issuer.issue(
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
