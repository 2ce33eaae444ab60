"""`/v1/organisations/{organisation_id}/customers`."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from api.http import (
    DEFAULT_LIMIT,
    Cursor,
    Limit,
    account_id,
    answered,
    caller_services,
    json_response,
    no_content,
    page_response,
    public_base_url,
)
from remit.domain.answers import Customer
from remit.domain.customer import CustomerChanges, NewCustomer
from remit.domain.pagination import ListResponse
from remit.domain.portal import PortalSessionLink

router = APIGatewayRouter()


@router.post("/<organisation_id>/customers", summary="Create a customer")
def create_customer(organisation_id: str, new: Annotated[NewCustomer, Body()]) -> Response[Customer]:
    return json_response(
        201, Customer.of(caller_services(router).customers.create(account_id(router), organisation_id, new))
    )


@router.get(
    "/<organisation_id>/customers", summary="List customers, find one by external id, or search by name"
)
def list_customers(
    organisation_id: str,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
    external_id: Annotated[str | None, Query(description="Find the customer with this external id.")] = None,
    name_prefix: Annotated[
        str | None,
        Query(
            max_length=100,
            description=(
                "Customers whose name starts with this (case and accents aside), in name order. "
                "Ignored with `external_id`."
            ),
        ),
    ] = None,
) -> Response[ListResponse[Customer]]:
    page = caller_services(router).customers.list(
        account_id(router), organisation_id, limit, cursor, external_id, name_prefix
    )
    return page_response(answered(page, Customer.of))


@router.get("/<organisation_id>/customers/<customer_id>", summary="Retrieve a customer")
def get_customer(organisation_id: str, customer_id: str) -> Response[Customer]:
    return json_response(
        200,
        Customer.of(caller_services(router).customers.get(account_id(router), organisation_id, customer_id)),
    )


@router.patch("/<organisation_id>/customers/<customer_id>", summary="Update a customer")
def update_customer(
    organisation_id: str, customer_id: str, changes: Annotated[CustomerChanges, Body()]
) -> Response[Customer]:
    customer = caller_services(router).customers.update(
        account_id(router), organisation_id, customer_id, changes
    )
    return json_response(200, Customer.of(customer))


@router.delete("/<organisation_id>/customers/<customer_id>", summary="Delete a customer")
def delete_customer(organisation_id: str, customer_id: str) -> Response[None]:
    caller_services(router).customers.delete(account_id(router), organisation_id, customer_id)
    return no_content()


@router.post(
    "/<organisation_id>/customers/<customer_id>/portal_sessions",
    summary="Make a one-time portal sign-in link for a customer",
    description=(
        "For a platform that signs its customers in itself: redirect the customer to `url` within "
        "5 minutes; it signs them in to the organisation's customer portal once. `409` when the "
        "organisation's portal is disabled."
    ),
)
def create_portal_session(organisation_id: str, customer_id: str) -> Response[PortalSessionLink]:
    link = caller_services(router).portal.issue_link(
        account_id(router), organisation_id, customer_id, public_base_url(router)
    )
    return json_response(201, PortalSessionLink(url=link.url, expires_at=link.expires_at))
