"""Customers: the list (with the search by name prefix or external id), a new customer (a page, or a
dialog on the list with htmx), the profile (every field, open charges, invoices, the credit balance
of each currency and its ledger, credit notes, its timeline of changes), the edit form, and the
one-click changes (delete a customer, delete a charge).

Every form is drawn from the API's own input model (`NewCustomer`, `CustomerChanges`, `NewCharge`,
`NewBalanceTransaction`) and calls the service the API calls.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any, Literal

from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from pydantic import ValidationError

from dashboard.formats import money
from dashboard.forms import (
    FormErrors,
    FormField,
    FormValues,
    field_problems,
    fields_of,
    parse,
    values_of,
)
from dashboard.page_request import PageRequest, page_request, public_base_url
from dashboard.pages.billing import customer_billing
from dashboard.pages.customer_forms import (
    CHARGE,
    CREDIT,
    PAGE_SIZE,
    customer_page,
    parse_prefixed,
    prefixed_fields,
    refused_fields,
    status_of,
)
from dashboard.rendering import Page, confirm, render, see_other
from remit.domain.charge import NewCharge
from remit.domain.customer import CustomerChanges, NewCustomer
from remit.domain.errors import DomainError
from remit.domain.payment import NewBalanceTransaction
from remit.domain.values import currency_exponent

if TYPE_CHECKING:
    from pydantic import BaseModel

    from remit.domain.customer import Customer
    from remit.domain.portal import IssuedLink

router = APIGatewayRouter()

# Metadata (a mapping) is typed as `key: value` lines and is not one of forms' kinds.
METADATA = "metadata"


def exponent_of(currency: str) -> int:
    return currency_exponent(currency)


# Metadata as lines ----------------------------------------------------------------------------


def _metadata_text(metadata: dict[str, str]) -> str:
    return "\n".join(f"{key}: {value}" for key, value in metadata.items())


def _metadata_of(text: str) -> dict[str, str] | str:
    """`key: value` lines as a mapping, or the line that is not one."""
    found: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        key, colon, value = line.partition(":")
        if not colon:
            return line
        found[key.strip()] = value.strip()
    return found


def _form_fields(model: type[BaseModel]) -> tuple[FormField, ...]:
    return tuple(f for f in fields_of(model) if f.name != METADATA)


CONTACTS = "contacts."


def _row_index(name: str) -> int | None:
    index = name[len(CONTACTS) :].split(".", 1)[0] if name.startswith(CONTACTS) else ""
    return int(index) if index.isdigit() else None


def _without_blank_contacts(form: FormValues) -> FormValues:
    """The form without the contact rows nothing was typed in: a blank row still posts its
    preferences' presence marker (and, on the edit form, the id of the contact it showed), which
    alone would make a contact without an email.
    """
    typed = {
        _row_index(name)
        for name, posted in form.items()
        if not name.endswith((".present", ".id")) and any(value.strip() for value in posted)
    }
    return {name: posted for name, posted in form.items() if _row_index(name) in typed | {None}}


def _contact_ids(form: FormValues) -> list[str]:
    """The ids the kept contact rows carry (the edit form's hidden `contacts.N.id`), in row order."""
    rows = sorted({index for name in form if (index := _row_index(name)) is not None})
    return [(form.get(f"{CONTACTS}{index}.id") or [""])[-1] for index in rows]


def _parse_customer[M: BaseModel](
    model: type[M], form: FormValues, blank: Literal["omit", "null"]
) -> tuple[M | None, FormErrors]:
    """The customer form as the model: the fields forms draws, the metadata lines, and the ids
    that keep the contacts an edit leaves in place.
    """

    form = _without_blank_contacts(form)
    parsed, errors = parse(model, {name: v for name, v in form.items() if name != METADATA}, 2, blank)
    extra: dict[str, Any] = {}
    posted = form.get(METADATA)
    if posted is not None:
        metadata = _metadata_of(posted[-1])
        if isinstance(metadata, str):
            errors.by_field[METADATA] = f"write one 'key: value' a line ('{metadata[:40]}' has no colon)"
            return None, errors
        if metadata or blank == "null":
            extra[METADATA] = metadata
    ids = _contact_ids(form)
    if parsed is None or (not extra and not any(ids)):
        return parsed, errors
    data = parsed.model_dump(exclude_unset=True)
    for row, contact_id in zip(data.get("contacts") or [], ids, strict=False):
        if contact_id:
            row["id"] = contact_id
    data.update(extra)
    try:
        return model.model_validate(data), errors
    except ValidationError as refused:
        refusals = FormErrors()
        for problem in field_problems(refused):
            if problem.field.startswith(METADATA):
                refusals.by_field.setdefault(METADATA, problem.message)
            else:
                refusals.general.append(f"{problem.field}: {problem.message}")
        return None, refusals


# List -------------------------------------------------------------------------------------------


@router.get("/organisations/<organisation_id>/customers")
def customers(organisation_id: str) -> Page:
    request = page_request(router)
    customers_found, next_cursor, search = customer_page(request)
    return render(
        request,
        200,
        "customers/list.html",
        title="Customers",
        section="Customers",
        customers=customers_found,
        next_cursor=next_cursor,
        search=search,
    )


# New --------------------------------------------------------------------------------------------


def _new_form(request: PageRequest, status: int, values: FormValues, errors: FormErrors) -> Page:

    values = {"currency": [request.org.default_currency], **values}
    context: dict[str, Any] = {
        "title": "New customer",
        "section": "Customers",
        "form_fields": _form_fields(NewCustomer),
        "values": values,
        "errors": errors,
        "currency": None,
    }
    if request.htmx and status == 200:
        return render(request, status, "customers/new_dialog.html", **context)
    return render(request, status, "customers/new.html", **context)


@router.get("/organisations/<organisation_id>/customers/new")
def new_customer(organisation_id: str) -> Page:
    request = page_request(router)
    return _new_form(request, 200, {}, FormErrors())


@router.post("/organisations/<organisation_id>/customers")
def create_customer(organisation_id: str) -> Page:
    request = page_request(router)

    new, errors = _parse_customer(NewCustomer, request.form, "omit")
    status = 422
    if new is not None:
        try:
            customer = request.services.customers.create(request.account_id, request.org.id, new)
        except DomainError as refused:
            found = refused_fields(refused, NewCustomer)
            if found is None:
                raise
            errors, status = found, status_of(refused)
        else:
            return see_other(request.org_path("customers", customer.id), f"Customer {customer.name} created.")
    return _new_form(request, status, request.form, errors)


# Profile ----------------------------------------------------------------------------------------


def profile(
    request: PageRequest,
    customer: Customer,
    status: int = 200,
    charge_values: FormValues | None = None,
    charge_errors: FormErrors | None = None,
    credit_values: FormValues | None = None,
    credit_errors: FormErrors | None = None,
    portal_link: IssuedLink | None = None,
) -> Page:

    account_id, organisation_id = request.account_id, request.org.id
    query = request.query
    charges = request.services.charges.list_charges(
        account_id, organisation_id, customer.id, PAGE_SIZE, query.get("charges_cursor") or None, "open"
    )
    invoices = request.services.invoices.list_invoices(
        account_id,
        organisation_id,
        PAGE_SIZE,
        query.get("invoices_cursor") or None,
        None,
        customer.id,
        newest_first=True,
    )
    ledger = request.services.payments.balance_transactions(
        account_id, organisation_id, customer.id, PAGE_SIZE, query.get("ledger_cursor") or None
    )
    credit_notes = request.services.credit_notes.list_credit_notes(
        account_id,
        organisation_id,
        PAGE_SIZE,
        query.get("credit_notes_cursor") or None,
        customer_id=customer.id,
    )
    timeline = request.services.events.customer_timeline(account_id, organisation_id, customer.id, PAGE_SIZE)
    return render(
        request,
        status,
        "customers/profile.html",
        title=customer.name,
        section="Customers",
        customer=customer,
        currency=customer.currency,
        charges=charges,
        invoices=invoices,
        credit_notes=credit_notes,
        ledger=ledger,
        timeline=timeline,
        charge_fields=prefixed_fields(NewCharge, CHARGE),
        charge_values=charge_values or {},
        charge_errors=charge_errors or FormErrors(),
        credit_fields=_credit_fields(customer, request.org.default_currency),
        credit_values=credit_values or {f"{CREDIT}currency": [customer.currency]},
        credit_errors=credit_errors or FormErrors(),
        portal_link=portal_link,
        cursors={
            name: query.get(name, "")
            for name in ("charges_cursor", "invoices_cursor", "credit_notes_cursor", "ledger_cursor")
        },
    )


def _credit_fields(customer: Customer, default_currency: str) -> tuple[FormField, ...]:
    """The balance-change form (the API's `NewBalanceTransaction`), its currency a choice: the
    customer's, those it holds credit in (to remove it), the organisation's.
    """

    choices = tuple(dict.fromkeys([customer.currency, *sorted(customer.balances), default_currency]))
    return tuple(
        dataclasses.replace(form_field, kind="select", options=choices, required=True)
        if form_field.name == f"{CREDIT}currency"
        else form_field
        for form_field in prefixed_fields(NewBalanceTransaction, CREDIT)
    )


def _credit_exponent(request: PageRequest, customer: Customer) -> int:
    """The exponent the posted amount is read with: the chosen currency's, else the customer's."""
    chosen = (request.form.get(f"{CREDIT}currency") or [""])[-1].strip().upper()
    try:
        return exponent_of(chosen)
    except (ValueError, KeyError):
        return exponent_of(customer.currency)


def _customer(request: PageRequest, customer_id: str) -> Customer:
    return request.services.customers.get(request.account_id, request.org.id, customer_id)


@router.get("/organisations/<organisation_id>/customers/<customer_id>")
def customer_profile(organisation_id: str, customer_id: str) -> Page:
    request = page_request(router)
    return profile(request, _customer(request, customer_id))


@router.post("/organisations/<organisation_id>/customers/<customer_id>/portal_link")
def portal_link(organisation_id: str, customer_id: str) -> Page:
    """A one-time portal sign-in link for the customer (as `POST …/portal_sessions`), shown once on
    the profile; the refusal page when the organisation's portal is disabled.
    """
    request = page_request(router)
    customer = _customer(request, customer_id)
    link = request.services.portal.issue_link(
        request.account_id, request.org.id, customer.id, public_base_url(request)
    )
    return profile(request, customer, portal_link=link)


# Edit and delete --------------------------------------------------------------------------------


def _edit_form(
    request: PageRequest, customer: Customer, status: int, values: FormValues, errors: FormErrors
) -> Page:

    return render(
        request,
        status,
        "customers/edit.html",
        title=f"Edit {customer.name}",
        section="Customers",
        customer=customer,
        form_fields=_form_fields(CustomerChanges),
        values=values,
        errors=errors,
        currency=None,
    )


@router.get("/organisations/<organisation_id>/customers/<customer_id>/edit")
def edit_customer(organisation_id: str, customer_id: str) -> Page:
    request = page_request(router)

    customer = _customer(request, customer_id)
    values = values_of(customer, _form_fields(CustomerChanges))
    values[METADATA] = [_metadata_text(customer.metadata)]
    return _edit_form(request, customer, 200, values, FormErrors())


@router.post("/organisations/<organisation_id>/customers/<customer_id>/edit")
def update_customer(organisation_id: str, customer_id: str) -> Page:
    request = page_request(router)

    customer = _customer(request, customer_id)
    changes, errors = _parse_customer(CustomerChanges, request.form, "null")
    status = 422
    if changes is not None:
        try:
            saved = request.services.customers.update(
                request.account_id, request.org.id, customer.id, changes
            )
        except DomainError as refused:
            found = refused_fields(refused, CustomerChanges)
            if found is None:
                raise
            errors, status = found, status_of(refused)
        else:
            return see_other(request.org_path("customers", customer.id), f"Customer {saved.name} saved.")
    return _edit_form(request, customer, status, request.form, errors)


@router.post("/organisations/<organisation_id>/customers/<customer_id>/delete")
def delete_customer(organisation_id: str, customer_id: str) -> Page:
    request = page_request(router)
    customer = _customer(request, customer_id)
    page = confirm(
        request,
        f"Delete customer {customer.name}?",
        "Delete customer",
        back=request.org_path("customers", customer.id),
        detail="Its external ids are freed for other customers. "
        "A customer with finalized invoices cannot be deleted: their invoices stay on record.",
    )
    if page:
        return page
    request.services.customers.delete(request.account_id, request.org.id, customer.id)
    return see_other(request.org_path("customers"), f"Customer {customer.name} deleted.")


# Charges and credit -----------------------------------------------------------------------------


def _back_to(request: PageRequest, customer_id: str) -> str:
    """Where a charge change returns: the billing page or the profile (a choice, never a URL)."""
    if request.field("return_to") == "billing":
        return request.org_path("billing", customer_id)
    return request.org_path("customers", customer_id)


@router.post("/organisations/<organisation_id>/customers/<customer_id>/charges")
def add_charge(organisation_id: str, customer_id: str) -> Page:
    request = page_request(router)

    customer = _customer(request, customer_id)
    new, errors = parse_prefixed(NewCharge, request.form, CHARGE, exponent_of(customer.currency))
    status = 422
    if new is not None:
        try:
            charge = request.services.charges.create(request.account_id, request.org.id, customer.id, new)
        except DomainError as refused:
            found = refused_fields(refused, NewCharge, CHARGE)
            if found is None:
                raise
            errors, status = found, status_of(refused)
        else:
            amount = money(charge.unit_amount, charge.currency, request.org)
            notice = f"Charge “{charge.description}” ({charge.quantity} x {amount}) added to {customer.name}."
            return see_other(_back_to(request, customer.id), notice)
    if request.field("return_to") == "billing":
        return customer_billing(request, customer, status, request.form, errors)
    return profile(request, customer, status, charge_values=request.form, charge_errors=errors)


@router.post("/organisations/<organisation_id>/customers/<customer_id>/charges/<charge_id>/delete")
def delete_charge(organisation_id: str, customer_id: str, charge_id: str) -> Page:
    request = page_request(router)
    customer = _customer(request, customer_id)
    # The charge is named as the page that posted it showed it (the service deletes by id).
    description = request.field("description")[:200] or charge_id
    page = confirm(
        request, f"Delete the charge “{description}”?", "Delete charge", back=_back_to(request, customer.id)
    )
    if page:
        return page
    request.services.charges.delete(request.account_id, request.org.id, customer.id, charge_id)
    return see_other(_back_to(request, customer.id), f"Charge “{description}” deleted.")


@router.post("/organisations/<organisation_id>/customers/<customer_id>/balance_transactions")
def add_balance_transaction(organisation_id: str, customer_id: str) -> Page:
    request = page_request(router)

    customer = _customer(request, customer_id)
    new, errors = parse_prefixed(
        NewBalanceTransaction, request.form, CREDIT, _credit_exponent(request, customer)
    )
    status = 422
    if new is not None:
        try:
            entry = request.services.payments.adjust_balance(
                request.account_id, request.org.id, customer.id, new
            )
        except DomainError as refused:
            found = refused_fields(refused, NewBalanceTransaction, CREDIT)
            if found is None:
                raise
            errors, status = found, status_of(refused)
        else:
            change = "added to" if entry.amount > 0 else "removed from"
            amount = money(abs(entry.amount), entry.currency, request.org)
            balance = money(entry.ending_balance, entry.currency, request.org)
            notice = f"{amount} credit {change} {customer.name}'s balance (now {balance})."
            return see_other(request.org_path("customers", customer.id), notice)
    return profile(request, customer, status, credit_values=request.form, credit_errors=errors)
