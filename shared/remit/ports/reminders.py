"""The reminder index, its transaction and the runs' summaries."""

from __future__ import annotations

from datetime import date
from typing import Protocol

from remit.domain.customer import Customer
from remit.domain.invoice import Invoice
from remit.domain.organisation import Organisation
from remit.domain.reminders import ReminderRun
from remit.ports.billing import BillingTransaction


class ReminderTransaction(Protocol):
    """A reminder's one atomic write: the invoice moved on, the email and the timeline's event
    (staged on `billing`) with the step's marker and the run's count.
    """

    @property
    def billing(self) -> BillingTransaction:
        """The billing writes of the same transaction: the invoice, the outbox, the timeline."""
        ...

    def commit(self) -> None:
        """Commit everything staged, or nothing."""
        ...

    def claim_reminder(self, invoice_id: str, step: str) -> None: ...
    def claim_run_invoice(self, day: date, invoice_id: str) -> None: ...
    def count_on_run(self, day: date, *, sent: bool, reason: str | None) -> None: ...


class ReminderStore(Protocol):
    """The reminder index, the invoices it points to and the runs' summaries."""

    def transaction(self, organisation_id: str) -> ReminderTransaction: ...
    def read(
        self, organisation_id: str, invoice_id: str, customer_id: str
    ) -> tuple[Organisation | None, Invoice | None, Customer | None]: ...
    def record_run(self, run: ReminderRun, part: str) -> bool: ...
    def get_run(self, organisation_id: str, day: date) -> ReminderRun | None: ...
    def organisations(self, organisation_ids: list[str]) -> dict[str, Organisation]: ...
