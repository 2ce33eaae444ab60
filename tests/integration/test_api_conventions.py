"""The API's conventions for what it cannot serve: a body that is not JSON (415) or not a JSON object
(400), and a method a known path does not accept (405 with `Allow`), answered as problems, changing
nothing.
"""

from __future__ import annotations

import json

import pytest

from tests.integration.api_client import ApiClient
from tests.integration.billing import Billing


@pytest.fixture
def acme(api: ApiClient) -> Billing:
    return Billing(api)


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("text/plain", '{"name": "Globex", "email": "a@g.test"}'),
        ("application/x-www-form-urlencoded", "name=Globex&email=a%40g.test"),
        ("application/xml", "<customer/>"),
        (None, '{"name": "Globex", "email": "a@g.test"}'),
    ],
)
def test_a_body_that_is_not_sent_as_json_is_a_415_naming_the_type_to_send(
    acme: Billing, content_type: str | None, body: str
) -> None:
    headers = {"Content-Type": content_type} if content_type else {"Content-Type": ""}

    response = acme.api.post(f"{acme.base}/customers", raw_body=body, headers=headers)

    assert response.status == 415
    assert response.headers["Content-Type"] == "application/problem+json"
    assert "Content-Type: application/json" in response.json()["detail"]
    assert [c["id"] for c in acme.api.get(f"{acme.base}/customers").json()["data"]] == [acme.customer]


def test_json_with_a_charset_is_json(acme: Billing) -> None:
    body = json.dumps({"name": "Globex", "email": "b@g.test"})

    response = acme.api.post(
        f"{acme.base}/customers", raw_body=body, headers={"Content-Type": "application/json; charset=utf-8"}
    )

    assert response.status == 201


def test_an_action_without_a_body_needs_no_content_type(acme: Billing) -> None:
    draft = acme.draft()

    response = acme.api.post(
        f"{acme.invoice(draft['id'])}/finalize", raw_body="", headers={"Content-Type": ""}
    )

    assert response.status == 200


@pytest.mark.parametrize("body", ["[null, null]", "[]", '"cancel"', "7", "true"])
def test_a_json_body_that_is_not_an_object_is_a_400_and_changes_nothing(acme: Billing, body: str) -> None:
    subscription = acme.api.post(
        f"{acme.base}/subscriptions",
        {
            "customer_id": acme.customer,
            "line_items": [{"description": "Hosting", "unit_amount": 2500}],
            "start_date": "2026-12-01",
        },
    ).json()

    response = acme.api.post(
        f"{acme.base}/subscriptions/{subscription['id']}/cancel",
        raw_body=body,
        headers={"Content-Type": "application/json"},
    )

    assert response.status == 400
    assert response.json()["detail"] == "The request body must be a JSON object."
    assert acme.api.get(f"{acme.base}/subscriptions/{subscription['id']}").json()["cancel_at"] is None


def test_the_key_is_checked_before_the_body(acme: Billing) -> None:
    response = acme.api.post(
        f"{acme.base}/customers", raw_body="x", headers={"Content-Type": "text/plain"}, api_key=None
    )

    assert response.status == 401


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("DELETE", "/v1/organisations", "GET, POST"),
        ("PUT", "/v1/organisations/{org}/invoices", "GET, POST"),
        ("POST", "/v1/organisations/{org}/invoices/inv_x/events", "GET"),
        ("DELETE", "/health", "GET"),
    ],
)
def test_a_method_a_known_path_does_not_accept_is_a_405_with_allow(
    acme: Billing, method: str, path: str, allowed: str
) -> None:
    response = acme.api.request(method, path.format(org=acme.org), {} if method in ("POST", "PUT") else None)

    assert response.status == 405
    assert response.headers["Allow"] == allowed
    assert response.json()["status"] == 405


def test_an_unknown_path_is_still_a_404(acme: Billing) -> None:
    assert acme.api.get("/v1/nothing-here").status == 404
