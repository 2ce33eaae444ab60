"""Invoices: drafts from lines and charges, edits, deletion, finalization with gapless numbers, void,
mark uncollectible, reading with `overdue`, and the timeline.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta

from remit.domain.charge import Charge
from remit.domain.customer import Customer
from remit.domain.einvoices import vat_category_for
from remit.domain.errors import Conflict, FieldProblem, InvalidInput, NotFound
from remit.domain.ids import new_id
from remit.domain.invoice import (
    Invoice,
    InvoiceChanges,
    InvoiceEvent,
    InvoiceSource,
    LineItem,
    LineItemInput,
    NewInvoice,
    line_tax_problems,
    priced_line,
)
from remit.domain.organisation import Organisation
from remit.domain.pagination import Page
from remit.ports.billing import BillingTransaction
from remit.services.billing_context import BillingContext, today_in
from remit.services.retry import retry_on_conflict


def _charge_line(charge: Charge, customer: Customer, now: datetime) -> LineItem:
    # The charge's rate and category were checked against the customer when it was recorded.
    return priced_line(
        new_id("li", now),
        charge.description,
        charge.quantity,
        charge.unit_amount,
        charge.tax_rate,
        charge.id,
        vat_category=charge.vat_category or vat_category_for(charge.tax_rate, customer.tax_treatment),
        exemption_reason=charge.exemption_reason,
        unit_code=charge.unit_code,
    )


def _new_lines(
    inputs: Sequence[LineItemInput], customer: Customer, now: datetime, first: int = 0
) -> list[LineItem]:
    problems: list[FieldProblem] = []
    lines: list[LineItem] = []
    for index, given in enumerate(inputs, start=first):
        if given.description is None:
            problems.append(FieldProblem(f"line_items.{index}.description", "Field required"))
        if given.unit_amount is None:
            problems.append(FieldProblem(f"line_items.{index}.unit_amount", "Field required"))
        tax_rate, category, tax_problems = line_tax_problems(f"line_items.{index}", given, customer)
        problems += tax_problems
        if given.description is not None and given.unit_amount is not None and not tax_problems:
            lines.append(
                priced_line(
                    new_id("li", now),
                    given.description,
                    given.quantity,
                    given.unit_amount,
                    tax_rate,
                    None,
                    vat_category=category,
                    exemption_reason=given.exemption_reason,
                    unit_code=given.unit_code,
                )
            )
    if problems:
        raise InvalidInput(problems)
    return lines


def _due(
    due_date: date | None, days_until_due: int | None, customer: Customer, today: date
) -> tuple[date, int | None]:
    """A fixed due date, or net terms (the customer's by default) counted from the issue date."""
    if due_date is not None and days_until_due is not None:
        raise InvalidInput.single("due_date", "give either due_date or days_until_due, not both")
    if due_date is not None:
        return due_date, None
    days = customer.payment_terms_days if days_until_due is None else days_until_due
    return today + timedelta(days=days), days


class InvoiceService:
    def __init__(self, context: BillingContext) -> None:
        self._context = context
        self._billing = context.billing
        self._clock = context.clock

    # --- reading -------------------------------------------------------------------------------

    def get(self, account_id: str, organisation_id: str, invoice_id: str) -> Invoice:
        """The invoice with `overdue` as of today in the organisation's zone; `NotFound` otherwise."""
        return self._as_of_now(self._context.invoice(account_id, organisation_id, invoice_id))

    def list_invoices(
        self,
        account_id: str,
        organisation_id: str,
        limit: int,
        cursor: str | None,
        status: str | None,
        customer_id: str | None,
        *,
        newest_first: bool = False,
    ) -> Page[Invoice]:
        """The organisation's invoices, oldest (or newest) first, optionally of one status and/or
        customer.
        """
        self._context.access.require_access(account_id, organisation_id)
        page = self._billing.list_invoices(
            organisation_id, limit, cursor, status, customer_id, newest_first=newest_first
        )
        return Page([self._as_of_now(invoice) for invoice in page.items], page.next_cursor)

    def list_issued(
        self, account_id: str, organisation_id: str, first: date, last: date, limit: int, cursor: str | None
    ) -> Page[Invoice]:
        """The organisation's invoices issued `first` to `last` (both included), by issue date;
        never a draft. Reads only those."""
        self._context.access.require_access(account_id, organisation_id)
        page = self._billing.invoices_issued(organisation_id, first, last, limit, cursor)
        return Page([self._as_of_now(invoice) for invoice in page.items], page.next_cursor)

    def events(self, account_id: str, organisation_id: str, invoice_id: str) -> list[InvoiceEvent]:
        """The invoice's timeline, oldest first (every invoice has at least its `invoice.created`)."""
        self._context.access.require_access(account_id, organisation_id)
        events = self._billing.list_events(organisation_id, invoice_id)
        if not events:
            raise NotFound("invoice", invoice_id)
        return events

    def _as_of_now(self, invoice: Invoice) -> Invoice:
        return invoice.as_seen_on(today_in(invoice.timezone, self._clock.now()))

    # --- drafts --------------------------------------------------------------------------------

    def create_draft(
        self, account_id: str, organisation_id: str, new: NewInvoice, source: InvoiceSource = "manual"
    ) -> Invoice:
        """A draft from line items, selected open charges and/or all open charges of the customer.

        Atomic: the charges become `invoiced` in the same transaction (`Conflict` if one no longer
        is open). Raises `InvalidInput` for an unknown customer or charge, or a currency mismatch.
        """
        organisation, customer = self._context.organisation_and_customer(
            account_id, organisation_id, new.customer_id, customer_field="customer_id"
        )
        now = self._clock.now()
        currency = new.currency or customer.currency
        if currency != customer.currency:
            raise InvalidInput.single(
                "currency", f"must be the customer's currency {customer.currency} (the charges are in it)"
            )
        charges = self._charges_for(organisation_id, customer, new)
        invoice = self.draft_for(
            organisation,
            customer,
            charges,
            new.line_items,
            today=today_in(organisation.timezone, now),
            now=now,
            due_date=new.due_date,
            days_until_due=new.days_until_due,
            memo=new.memo,
            footer=new.footer,
            source=source,
            delivery_date=new.delivery_date,
        )
        transaction = self._billing.transaction(organisation_id)
        self.stage_new_invoice(transaction, invoice, invoice, charges, now)
        transaction.commit()
        return invoice

    def stage_new_invoice(
        self,
        transaction: BillingTransaction,
        draft: Invoice,
        invoice: Invoice,
        charges: list[Charge],
        now: datetime,
    ) -> None:
        """Stage `invoice` (created as `draft`, perhaps finalized since) as new, its charges as
        `invoiced` (each only if still open: `Conflict` otherwise) and `invoice.created`.
        """
        transaction.insert_invoice(invoice)
        for charge in charges:
            transaction.update_charge(
                charge.model_copy(update={"status": "invoiced", "invoice_id": invoice.id}), "open"
            )
        transaction.insert_event(self._context.event(invoice.id, "invoice.created", now, total=draft.total))

    def draft_for(
        self,
        organisation: Organisation,
        customer: Customer,
        charges: list[Charge],
        line_items: Sequence[LineItemInput],
        *,
        today: date,
        now: datetime,
        due_date: date | None = None,
        days_until_due: int | None = None,
        memo: str | None = None,
        footer: str | None = None,
        source: InvoiceSource = "manual",
        subscription_id: str | None = None,
        period: tuple[date, date] | None = None,
        delivery_date: date | None = None,
    ) -> Invoice:
        """A new draft (not stored) for the customer, in its currency: the charges' lines, then the
        given lines (tax rate defaulting to the customer's), due on `due_date` or net terms (the
        customer's by default) from `today`. `InvalidInput` names an incomplete line, a line whose
        rate, VAT category or exemption reason does not fit the customer, or (`charge_ids`) a
        charge that no longer fits it.
        """
        # A charge recorded before its customer's treatment changed may no longer fit it.
        unfit = [
            FieldProblem("charge_ids", f"charge {charge.id}: {problem.message}")
            for charge in charges
            for problem in line_tax_problems("charge", charge, customer)[2]
        ]
        if unfit:
            raise InvalidInput(unfit)
        lines = [_charge_line(charge, customer, now) for charge in charges]
        lines += _new_lines(line_items, customer, now)
        due, days = _due(due_date, days_until_due, customer, today)
        return Invoice(
            id=new_id("inv", now),
            organisation_id=organisation.id,
            customer_id=customer.id,
            currency=customer.currency,
            due_date=due,
            days_until_due=days,
            timezone=organisation.timezone,
            draft_customer=customer,
            source=source,
            subscription_id=subscription_id,
            period_start=period[0] if period else None,
            period_end=period[1] if period else None,
            delivery_date=delivery_date,
            memo=memo,
            footer=footer,
            created_at=now,
            updated_at=now,
        ).with_lines(lines)

    def _charges_for(self, organisation_id: str, customer: Customer, new: NewInvoice) -> list[Charge]:
        selected: dict[str, Charge] = {}
        if new.charge_ids:
            if len(set(new.charge_ids)) != len(new.charge_ids):
                raise InvalidInput.single("charge_ids", "must not repeat a charge")
            found = {c.id: c for c in self._billing.get_charges(organisation_id, customer.id, new.charge_ids)}
            missing = [
                FieldProblem(f"charge_ids.{index}", f"no charge '{charge_id}' for this customer")
                for index, charge_id in enumerate(new.charge_ids)
                if charge_id not in found
            ]
            if missing:
                raise InvalidInput(missing)
            for charge in found.values():
                if charge.status != "open":
                    raise Conflict(f"Charge {charge.id} is already on invoice {charge.invoice_id}.")
            selected.update(found)
        if new.include_open_charges:
            selected.update({c.id: c for c in self._billing.open_charges(organisation_id, customer.id)})
        wrong_currency = [c.id for c in selected.values() if c.currency != customer.currency]
        if wrong_currency:
            raise InvalidInput.single(
                "charge_ids", f"charges {wrong_currency} are not in {customer.currency}"
            )
        return sorted(selected.values(), key=lambda charge: charge.id)

    def update_draft(
        self, account_id: str, organisation_id: str, invoice_id: str, changes: InvoiceChanges
    ) -> Invoice:
        """Edit a draft: replace its lines (`{"id": …}` keeps a line), due date, memo or footer.

        Charges whose lines are dropped return to `open` in the same transaction. `Conflict` unless
        the invoice is a draft; retries on concurrent edits.
        """

        def attempt() -> Invoice:
            organisation, invoice, _ = self._billing.read_for_billing(organisation_id, invoice_id=invoice_id)
            organisation, invoice = self._context.owned(
                account_id, organisation_id, organisation, invoice, invoice_id
            )
            invoice.require_status("draft", "edit")
            now = self._clock.now()
            updated = invoice
            released: list[LineItem] = []
            if changes.line_items is not None:
                lines, released = self._replaced_lines(organisation_id, invoice, changes.line_items, now)
                updated = updated.with_lines(lines)
            fields_set = changes.model_fields_set
            if "due_date" in fields_set or "days_until_due" in fields_set:
                if changes.due_date is None and changes.days_until_due is None:
                    raise InvalidInput.single("due_date", "give a due_date or days_until_due")
                days = changes.days_until_due
                due_date = changes.due_date or today_in(organisation.timezone, now) + timedelta(
                    days=days or 0
                )
                updated = updated.model_copy(
                    update={"due_date": due_date, "days_until_due": None if changes.due_date else days}
                )
            updated = updated.model_copy(
                update={
                    **{
                        name: getattr(changes, name)
                        for name in ("memo", "footer", "delivery_date")
                        if name in fields_set
                    },
                    "updated_at": now,
                }
            )
            transaction = self._billing.transaction(organisation_id)
            saved = transaction.update_invoice(updated, as_read=invoice)
            released_ids = sorted(line.charge_id for line in released if line.charge_id)
            for charge in self._billing.get_charges(organisation_id, invoice.customer_id, released_ids):
                transaction.update_charge(
                    charge.model_copy(update={"status": "open", "invoice_id": None}), "invoiced"
                )
            transaction.commit()
            return self._as_of_now(saved)

        return retry_on_conflict(attempt)

    def _replaced_lines(
        self, organisation_id: str, invoice: Invoice, inputs: list[LineItemInput], now: datetime
    ) -> tuple[list[LineItem], list[LineItem]]:
        existing = {line.id: line for line in invoice.line_items}
        problems = [
            FieldProblem(f"line_items.{index}.id", f"no line '{given.id}' on this invoice")
            for index, given in enumerate(inputs)
            if given.id is not None and given.id not in existing
        ]
        if problems:
            raise InvalidInput(problems)
        customer = None
        lines: list[LineItem] = []
        for index, given in enumerate(inputs):
            if given.id is not None:
                lines.append(existing[given.id])
                continue
            if customer is None:
                _, _, customer = self._billing.read_for_billing(
                    organisation_id, customer_id=invoice.customer_id
                )
                if customer is None:
                    raise Conflict("The invoice's customer no longer exists.")
            lines += _new_lines([given], customer, now, first=index)
        kept = {line.id for line in lines}
        released = [line for line in invoice.line_items if line.id not in kept and line.charge_id]
        return lines, released

    def delete_draft(self, account_id: str, organisation_id: str, invoice_id: str) -> None:
        """Delete a draft; its charges return to `open` in the same transaction. `Conflict` unless a draft."""

        def attempt() -> None:
            invoice = self._context.invoice(account_id, organisation_id, invoice_id)
            invoice.require_status("draft", "delete")
            charges = self._billing.get_charges(
                organisation_id, invoice.customer_id, sorted(invoice.charge_ids)
            )
            events = self._billing.list_events(organisation_id, invoice_id)
            transaction = self._billing.transaction(organisation_id)
            transaction.delete_invoice(invoice)
            for charge in charges:
                transaction.update_charge(
                    charge.model_copy(update={"status": "open", "invoice_id": None}), "invoiced"
                )
            transaction.delete_events(invoice_id, [event.id for event in events])
            transaction.commit()

        retry_on_conflict(attempt)
