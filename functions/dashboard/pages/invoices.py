"""Invoices: the list (by status and customer), new drafts, an invoice's page (lines, totals,
payments and their refunds, credit notes, timeline, PDF) and every action the API has on it (edit,
delete, finalize, send, void, mark uncollectible, record a payment, attempt card; issuing a credit
note is in `credit_notes`).

Each page calls the services the API's routes call (functions/api/routes/invoices.py), with the
API's own input models (`NewInvoice`, `InvoiceChanges`, `NewOfflinePayment`): the same fields,
the same refusals.
"""

from __future__ import annotations

import hashlib
import secrets
import typing
from collections.abc import Callable, Sequence
from dataclasses import replace
from decimal import Decimal
from typing import TYPE_CHECKING

from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from dashboard.einvoices import einvoice_download, einvoice_format_asked
from dashboard.formats import local_date, money
from dashboard.forms import (
    FormErrors,
    FormField,
    FormValues,
    errors_of,
    fields_of,
    filled_rows,
    parse,
    values_of,
)
from dashboard.page_request import PageRequest, page_request, public_base_url
from dashboard.pages.credit_notes import invoice_refunds
from dashboard.rendering import Page, confirm, download, render, see_other
from remit.domain.credit_notes import CREDITABLE_INVOICE_STATUSES
from remit.domain.einvoices import EINVOICE_FORMATS
from remit.domain.errors import Conflict, EinvoiceRefused, InvalidInput, NotFound
from remit.domain.invoice import InvoiceChanges, InvoiceStatus, LineItemInput, NewInvoice
from remit.domain.payment import NewOfflinePayment
from remit.domain.settlement import settle
from remit.domain.values import currency_exponent
from remit.problem_details import status_of

if TYPE_CHECKING:
    from pydantic import BaseModel

    from remit.domain.customer import Customer
    from remit.domain.einvoices import FailedRule
    from remit.domain.errors import DomainError
    from remit.domain.invoice import Invoice, LineItemInput
    from remit.domain.refunds import Refund

router = APIGatewayRouter()

INVOICES = "/organisations/<organisation_id>/invoices"
INVOICE = INVOICES + "/<invoice_id>"
PAGE_SIZE = 25
CREDIT_NOTES_SHOWN = 100
CUSTOMER_CHOICES = 100
SECTION = "Invoices"
ROWS_HELP = "One row per line: a description and a unit amount at least. Empty rows are skipped."


# Helpers ----------------------------------------------------------------------------------------


def _drawn(model: type[BaseModel]) -> tuple[FormField, ...]:
    """The model's form fields as this section draws them: the lines' help, memo and footer as
    text areas.
    """
    drawn: list[FormField] = []
    for form_field in fields_of(model):
        if form_field.kind == "rows":
            form_field = replace(form_field, help=ROWS_HELP)
        elif form_field.name in {"memo", "footer"}:
            form_field = replace(form_field, kind="textarea")
        drawn.append(form_field)
    return tuple(drawn)


def _statuses() -> tuple[str, ...]:

    return tuple(str(status) for status in typing.get_args(InvoiceStatus))


def _exponent(currency: str) -> int:

    try:
        return currency_exponent(currency)
    except (ValueError, KeyError):
        return 2


def _label(invoice: Invoice) -> str:
    return invoice.number or "the draft"


def _invoice(request: PageRequest, invoice_id: str) -> Invoice:
    return request.services.invoices.get(request.account_id, request.org.id, invoice_id)


def _invoice_path(request: PageRequest, invoice_id: str) -> str:
    return request.org_path("invoices", invoice_id)


def _customer_choices(request: PageRequest) -> tuple[list[Customer], bool]:
    """The first page of the organisation's customers (for a select) and whether there are more."""

    page = request.services.customers.list(request.account_id, request.org.id, CUSTOMER_CHOICES, None, None)
    return page.items, page.next_cursor is not None


def _customer_or_none(request: PageRequest, customer_id: str) -> Customer | None:

    if not customer_id:
        return None
    try:
        return request.services.customers.get(request.account_id, request.org.id, customer_id)
    except NotFound:
        return None


def _refused_here(request: PageRequest, invoice_id: str, refused: DomainError) -> Page:
    """The invoice's page again with the API's refusal on top, at the refusal's status (an
    e-invoice's failed rules in its card, each next to the field that causes it)."""

    status, _ = status_of(refused)
    if isinstance(refused, EinvoiceRefused):
        return _detail(request, invoice_id, status, refusal=refused.detail, failed_rules=refused.failed_rules)
    return _detail(request, invoice_id, status, refusal=refused.detail)


