"""A customer import over HTTP against the local stack: a CSV file uploaded as a form, imported
by the billing queue's consumer, then imported again without duplicating anyone."""

from __future__ import annotations

import time
from typing import Any

import pytest
import requests

from tests.e2e.conftest import call
from tests.e2e.local_stack import RunningLocalStack

pytestmark = pytest.mark.e2e

CSV = (
    "Company;E-mail;City;Country;Customer ID\n"
    "Globex GmbH;ap@globex.test;Köln;DE;crm-1\n"
    "Initech Inc;ap@initech.test;Austin;US;crm-2\n"
).encode("cp1252")


def imported(stack: RunningLocalStack, org: str) -> dict[str, Any]:
    response = requests.post(
        stack.url(f"/v1/organisations/{org}/imports"),
        files={"file": ("customers.csv", CSV, "text/csv")},
        headers=stack.auth(),
        timeout=30,
    )
    assert response.status_code == 202, response.text
    record: dict[str, Any] = response.json()
    deadline = time.monotonic() + 60
    while record["status"] in ("pending", "running") and time.monotonic() < deadline:
        time.sleep(0.2)
        record = call(stack, "GET", f"/v1/organisations/{org}/imports/{record['id']}")
    return record


def test_a_csv_file_imports_through_the_local_stack_and_a_second_run_duplicates_nothing(
    stack: RunningLocalStack,
) -> None:
    org = call(stack, "POST", "/v1/organisations", {"name": "Acme Ltd", "default_currency": "EUR"}, 201)["id"]

    first = imported(stack, org)
    second = imported(stack, org)

    assert (first["status"], first["created"], first["failed"]) == ("completed", 2, 0)
    assert (second["status"], second["created"], second["unchanged"]) == ("completed", 0, 2)
    customers = call(stack, "GET", f"/v1/organisations/{org}/customers")["data"]
    assert [c["address"]["city"] for c in customers] == ["Köln", "Austin"]
