"""The dashboard's Exports page: choose what and the period, download the file."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from tests.integration.dashboard_browser import account_with_user, signed_in, text_of
from tests.integration.exports_helpers import csv_rows, jsonl_lines
from tests.integration.roles import account_with_roles
from tests.integration.test_dashboard_customers import add_customer, org_path

pytestmark = pytest.mark.usefixtures("user_pool")


def file_at(location: str) -> bytes:
    from urllib.parse import unquote, urlparse

    address = urlparse(location)
    if ".s3" in address.netloc:
        bucket, key = address.netloc.split(".s3")[0], unquote(address.path).lstrip("/")
    else:
        bucket, key = unquote(address.path).lstrip("/").split("/", 1)
    content: bytes = boto3.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
    return content


def test_the_exports_page_offers_each_kind_and_last_month_by_default() -> None:
    _account_id, organisation_id = account_with_user("owner@exports.test", "Ledger Ltd")
    browser = signed_in("owner@exports.test")

    page = browser.request("GET", org_path(organisation_id, "exports"))

    assert page["statusCode"] == 200
    text = text_of(page["body"])
    for label in ("Invoices (CSV)", "Credit notes (CSV)", "Payments (CSV)", "Customers (CSV)", "JSON Lines"):
        assert label in text
    assert 'type="date"' in page["body"]
    assert 'name="from"' in page["body"]
    assert 'aria-current="page">Exports<' in page["body"]


def test_downloading_a_csv_leads_to_the_file_with_the_periods_documents() -> None:
    # Given an organisation with a customer whose name a spreadsheet would run as a formula
    account_id, organisation_id = account_with_user("owner@exports.test", "Ledger Ltd")
    customer = add_customer(account_id, organisation_id, name="=1+1")
    browser = signed_in("owner@exports.test")
    day = customer.created_at.date().isoformat()

    # When the customers of that day are downloaded
    answer = browser.request(
        "GET", org_path(organisation_id, f"exports/download?kind=customers&from={day}&to={day}")
    )

    # Then the browser is sent to the file, which holds that customer, defused
    assert answer["statusCode"] == 303
    rows = csv_rows(file_at(answer["headers"]["Location"]))
    assert [(row["customer_id"], row["name"]) for row in rows] == [(customer.id, "'=1+1")]


def test_downloading_everything_leads_to_the_json_lines_file() -> None:
    account_id, organisation_id = account_with_user("owner@exports.test", "Ledger Ltd")
    add_customer(account_id, organisation_id)
    browser = signed_in("owner@exports.test")

    answer = browser.request("GET", org_path(organisation_id, "exports/download?kind=organisation"))

    assert answer["statusCode"] == 303
    lines = jsonl_lines(file_at(answer["headers"]["Location"]))
    assert [line["type"] for line in lines] == ["organisation", "customer"]
    assert lines[0]["data"]["name"] == "Ledger Ltd"


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("kind=invoices&from=2026-11-30&to=2026-11-01", "to: Must be on or after"),
        ("kind=invoices&from=&to=2026-11-01", "from: Required"),
        ("kind=quotes&from=2026-11-01&to=2026-11-30", "kind: One of invoices"),
    ],
)
def test_a_bad_choice_shows_the_page_again_saying_what_is_wrong(query: str, message: str) -> None:
    _, organisation_id = account_with_user("owner@exports.test", "Ledger Ltd")
    browser = signed_in("owner@exports.test")

    answer = browser.request("GET", org_path(organisation_id, f"exports/download?{query}"))

    assert answer["statusCode"] == 422
    assert message in text_of(answer["body"])


def test_every_role_may_export_since_every_role_reads_the_documents() -> None:
    people = account_with_roles()

    statuses: dict[str, Any] = {
        role: browser.request(
            "GET",
            org_path(people.organisation_id, "exports/download?kind=invoices&from=2026-01-01&to=2026-12-31"),
        )["statusCode"]
        for role, browser in people.browsers.items()
    }

    assert set(statuses.values()) == {303}
