"""Invoices, charges, payments, timelines and credit-balance ledgers in the organisation's partition.

    ORG#<org> / INVOICE#<invoice>             the invoice; GSI1 (`REMIND#<shard>`, `<date>#<org>#<id>`)
                                              while it is open, on its next reminder step's date;
                                              GSI2-4: the status, customer and customer-status lists
    ORG#<org> / CHARGE#<customer>#<charge>    a charge; GSI2: its customer's charges of its status
    ORG#<org> / EVENT#<invoice>#<event>       the timeline entries one transaction added to the
                                              invoice, from the entry `<event>` (ids sort by time)
    ORG#<org> / EVENT_LOG#<event>             an event of the API, written at commit (dynamodb_events)
    ORG#<org> / PAYMENT#<payment>             a payment; GSI2, GSI3: its invoice's and its customer's payments
    ORG#<org> / BTX#<customer>#<transaction>  one credit-balance change
    ORG#<org> / INVNUM#<number>               marker: the number is taken
    ORG#<org> / SERIES#invoice                the invoice number series (dynamodb_numbering)
    ORG#<org> / OUTBOX#<message>              an email owed; GSI1 (`OUTBOX_PENDING#<shard>`,
                                              `<created>#<org>#<id>`) until sent, for the sweep
    HOSTED#<token> / HOSTED                   the hosted page's token → organisation and invoice
    ORG#<org> / WEBHOOK#<event>               marker: the provider event was applied
    ORG#<org> / CARDPAY#<payment intent>      what a card payment intent's events left (`CardIntent`)
    ORG#<org> / CREDITNOTE#…, CNNUM#…, CNREQ#…, REFUND#…   credit notes and refunds
                                              (dynamodb_credit_notes), staged here with the invoice
    ORG#<org> / STATS#… , OPENDUE#…           the overview's counters and open invoices by due date,
                                              changed in the transaction of each invoice and payment
                                              change (dynamodb_overview)

Writes are staged on a `DynamoBillingTransaction` and committed together in one TransactWriteItems.

Filtered lists read an index that holds only the items they answer (docs/access-patterns.md):

    GSI2PK = ORG#<org>#INVOICES#STATUS#<status>                    invoices of one status
    GSI3PK = ORG#<org>#CUSTOMER#<customer>#INVOICES                a customer's invoices
    GSI4PK = ORG#<org>#CUSTOMER#<customer>#INVOICES#STATUS#<status>  a customer's invoices of one status
    GSI2PK = ORG#<org>#INVOICE#<invoice>#PAYMENTS                  an invoice's payments
    GSI3PK = ORG#<org>#CUSTOMER#<customer>#PAYMENTS                a customer's payments
    GSI2PK = ORG#<org>#CUSTOMER#<customer>#CHARGES#STATUS#<status>  a customer's charges of one status

The sort key of every one of these (GSI2SK, GSI3SK, GSI4SK) is the item's own `SK`, so a list
keeps the table's order (oldest first) and a cursor (the last `SK`) continues in any of them.
The attributes are computed from the stored item by `list_keys` in every write of the item, so
a status change moves the item between lists in the same write.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from remit.adapters.due_index import due_keys, reminder_keys
from remit.adapters.dynamodb import (
    DynamoTable,
    Index,
    Item,
    Write,
    backfill,
    decode_cursor,
    delete,
    encode_cursor,
    json_time,
    keyed,
    put,
    to_attributes,
)
from remit.adapters.dynamodb_credit_notes import credit_note_item, refund_item
from remit.adapters.dynamodb_dated import date_keys, read_dated
from remit.adapters.dynamodb_events import ChangeRecorder, customer_event
from remit.adapters.dynamodb_numbering import (
    ORGANISATION_SK,
    organisation_and_series,
    organisation_keys,
    save_series,
)
from remit.adapters.dynamodb_overview import COUNTED, OverviewChanges
from remit.adapters.dynamodb_overview import read_overview as read_overview_items
from remit.adapters.items.customers import customer_of
from remit.adapters.items.invoices import (
    balance_transaction_attributes,
    balance_transaction_of,
    card_intent_attributes,
    charge_attributes,
    charge_of,
    invoice_attributes,
    invoice_events_of,
    invoice_of,
    payment_attributes,
    payment_of,
    timeline_items,
)
from remit.adapters.items.organisations import organisation_of
from remit.adapters.items.outbox import outbox_attributes
from remit.adapters.items.recurring import billing_template_attributes, billing_template_of
from remit.domain.billing_template import BillingTemplate
from remit.domain.card_intents import CardIntent, EventAlreadyApplied
from remit.domain.charge import Charge
from remit.domain.credit_notes import CreditNote
from remit.domain.customer import Customer
from remit.domain.errors import AlreadyDone, ConcurrentUpdate, Conflict, InvalidInput
from remit.domain.events import EventSource
from remit.domain.invoice import Invoice, InvoiceEvent
from remit.domain.numbering import NumberSeries
from remit.domain.organisation import Organisation
from remit.domain.outbox import OutboxMessage
from remit.domain.overview import OverviewReading, OverviewWindow
from remit.domain.pagination import Page
from remit.domain.payment import BalanceTransaction, Payment
from remit.domain.refunds import Refund
from remit.domain.saved_cards import SavedCard

OUTBOX_SHARDS = 4

# Overloaded list indexes (template.yaml); items without the key attributes are not in them.
GSI2 = Index(
    "GSI2", "GSI2PK", "GSI2SK"
)  # one filter: invoices by status, payments by invoice, charges by status
GSI3 = Index("GSI3", "GSI3PK", "GSI3SK")  # by customer: invoices, payments
GSI4 = Index("GSI4", "GSI4PK", "GSI4SK")  # by customer and status: invoices
LIST_INDEXES = (GSI2, GSI3, GSI4)


def _pk(organisation_id: str) -> str:
    return f"ORG#{organisation_id}"


def _invoices_of_status(pk: str, status: str) -> str:
    return f"{pk}#INVOICES#STATUS#{status}"


def _invoices_of_customer(pk: str, customer_id: str) -> str:
    return f"{pk}#CUSTOMER#{customer_id}#INVOICES"


def _payments_of_invoice(pk: str, invoice_id: str) -> str:
    return f"{pk}#INVOICE#{invoice_id}#PAYMENTS"


def _payments_of_customer(pk: str, customer_id: str) -> str:
    return f"{pk}#CUSTOMER#{customer_id}#PAYMENTS"


def _charges_of_status(pk: str, customer_id: str, status: str) -> str:
    return f"{pk}#CUSTOMER#{customer_id}#CHARGES#STATUS#{status}"


def list_keys(item: Item) -> Item:
    """The list-index attributes of a stored invoice, payment or charge ({} for other items).

    Computed from the stored fields alone, so the same function serves every write and the backfill.
    """
    pk, sk, kind = item["PK"], item["SK"], item.get("entity")
    partitions: dict[Index, str] = {}
    if kind == "invoice":
        by_customer = _invoices_of_customer(pk, item["customer_id"])
        partitions = {
            GSI2: _invoices_of_status(pk, item["status"]),
            GSI3: by_customer,
            GSI4: f"{by_customer}#STATUS#{item['status']}",
        }
    elif kind == "payment":
        partitions = {
            GSI2: _payments_of_invoice(pk, item["invoice_id"]),
            GSI3: _payments_of_customer(pk, item["customer_id"]),
        }
    elif kind == "charge":
        partitions = {GSI2: _charges_of_status(pk, item["customer_id"], item["status"])}
    keys: Item = {}
    for index, partition in partitions.items():
        keys[index.partition_key] = partition
        keys[index.sort_key] = sk
    return keys


def _with_list_keys(item: Item) -> Item:
    """The item with its list-index keys and its date-index keys (dynamodb_dated)."""
    return {**item, **list_keys(item), **date_keys(item)}


# Present once every invoice, payment and charge of the table carries its list keys.
_LIST_KEYS_DONE = ("SCHEMA#list_indexes", "SCHEMA")


def backfill_list_keys(table: DynamoTable) -> int | None:
    """Give the invoices, payments and charges stored before the list indexes their key attributes
    (`backfill`). Each item is updated only if its status is still the one its keys were computed
    from (otherwise a newer write has set them)."""
    stale = (
        "#e IN (:invoice, :payment, :charge) AND attribute_not_exists(#k)",
        {"#e": "entity", "#k": GSI2.partition_key},
        {":invoice": "invoice", ":payment": "payment", ":charge": "charge"},
    )
    return backfill(table, _LIST_KEYS_DONE, stale, _list_keys_write)


def _list_keys_write(item: Item) -> list[Write]:
    keys = list_keys(item)
    names = {f"#k{i}": name for i, name in enumerate(keys)}
    values: Item = {f":k{i}": value for i, value in enumerate(keys.values())}
    condition = "attribute_exists(PK)"
    if "status" in item and item["entity"] != "payment":
        condition += " AND #status = :status"
        names["#status"] = "status"
        values[":status"] = item["status"]
    request = {
        "Key": {"PK": {"S": item["PK"]}, "SK": {"S": item["SK"]}},
        "UpdateExpression": "SET " + ", ".join(f"#k{i} = :k{i}" for i in range(len(keys))),
        "ConditionExpression": condition,
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": to_attributes(values),
    }
    return [Write("Update", request)]


def invoice_item(invoice: Invoice) -> Item:
    item = _with_list_keys(
        keyed(invoice_attributes(invoice), _pk(invoice.organisation_id), f"INVOICE#{invoice.id}", "invoice")
    )
    if invoice.status == "open" and invoice.next_reminder_on is not None:
        item.update(reminder_keys(invoice.next_reminder_on, invoice.organisation_id, invoice.id))
    return item


def outbox_item(message: OutboxMessage) -> Item:
    item = keyed(outbox_attributes(message), _pk(message.organisation_id), f"OUTBOX#{message.id}", "outbox")
    if message.status != "sent":
        item["GSI1PK"] = f"OUTBOX_PENDING#{zlib.crc32(message.id.encode()) % OUTBOX_SHARDS}"
        item["GSI1SK"] = f"{message.created_at.isoformat()}#{message.organisation_id}#{message.id}"
    return item


def charge_item(organisation_id: str, charge: Charge) -> Item:
    sk = f"CHARGE#{charge.customer_id}#{charge.id}"
    return _with_list_keys(keyed(charge_attributes(charge), _pk(organisation_id), sk, "charge"))


def payment_item(organisation_id: str, payment: Payment) -> Item:
    sk = f"PAYMENT#{payment.id}"
    return _with_list_keys(keyed(payment_attributes(payment), _pk(organisation_id), sk, "payment"))


class DynamoBillingTransaction:
    """Writes staged for one atomic commit. Each names the conflict its condition guards against."""

    def __init__(self, table: DynamoTable, organisation_id: str) -> None:
        self._table = table
        self._organisation_id = organisation_id
        self._pk = _pk(organisation_id)
        self._writes: list[Write] = []
        # The overview's counters and markers, written at commit: one write per item however many
        # invoices and payments of the transaction change it.
        self._overview = OverviewChanges(self._pk)
        # The events of this transaction's changes, written at commit with the objects as they end.
        self._changes = ChangeRecorder()

    # invoices -------------------------------------------------------------------------------
    def insert_invoice(self, invoice: Invoice) -> None:
        """A new invoice (a draft, or finalized by the billing cycle), counted in the overview."""
        item = invoice_item(invoice.model_copy(update={"in_overview": True}))
        self._writes.append(Write("Put", put(item, "attribute_not_exists(PK)")))
        self._overview.invoice_changed(None, invoice)
        self._changes.invoice_written(invoice, None)

    def update_invoice(self, invoice: Invoice, *, as_read: Invoice) -> Invoice:
        """Write `invoice` if still at the version it was read at; returns it at its new version.

        `as_read` is the invoice as it was read (at that version): the overview's counters change by
        the difference between the two.
        """
        if (as_read.id, as_read.version) != (invoice.id, invoice.version):
            raise ValueError(f"{invoice.id} v{invoice.version} is not a change of {as_read.id} as read")
        saved = invoice.model_copy(update={"version": invoice.version + 1, "in_overview": True})
        condition = "attribute_exists(PK) AND version = :read"
        self._writes.append(Write("Put", put(invoice_item(saved), condition, read=invoice.version)))
        self._overview.invoice_changed(as_read if as_read.in_overview else None, saved)
        self._changes.invoice_written(saved, as_read)
        return saved

    def delete_invoice(self, invoice: Invoice) -> None:
        """Delete the invoice (as read) if still at its version."""
        request = delete(self._pk, f"INVOICE#{invoice.id}", "version = :read", read=invoice.version)
        self._writes.append(Write("Delete", request))
        self._overview.invoice_changed(invoice if invoice.in_overview else None, None)

    def claim_number(self, invoice: Invoice, token: str) -> None:
        """The number's uniqueness marker and the hosted page's token, both new."""
        marker = {
            "PK": self._pk,
            "SK": f"INVNUM#{invoice.number}",
            "entity": "invoice_number",
            "invoice_id": invoice.id,
        }
        hosted = {
            "PK": f"HOSTED#{token}",
            "SK": "HOSTED",
            "entity": "hosted_invoice",
            "organisation_id": self._organisation_id,
            "invoice_id": invoice.id,
        }
        self._writes.append(
            Write(
                "Put",
                put(marker, "attribute_not_exists(PK)"),
                lambda: Conflict(f"Invoice number {invoice.number} is already used in this organisation."),
            )
        )
        self._writes.append(Write("Put", put(hosted, "attribute_not_exists(PK)")))

    def save_series(self, series: NumberSeries) -> None:
        """The number series as `NumberSeries.take` left it, if still as read: a concurrent
        finalization (or renumbering) makes the transaction fail rather than share a number."""
        self._writes.append(save_series(self._organisation_id, series))

    # customers ------------------------------------------------------------------------------
    def adjust_customer(
        self,
        customer_id: str,
        now: datetime,
        *,
        balances: Mapping[str, int] | None = None,
        as_read: Customer | None = None,
        issued_invoices: int = 0,
        expected_version: int | None = None,
        saved_cards: list[SavedCard] | None = None,
        next_charges_billing: date | None = None,
        source: EventSource | None = None,
    ) -> None:
        """Set the customer's credit balances, add to its issued-invoice count, save the card for
        auto-pay and move its next monthly invoice of open charges, as given, in one update (a
        transaction may touch an item once); bumps its version.

        `balances` (every currency's) is written whole, only if the customer's are still those of
        `as_read`, the customer as read: so concurrent changes of any currency's balance never lose
        one another. A customer stored before balances per currency (`balance` alone, read as its
        currency's) gets them here, if unchanged since read, and loses `balance`. With
        `expected_version`, only if the customer is still at that version.
        """
        values: dict[str, Any] = {":issued": issued_invoices, ":one": 1}
        updates: list[str] = []
        removals: list[str] = []
        conditions = ["attribute_exists(PK)"]
        shown: dict[str, Any] = {}  # what the customer's answer shows changing
        if balances is not None:
            if as_read is None:
                raise ValueError("balances are written only as a change of the customer as read")
            if dict(balances) != dict(as_read.balances):
                shown["balances"] = dict(balances)
            updates.append("balances = :balances")
            removals.append("balance")
            values[":balances"] = dict(balances)
            conditions.append(
                "(balances = :read_balances OR (attribute_not_exists(balances) AND version = :read_version))"
            )
            values[":read_balances"] = dict(as_read.balances)
            values[":read_version"] = as_read.version
        if saved_cards is not None:
            if as_read is None:
                raise ValueError("saved cards are written only as a change of the customer as read")
            updates.append("saved_cards = :cards")
            removals.append("card_on_file")
            values[":cards"] = [card.model_dump(mode="json") for card in saved_cards]
            shown["saved_cards"] = saved_cards
        if shown and as_read is not None:
            # A change the customer's answer shows: one `customer.updated`, sequenced by a version
            # that must still be the one read (else the event's sequence could fall behind; for
            # cards, a concurrent change of them makes this transaction fail and its service re-read).
            updates.append("updated_at = :now")
            values[":now"] = json_time(now)
            values[":seen_version"] = as_read.version
            values[":zero"] = 0
            conditions.append(
                "(version = :seen_version OR (attribute_not_exists(version) AND :seen_version = :zero))"
            )
            changed = as_read.model_copy(update={**shown, "updated_at": now, "version": as_read.version + 1})
            event: Write | None = customer_event(
                "customer.updated", changed, now, changed.version + 1, source
            )
        else:
            event = None
        if next_charges_billing is not None:
            keys = due_keys(next_charges_billing, self._organisation_id, customer_id)
            updates += ["next_charges_billing = :next", "GSI1PK = :gpk", "GSI1SK = :gsk"]
            values.update(
                {":next": next_charges_billing.isoformat(), ":gpk": keys["GSI1PK"], ":gsk": keys["GSI1SK"]}
            )
        if expected_version is not None:
            conditions.append("version = :version")
            values[":version"] = expected_version
        expression = "ADD issued_invoices :issued, version :one"
        if updates:
            expression = f"SET {', '.join(updates)} {expression}"
        if removals:
            expression += f" REMOVE {', '.join(removals)}"
        self._writes.append(
            Write(
                "Update",
                {
                    "Key": {"PK": {"S": self._pk}, "SK": {"S": f"CUSTOMER#{customer_id}"}},
                    "UpdateExpression": expression,
                    "ConditionExpression": " AND ".join(conditions),
                    "ExpressionAttributeValues": to_attributes(values),
                },
            )
        )
        if event is not None:
            self._writes.append(event)

    def insert_balance_transaction(self, transaction: BalanceTransaction) -> None:
        sk = f"BTX#{transaction.customer_id}#{transaction.id}"
        item = keyed(balance_transaction_attributes(transaction), self._pk, sk, "balance_transaction")
        self._writes.append(Write("Put", put(item, "attribute_not_exists(PK)")))

    # charges, payments, events --------------------------------------------------------------
    def insert_charge(self, charge: Charge) -> None:
        self._writes.append(
            Write("Put", put(charge_item(self._organisation_id, charge), "attribute_not_exists(PK)"))
        )

    def update_charge(self, charge: Charge, expected_status: str) -> None:
        """Write the charge if it still has `expected_status` (so one charge joins one invoice)."""
        self._writes.append(
            Write(
                "Put",
                put(charge_item(self._organisation_id, charge), "#s = :expected", expected=expected_status)
                | {"ExpressionAttributeNames": {"#s": "status"}},
                lambda: Conflict(f"Charge {charge.id} is no longer {expected_status}."),
            )
        )

    def delete_charge(self, charge: Charge) -> None:
        request = delete(self._pk, f"CHARGE#{charge.customer_id}#{charge.id}", "#s = :open", open="open")
        request["ExpressionAttributeNames"] = {"#s": "status"}
        self._writes.append(
            Write(
                "Delete", request, lambda: Conflict(f"Charge {charge.id} is invoiced and cannot be deleted.")
            )
        )

    def insert_outbox(self, message: OutboxMessage) -> None:
        """An email owed because of this transaction's state change (sent only if it commits)."""
        self._writes.append(Write("Put", put(outbox_item(message), "attribute_not_exists(PK)")))

    def insert_payment(self, payment: Payment, request: str | None = None) -> None:
        """The payment, and (with `request`) the marker that records which request it answered:
        `AlreadyDone` if that request has recorded its payment already."""
        item = payment_item(self._organisation_id, payment) | {COUNTED: True}
        self._writes.append(Write("Put", put(item, "attribute_not_exists(PK)")))
        self._overview.payment_recorded(payment)
        self._changes.payments[payment.id] = payment
        if request is not None:
            marker = {"PK": self._pk, "SK": f"PAYREQ#{request}", "entity": "payment_request"}
            self._writes.append(
                Write(
                    "Put",
                    put({**marker, "payment_id": payment.id}, "attribute_not_exists(PK)"),
                    lambda: AlreadyDone("This request has recorded its payment already."),
                )
            )

    def insert_event(self, event: InvoiceEvent) -> None:
        """A timeline entry, written at commit: the entries of one invoice in one transaction share
        one item (`timeline_items`)."""
        self._changes.timeline.append(event)

    def delete_events(self, invoice_id: str, event_ids: list[str]) -> None:
        for event_id in event_ids:
            self._writes.append(Write("Delete", delete(self._pk, f"EVENT#{invoice_id}#{event_id}")))

    # card payments ---------------------------------------------------------------------------
    def claim_webhook_event(self, event_id: str, event_type: str, now: datetime) -> None:
        """The provider event's marker, new: the transaction fails with `EventAlreadyApplied` if it exists.

        Stage it first, so that a duplicate is reported as such rather than as a concurrent update.
        """
        marker = {
            "PK": self._pk,
            "SK": f"WEBHOOK#{event_id}",
            "entity": "webhook_event",
            "event_type": event_type,
            "applied_at": json_time(now),
        }
        self._writes.append(
            Write("Put", put(marker, "attribute_not_exists(PK)"), lambda: EventAlreadyApplied(event_id))
        )

    def save_card_intent(self, intent: CardIntent) -> CardIntent:
        """Write the intent's state if still as read (new at version 0); returns it at its new version."""
        saved = intent.model_copy(update={"version": intent.version + 1})
        sk = f"CARDPAY#{intent.payment_intent_id}"
        item = keyed(card_intent_attributes(saved), self._pk, sk, "card_intent")
        if intent.version == 0:
            self._writes.append(Write("Put", put(item, "attribute_not_exists(PK)")))
        else:
            condition = "attribute_exists(PK) AND version = :read"
            self._writes.append(Write("Put", put(item, condition, read=intent.version)))
        return saved

    # credit notes and refunds ---------------------------------------------------------------------
    def insert_credit_note(self, note: CreditNote, request: str | None = None) -> None:
        """The credit note and its number's marker, both new (a number is never given twice), and with
        `request` the marker of the client request that issued it (`AlreadyDone` if it has already)."""
        self._writes.append(Write("Put", put(credit_note_item(note), "attribute_not_exists(PK)")))
        self._changes.credit_notes[note.id] = note
        marker = {"PK": self._pk, "SK": f"CNNUM#{note.number}", "entity": "credit_note_number"}
        self._writes.append(
            Write(
                "Put",
                put({**marker, "credit_note_id": note.id}, "attribute_not_exists(PK)"),
                lambda: Conflict(f"Credit note number {note.number} is already used in this organisation."),
            )
        )
        if request is not None:
            issued = {"PK": self._pk, "SK": f"CNREQ#{request}", "entity": "credit_note_request"}
            self._writes.append(
                Write(
                    "Put",
                    put({**issued, "credit_note_id": note.id}, "attribute_not_exists(PK)"),
                    lambda: AlreadyDone("This request has issued its credit note already."),
                )
            )

    def update_credit_note(self, note: CreditNote, *, as_read: CreditNote) -> CreditNote:
        """Write `note` if still at `as_read`'s version; returns it at its new version."""
        saved = note.model_copy(update={"version": as_read.version + 1})
        condition = "attribute_exists(PK) AND version = :read"
        self._writes.append(Write("Put", put(credit_note_item(saved), condition, read=as_read.version)))
        self._changes.credit_notes[saved.id] = saved
        return saved

    def update_payment(self, payment: Payment, *, as_read: Payment) -> Payment:
        """Write the payment's refunded amount and status if still as read: two refunds racing for the
        same money cannot both take it. Its version moves even when nothing else does (a refund the
        provider confirmed), so its events' sequence grows; returns it at its new version."""
        saved = payment.model_copy(update={"version": as_read.version + 1})
        self._changes.payment_written(saved, as_read)
        self._writes.append(
            Write(
                "Update",
                {
                    "Key": {"PK": {"S": self._pk}, "SK": {"S": f"PAYMENT#{payment.id}"}},
                    "UpdateExpression": "SET #s = :status, amount_refunded = :refunded, version = :version",
                    "ConditionExpression": (
                        "#s = :read_status AND (amount_refunded = :read_refunded OR "
                        "(attribute_not_exists(amount_refunded) AND :read_refunded = :zero)) AND "
                        "(version = :read_version OR "
                        "(attribute_not_exists(version) AND :read_version = :zero))"
                    ),
                    "ExpressionAttributeNames": {"#s": "status"},
                    "ExpressionAttributeValues": to_attributes(
                        {
                            ":status": payment.status,
                            ":refunded": payment.amount_refunded,
                            ":read_status": as_read.status,
                            ":read_refunded": as_read.amount_refunded,
                            ":zero": 0,
                            ":version": saved.version,
                            ":read_version": as_read.version,
                        }
                    ),
                },
            )
        )
        return saved

    def insert_refund(self, refund: Refund) -> None:
        self._writes.append(
            Write("Put", put(refund_item(self._organisation_id, refund), "attribute_not_exists(PK)"))
        )

    def update_refund(self, refund: Refund, *, as_read: Refund) -> None:
        """Write the refund if its status is still the one read (a provider's answer applies once)."""
        self._writes.append(
            Write(
                "Put",
                put(refund_item(self._organisation_id, refund), "#s = :read", read=as_read.status)
                | {"ExpressionAttributeNames": {"#s": "status"}},
            )
        )

    def count_refund_by_remit(self, payment_intent_id: str, amount: int) -> None:
        """Add `amount` (negative: a failed refund gives it back) to what Remit itself refunded of the
        card payment intent, so the provider's `charge.refunded` does not count it a second time; the
        intent's version moves, so a concurrent webhook's write of the intent re-reads."""
        self._writes.append(
            Write(
                "Update",
                {
                    "Key": {"PK": {"S": self._pk}, "SK": {"S": f"CARDPAY#{payment_intent_id}"}},
                    "UpdateExpression": "ADD refunded_by_remit :amount, version :one",
                    "ConditionExpression": "attribute_exists(PK)",
                    "ExpressionAttributeValues": to_attributes({":amount": amount, ":one": 1}),
                },
                lambda: Conflict(f"No card payment {payment_intent_id} is known to refund from."),
            )
        )

    def stage(self, write: Write) -> None:
        """Add a write of another store's to this transaction: a transaction that composes this one
        (recurring billing, reminders) commits its markers and counts with the invoices, atomically."""
        self._writes.append(write)

    def actions(self) -> int:
        """The actions committing now would take (DynamoDB allows 100 in one transaction)."""
        timeline = len({entry.invoice_id for entry in self._changes.timeline})
        return len(self._writes) + timeline + len(self._overview) + len(self._changes)

    def commit(self) -> None:
        """Commit every staged write, the overview's counters with them, or none (`ConcurrentUpdate`
        or the write's own `Conflict`)."""
        timeline = [Write("Put", put(item)) for item in timeline_items(self._pk, self._changes.timeline)]
        writes = (
            self._writes
            + timeline
            + self._changes.writes(self._organisation_id, self._pk)
            + self._overview.writes()
        )
        if len(writes) > 100:
            raise InvalidInput.single("line_items", "too many items change at once (at most 100 writes)")
        if writes:
            self._table.write(writes)
        self._writes = []
        self._overview = OverviewChanges(self._pk)
        self._changes = ChangeRecorder()


class DynamoBillingStore:
    def __init__(self, table: DynamoTable) -> None:
        self._table = table

    def transaction(self, organisation_id: str) -> DynamoBillingTransaction:
        return DynamoBillingTransaction(self._table, organisation_id)

    def read_for_billing(
        self, organisation_id: str, invoice_id: str | None = None, customer_id: str | None = None
    ) -> tuple[Organisation | None, Invoice | None, Customer | None]:
        """The organisation and, as asked, an invoice and a customer of it, in one round trip.

        The organisation's invoice series is not read: only finalization numbers an invoice, and
        every other request scoped to an organisation reads one item fewer.
        """
        pk = _pk(organisation_id)
        keys = [(pk, ORGANISATION_SK)]
        keys += [(pk, f"INVOICE#{invoice_id}")] if invoice_id else []
        keys += [(pk, f"CUSTOMER#{customer_id}")] if customer_id else []
        found = {item["SK"]: item for item in self._table.batch_get(keys)}
        organisation = found.get(ORGANISATION_SK)
        invoice = found.get(f"INVOICE#{invoice_id}") if invoice_id else None
        customer = found.get(f"CUSTOMER#{customer_id}") if customer_id else None
        return (
            organisation_of(organisation) if organisation else None,
            invoice_of(invoice) if invoice else None,
            customer_of(customer) if customer else None,
        )

    def read_for_finalizing(
        self, organisation_id: str, *, invoice_id: str | None = None, customer_id: str | None = None
    ) -> tuple[Organisation | None, NumberSeries | None, Invoice | None, Customer | None]:
        """As `read_for_billing`, with the organisation's invoice number series, in one round trip."""
        pk = _pk(organisation_id)
        keys = organisation_keys(organisation_id)
        if invoice_id:
            keys.append((pk, f"INVOICE#{invoice_id}"))
        if customer_id:
            keys.append((pk, f"CUSTOMER#{customer_id}"))
        found = {item["SK"]: item for item in self._table.batch_get(keys)}
        organisation, series = organisation_and_series(found)
        invoice = found.get(f"INVOICE#{invoice_id}") if invoice_id else None
        customer = found.get(f"CUSTOMER#{customer_id}") if customer_id else None
        return (
            organisation,
            series,
            invoice_of(invoice) if invoice else None,
            customer_of(customer) if customer else None,
        )

    def find_hosted(self, token: str) -> tuple[str, str] | None:
        """The organisation and invoice a hosted-page token opens, or None."""
        item = self._table.get(f"HOSTED#{token}", "HOSTED")
        return (str(item["organisation_id"]), str(item["invoice_id"])) if item else None

    def get_customers(self, organisation_id: str, customer_ids: list[str]) -> list[Customer]:
        """The organisation's customers among `customer_ids` (missing ones are left out)."""
        keys = [(_pk(organisation_id), f"CUSTOMER#{customer_id}") for customer_id in customer_ids]
        found: list[Customer] = []
        for start in range(0, len(keys), 100):
            items = self._table.batch_get(keys[start : start + 100])
            found += [customer_of(item) for item in items]
        return found

    # billing templates ------------------------------------------------------------------------
    def get_template(self, organisation_id: str, template_id: str) -> BillingTemplate | None:
        item = self._table.get(_pk(organisation_id), f"TEMPLATE#{template_id}")
        return billing_template_of(item) if item else None

    def list_templates(self, organisation_id: str, limit: int, cursor: str | None) -> Page[BillingTemplate]:
        after = decode_cursor(cursor, "TEMPLATE#") if cursor else None
        items, more = self._table.query_prefix(_pk(organisation_id), "TEMPLATE#", limit, after)
        return Page(
            [billing_template_of(i) for i in items],
            encode_cursor(items[-1]["SK"]) if more else None,
        )

    def save_template(self, organisation_id: str, template: BillingTemplate, *, new: bool) -> BillingTemplate:
        """Create, or replace if unchanged since read (`ConcurrentUpdate` otherwise)."""
        saved = template if new else template.model_copy(update={"version": template.version + 1})
        sk = f"TEMPLATE#{template.id}"
        item = keyed(billing_template_attributes(saved), _pk(organisation_id), sk, "billing_template")
        condition = "attribute_not_exists(PK)" if new else "version = :read"
        values = {} if new else {"read": template.version}
        self._table.write([Write("Put", put(item, condition, **values))])
        return saved

    def delete_template(self, organisation_id: str, template_id: str) -> bool:
        """Delete; False when there was no such template."""
        try:
            self._table.write(
                [
                    Write(
                        "Delete",
                        delete(_pk(organisation_id), f"TEMPLATE#{template_id}", "attribute_exists(PK)"),
                    )
                ]
            )
        except ConcurrentUpdate:
            return False
        return True

    # invoices -------------------------------------------------------------------------------
    def get_invoice(self, organisation_id: str, invoice_id: str) -> Invoice | None:
        item = self._table.get(_pk(organisation_id), f"INVOICE#{invoice_id}")
        return invoice_of(item) if item else None

    def list_invoices(
        self,
        organisation_id: str,
        limit: int,
        cursor: str | None,
        status: str | None,
        customer_id: str | None,
        *,
        newest_first: bool = False,
    ) -> Page[Invoice]:
        """The organisation's invoices, oldest (or newest) first, reading only those that match the
        filters.
        """
        pk = _pk(organisation_id)
        after = decode_cursor(cursor, "INVOICE#") if cursor else None
        if status and customer_id:
            where: tuple[Index, str] | None = (
                GSI4,
                f"{_invoices_of_customer(pk, customer_id)}#STATUS#{status}",
            )
        elif status:
            where = (GSI2, _invoices_of_status(pk, status))
        elif customer_id:
            where = (GSI3, _invoices_of_customer(pk, customer_id))
        else:
            where = None
        items, more = self._list(pk, "INVOICE#", limit, after, where, descending=newest_first)
        return Page([invoice_of(item) for item in items], encode_cursor(items[-1]["SK"]) if more else None)

    def invoices_issued(
        self, organisation_id: str, first: date, last: date, limit: int, cursor: str | None
    ) -> Page[Invoice]:
        """The organisation's invoices issued `first` to `last` (both included), by issue date then
        oldest first, reading only those (the date index, dynamodb_dated); never a draft."""
        items, next_cursor = read_dated(self._table, organisation_id, "invoice", first, last, limit, cursor)
        return Page([invoice_of(item) for item in items], next_cursor)

    def _list(
        self,
        pk: str,
        sk_prefix: str,
        limit: int,
        after_sk: str | None,
        where: tuple[Index, str] | None,
        equal_to: dict[str, str] | None = None,
        *,
        descending: bool = False,
    ) -> tuple[list[Item], bool]:
        """A page of the partition `pk` under `sk_prefix`, or of the list index partition `where`."""
        if where is None:
            return self._table.query_prefix(pk, sk_prefix, limit, after_sk, equal_to, descending=descending)
        index, partition = where
        # The list indexes' sort key is the table's SK: the item to continue after is fully named by it.
        after = (
            {"PK": pk, "SK": after_sk, index.partition_key: partition, index.sort_key: after_sk}
            if after_sk is not None
            else None
        )
        return self._table.query_index_prefix(
            index, partition, sk_prefix, limit, after, equal_to, descending=descending
        )

    def list_events(self, organisation_id: str, invoice_id: str) -> list[InvoiceEvent]:
        items = self._table.query_all(_pk(organisation_id), f"EVENT#{invoice_id}#")
        return sorted((entry for item in items for entry in invoice_events_of(item)), key=lambda e: e.id)

    # charges --------------------------------------------------------------------------------
    def list_charges(
        self,
        organisation_id: str,
        customer_id: str,
        limit: int,
        cursor: str | None,
        status: str | None = None,
    ) -> Page[Charge]:
        """A customer's charges, oldest first; with `status`, reading only the charges of that status."""
        pk = _pk(organisation_id)
        prefix = f"CHARGE#{customer_id}#"
        after = decode_cursor(cursor, prefix) if cursor else None
        where = (GSI2, _charges_of_status(pk, customer_id, status)) if status else None
        items, more = self._list(pk, prefix, limit, after, where)
        return Page([charge_of(item) for item in items], encode_cursor(items[-1]["SK"]) if more else None)

    def open_charges(self, organisation_id: str, customer_id: str) -> list[Charge]:
        items = self._table.query_all(_pk(organisation_id), f"CHARGE#{customer_id}#")
        return [charge for charge in map(charge_of, items) if charge.status == "open"]

    def get_charges(self, organisation_id: str, customer_id: str, charge_ids: list[str]) -> list[Charge]:
        keys = [(_pk(organisation_id), f"CHARGE#{customer_id}#{charge_id}") for charge_id in charge_ids]
        found: list[Charge] = []
        for start in range(0, len(keys), 100):
            found += [charge_of(item) for item in self._table.batch_get(keys[start : start + 100])]
        return found

    # the overview -----------------------------------------------------------------------------
    def read_overview(self, organisation_id: str, window: OverviewWindow) -> OverviewReading:
        """The overview's counters and oldest overdue invoices: a bounded read (dynamodb_overview)."""
        return read_overview_items(self._table, organisation_id, window)

    # payments and balances ------------------------------------------------------------------
    def get_payment(self, organisation_id: str, payment_id: str) -> Payment | None:
        item = self._table.get(_pk(organisation_id), f"PAYMENT#{payment_id}")
        return payment_of(item) if item else None

    def payment_of_request(self, organisation_id: str, request: str) -> Payment | None:
        marker = self._table.get(_pk(organisation_id), f"PAYREQ#{request}")
        return self.get_payment(organisation_id, str(marker["payment_id"])) if marker else None

    def list_payments(
        self,
        organisation_id: str,
        limit: int,
        cursor: str | None,
        invoice_id: str | None,
        customer_id: str | None,
    ) -> Page[Payment]:
        """The organisation's payments, oldest first, reading only those of the invoice or customer asked.

        With both filters, the invoice's payments are read and kept if they are the customer's (an
        invoice's payments are all its customer's, so this reads at most the invoice's payments).
        """
        pk = _pk(organisation_id)
        after = decode_cursor(cursor, "PAYMENT#") if cursor else None
        if invoice_id:
            where: tuple[Index, str] | None = (GSI2, _payments_of_invoice(pk, invoice_id))
        elif customer_id:
            where = (GSI3, _payments_of_customer(pk, customer_id))
        else:
            where = None
        equal_to = {"customer_id": customer_id} if invoice_id and customer_id else None
        items, more = self._list(pk, "PAYMENT#", limit, after, where, equal_to)
        return Page([payment_of(i) for i in items], encode_cursor(items[-1]["SK"]) if more else None)

    def payments_received(
        self, organisation_id: str, first: date, last: date, limit: int, cursor: str | None
    ) -> Page[Payment]:
        """The organisation's payments received `first` to `last` (both included), by day received
        then oldest first, reading only those (the date index, dynamodb_dated)."""
        items, next_cursor = read_dated(self._table, organisation_id, "payment", first, last, limit, cursor)
        return Page([payment_of(item) for item in items], next_cursor)

    def list_balance_transactions(
        self, organisation_id: str, customer_id: str, limit: int, cursor: str | None
    ) -> Page[BalanceTransaction]:
        prefix = f"BTX#{customer_id}#"
        after = decode_cursor(cursor, prefix) if cursor else None
        items, more = self._table.query_prefix(_pk(organisation_id), prefix, limit, after)
        return Page(
            [balance_transaction_of(i) for i in items],
            encode_cursor(items[-1]["SK"]) if more else None,
        )
