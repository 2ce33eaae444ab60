"""`/v1/organisations`: create, list, read, change, and upload or remove the logo."""

from __future__ import annotations

import base64
from typing import Annotated, Any

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
from remit.domain.answers import Organisation
from remit.domain.organisation import NewOrganisation, OrganisationChanges
from remit.domain.pagination import ListResponse

router = APIGatewayRouter()


@router.post("", summary="Create an organisation", responses={201: {"description": "Created"}})
def create_organisation(new: Annotated[NewOrganisation, Body()]) -> Response[Organisation]:
    organisation = caller_services(router).organisations.create(account_id(router), new)
    return json_response(201, Organisation.of(organisation))


@router.get("", summary="List organisations")
def list_organisations(
    limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
) -> Response[ListResponse[Organisation]]:
    return page_response(
        answered(
            caller_services(router).organisations.list(account_id(router), limit, cursor), Organisation.of
        )
    )


@router.get("/<organisation_id>", summary="Retrieve an organisation")
def get_organisation(organisation_id: str) -> Response[Organisation]:
    return json_response(
        200, Organisation.of(caller_services(router).organisations.get(account_id(router), organisation_id))
    )


@router.patch("/<organisation_id>", summary="Update an organisation")
def update_organisation(
    organisation_id: str, changes: Annotated[OrganisationChanges, Body()]
) -> Response[Organisation]:
    organisation = caller_services(router).organisations.update(account_id(router), organisation_id, changes)
    return json_response(200, Organisation.of(organisation))


@router.put(
    "/<organisation_id>/logo",
    summary="Upload the logo",
    description=(
        "The image bytes as `Content-Type` image/png, image/jpeg or image/svg+xml; at most 1 MB and "
        "4,000,000 pixels. The stored logo is drawn from it: PNG (an SVG is drawn into a PNG) or JPEG, "
        "fitted into 720 x 240 pixels. The logo it replaces is no longer served."
    ),
)
def upload_logo(organisation_id: str) -> Response[Organisation]:
    event = router.current_event
    raw: Any = event.body or ""
    content = base64.b64decode(raw) if event.is_base64_encoded else raw.encode("utf-8")
    content_type = event.headers.get("Content-Type") or event.headers.get("content-type") or ""
    organisation = caller_services(router).organisations.upload_logo(
        account_id(router), organisation_id, content, content_type, public_base_url(router)
    )
    return json_response(200, Organisation.of(organisation))


@router.delete(
    "/<organisation_id>/logo",
    summary="Remove the logo",
    description=(
        "`branding.logo_url` becomes null and the logo is no longer served; invoices issued with it keep it."
    ),
)
def remove_logo(organisation_id: str) -> Response[None]:
    caller_services(router).organisations.remove_logo(account_id(router), organisation_id)
    return no_content()
