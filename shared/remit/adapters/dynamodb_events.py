"""The event log in the organisation's partition, and the events a billing transaction records.

    ORG#<org> / EVENT_LOG#<event>     one event (ids sort by time); TTL `expires_at`
        GSI2PK = ORG#<org>#OBJECT#<object>#EVENTS            one object's events (GSI2SK = SK)

Every list is oldest first. A type filter (`invoice.paid`, `invoice.*`) reads the organisation's
events in order and keeps those of the type: a second index would double what each event costs to
write (a whole copy of the object), on every change, for a filter a catching-up consumer rarely needs.

A billing transaction records its changes with `ChangeRecorder`: the invoices, payments and credit
notes it writes, and the timeline entries it appends. At commit, each timeline entry that is an
event type of the API becomes an event carrying the object as the API shows it after the whole
transaction, written in the same `TransactWriteItems` as the change (outbox pattern): an event
exists exactly when its change was committed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from pydantic import BaseModel

from remit.adapters.dynamodb import DynamoTable, Index, Item, Write, decode_cursor, encode_cursor, put
from remit.adapters.items.events import (
    EVENT_SK,
    event_item,
    event_of,
    event_sk,
    events_of_object,
)
from remit.domain import answers
from remit.domain.billing_run import BillingRun
from remit.domain.credit_notes import CreditNote
from remit.domain.customer import Customer
from remit.domain.events import EVENT_TYPES, Event, EventObject, EventSource
from remit.domain.ids import new_id, time_floor
from remit.domain.invoice import Invoice, InvoiceEvent
from remit.domain.pagination import Page
from remit.domain.payment import Payment
from remit.domain.subscription import Subscription

GSI2 = Index("GSI2", "GSI2PK", "GSI2SK")

# Timeline entries that are not the invoice's own change, and the API event each one is.
_TIMELINE_TO_EVENT = {
    "invoice.payment_recorded": "payment.succeeded",
    "invoice.payment_failed": "payment.failed",
    "invoice.payment_refunded": "payment.refunded",
    "invoice.refund_succeeded": "payment.refunded",
    "invoice.credit_note_issued": "credit_note.issued",
    "invoice.credit_note_voided": "credit_note.voided",
}


def _timeline_event_type(entry: InvoiceEvent) -> str | None:
    """The API event a timeline entry is, if any: a refund made is `payment.refunded` when it took
    the money at once (not through a card provider); a pending one only changes the payment."""
    if entry.type == "invoice.refund_created":
        return "payment.refunded" if entry.data.get("status") == "succeeded" else None
    kind = _TIMELINE_TO_EVENT.get(entry.type, entry.type)
    return kind if kind in EVENT_TYPES else None


@dataclass
class ChangeRecorder:
    """What one billing transaction changed, turned into events at commit."""

    invoices: dict[str, Invoice] = field(default_factory=dict)
    # Each changed invoice as it was read before this transaction's first change of it.
    invoices_as_read: dict[str, Invoice] = field(default_factory=dict)
    payments: dict[str, Payment] = field(default_factory=dict)
    # Each changed payment as it was read before this transaction's first change of it.
    payments_as_read: dict[str, Payment] = field(default_factory=dict)
    credit_notes: dict[str, CreditNote] = field(default_factory=dict)
    timeline: list[InvoiceEvent] = field(default_factory=list)

    def invoice_written(self, invoice: Invoice, as_read: Invoice | None) -> None:
        """`invoice` is written (new if `as_read` is None) as it ends this transaction so far."""
        if as_read is not None:
            self.invoices_as_read.setdefault(invoice.id, as_read)
        self.invoices[invoice.id] = invoice

    def payment_written(self, payment: Payment, as_read: Payment) -> None:
        """`payment` is updated as it ends this transaction so far."""
        self.payments_as_read.setdefault(payment.id, as_read)
        self.payments[payment.id] = payment

    def __len__(self) -> int:
        """How many events committing now would write (at most: an unchanged answer writes none)."""
        named_invoices, named_payments = self._named()
        return (
            sum(1 for entry in self.timeline if _timeline_event_type(entry) is not None)
            + len([invoice for invoice in self.invoices_as_read if invoice not in named_invoices])
            + len([payment for payment in self.payments_as_read if payment not in named_payments])
        )

    def _named(self) -> tuple[set[str], set[str]]:
        """The invoices and the payments that the timeline's events name."""
        invoices: set[str] = set()
        payments: set[str] = set()
        for entry in self.timeline:
            kind = _timeline_event_type(entry) or ""
            if kind.startswith("invoice."):
                invoices.add(entry.invoice_id)
            elif kind.startswith("payment."):
                payments.add(str(entry.data.get("payment_id")))
        return invoices, payments

    def events(self, organisation_id: str) -> list[Event]:
        """The events of the changes recorded, in the order they happened; `invoice.updated` or
        `payment.updated` for an invoice or payment changed without an event of its own (a partial
        payment, a credit note, an edit, a refund under way) if the change shows in its answer."""
        events = []
        for entry in self.timeline:
            kind = _timeline_event_type(entry)
            if kind is None:
                continue
            recorded = self._object_of(kind, entry)
            if recorded is not None:
                events.append(new_event(organisation_id, kind, entry.created_at, *recorded))
        named, named_payments = self._named()
        for payment_id, payment_as_read in self.payments_as_read.items():
            payment = self.payments[payment_id]
            data = _shown(answers.Payment.of, payment)
            if payment_id not in named_payments and data != _shown(answers.Payment.of, payment_as_read):
                at = max(entry.created_at for entry in self.timeline) if self.timeline else payment.created_at
                events.append(
                    new_event(
                        organisation_id,
                        "payment.updated",
                        at,
                        "payment",
                        payment.id,
                        payment.version + 1,
                        data,
                    )
                )
        for invoice_id, as_read in self.invoices_as_read.items():
            invoice = self.invoices[invoice_id]
            if invoice_id in named:
                continue
            data = _shown(answers.Invoice.of, invoice)
            if data != _shown(answers.Invoice.of, as_read):
                # Not before the transaction's other events: a change need not move `updated_at`.
                at = max([invoice.updated_at, *(entry.created_at for entry in self.timeline)])
                events.append(
                    new_event(
                        organisation_id,
                        "invoice.updated",
                        at,
                        "invoice",
                        invoice.id,
                        invoice.version + 1,
                        data,
                    )
                )
        return events

    def _object_of(self, kind: str, entry: InvoiceEvent) -> tuple[str, str, int, dict[str, object]] | None:
        if kind.startswith("invoice."):
            invoice = self.invoices.get(entry.invoice_id)
            if invoice is None:
                return None
            return "invoice", invoice.id, invoice.version + 1, _shown(answers.Invoice.of, invoice)
        if kind.startswith("payment."):
            payment = self.payments.get(str(entry.data.get("payment_id")))
            if payment is None:
                return None
            return "payment", payment.id, payment.version + 1, _shown(answers.Payment.of, payment)
        note = self.credit_notes.get(str(entry.data.get("credit_note_id")))
        if note is None:
            return None
        return "credit_note", note.id, note.version + 1, _shown(answers.CreditNote.of, note)

    def writes(self, organisation_id: str, pk: str) -> list[Write]:
        return [
            Write("Put", put(event_item(pk, event), "attribute_not_exists(PK)"))
            for event in self.events(organisation_id)
        ]


