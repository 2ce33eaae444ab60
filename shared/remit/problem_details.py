"""RFC 9457 problem details, shared by every function that answers HTTP (the API, the webhooks)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from http import HTTPStatus
from typing import Any

from remit.domain.errors import (
    ConcurrentUpdate,
    Conflict,
    DocumentUnavailable,
    DomainError,
    FieldProblem,
    InvalidInput,
    NotFound,
    NotPermitted,
    TooLarge,
    Unauthenticated,
    UnrenderableText,
)

PROBLEM_JSON = "application/problem+json"

_STATUS_OF: list[tuple[type[DomainError], int, str]] = [
    (Unauthenticated, 401, "unauthenticated"),
    (NotPermitted, 403, "forbidden"),
    (NotFound, 404, "not-found"),
    (TooLarge, 413, "payload-too-large"),
    (InvalidInput, 422, "invalid-fields"),
    (UnrenderableText, 422, "unrenderable-text"),
    (Conflict, 409, "conflict"),
    (ConcurrentUpdate, 409, "concurrent-update"),
    (DocumentUnavailable, 503, "document-unavailable"),
]
TYPE_BASE = "https://remit.dev/problems/"


def status_of(error: DomainError) -> tuple[int, str]:
    """The HTTP status and problem slug of a refusal: the API's answer and the dashboard's alike."""
    for kind, status, slug in _STATUS_OF:
        if isinstance(error, kind):
            return status, slug
    return 400, "bad-request"


def problem_document(
    status: int, slug: str, detail: str, problems: Sequence[FieldProblem] = (), **extra: Any
) -> dict[str, Any]:
    """The problem+json body: type, title, status, detail and, for field problems, `errors`."""
    body: dict[str, Any] = {
        "type": TYPE_BASE + slug,
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
    }
    if problems:
        body["errors"] = [
            {"field": p.field, "message": p.message} | ({"rule": p.rule} if p.rule else {}) for p in problems
        ]
    body.update(extra)
    return body


def proxy_problem(
    status: int, slug: str, detail: str, headers: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """A whole API Gateway proxy response carrying a problem (for answers given outside a router)."""
    return {
        "statusCode": status,
        "headers": {"Content-Type": PROBLEM_JSON, **(headers or {})},
        "body": json.dumps(problem_document(status, slug, detail)),
        "isBase64Encoded": False,
    }


def _field_name(location: Iterable[Any]) -> str:
    parts = [str(part) for part in location]
    if parts and parts[0] in {"body", "query", "path", "header"}:
        parts = parts[1:]
    return ".".join(parts) or "body"


def field_problems(errors: Iterable[Mapping[str, Any]]) -> list[FieldProblem]:
    """pydantic's validation errors as the fields and messages a problem document names: the
    API's 422 and the dashboard's forms say the same thing about the same input.
    """
    return [
        FieldProblem(
            _field_name(item["loc"]), str(item.get("msg", "is invalid")).removeprefix("Value error, ")
        )
        for item in errors
    ]
