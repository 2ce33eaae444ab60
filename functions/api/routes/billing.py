"""`/v1/organisations/{organisation_id}/billing` and `…/billing_templates`."""

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
    no_content,
    page_response,
    public_base_url,
)
from remit.domain.answers import BillingRun, BillingTemplate, Invoice
from remit.domain.billing_template import (
    BillingTemplateChanges,
    BulkBillingRequest,
    NewBillingTemplate,
    TemplateInvoiceRequest,
)
from remit.domain.pagination import ListResponse

router = APIGatewayRouter()
TEMPLATE = "/<organisation_id>/billing_templates/<template_id>"


@router.post(
    "/<organisation_id>/billing",
    summary="Invoice several customers at once (a billing run, issued in the background)",
)
def bill_customers(
    organisation_id: str, request: Annotated[BulkBillingRequest, Body()]
) -> Response[BillingRun]:
    run = caller_services(router).billing_runs.bill_customers(
        account_id(router), organisation_id, request, public_base_url(router)
    )
    response = json_response(202, BillingRun.of(run))
    response.headers["Location"] = f"/v1/organisations/{organisation_id}/billing_runs/{run.id}"
    return response


@router.get("/<organisation_id>/billing_runs", summary="List billing runs")
def list_billing_runs(
    organisation_id: str, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
) -> Response[ListResponse[BillingRun]]:
    return page_response(
        answered(
            caller_services(router).billing_runs.list_runs(
                account_id(router), organisation_id, limit, cursor
            ),
            BillingRun.of,
        )
    )


@router.get("/<organisation_id>/billing_runs/<run_id>", summary="A billing run's progress")
def get_billing_run(organisation_id: str, run_id: str) -> Response[BillingRun]:
    return json_response(
        200,
        BillingRun.of(caller_services(router).billing_runs.run(account_id(router), organisation_id, run_id)),
    )


@router.post("/<organisation_id>/billing_templates", summary="Create a billing template")
def create_template(
    organisation_id: str, new: Annotated[NewBillingTemplate, Body()]
) -> Response[BillingTemplate]:
    return json_response(
        201,
        BillingTemplate.of(
            caller_services(router).billing_runs.create_template(account_id(router), organisation_id, new)
        ),
    )


@router.get("/<organisation_id>/billing_templates", summary="List billing templates")
def list_templates(
    organisation_id: str, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
) -> Response[ListResponse[BillingTemplate]]:
    page = caller_services(router).billing_runs.list_templates(
        account_id(router), organisation_id, limit, cursor
    )
    return page_response(answered(page, BillingTemplate.of))


@router.get(TEMPLATE, summary="Retrieve a billing template")
def get_template(organisation_id: str, template_id: str) -> Response[BillingTemplate]:
    return json_response(
        200,
        BillingTemplate.of(
            caller_services(router).billing_runs.template(account_id(router), organisation_id, template_id)
        ),
    )


@router.patch(TEMPLATE, summary="Update a billing template")
def update_template(
    organisation_id: str, template_id: str, changes: Annotated[BillingTemplateChanges, Body()]
) -> Response[BillingTemplate]:
    template = caller_services(router).billing_runs.update_template(
        account_id(router), organisation_id, template_id, changes
    )
    return json_response(200, BillingTemplate.of(template))


@router.delete(TEMPLATE, summary="Delete a billing template")
def delete_template(organisation_id: str, template_id: str) -> Response[None]:
    caller_services(router).billing_runs.delete_template(account_id(router), organisation_id, template_id)
    return no_content()


@router.post(f"{TEMPLATE}/send_invoice", summary="Send one invoice from the template")
def send_template_invoice(
    organisation_id: str, template_id: str, request: Annotated[TemplateInvoiceRequest, Body()]
) -> Response[Invoice]:
    invoice = caller_services(router).billing_runs.send_template_invoice(
        account_id(router), organisation_id, template_id, request.customer_id, public_base_url(router)
    )
    return json_response(201, Invoice.of(invoice))