def new_event(
    organisation_id: str,
    kind: str,
    created_at: datetime,
    object_type: str,
    object_id: str,
    sequence: int,
    data: dict[str, object],
    source: EventSource | None = None,
) -> Event:
    return Event(
        id=new_id("evt", created_at),
        organisation_id=organisation_id,
        type=kind,
        created_at=created_at,
        object=EventObject(type=object_type, id=object_id, sequence=sequence),
        data=data,
        source=source,
    )


def customer_event(
    kind: str, customer: Customer, created_at: datetime, sequence: int, source: EventSource | None = None
) -> Write:
    """The write of the customer's event (`customer.created|updated|deleted`), for the transaction
    of the change: the customer as the API shows it, `sequence` its version after the change plus one,
    `source` who made the change (None: the organisation)."""
    data = _shown(answers.Customer.of, customer)
    event = new_event(
        customer.organisation_id, kind, created_at, "customer", customer.id, sequence, data, source
    )
    return Write("Put", put(event_item(f"ORG#{customer.organisation_id}", event), "attribute_not_exists(PK)"))


def subscription_event(kind: str | None, subscription: Subscription) -> Write:
    """The write of the subscription's event, for the transaction of the change: the subscription as
    the API shows it on the day of the change, `sequence` its version after the change. Without
    `kind` (the daily cycle billing or closing it): `subscription.canceled` if this change cancelled
    it, `subscription.updated` otherwise."""
    if kind is None:
        cancelled_now = (
            subscription.status == "cancelled" and subscription.cancelled_at == subscription.updated_at
        )
        kind = "subscription.canceled" if cancelled_now else "subscription.updated"
    today = subscription.updated_at.astimezone(ZoneInfo(subscription.timezone)).date()
    data = _shown(answers.Subscription.of, subscription.as_seen_on(today))
    pk = f"ORG#{subscription.organisation_id}"
    event = new_event(
        subscription.organisation_id,
        kind,
        subscription.updated_at,
        "subscription",
        subscription.id,
        subscription.version,
        data,
    )
    return Write("Put", put(event_item(pk, event), "attribute_not_exists(PK)"))


