"""The HTTP request and response values the local front passes between its parts.

The front parses the wire format once into an `HttpRequest`; the API Gateway emulation and the
dev routes answer with an `HttpResponse`. Neither of them touches sockets.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from remit.problem_details import PROBLEM_JSON, problem_document
from remit.request_bodies import UnreadableBody, read_json

JSON = "application/json"


@dataclass(frozen=True)
class HttpRequest:
    """One request as the client sent it: raw path and query (still percent-encoded), headers in order."""

    method: str
    path: str
    query: str
    headers: list[tuple[str, str]]
    body: bytes
    source_ip: str
    user_agent: str | None = None

    def header(self, name: str) -> str | None:
        """The last value of header `name` (case-insensitive), or None when absent."""
        wanted = name.lower()
        found = None
        for key, value in self.headers:
            if key.lower() == wanted:
                found = value
        return found


@dataclass(frozen=True)
class HttpResponse:
    """One response: status, headers in order (repeats allowed) and the body bytes."""

    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""


def json_response(status: int, document: Any) -> HttpResponse:
    """A JSON response with `document` serialised as UTF-8."""
    return HttpResponse(status, [("Content-Type", JSON)], json.dumps(document).encode())


def problem_response(
    status: int, slug: str, detail: str, errors: list[dict[str, str]] | None = None
) -> HttpResponse:
    """An RFC 9457 problem details response, shaped as the API's own."""
    problem = problem_document(status, slug, detail, **({"errors": errors} if errors else {}))
    return HttpResponse(status, [("Content-Type", PROBLEM_JSON)], json.dumps(problem).encode())


class RequestRejected(Exception):
    """Raised while reading a request to answer it with `response` (a 4xx problem) instead."""

    def __init__(self, response: HttpResponse) -> None:
        super().__init__(response.status)
        self.response = response


def json_object_body(request: HttpRequest) -> dict[str, Any]:
    """The request body as a JSON object. Raises `RequestRejected` (400, or 413 for one over 1 MB)
    when it is not one, however large or deeply nested it is (`remit.request_bodies`).
    """
    try:
        document = read_json(request.body or b"null")
    except UnreadableBody as refused:
        raise RequestRejected(problem_response(refused.status, refused.slug, refused.detail)) from None
    if not isinstance(document, dict):
        raise RequestRejected(
            problem_response(400, "malformed-body", "The request body must be a JSON object.")
        )
    return document
