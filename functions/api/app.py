"""The API function: API Gateway proxy events in, Remit services called, JSON (or problem+json) out.

Authentication happens before routing, so a request without a valid key is `401` whatever its
body; routes then find the caller (its account, and whether its key may only read) in the router
context, and reach the services as that caller (`api.http.caller_services`). A read-only key's
POST, PUT, PATCH or DELETE is `403` before anything else reads it: before its body is checked and
before an `Idempotency-Key` could replay a change made with another key. Then the body is checked
before anything parses it (`remit.request_bodies`): no body, however large or nested, reaches a
parser that could fail on it.
"""

from __future__ import annotations

import json
import re
from functools import cache
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from api import idempotency
from api.problems import from_domain_error, from_validation_error, problem
from api.routes import (
    billing,
    charges,
    credit_notes,
    customers,
    einvoices,
    events,
    exports,
    hosted,
    imports,
    invoices,
    operations,
    organisations,
    payment_provider,
    saved_cards,
    subscriptions,
    webhook_deliveries,
    webhook_endpoints,
)
from remit import request_bodies, snapstart
from remit.adapters.aws_errors import RETRY_AFTER_SECONDS, is_transient
from remit.bootstrap import services
from remit.domain.errors import DomainError, Unauthenticated
from remit.domain.roles import Caller
from remit.observability import logger, metrics
from remit.problem_details import proxy_problem

PUBLIC_PATHS = ("/health", "/openapi.json", "/docs", "/assets/", "/i/")
DOCS_PATH = "/docs"

app = APIGatewayRestResolver(enable_validation=True)
app.use(middlewares=[idempotency.idempotent_posts])
app.include_router(operations.router)
app.include_router(organisations.router, prefix="/v1/organisations")
app.include_router(customers.router, prefix="/v1/organisations")
app.include_router(saved_cards.router, prefix="/v1/organisations")
app.include_router(charges.router, prefix="/v1/organisations")
app.include_router(invoices.router, prefix="/v1/organisations")
app.include_router(credit_notes.router, prefix="/v1/organisations")
app.include_router(einvoices.router, prefix="/v1/organisations")
app.include_router(billing.router, prefix="/v1/organisations")
app.include_router(subscriptions.router, prefix="/v1/organisations")
app.include_router(payment_provider.router, prefix="/v1/organisations")
app.include_router(webhook_endpoints.router, prefix="/v1/organisations")
app.include_router(webhook_deliveries.router, prefix="/v1/organisations")
app.include_router(events.router, prefix="/v1/organisations")
app.include_router(exports.router, prefix="/v1/organisations")
app.include_router(imports.router, prefix="/v1/organisations")
app.include_router(hosted.router)


def openapi_settings() -> dict[str, Any]:
    """The OpenAPI document's title and security scheme.

    Powertools' OpenAPI models (~200 ms of pydantic classes) load here, so only the requests that
    describe the API (`/openapi.json`, `/docs`) pay for them, never a cold start.
    """
    from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer

    return {
        "title": "Remit API",
        "version": "1.0.0",
        "description": "Invoicing and payments: organisations, customers, invoices and payments.",
        "security_schemes": {"bearerAuth": HTTPBearer(description="Your API key")},
        "security": [{"bearerAuth": []}],
    }


@cache
def openapi_document() -> str:
    """The OpenAPI document generated from the routes, with tags and the problem answers added."""
    from api import openapi

    generated = json.loads(app.get_openapi_json_schema(**openapi_settings()))
    return json.dumps(openapi.complete(generated))


# SnapStart: the snapshot holds the services and the OpenAPI document; a restore renews the rest.
snapstart.register_hooks(also_prime=openapi_document, also_renew=idempotency.reset)


@cache
def enable_docs() -> None:
    """Registers the Swagger UI route `/docs`, on the first request for it (see `openapi_settings`)."""
    app.enable_swagger(path=DOCS_PATH, **openapi_settings())


@app.get("/openapi.json", include_in_schema=False)
def openapi() -> Response[str]:
    return Response(status_code=200, content_type=content_types.APPLICATION_JSON, body=openapi_document())


@app.exception_handler(DomainError)
def handle_domain_error(error: DomainError) -> Response[str]:
    return from_domain_error(error)


@app.exception_handler(RequestValidationError)
def handle_validation_error(error: RequestValidationError) -> Response[str]:
    return from_validation_error(error)


@app.not_found
def handle_not_found(_: Exception) -> Response[str]:
    """404 for a path the API does not have; 405 with `Allow` for a method a known path refuses."""
    event = app.current_event
    allowed = allowed_methods(event.path)
    if allowed:
        response = problem(
            405,
            "method-not-allowed",
            f"{event.path} does not accept {event.http_method}: it accepts {', '.join(allowed)}.",
        )
        response.headers["Allow"] = ", ".join(allowed)
        return response
    return problem(404, "not-found", f"No route {event.http_method} {event.path}.")


def allowed_methods(path: str) -> list[str]:
    """The methods the API serves at `path` (none: the path is unknown)."""
    # Powertools keeps its routes in these two lists; reading them spares a second route table.
    routes = app._static_routes + app._dynamic_routes
    methods = {route.method for route in routes if route.rule.match(path)}
    return sorted(methods)


