"""Public operational routes: health, and logos for emails and pages."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from api.http import upload_response
from remit.bootstrap import services

router = APIGatewayRouter()


@router.get("/health", summary="Health check", include_in_schema=False)
def health() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/assets/logos/<organisation_id>/<file_name>", include_in_schema=False, enable_validation=False)
def logo(organisation_id: str, file_name: str) -> Response[Any]:
    """The organisation's current logo; a replaced or removed one is not found."""
    return upload_response(*services().organisations.current_logo(organisation_id, file_name))