# The list ---------------------------------------------------------------------------------------


@router.get(INVOICES)
def list_invoices(organisation_id: str) -> Page:
    request = page_request(router)
    status = request.query.get("status", "")
    if status not in _statuses():
        status = ""
    customer_id = request.query.get("customer_id", "")
    cursor = request.query.get("cursor") or None
    page = request.services.invoices.list_invoices(
        request.account_id, request.org.id, PAGE_SIZE, cursor, status or None, customer_id or None
    )
    customers, more_customers = _customer_choices(request)
    names = {customer.id: customer.name for customer in customers}
    for invoice in page.items:
        if invoice.customer_id not in names and not invoice.customer_name:
            found = _customer_or_none(request, invoice.customer_id)
            names[invoice.customer_id] = found.name if found else invoice.customer_id
    chosen = _customer_or_none(request, customer_id) if customer_id else None
    if chosen is not None and chosen.id not in {customer.id for customer in customers}:
        customers = [*customers, chosen]
    return render(
        request,
        200,
        "invoices/list.html",
        title="Invoices",
        section=SECTION,
        invoices=page.items,
        next_cursor=page.next_cursor,
        cursor=cursor,
        filter_status=status,
        statuses=_statuses(),
        customer_id=customer_id,
        chosen=chosen,
        customers=customers,
        more_customers=more_customers,
        names=names,
    )


# A new draft ------------------------------------------------------------------------------------


@router.get(INVOICES + "/new")
def new_invoice(organisation_id: str) -> Page:
    request = page_request(router)
    values: FormValues = {}
    customer_id = request.query.get("customer_id", "")
    if customer_id:
        values["customer_id"] = [customer_id]
    return _new_form(request, 200, values, FormErrors())


def _new_currency(request: PageRequest, values: FormValues) -> str:
    """The currency amounts are typed in: the one given, else the customer's, else the organisation's."""
    given = (values.get("currency") or [""])[-1].strip().upper()
    if given:
        return given
    customer = _customer_or_none(request, (values.get("customer_id") or [""])[-1].strip())
    return customer.currency if customer is not None else request.org.default_currency


def _new_form(request: PageRequest, status: int, values: FormValues, errors: FormErrors) -> Page:

    customers, more_customers = _customer_choices(request)
    chosen_id = (values.get("customer_id") or [""])[-1]
    if chosen_id and chosen_id not in {customer.id for customer in customers}:
        chosen = _customer_or_none(request, chosen_id)
        if chosen is not None:
            customers = [*customers, chosen]
    form_fields = _drawn(NewInvoice)
    return render(
        request,
        status,
        "invoices/new.html",
        title="New invoice",
        section=SECTION,
        customer_field=next(f for f in form_fields if f.name == "customer_id"),
        form_fields=tuple(f for f in form_fields if f.name != "customer_id"),
        customers=customers,
        more_customers=more_customers,
        values=values,
        errors=errors,
        currency=_new_currency(request, values),
    )


@router.post(INVOICES)
def create_invoice(organisation_id: str) -> Page:
    request = page_request(router)

    new, errors = parse(NewInvoice, request.form, _exponent(_new_currency(request, request.form)))
    if new is not None:
        try:
            invoice = request.services.invoices.create_draft(request.account_id, request.org.id, new)
        except InvalidInput as refused:
            errors = errors_of(refused.problems, fields_of(NewInvoice), request.form)
        else:
            return see_other(
                _invoice_path(request, invoice.id),
                f"Draft created for {money(invoice.total, invoice.currency, request.org)}.",
            )
    return _new_form(request, 422, request.form, errors)


# An invoice -------------------------------------------------------------------------------------


@router.get(INVOICE)
def invoice_page(organisation_id: str, invoice_id: str) -> Page:
    request = page_request(router)
    return _detail(request, invoice_id, 200)


