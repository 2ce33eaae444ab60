"""Credit notes: the organisation's list (by customer and invoice), a credit note's page (lines,
totals, settlement, refunds, PDF, void), and issuing one from an invoice's page: a form with the
invoice's lines, a preview (the service's own), then the confirmation that issues it.

Each page calls the services the API's routes call (functions/api/routes/credit_notes.py), with
the API's own input model (`NewCreditNote`): the same rules, the same refusals, shown next to the
field they name. The preview page is the confirmation: it carries the form's values as hidden
fields and posts them again with `confirmed=yes`, and the form's `request_key` (drawn when the form
was shown) names the request to the service, so a double submit issues one credit note.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import typing
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from pydantic import ValidationError

from dashboard.formats import money
from dashboard.forms import FormErrors, minor_units
from dashboard.page_request import PageRequest, page_request
from dashboard.rendering import Page, confirm, render, see_other
from remit.domain.credit_notes import (
    CREDITABLE_INVOICE_STATUSES,
    CreditNoteNotVoidable,
    CreditNoteReason,
    NewCreditNote,
    voided_credit_note,
)
from remit.domain.errors import Conflict, FieldProblem, InvalidInput, NotFound
from remit.domain.refunds import RefundExceedsPayments, allocate_refund, refundable
from remit.domain.values import currency_exponent
from remit.problem_details import field_problems, status_of

if TYPE_CHECKING:
    from remit.domain.credit_notes import CreditNote
    from remit.domain.customer import Customer
    from remit.domain.invoice import Invoice, LineItem
    from remit.domain.payment import Payment
    from remit.domain.refunds import Refund

router = APIGatewayRouter()

CREDIT_NOTES = "/organisations/<organisation_id>/credit-notes"
CREDIT_NOTE = CREDIT_NOTES + "/<credit_note_id>"
OF_INVOICE = "/organisations/<organisation_id>/invoices/<invoice_id>/credit-notes"
PAGE_SIZE = 25
CUSTOMER_CHOICES = 100
SECTION = "Credit notes"
REASONS: dict[str, str] = {
    "other": "Other (no reason stated)",
    "duplicate": "Duplicate",
    "fraudulent": "Fraudulent",
    "order_change": "Order change",
    "product_unsatisfactory": "Product unsatisfactory",
}
SETTLEMENT = ("refund_amount", "credit_amount", "out_of_band_amount")
# The request's names for a line's field (`lines[2].quantity`, pydantic's `lines.2.quantity`).
_LINE_FIELD = re.compile(r"^lines(?:\[(\d+)\]|\.(\d+))(?:\.(\w+))?$")

assert set(REASONS) == set(typing.get_args(CreditNoteReason))  # noqa: S101 - every reason offered


# Helpers ----------------------------------------------------------------------------------------


def _exponent(currency: str) -> int:
    try:
        return currency_exponent(currency)
    except (ValueError, KeyError):
        return 2


def _invoice(request: PageRequest, invoice_id: str) -> Invoice:
    return request.services.invoices.get(request.account_id, request.org.id, invoice_id)


def _customer_or_none(request: PageRequest, customer_id: str) -> Customer | None:
    if not customer_id:
        return None
    try:
        return request.services.customers.get(request.account_id, request.org.id, customer_id)
    except NotFound:
        return None


def _payments(request: PageRequest, invoice: Invoice) -> list[Payment]:
    payments: list[Payment] = []
    cursor: str | None = None
    while True:
        page = request.services.payments.list_payments(
            request.account_id, request.org.id, 100, cursor, invoice.id, None
        )
        payments += page.items
        if page.next_cursor is None:
            return payments
        cursor = page.next_cursor


def invoice_refunds(request: PageRequest, invoice_id: str) -> list[Refund]:
    """Every refund of the invoice's payments, oldest first."""
    refunds: list[Refund] = []
    cursor: str | None = None
    while True:
        page = request.services.credit_notes.list_refunds(
            request.account_id, request.org.id, 100, cursor, None, invoice_id
        )
        refunds += page.items
        if page.next_cursor is None:
            return refunds
        cursor = page.next_cursor


# The form ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LineRow:
    """An invoice line as the form offers it: what is left of it to credit."""

    index: int
    line: LineItem
    quantity_left: Decimal
    amount_left: int

    @property
    def creditable(self) -> bool:
        return self.amount_left > 0


def _rows(invoice: Invoice) -> list[LineRow]:
    rows = []
    for index, line in enumerate(invoice.line_items):
        credited = invoice.credited_lines.get(line.id)
        quantity_left = line.quantity - (credited.quantity if credited else Decimal(0))
        amount_left = line.amount - (credited.amount if credited else 0)
        rows.append(LineRow(index, line, max(quantity_left, Decimal(0)), max(amount_left, 0)))
    return rows


