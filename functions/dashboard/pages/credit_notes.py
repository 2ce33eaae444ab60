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
import secrets
from typing import TYPE_CHECKING

from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from dashboard.einvoices import einvoice_download, einvoice_format_asked, einvoice_refusal
from dashboard.formats import money
from dashboard.forms import FormErrors
from dashboard.page_request import PageRequest, page_request
from dashboard.pages.credit_note_form import (
    REASONS,
    line_rows,
    parsed,
    posted,
    prefilled,
    refusals,
)
from dashboard.rendering import Page, confirm, download, render, see_other
from remit.domain.credit_notes import (
    CREDITABLE_INVOICE_STATUSES,
    CreditNoteNotVoidable,
    voided_credit_note,
)
from remit.domain.einvoices import EINVOICE_FORMATS
from remit.domain.errors import Conflict, EinvoiceRefused, InvalidInput, NotFound
from remit.domain.refunds import RefundExceedsPayments, allocate_refund, refundable
from remit.problem_details import status_of

if TYPE_CHECKING:
    from remit.domain.credit_notes import CreditNote
    from remit.domain.customer import Customer
    from remit.domain.invoice import Invoice
    from remit.domain.payment import Payment
    from remit.domain.refunds import Refund

router = APIGatewayRouter()

CREDIT_NOTES = "/organisations/<organisation_id>/credit-notes"
CREDIT_NOTE = CREDIT_NOTES + "/<credit_note_id>"
OF_INVOICE = "/organisations/<organisation_id>/invoices/<invoice_id>/credit-notes"
PAGE_SIZE = 25
CUSTOMER_CHOICES = 100
SECTION = "Credit notes"


# Helpers ----------------------------------------------------------------------------------------


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
        rows=line_rows(invoice),
        available=available,
        refundable=_refundable(request, invoice),
        reasons=REASONS,
        values=values,
        errors=errors,
        invoice_path=request.org_path("invoices", invoice.id),
        request_key=posted(values, "request_key") or secrets.token_urlsafe(16),
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
    values = prefilled(invoice, request.query.get("fill") == "all")
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
    new, asked = parsed(invoice, values)
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
        # The service's refusal next to the fields it names; one naming none above the form. An
        # e-invoice's failed rules name the customer's or organisation's fields: each above it.
        status, _ = status_of(refused)
        if isinstance(refused, EinvoiceRefused):
            return _form(request, status, invoice, values, FormErrors(general=einvoice_refusal(refused)))
        errors = refusals(refused.problems, asked, len(invoice.line_items))
        if not errors:
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
        except RefundExceedsPayments:  # the payments changed since the service's preview read them
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


def _why_not_voidable(
    request: PageRequest, note: CreditNote, invoice: Invoice, customer: Customer | None
) -> str | None:
    """Why the service would refuse to void `note`, in the page's words (None: it would void it):
    the domain's rule decides, with the customer's balance as the service reads it."""
    held = customer.balances.get(note.currency, 0) if customer is not None else 0
    try:
        voided_credit_note(note, invoice, note.created_at, credit_held=held)
    except CreditNoteNotVoidable as refused:
        paid_back = note.refund_amount + note.out_of_band_amount
        if note.status == "void":
            return "It is void; its number stays used."
        if paid_back and invoice.status in CREDITABLE_INVOICE_STATUSES:
            amount = money(paid_back, note.currency, request.org)
            return (
                f"It cannot be voided: {amount} of it was paid back to the customer (refunded or "
                "settled outside Remit), and that money cannot be taken back."
            )
        if note.credit_amount > held:
            amount = money(note.credit_amount, note.currency, request.org)
            return (
                f"It cannot be voided: the customer has spent the {amount} of credit it gave to "
                "their balance."
            )
        return refused.detail
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
        not_voidable=_why_not_voidable(request, note, invoice, customer),
        refusal=refusal,
        einvoice_formats=EINVOICE_FORMATS,
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
    return download(content, "application/pdf", file_name, inline=True)


@router.get(CREDIT_NOTE + "/einvoice")
def credit_note_einvoice(organisation_id: str, credit_note_id: str) -> Page:
    """The credit note's e-invoice, as the API's `GET …/credit_notes/{id}/einvoice` answers it."""
    request = page_request(router)
    einvoice = request.services.einvoices.credit_note_einvoice(
        request.account_id, request.org.id, credit_note_id, einvoice_format_asked(request)
    )
    return einvoice_download(einvoice)


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