def billing_run_event(run: BillingRun) -> Write:
    """The write of `billing_run.completed` for the completed run, as the API shows it. Its sequence
    counts the run's changes: created, one per item processed, completed."""
    pk = f"ORG#{run.organisation_id}"
    completed_at = run.completed_at or run.created_at
    data = _shown(answers.BillingRun.of, run)
    event = new_event(
        run.organisation_id,
        "billing_run.completed",
        completed_at,
        "billing_run",
        run.id,
        run.processed + 2,
        data,
    )
    return Write("Put", put(event_item(pk, event), "attribute_not_exists(PK)"))


def _shown(answer: Callable[[BaseModel], BaseModel], entity: BaseModel) -> dict[str, object]:
    """The entity as the API answers it, in JSON types."""
    return answer(entity).model_dump(mode="json")


def _id_bound(moment: datetime) -> str:
    """The sort key below every event made at or after `moment`, above every event made before."""
    return event_sk(time_floor("evt", moment))


class DynamoEventLog:
    """The organisation's events, read oldest first."""

    def __init__(self, table: DynamoTable) -> None:
        self._table = table

    def get(self, organisation_id: str, event_id: str) -> Event | None:
        item = self._table.get(f"ORG#{organisation_id}", event_sk(event_id))
        return event_of(item) if item else None

    def add(self, event: Event) -> None:
        pk = f"ORG#{event.organisation_id}"
        self._table.write([Write("Put", put(event_item(pk, event), "attribute_not_exists(PK)"))])

    def list_events(
        self,
        organisation_id: str,
        limit: int,
        cursor: str | None,
        *,
        event_type: str | None = None,
        object_id: str | None = None,
        created_gte: datetime | None = None,
        created_lt: datetime | None = None,
        newest_first: bool = False,
    ) -> Page[Event]:
        """A page of the organisation's events, oldest first (newest first with `newest_first`),
        reading only those that match: `event_type` is `*`, `<object>.*` or a type; the times bound
        `created_at`."""
        if newest_first and created_gte is not None:
            # The lower bound is where an oldest-first read starts; newest first it would end it.
            raise ValueError("newest first reads take no created_gte")
        pk = f"ORG#{organisation_id}"
        after = decode_cursor(cursor, EVENT_SK) if cursor else None
        if created_gte is not None:
            lowest = _id_bound(created_gte)
            after = max(after, lowest) if after is not None else lowest
        equal_to: dict[str, str] | None = None
        if event_type is not None and event_type != "*":
            object_type = event_type.removesuffix(".*")
            equal_to = {"object_type": object_type} if object_type != event_type else {"type": event_type}
        where = (GSI2, events_of_object(pk, object_id)) if object_id is not None else None
        # No event id equals a time bound (ids are longer): "at most the bound" is "made before it".
        below = _id_bound(created_lt) if created_lt is not None else None
        items, more = self._page(pk, limit, after, where, equal_to, below, newest_first)
        return Page([event_of(item) for item in items], encode_cursor(items[-1]["SK"]) if more else None)

    def _page(
        self,
        pk: str,
        limit: int,
        after_sk: str | None,
        where: tuple[Index, str] | None,
        equal_to: dict[str, str] | None,
        below: str | None,
        descending: bool,
    ) -> tuple[list[Item], bool]:
        if where is None:
            return self._table.query_prefix(
                pk, EVENT_SK, limit, after_sk, equal_to, below=below, descending=descending
            )
        index, partition = where
        after = (
            {"PK": pk, "SK": after_sk, index.partition_key: partition, index.sort_key: after_sk}
            if after_sk is not None
            else None
        )
        return self._table.query_index_prefix(
            index, partition, EVENT_SK, limit, after, equal_to, below=below, descending=descending
        )
