"""Exports: choose what to download (a period's invoices, credit notes, payments or customers as a
CSV for a spreadsheet, or the whole organisation as JSON Lines) and download it. The download is a
GET (it changes nothing, so it needs no CSRF token) answered, like the API's, by a redirect to the
file's short-lived address; roles are the API's (every role that reads may export).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from dashboard.page_request import PageRequest, page_request
from dashboard.rendering import Page, render, see_other
from remit.domain.errors import InvalidInput
from remit.domain.exports import ExportPeriod, parse_kind

router = APIGatewayRouter()

#: What the page offers, in its order: the accounting CSVs, then everything.
CHOICES = (
    ("invoices", "Invoices (CSV)"),
    ("credit_notes", "Credit notes (CSV)"),
    ("payments", "Payments (CSV)"),
    ("customers", "Customers (CSV)"),
    ("organisation", "Everything the organisation holds (JSON Lines)"),
)
EVERYTHING = "organisation"


def last_month(request: PageRequest) -> tuple[date, date]:
    """The calendar month before the request's, in the organisation's time zone: what an
    accountant asks for most (the request's own time, not a clock read)."""
    epoch_ms = (request.event.get("requestContext") or {}).get("requestTimeEpoch")
    moment = datetime.fromtimestamp(epoch_ms / 1000, UTC) if epoch_ms else datetime.now(UTC)
    today = moment.astimezone(ZoneInfo(request.org.timezone)).date()
    last = today.replace(day=1) - timedelta(days=1)
    return last.replace(day=1), last


def exports_page(request: PageRequest, status: int = 200, errors: dict[str, str] | None = None) -> Page:
    first, last = last_month(request)
    values = {
        "kind": request.query.get("kind", "invoices"),
        "from": request.query.get("from", first.isoformat()),
        "to": request.query.get("to", last.isoformat()),
    }
    return render(
        request,
        status,
        "exports/exports.html",
        title="Exports",
        section="Exports",
        choices=CHOICES,
        values=values,
        errors=errors or {},
    )


@router.get("/organisations/<organisation_id>/exports")
def exports(organisation_id: str) -> Page:
    return exports_page(page_request(router))


@router.get("/organisations/<organisation_id>/exports/download")
def download(organisation_id: str) -> Page:
    request = page_request(router)
    kind = request.query.get("kind", "")
    try:
        if kind == EVERYTHING:
            made = request.services.exports.organisation_jsonl(request.account_id, request.org.id)
        else:
            accounting_kind = parse_kind(kind)
            period = ExportPeriod.parse(request.query.get("from"), request.query.get("to"))
            made = request.services.exports.accounting_csv(
                request.account_id, request.org.id, accounting_kind, period
            )
    except InvalidInput as refused:
        return exports_page(request, 422, {problem.field: problem.message for problem in refused.problems})
    return see_other(made.url)
