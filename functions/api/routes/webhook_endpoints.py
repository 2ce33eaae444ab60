"""`/v1/organisations/{organisation_id}/webhook_endpoints`: where the organisation's events are sent.

The signing secret is in the answer of a creation and of `rotate_secret` only.
"""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from api.http import account_id, caller_services, json_response, no_content, page_response
from remit.domain.answers import WebhookEndpoint, WebhookEndpointWithSecret
from remit.domain.pagination import ListResponse, Page
from remit.domain.webhooks import MAX_ENDPOINTS, CreatedEndpoint, NewWebhookEndpoint, WebhookEndpointChanges

router = APIGatewayRouter()
ENDPOINTS = "/<organisation_id>/webhook_endpoints"
ENDPOINT = f"{ENDPOINTS}/<endpoint_id>"
_DESTINATIONS = (
    "The URL must be `https`, without a user name or password, and its host must resolve only to "
    "public addresses (no private, loopback, link-local, shared or metadata address): otherwise "
    "`422` naming `url`. `enabled_events` are event types or wildcards (`invoice.*`, `*`)."
)


def _with_secret(created: CreatedEndpoint) -> WebhookEndpointWithSecret:
    shown = WebhookEndpoint.of(created.endpoint)
    return WebhookEndpointWithSecret.model_construct(**dict(shown), secret=created.secret)


@router.post(
    ENDPOINTS,
    summary="Create a webhook endpoint",
    description=(
        f"The answer holds the signing `secret`, shown this once. {_DESTINATIONS} "
        f"An organisation has at most {MAX_ENDPOINTS} endpoints (`409` beyond)."
    ),
)
def create_webhook_endpoint(
    organisation_id: str, new: Annotated[NewWebhookEndpoint, Body()]
) -> Response[WebhookEndpointWithSecret]:
    created = caller_services(router).webhook_endpoints.create(account_id(router), organisation_id, new)
    return json_response(201, _with_secret(created))


@router.get(
    ENDPOINTS,
    summary="List webhook endpoints",
    description=f"Oldest first, all at once (at most {MAX_ENDPOINTS}); never their secrets.",
)
def list_webhook_endpoints(organisation_id: str) -> Response[ListResponse[WebhookEndpoint]]:
    endpoints = caller_services(router).webhook_endpoints.list(account_id(router), organisation_id)
    return page_response(Page([WebhookEndpoint.of(endpoint) for endpoint in endpoints], None))


@router.get(ENDPOINT, summary="Retrieve a webhook endpoint")
def get_webhook_endpoint(organisation_id: str, endpoint_id: str) -> Response[WebhookEndpoint]:
    endpoint = caller_services(router).webhook_endpoints.get(account_id(router), organisation_id, endpoint_id)
    return json_response(200, WebhookEndpoint.of(endpoint))


@router.patch(
    ENDPOINT,
    summary="Update a webhook endpoint",
    description=f"Only the fields given change; `status` is `enabled` or `disabled`. {_DESTINATIONS}",
)
def update_webhook_endpoint(
    organisation_id: str, endpoint_id: str, changes: Annotated[WebhookEndpointChanges, Body()]
) -> Response[WebhookEndpoint]:
    endpoint = caller_services(router).webhook_endpoints.update(
        account_id(router), organisation_id, endpoint_id, changes
    )
    return json_response(200, WebhookEndpoint.of(endpoint))


@router.delete(ENDPOINT, summary="Delete a webhook endpoint")
def delete_webhook_endpoint(organisation_id: str, endpoint_id: str) -> Response[None]:
    caller_services(router).webhook_endpoints.delete(account_id(router), organisation_id, endpoint_id)
    return no_content()


@router.post(
    f"{ENDPOINT}/rotate_secret",
    summary="Rotate a webhook endpoint's signing secret",
    description=(
        "The answer holds the new `secret`, shown this once. The previous secret keeps signing "
        "deliveries for 24 hours (each delivery carries a signature per secret)."
    ),
)
def rotate_webhook_secret(organisation_id: str, endpoint_id: str) -> Response[WebhookEndpointWithSecret]:
    rotated = caller_services(router).webhook_endpoints.rotate_secret(
        account_id(router), organisation_id, endpoint_id
    )
    return json_response(200, _with_secret(rotated))
