"""RFC 9457 problem details: the one place exceptions become HTTP error responses."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError

from remit.domain.errors import (
    DocumentUnavailable,
    DomainError,
    FieldProblem,
)
from remit.problem_details import PROBLEM_JSON, field_problems, problem_document, status_of


def problem(
    status: int, slug: str, detail: str, problems: Sequence[FieldProblem] = (), **extra: Any
) -> Response[str]:
    body = problem_document(status, slug, detail, problems, **extra)
    return Response(status_code=status, content_type=PROBLEM_JSON, body=json.dumps(body))


def from_domain_error(error: DomainError) -> Response[str]:
    status, slug = status_of(error)
    response = problem(status, slug, error.detail, getattr(error, "problems", ()))
    if isinstance(error, DocumentUnavailable):
        response.headers["Retry-After"] = str(error.retry_after)
    return response


def from_validation_error(error: RequestValidationError) -> Response[str]:
    """Malformed JSON or a body that is not an object is 400; anything else names its fields in a 422."""
    errors = error.errors()
    if any(item["loc"] and item["loc"][0] == "response" for item in errors):
        # Our own answer failed its schema: a bug, never the caller's fault.
        return problem(500, "internal-error", "The response could not be produced.")
    if any(item["type"] == "json_invalid" for item in errors):
        return problem(400, "malformed-body", "The request body is not valid JSON.")
    body_shape = [item for item in errors if tuple(item["loc"]) == ("body",)]
    if body_shape:
        return problem(400, "malformed-body", "The request body must be a JSON object.")
    problems = field_problems(errors)
    summary = "; ".join(f"{p.field}: {p.message}" for p in problems)
    return problem(422, "invalid-fields", f"Invalid fields: {summary}", problems)
