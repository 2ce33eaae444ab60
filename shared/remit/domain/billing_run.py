"""Billing runs: work over many customers done in the background, each item exactly once.

A run is recorded when it is asked for (a bulk billing request, or the daily cycle for one
organisation), with the list of its items; the billing worker then processes them from the queue.
Until it is complete a run stays in the due index, so that the planner finds a run whose messages
were lost (or dead-lettered) and queues what it has left. Each item (a customer
of a bulk run, a subscription or a monthly-billed customer of the cycle) is counted once, when it
is done, by a marker written in the same transaction as the counters, so retries and redeliveries
never count twice. The status follows from the counts.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import Field, computed_field

from remit.domain.invoice import LineItemInput
from remit.domain.values import Model

BillingRunKind = Literal["bulk", "invoicing_cycle"]
BillingRunStatus = Literal["pending", "running", "completed", "completed_with_errors"]


class BillingRunError(Model):
    customer_id: str
    subscription_id: str | None = None
    detail: str


class BulkInvoice(Model):
    """What every invoice of a bulk run carries (kept on the run for the worker)."""

    line_items: list[LineItemInput]
    currency: str
    days_until_due: int | None = None
    due_date: date | None = None
    memo: str | None = None
    send: bool = False
    public_base_url: str = ""


class BillingRun(Model):
    id: str
    organisation_id: str
    kind: BillingRunKind
    customer_count: int = Field(
        description="Items of the run: customers, or subscriptions and monthly-billed customers."
    )
    invoices_created: int = 0
    invoice_ids: list[str] = Field(default_factory=list)
    errors: list[BillingRunError] = Field(default_factory=list)
    skipped: int = Field(default=0, description="Items that needed no invoice when processed.")
    processed: int = 0
    run_date: date | None = Field(default=None, description="The day the invoicing cycle ran for.")
    created_at: datetime
    completed_at: datetime | None = None
    # What the run bills (not shown): its items (a bulk run's customers; a cycle run's
    # subscriptions and monthly-billed customers), fixed when it is recorded, and a bulk run's content.
    item_ids: list[str] = Field(default_factory=list)
    bulk: BulkInvoice | None = None
    completed: bool = False

    @computed_field  # type: ignore[prop-decorator]
    @property
    def status(self) -> BillingRunStatus:
        if self.processed >= self.customer_count:
            return "completed_with_errors" if self.errors else "completed"
        return "running" if self.processed else "pending"
