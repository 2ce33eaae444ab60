"""Bulk billing: one-time invoices to several customers at once (a billing run the billing worker
issues in the background), the organisation's billing runs, and a run's progress.

Everything goes through `request.services.billing_runs`, as the API's `/billing` and `/billing_runs`
routes do. A run's page polls its own progress with htmx while the run is not complete.
"""

from __future__ import annotations

from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from dashboard.forms import FormErrors, FormValues, defaults_of, errors_of, fields_of, parse, values_of
from dashboard.page_request import PageRequest, page_request, public_base_url
from dashboard.pages.recurring import CHOICES, exponent_of, without_blank_rows
from dashboard.rendering import Page, confirm, query_string, render, see_other
from remit.domain.billing_template import BulkBillingRequest
from remit.domain.errors import FieldProblem, InvalidInput

router = APIGatewayRouter()

SECTION = "Bulk billing"
PAGE_SIZE = 20
# The customers ticked in the form's list, and those typed (one id a line), become `customer_ids`.
MORE_IDS = "customer_ids.more"
POLL_SECONDS = 2


@router.get("/organisations/<organisation_id>/bulk-billing")
def bulk_billing(organisation_id: str) -> Page:
    request = page_request(router)

    values = {**defaults_of(BulkBillingRequest), "currency": [request.org.default_currency]}
    template_id = request.query.get("template_id")
    if template_id:
        template = request.services.billing_runs.template(request.account_id, request.org.id, template_id)
        fields = fields_of(BulkBillingRequest)
        values = values_of(template, fields, exponent_of(template.currency))
    return _form(request, 200, values, FormErrors())


@router.post("/organisations/<organisation_id>/bulk-billing")
def bill_customers(organisation_id: str) -> Page:
    request = page_request(router)

    values = _with_customer_ids(request.form)
    currency = (values.get("currency") or [""])[-1]
    asked, errors = parse(BulkBillingRequest, values, exponent_of(currency))
    if asked is not None:
        count = len(asked.customer_ids)
        page = confirm(
            request,
            f"Bill {count} customer{'s' if count != 1 else ''}?",
            f"Bill {count} customer{'s' if count != 1 else ''}",
            request.org_path("bulk-billing"),
            "One invoice each, finalized"
            + (" and emailed" if asked.send else "")
            + " by the billing worker in the background. This cannot be undone.",
        )
        if page:
            return page
        try:
            run = request.services.billing_runs.bill_customers(
                request.account_id, request.org.id, asked, public_base_url(request)
            )
        except InvalidInput as refused:
            errors = errors_of(_named(refused.problems), fields_of(BulkBillingRequest))
        else:
            return see_other(
                request.org_path("bulk-billing", "runs", run.id),
                f"Billing run started for {count} customer{'s' if count != 1 else ''}: "
                "the invoices are issued in the background.",
            )
    else:
        errors = FormErrors(
            {_field_of(name): message for name, message in errors.by_field.items()}, errors.general
        )
    return _form(request, 422, request.form, errors)


def _with_customer_ids(values: FormValues) -> FormValues:
    """`customer_ids` as the API's model takes them: the ticked ones, then the typed ones."""
    ticked = [value.strip() for value in values.get("customer_ids", []) if value.strip()]
    typed = [line.strip() for text in values.get(MORE_IDS, []) for line in text.splitlines() if line.strip()]
    merged = {name: value for name, value in values.items() if name not in ("customer_ids", MORE_IDS)}
    if ticked or typed:
        merged["customer_ids"] = ["\n".join([*ticked, *typed])]
    return without_blank_rows(merged, "line_items")


def _field_of(name: str) -> str:
    """A problem of one customer id (`customer_ids.3`) belongs next to the customers field."""
    return "customer_ids" if name.startswith("customer_ids.") else name


def _named(problems: list[FieldProblem]) -> list[FieldProblem]:
    return [FieldProblem(_field_of(problem.field), problem.message) for problem in problems]


def _form(request: PageRequest, status: int, values: FormValues, errors: FormErrors) -> Page:

    cursor = request.query.get("customers_cursor") or None
    customers = request.services.customers.list(request.account_id, request.org.id, CHOICES, cursor, None)
    currency = (values.get("currency") or [""])[-1].strip().upper() or request.org.default_currency
    return render(
        request,
        status,
        "bulk_billing/form.html",
        title="Bulk billing",
        section=SECTION,
        form_fields=fields_of(BulkBillingRequest),
        values=values,
        errors=errors,
        currency=currency,
        customers=customers.items,
        ticked=set(values.get("customer_ids", [])),
        more_ids=MORE_IDS,
        customers_next=query_string(customers_cursor=customers.next_cursor)
        if customers.next_cursor
        else None,
        customers_first_page=cursor is None,
    )


@router.get("/organisations/<organisation_id>/bulk-billing/runs")
def runs(organisation_id: str) -> Page:
    request = page_request(router)
    cursor = request.query.get("cursor") or None
    page = request.services.billing_runs.list_runs(request.account_id, request.org.id, PAGE_SIZE, cursor)
    return render(
        request,
        200,
        "bulk_billing/runs.html",
        title="Billing runs",
        section=SECTION,
        runs=page.items,
        next_link=query_string(cursor=page.next_cursor) if page.next_cursor else None,
        first_page=cursor is None,
    )


@router.get("/organisations/<organisation_id>/bulk-billing/runs/<run_id>")
def run(organisation_id: str, run_id: str) -> Page:
    """The run's page; to htmx's poll (`HX-Request`), only its progress, which stops the polling
    once the run is complete by no longer carrying the trigger.
    """
    request = page_request(router)
    found = request.services.billing_runs.run(request.account_id, request.org.id, run_id)
    context = {
        "section": SECTION,
        "run": found,
        "here": request.org_path("bulk-billing", "runs", found.id),
        "finished": found.status in ("completed", "completed_with_errors"),
        "poll_seconds": POLL_SECONDS,
    }
    if request.htmx:
        return render(request, 200, "bulk_billing/_progress.html", title="Progress", **context)
    return render(request, 200, "bulk_billing/run.html", title=f"Billing run {found.id}", **context)
