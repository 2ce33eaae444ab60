"""API keys and what they may do: every operation of the API, walked from its OpenAPI document,
with a read-only key and with a full one.

* A read-only key reads as a full key does (200, or 404 where the full key gets 404); every
  change it sends (POST, PUT, PATCH, DELETE) is refused with a 403 problem saying the key is
  read-only, before its body or `Idempotency-Key` is looked at, and nothing changes.
* A full key is refused nothing (the API has no people or keys to manage).

New operations join by themselves; a path naming an id this module cannot fill fails until it is
taught here.
"""

from __future__ import annotations

import base64
import json
import re
from typing import Any

import pytest

from tests.integration.api_client import ApiClient
from tests.integration.stocked_organisation import stock_organisation

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAAAASUVORK5CYII="
)
_READS = ("get",)


def operations() -> list[tuple[str, str]]:
    """(method, path template) of every operation that needs a key, from the OpenAPI document."""
    from api.app import openapi_document

    paths = json.loads(openapi_document())["paths"]
    return [
        (method.upper(), path)
        for path, item in paths.items()
        if path.startswith("/v1/")
        for method in item
        if method in ("get", "post", "put", "patch", "delete")
    ]


#: The query an operation cannot answer without (the others need none).
REQUIRED_QUERIES = {
    "/v1/organisations/{organisation_id}/exports/{kind}.csv": "?from=2026-01-01&to=2026-12-31",
}


def path_of(template: str, ids: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)\}", lambda match: ids[match[1]], template) + REQUIRED_QUERIES.get(template, "")


@pytest.fixture
def books(aws: None) -> dict[str, Any]:
    """An account with an organisation holding one of everything: its full key (the account's
    first), a read-only key, and the ids.
    """
    from remit.bootstrap import services
    from remit.domain.account import NewApiKey
    from remit.domain.organisation import NewOrganisation

    everything = services()
    issued = everything.accounts.create_account("Keys Ltd's account")
    account_id = issued.account_id
    read_only = everything.accounts.create_key(account_id, NewApiKey(name="Reports", read_only=True), None)
    organisation = everything.organisations.create(
        account_id, NewOrganisation(name="Keys Ltd", default_currency="EUR")
    )
    ids = stock_organisation(account_id, organisation.id)
    return {
        "account_id": account_id,
        "full": ApiClient(issued.api_key),
        "read_only": ApiClient(read_only.api_key),
        "ids": ids,
    }


def state(books: dict[str, Any]) -> Any:
    """Everything the organisation holds, as the full key reads it."""
    full: ApiClient = books["full"]
    org = f"/v1/organisations/{books['ids']['organisation_id']}"
    customer = f"{org}/customers/{books['ids']['customer_id']}"
    reads = [
        org,
        f"{org}/customers",
        customer,
        f"{customer}/charges",
        f"{customer}/balance_transactions",
        f"{customer}/cards",
        f"{org}/invoices",
        f"{org}/payments",
        f"{org}/billing_templates",
        f"{org}/billing_runs",
        f"{org}/subscriptions",
        f"{org}/webhook_endpoints",
        f"{org}/events?limit=100",
        "/v1/organisations",
    ]
    return {path: full.get(path).json() for path in reads}


def send(client: ApiClient, method: str, path: str, **kwargs: Any) -> Any:
    if path.endswith("/logo"):
        return client.request(method, path, raw_body=PNG, headers={"Content-Type": "image/png"}, **kwargs)
    body = None if method == "DELETE" else {}
    return client.request(method, path, body, **kwargs)


def test_a_read_only_key_reads_as_a_full_key_and_every_change_it_sends_is_refused_with_nothing_changed(
    books: dict[str, Any],
) -> None:
    before = state(books)
    reads: dict[str, tuple[int, int]] = {}
    writes: dict[str, Any] = {}
    for method, template in operations():
        path = path_of(template, books["ids"])
        if method.lower() in _READS:
            reads[f"{method} {template}"] = (
                send(books["full"], method, path).status,
                send(books["read_only"], method, path).status,
            )
        else:
            writes[f"{method} {template}"] = send(books["read_only"], method, path)

    assert len(reads) >= 15
    assert len(writes) >= 25
    assert {name: pair for name, pair in reads.items() if pair[0] != pair[1]} == {}
    # An export answers 303 to its file; an e-invoice download of a customer without a format,
    # asked none, names `format` (422).
    refused = {name: pair for name, pair in reads.items() if pair[1] not in (200, 303, 404, 409)}
    assert {name: pair for name, pair in refused.items() if not name.endswith("/einvoice")} == {}
    assert set(refused.values()) <= {(422, 422)}
    assert {name: answer.status for name, answer in writes.items() if answer.status != 403} == {}
    for answer in writes.values():
        assert answer.content_type == "application/problem+json"
        assert answer.json()["type"].endswith("/forbidden")
        assert "read-only" in answer.json()["detail"]
    assert state(books) == before


def test_a_full_key_is_refused_nothing(books: dict[str, Any]) -> None:
    answers = {}
    for method, template in operations():
        answers[f"{method} {template}"] = send(books["full"], method, path_of(template, books["ids"])).status

    assert {name: status for name, status in answers.items() if status in (401, 403)} == {}


def test_a_read_only_key_cannot_replay_a_change_made_with_another_key(books: dict[str, Any]) -> None:
    org = f"/v1/organisations/{books['ids']['organisation_id']}"
    new = {"name": "Initech", "email": "ap@initech.test"}
    made = books["full"].post(f"{org}/customers", new, headers={"Idempotency-Key": "once"})
    before = state(books)

    replayed = books["read_only"].post(f"{org}/customers", new, headers={"Idempotency-Key": "once"})

    assert made.status == 201
    assert replayed.status == 403
    assert "Idempotent-Replayed" not in replayed.headers
    assert made.json()["id"] not in replayed.body.decode()
    assert state(books) == before


def test_a_read_only_keys_change_is_refused_before_its_body_is_read(books: dict[str, Any]) -> None:
    org = f"/v1/organisations/{books['ids']['organisation_id']}"

    not_json = books["read_only"].post(
        f"{org}/customers", raw_body="name=x", headers={"Content-Type": "text/plain"}
    )
    invalid = books["read_only"].post(f"{org}/customers", {"name": ""})

    assert not_json.status == invalid.status == 403
    assert invalid.json()["detail"] == f"This API key is read-only: it may not POST {org}/customers."
