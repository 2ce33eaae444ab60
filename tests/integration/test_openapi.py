"""The OpenAPI document at `/openapi.json`: valid OpenAPI, every operation tagged, with its
success and error answers (problems as `application/problem+json`)."""

from __future__ import annotations

from typing import Any

import pytest
from openapi_spec_validator import validate

from tests.integration.api_client import ApiClient


@pytest.fixture
def document(api: ApiClient) -> dict[str, Any]:
    response = api.get("/openapi.json", api_key=None)
    assert response.status == 200
    return dict(response.json())


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in ("get", "post", "put", "patch", "delete")
    ]


def test_the_document_is_valid_openapi(document: dict[str, Any]) -> None:
    validate(document)


def test_every_operation_has_a_summary_a_tag_and_its_problem_answers(document: dict[str, Any]) -> None:
    problem = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for path, method, operation in operations(document):
        assert operation.get("summary"), (method, path)
        assert len(operation.get("tags", [])) == 1, (method, path)
        responses = operation["responses"]
        assert any(code.startswith("2") for code in responses), (method, path)
        assert responses["500"]["content"] == problem
        if "requestBody" in operation:
            for code in ("400", "415", "422"):
                assert responses[code]["content"] == problem, (method, path, code)
        if path.startswith("/v1/"):
            assert responses["401"]["content"] == problem, (method, path)


@pytest.mark.parametrize(
    ("path", "tag"),
    [
        ("/v1/organisations/{organisation_id}/customers/{customer_id}/charges", "Charges"),
        ("/v1/organisations/{organisation_id}/invoices/{invoice_id}/finalize", "Invoices"),
        ("/v1/organisations/{organisation_id}/subscriptions/{subscription_id}/activate", "Subscriptions"),
        ("/v1/organisations/{organisation_id}/billing_runs/{run_id}", "Bulk billing"),
        ("/v1/organisations", "Organisations"),
    ],
)
def test_operations_are_tagged_by_resource(document: dict[str, Any], path: str, tag: str) -> None:
    for operation in document["paths"][path].values():
        assert operation["tags"] == [tag]
