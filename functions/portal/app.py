"""The customer portal function: `/p/{org_id}` and below, server-rendered HTML for an
organisation's customers, signed in by a one-time link (`docs/portal.md`).

It calls the same services as the API (`remit.bootstrap.services()`). Pages hold no script and
work without it. Every path names the organisation; a signed-in page reaches only the signed-in
customer's records, anything else answers the not-found page (404), as an unknown or disabled
portal does.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from portal import account, cards, multi_pay, sign_in
from portal.web import Page, PortalRequest, not_found, page, unavailable
from remit import snapstart
from remit.adapters.aws_errors import RETRY_AFTER_SECONDS, is_transient
from remit.domain.errors import DocumentUnavailable, NotFound
from remit.observability import logger

app = APIGatewayRestResolver()
app.include_router(sign_in.router)
app.include_router(account.router)
app.include_router(multi_pay.router)
app.include_router(cards.router)

snapstart.register_hooks()


def _request() -> PortalRequest:
    return PortalRequest(app.current_event.raw_event)


@app.not_found
def handle_not_found(_: Exception) -> Page:
    return not_found(_request())


@app.exception_handler(NotFound)
def handle_missing(_: NotFound) -> Page:
    return not_found(_request())


@app.exception_handler(DocumentUnavailable)
def handle_unavailable(error: DocumentUnavailable) -> Page:
    return unavailable(_request(), error.retry_after)


@app.exception_handler(Exception)
def handle_failure(error: Exception) -> Page:
    if is_transient(error):
        answer = page(
            _request(),
            503,
            "refused.html",
            "Try again in a moment",
            None,
            message="The service is busy.",
            back="",
        )
        answer.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return answer
    logger.exception("Portal page failed")
    return page(
        _request(),
        500,
        "refused.html",
        "Something went wrong",
        None,
        message="Please try again later.",
        back="",
    )


def _single_valued_headers(answer: dict[str, Any]) -> dict[str, Any]:
    """Each header in `headers`; one given several values (two cookies) keeps them all in
    `multiValueHeaders`, which API Gateway reads first for that name.
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
        event = {**event, "httpMethod": "GET"}
    return _single_valued_headers(app.resolve(event, context))