@dataclass
class Asked:
    """The form as the request `NewCreditNote` is built from: its JSON, and for each of its lines
    the form's name for it (`lines.3`, `free`), so a refusal naming `lines[1].quantity` is shown
    next to the field it was typed in."""

    data: dict[str, Any]
    names: list[str]
    errors: FormErrors


def _text(values: dict[str, list[str]], name: str) -> str:
    found = values.get(name) or [""]
    return found[-1].strip()


def _money(values: dict[str, list[str]], name: str, exponent: int, errors: FormErrors) -> int | None:
    text = _text(values, name)
    if not text:
        return None
    amount = minor_units(text, exponent)
    if isinstance(amount, str):
        errors.by_field.setdefault(name, f"write an amount such as 19.99 (at most {exponent} decimals)")
        return None
    return amount


def _asked(invoice: Invoice, values: dict[str, list[str]]) -> Asked:
    """What the form asks, as the API's body (amounts in minor units)."""
    exponent = _exponent(invoice.currency)
    errors = FormErrors()
    lines: list[dict[str, Any]] = []
    names: list[str] = []
    for row in _rows(invoice):
        name = f"lines.{row.index}"
        quantity = _text(values, f"{name}.quantity")
        amount = _money(values, f"{name}.amount", exponent, errors)
        if not quantity and amount is None:
            continue
        line: dict[str, Any] = {"invoice_line_id": row.line.id}
        if quantity:
            try:
                line["quantity"] = str(Decimal(quantity))
            except InvalidOperation:
                errors.by_field.setdefault(f"{name}.quantity", "write a number such as 1 or 0.5")
                continue
        if amount is not None:
            line["amount"] = amount
        lines.append(line)
        names.append(name)
    free_description = _text(values, "free.description")
    free_amount = _money(values, "free.amount", exponent, errors)
    free_rate = _text(values, "free.tax_rate")
    if free_description or free_amount is not None:
        free: dict[str, Any] = {"description": free_description, "tax_rate": free_rate or "0"}
        if free_amount is not None:
            free["amount"] = free_amount
        lines.append(free)
        names.append("free")
    data: dict[str, Any] = {"reason": _text(values, "reason") or "other"}
    if lines:
        data["lines"] = lines
    single = _money(values, "amount", exponent, errors)
    if single is not None:
        data["amount"] = single
    memo = _text(values, "memo")
    if memo:
        data["memo"] = memo
    for name in SETTLEMENT:
        settled = _money(values, name, exponent, errors)
        if settled is not None:
            data[name] = settled
    if not lines and single is None and not errors:
        errors.general.append(
            "Say what to credit: a quantity or an amount on a line, a free line, or an amount."
        )
    return Asked(data, names, errors)


def _field_name(problem: str, names: list[str]) -> str:
    """The form's name for a field a refusal names (`lines[1].quantity` → `lines.3.quantity`)."""
    found = _LINE_FIELD.match(problem)
    if found is None:
        return problem
    position = int(found[1] or found[2])
    if position >= len(names):
        return "lines"
    return f"{names[position]}.{found[3]}" if found[3] else names[position]


_SHOWN = frozenset(
    {"amount", "reason", "memo", "lines", *SETTLEMENT}
    | {f"free.{name}" for name in ("description", "amount", "tax_rate")}
)


def _errors(problems: list[FieldProblem], asked: Asked, rows: int) -> FormErrors:
    """Each refusal next to the field it names; the rest above the form. A refusal naming `lines`
    (more than is left to credit) is shown next to the single amount when that was what was asked."""
    errors = FormErrors()
    shown = _SHOWN | {f"lines.{index}.{name}" for index in range(rows) for name in ("quantity", "amount")}
    single = "amount" in asked.data and "lines" not in asked.data
    for problem in problems:
        name = _field_name(problem.field, asked.names)
        if name == "lines" and single:
            name = "amount"
        if name.startswith("free.") or name == "free":
            name = name if name in shown else "free.description"
        if name in shown:
            errors.by_field.setdefault(name, problem.message)
        else:
            errors.general.append(f"{problem.field}: {problem.message}" if problem.field else problem.message)
    return errors


def _parsed(invoice: Invoice, values: dict[str, list[str]]) -> tuple[NewCreditNote | None, Asked]:
    asked = _asked(invoice, values)
    if asked.errors:
        return None, asked
    try:
        return NewCreditNote.model_validate(asked.data), asked
    except ValidationError as refused:
        asked.errors = _errors(field_problems(refused.errors()), asked, len(invoice.line_items))
        return None, asked


