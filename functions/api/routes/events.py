"""`/v1/organisations/{organisation_id}/events`: what changed, oldest first."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from api.http import DEFAULT_LIMIT, Cursor, Limit, account_id, caller_services, json_response, page_response
from remit.domain.events import Event
from remit.domain.pagination import ListResponse

router = APIGatewayRouter()


@router.get(
    "/<organisation_id>/events",
    summary="List events, oldest first",
    description=(
        "Every change the API or Remit's background work makes to an organisation's invoices, payments, "
        "credit notes, customers, subscriptions and billing runs, each with the object as the API shows "
        "it after the change and the object's `sequence`. Kept 90 days."
    ),
)
def list_events(
    organisation_id: str,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
    event_type: Annotated[
        str | None,
        Query(alias="type", description="An event type, `invoice.*` for every type of one object, or `*`."),
    ] = None,
    object_id: Annotated[str | None, Query(description="Only the events of this object.")] = None,
    created_gte: Annotated[
        datetime | None, Query(description="Only events created at or after this time.")
    ] = None,
    created_lt: Annotated[datetime | None, Query(description="Only events created before this time.")] = None,
) -> Response[ListResponse[Event]]:
    page = caller_services(router).events.list(
        account_id(router),
        organisation_id,
        limit,
        cursor,
        event_type=event_type,
        object_id=object_id,
        created_gte=created_gte,
        created_lt=created_lt,
    )
    return page_response(page)


@router.get("/<organisation_id>/events/<event_id>", summary="Retrieve an event")
def get_event(organisation_id: str, event_id: str) -> Response[Event]:
    return json_response(
        200, caller_services(router).events.get(account_id(router), organisation_id, event_id)
    )
