"""The API Gateway REST API in front of the `api` function: proxy events in, proxy results out.

The deployed API is one `/{proxy+}` resource with a Lambda proxy integration (payload format
1.0) and the `BinaryMediaTypes` of `template.yaml`; this module builds the event that API
Gateway would build for a request, and turns the handler's result into the response API Gateway
would send, so that the handler cannot tell the two apart.
"""

from __future__ import annotations

import base64
import logging
import time
import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, unquote

from local.http_messages import HttpRequest, HttpResponse, json_response
from local.lambda_runtime import LocalFunction

logger = logging.getLogger(__name__)

STAGE = "local"
PROXY_RESOURCE = "/{proxy+}"
#: The template's `BinaryMediaTypes`: bodies of these types reach the handler base64-encoded.
BINARY_MEDIA_TYPES = frozenset(
    {"image/png", "image/jpeg", "image/svg+xml", "application/pdf", "multipart/form-data"}
)

# What API Gateway answers when the integration fails (handler raised or returned garbage).
_BAD_GATEWAY = {"message": "Internal server error"}


def proxy_event(request: HttpRequest, request_id: str, domain_name: str) -> dict[str, Any]:
    """The Lambda proxy integration event (payload 1.0) API Gateway would send for `request`.

    As in API Gateway REST APIs, `path` keeps its percent-encoding while the path parameter and
    query string values are decoded, and absent query strings or path parameters are `None`.
    """
    headers: dict[str, str] = {}
    multi_value_headers: dict[str, list[str]] = {}
    spelling: dict[str, str] = {}  # header names are case-insensitive; keep the first spelling seen
    for name, value in request.headers:
        key = spelling.setdefault(name.lower(), name)
        headers[key] = value
        multi_value_headers.setdefault(key, []).append(value)

    query: dict[str, str] = {}
    multi_value_query: dict[str, list[str]] = {}
    for name, value in parse_qsl(request.query, keep_blank_values=True):
        query[name] = value
        multi_value_query.setdefault(name, []).append(value)

    proxy = unquote(request.path.lstrip("/"))
    body, is_base64 = _event_body(request)
    now = datetime.now(UTC)
    return {
        "resource": PROXY_RESOURCE if proxy else "/",
        "path": request.path,
        "httpMethod": request.method,
        "headers": headers or None,
        "multiValueHeaders": multi_value_headers or None,
        "queryStringParameters": query or None,
        "multiValueQueryStringParameters": multi_value_query or None,
        "pathParameters": {"proxy": proxy} if proxy else None,
        "stageVariables": None,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "local",
            "domainName": domain_name,
            "domainPrefix": domain_name.split(".", 1)[0],
            "extendedRequestId": request_id,
            "httpMethod": request.method,
            "identity": {"sourceIp": request.source_ip, "userAgent": request.user_agent},
            "path": request.path,
            "protocol": "HTTP/1.1",
            "requestId": request_id,
            "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "requestTimeEpoch": int(now.timestamp() * 1000),
            "resourceId": "local",
            "resourcePath": PROXY_RESOURCE if proxy else "/",
            "stage": STAGE,
        },
        "body": body,
        "isBase64Encoded": is_base64,
    }


def proxy_response(result: Any) -> HttpResponse:
    """The HTTP response API Gateway makes of a proxy integration result; 502 for a malformed one.

    `headers` and `multiValueHeaders` are merged as API Gateway does: a header named in
    `multiValueHeaders` takes its values from there only.
    """
    if not isinstance(result, dict) or not isinstance(result.get("statusCode"), int):
        logger.error("the api function returned a malformed proxy result: %r", result)
        return json_response(502, _BAD_GATEWAY)
    multi_value_headers: dict[str, list[Any]] = result.get("multiValueHeaders") or {}
    overridden = {name.lower() for name in multi_value_headers}
    headers = [
        (name, str(value))
        for name, value in (result.get("headers") or {}).items()
        if name.lower() not in overridden
    ]
    headers += [(name, str(value)) for name, values in multi_value_headers.items() for value in values]

    body = result.get("body") or ""
    try:
        payload = base64.b64decode(body, validate=True) if result.get("isBase64Encoded") else body.encode()
    except (ValueError, AttributeError):
        logger.error("the api function returned a body that does not match isBase64Encoded")
        return json_response(502, _BAD_GATEWAY)
    return HttpResponse(result["statusCode"], headers, payload)


class ApiGateway:
    """Serves requests through the `api` function, as the deployed API Gateway stage does."""

    def __init__(self, function: LocalFunction, domain_name: str) -> None:
        self._function = function
        self._domain_name = domain_name

    def handle(self, request: HttpRequest) -> HttpResponse:
        """Invoke the function with the request's proxy event and return its response.

        A handler that raises gets a 502, as in API Gateway; the traceback goes to the log.
        """
        request_id = str(uuid.uuid4())
        event = proxy_event(request, request_id, self._domain_name)
        started = time.perf_counter()
        try:
            result = self._function.invoke(event, request_id)
        except Exception:
            elapsed_ms = (time.perf_counter() - started) * 1000
            logger.exception("the api function raised after %.0f ms (request %s)", elapsed_ms, request_id)
            response = json_response(502, _BAD_GATEWAY)
        else:
            response = proxy_response(result)
        # API Gateway names the request in every response, which is what a bug report should quote.
        headers = [*response.headers, ("x-amzn-RequestId", request_id)]
        return HttpResponse(response.status, headers, response.body)


def _event_body(request: HttpRequest) -> tuple[str | None, bool]:
    if not request.body:
        return None, False
    media_type = (request.header("Content-Type") or "").split(";", 1)[0].strip().lower()
    if media_type in BINARY_MEDIA_TYPES:
        return base64.b64encode(request.body).decode(), True
    # API Gateway passes text through as it came; undecodable bytes cannot be carried in JSON text.
    return request.body.decode("utf-8", errors="replace"), False
