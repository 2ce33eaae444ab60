"""What the generated OpenAPI document needs beyond what Powertools writes from the routes.

Powertools writes each operation from its route: path, parameters, request and success models,
and a 422 in its own shape. The API answers errors as RFC 9457 problems, groups its operations by
resource and expects JSON bodies, so every operation here gets: its resource's tag; the problem
answers it can give (`application/problem+json`, one `Problem` schema); and the 422 in the shape
the API really answers. Applied once to the generated document (`api.app.openapi_document`).
"""

from __future__ import annotations

from typing import Any

from remit.domain.logos import LOGO_TYPES

PROBLEM_JSON = "application/problem+json"

PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": "Problem",
    "description": "An RFC 9457 problem: what went wrong, and for a 422 each invalid field.",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {
            "type": "string",
            "format": "uri",
            "examples": ["https://remit.dev/problems/invalid-fields"],
        },
        "title": {"type": "string", "examples": ["Unprocessable Content"]},
        "status": {"type": "integer", "minimum": 400, "maximum": 599, "examples": [422]},
        "detail": {"type": "string", "examples": ["Invalid fields: email: 'x' is not an email address"]},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "message"],
                "properties": {
                    "field": {"type": "string"},
                    "message": {"type": "string"},
                    "rule": {
                        "type": "string",
                        "description": "The official rule an e-invoice breaks (`BR-DE-15`), for a refused "
                        "finalization or credit note.",
                    },
                },
            },
        },
        "request_id": {"type": "string"},
    },
}

_ERRORS = {
    "400": "The body is not UTF-8 JSON, not a JSON object, or nests deeper than 32 levels.",
    "401": "No valid API key.",
    "403": "The API key is read-only: it may not change anything.",
    "404": "Not found, or it belongs to another account.",
    "409": "Not allowed in the resource's current state, or a conflict.",
    "413": "The body is larger than the API reads (1 MB of JSON).",
    "415": "The body is not sent as application/json.",
    "422": "A field is invalid; each is named in `errors`.",
    "429": "Throttled: try again later.",
    "500": "A bug on our side (never expected).",
    "503": "The document could not be produced; the failure is recorded. Retry after `Retry-After` seconds.",
}

# The first path segment after the organisation, and the tag of its operations.
_TAGS = {
    "customers": "Customers",
    "charges": "Charges",
    "balance_transactions": "Credit balance",
    "invoices": "Invoices",
    "payments": "Payments",
    "billing": "Bulk billing",
    "billing_runs": "Bulk billing",
    "billing_templates": "Billing templates",
    "subscriptions": "Subscriptions",
    "payment_provider": "Card payments",
    "webhook_endpoints": "Webhook endpoints",
    "exports": "Exports",
    "imports": "Imports",
}


def tag_of(path: str) -> str:
    """The resource an operation belongs to, from its path."""
    parts = [part for part in path.split("/") if part]
    if parts[:2] != ["v1", "organisations"]:
        return "Hosted invoice page" if parts[:1] == ["i"] else "Operations"
    if parts[3:4] == ["events"]:
        return "Events"  # the organisation's events (an invoice's timeline stays with invoices)
    resource = "Organisations"
    for part in parts[3:]:
        resource = _TAGS.get(part, resource)
    return resource


# Constraints pydantic leaves under their Python names when it cannot place them (an annotated
# StrictInt with a validator), and their JSON Schema names.
_KEYWORDS = {"gt": "exclusiveMinimum", "ge": "minimum", "lt": "exclusiveMaximum", "le": "maximum"}


def _json_schema_keywords(node: Any) -> None:
    if isinstance(node, dict):
        if node.get("type") in ("integer", "number"):
            for python, keyword in _KEYWORDS.items():
                if python in node:
                    node[keyword] = node.pop(python)
        for value in node.values():
            _json_schema_keywords(value)
    elif isinstance(node, list):
        for value in node:
            _json_schema_keywords(value)


# Collections a POST adds to (answered 201 with the new resource); `billing` records a run (202).
_CREATED_BY_POST = {
    "organisations",
    "customers",
    "charges",
    "invoices",
    "payments",
    "balance_transactions",
    "billing_templates",
    "subscriptions",
    "send_invoice",  # a billing template's invoice
    "portal_sessions",
}


# Reads that depend on the resource's state: a cancelled subscription has no upcoming invoice.
_CONFLICTING_READS = ("/upcoming",)
# Documents rendered on demand: a draft has none (409), text no font draws refuses one (422), and a
# render that failed is remembered and answered 503 until it is tried again.
_RENDERED_DOCUMENTS = ("/pdf",)


