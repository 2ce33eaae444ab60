"""Billing: the customers to bill (with the customers' search), and per customer its open charges,
to draft an invoice from the selected ones or from all of them (the service behind the API's
`POST …/invoices` with `charge_ids` / `include_open_charges`), or to add a charge.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dashboard.forms import FormErrors, FormValues
from dashboard.pages.customers import CHARGE, PAGE_SIZE, customer_page, prefixed_fields
from dashboard.web import Page, Request, confirm, render, route, see_other

if TYPE_CHECKING:
    from remit.domain.customer import Customer


@route("GET", "/organisations/{organisation_id}/billing")
def billing(request: Request) -> Page:
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
    request: Request,
    customer: Customer,
    status: int = 200,
    charge_values: FormValues | None = None,
    charge_errors: FormErrors | None = None,
    draft_error: str | None = None,
) -> Page:
    from remit.domain.charge import NewCharge

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


def _customer(request: Request) -> Customer:
    return request.services.customers.get(request.account_id, request.org.id, request.params["customer_id"])


@route("GET", "/organisations/{organisation_id}/billing/{customer_id}")
def billing_customer(request: Request) -> Page:
    return customer_billing(request, _customer(request))


@route("POST", "/organisations/{organisation_id}/billing/{customer_id}/draft")
def draft_invoice(request: Request) -> Page:
    from remit.domain.errors import InvalidInput
    from remit.domain.invoice import NewInvoice

    customer = _customer(request)
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
    from dashboard.web import money

    total = money(invoice.total, invoice.currency, request.org)
    lines = len(invoice.line_items)
    notice = (
        f"Draft invoice for {customer.name} created from {lines} charge{'s' if lines != 1 else ''} ({total})."
    )
    return see_other(request.org_path("invoices", invoice.id), notice)
