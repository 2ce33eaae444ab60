"""`/v1/organisations/{organisation_id}/customers/{customer_id}/charges` and `…/balance_transactions`."""

from __future__ import annotations

from typing import Annotated, Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from api.http import (
    DEFAULT_LIMIT,
    Cursor,
    Limit,
    account_id,
    caller_services,
    json_response,
    no_content,
    page_response,
)
from remit.domain.charge import Charge, NewCharge
from remit.domain.pagination import ListResponse
from remit.domain.payment import BalanceTransaction, NewBalanceTransaction

router = APIGatewayRouter()
CUSTOMER = "/<organisation_id>/customers/<customer_id>"


@router.post(f"{CUSTOMER}/charges", summary="Add a charge to invoice later")
def create_charge(
    organisation_id: str, customer_id: str, new: Annotated[NewCharge, Body()]
) -> Response[Charge]:
    charge = caller_services(router).charges.create(account_id(router), organisation_id, customer_id, new)
    return json_response(201, charge)


@router.get(f"{CUSTOMER}/charges", summary="List a customer's charges")
def list_charges(
    organisation_id: str,
    customer_id: str,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
    status: Annotated[Literal["open", "invoiced"] | None, Query()] = None,
) -> Response[ListResponse[Charge]]:
    page = caller_services(router).charges.list_charges(
        account_id(router), organisation_id, customer_id, limit, cursor, status
    )
    return page_response(page)


@router.delete(f"{CUSTOMER}/charges/<charge_id>", summary="Delete an open charge")
def delete_charge(organisation_id: str, customer_id: str, charge_id: str) -> Response[None]:
    caller_services(router).charges.delete(account_id(router), organisation_id, customer_id, charge_id)
    return no_content()


@router.post(f"{CUSTOMER}/balance_transactions", summary="Add or remove credit")
def adjust_balance(
    organisation_id: str, customer_id: str, new: Annotated[NewBalanceTransaction, Body()]
) -> Response[BalanceTransaction]:
    entry = caller_services(router).payments.adjust_balance(
        account_id(router), organisation_id, customer_id, new
    )
    return json_response(201, entry)


@router.get(f"{CUSTOMER}/balance_transactions", summary="List credit-balance changes")
def list_balance_transactions(
    organisation_id: str, customer_id: str, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
) -> Response[ListResponse[BalanceTransaction]]:
    page = caller_services(router).payments.balance_transactions(
        account_id(router), organisation_id, customer_id, limit, cursor
    )
    return page_response(page)
