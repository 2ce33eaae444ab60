"""Invariant 1: another account can neither read, change nor learn of an organisation or its customers."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from tests.integration.api_client import ApiClient

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


@pytest.fixture
def owned(api: ApiClient) -> dict[str, Any]:
    organisation = api.post("/v1/organisations", {"name": "Acme Ltd", "default_currency": "EUR"}).json()
    customer = api.post(
        f"/v1/organisations/{organisation['id']}/customers",
        {"name": "Globex", "email": "ap@globex.test", "external_ids": ["crm-1"]},
    ).json()
    return {"org": organisation["id"], "cus": customer["id"]}


def every_route(ids: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    org, cus = f"/v1/organisations/{ids['org']}", f"/v1/organisations/{ids['org']}/customers/{ids['cus']}"
    return [
        ("GET", org, {}),
        ("PATCH", org, {"json_body": {"name": "Hijacked"}}),
        ("PUT", f"{org}/logo", {"raw_body": PNG, "headers": {"Content-Type": "image/png"}}),
        ("GET", f"{org}/customers", {}),
        ("GET", f"{org}/customers?external_id=crm-1", {}),
        ("POST", f"{org}/customers", {"json_body": {"name": "Planted", "email": "p@p.test"}}),
        ("GET", cus, {}),
        ("PATCH", cus, {"json_body": {"name": "Hijacked"}}),
        ("DELETE", cus, {}),
    ]


def snapshot(api: ApiClient, ids: dict[str, Any]) -> list[Any]:
    org = f"/v1/organisations/{ids['org']}"
    return [
        api.get(org).json(),
        api.get(f"{org}/customers").json(),
        api.get(f"{org}/customers/{ids['cus']}").json(),
    ]


def test_another_accounts_key_gets_404_on_every_route_and_changes_nothing(
    api: ApiClient, other_api: ApiClient, owned: dict[str, Any]
) -> None:
    before = snapshot(api, owned)

    answers = {
        (method, path): other_api.request(method, path, **kwargs).status
        for method, path, kwargs in every_route(owned)
    }

    assert set(answers.values()) == {404}, answers
    assert snapshot(api, owned) == before


def test_a_foreign_organisation_answers_like_one_that_does_not_exist(
    api: ApiClient, other_api: ApiClient, owned: dict[str, Any]
) -> None:
    foreign = other_api.get(f"/v1/organisations/{owned['org']}")
    missing = other_api.get("/v1/organisations/org_00000000000000000000000000")

    assert foreign.status == missing.status == 404
    assert foreign.json().keys() == missing.json().keys()
    assert owned["org"] not in foreign.body.decode().replace(f"'{owned['org']}'", "")


def test_lists_never_show_another_accounts_organisations(
    api: ApiClient, other_api: ApiClient, owned: dict[str, Any]
) -> None:
    other_api.post("/v1/organisations", {"name": "Intruder Inc", "default_currency": "USD"})

    mine = [o["name"] for o in api.get("/v1/organisations").json()["data"]]
    theirs = [o["name"] for o in other_api.get("/v1/organisations").json()["data"]]

    assert mine == ["Acme Ltd"]
    assert theirs == ["Intruder Inc"]


def test_a_customer_id_is_not_reachable_through_another_organisation(
    api: ApiClient, other_api: ApiClient, owned: dict[str, Any]
) -> None:
    their_org = other_api.post("/v1/organisations", {"name": "Intruder", "default_currency": "EUR"}).json()

    response = other_api.get(f"/v1/organisations/{their_org['id']}/customers/{owned['cus']}")

    assert response.status == 404


@pytest.mark.parametrize(
    "authorization", [None, "Bearer rk_unknown_key_000000000000000000", "Basic abc", "Bearer "]
)
def test_a_missing_or_unknown_key_is_a_401(
    api: ApiClient, owned: dict[str, Any], authorization: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization else {}

    response = api.get(f"/v1/organisations/{owned['org']}", api_key=None, headers=headers)

    assert response.status == 401
    assert response.content_type == "application/problem+json"


def test_a_request_without_a_key_is_a_401_even_with_a_bad_body(api: ApiClient) -> None:
    response = api.post("/v1/organisations", raw_body="{not json", api_key=None)

    assert response.status == 401
