"""Customers: the list (with the search by name prefix or external id), a new customer (a page, or a
dialog on the list with htmx), the profile (every field, open charges, invoices, the credit balance
of each currency and its ledger), the edit form, and the one-click changes (delete a customer,
delete a charge).

Every form is drawn from the API's own input model (`NewCustomer`, `CustomerChanges`, `NewCharge`,
`NewBalanceTransaction`) and calls the service the API calls.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from dashboard.forms import FormErrors, FormField, FormValues, errors_of, fields_of, parse, values_of
from dashboard.web import Page, Request, confirm, render, route, see_other

if TYPE_CHECKING:
    from pydantic import BaseModel

    from remit.domain.customer import Customer

PAGE_SIZE = 20
# Forms that share a page have their own field-name prefix, so their ids never collide.
CHARGE = "charge."
CREDIT = "credit."
# Metadata (a mapping) is typed as `key: value` lines and is not one of forms' kinds.
METADATA = "metadata"


# Helpers shared with the billing pages ---------------------------------------------------------


def exponent_of(currency: str) -> int:
    from remit.domain.values import currency_exponent

    return currency_exponent(currency)


def prefixed_fields(model: type[BaseModel], prefix: str) -> tuple[FormField, ...]:
    return fields_of(model, prefix)


def prefixed(errors: FormErrors, prefix: str) -> FormErrors:
    return FormErrors({prefix + name: message for name, message in errors.by_field.items()}, errors.general)


def parse_prefixed[M: BaseModel](
    model: type[M], form: FormValues, prefix: str, exponent: int
) -> tuple[M | None, FormErrors]:
    """`parse` for a form whose field names carry `prefix`; its refusals named with the prefix."""
    values = {name[len(prefix) :]: posted for name, posted in form.items() if name.startswith(prefix)}
    parsed, errors = parse(model, values, exponent)
    return parsed, prefixed(errors, prefix)


def refused_fields(refused: Exception, model: type[BaseModel], prefix: str = "") -> FormErrors | None:
    """The API's field refusals (`InvalidInput`, or a `Conflict` naming fields) for the form, or None
    for a refusal that names no field (it is shown as the refused page). A refusal other than
    invalid input also shows its own statement above the form.
    """
    from remit.domain.errors import DomainError, InvalidInput

    problems = getattr(refused, "problems", None) if isinstance(refused, DomainError) else None
    if not problems:
        return None
    errors = prefixed(errors_of(problems, fields_of(model)), prefix)
    if not isinstance(refused, InvalidInput) and isinstance(refused, DomainError) and refused.detail:
        errors.general.insert(0, refused.detail)
    return errors


def status_of(refused: Exception) -> int:
    """The HTTP status the API answers for the refusal (422 invalid input, 409 conflict, …)."""
    from remit.domain.errors import DomainError
    from remit.problem_details import status_of as api_status

    return api_status(refused)[0] if isinstance(refused, DomainError) else 422


def customer_page(
    request: Request, limit: int = PAGE_SIZE
) -> tuple[list[Customer], str | None, dict[str, str]]:
    """One page of customers: by name prefix (`q`), the one with an external id (`external_id`), or
    all, oldest first; and the search as typed.
    """

    search = {name: request.query.get(name, "").strip() for name in ("q", "external_id")}
    page = request.services.customers.list(
        request.account_id,
        request.org.id,
        limit,
        request.query.get("cursor") or None,
        search["external_id"] or None,
        search["q"][:100] or None,
    )
    return page.items, page.next_cursor, search


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
    from pydantic import ValidationError

    from dashboard.forms import field_problems

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


@route("GET", "/organisations/{organisation_id}/customers")
def customers(request: Request) -> Page:
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


def _new_form(request: Request, status: int, values: FormValues, errors: FormErrors) -> Page:
    from remit.domain.customer import NewCustomer

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


@route("GET", "/organisations/{organisation_id}/customers/new")
def new_customer(request: Request) -> Page:
    return _new_form(request, 200, {}, FormErrors())


@route("POST", "/organisations/{organisation_id}/customers")
def create_customer(request: Request) -> Page:
    from remit.domain.customer import NewCustomer
    from remit.domain.errors import DomainError

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
    request: Request,
    customer: Customer,
    status: int = 200,
    charge_values: FormValues | None = None,
    charge_errors: FormErrors | None = None,
    credit_values: FormValues | None = None,
    credit_errors: FormErrors | None = None,
) -> Page:
    from remit.domain.charge import NewCharge

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
        ledger=ledger,
        charge_fields=prefixed_fields(NewCharge, CHARGE),
        charge_values=charge_values or {},
        charge_errors=charge_errors or FormErrors(),
        credit_fields=_credit_fields(customer, request.org.default_currency),
        credit_values=credit_values or {f"{CREDIT}currency": [customer.currency]},
        credit_errors=credit_errors or FormErrors(),
        cursors={
            name: query.get(name, "") for name in ("charges_cursor", "invoices_cursor", "ledger_cursor")
        },
    )


def _credit_fields(customer: Customer, default_currency: str) -> tuple[FormField, ...]:
    """The balance-change form (the API's `NewBalanceTransaction`), its currency a choice: the
    customer's, those it holds credit in (to remove it), the organisation's.
    """
    import dataclasses

    from remit.domain.payment import NewBalanceTransaction

    choices = tuple(dict.fromkeys([customer.currency, *sorted(customer.balances), default_currency]))
    return tuple(
        dataclasses.replace(form_field, kind="select", options=choices, required=True)
        if form_field.name == f"{CREDIT}currency"
        else form_field
        for form_field in prefixed_fields(NewBalanceTransaction, CREDIT)
    )


def _credit_exponent(request: Request, customer: Customer) -> int:
    """The exponent the posted amount is read with: the chosen currency's, else the customer's."""
    chosen = (request.form.get(f"{CREDIT}currency") or [""])[-1].strip().upper()
    try:
        return exponent_of(chosen)
    except (ValueError, KeyError):
        return exponent_of(customer.currency)


def _customer(request: Request) -> Customer:
    return request.services.customers.get(request.account_id, request.org.id, request.params["customer_id"])


@route("GET", "/organisations/{organisation_id}/customers/{customer_id}")
def customer_profile(request: Request) -> Page:
    return profile(request, _customer(request))


# Edit and delete --------------------------------------------------------------------------------


def _edit_form(
    request: Request, customer: Customer, status: int, values: FormValues, errors: FormErrors
) -> Page:
    from remit.domain.customer import CustomerChanges

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


@route("GET", "/organisations/{organisation_id}/customers/{customer_id}/edit")
def edit_customer(request: Request) -> Page:
    from remit.domain.customer import CustomerChanges

    customer = _customer(request)
    values = values_of(customer, _form_fields(CustomerChanges))
    values[METADATA] = [_metadata_text(customer.metadata)]
    return _edit_form(request, customer, 200, values, FormErrors())


@route("POST", "/organisations/{organisation_id}/customers/{customer_id}/edit")
def update_customer(request: Request) -> Page:
    from remit.domain.customer import CustomerChanges
    from remit.domain.errors import DomainError

    customer = _customer(request)
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


@route("POST", "/organisations/{organisation_id}/customers/{customer_id}/delete")
def delete_customer(request: Request) -> Page:
    customer = _customer(request)
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


def _back_to(request: Request, customer_id: str) -> str:
    """Where a charge change returns: the billing page or the profile (a choice, never a URL)."""
    if request.field("return_to") == "billing":
        return request.org_path("billing", customer_id)
    return request.org_path("customers", customer_id)


@route("POST", "/organisations/{organisation_id}/customers/{customer_id}/charges")
def add_charge(request: Request) -> Page:
    from remit.domain.charge import NewCharge
    from remit.domain.errors import DomainError

    customer = _customer(request)
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
            from dashboard.web import money

            amount = money(charge.unit_amount, charge.currency, request.org)
            notice = f"Charge “{charge.description}” ({charge.quantity} x {amount}) added to {customer.name}."
            return see_other(_back_to(request, customer.id), notice)
    if request.field("return_to") == "billing":
        from dashboard.pages.billing import customer_billing

        return customer_billing(request, customer, status, request.form, errors)
    return profile(request, customer, status, charge_values=request.form, charge_errors=errors)


@route("POST", "/organisations/{organisation_id}/customers/{customer_id}/charges/{charge_id}/delete")
def delete_charge(request: Request) -> Page:
    customer = _customer(request)
    charge_id = request.params["charge_id"]
    # The charge is named as the page that posted it showed it (the service deletes by id).
    description = request.field("description")[:200] or charge_id
    page = confirm(
        request, f"Delete the charge “{description}”?", "Delete charge", back=_back_to(request, customer.id)
    )
    if page:
        return page
    request.services.charges.delete(request.account_id, request.org.id, customer.id, charge_id)
    return see_other(_back_to(request, customer.id), f"Charge “{description}” deleted.")


@route("POST", "/organisations/{organisation_id}/customers/{customer_id}/balance_transactions")
def add_balance_transaction(request: Request) -> Page:
    from remit.domain.errors import DomainError
    from remit.domain.payment import NewBalanceTransaction

    customer = _customer(request)
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
            from dashboard.web import money

            change = "added to" if entry.amount > 0 else "removed from"
            amount = money(abs(entry.amount), entry.currency, request.org)
            balance = money(entry.ending_balance, entry.currency, request.org)
            notice = f"{amount} credit {change} {customer.name}'s balance (now {balance})."
            return see_other(request.org_path("customers", customer.id), notice)
    return profile(request, customer, status, credit_values=request.form, credit_errors=errors)
