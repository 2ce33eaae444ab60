"""The daily reminders run: each open invoice is reminded once per step of its organisation's
schedule, on the organisation's own date (invariant 7).

The planner is split (`split_day`, then `plan_part` for each part, see
`remit.services.day_planning`): each part reads one page of one shard of the reminder index, where
an open invoice waits on the date of its next reminder step, up to the latest date any time zone
has, counts its invoices on the organisation's run of its date and queues one message per invoice
whose date has come in its organisation. The sender (`send`)
decides for one invoice, as of its organisation's date in the message:

* nothing for an invoice no longer open, an organisation with reminders disabled or a customer
  with `send_reminders: false` (the invoice leaves the index);
* otherwise the latest step that is due (`domain.reminders`): never a burst after a late run;
* one transaction writes the step's marker (only if new: a step is sent once, whatever the
  duplicate or concurrent runs), the email owed (outbox), `invoice.reminder_sent` on the timeline,
  the invoice's next reminder date and the run's count. A marker that exists counts as done.
"""

from __future__ import annotations

import contextlib
import logging
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, cast

from remit.domain.errors import AlreadyDone, ConcurrentUpdate, NotFound
from remit.domain.ids import derived_id
from remit.domain.invoice import Invoice, InvoiceEvent
from remit.domain.organisation import Organisation
from remit.domain.reminders import ReminderRun, SkipReason, latest_due_step, next_look_date
from remit.ports.queues import DayPlanning, WorkQueue
from remit.ports.reminders import ReminderStore
from remit.services.billing_context import BillingContext, latest_date_anywhere, today_in
from remit.services.day_planning import PAGE, DayPart, PartFailed, part_of, read_page, split_day
from remit.services.retry import retry_on_conflict

logger = logging.getLogger(__name__)

_ATTEMPTS = 20
PLAN_REMINDERS = "plan_reminders"  # the kind of a part's message on the reminders queue


@dataclass(frozen=True)
class PlannedReminders:
    organisation_id: str
    date: date
    invoices: int


@dataclass(frozen=True)
class ReminderPlan:
    """What one part planned: the organisations' runs, the messages queued, the parts queued next."""

    scheduled_time: datetime
    runs: list[PlannedReminders]
    enqueued: int
    next_parts: tuple[DayPart, ...] = ()


@dataclass(frozen=True)
class ReminderOutcome:
    sent: str | None = None  # the step sent
    skipped: SkipReason | None = None