def _detail(
    request: PageRequest,
    invoice_id: str,
    status: int,
    refusal: str | None = None,
    failed_rules: Sequence[FailedRule] = (),
) -> Page:
    invoice = _invoice(request, invoice_id)
    org = request.org
    payments = request.services.payments.list_payments(
        request.account_id, org.id, 100, None, invoice.id, None
    )
    events = request.services.invoices.events(request.account_id, org.id, invoice.id)
    customer = _customer_or_none(request, invoice.customer_id)
    credit_notes = request.services.credit_notes.of_invoice(
        request.account_id, org.id, invoice.id, CREDIT_NOTES_SHOWN, None
    )
    refunds: dict[str, list[Refund]] = {}
    # Refunds come from credit notes (and one that refunded cannot be voided): none to read without.
    if invoice.credited_amount or any(payment.amount_refunded for payment in payments.items):
        for refund in invoice_refunds(request, invoice.id):
            refunds.setdefault(refund.payment_id, []).append(refund)
    return render(
        request,
        status,
        "invoices/detail.html",
        title=f"Invoice {invoice.number}" if invoice.number else "Draft invoice",
        section=SECTION,
        invoice=invoice,
        customer=customer,
        payments=payments.items,
        more_payments=payments.next_cursor is not None,
        refunds=refunds,
        credit_notes=credit_notes.items,
        more_credit_notes=credit_notes.next_cursor is not None,
        creditable=invoice.status in CREDITABLE_INVOICE_STATUSES and invoice.credited_amount < invoice.total,
        events=events,
        refusal=refusal,
        failed_rules=failed_rules,
        einvoice_formats=EINVOICE_FORMATS,
        path=_invoice_path(request, invoice.id),
    )


@router.get(INVOICE + "/pdf")
def invoice_pdf(organisation_id: str, invoice_id: str) -> Page:
    """The PDF, as the API's `GET …/pdf` answers it (API Gateway's binary media types include
    application/pdf, so the base64 body reaches the browser as bytes).
    """
    request = page_request(router)
    file_name, content = request.services.documents.pdf(request.account_id, request.org.id, invoice_id)
    return download(content, "application/pdf", file_name, inline=True)


@router.get(INVOICE + "/einvoice")
def invoice_einvoice(organisation_id: str, invoice_id: str) -> Page:
    """The e-invoice, as the API's `GET …/einvoice?format=…` answers it."""
    request = page_request(router)
    einvoice = request.services.einvoices.invoice_einvoice(
        request.account_id, request.org.id, invoice_id, einvoice_format_asked(request)
    )
    return einvoice_download(einvoice)


# Editing a draft --------------------------------------------------------------------------------


@router.get(INVOICE + "/edit")
def edit_invoice(organisation_id: str, invoice_id: str) -> Page:
    request = page_request(router)

    invoice = _invoice(request, invoice_id)
    invoice.require_status("draft", "edit")
    fields = fields_of(InvoiceChanges)
    values = values_of(
        {
            "line_items": [line.model_dump(mode="json") for line in invoice.line_items],
            "due_date": None if invoice.days_until_due is not None else invoice.due_date.isoformat(),
            "days_until_due": invoice.days_until_due,
            "delivery_date": invoice.delivery_date.isoformat() if invoice.delivery_date else None,
            "memo": invoice.memo,
            "footer": invoice.footer,
        },
        fields,
        _exponent(invoice.currency),
    )
    return _edit_form(request, 200, invoice, values, FormErrors())


def _edit_form(
    request: PageRequest, status: int, invoice: Invoice, values: FormValues, errors: FormErrors
) -> Page:

    return render(
        request,
        status,
        "invoices/edit.html",
        title="Edit draft invoice",
        section=SECTION,
        invoice=invoice,
        form_fields=_drawn(InvoiceChanges),
        values=values,
        errors=errors,
        currency=invoice.currency,
        path=_invoice_path(request, invoice.id),
    )


def _kept_lines(invoice: Invoice, values: FormValues, lines: list[LineItemInput]) -> list[LineItemInput]:
    """The parsed lines with each unchanged existing line as `{"id": …}`, which keeps it (and the
    charge it bills) as the API's PATCH does; a changed line is sent as new content.
    """

    filled = filled_rows(fields_of(InvoiceChanges), values)["line_items"]
    existing = {line.id: line for line in invoice.line_items}
    kept: list[LineItemInput] = []
    for index, line in zip(filled, lines, strict=False):
        line_id = (values.get(f"line_items.{index}.id") or [""])[-1]
        old = existing.get(line_id)
        unchanged = old is not None and (
            line.description == old.description
            and Decimal(line.quantity) == old.quantity
            and line.unit_amount == old.unit_amount
            and (line.tax_rate is None or Decimal(line.tax_rate) == old.tax_rate)
            and (line.vat_category is None or line.vat_category == old.vat_category)
            and line.exemption_reason == old.exemption_reason
            and line.unit_code == old.unit_code
        )
        kept.append(LineItemInput(id=line_id) if unchanged else line)
    return kept


