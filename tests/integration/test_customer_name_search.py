"""The search of customers by name prefix (`GET …/customers?name_prefix=…`, the name index GSI5)."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from tests.integration.api_client import ApiClient
from tests.integration.conftest import TABLES


@pytest.fixture
def organisation(api: ApiClient) -> dict[str, Any]:
    return api.post("/v1/organisations", {"name": "Acme Ltd", "default_currency": "EUR"}).json()


def customers_path(organisation: dict[str, Any]) -> str:
    return f"/v1/organisations/{organisation['id']}/customers"


def create(api: ApiClient, organisation: dict[str, Any], name: str) -> dict[str, Any]:
    response = api.post(customers_path(organisation), {"name": name, "email": "ap@example.test"})
    assert response.status == 201, response.body
    return response.json()


def names(api: ApiClient, organisation: dict[str, Any], query: str) -> list[str]:
    response = api.get(f"{customers_path(organisation)}?{query}")
    assert response.status == 200, response.body
    return [customer["name"] for customer in response.json()["data"]]


def test_a_name_prefix_finds_customers_whatever_their_case_and_accents_in_name_order(
    api: ApiClient, organisation: dict[str, Any]
) -> None:
    for name in ["Globex GmbH", "Émile Zola SARL", "acme corp", "Emilia Bakery", "Zeta"]:
        create(api, organisation, name)

    assert names(api, organisation, "name_prefix=emil") == [
        "Émile Zola SARL",
        "Emilia Bakery",
    ]  # emile < emilia
    assert names(api, organisation, "name_prefix=%C3%89MILE") == ["Émile Zola SARL"]
    assert names(api, organisation, "name_prefix=ACME") == ["acme corp"]
    assert names(api, organisation, "name_prefix=acme%20%20") == ["acme corp"]
    assert names(api, organisation, "name_prefix=glob%20") == []  # a space typed is a word's end
    assert names(api, organisation, "name_prefix=nobody") == []
    # Without a prefix (or a blank one), the list is the usual one, oldest first
    assert names(api, organisation, "name_prefix=") == [
        "Globex GmbH",
        "Émile Zola SARL",
        "acme corp",
        "Emilia Bakery",
        "Zeta",
    ]


def test_a_search_is_paginated_and_its_cursor_continues_it(
    api: ApiClient, organisation: dict[str, Any]
) -> None:
    for index in range(5):
        create(api, organisation, f"Shop {index}")
    create(api, organisation, "Other")

    first = api.get(f"{customers_path(organisation)}?name_prefix=shop&limit=2").json()
    second = api.get(
        f"{customers_path(organisation)}?name_prefix=shop&limit=2&cursor={first['next_cursor']}"
    ).json()
    third = api.get(
        f"{customers_path(organisation)}?name_prefix=shop&limit=2&cursor={second['next_cursor']}"
    ).json()

    assert [c["name"] for c in first["data"] + second["data"] + third["data"]] == [
        f"Shop {index}" for index in range(5)
    ]
    assert third["next_cursor"] is None
    # A cursor of another search is refused
    other = api.get(f"{customers_path(organisation)}?name_prefix=other&cursor={first['next_cursor']}")
    assert other.status == 422


def test_a_renamed_customer_is_found_by_its_new_name_only_and_a_deleted_one_not_at_all(
    api: ApiClient, organisation: dict[str, Any]
) -> None:
    renamed = create(api, organisation, "Old Name")
    deleted = create(api, organisation, "Gone Ltd")

    assert api.patch(f"{customers_path(organisation)}/{renamed['id']}", {"name": "New Name"}).status == 200
    assert api.delete(f"{customers_path(organisation)}/{deleted['id']}").status == 204

    assert names(api, organisation, "name_prefix=old") == []
    assert names(api, organisation, "name_prefix=new") == ["New Name"]
    assert names(api, organisation, "name_prefix=gone") == []


def test_a_search_never_answers_another_organisations_customers(
    api: ApiClient, other_api: ApiClient, organisation: dict[str, Any]
) -> None:
    create(api, organisation, "Shared Name")
    theirs = other_api.post("/v1/organisations", {"name": "Other", "default_currency": "EUR"}).json()
    other_api.post(customers_path(theirs), {"name": "Shared Name 2", "email": "x@example.test"})

    assert names(api, organisation, "name_prefix=shared") == ["Shared Name"]
    assert api.get(f"{customers_path(theirs)}?name_prefix=shared").status == 404


def test_the_backfill_puts_customers_stored_before_the_name_index_in_it_once(
    api: ApiClient, organisation: dict[str, Any]
) -> None:
    from remit.admin import backfill_list_indexes

    # Given two customers stored without the name-index keys (as before the index)
    create(api, organisation, "Before One")
    create(api, organisation, "Before Two")
    client = boto3.client("dynamodb")
    items = client.scan(TableName=TABLES["BillingTable"])["Items"]
    customers = [item for item in items if item.get("entity", {}).get("S") == "customer"]
    for item in customers:
        client.update_item(
            TableName=TABLES["BillingTable"],
            Key={"PK": item["PK"], "SK": item["SK"]},
            UpdateExpression="REMOVE GSI5PK, GSI5SK",
        )
    assert names(api, organisation, "name_prefix=before") == []

    # When the backfill runs (twice)
    first = backfill_list_indexes(TABLES["BillingTable"])
    second = backfill_list_indexes(TABLES["BillingTable"])

    # Then they are found again, and the second run found nothing to do
    assert first == len(customers) == 2
    assert second is None
    assert names(api, organisation, "name_prefix=before") == ["Before One", "Before Two"]


def test_the_local_stack_adds_the_name_index_to_a_table_made_before_it(aws: None) -> None:
    from local.cloudformation import create_tables, table_definitions

    client = boto3.client("dynamodb")
    properties = table_definitions()["BillingTable"]
    older = [index for index in properties["GlobalSecondaryIndexes"] if index["IndexName"] != "GSI5"]
    keys = {part["AttributeName"] for index in older for part in index["KeySchema"]} | {"PK", "SK"}
    client.create_table(
        TableName="older-billing",
        AttributeDefinitions=[a for a in properties["AttributeDefinitions"] if a["AttributeName"] in keys],
        KeySchema=properties["KeySchema"],
        GlobalSecondaryIndexes=older,
        BillingMode="PAY_PER_REQUEST",
    )
    client.put_item(TableName="older-billing", Item={"PK": {"S": "kept"}, "SK": {"S": "kept"}})

    create_tables(client, {"BillingTable": "older-billing"})
    create_tables(client, {"BillingTable": "older-billing"})  # again: nothing left to add

    table = client.describe_table(TableName="older-billing")["Table"]
    assert sorted(index["IndexName"] for index in table["GlobalSecondaryIndexes"]) == [
        "GSI1",
        "GSI2",
        "GSI3",
        "GSI4",
        "GSI5",
        "GSI6",
    ]
    assert client.get_item(TableName="older-billing", Key={"PK": {"S": "kept"}, "SK": {"S": "kept"}})["Item"]


def test_the_service_searches_by_name_prefix_for_the_accounts_organisations_only(aws: None) -> None:
    from remit.bootstrap import services
    from remit.domain.customer import NewCustomer
    from remit.domain.errors import NotFound
    from remit.domain.organisation import NewOrganisation

    account_id = services().accounts.create_account("Owner").account_id
    stranger = services().accounts.create_account("Stranger").account_id
    organisation = services().organisations.create(
        account_id, NewOrganisation(name="Acme", default_currency="EUR")
    )
    customers = services().customers
    for name in ["Shop B", "Shop A", "Other"]:
        customers.create(account_id, organisation.id, NewCustomer(name=name, email="ap@example.test"))

    page = customers.search(account_id, organisation.id, "SHOP", 1, None)
    rest = customers.search(account_id, organisation.id, "SHOP", 1, page.next_cursor)

    assert [c.name for c in page.items + rest.items] == ["Shop A", "Shop B"]
    assert rest.next_cursor is None
    with pytest.raises(NotFound):
        customers.search(stranger, organisation.id, "shop", 10, None)
