"""template.yaml's e-invoice validator: a function of its own with the rules layer, invoked only by
the functions that issue documents (and the customer portal, whose e-invoice downloads are
validated as the API's are), and granted to invoke nothing else.
"""

from __future__ import annotations

from typing import Any

import pytest

from local.cloudformation import load_template

ISSUERS = ("ApiFunction", "DashboardFunction", "BillingWorkerFunction", "PortalFunction")


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template()


def functions(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        name: resource["Properties"]
        for name, resource in template["Resources"].items()
        if resource["Type"] == "AWS::Serverless::Function"
    }


def test_only_the_validator_carries_the_rules_layer(template: dict[str, Any]) -> None:
    assert "Layers" not in template["Globals"]["Function"]
    layers = {name: properties.get("Layers") for name, properties in functions(template).items()}

    assert layers.pop("EinvoiceValidatorFunction") == [{"Ref": "EinvoiceRulesLayer"}]
    assert layers
    assert all(function_layers == [{"Ref": "SharedLayer"}] for function_layers in layers.values())
    rules_layer = template["Resources"]["EinvoiceRulesLayer"]
    # Staged by `make build` (tools/einvoice_rules.py layer), zipped by SAM as it is.
    assert rules_layer["Properties"]["ContentUri"] == ".aws-sam/einvoice-rules-layer/"
    assert "Metadata" not in rules_layer


def test_the_validator_reads_its_rules_from_the_layer_and_reaches_nothing(template: dict[str, Any]) -> None:
    validator = functions(template)["EinvoiceValidatorFunction"]

    assert validator["Handler"] == "einvoice_validator.app.lambda_handler"
    assert validator["Environment"]["Variables"]["REMIT_EINVOICE_RULES_DIR"] == "/opt/python/einvoice_rules"
    assert "Policies" not in validator
    assert "Events" not in validator


def test_only_the_issuers_may_invoke_the_validator_and_nothing_else(template: dict[str, Any]) -> None:
    invokers = {}
    for name, properties in functions(template).items():
        for policy in properties.get("Policies", []):
            for statement in policy.get("Statement", []):
                actions = statement["Action"]
                if "lambda:InvokeFunction" in ([actions] if isinstance(actions, str) else actions):
                    invokers[name] = statement["Resource"]

    assert set(invokers) == set(ISSUERS)
    assert all(resource == {"Fn::GetAtt": "EinvoiceValidatorFunction.Arn"} for resource in invokers.values())
    for name in ISSUERS:
        variables = functions(template)[name]["Environment"]["Variables"]
        assert variables["REMIT_EINVOICE_VALIDATOR_FUNCTION"] == {"Ref": "EinvoiceValidatorFunction"}
