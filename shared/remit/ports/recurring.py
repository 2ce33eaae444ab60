"""Subscriptions, billing runs and the due index."""

from __future__ import annotations

from datetime import date, datetime
from typing import Protocol

from remit.domain.billing_run import BillingRun, BillingRunError
from remit.domain.customer import Customer
from remit.domain.numbering import NumberSeries
from remit.domain.organisation import Organisation
from remit.domain.pagination import Page
from remit.domain.subscription import Subscription
from remit.ports.billing import BillingTransaction


class RecurringTransaction(Protocol):
    """The billing cycle's one atomic write: the invoice it issues (staged on `billing`) with the
    markers of what it bills, the subscription moved on and the run's counts.
    """

    @property
    def billing(self) -> BillingTransaction:
        """The billing writes of the same transaction: invoices, customers, the outbox."""
        ...

    def commit(self) -> None:
        """Commit everything staged, or nothing."""
        ...

    def claim_period(self, subscription_id: str, period_start: date, invoice_id: str) -> None: ...
    def claim_charges_cycle(self, customer_id: str, day: date, invoice_id: str | None) -> None: ...
    def claim_run_item(self, run_id: str, item_id: str) -> None: ...
    def save_subscription(self, subscription: Subscription, *, event: str | None = None) -> Subscription:
        """Write it if unchanged since read, with its event: `event` (`subscription.created`, …), or
        without one `subscription.canceled` if this change cancelled it, `subscription.updated` else."""
        ...

    def schedule_charges_billing(self, customer: Customer, next_day: date, now: datetime) -> None: ...
    def insert_run(self, run: BillingRun) -> None: ...
    def count_issued_on_run(self, run_id: str, invoice_ids: list[str]) -> None: ...
    def actions(self) -> int: ...
    def count_on_run(
        self,
        run_id: str,
        *,
        invoice_id: str | None = None,
        item_done: bool = False,
        skipped: bool = False,
        error: BillingRunError | None = None,
    ) -> None: ...


class RecurringStore(Protocol):
    """Subscriptions, billing runs and the due index (see the DynamoDB adapter for the layout)."""

    def transaction(self, organisation_id: str) -> RecurringTransaction: ...
    def read_subscription(
        self,
        organisation_id: str,
        subscription_id: str,
        customer_id: str | None = None,
        *,
        with_customer: bool = True,
    ) -> tuple[Organisation | None, NumberSeries | None, Subscription | None, Customer | None]: ...
    def read_subscriptions(
        self, organisation_id: str, subscriptions: list[tuple[str, str | None]]
    ) -> tuple[Organisation | None, NumberSeries | None, dict[str, Subscription], dict[str, Customer]]: ...
    def read_customers(
        self, organisation_id: str, customer_ids: list[str]
    ) -> tuple[Organisation | None, dict[str, Customer]]: ...
    def list_subscriptions(
        self, organisation_id: str, limit: int, cursor: str | None
    ) -> Page[Subscription]: ...
    def get_run(
        self, organisation_id: str, run_id: str, *, invoice_ids: bool = True, item_ids: bool = True
    ) -> BillingRun | None: ...
    def list_runs(self, organisation_id: str, limit: int, cursor: str | None) -> Page[BillingRun]: ...
    def run_items_done(self, organisation_id: str, run_id: str, item_ids: list[str]) -> set[str]: ...
    def record_cycle_run(self, run: BillingRun) -> bool: ...
    def mark_run_completed(self, organisation_id: str, run_id: str, now: datetime) -> bool: ...
    def organisations(self, organisation_ids: list[str]) -> dict[str, Organisation]: ...
