"""`/v1/organisations/{organisation_id}/subscriptions`: contracts billed by the daily invoicing cycle."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from api.http import (
    DEFAULT_LIMIT,
    Cursor,
    Limit,
    account_id,
    answered,
    caller_services,
    json_response,
    page_response,
)
from remit.domain.answers import Invoice, Subscription
from remit.domain.pagination import ListResponse
from remit.domain.subscription import CancelSubscription, NewSubscription, SubscriptionChanges

router = APIGatewayRouter()
SUBSCRIPTIONS = "/<organisation_id>/subscriptions"
SUBSCRIPTION = f"{SUBSCRIPTIONS}/<subscription_id>"


@router.post(SUBSCRIPTIONS, summary="Create a subscription (a draft until set live)")
def create_subscription(
    organisation_id: str, new: Annotated[NewSubscription, Body()]
) -> Response[Subscription]:
    return json_response(
        201,
        Subscription.of(
            caller_services(router).subscriptions.create(account_id(router), organisation_id, new)
        ),
    )


@router.get(SUBSCRIPTIONS, summary="List subscriptions")
def list_subscriptions(
    organisation_id: str, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
) -> Response[ListResponse[Subscription]]:
    return page_response(
        answered(
            caller_services(router).subscriptions.list(account_id(router), organisation_id, limit, cursor),
            Subscription.of,
        )
    )


@router.get(SUBSCRIPTION, summary="Retrieve a subscription")
def get_subscription(organisation_id: str, subscription_id: str) -> Response[Subscription]:
    subscription = caller_services(router).subscriptions.get(
        account_id(router), organisation_id, subscription_id
    )
    return json_response(200, Subscription.of(subscription))


@router.patch(SUBSCRIPTION, summary="Update a subscription (the schedule only until it has billed)")
def update_subscription(
    organisation_id: str, subscription_id: str, changes: Annotated[SubscriptionChanges, Body()]
) -> Response[Subscription]:
    subscription = caller_services(router).subscriptions.update(
        account_id(router), organisation_id, subscription_id, changes
    )
    return json_response(200, Subscription.of(subscription))


@router.post(f"{SUBSCRIPTION}/activate", summary="Set the subscription live")
def activate_subscription(organisation_id: str, subscription_id: str) -> Response[Subscription]:
    subscription = caller_services(router).subscriptions.activate(
        account_id(router), organisation_id, subscription_id
    )
    return json_response(200, Subscription.of(subscription))


@router.post(f"{SUBSCRIPTION}/pause", summary="Pause billing (periods passed while paused are skipped)")
def pause_subscription(organisation_id: str, subscription_id: str) -> Response[Subscription]:
    subscription = caller_services(router).subscriptions.pause(
        account_id(router), organisation_id, subscription_id
    )
    return json_response(200, Subscription.of(subscription))


@router.post(f"{SUBSCRIPTION}/resume", summary="Resume billing from the next period")
def resume_subscription(organisation_id: str, subscription_id: str) -> Response[Subscription]:
    subscription = caller_services(router).subscriptions.resume(
        account_id(router), organisation_id, subscription_id
    )
    return json_response(200, Subscription.of(subscription))


@router.post(f"{SUBSCRIPTION}/cancel", summary="Cancel, by default at the end of the current period")
def cancel_subscription(
    organisation_id: str,
    subscription_id: str,
    request: Annotated[CancelSubscription | None, Body()] = None,
) -> Response[Subscription]:
    subscription = caller_services(router).subscriptions.cancel(
        account_id(router), organisation_id, subscription_id, request or CancelSubscription()
    )
    return json_response(200, Subscription.of(subscription))


@router.get(f"{SUBSCRIPTION}/upcoming", summary="The next invoice as it would be issued (not stored)")
def upcoming_invoice(organisation_id: str, subscription_id: str) -> Response[Invoice]:
    invoice = caller_services(router).subscriptions.upcoming(
        account_id(router), organisation_id, subscription_id
    )
    return json_response(200, Invoice.of(invoice))
