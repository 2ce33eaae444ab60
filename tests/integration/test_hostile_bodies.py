"""No body crashes a function: each public entry point (the API, the hosted page's checkout form,
the payment webhooks, the dashboard's forms, the local front) answers a hostile body with a 4xx
problem, before anything parses it, and changes nothing.

Hostile: JSON nested 100,000 deep (arrays, objects, inside a validly signed Stripe event), bodies
over the size a JSON body may have, bytes that are not UTF-8, and a base64 flag that lies.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable
from typing import Any

import boto3
import pytest

from tests.integration.api_client import ApiClient, LambdaContext
from tests.integration.billing import Billing
from tests.integration.test_card_webhooks import (
    Shop,
    card_event_service,
    sign,
    stripe_event,
    webhook_event,
    whole_table,
)
from tests.integration.test_dashboard_pages import dashboard_event

DEEP = 100_000
MEGABYTE = 1024 * 1024


def deep_arrays(depth: int = DEEP) -> str:
    return "[" * depth + "]" * depth


def deep_objects(depth: int = DEEP) -> str:
    return '{"a":' * depth + "null" + "}" * depth


def unclosed(depth: int = DEEP) -> str:
    return "[" * depth


NESTED = {"arrays": deep_arrays(), "objects": deep_objects(), "unclosed": unclosed()}


def huge_json() -> str:
    return json.dumps({"name": "Globex", "email": "a@g.test", "metadata": {"padding": "x" * (2 * MEGABYTE)}})


def is_problem(response: dict[str, Any] | Any, status: int) -> bool:
    status_code = response["statusCode"] if isinstance(response, dict) else response.status
    headers = response["headers"] if isinstance(response, dict) else response.headers
    body = response["body"] if isinstance(response, dict) else response.body
    document = json.loads(body)
    return (
        status_code == status
        and headers["Content-Type"] == "application/problem+json"
        and document["status"] == status
        and bool(document["detail"])
    )


def stored_items() -> list[dict[str, Any]]:
    return whole_table()


@pytest.fixture
def acme(api: ApiClient) -> Billing:
    return Billing(api)


# --- the API ----------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", NESTED)
def test_json_nested_100000_deep_is_a_400_naming_the_depth_and_changes_nothing(
    acme: Billing, shape: str
) -> None:
    before = stored_items()

    response = acme.api.post(f"{acme.base}/customers", raw_body=NESTED[shape])

    assert is_problem(response, 400)
    if shape != "unclosed":
        assert "32 levels" in response.json()["detail"]
    assert stored_items() == before


def test_json_nested_deep_inside_an_otherwise_valid_body_is_a_400(acme: Billing) -> None:
    body = '{"name": "Globex", "email": "a@g.test", "metadata": {"x": ' + deep_arrays() + "}}"

    response = acme.api.patch(f"{acme.base}/customers/{acme.customer}", raw_body=body)

    assert is_problem(response, 400)
    assert acme.api.get(f"{acme.base}/customers/{acme.customer}").json()["metadata"] == {}


def test_json_nested_as_deep_as_a_body_may_be_reaches_the_route(acme: Billing) -> None:
    metadata = json.dumps({"a": "1"})
    body = '{"name": "Globex", "email": "a@g.test", "metadata": ' + metadata + "}"

    assert acme.api.post(f"{acme.base}/customers", raw_body=body).status == 201
    within_limit = "[" * 32 + "]" * 32
    answered = acme.api.post(f"{acme.base}/customers", raw_body=within_limit)
    assert answered.status == 400
    assert answered.json()["detail"] == "The request body must be a JSON object."


def test_a_json_body_over_a_megabyte_is_a_413_and_changes_nothing(acme: Billing) -> None:
    before = stored_items()

    response = acme.api.post(f"{acme.base}/customers", raw_body=huge_json())

    assert is_problem(response, 413)
    assert "1048576 bytes" in response.json()["detail"]
    assert stored_items() == before


def test_a_nested_body_without_a_key_is_still_401(acme: Billing) -> None:
    response = acme.api.post(f"{acme.base}/customers", raw_body=deep_arrays(), api_key=None)

    assert response.status == 401


@pytest.mark.parametrize(
    ("name", "body", "flagged"),
    [
        ("latin-1 bytes", base64.b64encode('{"name": "Caf\xe9"}'.encode("latin-1")).decode(), True),
        ("a lone surrogate", '{"name": "\udcff"}', False),
        ("flagged base64 but is not", '{"name": "Globex", "email": "a@g.test"}', True),
        ("base64 not flagged", base64.b64encode(b'{"name": "Globex"}').decode(), False),
    ],
)
def test_a_body_that_is_not_utf8_json_or_lies_about_base64_is_a_400(
    acme: Billing, name: str, body: str, flagged: bool
) -> None:
    event = post_event(acme, f"{acme.base}/customers", body, flagged)
    before = stored_items()

    response = acme.api.invoke(event)

    assert response.status == 400, name
    assert response.content_type == "application/problem+json"
    assert stored_items() == before


def post_event(
    acme: Billing, path: str, body: str, flagged: bool, content_type: str = "application/json"
) -> dict[str, Any]:
    """The API's proxy event for a POST of `body` exactly as given, with `isBase64Encoded` as given."""
    from tests.integration.api_client import sample_event

    event = json.loads(json.dumps(sample_event("create_organisation")))
    headers = {"Content-Type": content_type, "Authorization": f"Bearer {acme.api.api_key}"}
    event.update(
        path=path,
        httpMethod="POST",
        headers=headers,
        multiValueHeaders={k: [v] for k, v in headers.items()},
        pathParameters={"proxy": path.lstrip("/")},
        body=body,
        isBase64Encoded=flagged,
    )
    event["requestContext"].update(path=path, httpMethod="POST", requestId=str(uuid.uuid4()))
    return event


