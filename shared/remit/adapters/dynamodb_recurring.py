"""Subscriptions, billing runs and the due index the daily invoicing cycle reads.

    ORG#<org> / SUB#<sub>                          a subscription; GSI1 (`DUE#<shard>`,
                                                   `<date>#<org>#<sub>`) while active, on the day the
                                                   cycle must next look at it
    ORG#<org> / CUSTOMER#<customer>                (dynamodb_customers) GSI1 as above on the 1st its
                                                   open charges are next invoiced, when billed monthly
    ORG#<org> / SUBPERIOD#<sub>#<period start>     marker: the period is invoiced
    ORG#<org> / CHARGECYCLE#<customer>#<YYYY-MM-DD> marker: the monthly invoice of that 1st is done
    ORG#<org> / BILLINGRUN#<run>                   a billing run with its counters (a fixed size); GSI1
                                                   (`DUE#<shard>`, `<date>#<org>#<run>`) until complete
    ORG#<org> / BILLINGRUN#<run>#ERR#<item>        an item the run could not bill, and why (read with the run)
    ORG#<org> / BILLINGRUN#<run>#INV#<invoice>     an invoice the run issued (read with the run)
    ORG#<org> / RUNMEMBERS#<run>#<part>            the ids of up to 100 of the run's items (part: 0000, …)
    ORG#<org> / RUNITEM#<run>#<item>               marker: the run's item is done and counted

The due index is described in `due_index`.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from remit.adapters.due_index import due_keys, organisations_by_id
from remit.adapters.dynamodb import (
    DynamoTable,
    Item,
    Write,
    decode_cursor,
    encode_cursor,
    json_time,
    keyed,
    put,
    to_attributes,
)
from remit.adapters.dynamodb_billing import DynamoBillingTransaction
from remit.adapters.dynamodb_events import billing_run_event, subscription_event
from remit.adapters.dynamodb_numbering import organisation_and_series, organisation_keys
from remit.adapters.items.customers import customer_of
from remit.adapters.items.recurring import (
    billing_run_attributes,
    billing_run_of,
    run_error_attributes,
    run_error_of,
    run_members_attributes,
    run_members_of,
    subscription_attributes,
    subscription_of,
)
from remit.domain.billing_run import BillingRun, BillingRunError
from remit.domain.customer import Customer
from remit.domain.errors import AlreadyDone, ConcurrentUpdate, Conflict
from remit.domain.numbering import NumberSeries
from remit.domain.organisation import Organisation
from remit.domain.pagination import Page
from remit.domain.subscription import Subscription


def _pk(organisation_id: str) -> str:
    return f"ORG#{organisation_id}"


def subscription_item(subscription: Subscription) -> Item:
    pk, sk = _pk(subscription.organisation_id), f"SUB#{subscription.id}"
    item = keyed(subscription_attributes(subscription), pk, sk, "subscription")
    day = subscription.next_action_date()
    if day is not None:
        item.update(due_keys(day, subscription.organisation_id, subscription.id))
    return item


# Attribute names of a run's counters (some are DynamoDB reserved words).
_RUN_ATTRIBUTES = {
    "#created": "invoices_created",
    "#processed": "processed",
    "#skipped": "skipped",
}


def _runs_with_invoice_ids(items: list[Item]) -> list[BillingRun]:
    """Runs from their items, each followed (in key order) by the entries of its errors and invoices."""
    runs: list[BillingRun] = []
    for item in items:
        if item["entity"] == "billing_run":
            runs.append(billing_run_of(item))
        elif item["entity"] == "run_error" and runs:
            runs[-1].errors.append(run_error_of(item))
        elif item["entity"] == "run_invoice" and runs:
            runs[-1].invoice_ids.append(str(item["SK"]).rsplit("#", 1)[1])
    return runs


class RecurringTransaction:
    """The billing cycle's one atomic write: what `billing` stages (the invoice issued, the customer,
    the outbox), with the markers of what it bills, the subscription moved on and the run's counts.
    """

    def __init__(self, table: DynamoTable, organisation_id: str) -> None:
        self.billing = DynamoBillingTransaction(table, organisation_id)
        self._pk = f"ORG#{organisation_id}"

    def commit(self) -> None:
        """Commit everything staged, here and on `billing`, or nothing (see `DynamoBillingTransaction`)."""
        self.billing.commit()

    def _marker(self, sk: str, what: str, **fields: Any) -> None:
        item = {"PK": self._pk, "SK": sk, "entity": "marker", **fields}
        self.billing.stage(Write("Put", put(item, "attribute_not_exists(PK)"), lambda: AlreadyDone(what)))

    def claim_period(self, subscription_id: str, period_start: date, invoice_id: str) -> None:
        """Stage first: a second attempt at the period fails as `AlreadyDone`, not as a conflict."""
        self._marker(
            f"SUBPERIOD#{subscription_id}#{period_start.isoformat()}",
            f"The period from {period_start} of {subscription_id} is invoiced.",
            invoice_id=invoice_id,
        )

    def claim_charges_cycle(self, customer_id: str, day: date, invoice_id: str | None) -> None:
        self._marker(
            f"CHARGECYCLE#{customer_id}#{day.isoformat()}",
            f"The open charges of {customer_id} for {day} are invoiced.",
            invoice_id=invoice_id,
        )

    def claim_run_item(self, run_id: str, item_id: str) -> None:
        self._marker(f"RUNITEM#{run_id}#{item_id}", f"{item_id} of run {run_id} is done.")

    def save_subscription(self, subscription: Subscription, *, event: str | None = None) -> Subscription:
        """Write it if still at the version it was read at (new at version 0), with its event
        (`event`, or as `subscription_event` names the change)."""
        saved = subscription.model_copy(update={"version": subscription.version + 1})
        self.billing.stage(subscription_event(event, saved))
        if subscription.version == 0:
            self.billing.stage(Write("Put", put(subscription_item(saved), "attribute_not_exists(PK)")))
        else:
            condition = "attribute_exists(PK) AND version = :read"
            self.billing.stage(
                Write("Put", put(subscription_item(saved), condition, read=subscription.version))
            )
        return saved

    def schedule_charges_billing(self, customer: Customer, next_day: date, now: datetime) -> None:
        """Move a monthly-billed customer's next invoice of open charges (and its due-index entry)."""
        self.billing.adjust_customer(
            customer.id, now, expected_version=customer.version, next_charges_billing=next_day
        )

    def insert_run(self, run: BillingRun) -> None:
        """A new run, in the due index (dated its creation) until it is complete, with its membership:
        the run's item keeps a fixed size, so counting on it costs the same in a run of 5 or of 500.
        """
        item = keyed(billing_run_attributes(run), self._pk, f"BILLINGRUN#{run.id}", "billing_run")
        item.update(due_keys(run.created_at.date(), run.organisation_id, run.id))
        self.billing.stage(Write("Put", put(item, "attribute_not_exists(PK)")))
        for part, members in enumerate(run_members_attributes(run)):
            entry = keyed(members, self._pk, f"RUNMEMBERS#{run.id}#{part:04d}", "run_members")
            self.billing.stage(Write("Put", put(entry, "attribute_not_exists(PK)")))

    def count_on_run(
        self,
        run_id: str,
        *,
        invoice_id: str | None = None,
        item_done: bool = False,
        skipped: bool = False,
        error: BillingRunError | None = None,
    ) -> None:
        """Count an invoice the run issued and/or one more of its items done, in one update (a
        transaction may touch an item once). Stage it with the marker of what it counts: once.
        """
        adds: list[str] = []
        values: dict[str, Any] = {}
        if invoice_id is not None:
            # The id goes in an item of its own: the run's item keeps a fixed size, so updating it
            # costs the same for the run's first invoice and its five hundredth.
            entry = {"PK": self._pk, "SK": f"BILLINGRUN#{run_id}#INV#{invoice_id}", "entity": "run_invoice"}
            self.billing.stage(Write("Put", put(entry)))
            adds.append("#created :one")
            values[":one"] = 1
        if item_done:
            adds += ["#processed :one", "#skipped :skipped"]
            values.update({":one": 1, ":skipped": int(skipped)})
        if error is not None:
            # An item of its own too (one per item of the run, which is counted once).
            item_id = error.subscription_id or error.customer_id
            entry = keyed(
                run_error_attributes(error), self._pk, f"BILLINGRUN#{run_id}#ERR#{item_id}", "run_error"
            )
            self.billing.stage(Write("Put", put(entry)))
        if adds:
            self._update_run(run_id, f"ADD {', '.join(adds)}", values)

    def count_issued_on_run(self, run_id: str, invoice_ids: list[str]) -> None:
        """Count items of the run done, each by one invoice of `invoice_ids`, in one update of the
        run (several invoices issued in one transaction, which may touch the run's item once).
        """
        for invoice_id in invoice_ids:
            entry = {"PK": self._pk, "SK": f"BILLINGRUN#{run_id}#INV#{invoice_id}", "entity": "run_invoice"}
            self.billing.stage(Write("Put", put(entry)))
        self._update_run(
            run_id,
            "ADD #created :issued, #processed :issued, #skipped :none",
            {":issued": len(invoice_ids), ":none": 0},
        )

    def actions(self) -> int:
        """The actions committing now would take (DynamoDB allows 100 in one transaction)."""
        return self.billing.actions()

    def _update_run(self, run_id: str, expression: str, values: dict[str, Any]) -> None:
        self.billing.stage(
            Write(
                "Update",
                {
                    "Key": {"PK": {"S": self._pk}, "SK": {"S": f"BILLINGRUN#{run_id}"}},
                    "UpdateExpression": expression,
                    "ConditionExpression": "attribute_exists(PK)",
                    "ExpressionAttributeNames": {
                        name: _RUN_ATTRIBUTES[name] for name in _RUN_ATTRIBUTES if name in expression
                    },
                    "ExpressionAttributeValues": to_attributes(values),
                },
                lambda: Conflict(f"There is no billing run {run_id}."),
            )
        )


