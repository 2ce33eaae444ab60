"""Moving an organisation's customers: exported from one organisation (the JSON Lines file and the
customers CSV, downloaded as a user would) and imported into a fresh one, they come back the same,
and importing the same file again changes nothing."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.api_client import ApiClient
from tests.integration.customer_imports import customers_of, run_import
from tests.integration.exports_helpers import downloaded

# What identifies a customer within its organisation, or is kept by it: never carried across.
NOT_CARRIED = {"id", "organisation_id", "created_at", "updated_at", "balance", "balances"}

CUSTOMERS: list[dict[str, Any]] = [
    {
        "name": "Globex GmbH",
        "email": "ap@globex.test",
        "first_name": "Hank",
        "last_name": "Scorpio",
        "country": "DE",
        "currency": "EUR",
        "preferred_locale": "de",
        "tax_rate": "19.00",
        "vat_id": "DE136695976",
        "external_ids": ["crm-1", "stripe-cus_9"],
        "address": {"line1": "Hauptstraße 1", "city": "Köln", "postal_code": "50667", "country": "DE"},
        "payment_terms_days": 14,
        "send_reminders": False,
        "contacts": [{"name": "Accounts", "email": "books@globex.test", "preferences": ["billing"]}],
        "metadata": {"segment": "enterprise"},
    },
    {
        "name": "株式会社東京商事",
        "email": "keiri@tokyo.test",
        "country": "JP",
        "currency": "JPY",
        "external_ids": ["crm-2"],
        "payment_terms_days": 30,
    },
    {
        "name": '=HYPERLINK("http://evil.test","Click")',
        "email": "mallory@evil.test",
        "currency": "USD",
        "address": {"line1": "<script>alert(1)</script>", "city": "Springfield", "country": "US"},
    },
]


@pytest.fixture
def organisations(api: ApiClient) -> tuple[str, str]:
    source = api.post("/v1/organisations", {"name": "Old Ltd", "default_currency": "EUR"})
    target = api.post("/v1/organisations", {"name": "New Ltd", "default_currency": "EUR"})
    assert (source.status, target.status) == (201, 201)
    for customer in CUSTOMERS:
        created = api.post(f"/v1/organisations/{source.json()['id']}/customers", customer)
        assert created.status == 201, created.body
    return source.json()["id"], target.json()["id"]


def comparable(customer: dict[str, Any]) -> dict[str, Any]:
    kept = {name: value for name, value in customer.items() if name not in NOT_CARRIED}
    kept["contacts"] = [{k: v for k, v in c.items() if k != "id"} for c in customer["contacts"]]
    return kept


def by_email(customers: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {customer["email"]: comparable(customer) for customer in customers}


def test_the_organisation_export_reimports_every_customer_as_it_was(
    api: ApiClient, organisations: tuple[str, str]
) -> None:
    source, target = organisations
    # Given the source organisation's JSON Lines export, downloaded through its redirect
    content, _ = downloaded(api, f"/v1/organisations/{source}/exports/organisation.jsonl")

    # When the file is imported into the fresh organisation
    report = run_import(api, target, content)

    # Then every customer is there once, with the same fields under new ids
    assert (report["status"], report["created"], report["updated"], report["failed"]) == (
        "completed",
        len(CUSTOMERS),
        0,
        0,
    )
    assert by_email(customers_of(api, target)) == by_email(customers_of(api, source))

    # And a second run of the same file creates nothing and changes nothing
    again = run_import(api, target, content)
    assert (again["created"], again["failed"]) == (0, 0)
    assert again["updated"] + again.get("unchanged", 0) == len(CUSTOMERS)
    assert by_email(customers_of(api, target)) == by_email(customers_of(api, source))


def test_the_customers_csv_reimports_its_columns_with_the_suggested_mapping(
    api: ApiClient, organisations: tuple[str, str]
) -> None:
    source, target = organisations
    # Given the accountant's customers CSV of the source organisation
    content, _ = downloaded(
        api, f"/v1/organisations/{source}/exports/customers.csv?from=2000-01-01&to=2100-01-01"
    )

    # When it is imported into the fresh organisation with the suggested mapping
    report = run_import(api, target, content)

    # Then the fields the CSV carries come back, formulas escaped on the way out read back as written
    assert (report["status"], report["created"], report["failed"]) == ("completed", len(CUSTOMERS), 0), (
        report["errors"]
    )
    copies = {customer["email"]: customer for customer in customers_of(api, target)}
    for original in customers_of(api, source):
        copy = copies[original["email"]]
        for name in ("name", "first_name", "last_name", "currency", "vat_id", "address"):
            assert copy[name] == original[name], (name, copy[name], original[name])
        # A file's address country also stands for the customer's when no column gives it
        assert copy["country"] == original["country"] or (original["address"] or {}).get("country")
        assert copy["payment_terms_days"] == original["payment_terms_days"]
        # The source's own id comes along as one more external id: a later import matches on it
        assert copy["external_ids"] == [original["id"], *original["external_ids"]]

    # And a second run of the same file creates nothing
    again = run_import(api, target, content)
    assert (again["created"], again["failed"]) == (0, 0)
    assert len(customers_of(api, target)) == len(CUSTOMERS)