def test_a_logo_flagged_base64_that_is_not_is_a_400(acme: Billing) -> None:
    event = post_event(acme, f"{acme.base}/logo", "%%% not base64 %%%", True, "image/png")
    event["httpMethod"] = "PUT"

    response = acme.api.invoke(event)

    assert response.status == 400
    assert response.content_type == "application/problem+json"
    assert acme.api.get(acme.base).json()["branding"]["logo_url"] is None


# --- the hosted page's checkout form (public, no key) ------------------------------------------


@pytest.mark.parametrize(
    ("name", "body", "flagged", "status"),
    [
        ("nested JSON", deep_arrays(), False, 400),
        ("a huge form", "x=" + "y" * (2 * MEGABYTE), False, 413),
        ("flagged base64 but is not", "%%% not base64 %%%", True, 400),
    ],
)
def test_the_checkout_form_refuses_a_hostile_body_with_a_problem(
    acme: Billing, name: str, body: str, flagged: bool, status: int
) -> None:
    invoice = acme.finalized()
    token = invoice["hosted_url"].rsplit("/", 1)[-1]
    content_type = "application/json" if name == "nested JSON" else "application/x-www-form-urlencoded"
    event = post_event(acme, f"/i/{token}/checkout", body, flagged, content_type)
    event["headers"].pop("Authorization")
    event["headers"]["Idempotency-Key"] = "checkout-1"

    response = ApiClient().invoke(event)

    assert response.status == status, name
    assert response.content_type == "application/problem+json"
    assert acme.get(invoice["id"])["status"] == "open"


# --- the payment webhooks ---------------------------------------------------------------------