def _prefilled(invoice: Invoice, everything: bool) -> dict[str, list[str]]:
    """The form's first values: nothing to credit, or (`everything`) every line's quantity left, and
    what is above the amount due to be refunded as far as it can be, the rest to the balance."""
    values: dict[str, list[str]] = {"reason": ["other"]}
    if not everything:
        return values
    for row in _rows(invoice):
        if row.creditable:
            values[f"lines.{row.index}.quantity"] = [str(row.quantity_left)]
    return values


def _form(
    request: PageRequest,
    status: int,
    invoice: Invoice,
    values: dict[str, list[str]],
    errors: FormErrors,
) -> Page:
    invoice.require_status(CREDITABLE_INVOICE_STATUSES, "credit")
    available = invoice.total - invoice.credited_amount
    return render(
        request,
        status,
        "credit_notes/new.html",
        title=f"Issue a credit note on invoice {invoice.number}",
        section="Invoices",
        invoice=invoice,
        rows=_rows(invoice),
        available=available,
        refundable=_refundable(request, invoice),
        reasons=REASONS,
        values=values,
        errors=errors,
        exponent=_exponent(invoice.currency),
        invoice_path=request.org_path("invoices", invoice.id),
        request_key=_text(values, "request_key") or secrets.token_urlsafe(16),
    )


def _refundable(request: PageRequest, invoice: Invoice) -> int:
    return sum(refundable(payment) for payment in _payments(request, invoice))


def _request_of(request: PageRequest, key: str, content: str) -> str | None:
    """A key naming this submission of the form (its `request_key` and what it asks), as the API
    names a request by its `Idempotency-Key`: a form posted twice issues one credit note."""
    if not key:
        return None
    return hashlib.sha256(f"{request.account_id}\n{request.path}\n{key}\n{content}".encode()).hexdigest()


@router.get(OF_INVOICE + "/new")
def new_credit_note(organisation_id: str, invoice_id: str) -> Page:
    request = page_request(router)
    invoice = _invoice(request, invoice_id)
    values = _prefilled(invoice, request.query.get("fill") == "all")
    return _form(request, 200, invoice, values, FormErrors())


@router.post(OF_INVOICE)
def issue_credit_note(organisation_id: str, invoice_id: str) -> Page:
    """The form posted: refused next to its fields, else previewed (nothing stored), else, once the
    preview is confirmed, issued."""
    request = page_request(router)
    invoice = _invoice(request, invoice_id)
    values = request.form
    if request.field("edit") == "yes":  # "Change" on the preview: the form again, as it was filled
        return _form(request, 200, invoice, values, FormErrors())
    new, asked = _parsed(invoice, values)
    if new is None:
        return _form(request, 422, invoice, values, asked.errors)
    services = request.services.credit_notes
    try:
        if request.field("confirmed") != "yes":
            note, after = services.preview(request.account_id, request.org.id, invoice.id, new)
            return _preview(request, invoice, note, after, values)
        issued = services.issue(
            request.account_id,
            request.org.id,
            invoice.id,
            new,
            _request_of(request, request.field("request_key"), new.model_dump_json()),
        )
    except (InvalidInput, Conflict) as refused:
        if isinstance(refused, Conflict) and not refused.problems:
            status, _ = status_of(refused)
            errors = FormErrors(general=[refused.detail])
        else:
            status, _ = status_of(refused)
            errors = _errors(refused.problems, asked, len(invoice.line_items))
            if not errors.by_field and not errors.general:
                errors.general.append(refused.detail)
        return _form(request, status, invoice, values, errors)
    total = money(issued.total, issued.currency, request.org)
    return see_other(
        request.org_path("credit-notes", issued.id),
        f"Credit note {issued.number} of {total} issued on invoice {invoice.number}.",
    )


def _preview(
    request: PageRequest,
    invoice: Invoice,
    note: CreditNote,
    after: Invoice,
    values: dict[str, list[str]],
) -> Page:
    portions: list[tuple[Payment, int]] = []
    if note.refund_amount:
        try:
            portions = allocate_refund(_payments(request, invoice), note.refund_amount)
        except RefundExceedsPayments:  # a payment changed since the preview was computed
            portions = []
    hidden = {
        name: found
        for name, found in values.items()
        if name not in {"csrf_token", "confirmed", "edit"} and found
    }
    return render(
        request,
        200,
        "credit_notes/preview.html",
        title=f"Issue this credit note on invoice {invoice.number}?",
        section="Invoices",
        invoice=invoice,
        note=note,
        after=after,
        portions=portions,
        reasons=REASONS,
        fields=hidden,
        path=request.org_path("invoices", invoice.id, "credit-notes"),
        invoice_path=request.org_path("invoices", invoice.id),
    )


