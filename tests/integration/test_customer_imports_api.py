"""Customer imports through the API and the worker: files, dry runs, matching, reruns, refusals."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from tests.integration.api_client import ApiClient
from tests.integration.billing_queue import BillingQueue
from tests.integration.customer_imports import customers_of, run_import, upload

CSV = (
    "Company;E-mail;Address line 1;City;Postal code;Country;VAT number;Currency;Customer ID\n"
    "Globex GmbH;ap@globex.test;Hauptstraße 1;Köln;50667;DE;DE136695976;EUR;crm-1\n"
    "Initech Inc;ap@initech.test;1 Main St;Austin;78701;US;;USD;crm-2\n"
).encode("cp1252")


@pytest.fixture
def organisation_id(api: ApiClient) -> str:
    response = api.post("/v1/organisations", {"name": "Acme Ltd", "default_currency": "EUR"})
    assert response.status == 201, response.body
    return str(response.json()["id"])


def test_a_csv_file_imports_its_customers_with_addresses_tax_ids_and_currencies(
    api: ApiClient, organisation_id: str
) -> None:
    # Given a Windows-1252 CSV with semicolons and common column names
    # When it is imported with the suggested mapping
    report = run_import(api, organisation_id, CSV)

    # Then every row became a customer with its address, tax id, currency and external id
    assert report["status"] == "completed"
    assert (report["rows"], report["created"], report["updated"], report["failed"]) == (2, 2, 0, 0)
    assert report["suggested_mapping"]["VAT number"] == "tax_id"
    globex, initech = customers_of(api, organisation_id)
    assert globex["name"] == "Globex GmbH"
    assert globex["address"]["line1"] == "Hauptstraße 1"
    assert globex["address"]["country"] == "DE"
    assert globex["tax_id"] == "DE136695976"
    assert globex["external_ids"] == ["crm-1"]
    assert initech["currency"] == "USD"


def test_importing_the_same_file_twice_updates_and_never_duplicates(
    api: ApiClient, organisation_id: str
) -> None:
    # Given a file imported once
    run_import(api, organisation_id, CSV)

    # When the same file is imported again, and then a changed one
    again = run_import(api, organisation_id, CSV)
    changed = run_import(api, organisation_id, CSV.replace(b"Austin", b"Dallas"))

    # Then the second run finds every customer unchanged, the third updates one; never a duplicate
    assert (again["created"], again["updated"], again["unchanged"], again["failed"]) == (0, 0, 2, 0)
    assert (changed["created"], changed["updated"], changed["unchanged"]) == (0, 1, 1)
    customers = customers_of(api, organisation_id)
    assert len(customers) == 2
    assert customers[1]["address"]["city"] == "Dallas"


def test_a_row_without_external_id_is_matched_by_email(api: ApiClient, organisation_id: str) -> None:
    # Given a customer created through the API
    created = api.post(
        f"/v1/organisations/{organisation_id}/customers", {"name": "Globex", "email": "AP@globex.test"}
    ).json()

    # When a file names the same email (in another case) with a new city
    report = run_import(api, organisation_id, b"Name,Email,City\nGlobex GmbH,ap@globex.test,Bonn\n")

    # Then that customer is updated, not duplicated
    assert (report["created"], report["updated"]) == (0, 1)
    (customer,) = customers_of(api, organisation_id)
    assert customer["id"] == created["id"]
    assert customer["name"] == "Globex GmbH"
    assert customer["address"]["city"] == "Bonn"


def test_a_row_is_not_matched_by_another_customers_billing_contact(
    api: ApiClient, organisation_id: str
) -> None:
    # Given a customer whose billing contact has an email of its own
    customers = f"/v1/organisations/{organisation_id}/customers"
    contact = {"email": "AR@initech.test", "preferences": ["billing"]}
    globex = api.post(customers, {"name": "Globex", "email": "ap@globex.test", "contacts": [contact]})
    assert globex.status == 201, globex.body

    # When a file names the contact's email
    report = run_import(api, organisation_id, b"Name,Email\nInitech Inc,ar@initech.test\n")

    # Then the row is a new customer: a match by email reads the customers' own emails only
    assert (report["created"], report["updated"]) == (1, 0)
    assert sorted(c["name"] for c in customers_of(api, organisation_id)) == ["Globex", "Initech Inc"]


def test_a_dry_run_reports_every_rows_problems_with_the_apis_messages_and_writes_nothing(
    api: ApiClient, organisation_id: str
) -> None:
    # Given a file with a bad email, an unknown country, a ragged row and a good row
    content = (
        b"Name,Email,Country\n"
        b"Globex,not-an-email,DE\n"
        b"Initech,ap@initech.test,XX\n"
        b"Ragged,only-two\n"
        b"Hooli,ap@hooli.test,US\n"
    )
    api_answer = api.post(
        f"/v1/organisations/{organisation_id}/customers", {"name": "Globex", "email": "not-an-email"}
    ).json()

    # When it is dry-run
    report = run_import(api, organisation_id, content, dry_run=True)

    # Then each bad row is reported with the API's own message, the good one would be created, none is
    assert report["dry_run"] is True
    assert (report["created"], report["failed"]) == (1, 3)
    assert [(e["row"], e["field"]) for e in report["errors"]] == [(2, "email"), (3, "country"), (4, "row")]
    assert report["errors"][0]["message"] == api_answer["errors"][0]["message"]
    assert customers_of(api, organisation_id) == []


def test_formulas_and_markup_in_cells_are_imported_as_plain_text(
    api: ApiClient, organisation_id: str
) -> None:
    content = b'Name,Email\n"=HYPERLINK(""http://evil.test"",""x"")",a@evil.test\n<script>alert(1)</script>,b@evil.test\n'

    run_import(api, organisation_id, content)

    names = [customer["name"] for customer in customers_of(api, organisation_id)]
    assert names == ['=HYPERLINK("http://evil.test","x")', "<script>alert(1)</script>"]


def test_json_rows_of_an_export_reimport_into_a_fresh_organisation(
    api: ApiClient, organisation_id: str
) -> None:
    # Given a customer of one organisation, as the API answers it
    source = api.post("/v1/organisations", {"name": "Old Ltd", "default_currency": "EUR"}).json()["id"]
    exported = api.post(
        f"/v1/organisations/{source}/customers",
        {
            "name": "Globex GmbH",
            "email": "ap@globex.test",
            "external_ids": ["crm-1"],
            "contacts": [{"name": "Hank", "email": "hank@globex.test", "preferences": ["billing"]}],
            "address": {"line1": "Hauptstraße 1", "city": "Köln", "country": "DE"},
        },
    ).json()

    # When it is imported as an export's line into another organisation
    started = api.post(
        f"/v1/organisations/{organisation_id}/imports",
        {"kind": "customers", "rows": [{"type": "customer", "data": exported}]},
    )
    assert started.status == 202, started.body
    BillingQueue().drain()

    # Then the copy holds the same fields under new ids
    (copy,) = customers_of(api, organisation_id)
    assert copy["id"] != exported["id"]
    assert copy["contacts"][0]["id"] != exported["contacts"][0]["id"]
    for name in ("name", "email", "external_ids", "address", "currency"):
        assert copy[name] == exported[name]
    assert copy["contacts"][0]["preferences"] == ["billing"]


def test_the_stripe_preset_maps_a_stripe_customers_export(api: ApiClient, organisation_id: str) -> None:
    content = (
        b"id,Description,Email,Name,Created (UTC),Phone,"
        b"Address Line1,Address City,Address Country,Address Zip\n"
        b"cus_JeGmWqYRVUNu44,VIP,ap@globex.test,Globex,2024-01-01 10:00,+49 1,Main 1,Berlin,DE,10115\n"
    )

    report = run_import(api, organisation_id, content, preset="stripe_customers")

    assert report["created"] == 1, report["errors"]
    (customer,) = customers_of(api, organisation_id)
    assert customer["external_ids"] == ["cus_JeGmWqYRVUNu44"]
    assert customer["metadata"] == {"description": "VIP", "phone": "+49 1"}
    assert customer["address"]["postal_code"] == "10115"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"\x00\x01\x02binary", "it is not a text file (it holds NUL bytes); upload a CSV file"),
        (b'Name,Email\n"Globex,ap@globex.test\n', "row"),
        (b"Name,City\nGlobex,Bonn\n", "no column is mapped to email, which every customer needs"),
    ],
)
def test_a_malformed_file_is_refused_clearly_and_nothing_is_stored(
    api: ApiClient, organisation_id: str, content: bytes, message: str
) -> None:
    response = upload(api, organisation_id, content)

    assert response.status == 422, response.body
    assert message in response.json()["errors"][0]["message"]
    assert api.get(f"/v1/organisations/{organisation_id}/imports").json()["data"] == []
    assert BillingQueue().visible() == 0


def test_a_file_over_the_limit_is_413_and_nothing_is_stored(api: ApiClient, organisation_id: str) -> None:
    from remit.bootstrap import services

    limit = services().settings.max_import_bytes
    content = b"Name,Email\n" + b"Globex,ap@globex.test\n" * (limit // 20)

    response = upload(api, organisation_id, content)

    assert response.status == 413, response.body
    assert "at most" in response.json()["detail"]
    assert api.get(f"/v1/organisations/{organisation_id}/imports").json()["data"] == []
    listed = boto3.client("s3").list_objects_v2(Bucket="remit-logos", Prefix="imports/")
    assert listed.get("KeyCount", 0) == 0


def test_a_mapping_naming_an_unknown_column_is_refused(api: ApiClient, organisation_id: str) -> None:
    response = upload(api, organisation_id, CSV, mapping={"Company": "name", "Mail": "email"})

    assert response.status == 422
    assert response.json()["errors"] == [
        {"field": "mapping.Mail", "message": "is not a column of the file's header row"}
    ]


def test_another_accounts_import_is_not_found(
    api: ApiClient, other_api: ApiClient, organisation_id: str
) -> None:
    started = upload(api, organisation_id, CSV).json()

    assert other_api.get(f"/v1/organisations/{organisation_id}/imports/{started['id']}").status == 404
    assert upload(other_api, organisation_id, CSV).status == 404


def test_imports_are_listed_newest_first(api: ApiClient, organisation_id: str) -> None:
    first = upload(api, organisation_id, CSV).json()["id"]
    second = upload(api, organisation_id, CSV, dry_run=True).json()["id"]

    listed: list[dict[str, Any]] = api.get(f"/v1/organisations/{organisation_id}/imports").json()["data"]

    assert [item["id"] for item in listed] == [second, first]
    assert listed[0]["status"] == "pending"


def test_customers_stored_before_the_email_index_are_matched_once_the_backfill_has_run(
    api: ApiClient, organisation_id: str
) -> None:
    from remit.admin import backfill_list_indexes
    from tests.integration.conftest import TABLES

    # Given a customer stored without its email-index keys (as before the index)
    api.post(f"/v1/organisations/{organisation_id}/customers", {"name": "Globex", "email": "ap@globex.test"})
    client = boto3.client("dynamodb")
    for item in client.scan(TableName=TABLES["BillingTable"])["Items"]:
        if item.get("entity", {}).get("S") == "customer":
            client.update_item(
                TableName=TABLES["BillingTable"],
                Key={"PK": item["PK"], "SK": item["SK"]},
                UpdateExpression="REMOVE GSI6PK, GSI6SK",
            )

    # When the backfill runs, then a file names that email
    backfill_list_indexes(TABLES["BillingTable"])
    report = run_import(api, organisation_id, b"Name,Email\nGlobex GmbH,ap@globex.test\n")

    # Then the customer is updated, not duplicated
    assert (report["created"], report["updated"]) == (0, 1)
    assert len(customers_of(api, organisation_id)) == 1


@pytest.mark.parametrize(
    "content",
    [b"[" * 100_000 + b"]" * 100_000, b'{"name": "x"}\n{not json}\n', b"[\xff garbage"],
)
def test_a_hostile_json_file_is_refused_clearly_and_nothing_is_stored(
    api: ApiClient, organisation_id: str, content: bytes
) -> None:
    response = upload(api, organisation_id, content)

    assert response.status == 422, response.body
    assert response.json()["errors"][0]["field"] == "file"
    assert api.get(f"/v1/organisations/{organisation_id}/imports").json()["data"] == []


def test_an_organisations_json_lines_export_imports_its_customers_only(
    api: ApiClient, organisation_id: str
) -> None:
    content = (
        b'{"type": "organisation", "data": {"name": "Old Ltd"}}\n'
        b'{"type": "customer", "data": {"id": "cus_old", "name": "Globex", "email": "ap@globex.test"}}\n'
        b'{"type": "invoice", "data": {"id": "inv_old"}}\n'
    )

    report = run_import(api, organisation_id, content)

    assert (report["rows"], report["created"], report["failed"]) == (1, 1, 0)
    assert [c["name"] for c in customers_of(api, organisation_id)] == ["Globex"]
