"""Helpers for customer import tests: a form with a file, an import run through the billing queue."""

from __future__ import annotations

import json
import uuid
from typing import Any

from tests.integration.api_client import ApiClient, ApiResponse
from tests.integration.billing_queue import BillingQueue


def form(fields: dict[str, str], file: bytes | None, filename: str = "customers.csv") -> tuple[bytes, str]:
    """A `multipart/form-data` body and its content type."""
    boundary = f"----remit{uuid.uuid4().hex}"
    body = b""
    for name, value in fields.items():
        body += f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
    if file is not None:
        body += (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
            "Content-Type: text/csv\r\n\r\n"
        ).encode()
        body += file + b"\r\n"
    body += f"--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def upload(
    api: ApiClient,
    organisation_id: str,
    content: bytes,
    *,
    mapping: dict[str, str] | None = None,
    dry_run: bool = False,
    preset: str | None = None,
) -> ApiResponse:
    fields = {"dry_run": "true" if dry_run else "false"}
    if mapping is not None:
        fields["mapping"] = json.dumps(mapping)
    if preset is not None:
        fields["preset"] = preset
    body, content_type = form(fields, content)
    return api.post(
        f"/v1/organisations/{organisation_id}/imports", raw_body=body, headers={"Content-Type": content_type}
    )


def run_import(api: ApiClient, organisation_id: str, content: bytes, **options: Any) -> dict[str, Any]:
    """Upload the file, let the worker import it, and answer the import as `GET` shows it then."""
    started = upload(api, organisation_id, content, **options)
    assert started.status == 202, started.body
    BillingQueue().drain(rounds=200)
    finished = api.get(f"/v1/organisations/{organisation_id}/imports/{started.json()['id']}")
    assert finished.status == 200, finished.body
    answer: dict[str, Any] = finished.json()
    return answer


def customers_of(api: ApiClient, organisation_id: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    cursor = ""
    while True:
        page = api.get(f"/v1/organisations/{organisation_id}/customers?limit=100{cursor}").json()
        found += page["data"]
        if not page["next_cursor"]:
            return found
        cursor = f"&cursor={page['next_cursor']}"
