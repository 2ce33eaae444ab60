"""template.yaml's limits and least privilege, read as the stack deploys them: each path family throttled
on its own, per-client WAF rules, reserved concurrency for the public functions, an access log, and
no IAM action no code path uses.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from local.cloudformation import load_template

PUBLIC_FUNCTIONS = ("ApiFunction", "DashboardFunction", "PaymentWebhooksFunction", "PortalFunction")


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template()


def api_paths(template: dict[str, Any]) -> dict[str, str]:
    """Each API Gateway resource path of the template's functions, and the function it reaches."""
    paths = {}
    for name, resource in template["Resources"].items():
        for event in resource.get("Properties", {}).get("Events", {}).values():
            if event["Type"] == "Api":
                paths[event["Properties"]["Path"]] = name
    return paths


def method_settings(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    settings = template["Resources"]["RemitApi"]["Properties"]["MethodSettings"]
    return {setting["ResourcePath"]: setting for setting in settings}


def test_each_path_family_has_a_throttle_of_its_own_on_a_resource_that_exists(
    template: dict[str, Any],
) -> None:
    paths = api_paths(template)
    settings = method_settings(template)

    for resource_path in settings:
        if resource_path != "/*":
            # The leading "/" separates; each "/" of the resource's own path is "~1".
            assert resource_path[1:].replace("~1", "/") in paths, resource_path
    limits = {path: settings[path]["ThrottlingRateLimit"] for path in settings}
    assert limits == {
        "/*": {"Ref": "PublicRateLimit"},
        "/~1v1~1{proxy+}": {"Ref": "ApiRateLimit"},
        "/~1webhooks~1stripe~1{org_id}": {"Ref": "WebhooksRateLimit"},
        "/~1dashboard": {"Ref": "DashboardRateLimit"},
        "/~1dashboard~1{proxy+}": {"Ref": "DashboardRateLimit"},
        "/~1p~1{proxy+}": {"Ref": "PortalRateLimit"},
    }
    assert paths["/v1/{proxy+}"] == paths["/i/{proxy+}"] == "ApiFunction"
    assert paths["/p/{proxy+}"] == "PortalFunction"


def rules(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    acl = template["Resources"]["WebAcl"]
    return {rule["Name"]: rule for rule in acl["Properties"]["Rules"]}


def test_the_waf_limits_each_api_key_and_each_anonymous_client_apart(template: dict[str, Any]) -> None:
    by_key = rules(template)["RequestsPerApiKey"]["Statement"]["RateBasedStatement"]
    public = rules(template)["PublicRequestsPerIp"]["Statement"]["RateBasedStatement"]

    assert by_key["AggregateKeyType"] == "CUSTOM_KEYS"
    assert by_key["CustomKeys"] == [
        {"Header": {"Name": "authorization", "TextTransformations": [{"Priority": 0, "Type": "NONE"}]}}
    ]
    assert "/v1/" in by_key["ScopeDownStatement"]["RegexMatchStatement"]["RegexString"]["Fn::Sub"]
    assert public["AggregateKeyType"] == "IP"
    assert "NotStatement" in public["ScopeDownStatement"]
    assert template["Resources"]["WebAcl"]["Condition"] == "WafEnabled"
    assert template["Resources"]["WebAclAssociation"]["Condition"] == "WafEnabled"


def test_every_rate_rule_answers_429_with_a_problem_and_has_a_parameter(template: dict[str, Any]) -> None:
    parameters = template["Parameters"]
    for name, rule in rules(template).items():
        if "RateBasedStatement" not in rule["Statement"]:
            continue
        assert rule["Action"]["Block"]["CustomResponse"]["ResponseCode"] == 429, name
        assert rule["Statement"]["RateBasedStatement"]["Limit"]["Ref"] in parameters, name


def test_the_public_functions_reserve_concurrency_set_by_a_parameter(template: dict[str, Any]) -> None:
    for name in PUBLIC_FUNCTIONS:
        reserved = template["Resources"][name]["Properties"]["ReservedConcurrentExecutions"]
        condition, value, _ = reserved["Fn::If"]
        assert value["Ref"] in template["Parameters"], name
        assert condition in template["Conditions"], name


def test_the_stage_writes_a_json_access_log_naming_the_request(template: dict[str, Any]) -> None:
    setting = template["Resources"]["RemitApi"]["Properties"]["AccessLogSetting"]
    log_group = setting["DestinationArn"]["Fn::GetAtt"].split(".")[0]

    for variable in ("$context.requestId", "$context.identity.sourceIp", "$context.status"):
        assert variable in setting["Format"]
    assert template["Resources"][log_group]["Properties"]["RetentionInDays"] > 0


def granted_actions(resource: dict[str, Any]) -> Iterator[str]:
    for policy in resource.get("Properties", {}).get("Policies", []):
        for statement in policy.get("Statement", []):
            actions = statement["Action"]
            yield from [actions] if isinstance(actions, str) else actions


def test_no_function_may_delete_objects_or_read_users_it_never_reads(template: dict[str, Any]) -> None:
    granted = {
        name: set(granted_actions(resource))
        for name, resource in template["Resources"].items()
        if resource["Type"] == "AWS::Serverless::Function"
    }

    assert all("s3:DeleteObject" not in actions for actions in granted.values())
    assert not {"cognito-idp:AdminGetUser", "cognito-idp:ListUsers"} & granted["DashboardFunction"]


def test_prod_deploys_with_the_waf(template: dict[str, Any]) -> None:
    from pathlib import Path

    samconfig = (Path(__file__).resolve().parents[2] / "samconfig.toml").read_text()
    prod = samconfig.split("[prod.deploy.parameters]", 1)[1].split("\n[", 1)[0]

    assert "EnableWaf=true" in prod
    assert template["Parameters"]["EnableWaf"]["Default"] == "false"
