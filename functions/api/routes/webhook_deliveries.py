"""Webhook deliveries: each endpoint's attempt log, and an event sent again to an endpoint."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from api.http import DEFAULT_LIMIT, Cursor, Limit, account_id, caller_services, json_response, page_response
from remit.domain.deliveries import DeliveryAttempt, DeliveryOrder, EventReplay, EventResend, ReplayQueued
from remit.domain.pagination import ListResponse

router = APIGatewayRouter()


@router.get(
    "/<organisation_id>/webhook_endpoints/<endpoint_id>/deliveries",
    summary="List an endpoint's delivery attempts, newest first",
    description=(
        "Each attempt to post an event to the endpoint: when, the attempt's number (a failed attempt "
        "is retried with backoff for about 3 days), the status code or the error (refused address, "
        "timeout, connection refused, a redirect: never followed), how long it took and the first "
        "1 KB of the answer. Kept 30 days."
    ),
)
def list_webhook_deliveries(
    organisation_id: str, endpoint_id: str, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
) -> Response[ListResponse[DeliveryAttempt]]:
    page = caller_services(router).webhook_deliveries.attempts(
        account_id(router), organisation_id, endpoint_id, limit, cursor
    )
    return page_response(page)


@router.post(
    "/<organisation_id>/events/<event_id>/resend",
    summary="Send an event to an endpoint again",
    description=(
        "Queues a new delivery of the event to the endpoint (attempt 1, then retries as usual), "
        "whatever was delivered before; the receiver sees the same `webhook-id`. `202`: queued. "
        "`404` for an unknown event or endpoint."
    ),
)
def resend_event(
    organisation_id: str, event_id: str, resend: Annotated[EventResend, Body()]
) -> Response[DeliveryOrder]:
    order = caller_services(router).webhook_deliveries.resend(
        account_id(router), organisation_id, event_id, resend.endpoint_id
    )
    return json_response(202, order)


@router.post(
    "/<organisation_id>/webhook_endpoints/<endpoint_id>/test",
    summary="Send an endpoint a test event",
    description=(
        "Stores a `webhook_endpoint.test` event about the endpoint and queues it to this endpoint only "
        "(never to the others, whatever events they want), delivered as any event: signed, logged in "
        "the endpoint's deliveries, retried on failure. `202`: queued; the answer names the event. "
        "`404` for an unknown endpoint."
    ),
)
def send_test_event(organisation_id: str, endpoint_id: str) -> Response[DeliveryOrder]:
    order = caller_services(router).webhook_deliveries.send_test(
        account_id(router), organisation_id, endpoint_id
    )
    return json_response(202, order)


@router.post(
    "/<organisation_id>/webhook_endpoints/<endpoint_id>/replay",
    summary="Send an endpoint every event of a time range again",
    description=(
        "Queues, as new deliveries, every event created at or after `created_gte` and before "
        "`created_lt` that the endpoint wants, oldest first (events are kept 90 days). At most 5000 "
        "in one call: `continue_from` is then where the next call's `created_gte` starts. `202`."
    ),
)
def replay_events(
    organisation_id: str, endpoint_id: str, replay: Annotated[EventReplay, Body()]
) -> Response[ReplayQueued]:
    queued = caller_services(router).webhook_deliveries.replay(
        account_id(router), organisation_id, endpoint_id, replay.created_gte, replay.created_lt
    )
    return json_response(202, queued)
