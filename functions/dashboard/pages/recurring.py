"""What the subscriptions, billing templates and bulk billing pages share: choices of customers and
templates for an id field, the money exponent of a form, the public URL a sent invoice links to.

It declares no route.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from dashboard.forms import FormErrors, FormValues
from remit.domain.values import currency_exponent

if TYPE_CHECKING:
    from dashboard.page_request import PageRequest

# How many customers or templates an id field offers as choices (one page, never everything).
CHOICES = 100


@dataclass(frozen=True)
class Choice:
    value: str
    label: str


@dataclass(frozen=True)
class Choices:
    """The options of an id field; `complete` when they are all there are (else the field is typed)."""

    options: tuple[Choice, ...]
    complete: bool


def customer_choices(request: PageRequest, currency: str | None = None) -> Choices:
    """The first page of the organisation's customers (of `currency` only, if given)."""

    page = request.services.customers.list(request.account_id, request.org.id, CHOICES, None, None)
    options = tuple(
        Choice(customer.id, f"{customer.name} ({customer.currency})")
        for customer in page.items
        if currency is None or customer.currency == currency
    )
    return Choices(options, page.next_cursor is None)


def template_choices(request: PageRequest) -> Choices:
    """The first page of the organisation's billing templates."""

    page = request.services.billing_runs.list_templates(request.account_id, request.org.id, CHOICES, None)
    options = tuple(Choice(template.id, f"{template.name} ({template.currency})") for template in page.items)
    return Choices(options, page.next_cursor is None)


def exponent_of(currency: str | None) -> int:
    """The ISO 4217 exponent of `currency` (2 for one that is not a currency: the API refuses it)."""

    try:
        return currency_exponent((currency or "").strip().upper())
    except (KeyError, ValueError):
        return 2


def without_blank_rows(values: FormValues, name: str) -> FormValues:
    """The form without the rows of list `name` when every one of them is empty: a list left blank is
    not given (a template instead of lines; an edit leaving the lines as they are).
    """
    prefix = f"{name}."
    rows = {key: value for key, value in values.items() if key.startswith(prefix)}
    if any(item.strip() for value in rows.values() for item in value):
        return values
    return {key: value for key, value in values.items() if key not in rows}


def merged(errors: FormErrors, more: FormErrors) -> FormErrors:
    return FormErrors({**more.by_field, **errors.by_field}, [*errors.general, *more.general])