@pytest.fixture
def webhooks(monkeypatch: pytest.MonkeyPatch) -> Callable[[dict[str, Any]], dict[str, Any]]:
    from payment_webhooks import app

    monkeypatch.setattr(app, "card_event_service", card_event_service)

    def invoke(event: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = app.lambda_handler(event, LambdaContext(aws_request_id="req-hostile"))
        return result

    return invoke


@pytest.fixture
def shop(api: ApiClient) -> Shop:
    return Shop(api)


@pytest.mark.parametrize("shape", NESTED)
def test_a_webhook_nested_100000_deep_is_a_400_and_changes_nothing(
    shop: Shop, webhooks: Callable[[dict[str, Any]], dict[str, Any]], shape: str
) -> None:
    body = NESTED[shape].encode()
    before = whole_table()

    response = webhooks(webhook_event(shop.org, body, sign(body)))

    assert is_problem(response, 400)
    assert whole_table() == before


def test_a_validly_signed_stripe_event_nested_deep_inside_is_a_400_and_changes_nothing(
    shop: Shop, webhooks: Callable[[dict[str, Any]], dict[str, Any]]
) -> None:
    invoice = shop.invoice()
    event = json.loads(stripe_event("evt_deep", "payment_intent.succeeded", shop.org, invoice["id"]))
    text = json.dumps(event)
    marker = '"metadata": {'
    body = text.replace(marker, marker + '"deep": ' + deep_objects() + ", ", 1).encode()
    assert body != text.encode()
    before = whole_table()

    response = webhooks(webhook_event(shop.org, body, sign(body)))

    assert is_problem(response, 400)
    assert whole_table() == before
    assert shop.billing.get(invoice["id"])["status"] == "open"


def test_a_stripe_event_verified_by_the_gateway_cannot_be_nested_deep() -> None:
    from pydantic import SecretStr

    from remit.adapters.stripe_gateway import verify_stripe_event
    from remit.domain.card_payments import ProviderCredentials
    from remit.domain.errors import InvalidSignature
    from tests.integration.test_card_webhooks import WEBHOOK_SECRET

    credentials = ProviderCredentials(
        provider="stripe", secret_key=SecretStr("sk_test_x"), webhook_secret=SecretStr(WEBHOOK_SECRET)
    )
    envelope = '{"id": "evt_1", "object": "event", "type": "x", "data": {"object": %s}}'
    body = (envelope % deep_objects()).encode()

    with pytest.raises(InvalidSignature):
        verify_stripe_event(credentials, body, sign(body))


def test_a_webhook_over_a_megabyte_is_a_413(
    shop: Shop, webhooks: Callable[[dict[str, Any]], dict[str, Any]]
) -> None:
    body = huge_json().encode()

    response = webhooks(webhook_event(shop.org, body, sign(body)))

    assert is_problem(response, 413)


@pytest.mark.parametrize(
    ("name", "body", "flagged"),
    [
        ("latin-1 bytes", base64.b64encode(b'{"id": "evt_\xe9"}').decode(), True),
        ("flagged base64 but is not", '{"id": "evt_1"}', True),
        ("a lone surrogate", '{"id": "evt_\udcff"}', False),
    ],
)
def test_a_webhook_body_that_is_not_utf8_json_is_a_400(
    shop: Shop, webhooks: Callable[[dict[str, Any]], dict[str, Any]], name: str, body: str, flagged: bool
) -> None:
    event = webhook_event(shop.org, b"{}", "t=1,v1=00")
    event.update(body=body, isBase64Encoded=flagged)
    before = whole_table()

    response = webhooks(event)

    assert is_problem(response, 400), name
    assert whole_table() == before


# --- the dashboard's forms --------------------------------------------------------------------


def dashboard(event: dict[str, Any]) -> dict[str, Any]:
    from dashboard.app import lambda_handler

    result: dict[str, Any] = lambda_handler(event, LambdaContext(str(uuid.uuid4()), "remit-dashboard"))
    return result


def nested_multipart(depth: int) -> tuple[str, bytes]:
    """A multipart body whose one part is itself multipart, `depth` times over."""
    head = b""
    tail = b""
    for level in range(depth):
        boundary = f"b{level}".encode()
        head += b"--" + boundary + b"\r\nContent-Type: multipart/mixed; boundary=b" + str(level + 1).encode()
        head += b"\r\n\r\n"
        tail = b"\r\n--" + boundary + b"--\r\n" + tail
    return "multipart/form-data; boundary=b0", head + tail


@pytest.mark.usefixtures("aws")
@pytest.mark.parametrize(
    ("name", "status"),
    [
        ("a huge form", 413),
        ("deeply nested multipart", 400),
        ("latin-1 bytes", 400),
        ("flagged base64 but is not", 400),
    ],
)
def test_the_dashboard_refuses_a_hostile_form_with_4xx_before_anything_else(name: str, status: int) -> None:
    event = dashboard_event("POST", "/dashboard/sign-in")
    content_type = "application/x-www-form-urlencoded"
    if name == "a huge form":
        event["body"] = "email=" + "a" * (8 * MEGABYTE)
    elif name == "deeply nested multipart":
        content_type, raw = nested_multipart(5_000)
        event.update(body=base64.b64encode(raw).decode(), isBase64Encoded=True)
    elif name == "latin-1 bytes":
        event.update(body=base64.b64encode(b"email=caf\xe9&password=x").decode(), isBase64Encoded=True)
    else:
        event.update(body="%%% not base64", isBase64Encoded=True)
    event["headers"]["Content-Type"] = content_type

    response = dashboard(event)

    assert response["statusCode"] == status, name
    assert response["headers"]["Content-Type"].startswith("text/html")


# --- the local front --------------------------------------------------------------------------


def test_the_local_front_passes_a_nested_body_to_the_function_which_answers_400(acme: Billing) -> None:
    from local.api_gateway import ApiGateway
    from local.autosave import RequestGate
    from local.dev_routes import dev_routes
    from local.http_front import RequestRouter
    from local.http_messages import HttpRequest
    from local.lambda_runtime import LocalFunction

    router = RequestRouter(
        ApiGateway(LocalFunction("remit-api", "api.app.lambda_handler"), domain_name="127.0.0.1"),
        dev_routes(),
        RequestGate(),
        lambda: None,
    )

    def post(path: str, body: bytes) -> Any:
        return router.handle(
            HttpRequest(
                method="POST",
                path=path,
                query="",
                headers=[
                    ("Content-Type", "application/json"),
                    ("Authorization", f"Bearer {acme.api.api_key}"),
                ],
                body=body,
                source_ip="127.0.0.1",
            )
        )

    api = post(f"{acme.base}/customers", deep_arrays().encode())
    dev = post("/_dev/accounts", deep_objects().encode())

    assert (api.status, json.loads(api.body)["status"]) == (400, 400)
    assert (dev.status, json.loads(dev.body)["status"]) == (400, 400)


def test_nothing_reaches_secrets_manager_for_a_refused_body(
    shop: Shop, webhooks: Callable[[dict[str, Any]], dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    real = boto3.client

    def counting(name: str, *args: Any, **kwargs: Any) -> Any:
        calls.append(name)
        return real(name, *args, **kwargs)

    monkeypatch.setattr(boto3, "client", counting)
    body = deep_arrays().encode()

    webhooks(webhook_event(shop.org, body, sign(body)))

    assert "secretsmanager" not in calls
