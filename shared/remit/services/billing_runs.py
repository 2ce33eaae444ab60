"""Bulk billing runs (one-time invoices to many customers, issued in the background), their
progress, and billing templates sent to one customer.
"""

from __future__ import annotations

from remit.domain.billing_run import BillingRun, BulkInvoice
from remit.domain.billing_template import (
    BillingTemplate,
    BillingTemplateChanges,
    BulkBillingRequest,
    NewBillingTemplate,
)
from remit.domain.changes import apply_changes
from remit.domain.errors import FieldProblem, InvalidInput, NotFound
from remit.domain.ids import new_id
from remit.domain.invoice import Invoice, InvoiceSource, NewInvoice
from remit.domain.pagination import Page
from remit.ports.queues import WorkQueue
from remit.ports.recurring import RecurringStore
from remit.services.billing_context import BillingContext
from remit.services.bulk_issuing import BULK_CUSTOMERS_PER_MESSAGE
from remit.services.invoice_lifecycle import InvoiceLifecycleService
from remit.services.invoices import InvoiceService
from remit.services.retry import retry_on_conflict
from remit.services.sending import SendingService


class BillingRunService:
    def __init__(
        self,
        context: BillingContext,
        invoices: InvoiceService,
        lifecycle: InvoiceLifecycleService,
        sending: SendingService,
        store: RecurringStore,
        queue: WorkQueue,
    ) -> None:
        self._store = store
        self._queue = queue
        self._context = context
        self._billing = context.billing
        self._invoices = invoices
        self._lifecycle = lifecycle
        self._sending = sending

    def bill_customers(
        self, account_id: str, organisation_id: str, request: BulkBillingRequest, public_base_url: str
    ) -> BillingRun:
        """Record a bulk billing run and queue its customers; the billing worker issues one finalized
        (and, with `send`, sent) invoice per customer, each exactly once.

        Everything is checked first (every customer exists and bills in `currency`, the lines are
        complete); if anything is wrong, nothing is recorded and the `422` names each problem. The
        cost of the request is one read per 100 customers, one write and one queue call per 100
        customers, whatever the invoices cost later.
        """
        self._context.access.require_access(account_id, organisation_id)
        if request.due_date is not None and request.days_until_due is not None:
            raise InvalidInput.single("due_date", "give either due_date or days_until_due, not both")
        if len(set(request.customer_ids)) != len(request.customer_ids):
            raise InvalidInput.single("customer_ids", "must not repeat a customer")
        found = {c.id: c for c in self._billing.get_customers(organisation_id, request.customer_ids)}
        problems = []
        for index, customer_id in enumerate(request.customer_ids):
            customer = found.get(customer_id)
            if customer is None:
                problems.append(FieldProblem(f"customer_ids.{index}", f"no customer '{customer_id}' here"))
            elif customer.currency != request.currency:
                problems.append(
                    FieldProblem(
                        f"customer_ids.{index}",
                        f"customer '{customer_id}' is billed in {customer.currency}, not {request.currency}",
                    )
                )
        if problems:
            raise InvalidInput(problems)
        now = self._context.clock.now()
        run = BillingRun(
            id=new_id("brun", now),
            organisation_id=organisation_id,
            kind="bulk",
            customer_count=len(request.customer_ids),
            item_ids=request.customer_ids,
            bulk=BulkInvoice(
                line_items=request.line_items,
                currency=request.currency,
                days_until_due=request.days_until_due,
                due_date=request.due_date,
                memo=request.memo,
                send=request.send,
                public_base_url=public_base_url,
            ),
            created_at=now,
        )
        transaction = self._store.transaction(organisation_id)
        transaction.insert_run(run)
        transaction.commit()
        chunk = BULK_CUSTOMERS_PER_MESSAGE
        self._queue.send(
            [
                {
                    "kind": "bulk",
                    "organisation_id": organisation_id,
                    "run_id": run.id,
                    "customer_ids": request.customer_ids[start : start + chunk],
                }
                for start in range(0, len(request.customer_ids), chunk)
            ]
        )
        return run

    def run(self, account_id: str, organisation_id: str, run_id: str) -> BillingRun:
        """The run with its progress; `NotFound` otherwise."""
        self._context.access.require_access(account_id, organisation_id)
        return self.run_of(organisation_id, run_id)

    def run_of(self, organisation_id: str, run_id: str) -> BillingRun:
        """The run, without an account check (the local stack's dev endpoint)."""
        run = self._store.get_run(organisation_id, run_id, item_ids=False)
        if run is None:
            raise NotFound("billing run", run_id)
        return run

    def list_runs(
        self, account_id: str, organisation_id: str, limit: int, cursor: str | None
    ) -> Page[BillingRun]:
        """The organisation's billing runs, oldest first."""
        self._context.access.require_access(account_id, organisation_id)
        return self._store.list_runs(organisation_id, limit, cursor)

    def _issue(
        self,
        account_id: str,
        organisation_id: str,
        new: NewInvoice,
        source: InvoiceSource,
        public_base_url: str,
        *,
        send: bool,
    ) -> Invoice:
        draft = self._invoices.create_draft(account_id, organisation_id, new, source=source)
        if send:
            return self._sending.send(account_id, organisation_id, draft.id, public_base_url)
        return self._lifecycle.finalize(account_id, organisation_id, draft.id, public_base_url)

    # --- templates -----------------------------------------------------------------------------

    def create_template(
        self, account_id: str, organisation_id: str, new: NewBillingTemplate
    ) -> BillingTemplate:
        """A reusable invoice content: name, currency, lines, terms, memo."""
        self._context.access.require_access(account_id, organisation_id)
        now = self._context.clock.now()
        template = BillingTemplate(id=new_id("tpl", now), **new.model_dump(), created_at=now, updated_at=now)
        return self._billing.save_template(organisation_id, template, new=True)

    def template(self, account_id: str, organisation_id: str, template_id: str) -> BillingTemplate:
        self._context.access.require_access(account_id, organisation_id)
        template = self._billing.get_template(organisation_id, template_id)
        if template is None:
            raise NotFound("billing template", template_id)
        return template

    def list_templates(
        self, account_id: str, organisation_id: str, limit: int, cursor: str | None
    ) -> Page[BillingTemplate]:
        self._context.access.require_access(account_id, organisation_id)
        return self._billing.list_templates(organisation_id, limit, cursor)

    def update_template(
        self, account_id: str, organisation_id: str, template_id: str, changes: BillingTemplateChanges
    ) -> BillingTemplate:
        """Apply a PATCH (lists are replaced whole); retries on concurrent edits."""

        def attempt() -> BillingTemplate:
            current = self.template(account_id, organisation_id, template_id)
            updated = apply_changes(current, changes, updated_at=self._context.clock.now())
            if changes.line_items is not None:
                updated = updated.model_copy(update={"line_items": changes.line_items})
            return self._billing.save_template(organisation_id, updated, new=False)

        return retry_on_conflict(attempt)

    def delete_template(self, account_id: str, organisation_id: str, template_id: str) -> None:
        self._context.access.require_access(account_id, organisation_id)
        if not self._billing.delete_template(organisation_id, template_id):
            raise NotFound("billing template", template_id)

    def send_template_invoice(
        self, account_id: str, organisation_id: str, template_id: str, customer_id: str, public_base_url: str
    ) -> Invoice:
        """One invoice from the template to the customer, finalized and sent.

        `InvalidInput` if the customer is unknown or billed in another currency than the template.
        """
        template = self.template(account_id, organisation_id, template_id)
        _, customer = self._context.organisation_and_customer(
            account_id, organisation_id, customer_id, customer_field="customer_id"
        )
        if customer.currency != template.currency:
            raise InvalidInput.single(
                "customer_id",
                f"the customer is billed in {customer.currency}, the template in {template.currency}",
            )
        new = NewInvoice(
            customer_id=customer_id,
            line_items=template.line_items,
            currency=template.currency,
            days_until_due=template.days_until_due,
            memo=template.memo,
        )
        return self._issue(account_id, organisation_id, new, "template", public_base_url, send=True)
