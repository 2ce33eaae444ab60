"""Exports in the local stack: the API's redirect leads to the file, served by the embedded AWS
emulation, as `make run` serves it to a browser on this machine."""

from __future__ import annotations

import csv
import io
import json

import pytest
import requests

from tests.e2e.conftest import call
from tests.e2e.local_stack import RunningLocalStack

pytestmark = pytest.mark.e2e


def test_a_months_invoices_and_the_whole_organisation_download_through_the_local_stack(
    stack: RunningLocalStack,
) -> None:
    # Given an organisation with a finalized invoice to a customer with a non-Latin name
    organisation = call(
        stack, "POST", "/v1/organisations", {"name": "Export Ltd", "default_currency": "EUR"}, 201
    )
    base = f"/v1/organisations/{organisation['id']}"
    customer = call(
        stack,
        "POST",
        f"{base}/customers",
        {"name": "Müller & Söhne ☕", "email": "ap@mueller.test", "tax_rate": "19"},
        201,
    )
    draft = call(
        stack,
        "POST",
        f"{base}/invoices",
        {"customer_id": customer["id"], "line_items": [{"description": "Beans", "unit_amount": 1000}]},
        201,
    )
    invoice = call(stack, "POST", f"{base}/invoices/{draft['id']}/finalize")
    day = invoice["issue_date"]

    # When the day's invoices are exported and the redirect followed, as a browser would
    answer = requests.get(
        stack.url(f"{base}/exports/invoices.csv?from={day}&to={day}"),
        headers=stack.auth(),
        timeout=30,
        allow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    download = requests.get(answer.headers["Location"], timeout=30)

    # Then the file is the CSV with that invoice, named for the period
    assert download.status_code == 200, download.text
    assert download.headers["Content-Disposition"] == f'attachment; filename="invoices_{day}_{day}.csv"'
    assert download.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(download.content.decode("utf-8-sig"), newline="")))
    assert [(row["number"], row["customer_name"], row["total"], row["tax_19.00"]) for row in rows] == [
        (invoice["number"], "Müller & Söhne ☕", "11.90", "1.90")
    ]

    # And the whole organisation downloads as JSON Lines, the invoice as the API answers it
    answer = requests.get(stack.url(f"{base}/exports/organisation.jsonl"), headers=stack.auth(), timeout=30)
    assert answer.status_code == 200, answer.text
    lines = [json.loads(line) for line in answer.text.splitlines()]
    assert [line["type"] for line in lines] == ["organisation", "customer", "invoice"]
    assert lines[2]["data"] == call(stack, "GET", f"{base}/invoices/{invoice['id']}")
