"""The dashboard function's pages, called in-process with API Gateway proxy events, and through the
local front as `make run` serves them.
"""

from __future__ import annotations

import copy
import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.integration.api_client import LambdaContext

SAMPLE = Path(__file__).resolve().parents[2] / "events" / "dashboard" / "sign_in_page.json"


def dashboard_event(method: str, path: str, body: str | None = None) -> dict[str, Any]:
    """The sample event (`events/dashboard/sign_in_page.json`) for another method, path and body."""
    event: dict[str, Any] = copy.deepcopy(json.loads(SAMPLE.read_text()))
    event.update(httpMethod=method, path=path, body=body)
    event["pathParameters"] = {"proxy": path.removeprefix("/dashboard/")}
    event["requestContext"].update(requestId=str(uuid.uuid4()), path=path)
    return event


def call(
    method: str, path: str, body: str | None = None, request_context: dict[str, Any] | None = None
) -> dict[str, Any]:
    from dashboard.app import lambda_handler

    event = dashboard_event(method, path, body)
    event["requestContext"].update(request_context or {})
    result: dict[str, Any] = lambda_handler(event, LambdaContext(str(uuid.uuid4()), "remit-dashboard"))
    return result


@pytest.mark.usefixtures("aws")
def test_the_dashboard_root_leads_to_the_sign_in_page() -> None:
    response = call("GET", "/dashboard")

    assert response["statusCode"] == 303
    assert response["headers"]["Location"] == "/dashboard/sign-in"


@pytest.mark.usefixtures("aws")
def test_the_sign_in_page_is_a_form_under_a_strict_content_security_policy() -> None:
    response = call("GET", "/dashboard/sign-in")

    assert response["statusCode"] == 200
    assert response["headers"]["Content-Type"] == "text/html; charset=utf-8"
    policy = response["headers"]["Content-Security-Policy"]
    assert "default-src 'none'" in policy
    # Script only from this origin (the vendored htmx): no inline script, nothing from elsewhere.
    assert "script-src 'self';" in policy
    assert "unsafe-inline" not in policy.split("script-src", 1)[1].split(";", 1)[0]
    assert "frame-ancestors 'none'" in policy
    assert response["headers"]["Cache-Control"] == "no-store"
    assert '<form method="post" action="/dashboard/sign-in">' in response["body"]
    assert 'type="password"' in response["body"]


@pytest.mark.usefixtures("aws")
def test_an_unknown_dashboard_path_answers_the_not_found_page() -> None:
    response = call("GET", "/dashboard/organisations/org_nobody/<script>")

    assert response["statusCode"] == 404
    assert "Not found" in response["body"]
    assert "<script>" not in response["body"]
    assert "Content-Security-Policy" in response["headers"]


def test_the_local_front_sends_dashboard_paths_to_the_dashboard_function() -> None:
    from local.http_front import _under

    assert _under("/dashboard", "/dashboard")
    assert _under("/dashboard/sign-in", "/dashboard")
    assert not _under("/dashboards", "/dashboard")
    assert _under("/webhooks/stripe/org_1", "/webhooks/stripe/")
    assert not _under("/webhooks/stripe", "/webhooks/stripe/")


@pytest.mark.usefixtures("aws")
def test_the_vendored_htmx_is_served_with_its_version_and_licence_beside_it() -> None:
    from dashboard.rendering import ASSETS, HTMX

    response = call("GET", f"/dashboard/assets/{HTMX}")

    assert response["statusCode"] == 200
    assert response["headers"]["Content-Type"].startswith("text/javascript")
    assert response["body"].startswith("var htmx=function()")
    assert "Zero-Clause BSD" in (ASSETS / "htmx-LICENSE.txt").read_text()
    assert call("GET", "/dashboard/assets/other.js")["statusCode"] == 404


@pytest.mark.usefixtures("aws")
def test_on_api_gateways_own_host_every_own_path_is_under_the_stage() -> None:
    """`https://<id>.execute-api.<region>.amazonaws.com/prod/dashboard/`: the stage is part of every
    path there, so links, forms, scripts and redirects carry it; on a custom domain they do not.
    """
    event_context = {"domainName": "abc123.execute-api.eu-west-1.amazonaws.com", "stage": "prod"}

    redirect = call("GET", "/dashboard", request_context=event_context)
    page = call("GET", "/dashboard/sign-in", request_context=event_context)

    assert redirect["headers"]["Location"] == "/prod/dashboard/sign-in"
    assert 'action="/prod/dashboard/sign-in"' in page["body"]
    assert 'src="/prod/dashboard/assets/htmx-' in page["body"]
    assert '="/dashboard' not in page["body"]
    custom = call(
        "GET", "/dashboard/sign-in", request_context={"domainName": "billing.acme.test", "stage": "prod"}
    )
    assert 'action="/dashboard/sign-in"' in custom["body"]


@pytest.mark.usefixtures("aws")
def test_a_body_no_form_can_be_is_refused_with_400_before_anything_else() -> None:
    too_many = "&".join(f"f{index}=x" for index in range(1000))
    event = dashboard_event("POST", "/dashboard/sign-in", too_many)
    from dashboard.app import lambda_handler

    response = lambda_handler(event, LambdaContext(str(uuid.uuid4()), "remit-dashboard"))

    assert response["statusCode"] == 400
    assert "The form sent could not be read." in response["body"]
    broken = dashboard_event("POST", "/dashboard/sign-out", "%%%not base64")
    broken["isBase64Encoded"] = True
    assert lambda_handler(broken, LambdaContext(str(uuid.uuid4()), "remit-dashboard"))["statusCode"] == 400


@pytest.mark.usefixtures("aws")
def test_a_failure_that_is_not_a_refusal_answers_a_page_not_api_gateways_502(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from botocore.exceptions import ClientError

    from remit.bootstrap import services

    def throttled(session_id: str | None) -> None:
        raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "slow down"}}, "Query")

    def broken(session_id: str | None) -> None:
        raise RuntimeError("a bug")

    answers = {}
    for failure in (throttled, broken):
        # The sign-in page reads the session first: there the failure happens.
        monkeypatch.setattr(services().dashboard_sessions, "current", failure)
        answers[failure.__name__] = call("GET", "/dashboard/sign-in")

    assert answers["throttled"]["statusCode"] == 503
    assert answers["throttled"]["headers"]["Retry-After"] == "1"
    assert answers["broken"]["statusCode"] == 500
    assert "Retry-After" not in answers["broken"]["headers"]
    assert "Something went wrong on our side." in answers["broken"]["body"]
    assert all(
        a["headers"]["Content-Security-Policy"].startswith("default-src 'none'") for a in answers.values()
    )
