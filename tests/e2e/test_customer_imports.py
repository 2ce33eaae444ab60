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


def test_a_50_mb_file_is_refused_clearly_by_the_front_and_changes_nothing(stack: RunningLocalStack) -> None:
    # Given an organisation, and a 50 MB CSV file (as API Gateway, the front takes at most 10 MB)
    org = call(stack, "POST", "/v1/organisations", {"name": "Big Files Ltd", "default_currency": "EUR"}, 201)[
        "id"
    ]
    row = b"Globex GmbH;ap@globex.test;K\xf6ln;DE;crm-1\n"
    huge = b"Company;E-mail;City;Country;Customer ID\n" + row * (50 * 1024 * 1024 // len(row))

    response = requests.post(
        stack.url(f"/v1/organisations/{org}/imports"),
        files={"file": ("customers.csv", huge, "text/csv")},
        headers=stack.auth(),
        timeout=60,
    )

    # Then the answer says why, as a problem, and no import or customer exists
    assert response.status_code == 413, response.text[:200]
    assert response.headers["Content-Type"].startswith("application/problem+json")
    assert "bytes" in response.json()["detail"]
    assert call(stack, "GET", f"/v1/organisations/{org}/imports")["data"] == []
    assert call(stack, "GET", f"/v1/organisations/{org}/customers")["data"] == []