@router.post(INVOICE + "/edit")
def update_invoice(organisation_id: str, invoice_id: str) -> Page:
    request = page_request(router)

    invoice = _invoice(request, invoice_id)
    changes, errors = parse(InvoiceChanges, request.form, _exponent(invoice.currency), blank="null")
    if changes is not None:
        if changes.line_items is not None:
            kept = _kept_lines(invoice, request.form, changes.line_items)
            changes = changes.model_copy(update={"line_items": kept})
        try:
            saved = request.services.invoices.update_draft(
                request.account_id, request.org.id, invoice.id, changes
            )
        except InvalidInput as refused:
            errors = errors_of(refused.problems, fields_of(InvoiceChanges), request.form)
        else:
            return see_other(
                _invoice_path(request, invoice.id),
                f"Draft saved: {len(saved.line_items)} line(s), total "
                f"{money(saved.total, saved.currency, request.org)}, "
                f"due {local_date(saved.due_date, request.org)}.",
            )
    return _edit_form(request, 422, invoice, request.form, errors)


# One-click actions ------------------------------------------------------------------------------


def _one_click(
    request: PageRequest,
    invoice_id: str,
    question: str,
    button: str,
    act: Callable[[], Invoice | None],
    notice: Callable[[Invoice | None], str],
    detail: str = "",
    then: str | None = None,
) -> Page:
    """An invoice's one-click action: confirmed first, then `act` (a service call); its notice on
    `then` (the invoice's page by default), or the invoice's page with the API's refusal.
    """
    path = _invoice_path(request, invoice_id)
    page = confirm(request, question, button, back=path, detail=detail)
    if page:
        return page
    try:
        done = act()
    except (Conflict, EinvoiceRefused) as refused:
        return _refused_here(request, invoice_id, refused)
    return see_other(then or path, notice(done))


@router.post(INVOICE + "/delete")
def delete_invoice(organisation_id: str, invoice_id: str) -> Page:
    request = page_request(router)
    invoice = _invoice(request, invoice_id)
    total = money(invoice.total, invoice.currency, request.org)
    return _one_click(
        request,
        invoice.id,
        f"Delete this draft of {total}?",
        "Delete draft",
        lambda: request.services.invoices.delete_draft(request.account_id, request.org.id, invoice.id),
        lambda _: f"Draft of {total} deleted.",
        detail="It cannot be undone.",
        then=request.org_path("invoices"),
    )


@router.post(INVOICE + "/finalize")
def finalize_invoice(organisation_id: str, invoice_id: str) -> Page:
    request = page_request(router)
    invoice = _invoice(request, invoice_id)
    return _one_click(
        request,
        invoice.id,
        f"Finalize and lock this invoice of {money(invoice.total, invoice.currency, request.org)}?",
        "Finalize & lock",
        lambda: request.services.invoice_lifecycle.finalize(
            request.account_id, request.org.id, invoice.id, public_base_url(request)
        ),
        lambda done: f"Invoice {_number(done)} finalized: it is {_status(done)} and locked.",
        detail="It gets its number and can no longer be edited; the customer's credit balance is applied.",
    )


@router.post(INVOICE + "/send")
def send_invoice(organisation_id: str, invoice_id: str) -> Page:
    request = page_request(router)
    invoice = _invoice(request, invoice_id)
    again = " again" if invoice.sent_at else ""
    question = (
        "Finalize this draft and email it to the customer?"
        if invoice.status == "draft"
        else f"Email invoice {invoice.number} to the customer{again}?"
    )
    return _one_click(
        request,
        invoice.id,
        question,
        "Send",
        lambda: request.services.sending.send(
            request.account_id, request.org.id, invoice.id, public_base_url(request)
        ),
        lambda sent: f"Invoice {_number(sent)} sent{again} to the customer's billing recipients.",
    )


@router.post(INVOICE + "/void")
def void_invoice(organisation_id: str, invoice_id: str) -> Page:
    request = page_request(router)
    invoice = _invoice(request, invoice_id)
    return _one_click(
        request,
        invoice.id,
        f"Void invoice {_label(invoice)}?",
        "Void invoice",
        lambda: request.services.invoice_lifecycle.void(request.account_id, request.org.id, invoice.id),
        lambda done: f"Invoice {_number(done)} voided.",
        detail="What was paid and the credit applied go back to the customer's credit balance.",
    )


