"""Subscriptions: the list, a new one, its page (every field, the upcoming invoice, the invoices it
issued), its edit form, and the actions of its status machine (set live, pause, resume, cancel).

Everything goes through `request.services.subscriptions`, as the API's `/subscriptions` routes do.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from dashboard.forms import FormErrors, FormValues, defaults_of, errors_of, fields_of, parse, values_of
from dashboard.page_request import PageRequest, page_request
from dashboard.pages.recurring import (
    customer_choices,
    exponent_of,
    template_choices,
    without_blank_rows,
)
from dashboard.rendering import Page, confirm, query_string, render, see_other
from remit.domain.errors import Conflict, InvalidInput, NotFound
from remit.domain.money import line_amount
from remit.domain.subscription import (
    SCHEDULE_FIELDS,
    CancelSubscription,
    NewSubscription,
    SubscriptionChanges,
)

if TYPE_CHECKING:
    from remit.domain.invoice import NewLineItem
    from remit.domain.subscription import Subscription

router = APIGatewayRouter()

SECTION = "Subscriptions"
PAGE_SIZE = 20
# How many of the customer's invoices the subscription page reads to find the subscription's own.
INVOICES_READ = 100
# The actions each status offers (the status machine of remit.domain.subscription).
ACTIONS = {
    "draft": ("activate", "cancel"),
    "active": ("pause", "cancel"),
    "paused": ("resume", "cancel"),
    "cancelled": (),
    "ended": (),
}
EDITABLE = ("draft", "active", "paused")


@router.get("/organisations/<organisation_id>/subscriptions")
def subscriptions(organisation_id: str) -> Page:
    request = page_request(router)
    cursor = request.query.get("cursor") or None
    page = request.services.subscriptions.list(request.account_id, request.org.id, PAGE_SIZE, cursor)
    names = _customer_names(request, {s.customer_id for s in page.items})
    amounts = _amounts(request, page.items)
    return render(
        request,
        200,
        "subscriptions/list.html",
        title="Subscriptions",
        section=SECTION,
        subscriptions=page.items,
        names=names,
        amounts=amounts,
        next_link=query_string(cursor=page.next_cursor) if page.next_cursor else None,
        first_page=cursor is None,
    )


@router.get("/organisations/<organisation_id>/subscriptions/new")
def new_subscription(organisation_id: str) -> Page:
    request = page_request(router)

    values = defaults_of(NewSubscription)
    if request.query.get("customer_id"):
        values["customer_id"] = [request.query["customer_id"]]
    return _new_form(request, 200, values, FormErrors())


@router.post("/organisations/<organisation_id>/subscriptions/new")
def create_subscription(organisation_id: str) -> Page:
    request = page_request(router)

    currency = _form_currency(request)
    values = without_blank_rows(request.form, "line_items")
    new, errors = parse(NewSubscription, values, exponent_of(currency))
    if new is not None:
        try:
            created = request.services.subscriptions.create(request.account_id, request.org.id, new)
        except InvalidInput as refused:
            errors = errors_of(refused.problems, fields_of(NewSubscription))
        else:
            return see_other(
                request.org_path("subscriptions", created.id),
                f"Subscription created as a draft for {_customer_name(request, created.customer_id)}: "
                "nothing is billed until it is set live.",
            )
    return _new_form(request, 422, request.form, errors)


def _new_form(request: PageRequest, status: int, values: FormValues, errors: FormErrors) -> Page:

    return render(
        request,
        status,
        "subscriptions/form.html",
        title="New subscription",
        section=SECTION,
        heading="New subscription",
        action=request.org_path("subscriptions", "new"),
        button="Create draft subscription",
        back=request.org_path("subscriptions"),
        form_fields=fields_of(NewSubscription),
        values=values,
        errors=errors,
        currency=_form_currency(request, values),
        choices={"customer_id": customer_choices(request), "template_id": template_choices(request)},
        fixed=(),
    )


def _form_currency(request: PageRequest, values: FormValues | None = None) -> str:
    """The currency amounts are typed in: the one given, else the customer's, else the organisation's."""

    values = request.form if values is None else values
    given = (values.get("currency") or [""])[-1].strip().upper()
    if given:
        return given
    customer_id = (values.get("customer_id") or [""])[-1].strip()
    if customer_id:
        try:
            return request.services.customers.get(request.account_id, request.org.id, customer_id).currency
        except NotFound:
            pass
    return request.org.default_currency


@router.get("/organisations/<organisation_id>/subscriptions/<subscription_id>")
def subscription(organisation_id: str, subscription_id: str) -> Page:
    request = page_request(router)

    subscription = _subscription(request, subscription_id)
    upcoming = None
    nothing_upcoming = None
    try:
        upcoming = request.services.subscriptions.upcoming(
            request.account_id, request.org.id, subscription.id
        )
    except Conflict as refused:
        nothing_upcoming = refused.detail
    except NotFound:
        nothing_upcoming = f"Its customer {subscription.customer_id} no longer exists: nothing can be billed."
    cursor = request.query.get("invoices_cursor") or None
    page = request.services.invoices.list_invoices(
        request.account_id, request.org.id, INVOICES_READ, cursor, None, subscription.customer_id
    )
    invoices = [invoice for invoice in page.items if invoice.subscription_id == subscription.id]
    return render(
        request,
        200,
        "subscriptions/detail.html",
        title=f"Subscription {subscription.id}",
        section=SECTION,
        subscription=subscription,
        customer_name=_customer_name(request, subscription.customer_id),
        template_name=_template_name(request, subscription.template_id),
        upcoming=upcoming,
        nothing_upcoming=nothing_upcoming,
        invoices=invoices,
        invoices_next=query_string(invoices_cursor=page.next_cursor) if page.next_cursor else None,
        actions=ACTIONS[subscription.status],
        cancel_at_period_end=_in_a_period(subscription) and subscription.cancel_at is None,
        editable=subscription.status in EDITABLE,
        here=request.org_path("subscriptions", subscription.id),
    )


@router.get("/organisations/<organisation_id>/subscriptions/<subscription_id>/edit")
def edit_subscription(organisation_id: str, subscription_id: str) -> Page:
    request = page_request(router)

    subscription = _subscription(request, subscription_id)
    fields = fields_of(SubscriptionChanges)
    values = values_of(subscription, fields, exponent_of(subscription.currency))
    return _edit_form(request, 200, subscription, values, FormErrors())


@router.post("/organisations/<organisation_id>/subscriptions/<subscription_id>/edit")
def update_subscription(organisation_id: str, subscription_id: str) -> Page:
    request = page_request(router)

    subscription = _subscription(request, subscription_id)
    values = without_blank_rows(request.form, "line_items")
    changes, errors = parse(SubscriptionChanges, values, exponent_of(subscription.currency), blank="null")
    if changes is not None:
        try:
            request.services.subscriptions.update(
                request.account_id, request.org.id, subscription.id, changes
            )
        except InvalidInput as refused:
            errors = errors_of(refused.problems, fields_of(SubscriptionChanges))
        else:
            return see_other(request.org_path("subscriptions", subscription.id), "Subscription saved.")
    return _edit_form(request, 422, subscription, request.form, errors)


def _edit_form(
    request: PageRequest, status: int, subscription: Subscription, values: FormValues, errors: FormErrors
) -> Page:

    return render(
        request,
        status,
        "subscriptions/form.html",
        title=f"Edit subscription {subscription.id}",
        section=SECTION,
        heading=f"Edit subscription {subscription.id}",
        action=request.org_path("subscriptions", subscription.id, "edit"),
        button="Save subscription",
        back=request.org_path("subscriptions", subscription.id),
        form_fields=fields_of(SubscriptionChanges),
        values=values,
        errors=errors,
        currency=subscription.currency,
        choices={"template_id": template_choices(request)},
        fixed=SCHEDULE_FIELDS if subscription.invoices_issued else (),
    )


# --- the status machine --------------------------------------------------------------------------


@router.post("/organisations/<organisation_id>/subscriptions/<subscription_id>/activate")
def activate(organisation_id: str, subscription_id: str) -> Page:
    request = page_request(router)
    subscription = _subscription(request, subscription_id)
    back = request.org_path("subscriptions", subscription.id)
    page = confirm(
        request,
        f"Set subscription {subscription.id} live?",
        "Set live",
        back,
        "The daily invoicing cycle bills it from its first period after the trial; periods since a "
        "past start date are caught up.",
    )
    if page:
        return page
    live = request.services.subscriptions.activate(request.account_id, request.org.id, subscription.id)
    return see_other(back, f"Subscription set live: next billing date {live.next_billing_date or 'none'}.")


@router.post("/organisations/<organisation_id>/subscriptions/<subscription_id>/pause")
def pause(organisation_id: str, subscription_id: str) -> Page:
    request = page_request(router)
    subscription = _subscription(request, subscription_id)
    back = request.org_path("subscriptions", subscription.id)
    page = confirm(
        request,
        f"Pause subscription {subscription.id}?",
        "Pause billing",
        back,
        "Periods whose billing date passes while it is paused are skipped for good.",
    )
    if page:
        return page
    request.services.subscriptions.pause(request.account_id, request.org.id, subscription.id)
    return see_other(back, "Subscription paused: nothing is billed until it is resumed.")


@router.post("/organisations/<organisation_id>/subscriptions/<subscription_id>/resume")
def resume(organisation_id: str, subscription_id: str) -> Page:
    request = page_request(router)
    subscription = _subscription(request, subscription_id)
    back = request.org_path("subscriptions", subscription.id)
    page = confirm(
        request,
        f"Resume subscription {subscription.id}?",
        "Resume billing",
        back,
        "Billing continues with the next period billed on or after today.",
    )
    if page:
        return page
    resumed = request.services.subscriptions.resume(request.account_id, request.org.id, subscription.id)
    return see_other(back, f"Subscription resumed: next billing date {resumed.next_billing_date or 'none'}.")


@router.post("/organisations/<organisation_id>/subscriptions/<subscription_id>/cancel")
def cancel(organisation_id: str, subscription_id: str) -> Page:
    request = page_request(router)

    subscription = _subscription(request, subscription_id)
    back = request.org_path("subscriptions", subscription.id)
    how, _ = parse(CancelSubscription, request.form)  # a checkbox: always a yes or a no
    how = how or CancelSubscription()
    # As the API decides: at period end only for an active subscription already in a period.
    at_end = how.at_period_end and _in_a_period(subscription)
    page = confirm(
        request,
        f"Cancel subscription {subscription.id}"
        + (" at the end of the current period?" if at_end else " now?"),
        "Cancel at period end" if at_end else "Cancel now",
        back,
        "The current period is still billed, nothing after it."
        if at_end
        else "Nothing more is billed; a cancelled subscription cannot be set live again.",
    )
    if page:
        return page
    cancelled = request.services.subscriptions.cancel(
        request.account_id, request.org.id, subscription.id, how
    )
    if cancelled.status == "cancelled":
        notice = "Subscription cancelled: nothing more is billed."
    else:
        notice = f"Subscription cancelled from {cancelled.cancel_at}: the current period is still billed."
    return see_other(back, notice)


# --- helpers -------------------------------------------------------------------------------------


def _in_a_period(subscription: Subscription) -> bool:
    return subscription.status == "active" and subscription.current_period_start is not None


def _subscription(request: PageRequest, subscription_id: str) -> Subscription:
    return request.services.subscriptions.get(request.account_id, request.org.id, subscription_id)


def _customer_name(request: PageRequest, customer_id: str) -> str:
    return _customer_names(request, {customer_id}).get(customer_id, customer_id)


def _customer_names(request: PageRequest, customer_ids: set[str]) -> dict[str, str]:
    """The names of the customers of one page (a deleted customer keeps its id)."""

    names: dict[str, str] = {}
    for customer_id in sorted(customer_ids):
        try:
            names[customer_id] = request.services.customers.get(
                request.account_id, request.org.id, customer_id
            ).name
        except NotFound:
            names[customer_id] = customer_id
    return names


def _amounts(request: PageRequest, page: list[Subscription]) -> dict[str, int | None]:
    """What each subscription of a page bills a period before tax: its lines, or its template's as
    they are now (one read per template of the page); None for a template since deleted.
    """

    templates: dict[str, list[NewLineItem] | None] = {}
    amounts: dict[str, int | None] = {}
    for subscription in page:
        lines = subscription.line_items
        if subscription.template_id is not None:
            if subscription.template_id not in templates:
                try:
                    templates[subscription.template_id] = request.services.billing_runs.template(
                        request.account_id, request.org.id, subscription.template_id
                    ).line_items
                except NotFound:
                    templates[subscription.template_id] = None
            lines = templates[subscription.template_id]
        amounts[subscription.id] = (
            None if lines is None else sum(line_amount(line.unit_amount, line.quantity) for line in lines)
        )
    return amounts


def _template_name(request: PageRequest, template_id: str | None) -> str | None:

    if template_id is None:
        return None
    try:
        return request.services.billing_runs.template(request.account_id, request.org.id, template_id).name
    except NotFound:
        return template_id
