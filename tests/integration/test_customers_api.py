"""Customers through the API function: fields, defaults, external ids, contacts, pagination, delete."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.api_client import ApiClient

FULL_CUSTOMER: dict[str, Any] = {
    "name": "Globex GmbH",
    "email": "ap@globex.test",
    "first_name": "Hank",
    "last_name": "Scorpio",
    "country": "DE",
    "currency": "CHF",
    "address": {
        "line1": "Hauptstraße 1",
        "line2": None,
        "city": "Köln",
        "state": "NRW",
        "postal_code": "50667",
        "country": "DE",
    },
    "tax_rate": "19",
    "tax_id": "DE136695976",
    "external_ids": ["crm-4711", "erp-0815"],
    "invoicing_flow": "manual",
    "payment_terms_days": 14,
    "auto_pay": True,
    "billing_cycle": "monthly",
    "contacts": [
        {"name": "Accounts payable", "email": "invoices@globex.test", "preferences": ["billing", "legal"]},
        {"name": "CEO", "email": "hank@globex.test", "preferences": ["updates"]},
    ],
    "metadata": {"segment": "enterprise"},
}


@pytest.fixture
def organisation(api: ApiClient) -> dict[str, Any]:
    response = api.post(
        "/v1/organisations", {"name": "Acme Ltd", "default_currency": "EUR", "payment_terms_days": 45}
    )
    return response.json()


def customers_path(organisation: dict[str, Any]) -> str:
    return f"/v1/organisations/{organisation['id']}/customers"


def create(api: ApiClient, organisation: dict[str, Any], **fields: Any) -> dict[str, Any]:
    body = {"name": "Globex GmbH", "email": "ap@globex.test", **fields}
    response = api.post(customers_path(organisation), body)
    assert response.status == 201, response.body
    return response.json()


def test_every_field_of_a_customer_round_trips(api: ApiClient, organisation: dict[str, Any]) -> None:
    created = api.post(customers_path(organisation), FULL_CUSTOMER)

    assert created.status == 201
    customer = api.get(f"{customers_path(organisation)}/{created.json()['id']}").json()
    assert customer == created.json()
    assert customer["id"].startswith("cus_")
    assert customer["organisation_id"] == organisation["id"]
    for name, value in FULL_CUSTOMER.items():
        if name != "contacts":
            assert customer[name] == value, name
    assert [
        {k: c[k] for k in ("name", "email", "preferences")} for c in customer["contacts"]
    ] == FULL_CUSTOMER["contacts"]
    assert all(contact["id"].startswith("ctc_") for contact in customer["contacts"])
    assert customer["balance"] == 0
    assert customer["created_at"] == customer["updated_at"]


def test_a_customer_takes_its_defaults_from_the_organisation(
    api: ApiClient, organisation: dict[str, Any]
) -> None:
    customer = create(api, organisation)

    assert customer["currency"] == "EUR"
    assert customer["payment_terms_days"] == 45
    assert customer["tax_rate"] == "0.00"
    assert customer["invoicing_flow"] == "automatic"
    assert customer["auto_pay"] is False
    assert customer["billing_cycle"] is None
    assert customer["external_ids"] == []
    assert customer["contacts"] == []


@pytest.mark.parametrize(
    ("field", "value", "named"),
    [
        ("name", "", "name"),
        ("email", "nope", "email"),
        ("currency", "EURO", "currency"),
        ("country", "Germany", "country"),
        ("address", {"country": "ZZ"}, "address.country"),
        ("tax_rate", 19.5, "tax_rate"),
        ("tax_rate", "101", "tax_rate"),
        ("tax_rate", "7.12345", "tax_rate"),
        ("tax_id", "DE000000000", "tax_id"),
        ("external_ids", ["dup", "dup"], "external_ids"),
        ("external_ids", [""], "external_ids.0"),
        ("invoicing_flow", "sometimes", "invoicing_flow"),
        ("payment_terms_days", 400, "payment_terms_days"),
        ("auto_pay", "perhaps", "auto_pay"),
        ("billing_cycle", "weekly", "billing_cycle"),
        ("contacts", [{"email": "x"}], "contacts.0.email"),
        ("contacts", [{"email": "a@b.test", "preferences": ["spam"]}], "contacts.0.preferences.0"),
        ("metadata", {"k": 1}, "metadata.k"),
        ("balance", 100, "balance"),
    ],
)
def test_each_invalid_customer_field_is_named_in_a_422(
    api: ApiClient, organisation: dict[str, Any], field: str, value: Any, named: str
) -> None:
    response = api.post(
        customers_path(organisation), {"name": "Globex", "email": "ap@globex.test", field: value}
    )

    assert response.status == 422
    assert named in [error["field"] for error in response.json()["errors"]]
    assert api.get(customers_path(organisation)).json()["data"] == []


def test_a_customer_is_found_by_any_of_its_external_ids(api: ApiClient, organisation: dict[str, Any]) -> None:
    customer = create(api, organisation, external_ids=["crm-1", "erp-1"])
    create(api, organisation, name="Other", external_ids=["crm-2"])

    found = api.get(f"{customers_path(organisation)}?external_id=erp-1").json()
    missing = api.get(f"{customers_path(organisation)}?external_id=nope").json()

    assert [c["id"] for c in found["data"]] == [customer["id"]]
    assert missing == {"data": [], "next_cursor": None}


def test_an_external_id_is_unique_within_an_organisation(
    api: ApiClient, organisation: dict[str, Any]
) -> None:
    create(api, organisation, external_ids=["crm-1"])

    response = api.post(
        customers_path(organisation),
        {"name": "Copy", "email": "c@copy.test", "external_ids": ["new", "crm-1"]},
    )

    assert response.status == 409
    assert response.json()["errors"][0]["field"] == "external_ids"
    assert len(api.get(customers_path(organisation)).json()["data"]) == 1
    assert api.get(f"{customers_path(organisation)}?external_id=new").json()["data"] == []


def test_two_organisations_may_use_the_same_external_id(api: ApiClient, organisation: dict[str, Any]) -> None:
    other = api.post("/v1/organisations", {"name": "Brand B", "default_currency": "EUR"}).json()

    create(api, organisation, external_ids=["crm-1"])
    create(api, other, external_ids=["crm-1"])

    assert len(api.get(f"{customers_path(other)}?external_id=crm-1").json()["data"]) == 1


def test_changing_external_ids_releases_the_old_ones(api: ApiClient, organisation: dict[str, Any]) -> None:
    customer = create(api, organisation, external_ids=["old-1", "kept"])
    path = f"{customers_path(organisation)}/{customer['id']}"

    response = api.patch(path, {"external_ids": ["kept", "new-1"]})

    assert response.status == 200
    assert response.json()["external_ids"] == ["kept", "new-1"]
    assert api.get(f"{customers_path(organisation)}?external_id=old-1").json()["data"] == []
    assert (
        api.get(f"{customers_path(organisation)}?external_id=new-1").json()["data"][0]["id"] == customer["id"]
    )
    create(api, organisation, name="Reuser", external_ids=["old-1"])


def test_taking_another_customers_external_id_by_patch_is_a_409_and_changes_nothing(
    api: ApiClient, organisation: dict[str, Any]
) -> None:
    create(api, organisation, external_ids=["taken"])
    customer = create(api, organisation, name="Second", external_ids=["mine"])
    path = f"{customers_path(organisation)}/{customer['id']}"

    response = api.patch(path, {"name": "Renamed", "external_ids": ["taken"]})

    assert response.status == 409
    assert api.get(path).json() == customer
    assert (
        api.get(f"{customers_path(organisation)}?external_id=mine").json()["data"][0]["id"] == customer["id"]
    )


def test_contacts_keep_their_ids_when_listed_again(api: ApiClient, organisation: dict[str, Any]) -> None:
    customer = create(api, organisation, contacts=[{"name": "A", "email": "a@globex.test"}])
    kept = customer["contacts"][0]
    path = f"{customers_path(organisation)}/{customer['id']}"

    response = api.patch(
        path,
        {
            "contacts": [
                {"id": kept["id"], "name": "A", "email": "a@globex.test", "preferences": ["billing"]},
                {"name": "B", "email": "b@globex.test"},
            ]
        },
    )

    contacts = response.json()["contacts"]
    assert contacts[0]["id"] == kept["id"]
    assert contacts[0]["preferences"] == ["billing"]
    assert contacts[1]["id"].startswith("ctc_")
    assert contacts[1]["id"] != kept["id"]


def test_a_contact_id_that_is_not_the_customers_is_a_422(
    api: ApiClient, organisation: dict[str, Any]
) -> None:
    customer = create(api, organisation)

    response = api.patch(
        f"{customers_path(organisation)}/{customer['id']}",
        {"contacts": [{"id": "ctc_forged", "email": "x@globex.test"}]},
    )

    assert response.status == 422
    assert response.json()["errors"][0]["field"] == "contacts.0.id"


def test_patch_changes_only_the_given_fields(api: ApiClient, organisation: dict[str, Any]) -> None:
    customer = create(api, organisation, country="DE", tax_rate="19", metadata={"a": "1", "b": "2"})
    path = f"{customers_path(organisation)}/{customer['id']}"

    response = api.patch(path, {"tax_rate": "7.5", "metadata": {"c": "3"}, "first_name": "Hank"})

    changed = response.json()
    assert changed["tax_rate"] == "7.5"
    assert changed["metadata"] == {"c": "3"}
    assert changed["first_name"] == "Hank"
    assert changed["country"] == "DE"
    assert changed["updated_at"] > customer["updated_at"]


def test_an_invalid_patch_changes_nothing(api: ApiClient, organisation: dict[str, Any]) -> None:
    customer = create(api, organisation)
    path = f"{customers_path(organisation)}/{customer['id']}"

    response = api.patch(path, {"name": "Renamed", "email": "not an email"})

    assert response.status == 422
    assert api.get(path).json() == customer


def test_replacing_fifty_billing_contacts_at_once_is_a_422_and_changes_nothing(
    api: ApiClient, organisation: dict[str, Any]
) -> None:
    # Given a customer with 50 contacts that take billing emails
    customer = create(api, organisation)
    path = f"{customers_path(organisation)}/{customer['id']}"
    before = [{"email": f"old{n}@globex.test", "preferences": ["billing"]} for n in range(50)]
    assert api.patch(path, {"contacts": before}).status == 200
    stored = api.get(path).json()

    # When all 50 are replaced by 50 others in one change (more writes than one transaction holds)
    after = [{"email": f"new{n}@globex.test", "preferences": ["billing"]} for n in range(50)]
    response = api.patch(path, {"contacts": after})

    # Then it is refused, naming the contacts, and the customer is as it was
    assert response.status == 422, response.body
    assert response.json()["errors"][0]["field"] == "contacts"
    assert api.get(path).json() == stored
    # ...while replacing them in two halves works
    assert api.patch(path, {"contacts": after[:25] + before[25:]}).status == 200
    assert api.patch(path, {"contacts": after}).status == 200


def test_customers_are_paginated_oldest_first(api: ApiClient, organisation: dict[str, Any]) -> None:
    created = [create(api, organisation, name=f"Customer {n}")["id"] for n in range(7)]

    seen: list[str] = []
    cursor = None
    while True:
        query = "limit=3" + (f"&cursor={cursor}" if cursor else "")
        page = api.get(f"{customers_path(organisation)}?{query}").json()
        seen += [c["id"] for c in page["data"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break

    assert seen == created


def test_a_customer_can_be_deleted_and_frees_its_external_ids(
    api: ApiClient, organisation: dict[str, Any]
) -> None:
    customer = create(api, organisation, external_ids=["crm-1"])
    path = f"{customers_path(organisation)}/{customer['id']}"

    deleted = api.delete(path)

    assert deleted.status == 204
    assert deleted.body == b""
    assert api.get(path).status == 404
    assert api.get(f"{customers_path(organisation)}?external_id=crm-1").json()["data"] == []
    create(api, organisation, external_ids=["crm-1"])


def test_deleting_an_unknown_customer_is_a_404(api: ApiClient, organisation: dict[str, Any]) -> None:
    assert api.delete(f"{customers_path(organisation)}/cus_unknown").status == 404


def test_customers_of_an_unknown_organisation_are_a_404(api: ApiClient) -> None:
    response = api.post("/v1/organisations/org_unknown/customers", {"name": "X", "email": "x@x.test"})

    assert response.status == 404
