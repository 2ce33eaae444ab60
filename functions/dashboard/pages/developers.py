"""Developers: the organisation's webhook endpoints (list, new, edit, enable or disable, delete,
rotate the signing secret), the event log (an event's JSON, sent again to an endpoint) and each
endpoint's page with its delivery attempts.

Everything goes through `request.services.webhook_endpoints`, as the API's `/webhook_endpoints`
routes do. A signing secret is shown on the page answering the form that made it (never in a
URL, a redirect or a notice), once.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from dashboard.forms import FormErrors, FormValues, errors_of, fields_of, parse, values_of
from dashboard.page_request import PageRequest, page_request
from dashboard.rendering import Page, confirm, query_string, render, see_other
from remit.domain.errors import Conflict, InvalidInput
from remit.domain.webhooks import MAX_ENDPOINTS, NewWebhookEndpoint, WebhookEndpointChanges

if TYPE_CHECKING:
    from remit.domain.webhooks import CreatedEndpoint, WebhookEndpoint

router = APIGatewayRouter()

SECTION = "Developers"
_ENDPOINTS = ("developers", "webhooks")
_EVENTS = ("developers", "events")
PAGE_SIZE = 20


@router.get("/organisations/<organisation_id>/developers")
def developers(organisation_id: str) -> Page:
    request = page_request(router)

    endpoints = request.services.webhook_endpoints.list(request.account_id, request.org.id)
    return render(
        request,
        200,
        "developers/list.html",
        title="Developers",
        section=SECTION,
        endpoints=endpoints,
        max_endpoints=MAX_ENDPOINTS,
    )


@router.get("/organisations/<organisation_id>/developers/webhooks/new")
def new_endpoint(organisation_id: str) -> Page:
    request = page_request(router)
    return _new_form(request, 200, {"enabled_events": ["*"]}, FormErrors())


@router.post("/organisations/<organisation_id>/developers/webhooks/new")
def create_endpoint(organisation_id: str) -> Page:
    request = page_request(router)

    new, errors = parse(NewWebhookEndpoint, request.form)
    if new is not None:
        try:
            created = request.services.webhook_endpoints.create(request.account_id, request.org.id, new)
        except (InvalidInput, Conflict) as refused:
            errors = errors_of(refused.problems, fields_of(NewWebhookEndpoint))
            if not refused.problems:
                raise
        else:
            return _secret_page(request, created, "Endpoint created")
    return _new_form(request, 422, request.form, errors)


def _new_form(request: PageRequest, status: int, values: FormValues, errors: FormErrors) -> Page:
    return render(
        request,
        status,
        "form_page.html",
        title="New webhook endpoint",
        section=SECTION,
        heading="New webhook endpoint",
        action=request.org_path(*_ENDPOINTS, "new"),
        button="Create endpoint",
        back=request.org_path("developers"),
        form_fields=fields_of(NewWebhookEndpoint),
        values=values,
        errors=errors,
    )


@router.get("/organisations/<organisation_id>/developers/webhooks/<endpoint_id>/edit")
def edit_endpoint(organisation_id: str, endpoint_id: str) -> Page:
    request = page_request(router)

    found = _endpoint(request, endpoint_id)
    return _edit_form(request, 200, found, values_of(found, fields_of(WebhookEndpointChanges)), FormErrors())


@router.post("/organisations/<organisation_id>/developers/webhooks/<endpoint_id>/edit")
def update_endpoint(organisation_id: str, endpoint_id: str) -> Page:
    request = page_request(router)

    found = _endpoint(request, endpoint_id)
    changes, errors = parse(WebhookEndpointChanges, request.form, blank="null")
    if changes is not None:
        try:
            request.services.webhook_endpoints.update(request.account_id, request.org.id, found.id, changes)
        except InvalidInput as refused:
            errors = errors_of(refused.problems, fields_of(WebhookEndpointChanges))
        else:
            return see_other(request.org_path("developers"), f"Endpoint {found.url} saved.")
    return _edit_form(request, 422, found, request.form, errors)


def _edit_form(
    request: PageRequest, status: int, found: WebhookEndpoint, values: FormValues, errors: FormErrors
) -> Page:
    return render(
        request,
        status,
        "form_page.html",
        title="Edit webhook endpoint",
        section=SECTION,
        heading=f"Edit endpoint {found.url}",
        action=request.org_path(*_ENDPOINTS, found.id, "edit"),
        button="Save endpoint",
        back=request.org_path("developers"),
        form_fields=fields_of(WebhookEndpointChanges),
        values=values,
        errors=errors,
    )


@router.post("/organisations/<organisation_id>/developers/webhooks/<endpoint_id>/enable")
def enable_endpoint(organisation_id: str, endpoint_id: str) -> Page:
    return _set_status(endpoint_id, "enabled")


@router.post("/organisations/<organisation_id>/developers/webhooks/<endpoint_id>/disable")
def disable_endpoint(organisation_id: str, endpoint_id: str) -> Page:
    return _set_status(endpoint_id, "disabled")


def _set_status(endpoint_id: str, status: str) -> Page:
    request = page_request(router)
    found = _endpoint(request, endpoint_id)
    verb = "Enable" if status == "enabled" else "Disable"
    page = confirm(
        request,
        f"{verb} endpoint {found.url}?",
        f"{verb} endpoint",
        request.org_path("developers"),
        "Events are sent to it again, from now on."
        if status == "enabled"
        else "Nothing is sent to it until it is enabled again.",
    )
    if page:
        return page
    changes = WebhookEndpointChanges.model_validate({"status": status})
    request.services.webhook_endpoints.update(request.account_id, request.org.id, found.id, changes)
    return see_other(request.org_path("developers"), f"Endpoint {found.url} {status}.")


@router.post("/organisations/<organisation_id>/developers/webhooks/<endpoint_id>/delete")
def delete_endpoint(organisation_id: str, endpoint_id: str) -> Page:
    request = page_request(router)
    found = _endpoint(request, endpoint_id)
    page = confirm(
        request,
        f"Delete endpoint {found.url}?",
        "Delete endpoint",
        request.org_path("developers"),
        "Nothing more is sent to it, retries included.",
    )
    if page:
        return page
    request.services.webhook_endpoints.delete(request.account_id, request.org.id, found.id)
    return see_other(request.org_path("developers"), f"Endpoint {found.url} deleted.")


@router.post("/organisations/<organisation_id>/developers/webhooks/<endpoint_id>/rotate")
def rotate_secret(organisation_id: str, endpoint_id: str) -> Page:
    request = page_request(router)
    found = _endpoint(request, endpoint_id)
    page = confirm(
        request,
        f"Rotate the signing secret of {found.url}?",
        "Rotate secret",
        request.org_path("developers"),
        "A new secret signs every delivery from now on; the current one also signs them for 24 hours.",
    )
    if page:
        return page
    rotated = request.services.webhook_endpoints.rotate_secret(request.account_id, request.org.id, found.id)
    return _secret_page(request, rotated, "Secret rotated")


def _secret_page(request: PageRequest, shown: CreatedEndpoint, title: str) -> Page:
    page = render(
        request,
        200,
        "developers/secret.html",
        title=title,
        section=SECTION,
        endpoint=shown.endpoint,
        secret=shown.secret,
    )
    page.headers["Cache-Control"] = "no-store"
    return page


def _endpoint(request: PageRequest, endpoint_id: str) -> WebhookEndpoint:
    return request.services.webhook_endpoints.get(request.account_id, request.org.id, endpoint_id)


@router.get("/organisations/<organisation_id>/developers/webhooks/<endpoint_id>")
def endpoint_page(organisation_id: str, endpoint_id: str) -> Page:
    request = page_request(router)

    found = _endpoint(request, endpoint_id)
    cursor = request.query.get("cursor") or None
    attempts = request.services.webhook_deliveries.attempts(
        request.account_id, request.org.id, found.id, PAGE_SIZE, cursor
    )
    return render(
        request,
        200,
        "developers/endpoint.html",
        title=f"Endpoint {found.url}",
        section=SECTION,
        endpoint=found,
        attempts=attempts.items,
        next_link=query_string(cursor=attempts.next_cursor) if attempts.next_cursor else None,
        first_page=cursor is None,
    )


@router.get("/organisations/<organisation_id>/developers/events")
def events(organisation_id: str) -> Page:
    request = page_request(router)

    event_type = request.query.get("type") or None
    object_id = request.query.get("object_id") or None
    cursor = request.query.get("cursor") or None
    status, found, next_cursor, error = 200, [], None, None
    try:
        page = request.services.events.list(
            request.account_id, request.org.id, PAGE_SIZE, cursor, event_type=event_type, object_id=object_id
        )
    except InvalidInput as refused:
        status = 422
        error = "; ".join(f"{problem.field}: {problem.message}" for problem in refused.problems) or str(
            refused
        )
    else:
        found, next_cursor = page.items, page.next_cursor
    return render(
        request,
        status,
        "developers/events.html",
        title="Events",
        section=SECTION,
        events=found,
        event_type=event_type,
        object_id=object_id,
        error=error,
        next_link=query_string(type=event_type, object_id=object_id, cursor=next_cursor)
        if next_cursor
        else None,
        first_link=query_string(type=event_type, object_id=object_id),
        first_page=cursor is None,
    )


@router.get("/organisations/<organisation_id>/developers/events/<event_id>")
def event_page(organisation_id: str, event_id: str) -> Page:
    request = page_request(router)

    event = request.services.events.get(request.account_id, request.org.id, event_id)
    endpoints = request.services.webhook_endpoints.list(request.account_id, request.org.id)
    return render(
        request,
        200,
        "developers/event.html",
        title=f"Event {event.id}",
        section=SECTION,
        event=event,
        event_json=json.dumps(event.model_dump(mode="json"), indent=2, ensure_ascii=False),
        endpoints=endpoints,
    )


@router.post("/organisations/<organisation_id>/developers/events/<event_id>/resend")
def resend_event(organisation_id: str, event_id: str) -> Page:
    request = page_request(router)

    event = request.services.events.get(request.account_id, request.org.id, event_id)
    found = _endpoint(request, request.field("endpoint_id") or "")
    back = request.org_path(*_EVENTS, event.id)
    page = confirm(
        request,
        f"Send event {event.id} to {found.url} again?",
        "Resend event",
        back,
        "A new delivery starts at attempt 1; the receiver sees the same webhook-id.",
    )
    if page:
        return page
    request.services.webhook_deliveries.resend(request.account_id, request.org.id, event.id, found.id)
    return see_other(back, f"Event {event.id} queued to {found.url}.")


@router.post("/organisations/<organisation_id>/developers/webhooks/<endpoint_id>/test")
def send_test_event(organisation_id: str, endpoint_id: str) -> Page:
    request = page_request(router)
    found = _endpoint(request, endpoint_id)
    back = request.org_path(*_ENDPOINTS, found.id)
    page = confirm(
        request,
        f"Send a test event to {found.url}?",
        "Send test event",
        back,
        "A webhook_endpoint.test event goes to this endpoint only, signed and retried as any delivery.",
    )
    if page:
        return page
    order = request.services.webhook_deliveries.send_test(request.account_id, request.org.id, found.id)
    return see_other(back, f"Test event {order.event_id} queued to {found.url}.")
