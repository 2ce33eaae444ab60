"""Every sample event in `events/api/` runs through the API function as API Gateway would send it."""

from __future__ import annotations

import copy
import json
from typing import Any

from tests.integration.api_client import ApiClient, sample_event


def with_organisation(name: str, organisation_id: str) -> dict[str, Any]:
    event = copy.deepcopy(sample_event(name))
    event["path"] = event["path"].replace("ORG_ID", organisation_id)
    event["pathParameters"]["proxy"] = event["path"].lstrip("/")
    return event


def test_the_health_event_answers_ok(api: ApiClient) -> None:
    response = api.invoke(copy.deepcopy(sample_event("health")))

    assert response.status == 200
    assert response.json() == {"status": "ok"}


def test_the_organisation_events_create_and_list(api: ApiClient) -> None:
    created = api.invoke(copy.deepcopy(sample_event("create_organisation")))
    listed = api.invoke(copy.deepcopy(sample_event("list_organisations")))

    assert created.status == 201
    assert created.json()["tax_id"] == "FR40303265045"
    assert [o["id"] for o in listed.json()["data"]] == [created.json()["id"]]


def test_the_customer_events_create_find_and_upload(api: ApiClient) -> None:
    organisation_id = api.invoke(copy.deepcopy(sample_event("create_organisation"))).json()["id"]

    created = api.invoke(with_organisation("create_customer", organisation_id))
    found = api.invoke(with_organisation("find_customer_by_external_id", organisation_id))
    logo = api.invoke(with_organisation("upload_logo", organisation_id))

    assert created.status == 201
    assert found.json()["data"][0]["id"] == created.json()["id"]
    assert logo.status == 200, logo.body
    assert logo.json()["branding"]["logo_url"].endswith(".png")


def test_a_replayed_sample_event_is_idempotent(api: ApiClient) -> None:
    first = api.invoke(copy.deepcopy(sample_event("create_organisation")))
    again = api.invoke(copy.deepcopy(sample_event("create_organisation")))

    assert again.json() == first.json()
    assert len(json.loads(api.invoke(copy.deepcopy(sample_event("list_organisations"))).body)["data"]) == 1


def with_ids(name: str, **ids: str) -> dict[str, Any]:
    event = copy.deepcopy(sample_event(name))
    text = json.dumps(event)
    for placeholder, value in ids.items():
        text = text.replace(placeholder, value)
    return json.loads(text)


def test_the_invoice_events_draft_finalize_and_pay(api: ApiClient) -> None:
    org = api.invoke(copy.deepcopy(sample_event("create_organisation"))).json()["id"]
    customer = api.invoke(with_organisation("create_customer", org)).json()["id"]

    draft = api.invoke(with_ids("create_invoice", ORG_ID=org, CUSTOMER_ID=customer))
    finalized = api.invoke(with_ids("finalize_invoice", ORG_ID=org, INVOICE_ID=draft.json()["id"]))
    paid = api.invoke(with_ids("record_payment", ORG_ID=org, INVOICE_ID=draft.json()["id"]))

    assert draft.status == 201, draft.body
    assert finalized.json()["number"] == "ACME-00001"
    assert paid.status == 201
    assert paid.json()["amount"] == 10000
