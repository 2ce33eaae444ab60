"""`/v1/organisations/{organisation_id}/imports`: customers brought in from a file or JSON rows."""

from __future__ import annotations

import base64
import json
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from api.http import (
    DEFAULT_LIMIT,
    Cursor,
    Limit,
    account_id,
    answered,
    caller_services,
    json_response,
    page_response,
)
from remit.domain.answers import Import
from remit.domain.changes import build
from remit.domain.errors import InvalidInput
from remit.domain.import_mapping import PRESETS, Preset
from remit.domain.imports import ImportRequest
from remit.domain.pagination import ListResponse
from remit.multipart_forms import parse_multipart

router = APIGatewayRouter()

_DESCRIPTION = (
    "Either `multipart/form-data` with the file (`file`: CSV in any common encoding and delimiter with a "
    "header row, or a JSON array or JSON Lines of customers such as an organisation's export), and "
    "optionally `mapping` (a JSON object, column → field), `dry_run` (`true`) and `preset` "
    '(`stripe_customers`, `invoiceninja_clients`); or JSON `{"kind": "customers", "rows": [...]}`. '
    "Answers `202` with the import, `pending`; the rows are imported in the background "
    "(`GET …/imports/{import_id}` follows them). A file over the limit is `413`; a file that cannot be "
    "read is `422` naming `file`, and nothing is stored."
)
_TRUE = ("true", "1", "on", "yes")


def _form_import(organisation_id: str, content_type: str, raw: bytes) -> Import:
    fields, files = parse_multipart(content_type, raw)
    uploads = files.get("file") or []
    if not uploads:
        raise InvalidInput.single("file", "a file is required (the form's `file` part)")
    mapping: dict[str, str] | None = None
    given = (fields.get("mapping") or [""])[-1].strip()
    if given:
        try:
            parsed: Any = json.loads(given)
        except ValueError:
            parsed = None
        if not isinstance(parsed, dict) or not all(isinstance(v, str) for v in parsed.values()):
            raise InvalidInput.single("mapping", "must be a JSON object of column names to customer fields")
        mapping = parsed
    preset_given = (fields.get("preset") or [""])[-1].strip() or None
    if preset_given is not None and preset_given not in PRESETS:
        raise InvalidInput.single("preset", f"must be one of {', '.join(PRESETS)}")
    preset: Preset | None = preset_given
    record = caller_services(router).imports.import_file(
        account_id(router),
        organisation_id,
        uploads[-1].content,
        mapping=mapping,
        dry_run=(fields.get("dry_run") or ["false"])[-1].strip().lower() in _TRUE,
        preset=preset,
    )
    return Import.of(record)


@router.post(
    "/<organisation_id>/imports", summary="Import customers (in the background)", description=_DESCRIPTION
)
def import_customers(organisation_id: str) -> Response[Import]:
    event = router.current_event
    body: str = event.body or ""
    raw = base64.b64decode(body) if event.is_base64_encoded else body.encode("utf-8")
    content_type = event.headers.get("Content-Type") or event.headers.get("content-type") or ""
    if content_type.split(";", 1)[0].strip().lower() == "multipart/form-data":
        answer = _form_import(organisation_id, content_type, raw)
    else:
        request = build(ImportRequest, json.loads(raw) if raw.strip() else {})
        answer = Import.of(
            caller_services(router).imports.import_rows(account_id(router), organisation_id, request)
        )
    response = json_response(202, answer)
    response.headers["Location"] = f"/v1/organisations/{organisation_id}/imports/{answer.id}"
    return response


@router.get("/<organisation_id>/imports", summary="List imports, newest first")
def list_imports(
    organisation_id: str, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
) -> Response[ListResponse[Import]]:
    page = caller_services(router).imports.list(account_id(router), organisation_id, limit, cursor)
    return page_response(answered(page, Import.of))


@router.get("/<organisation_id>/imports/<import_id>", summary="An import's progress and report")
def get_import(organisation_id: str, import_id: str) -> Response[Import]:
    record = caller_services(router).imports.get(account_id(router), organisation_id, import_id)
    return json_response(200, Import.of(record))
