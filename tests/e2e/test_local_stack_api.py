"""The API served by the local stack, as a client sees it over HTTP."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from tests.e2e.local_stack import RunningLocalStack

pytestmark = pytest.mark.e2e


def create_organisation(stack: RunningLocalStack, name: str = "Acme Ltd") -> dict[str, Any]:
    response = requests.post(
        stack.url("/v1/organisations"),
        json={"name": name, "default_currency": "EUR"},
        headers=stack.auth(),
        timeout=10,
    )
    assert response.status_code == 201, response.text
    organisation: dict[str, Any] = response.json()
    return organisation


def create_customer(stack: RunningLocalStack, organisation_id: str) -> dict[str, Any]:
    response = requests.post(
        stack.url(f"/v1/organisations/{organisation_id}/customers"),
        json={"name": "Globex GmbH", "email": "ap@globex.test"},
        headers=stack.auth(),
        timeout=10,
    )
    assert response.status_code == 201, response.text
    customer: dict[str, Any] = response.json()
    return customer


def test_the_health_check_answers_without_a_key(stack: RunningLocalStack) -> None:
    response = requests.get(stack.url("/health"), timeout=5)

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_with_the_dev_key_a_user_creates_an_organisation_and_a_customer_and_lists_them(
    stack: RunningLocalStack,
) -> None:
    organisation = create_organisation(stack, "Acme Ltd")
    customer = create_customer(stack, organisation["id"])

    organisations = requests.get(stack.url("/v1/organisations"), headers=stack.auth(), timeout=10)
    customers = requests.get(
        stack.url(f"/v1/organisations/{organisation['id']}/customers"), headers=stack.auth(), timeout=10
    )

    assert organisation["id"].startswith("org_")
    assert (organisation["name"], organisation["default_currency"]) == ("Acme Ltd", "EUR")
    assert customer["id"].startswith("cus_")
    assert (customer["organisation_id"], customer["name"], customer["email"]) == (
        organisation["id"],
        "Globex GmbH",
        "ap@globex.test",
    )
    assert organisations.status_code == 200
    assert organisation["id"] in [listed["id"] for listed in organisations.json()["data"]]
    assert customers.status_code == 200
    assert customers.json()["next_cursor"] is None
    assert [listed["id"] for listed in customers.json()["data"]] == [customer["id"]]


def test_a_user_pages_through_customers_with_limit_and_cursor(stack: RunningLocalStack) -> None:
    organisation = create_organisation(stack, "Paged Ltd")
    created = {create_customer(stack, organisation["id"])["id"] for _ in range(3)}
    customers_url = stack.url(f"/v1/organisations/{organisation['id']}/customers")

    seen: list[str] = []
    params: dict[str, str] = {"limit": "2"}
    for _ in range(3):
        page = requests.get(customers_url, params=params, headers=stack.auth(), timeout=10)
        assert page.status_code == 200, page.text
        seen += [customer["id"] for customer in page.json()["data"]]
        if page.json()["next_cursor"] is None:
            break
        params = {"limit": "2", "cursor": page.json()["next_cursor"]}

    assert len(seen) == 3
    assert set(seen) == created


def test_a_request_body_sent_in_chunks_arrives_whole(stack: RunningLocalStack) -> None:
    body = b'{"name": "Chunked Ltd", "default_currency": "EUR"}'

    response = requests.post(
        stack.url("/v1/organisations"),
        data=iter([body[:10], body[10:30], body[30:]]),  # an iterator is sent with Transfer-Encoding: chunked
        headers={**stack.auth(), "Content-Type": "application/json"},
        timeout=10,
    )

    assert response.status_code == 201, response.text
    assert response.json()["name"] == "Chunked Ltd"


def test_a_request_without_a_key_is_refused_with_401(stack: RunningLocalStack) -> None:
    response = requests.get(stack.url("/v1/organisations"), timeout=5)

    assert response.status_code == 401
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.json()["status"] == 401


def test_an_account_made_with_dev_accounts_cannot_reach_another_accounts_organisation_or_customer(
    stack: RunningLocalStack,
) -> None:
    organisation = create_organisation(stack, "Private Ltd")
    customer = create_customer(stack, organisation["id"])

    created = requests.post(stack.url("/_dev/accounts"), json={"name": "Intruder"}, timeout=10)
    assert created.status_code == 201, created.text
    intruder = stack.auth(created.json()["api_key"])
    organisation_url = stack.url(f"/v1/organisations/{organisation['id']}")
    answers = {
        "organisation": requests.get(organisation_url, headers=intruder, timeout=10),
        "customer": requests.get(
            f"{organisation_url}/customers/{customer['id']}", headers=intruder, timeout=10
        ),
        "customers": requests.get(f"{organisation_url}/customers", headers=intruder, timeout=10),
    }
    own_organisations = requests.get(stack.url("/v1/organisations"), headers=intruder, timeout=10)

    assert created.json()["account_id"]
    for answer in answers.values():
        assert answer.status_code == 404, answer.text
        assert answer.headers["Content-Type"] == "application/problem+json"
    assert own_organisations.status_code == 200
    assert own_organisations.json()["data"] == []


@pytest.mark.parametrize(
    ("body", "status"),
    [
        pytest.param(b"{not json", 400, id="not JSON"),
        pytest.param(b'["Intruder"]', 400, id="not an object"),
        pytest.param(b"{}", 422, id="name missing"),
        pytest.param(b'{"name": 42}', 422, id="name not a string"),
        pytest.param(b'{"name": ""}', 422, id="name empty"),
        pytest.param(b'{"name": "' + b"x" * 201 + b'"}', 422, id="name over 200 characters"),
    ],
)
def test_dev_accounts_refuses_a_bad_body_with_a_problem(
    stack: RunningLocalStack, body: bytes, status: int
) -> None:
    response = requests.post(
        stack.url("/_dev/accounts"), data=body, headers={"Content-Type": "application/json"}, timeout=10
    )

    assert response.status_code == status
    assert response.headers["Content-Type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == status
    if status == 422:
        assert [error["field"] for error in problem["errors"]] == ["name"]


def test_the_invoicing_cycle_dev_route_refuses_a_body_without_a_date(stack: RunningLocalStack) -> None:
    url = stack.url("/_dev/run/invoicing-cycle")

    missing = requests.post(url, json={}, timeout=10)
    malformed = requests.post(url, json={"date": "2027-02-30"}, timeout=10)
    not_json = requests.post(url, data=b"2027-02-01", timeout=10)

    assert missing.status_code == 422, missing.text
    assert [error["field"] for error in missing.json()["errors"]] == ["date"]
    assert malformed.status_code == 422, malformed.text
    assert not_json.status_code == 400, not_json.text


@pytest.mark.parametrize("method", ["PROPFIND", "TRACE", "DELETE"])
def test_the_local_front_answers_a_method_a_known_path_refuses_with_a_405_problem(
    stack: RunningLocalStack, method: str
) -> None:
    response = requests.request(method, stack.url("/v1/organisations"), headers=stack.auth(), timeout=10)

    assert response.status_code == 405
    assert response.headers["Allow"] == "GET, POST"
    assert response.headers["Content-Type"] == "application/problem+json"


def test_the_local_front_answers_a_form_post_with_a_415_problem(stack: RunningLocalStack) -> None:
    response = requests.post(
        stack.url("/v1/organisations"), data={"name": "Acme"}, headers=stack.auth(), timeout=10
    )

    assert response.status_code == 415
    assert "application/json" in response.json()["detail"]
