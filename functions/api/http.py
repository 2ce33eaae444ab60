"""Small helpers every router shares: the caller's account and services, JSON responses, served
uploads, the public base URL.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Annotated

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayRouter
from pydantic import BaseModel

from remit.bootstrap import Services, services
from remit.domain.pagination import DEFAULT_PAGE_SIZE, ListResponse, Page, PageSize
from remit.domain.roles import Caller

Limit = Annotated[PageSize, Query(description="Page size, 1 to 100.")]
Cursor = Annotated[str | None, Query(description="`next_cursor` of the previous page.")]
DEFAULT_LIMIT = DEFAULT_PAGE_SIZE


def account_id(router: APIGatewayRouter) -> str:
    """The account authenticated by the handler's key check (see `api.app`): the caller's."""
    caller: Caller = router.context["caller"]
    return caller.account_id


def caller_services(router: APIGatewayRouter) -> Services:
    """The services as the request's API key may use them (a read-only key only reads): every
    route that needs a key reaches the services this way.
    """
    caller: Caller = router.context["caller"]
    return services().acting_as(caller)


def request_of(router: APIGatewayRouter) -> str | None:
    """A key naming this request, from its `Idempotency-Key` and body (None without the header): a
    service that records it answers a retry of a write that landed (its answer lost) as it did."""
    event = router.current_event
    key = event.headers.get("Idempotency-Key") or event.headers.get("idempotency-key")
    if key is None:
        return None
    named = f"{account_id(router)}\n{event.path}\n{key}\n{event.body or ''}"
    return hashlib.sha256(named.encode()).hexdigest()


def json_response[ModelT: BaseModel](status: int, model: ModelT) -> Response[ModelT]:
    """The model as JSON; Powertools serializes it as the route's return annotation declares."""
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=model)


def page_response[ItemT](page: Page[ItemT]) -> Response[ListResponse[ItemT]]:
    body = ListResponse[ItemT](data=page.items, next_cursor=page.next_cursor)
    return Response(status_code=200, content_type=content_types.APPLICATION_JSON, body=body)


def answered[EntityT, AnswerT](page: Page[EntityT], answer: Callable[[EntityT], AnswerT]) -> Page[AnswerT]:
    """The page with each entity as the API answers it (`remit.domain.answers`)."""
    return Page([answer(item) for item in page.items], page.next_cursor)


def no_content() -> Response[None]:
    return Response(status_code=204, body=None)


# An uploaded file is untrusted content served from the API's (and the dashboard's) host: even a
# browser that opens it as a page of its own runs nothing, loads nothing and guesses no other type.
UPLOAD_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; sandbox",
    "X-Content-Type-Options": "nosniff",
    # A logo can be replaced or removed at any time: caches keep it five minutes, not for good.
    "Cache-Control": "public, max-age=300",
}


def upload_response(content: bytes, content_type: str) -> Response[bytes]:
    """A stored upload (a logo) as served: its bytes, its stored type, `UPLOAD_HEADERS`."""
    return Response(status_code=200, content_type=content_type, body=content, headers=dict(UPLOAD_HEADERS))


def public_base_url(router: APIGatewayRouter) -> str:
    """Where this API is reached from outside: the configured URL, or the one this request came to."""
    from remit.public_url import public_base_url as base_url

    event = router.current_event
    domain = event.request_context.domain_name or event.headers.get("Host")
    return base_url(services().settings.public_base_url, domain, event.request_context.stage)