class DynamoRecurringStore:
    def __init__(self, table: DynamoTable) -> None:
        self._table = table

    def transaction(self, organisation_id: str) -> RecurringTransaction:
        return RecurringTransaction(self._table, organisation_id)

    # subscriptions ----------------------------------------------------------------------------
    def read_subscription(
        self,
        organisation_id: str,
        subscription_id: str,
        customer_id: str | None = None,
        *,
        with_customer: bool = True,
    ) -> tuple[Organisation | None, NumberSeries | None, Subscription | None, Customer | None]:
        """The organisation, its invoice number series, the subscription and (unless not wanted) its
        customer: one round trip when the customer's id is given (the caller checks it is the
        subscription's) or not wanted, two otherwise.
        """
        pk = _pk(organisation_id)
        keys = [*organisation_keys(organisation_id), (pk, f"SUB#{subscription_id}")]
        if customer_id is not None:
            keys.append((pk, f"CUSTOMER#{customer_id}"))
        found = {item["SK"]: item for item in self._table.batch_get(keys)}
        organisation, series = organisation_and_series(found)
        subscription = found.get(f"SUB#{subscription_id}")
        customer = found.get(f"CUSTOMER#{customer_id}")
        if with_customer and customer is None and subscription is not None and customer_id is None:
            customer = self._table.get(pk, f"CUSTOMER#{subscription['customer_id']}")
        return (
            organisation,
            series,
            subscription_of(subscription) if subscription else None,
            customer_of(customer) if customer else None,
        )

    def read_subscriptions(
        self, organisation_id: str, subscriptions: list[tuple[str, str | None]]
    ) -> tuple[Organisation | None, NumberSeries | None, dict[str, Subscription], dict[str, Customer]]:
        """The organisation, its invoice number series, the subscriptions (id, its customer's id if
        known) and their customers, by id: one round trip when every customer's id is given, two
        otherwise. Missing ones are left out (the caller checks each customer is its subscription's).
        """
        pk = _pk(organisation_id)
        keys = [*organisation_keys(organisation_id)]
        keys += [(pk, f"SUB#{subscription_id}") for subscription_id, _ in subscriptions]
        keys += [(pk, f"CUSTOMER#{customer_id}") for _, customer_id in subscriptions if customer_id]
        found = {item["SK"]: item for item in self._table.batch_get(list(dict.fromkeys(keys)))}
        organisation, series = organisation_and_series(found)
        read = {
            subscription_id: subscription_of(found[f"SUB#{subscription_id}"])
            for subscription_id, _ in subscriptions
            if f"SUB#{subscription_id}" in found
        }
        unknown = sorted({s.customer_id for s in read.values()} - {c for _, c in subscriptions if c})
        found |= {
            item["SK"]: item for item in self._table.batch_get([(pk, f"CUSTOMER#{c}") for c in unknown])
        }
        customers = {
            s.customer_id: customer_of(found[f"CUSTOMER#{s.customer_id}"])
            for s in read.values()
            if f"CUSTOMER#{s.customer_id}" in found
        }
        return organisation, series, read, customers

    def read_customers(
        self, organisation_id: str, customer_ids: list[str]
    ) -> tuple[Organisation | None, dict[str, Customer]]:
        """The organisation and those of the customers that exist, by id, in one round trip."""
        pk = _pk(organisation_id)
        keys = [*organisation_keys(organisation_id), *((pk, f"CUSTOMER#{c}") for c in customer_ids)]
        found = {item["SK"]: item for item in self._table.batch_get(list(dict.fromkeys(keys)))}
        organisation, _ = organisation_and_series(found)
        customers = {c: customer_of(found[f"CUSTOMER#{c}"]) for c in customer_ids if f"CUSTOMER#{c}" in found}
        return organisation, customers

    def get_subscription(self, organisation_id: str, subscription_id: str) -> Subscription | None:
        item = self._table.get(_pk(organisation_id), f"SUB#{subscription_id}")
        return subscription_of(item) if item else None

    def list_subscriptions(self, organisation_id: str, limit: int, cursor: str | None) -> Page[Subscription]:
        after = decode_cursor(cursor, "SUB#") if cursor else None
        items, more = self._table.query_prefix(_pk(organisation_id), "SUB#", limit, after)
        return Page(
            [subscription_of(i) for i in items],
            encode_cursor(items[-1]["SK"]) if more else None,
        )

    # billing runs -----------------------------------------------------------------------------
    def get_run(
        self, organisation_id: str, run_id: str, *, invoice_ids: bool = True, item_ids: bool = True
    ) -> BillingRun | None:
        """The run with the ids of the invoices it issued and its errors, in one query (or the run
        alone), and the ids of its items (its membership: one more query).
        """
        pk = _pk(organisation_id)
        if invoice_ids:
            runs = _runs_with_invoice_ids(self._table.query_all(pk, f"BILLINGRUN#{run_id}"))
            run = runs[0] if runs else None
        else:
            item = self._table.get(pk, f"BILLINGRUN#{run_id}")
            run = billing_run_of(item) if item else None
        if run is None or not item_ids or run.item_ids:  # a run stored before its membership holds its ids
            return run
        members = run_members_of(self._table.query_all(pk, f"RUNMEMBERS#{run_id}#"))
        return run.model_copy(update={"item_ids": members})

    def list_runs(self, organisation_id: str, limit: int, cursor: str | None) -> Page[BillingRun]:
        """A page of runs, oldest first, each with its invoice ids: it reads what it answers."""
        pk = _pk(organisation_id)
        after = f"{decode_cursor(cursor, 'BILLINGRUN#')}#~" if cursor else None  # past that run's ids
        items: list[Item] = []
        runs = 0
        while True:
            page, more = self._table.query_prefix(pk, "BILLINGRUN#", 100, after)
            for item in page:
                if item["entity"] == "billing_run":
                    runs += 1
                    if runs > limit:
                        found = _runs_with_invoice_ids(items)
                        return Page(found, encode_cursor(f"BILLINGRUN#{found[-1].id}"))
                items.append(item)
            if not more:
                return Page(_runs_with_invoice_ids(items), None)
            after = page[-1]["SK"]

    def run_items_done(self, organisation_id: str, run_id: str, item_ids: list[str]) -> set[str]:
        """Which of the run's items are already done (their markers exist), in one read."""
        pk = _pk(organisation_id)
        keys = [(pk, f"RUNITEM#{run_id}#{item_id}") for item_id in item_ids]
        prefix = len(f"RUNITEM#{run_id}#")
        return {str(item["SK"])[prefix:] for item in self._table.batch_get(keys)}

    def record_cycle_run(self, run: BillingRun) -> bool:
        """Record the cycle's run; False when it was recorded already (its id names its page)."""
        if run.run_date is None:
            raise ValueError("a cycle run has a run date")
        transaction = self.transaction(run.organisation_id)
        transaction.insert_run(run)
        try:
            transaction.commit()
        except (AlreadyDone, ConcurrentUpdate):
            return False
        return True

    def mark_run_completed(self, organisation_id: str, run_id: str, now: datetime) -> bool:
        """Set `completed_at` once every item is done (once), with the run's `billing_run.completed`
        event in the same transaction; True if this call set it."""
        run = self.get_run(organisation_id, run_id, item_ids=False)
        if run is None or run.completed or run.processed < run.customer_count:
            return False
        completed = run.model_copy(update={"completed": True, "completed_at": now})
        try:
            self._table.write(
                [
                    Write(
                        "Update",
                        {
                            "Key": {"PK": {"S": _pk(organisation_id)}, "SK": {"S": f"BILLINGRUN#{run_id}"}},
                            "UpdateExpression": "SET #at = :now, #completed = :yes REMOVE GSI1PK, GSI1SK",
                            "ConditionExpression": "#processed = :processed AND #completed = :no",
                            "ExpressionAttributeNames": {
                                "#at": "completed_at",
                                "#completed": "completed",
                                "#processed": "processed",
                            },
                            "ExpressionAttributeValues": to_attributes(
                                {
                                    ":now": json_time(now),
                                    ":yes": True,
                                    ":no": False,
                                    ":processed": run.processed,
                                }
                            ),
                        },
                    ),
                    billing_run_event(completed),
                ]
            )
        except ConcurrentUpdate:
            return False
        return True

    # the organisations of the due index's entries -------------------------------------------
    def organisations(self, organisation_ids: list[str]) -> dict[str, Organisation]:
        return organisations_by_id(self._table, organisation_ids)
