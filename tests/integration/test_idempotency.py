"""`Idempotency-Key`: the same key and body replay the first answer; another body is a 409."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.api_client import ApiClient


@pytest.fixture
def organisation(api: ApiClient) -> dict[str, Any]:
    return api.post("/v1/organisations", {"name": "Acme Ltd", "default_currency": "EUR"}).json()


def test_replaying_a_create_returns_the_same_customer_and_creates_one(
    api: ApiClient, organisation: dict[str, Any]
) -> None:
    path = f"/v1/organisations/{organisation['id']}/customers"
    body = {"name": "Globex", "email": "ap@globex.test"}

    first = api.post(path, body, headers={"Idempotency-Key": "create-globex"})
    second = api.post(path, body, headers={"Idempotency-Key": "create-globex"})

    assert first.status == second.status == 201
    assert second.json() == first.json()
    assert second.headers.get("Idempotent-Replayed") == "true"
    assert len(api.get(path).json()["data"]) == 1


def test_the_same_key_with_another_body_is_a_409_and_creates_nothing(
    api: ApiClient, organisation: dict[str, Any]
) -> None:
    path = f"/v1/organisations/{organisation['id']}/customers"
    api.post(path, {"name": "Globex", "email": "ap@globex.test"}, headers={"Idempotency-Key": "k1"})

    response = api.post(
        path, {"name": "Initech", "email": "ap@initech.test"}, headers={"Idempotency-Key": "k1"}
    )

    assert response.status == 409
    assert response.content_type == "application/problem+json"
    assert [c["name"] for c in api.get(path).json()["data"]] == ["Globex"]


def test_different_keys_create_different_resources(api: ApiClient) -> None:
    body = {"name": "Brand", "default_currency": "EUR"}

    first = api.post("/v1/organisations", body, headers={"Idempotency-Key": "a"})
    second = api.post("/v1/organisations", body, headers={"Idempotency-Key": "b"})

    assert first.json()["id"] != second.json()["id"]


def test_keys_of_two_accounts_never_collide(api: ApiClient, other_api: ApiClient) -> None:
    first = api.post(
        "/v1/organisations", {"name": "Mine", "default_currency": "EUR"}, headers={"Idempotency-Key": "k"}
    )
    second = other_api.post(
        "/v1/organisations", {"name": "Theirs", "default_currency": "EUR"}, headers={"Idempotency-Key": "k"}
    )

    assert first.status == second.status == 201
    assert second.json()["name"] == "Theirs"
    assert [o["name"] for o in other_api.get("/v1/organisations").json()["data"]] == ["Theirs"]


def test_a_failed_request_is_not_remembered_so_its_corrected_retry_succeeds(api: ApiClient) -> None:
    key = {"Idempotency-Key": "fix-and-retry"}

    bad = api.post("/v1/organisations", {"name": "Acme", "default_currency": "NOPE"}, headers=key)
    corrected = api.post("/v1/organisations", {"name": "Acme", "default_currency": "EUR"}, headers=key)

    assert bad.status == 422
    assert corrected.status == 201
    assert [o["name"] for o in api.get("/v1/organisations").json()["data"]] == ["Acme"]


def test_a_conflicting_action_can_be_retried_with_its_key(
    api: ApiClient, organisation: dict[str, Any]
) -> None:
    path = f"/v1/organisations/{organisation['id']}/customers"
    api.post(path, {"name": "A", "email": "a@a.test", "external_ids": ["x"]})
    body = {"name": "B", "email": "b@b.test", "external_ids": ["x"]}

    refused = api.post(path, body, headers={"Idempotency-Key": "retry-me"})
    api.patch(f"{path}/{api.get(path).json()['data'][0]['id']}", {"external_ids": []})
    accepted = api.post(path, body, headers={"Idempotency-Key": "retry-me"})

    assert refused.status == 409
    assert accepted.status == 201


def test_an_overlong_key_is_a_422(api: ApiClient) -> None:
    response = api.post(
        "/v1/organisations",
        {"name": "Acme", "default_currency": "EUR"},
        headers={"Idempotency-Key": "k" * 300},
    )

    assert response.status == 422
    assert api.get("/v1/organisations").json()["data"] == []
