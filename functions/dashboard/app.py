"""The dashboard function: `/dashboard` and `/dashboard/{proxy+}`, server-rendered HTML for people.

It calls the same services as the API (`remit.bootstrap.services()`), never the API over HTTP, so
a change made in one shows in the other at once. Powertools routes it as it routes the API: an
`APIGatewayRestResolver`, one `Router` per section (each module of `dashboard.pages`), included
here one by one; the checks every page passes (session, CSRF, the organisation in the path) are
middleware (`dashboard.checks`); failures become pages in one place, the exception handlers
below. Pages are readable without script; the vendored htmx (`assets/`) only makes links and
forms swap the page in place. `docs/dashboard.md` describes it all.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from dashboard import checks
from dashboard.pages import (
    account,
    billing,
    billing_templates,
    bulk_billing,
    credit_notes,
    customers,
    developers,
    exports,
    imports,
    invoices,
    organisations,
    saved_cards,
    session,
    settings,
    sign_in_steps,
    subscriptions,
)
from dashboard.rendering import Page, render
from remit import snapstart
from remit.adapters.aws_errors import RETRY_AFTER_SECONDS, is_transient
from remit.domain.errors import DocumentUnavailable, DomainError, NotFound
from remit.observability import logger
from remit.problem_details import status_of

app = APIGatewayRestResolver()
app.use(middlewares=checks.PAGE_CHECKS)
app.include_router(organisations.router, prefix="/dashboard")
app.include_router(customers.router, prefix="/dashboard")
app.include_router(saved_cards.router, prefix="/dashboard")
app.include_router(imports.router, prefix="/dashboard")
app.include_router(billing.router, prefix="/dashboard")
app.include_router(invoices.router, prefix="/dashboard")
app.include_router(credit_notes.router, prefix="/dashboard")
app.include_router(subscriptions.router, prefix="/dashboard")
app.include_router(billing_templates.router, prefix="/dashboard")
app.include_router(bulk_billing.router, prefix="/dashboard")
app.include_router(exports.router, prefix="/dashboard")
app.include_router(settings.router, prefix="/dashboard")
app.include_router(developers.router, prefix="/dashboard")
app.include_router(account.router, prefix="/dashboard")
app.include_router(session.router, prefix="/dashboard")
app.include_router(sign_in_steps.router, prefix="/dashboard")

# SnapStart: the snapshot holds the templates; a restore renews random state, clients and settings.
snapstart.register_hooks()


@app.not_found
def handle_not_found(_: Exception) -> Page:
    """The not-found page for a path the dashboard does not have; 405 with `Allow` for a method a
    known path refuses.
    """
    request = checks.current_request(app)
    allowed = checks.allowed_methods(app, request.path)
    if allowed:
        page = render(request, 405, "not_found.html", title="Not allowed")
        page.headers["Allow"] = ", ".join(allowed)
        return page
    return render(request, 404, "not_found.html", title="Not found")


@app.exception_handler(NotFound)
def handle_missing(_: NotFound) -> Page:
    return render(checks.current_request(app), 404, "not_found.html", title="Not found")


@app.exception_handler(DomainError)
def handle_refusal(refused: DomainError) -> Page:
    """A refusal the handler let through: the refused page with the API's own message and status."""
    status, _ = status_of(refused)
    page = render(
        checks.current_request(app), status, "refused.html", title="Not done", detail=refused.detail
    )
    if isinstance(refused, DocumentUnavailable):
        page.headers["Retry-After"] = str(refused.retry_after)
    return page


@app.exception_handler(Exception)
def handle_failure(error: Exception) -> Page:
    """A failure that is not a refusal: a page that says so (503 and `Retry-After` for AWS
    throttling or timeouts beyond botocore's retries, as the API answers; 500 otherwise), logged
    with the request's id, instead of API Gateway's bare 502.
    """
    request = checks.current_request(app)
    if is_transient(error):
        logger.warning("Transient AWS failure", exc_info=error)
        detail = f"Remit is busy; try again shortly. ({request.request_id})"
        page = render(request, 503, "refused.html", title="Busy", detail=detail)
        page.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return page
    logger.exception("Unhandled error")
    detail = f"Something went wrong on our side. Reference: {request.request_id}"
    return render(request, 500, "refused.html", title="Something went wrong", detail=detail, unchanged=False)


@dataclass(frozen=True)
class PageRoute:
    """One page the dashboard serves: its method, its path (ids as `{name}`), whether it is public."""

    method: str
    path: str
    public: bool


def page_routes() -> list[PageRoute]:
    """Every page the dashboard serves, in the order they are matched."""
    routes = app._static_routes + app._dynamic_routes
    return [
        PageRoute(route.method, route.openapi_path, checks.is_public(route.openapi_path)) for route in routes
    ]


def single_valued_headers(answer: dict[str, Any]) -> dict[str, Any]:
    """The resolver's answer with each header in `headers`, as the dashboard has always answered;
    a header given several values (two cookies) keeps them all in `multiValueHeaders`, which API
    Gateway reads first for that name.
    """
    multi: dict[str, list[str]] = answer.pop("multiValueHeaders", None) or {}
    answer["headers"] = {name: values[-1] for name, values in multi.items() if values}
    several = {name: values for name, values in multi.items() if len(values) > 1}
    if several:
        answer["multiValueHeaders"] = several
    return answer


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if str(event.get("httpMethod") or "").upper() == "HEAD":
        # A HEAD is answered as the GET of the same page (API Gateway sends no body back for it).
        event = {**event, "httpMethod": "GET"}
    return single_valued_headers(app.resolve(event, context))
