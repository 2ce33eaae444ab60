"""What the customers and billing pages share: the customer search, the charge and credit forms
(whose field names carry a prefix, as they share a page with another form), and the API's
refusals shown on those forms.

It declares no route.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dashboard.forms import FormErrors, FormField, FormValues, errors_of, fields_of, parse
from dashboard.page_request import PageRequest
from remit.domain.errors import DomainError, InvalidInput
from remit.problem_details import status_of as api_status

if TYPE_CHECKING:
    from pydantic import BaseModel

    from remit.domain.customer import Customer

PAGE_SIZE = 20
# Forms that share a page have their own field-name prefix, so their ids never collide.
CHARGE = "charge."
CREDIT = "credit."


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
    problems = getattr(refused, "problems", None) if isinstance(refused, DomainError) else None
    if not problems:
        return None
    errors = prefixed(errors_of(problems, fields_of(model)), prefix)
    if not isinstance(refused, InvalidInput) and isinstance(refused, DomainError) and refused.detail:
        errors.general.insert(0, refused.detail)
    return errors


def status_of(refused: Exception) -> int:
    """The HTTP status the API answers for the refusal (422 invalid input, 409 conflict, …)."""
    return api_status(refused)[0] if isinstance(refused, DomainError) else 422


def customer_page(
    request: PageRequest, limit: int = PAGE_SIZE
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