# The list ---------------------------------------------------------------------------------------


@router.get(CREDIT_NOTES)
def list_credit_notes(organisation_id: str) -> Page:
    request = page_request(router)
    customer_id = request.query.get("customer_id", "")
    invoice_id = request.query.get("invoice_id", "")
    cursor = request.query.get("cursor") or None
    page = request.services.credit_notes.list_credit_notes(
        request.account_id, request.org.id, PAGE_SIZE, cursor, invoice_id or None, customer_id or None
    )
    customers_page = request.services.customers.list(
        request.account_id, request.org.id, CUSTOMER_CHOICES, None, None
    )
    customers = list(customers_page.items)
    chosen = _customer_or_none(request, customer_id)
    if chosen is not None and chosen.id not in {customer.id for customer in customers}:
        customers.append(chosen)
    of_invoice: Invoice | None = None
    if invoice_id:
        try:
            of_invoice = _invoice(request, invoice_id)
        except NotFound:
            of_invoice = None
    return render(
        request,
        200,
        "credit_notes/list.html",
        title="Credit notes",
        section=SECTION,
        notes=page.items,
        next_cursor=page.next_cursor,
        cursor=cursor,
        customers=customers,
        more_customers=customers_page.next_cursor is not None,
        customer_id=customer_id,
        chosen=chosen,
        invoice_id=invoice_id,
        of_invoice=of_invoice,
        reasons=REASONS,
    )


# A credit note ----------------------------------------------------------------------------------


def _note(request: PageRequest, credit_note_id: str) -> CreditNote:
    return request.services.credit_notes.get(request.account_id, request.org.id, credit_note_id)


def why_not_voidable(note: CreditNote, invoice: Invoice, customer: Customer | None) -> str | None:
    """Why the service would refuse to void `note` (None: it would void it), by the same rules."""
    try:
        voided_credit_note(note, invoice, note.created_at)
    except CreditNoteNotVoidable as refused:
        return refused.detail
    held = customer.balances.get(note.currency, 0) if customer is not None else 0
    if note.credit_amount and held < note.credit_amount:
        return (
            f"Credit note {note.number} cannot be voided: the customer has spent the credit it gave "
            "to their balance."
        )
    return None


def _detail(request: PageRequest, credit_note_id: str, status: int, refusal: str | None = None) -> Page:
    note = _note(request, credit_note_id)
    invoice = _invoice(request, note.invoice_id)
    customer = _customer_or_none(request, note.customer_id)
    refunds = [
        refund for refund in invoice_refunds(request, note.invoice_id) if refund.credit_note_id == note.id
    ]
    return render(
        request,
        status,
        "credit_notes/detail.html",
        title=f"Credit note {note.number}",
        section=SECTION,
        note=note,
        invoice=invoice,
        customer=customer,
        refunds=refunds,
        reasons=REASONS,
        not_voidable=why_not_voidable(note, invoice, customer),
        refusal=refusal,
        path=request.org_path("credit-notes", note.id),
    )


@router.get(CREDIT_NOTE)
def credit_note_page(organisation_id: str, credit_note_id: str) -> Page:
    request = page_request(router)
    return _detail(request, credit_note_id, 200)


@router.get(CREDIT_NOTE + "/pdf")
def credit_note_pdf(organisation_id: str, credit_note_id: str) -> Page:
    """The credit note's PDF, as the API's `GET …/credit_notes/{id}/pdf` answers it."""
    request = page_request(router)
    file_name, content = request.services.documents.credit_note_pdf(
        request.account_id, request.org.id, credit_note_id
    )
    return Response(
        status_code=200,
        headers={
            "Content-Type": "application/pdf",
            "Content-Disposition": f'inline; filename="{file_name}"',
            "Cache-Control": "private, no-store",
            "X-Content-Type-Options": "nosniff",
        },
        body=content,  # bytes: Powertools answers them base64-encoded, as API Gateway expects
    )


@router.post(CREDIT_NOTE + "/void")
def void_credit_note(organisation_id: str, credit_note_id: str) -> Page:
    request = page_request(router)
    note = _note(request, credit_note_id)
    path = request.org_path("credit-notes", note.id)
    page = confirm(
        request,
        f"Void credit note {note.number}?",
        "Void credit note",
        back=path,
        detail=(
            "What it took off the invoice is due again and the credit it gave is taken back from the "
            "customer's balance. Its number stays used."
        ),
    )
    if page:
        return page
    try:
        request.services.credit_notes.void(request.account_id, request.org.id, note.id)
    except Conflict as refused:
        status, _ = status_of(refused)
        return _detail(request, note.id, status, refusal=refused.detail)
    return see_other(path, f"Credit note {note.number} voided; its number stays used.")
