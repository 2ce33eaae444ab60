"""`/v1/organisations/{organisation_id}/exports/…`: the books as files, answered as a redirect (303)
to a short-lived download address (docs/exports.md)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from api.http import account_id, caller_services
from remit.domain.exports import AccountingKind, ExportPeriod
from remit.ports.exports import ExportDownload

router = APIGatewayRouter()

_REDIRECT: dict[int, OpenAPIResponse] = {
    303: {"description": "The export is ready: `Location` downloads it for the next 5 minutes."}
}


@router.get(
    "/<organisation_id>/exports/<kind>.csv",
    summary="Export documents of a period as CSV",
    description=(
        "Invoices (by issue date; drafts never), credit notes (by issue date; amounts negative), "
        "payments (by date received; failed ones left out) or customers (by creation date) of the "
        "days `from` to `to`, both included, in the organisation's time zone: one row per document, "
        "UTF-8 with a byte order mark, CRLF, a header row, a `net_<rate>`/`tax_<rate>` column pair "
        "for each tax rate present. Text cells that a spreadsheet would read as a formula start "
        "with `'`. Answers `303` to the file."
    ),
    responses=_REDIRECT,
)
def export_csv(
    organisation_id: str,
    kind: Annotated[AccountingKind, Path(description="What to export.")],
    first: Annotated[date, Query(alias="from", description="The period's first day, YYYY-MM-DD.")],
    last: Annotated[
        date, Query(alias="to", description="The period's last day (included), on or after `from`.")
    ],
) -> Response[Any]:
    period = ExportPeriod.between(first, last)
    download = caller_services(router).exports.accounting_csv(
        account_id(router), organisation_id, kind, period
    )
    return _redirect(download)


@router.get(
    "/<organisation_id>/exports/organisation.jsonl",
    summary="Export everything the organisation owns as JSON Lines",
    description=(
        'One `{"type": …, "data": …}` a line, `data` exactly as the API answers that object: the '
        "organisation, its customers (each followed by its charges and credit-balance entries), "
        "invoices, credit notes, payments, refunds, subscriptions, billing templates, billing runs "
        "and webhook endpoints. No secret is ever part of it. Answers `303` to the file."
    ),
    responses=_REDIRECT,
)
def export_organisation(organisation_id: str) -> Response[Any]:
    download = caller_services(router).exports.organisation_jsonl(account_id(router), organisation_id)
    return _redirect(download)


def _redirect(download: ExportDownload) -> Response[Any]:
    return Response(303, headers={"Location": download.url, "Cache-Control": "no-store"})
