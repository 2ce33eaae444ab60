"""Billing templates: the list, a new one, its page, its edit form, delete, and one invoice sent from
it to a customer.

Everything goes through `request.services.billing_runs`, as the API's `/billing_templates` routes do.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from dashboard.forms import FormErrors, FormField, FormValues, errors_of, fields_of, parse, values_of
from dashboard.page_request import PageRequest, page_request, public_base_url
from dashboard.pages.recurring import customer_choices, exponent_of
from dashboard.rendering import Page, confirm, query_string, render, see_other
from remit.domain.billing_template import BillingTemplateChanges, NewBillingTemplate, TemplateInvoiceRequest
from remit.domain.errors import InvalidInput, NotFound
from remit.domain.money import line_amount

if TYPE_CHECKING:
    from remit.domain.billing_template import BillingTemplate

router = APIGatewayRouter()

SECTION = "Templates"
PAGE_SIZE = 20
_INVOICE_ID = r"^inv_[A-Za-z0-9]{1,60}$"


@router.get("/organisations/<organisation_id>/templates")
def templates(organisation_id: str) -> Page:
    request = page_request(router)

    cursor = request.query.get("cursor") or None
    page = request.services.billing_runs.list_templates(request.account_id, request.org.id, PAGE_SIZE, cursor)
    amounts = {
        found.id: sum(line_amount(line.unit_amount, line.quantity) for line in found.line_items)
        for found in page.items
    }
    return render(
        request,
        200,
        "billing_templates/list.html",
        title="Billing templates",
        section=SECTION,
        templates=page.items,
        amounts=amounts,
        next_link=query_string(cursor=page.next_cursor) if page.next_cursor else None,
        first_page=cursor is None,
    )


@router.get("/organisations/<organisation_id>/templates/new")
def new_template(organisation_id: str) -> Page:
    request = page_request(router)
    return _new_form(request, 200, {"currency": [request.org.default_currency]}, FormErrors())


@router.post("/organisations/<organisation_id>/templates/new")
def create_template(organisation_id: str) -> Page:
    request = page_request(router)

    new, errors = parse(NewBillingTemplate, request.form, exponent_of(_typed_currency(request.form)))
    if new is not None:
        try:
            created = request.services.billing_runs.create_template(request.account_id, request.org.id, new)
        except InvalidInput as refused:
            errors = errors_of(refused.problems, fields_of(NewBillingTemplate))
        else:
            return see_other(request.org_path("templates", created.id), f"Template {created.name} created.")
    return _new_form(request, 422, request.form, errors)


def _new_form(request: PageRequest, status: int, values: FormValues, errors: FormErrors) -> Page:

    return render(
        request,
        status,
        "form_page.html",
        title="New billing template",
        section=SECTION,
        heading="New billing template",
        action=request.org_path("templates", "new"),
        button="Create template",
        back=request.org_path("templates"),
        form_fields=fields_of(NewBillingTemplate),
        values=values,
        errors=errors,
        currency=_typed_currency(values) or request.org.default_currency,
    )


def _typed_currency(values: FormValues) -> str:
    return (values.get("currency") or [""])[-1].strip().upper()


@router.get("/organisations/<organisation_id>/templates/<template_id>")
def template(organisation_id: str, template_id: str) -> Page:
    request = page_request(router)

    found = _template(request, template_id)
    values: FormValues = {}
    if request.query.get("customer_id"):
        values["customer_id"] = [request.query["customer_id"]]
    return _page(request, 200, found, fields_of(TemplateInvoiceRequest), values, FormErrors())


def _page(
    request: PageRequest,
    status: int,
    found: BillingTemplate,
    send_fields: tuple[FormField, ...],
    values: FormValues,
    errors: FormErrors,
) -> Page:

    sent = request.query.get("sent", "")
    return render(
        request,
        status,
        "billing_templates/detail.html",
        title=f"Template {found.name}",
        section=SECTION,
        billing_template=found,
        here=request.org_path("templates", found.id),
        send_fields=send_fields,
        values=values,
        errors=errors,
        choices={"customer_id": customer_choices(request, found.currency)},
        sent=sent if re.match(_INVOICE_ID, sent) else None,
        currency=found.currency,
    )


@router.get("/organisations/<organisation_id>/templates/<template_id>/edit")
def edit_template(organisation_id: str, template_id: str) -> Page:
    request = page_request(router)

    found = _template(request, template_id)
    values = values_of(found, fields_of(BillingTemplateChanges), exponent_of(found.currency))
    return _edit_form(request, 200, found, values, FormErrors())


@router.post("/organisations/<organisation_id>/templates/<template_id>/edit")
def update_template(organisation_id: str, template_id: str) -> Page:
    request = page_request(router)

    found = _template(request, template_id)
    currency = _typed_currency(request.form) or found.currency
    changes, errors = parse(BillingTemplateChanges, request.form, exponent_of(currency), blank="null")
    if changes is not None:
        try:
            saved = request.services.billing_runs.update_template(
                request.account_id, request.org.id, found.id, changes
            )
        except InvalidInput as refused:
            errors = errors_of(refused.problems, fields_of(BillingTemplateChanges))
        else:
            return see_other(request.org_path("templates", found.id), f"Template {saved.name} saved.")
    return _edit_form(request, 422, found, request.form, errors)


def _edit_form(
    request: PageRequest, status: int, found: BillingTemplate, values: FormValues, errors: FormErrors
) -> Page:

    return render(
        request,
        status,
        "form_page.html",
        title=f"Edit template {found.name}",
        section=SECTION,
        heading=f"Edit template {found.name}",
        action=request.org_path("templates", found.id, "edit"),
        button="Save template",
        back=request.org_path("templates", found.id),
        form_fields=fields_of(BillingTemplateChanges),
        values=values,
        errors=errors,
        currency=_typed_currency(values) or found.currency,
    )


@router.post("/organisations/<organisation_id>/templates/<template_id>/delete")
def delete_template(organisation_id: str, template_id: str) -> Page:
    request = page_request(router)
    found = _template(request, template_id)
    page = confirm(
        request,
        f"Delete template {found.name}?",
        "Delete template",
        request.org_path("templates", found.id),
        "Invoices already sent from it stay as they are.",
    )
    if page:
        return page
    request.services.billing_runs.delete_template(request.account_id, request.org.id, found.id)
    return see_other(request.org_path("templates"), f"Template {found.name} deleted.")


@router.post("/organisations/<organisation_id>/templates/<template_id>/send")
def send_invoice(organisation_id: str, template_id: str) -> Page:
    request = page_request(router)

    found = _template(request, template_id)
    fields = fields_of(TemplateInvoiceRequest)
    asked, errors = parse(TemplateInvoiceRequest, request.form)
    if asked is not None:
        page = confirm(
            request,
            f"Send an invoice from template {found.name} to {_customer_name(request, asked.customer_id)}?",
            "Finalize & send invoice",
            request.org_path("templates", found.id),
            "The invoice is numbered, locked and emailed to the customer at once.",
        )
        if page:
            return page
        try:
            invoice = request.services.billing_runs.send_template_invoice(
                request.account_id, request.org.id, found.id, asked.customer_id, public_base_url(request)
            )
        except InvalidInput as refused:
            errors = errors_of(refused.problems, fields)
        else:
            return see_other(
                request.org_path("templates", found.id) + query_string(sent=invoice.id),
                f"Invoice {invoice.number} sent to {invoice.customer_name or invoice.customer_id}.",
            )
    return _page(request, 422, found, fields, request.form, errors)


def _template(request: PageRequest, template_id: str) -> BillingTemplate:
    return request.services.billing_runs.template(request.account_id, request.org.id, template_id)


def _customer_name(request: PageRequest, customer_id: str) -> str:

    try:
        return request.services.customers.get(request.account_id, request.org.id, customer_id).name
    except NotFound:
        return customer_id