class ReminderService:
    def __init__(
        self,
        context: BillingContext,
        store: ReminderStore,
        queue: WorkQueue,
        planning: DayPlanning,
        page: int = PAGE,
    ) -> None:
        self._context = context
        self._store = store
        self._queue = queue
        self._planning = planning
        self._page = page
        self._clock = context.clock

    def split_day(self, scheduled_time: datetime) -> list[DayPart]:
        """Queue one part per shard of the reminder index for the day at `scheduled_time` (see
        `remit.services.day_planning`): constant work, whatever the day's size. Raises if the queue
        refuses the messages (the scheduler retries).
        """
        return split_day(self._planning, self._queue, PLAN_REMINDERS, "REMIND", scheduled_time)

    def plan_part(self, message: Mapping[str, Any], message_id: str) -> ReminderPlan:
        """Plan one page of one shard of the reminder index (a `split_day` part; `message_id` is its
        queue message's id): the next page's part is queued first, then every open invoice of the
        page whose next reminder date has come in its organisation is queued, and counted once on
        the organisation's run of its date. Reads the page and one organisation item per
        organisation in it; idempotent (the sender's markers make a repeat harmless). One
        organisation that cannot be planned does not stop the others: `PartFailed` is raised after
        them, so that the part is retried. Raises if the queue refuses.
        """
        part = part_of(message, "REMIND")
        entries, queued = read_page(
            self._planning,
            self._queue,
            part,
            latest_date_anywhere(part.scheduled_time),
            message_id,
            self._page,
        )
        due: dict[str, list[tuple[date, str, str]]] = defaultdict(list)
        for day, organisation_id, invoice_id, customer_id in entries:
            due[organisation_id].append((day, invoice_id, customer_id))
        organisations = self._store.organisations(sorted(due))
        runs: list[PlannedReminders] = []
        failed: list[str] = []
        for organisation_id in sorted(due):
            organisation = organisations.get(organisation_id)
            if organisation is None:
                continue
            today = today_in(organisation.timezone, part.scheduled_time)
            invoices = sorted((i, c) for day, i, c in due[organisation_id] if day <= today)
            if not invoices:
                continue
            try:
                self._store.record_run(
                    ReminderRun(organisation_id=organisation_id, date=today, invoices=len(invoices)),
                    derived_id("part", part.scheduled_time, part.plan, str(part.shard), part.page or ""),
                )
                self._queue.send(
                    [
                        {
                            "organisation_id": organisation_id,
                            "invoice_id": i,
                            "customer_id": c,
                            "date": today.isoformat(),
                        }
                        for i, c in invoices
                    ]
                )
            except Exception:
                logger.exception(
                    "An organisation's reminders could not be planned",
                    extra={"organisation_id": organisation_id},
                )
                failed.append(organisation_id)
                continue
            runs.append(PlannedReminders(organisation_id, today, len(invoices)))
        enqueued = sum(run.invoices for run in runs)
        report = {
            "runs": [
                {"organisation_id": r.organisation_id, "date": r.date.isoformat(), "invoices": r.invoices}
                for r in runs
            ],
            "enqueued": enqueued,
        }
        self._planning.record_part(part.plan, part.shard, part.page, report)
        if failed:
            raise PartFailed(
                f"The reminders of {len(failed)} organisations could not be planned: {failed[:10]}"
            )
        return ReminderPlan(part.scheduled_time, runs, enqueued, queued)

    def planned(self, scheduled_time: datetime) -> ReminderPlan:
        """What the parts of the day at `scheduled_time` planned so far, as each recorded it: each
        organisation's run of its date once, with the invoices of all parts. Reads one item per part
        (it grows with the day: for the local stack's dev route and for operators).
        """
        invoices: dict[tuple[str, str], int] = defaultdict(int)
        enqueued = 0
        plan = DayPart(PLAN_REMINDERS, "REMIND", scheduled_time, 0).plan
        for report in self._planning.parts_recorded(plan, self._planning.shards("REMIND")):
            enqueued += int(report["enqueued"])
            for run in report["runs"]:
                invoices[run["organisation_id"], run["date"]] += int(run["invoices"])
        runs = [
            PlannedReminders(organisation_id, date.fromisoformat(day), count)
            for (organisation_id, day), count in sorted(invoices.items())
        ]
        return ReminderPlan(scheduled_time, runs, enqueued)

    def send(self, message: Mapping[str, Any]) -> ReminderOutcome:
        """Remind the customer of one invoice as of the message's date, exactly once per step (see
        the module's docstring). Raises on failures worth retrying (the queue delivers again).
        """
        organisation_id = str(message["organisation_id"])
        invoice_id = str(message["invoice_id"])
        today = date.fromisoformat(str(message["date"]))

        def attempt() -> ReminderOutcome:
            organisation, invoice, customer = self._store.read(
                organisation_id, invoice_id, str(message["customer_id"])
            )
            if organisation is None or invoice is None:
                return self._count(organisation_id, today, invoice_id, "not_found")
            if invoice.status != "open":
                return self._count(organisation_id, today, invoice_id, cast(SkipReason, invoice.status))
            now = self._clock.now()
            transaction = self._store.transaction(organisation_id)
            reminders = organisation.reminders
            opted_out = customer is None or not customer.send_reminders
            step = None if opted_out else latest_due_step(reminders, invoice.due_date, today)
            announce = invoice.is_overdue(today) and not invoice.overdue_announced
            later = next_look_date(
                reminders,
                invoice.due_date,
                today,
                remind=not opted_out,
                overdue_announced=invoice.overdue_announced or announce,
            )
            moved = invoice.as_seen_on(today).model_copy(
                update={"next_reminder_on": later, "overdue_announced": invoice.overdue_announced or announce}
            )
            if announce:
                transaction.billing.insert_event(self._overdue_entry(invoice, now))
            try:
                if step is None:
                    reason: SkipReason = (
                        "customer_opted_out"
                        if opted_out
                        else "reminders_disabled"
                        if not reminders.enabled
                        else "nothing_due"
                    )
                    transaction.claim_run_invoice(today, invoice_id)
                    # out of the index, or on its next step's date
                    transaction.billing.update_invoice(moved, as_read=invoice)
                    transaction.count_on_run(today, sent=False, reason=reason)
                    transaction.commit()
                    return ReminderOutcome(skipped=reason)
                if customer is None:  # an opted-in customer was read; for the type checker
                    raise NotFound("customer", str(message["customer_id"]))
                transaction.claim_reminder(invoice_id, step.key)
                transaction.claim_run_invoice(today, invoice_id)
                transaction.billing.insert_outbox(
                    self._context.outbox_message(
                        "reminder",
                        invoice,
                        invoice.recipients or customer.billing_recipients(),
                        now,
                        reminder=step.key,
                    )
                )
                transaction.billing.insert_event(
                    self._context.event(
                        invoice.id,
                        "invoice.reminder_sent",
                        now,
                        step=step.key,
                        when=step.when,
                        days=step.days,
                    )
                )
                transaction.billing.update_invoice(moved, as_read=invoice)
                transaction.count_on_run(today, sent=True, reason=None)
                transaction.commit()
                return ReminderOutcome(sent=step.key)
            except AlreadyDone:
                # The step was sent, or the invoice was counted, by an earlier attempt: make sure it
                # waits for its next step (announced overdue if it is), and count it (once) as
                # already sent.
                return self._already_sent(organisation_id, today, invoice, later)

        return retry_on_conflict(
            attempt, _ATTEMPTS, exhausted=f"Invoice {invoice_id} kept changing; the reminder is retried."
        )

    def reschedule(self, message: Mapping[str, Any]) -> int:
        """Put the organisation's open invoices (or one customer's) back on the reminder index as its
        settings now say, a page of 100 at a time (the next page is queued): after a change of the
        schedule, enabling reminders again, or a customer opting in. An invoice with a step already
        due waits for the next run (which sends it unless it was sent); others wait for their next
        step. Returns the invoices moved. Idempotent.
        """
        organisation_id = str(message["organisation_id"])
        customer_id = message.get("customer_id")
        organisation = self._context.billing.read_for_billing(organisation_id)[0]
        if organisation is None:
            return 0
        page = self._context.billing.list_invoices(
            organisation_id, 100, message.get("cursor"), "open", str(customer_id) if customer_id else None
        )
        moved = self._reschedule_page(organisation, page.items)
        if page.next_cursor:
            self._queue.send([{**message, "cursor": page.next_cursor}])
        return moved

    def _reschedule_page(self, organisation: Organisation, invoices: list[Invoice]) -> int:
        today = today_in(organisation.timezone, self._clock.now())
        customers = {
            c.id: c
            for c in self._context.billing.get_customers(
                organisation.id, sorted({i.customer_id for i in invoices})
            )
        }
        moved = 0
        for invoice in invoices:
            customer = customers.get(invoice.customer_id)
            reminders = organisation.reminders
            remind = customer is not None and customer.send_reminders
            target = next_look_date(
                reminders,
                invoice.due_date,
                today,
                remind=remind,
                overdue_announced=invoice.overdue_announced,
            )
            if remind and latest_due_step(reminders, invoice.due_date, today):
                target = today
            if invoice.next_reminder_on != target:
                moved += self._move(invoice, target)
        return moved

    def reschedule_all(self, organisation_id: str, customer_id: str | None = None) -> int:
        """`reschedule` every page now, in this call (maintenance: the backfill); returns the moved."""
        moved = 0
        message: dict[str, Any] = {"organisation_id": organisation_id}
        if customer_id:
            message["customer_id"] = customer_id
        while True:
            organisation = self._context.billing.read_for_billing(organisation_id)[0]
            if organisation is None:
                return moved
            page = self._context.billing.list_invoices(
                organisation_id, 100, message.get("cursor"), "open", customer_id
            )
            moved += self._reschedule_page(organisation, page.items)
            if not page.next_cursor:
                return moved
            message["cursor"] = page.next_cursor

    def _move(self, invoice: Invoice, target: date | None) -> int:
        read = self._as_read_then_open(invoice)

        def attempt() -> int:
            current = read()
            if current is None:
                return 0
            transaction = self._store.transaction(current.organisation_id)
            transaction.billing.update_invoice(
                current.model_copy(update={"next_reminder_on": target}), as_read=current
            )
            transaction.commit()
            return 1

        return retry_on_conflict(
            attempt, _ATTEMPTS, exhausted=f"Invoice {invoice.id} kept changing; the rescheduling is retried."
        )

    def _as_read_then_open(self, invoice: Invoice) -> Callable[[], Invoice | None]:
        """The reads of a retried write: `invoice` as read, then as stored now (None unless open)."""
        first = [invoice]

        def read() -> Invoice | None:
            if first:
                return first.pop()
            fresh = self._context.billing.get_invoice(invoice.organisation_id, invoice.id)
            return fresh if fresh is not None and fresh.status == "open" else None

        return read

    def run_of(self, organisation_id: str, day: date) -> ReminderRun:
        """What the organisation's run of `day` did (the local stack's dev endpoint)."""
        run = self._store.get_run(organisation_id, day)
        if run is None:
            raise NotFound("reminders run", f"{organisation_id}/{day}")
        return run

    def _already_sent(
        self, organisation_id: str, today: date, invoice: Invoice, later: date | None
    ) -> ReminderOutcome:
        read = self._as_read_then_open(invoice)

        def attempt() -> ReminderOutcome:
            current = read()
            if current is not None:  # else paid or voided meanwhile: nothing left to move or count
                transaction = self._store.transaction(organisation_id)
                transaction.claim_run_invoice(today, current.id)
                announce = current.is_overdue(today) and not current.overdue_announced
                if announce:
                    transaction.billing.insert_event(self._overdue_entry(current, self._clock.now()))
                if current.next_reminder_on != later or announce:
                    moved = current.as_seen_on(today) if announce else current
                    transaction.billing.update_invoice(
                        moved.model_copy(
                            update={
                                "next_reminder_on": later,
                                "overdue_announced": moved.overdue_announced or announce,
                            }
                        ),
                        as_read=current,
                    )
                transaction.count_on_run(today, sent=False, reason="already_sent")
                with contextlib.suppress(AlreadyDone):  # counted by an earlier delivery
                    transaction.commit()
            return ReminderOutcome(skipped="already_sent")

        return retry_on_conflict(
            attempt, _ATTEMPTS, exhausted=f"Invoice {invoice.id} kept changing; the reminder is retried."
        )

    def _overdue_entry(self, invoice: Invoice, now: datetime) -> InvoiceEvent:
        """The timeline entry (and so the `invoice.overdue` event) of an invoice found overdue."""
        return self._context.event(
            invoice.id,
            "invoice.overdue",
            now,
            due_date=invoice.due_date.isoformat(),
            amount_due=invoice.amount_due,
        )

    def _count(
        self, organisation_id: str, today: date, invoice_id: str, reason: SkipReason
    ) -> ReminderOutcome:
        transaction = self._store.transaction(organisation_id)
        transaction.claim_run_invoice(today, invoice_id)
        transaction.count_on_run(today, sent=False, reason=reason)
        with contextlib.suppress(AlreadyDone, ConcurrentUpdate):  # counted already, or the run is gone
            transaction.commit()
        return ReminderOutcome(skipped=reason)
