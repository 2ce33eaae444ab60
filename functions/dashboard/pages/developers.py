"""Developers: the organisation's webhook endpoints (list, new, edit, enable or disable, delete,
rotate the signing secret). The event log and each endpoint's deliveries join this section.

Everything goes through `request.services.webhook_endpoints`, as the API's `/webhook_endpoints`
routes do. A signing secret is shown on the page answering the form that made it (never in a
URL, a redirect or a notice), once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from dashboard.forms import FormErrors, FormValues, errors_of, fields_of, parse, values_of
from dashboard.page_request import PageRequest, page_request
from dashboard.rendering import Page, confirm, render, see_other
from remit.domain.errors import Conflict, InvalidInput
from remit.domain.webhooks import MAX_ENDPOINTS, NewWebhookEndpoint, WebhookEndpointChanges

if TYPE_CHECKING:
    from remit.domain.webhooks import CreatedEndpoint, WebhookEndpoint

router = APIGatewayRouter()

SECTION = "Developers"
_ENDPOINTS = ("developers", "webhooks")


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
        "developers/form.html",
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
        "developers/form.html",
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