@router.post(INVOICE + "/mark-uncollectible")
def mark_uncollectible(organisation_id: str, invoice_id: str) -> Page:
    request = page_request(router)
    invoice = _invoice(request, invoice_id)
    return _one_click(
        request,
        invoice.id,
        f"Mark invoice {_label(invoice)} uncollectible?",
        "Mark uncollectible",
        lambda: request.services.invoice_lifecycle.mark_uncollectible(
            request.account_id, request.org.id, invoice.id
        ),
        lambda done: f"Invoice {_number(done)} marked uncollectible.",
    )


@router.post(INVOICE + "/charge")
def attempt_card(organisation_id: str, invoice_id: str) -> Page:
    request = page_request(router)
    invoice = _invoice(request, invoice_id)
    due = money(invoice.amount_due, invoice.currency, request.org)
    return _one_click(
        request,
        invoice.id,
        f"Charge {due} to the customer's saved card for invoice {_label(invoice)}?",
        "Charge card",
        lambda: request.services.card_payments.attempt_card(request.account_id, request.org.id, invoice.id),
        lambda done: f"Card charge of {due} started for invoice {_number(done)}.",
        detail="The card provider answers later: the payment shows here once it succeeds.",
    )


def _number(invoice: Invoice | None) -> str:
    return str(invoice.number) if invoice else ""


def _status(invoice: Invoice | None) -> str:
    return invoice.status if invoice else ""


# Recording a payment ----------------------------------------------------------------------------


@router.get(INVOICE + "/payments/new")
def new_payment(organisation_id: str, invoice_id: str) -> Page:
    request = page_request(router)

    invoice = _invoice(request, invoice_id)
    invoice.require_status("open", "record a payment on")
    values = values_of(
        {"amount": invoice.amount_due, "method": "bank_transfer"},
        fields_of(NewOfflinePayment),
        _exponent(invoice.currency),
    )
    return _payment_form(request, 200, invoice, values, FormErrors())


def _payment_form(
    request: PageRequest, status: int, invoice: Invoice, values: FormValues, errors: FormErrors
) -> Page:

    return render(
        request,
        status,
        "invoices/payment.html",
        title=f"Record a payment on invoice {invoice.number}",
        section=SECTION,
        invoice=invoice,
        form_fields=fields_of(NewOfflinePayment),
        values=values,
        errors=errors,
        currency=invoice.currency,
        path=_invoice_path(request, invoice.id),
        request_key=request.field("request_key") or secrets.token_urlsafe(16),
    )


def _request_of(request: PageRequest, key: str, content: str) -> str | None:
    """A key naming this submission of a form (its `request_key`, drawn when the form was shown,
    and what it asks), as the API names a request by its `Idempotency-Key`: a form posted twice
    (a double click, a reload) records its payment once.
    """
    if not key:
        return None
    path = str(request.event.get("path") or "")
    return hashlib.sha256(f"{request.account_id}\n{path}\n{key}\n{content}".encode()).hexdigest()


@router.post(INVOICE + "/payments")
def record_payment(organisation_id: str, invoice_id: str) -> Page:
    request = page_request(router)

    invoice = _invoice(request, invoice_id)
    path = _invoice_path(request, invoice.id)
    new, errors = parse(NewOfflinePayment, request.form, _exponent(invoice.currency))
    if new is None:
        return _payment_form(request, 422, invoice, request.form, errors)
    amount = money(new.amount, invoice.currency, request.org)
    excess = settle(invoice.amount_due, new.amount, invoice.currency).excess.amount
    detail = (
        f"{money(excess, invoice.currency, request.org)} more than the amount due: the excess goes to "
        "the customer's credit balance."
        if excess > 0 and invoice.status == "open"
        else ""
    )
    page = confirm(
        request,
        f"Record a payment of {amount} ({new.method.replace('_', ' ')}) on invoice {_label(invoice)}?",
        "Record payment",
        back=request.org_path("invoices", invoice.id, "payments", "new"),
        detail=detail,
    )
    if page:
        return page
    try:
        paid, _ = request.services.payments.record_offline_payment(
            request.account_id,
            request.org.id,
            invoice.id,
            new,
            _request_of(request, request.field("request_key"), new.model_dump_json()),
        )
    except InvalidInput as refused:
        errors = errors_of(refused.problems, fields_of(NewOfflinePayment))
        return _payment_form(request, 422, invoice, request.form, errors)
    except Conflict as refused:
        return _refused_here(request, invoice_id, refused)
    left = money(paid.amount_due, paid.currency, request.org)
    outcome = "it is paid" if paid.status == "paid" else f"{left} is still due"
    return see_other(path, f"Payment of {amount} recorded on invoice {paid.number}: {outcome}.")
