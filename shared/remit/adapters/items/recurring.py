"""The stored items of recurring and bulk work: subscriptions (`SUB#…`), billing runs
(`BILLINGRUN#…`), billing templates (`TEMPLATE#…`) and reminders runs."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import Field

from remit.adapters.dynamodb import Item
from remit.adapters.items import StoredItem
from remit.domain.billing_run import BillingRun, BillingRunError, BulkInvoice
from remit.domain.billing_template import BillingTemplate
from remit.domain.invoice import NewLineItem
from remit.domain.reminders import ReminderRun
from remit.domain.subscription import Subscription


class SubscriptionItem(StoredItem):
    id: str
    organisation_id: str
    customer_id: str
    status: str = "draft"
    template_id: str | None = None
    line_items: list[NewLineItem] | None = None
    currency: str
    period: int = 1
    period_units: str = "months"
    start_date: date
    end_date: date | None = None
    charge_period_end: bool = False
    trial_periods: int = 0
    days_until_due: int | None = None
    include_open_charges: bool = True
    collection: str = "send_invoice"
    memo: str | None = None
    current_period_start: date | None = None
    current_period_end: date | None = None
    next_billing_date: date | None = None
    cancel_at: date | None = None
    invoices_issued: int = 0
    activated_at: datetime | None = None
    paused_at: datetime | None = None
    cancelled_at: datetime | None = None
    ended_at: datetime | None = None
    created_at: datetime
    updated_at: datetime
    # Storage and the domain only: never part of the API's subscription.
    timezone: str = "UTC"
    next_period: int = 0
    version: int = 0

    @classmethod
    def of(cls, subscription: Subscription) -> SubscriptionItem:
        return cls.copied_from(subscription)

    def subscription(self) -> Subscription:
        return Subscription.model_construct(**self.values())


def subscription_attributes(subscription: Subscription) -> Item:
    """The attributes of the subscription's item (its keys aside)."""
    return SubscriptionItem.of(subscription).attributes()


def subscription_of(item: Item) -> Subscription:
    """The subscription a stored item holds."""
    return SubscriptionItem.model_validate(item).subscription()


class BillingRunItem(StoredItem):
    """A run's own item: its counts and what every item of it bills, a fixed size whatever the number
    of its items. Its items (`RunMembersItem`), its invoices' ids and its errors are items of their own.
    """

    id: str
    organisation_id: str
    kind: str
    customer_count: int
    invoices_created: int = 0
    skipped: int = 0
    processed: int = 0
    run_date: date | None = None
    created_at: datetime
    completed_at: datetime | None = None
    # Derived from the counts when written (kept for readers of the table); not read back.
    status: str = "pending"
    # Storage and the billing worker only: never part of the API's billing run.
    bulk: BulkInvoice | None = None
    completed: bool = False
    # Runs recorded before membership and errors had items of their own keep them here (read only).
    item_ids: list[str] = Field(default_factory=list)
    errors: list[BillingRunError] = Field(default_factory=list)

    @classmethod
    def of(cls, run: BillingRun) -> BillingRunItem:
        return cls.copied_from(run, item_ids=[], errors=[])

    def billing_run(self) -> BillingRun:
        return BillingRun.model_construct(**self.values("status"), invoice_ids=[])


def billing_run_attributes(run: BillingRun) -> Item:
    """The attributes of the run's item (its keys aside): never its items' ids nor its errors."""
    attributes = BillingRunItem.of(run).attributes()
    del attributes["item_ids"], attributes["errors"]
    return attributes


def billing_run_of(item: Item) -> BillingRun:
    """The billing run a stored item holds (without the items of its membership, invoices and errors,
    which are items of their own, unless the run was stored before they were)."""
    return BillingRunItem.model_validate(item).billing_run()


# Ids of a run's items per membership item: 100 ids of about 30 bytes stay within 4 KB (one read unit).
RUN_MEMBERS_PER_ITEM = 100


class RunMembersItem(StoredItem):
    """Part of a run's membership: the ids of up to `RUN_MEMBERS_PER_ITEM` of its items, in order."""

    run_id: str
    item_ids: list[str]


def run_members_attributes(run: BillingRun) -> list[Item]:
    """The attributes of the run's membership items, in order (none for a run of no items)."""
    ids = run.item_ids
    return [
        RunMembersItem(run_id=run.id, item_ids=ids[start : start + RUN_MEMBERS_PER_ITEM]).attributes()
        for start in range(0, len(ids), RUN_MEMBERS_PER_ITEM)
    ]


def run_members_of(items: list[Item]) -> list[str]:
    """The ids of a run's items from its membership items (in key order)."""
    return [item_id for item in items for item_id in RunMembersItem.model_validate(item).item_ids]


def run_error_attributes(error: BillingRunError) -> Item:
    return error.model_dump(mode="json")


def run_error_of(item: Item) -> BillingRunError:
    return BillingRunError.model_validate(item)


class BillingTemplateItem(StoredItem):
    id: str
    name: str
    currency: str
    line_items: list[NewLineItem]
    days_until_due: int | None = None
    memo: str | None = None
    created_at: datetime
    updated_at: datetime
    # Storage only: the version a replacement is conditional on.
    version: int = 0

    @classmethod
    def of(cls, template: BillingTemplate) -> BillingTemplateItem:
        return cls.copied_from(template)

    def billing_template(self) -> BillingTemplate:
        return BillingTemplate.model_construct(**self.values())


def billing_template_attributes(template: BillingTemplate) -> Item:
    """The attributes of the template's item (its keys aside)."""
    return BillingTemplateItem.of(template).attributes()


def billing_template_of(item: Item) -> BillingTemplate:
    """The billing template a stored item holds."""
    return BillingTemplateItem.model_validate(item).billing_template()


# Stored as it is: its item is its fields (plus keys), read back as validated.


def reminder_run_attributes(run: ReminderRun) -> Item:
    return run.model_dump(mode="json")


def reminder_run_of(item: Item) -> ReminderRun:
    return ReminderRun.model_validate(item)
