"""Billing: the customers to bill (with the customers' search), and per customer its open charges,
to draft an invoice from the selected ones or from all of them (the service behind the API's
`POST …/invoices` with `charge_ids` / `include_open_charges`), or to add a charge.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from dashboard.formats import money
from dashboard.forms import FormErrors, FormValues
from dashboard.page_request import PageRequest, page_request
from dashboard.pages.customer_forms import CHARGE, PAGE_SIZE, customer_page, prefixed_fields
from dashboard.rendering import Page, confirm, render, see_other
from remit.domain.charge import NewCharge
from remit.domain.errors import InvalidInput
from remit.domain.invoice import NewInvoice

if TYPE_CHECKING:
    from remit.domain.customer import Customer

router = APIGatewayRouter()


@router.get("/organisations/<organisation_id>/billing")
def billing(organisation_id: str) -> Page:
    request = page_request(router)
    customers_found, next_cursor, search = customer_page(request)
    return render(
        request,
        200,
        "billing/list.html",
        title="Billing",
        section="Billing",
        customers=customers_found,
        next_cursor=next_cursor,
        search=search,
    )


def customer_billing(
    request: PageRequest,
    customer: Customer,
    status: int = 200,
    charge_values: FormValues | None = None,
    charge_errors: FormErrors | None = None,
    draft_error: str | None = None,
) -> Page:

    charges = request.services.charges.list_charges(
        request.account_id,
        request.org.id,
        customer.id,
        PAGE_SIZE,
        request.query.get("charges_cursor") or None,
        "open",
    )
    return render(
        request,
        status,
        "billing/customer.html",
        title=f"Billing {customer.name}",
        section="Billing",
        customer=customer,
        currency=customer.currency,
        charges=charges,
        charge_fields=prefixed_fields(NewCharge, CHARGE),
        charge_values=charge_values or {},
        charge_errors=charge_errors or FormErrors(),
        draft_error=draft_error,
    )


def _customer(request: PageRequest, customer_id: str) -> Customer:
    return request.services.customers.get(request.account_id, request.org.id, customer_id)


@router.get("/organisations/<organisation_id>/billing/<customer_id>")
def billing_customer(organisation_id: str, customer_id: str) -> Page:
    request = page_request(router)
    return customer_billing(request, _customer(request, customer_id))


@router.post("/organisations/<organisation_id>/billing/<customer_id>/draft")
def draft_invoice(organisation_id: str, customer_id: str) -> Page:
    request = page_request(router)

    customer = _customer(request, customer_id)
    back = request.org_path("billing", customer.id)
    every = request.field("include_open_charges") == "true"
    charge_ids = list(dict.fromkeys(value for value in request.form.get("charge_ids", []) if value))
    if not every and not charge_ids:
        return customer_billing(
            request, customer, 422, draft_error="Select at least one charge, or draft from all open charges."
        )
    if every:
        question = f"Draft an invoice to {customer.name} from all open charges?"
    else:
        count = len(charge_ids)
        question = (
            f"Draft an invoice to {customer.name} from {count} selected charge{'s' if count > 1 else ''}?"
        )
    page = confirm(
        request,
        question,
        "Draft invoice",
        back=back,
        detail="The charges move onto a draft invoice, which can still be edited or deleted before it is "
        "finalized.",
    )
    if page:
        return page
    try:
        new = NewInvoice(
            customer_id=customer.id, charge_ids=[] if every else charge_ids, include_open_charges=every
        )
    except ValueError:
        return customer_billing(request, customer, 422, draft_error="Too many charges selected at once.")
    try:
        invoice = request.services.invoices.create_draft(request.account_id, request.org.id, new)
    except InvalidInput as refused:
        messages = "; ".join(problem.message for problem in refused.problems) or refused.detail
        return customer_billing(request, customer, 422, draft_error=messages)

    total = money(invoice.total, invoice.currency, request.org)
    lines = len(invoice.line_items)
    notice = (
        f"Draft invoice for {customer.name} created from {lines} charge{'s' if lines != 1 else ''} ({total})."
    )
    return see_other(request.org_path("invoices", invoice.id), notice)