def _success_status(path: str, method: str, operation: dict[str, Any]) -> None:
    """Powertools documents every success as 200; the API answers 201, 202 and 204 where it says."""
    responses = operation.get("responses", {})
    last = path.rstrip("/").rsplit("/", 1)[-1]
    status = None
    if method == "delete":
        status = "204"
    elif method == "post" and last in _CREATED_BY_POST:
        status = "201"
    elif method == "post" and last in ("billing", "imports"):
        status = "202"
    if status is None or "200" not in responses or status in responses:
        return
    success = responses.pop("200")
    if status == "204":
        success = {"description": "Deleted."}
    responses[status] = success


def _logo_body(document: dict[str, Any]) -> None:
    """The logo upload reads its body itself (an image, not JSON): Powertools cannot declare it."""
    upload = document.get("paths", {}).get("/v1/organisations/{organisation_id}/logo", {}).get("put")
    if upload is not None:
        image = {"schema": {"type": "string", "format": "binary", "maxLength": 1_000_000}}
        upload["requestBody"] = {"required": True, "content": dict.fromkeys(LOGO_TYPES, image)}


def _import_body(document: dict[str, Any]) -> None:
    """The import reads its body itself (a form with a file, or JSON rows): Powertools cannot declare it."""
    from remit.domain.import_mapping import PRESETS
    from remit.domain.imports import ImportRequest

    operation = document.get("paths", {}).get("/v1/organisations/{organisation_id}/imports", {}).get("post")
    if operation is None:
        return
    form = {
        "type": "object",
        "required": ["file"],
        "properties": {
            "file": {"type": "string", "format": "binary", "description": "CSV, JSON array or JSON Lines."},
            "mapping": {"type": "string", "description": "A JSON object: column name → customer field."},
            "dry_run": {"type": "string", "enum": ["true", "false"]},
            "preset": {"type": "string", "enum": list(PRESETS)},
        },
    }
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schema = ImportRequest.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(schema.pop("$defs", {}))
    schemas["ImportRequest"] = schema
    operation["requestBody"] = {
        "required": True,
        "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/ImportRequest"}},
            "multipart/form-data": {"schema": form},
        },
    }


def _distinct_titles(schemas: dict[str, Any]) -> None:
    """pydantic splits a model whose answer differs from its request into `X-Input` and `X-Output`,
    both titled `X`; generators name classes by title, so the answer's becomes `XOutput`."""
    for name, schema in schemas.items():
        if name.endswith("-Output") and f"{name.removesuffix('-Output')}-Input" in schemas:
            schema["title"] = f"{schema.get('title', name.removesuffix('-Output'))}Output"


def complete(document: dict[str, Any]) -> dict[str, Any]:
    """The document with tags, the problem answers of every operation and the `Problem` schema."""
    _json_schema_keywords(document.get("components", {}))
    _logo_body(document)
    _import_body(document)
    _distinct_titles(document.get("components", {}).get("schemas", {}))
    document.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
    problem = {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for path, item in document.get("paths", {}).items():
        public = path in ("/health",) or path.startswith("/i/")
        for method, operation in item.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            operation["tags"] = [tag_of(path)]
            _success_status(path, method, operation)
            codes = ["429", "500"]
            if not public:
                codes.append("401")
                if method != "get":
                    codes.append("403")
            if "{" in path:
                codes.append("404")
            if method != "get" or path.endswith(_CONFLICTING_READS):
                codes.append("409")
            if path.endswith(_RENDERED_DOCUMENTS):
                codes += ["409", "422", "503"]
            if "requestBody" in operation:
                codes += ["400", "413", "415", "422"]
            elif any(p.get("in") == "query" for p in operation.get("parameters", [])):
                codes.append("422")
            responses = operation.setdefault("responses", {})
            if "303" in responses:
                # A redirect to a file made for the caller (an export): no body, the address in `Location`.
                responses["303"].pop("content", None)
                responses["303"]["headers"] = {
                    "Location": {"description": "Where to download the file.", "schema": {"type": "string"}}
                }
            if "422" in responses:
                codes.append("422")  # in the problem shape the API answers, not Powertools' own
            for code in sorted(set(codes)):
                responses[code] = {"description": _ERRORS[code], "content": problem}
    document.get("components", {}).get("schemas", {}).pop("HTTPValidationError", None)
    return document
