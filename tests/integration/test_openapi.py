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
        # A success, or the redirect to a file made for the caller (an export)
        assert any(code.startswith("2") or code == "303" for code in responses), (method, path)
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


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("post", "/v1/organisations", "201"),
        ("post", "/v1/organisations/{organisation_id}/invoices/{invoice_id}/payments", "201"),
        ("post", "/v1/organisations/{organisation_id}/billing_templates/{template_id}/send_invoice", "201"),
        ("post", "/v1/organisations/{organisation_id}/billing", "202"),
        ("post", "/v1/organisations/{organisation_id}/invoices/{invoice_id}/finalize", "200"),
        ("delete", "/v1/organisations/{organisation_id}/customers/{customer_id}", "204"),
    ],
)
def test_each_operation_declares_the_success_status_it_answers(
    document: dict[str, Any], method: str, path: str, status: str
) -> None:
    successes = [code for code in document["paths"][path][method]["responses"] if code.startswith("2")]

    assert successes == [status]


def test_the_schemas_carry_the_constraints_the_api_enforces(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    customer = schemas["NewCustomer"]["properties"]
    payment = schemas["NewOfflinePayment"]["properties"]

    assert customer["email"]["pattern"]
    currency = next(s for s in customer["currency"]["anyOf"] if s.get("type") == "string")
    assert "[Ee][Uu][Rr]" in currency["pattern"]
    assert payment["amount"]["exclusiveMinimum"] == 0
    assert schemas["NewBalanceTransaction"]["properties"]["amount"]["not"] == {"const": 0}


def test_every_schema_has_a_title_of_its_own(document: dict[str, Any]) -> None:
    # Generators name a model's class by its title: two schemas titled alike (pydantic's `X-Input`
    # and `X-Output` of one model) would leave one of them, and every operation using it, out.
    titles = [schema.get("title", name) for name, schema in document["components"]["schemas"].items()]
    assert sorted(title for title in set(titles) if titles.count(title) > 1) == []
    assert document["components"]["schemas"]["NewLineItem-Output"]["title"] == "NewLineItemOutput"


def test_every_request_body_of_a_create_has_examples_valid_by_its_own_schema(
    document: dict[str, Any],
) -> None:
    import jsonschema

    schemas = document["components"]["schemas"]
    bodies = [
        operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})
        for _, method, operation in operations(document)
        if method == "post"
    ]
    names = {body["$ref"].rsplit("/", 1)[-1] for body in bodies if "$ref" in body}
    creates = {name for name in names if name.startswith(("New", "BulkBilling"))}
    assert len(creates) >= 9, creates
    for name in creates:
        examples = schemas[name].get("examples")
        assert examples, name
        validator = jsonschema.Draft202012Validator({"$ref": f"#/components/schemas/{name}", **document})
        for example in examples:
            assert list(validator.iter_errors(example)) == [], (name, example)


def test_the_deployed_api_gateway_answers_throttling_as_a_problem_too() -> None:
    import json

    import jsonschema

    from api.openapi import PROBLEM_JSON, PROBLEM_SCHEMA
    from local.cloudformation import load_template

    api = load_template()["Resources"]["RemitApi"]["Properties"]
    throttled = api["GatewayResponses"]["THROTTLED"]
    body = json.loads(throttled["ResponseTemplates"]["application/json"])

    assert throttled["StatusCode"] == "429"
    assert throttled["ResponseParameters"]["Headers"]["Content-Type"] == f"'{PROBLEM_JSON}'"
    jsonschema.validate(body, PROBLEM_SCHEMA)
    assert body["status"] == 429


def test_metadata_constrains_every_key_and_value(document: dict[str, Any]) -> None:
    import jsonschema

    validator = jsonschema.Draft202012Validator({"$ref": "#/components/schemas/NewCustomer", **document})
    customer = {"name": "Globex", "email": "ap@globex.test"}

    assert validator.is_valid({**customer, "metadata": {"crm": "42"}})
    assert not validator.is_valid({**customer, "metadata": {"\u00a0": "42"}})  # a blank key
    assert not validator.is_valid({**customer, "metadata": {"\u00a0": []}})  # nor any value under it