@app.exception_handler(Exception)
def handle_unexpected(error: Exception) -> Response[str]:
    request_id = app.current_event.request_context.request_id
    if is_transient(error):
        # Throttled or timed out beyond botocore's retries: nothing half-written, the client retries.
        logger.warning("Transient AWS failure", exc_info=error)
        metrics.add_metric(name="TransientFailures", unit=MetricUnit.Count, value=1)
        response = problem(
            503, "service-unavailable", "Remit is busy; retry the request shortly.", request_id=request_id
        )
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    logger.exception("Unhandled error")
    return problem(500, "internal-error", "Something went wrong on our side.", request_id=request_id)


# Bodies that are not JSON: the logo upload (an image, with its own limit) and the hosted page's
# checkout form.
_LOGO = re.compile(r"^/v1/organisations/[^/]+/logo$")
_CHECKOUT_FORM = re.compile(r"^/i/[^/]+/checkout$")
# A customer import may send its file as a form (its own limit: `Settings.max_import_bytes`).
_IMPORT_FORM = re.compile(r"^/v1/organisations/[^/]+/imports$")
# Room for the form's other fields and its parts' headers beside the file.
_FORM_OVERHEAD_BYTES = 64 * 1024


def _refused_body(event: dict[str, Any], path: str) -> dict[str, Any] | None:
    """A problem for a body the API cannot read, answered before anything parses it.

    Any body: flagged base64 but not (400). The checkout form: larger than a form may be (413), or
    JSON that could not be read (below). Every other body is JSON: not sent as JSON (415), larger
    than 1 MB (413), not UTF-8, nested deeper than 32 levels or malformed (400), or not an object
    (400; `null` stands for no body where a body is optional).
    """
    method = str(event.get("httpMethod") or "").upper()
    body = event.get("body")
    if method not in ("POST", "PUT", "PATCH") or not body:
        return None  # no body: nothing to read (POST …/finalize needs no Content-Type)
    headers = {name.lower(): str(value) for name, value in (event.get("headers") or {}).items()}
    media_type = headers.get("content-type", "").split(";", 1)[0].strip().lower()
    try:
        raw = request_bodies.body_bytes(body, base64_encoded=bool(event.get("isBase64Encoded")))
        if _LOGO.match(path):
            return None
        if _IMPORT_FORM.match(path) and media_type == "multipart/form-data":
            limit = services().settings.max_import_bytes
            request_bodies.check_form(raw, media_type, max_bytes=limit + _FORM_OVERHEAD_BYTES)
            return None
        if _CHECKOUT_FORM.match(path) and media_type != "application/json":
            request_bodies.check_form(raw, media_type)
            return None
        if media_type != "application/json":
            sent = f"a {media_type} body" if media_type else "a body without a Content-Type"
            return proxy_problem(
                415,
                "unsupported-media-type",
                f"Send the body as JSON, with Content-Type: application/json (not {sent}).",
            )
        parsed = request_bodies.read_json(raw)
    except request_bodies.UnreadableBody as refused:
        return proxy_problem(refused.status, refused.slug, refused.detail)
    if parsed is not None and not isinstance(parsed, dict) and not _CHECKOUT_FORM.match(path):
        return proxy_problem(400, "malformed-body", "The request body must be a JSON object.")
    return None


def _needs_key(path: str) -> bool:
    return not (path == "/" or path.startswith(PUBLIC_PATHS))


def _unauthenticated(error: Unauthenticated) -> dict[str, Any]:
    return proxy_problem(401, "unauthenticated", error.detail, {"WWW-Authenticate": 'Bearer realm="remit"'})


# Methods that only read; every other method changes something.
_READS = ("GET", "HEAD", "OPTIONS")


def _refused_method(caller: Caller, event: dict[str, Any], path: str) -> dict[str, Any] | None:
    """403 for a change sent with a key that may only read (the services would refuse it too)."""
    method = str(event.get("httpMethod") or "GET").upper()
    if method in _READS or not caller.reads_only:
        return None
    return proxy_problem(403, "forbidden", caller.refusal(f"{method} {path}").detail)


def _authorization(event: dict[str, Any]) -> str | None:
    for name, value in (event.get("headers") or {}).items():
        if name.lower() == "authorization":
            return str(value)
    return None


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    idempotency.register_context(context)
    path = event.get("path") or "/"
    if path.rstrip("/") == DOCS_PATH:
        enable_docs()
    refused = None
    if _needs_key(path):
        try:
            caller = services().accounts.authenticate(_authorization(event))
        except Unauthenticated as error:
            return _unauthenticated(error)
        app.append_context(caller=caller)
        logger.append_keys(account_id=caller.account_id, api_key_id=caller.key_id)
        refused = _refused_method(caller, event, path)
    refused = refused or _refused_body(event, path)
    response = refused if refused is not None else app.resolve(event, context)
    metrics.add_metric(name=f"Responses{response['statusCode'] // 100}xx", unit=MetricUnit.Count, value=1)
    # API Gateway's access log cannot see the account a key belongs to (only an authorizer could
    # tell it): this line names it, with the same request id (`correlation_id`) as the access log.
    logger.info(
        "Request answered",
        extra={"http_method": event.get("httpMethod"), "path": path, "status": response["statusCode"]},
    )
    return response
