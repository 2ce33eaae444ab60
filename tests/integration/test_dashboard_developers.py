"""The dashboard's Developers section: webhook endpoints listed, created (the secret shown once),
edited, disabled and enabled, their secret rotated, deleted; each seen through the services."""

from __future__ import annotations

import html
import json
import re
from typing import Any

import boto3
import pytest

from tests.integration.conftest import reset_remit
from tests.integration.dashboard_browser import Browser, account_with_user, signed_in, text_of

pytestmark = pytest.mark.usefixtures("user_pool", "webhook_queue")


@pytest.fixture
def webhook_queue(aws: None, monkeypatch: pytest.MonkeyPatch) -> str:
    url = boto3.client("sqs").create_queue(QueueName="remit-dashboard-webhooks")["QueueUrl"]
    monkeypatch.setenv("REMIT_WEBHOOK_QUEUE_URL", url)
    reset_remit()
    return url


PUBLIC = "https://93.184.215.14/remit"  # a literal public address: nothing to resolve


def setup(email: str) -> tuple[str, str, Browser]:
    account_id, organisation_id = account_with_user(email, "Ada Ltd")
    return account_id, organisation_id, signed_in(email)


def path(organisation_id: str, *parts: str) -> str:
    return "/".join([f"/dashboard/organisations/{organisation_id}/developers", *parts])


def endpoint(account_id: str, organisation_id: str, **fields: Any) -> Any:
    from remit.bootstrap import services
    from remit.domain.webhooks import NewWebhookEndpoint

    new = NewWebhookEndpoint.model_validate({"url": PUBLIC, "enabled_events": ["invoice.*"], **fields})
    return services().webhook_endpoints.create(account_id, organisation_id, new)


def stored(account_id: str, organisation_id: str) -> list[Any]:
    from remit.bootstrap import services

    return services().webhook_endpoints.list(account_id, organisation_id)


def test_the_section_lists_each_endpoint_without_its_secret() -> None:
    account_id, organisation_id, browser = setup("ann@example.com")
    made = endpoint(account_id, organisation_id, description="Accounting sync")

    page = browser.request("GET", path(organisation_id))

    assert page["statusCode"] == 200
    assert 'aria-current="page">Developers<' in page["body"]
    text = text_of(page["body"])
    assert PUBLIC in text
    assert "Accounting sync" in text
    assert "invoice.*" in text
    assert made.secret not in page["body"]
    assert "whsec_" not in page["body"]
    assert 'id="events"' in page["body"]


def test_a_new_endpoint_shows_its_secret_once() -> None:
    account_id, organisation_id, browser = setup("ben@example.com")
    form = browser.request("GET", path(organisation_id, "webhooks", "new"))
    for name in ("url", "enabled_events", "description"):
        assert f'name="{name}"' in form["body"], name

    response = browser.post(
        path(organisation_id, "webhooks", "new"),
        {"url": PUBLIC, "enabled_events": "invoice.paid, payment.*", "description": "Sync"},
        confirmed=False,
    )

    assert response["statusCode"] == 200, text_of(response["body"])
    (made,) = stored(account_id, organisation_id)
    assert (made.url, made.enabled_events, made.description) == (
        PUBLIC,
        ["invoice.paid", "payment.*"],
        "Sync",
    )
    secret = made.signing_secrets(made.created_at)[0]
    assert f'value="{secret}"' in response["body"]
    assert response["headers"]["Cache-Control"] == "no-store"
    assert secret not in browser.request("GET", path(organisation_id))["body"]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"url": "https://10.0.0.1/hook", "enabled_events": "*"}, "private network"),
        ({"url": "https://169.254.169.254/latest/meta-data/", "enabled_events": "*"}, "metadata"),
        ({"url": "http://2130706433/", "enabled_events": "*"}, "https://"),
        ({"url": PUBLIC, "enabled_events": "invoice.payed"}, "must be `*`"),
    ],
)
def test_a_refused_endpoint_shows_the_message_next_to_its_field_and_creates_nothing(
    fields: dict[str, str], message: str
) -> None:
    account_id, organisation_id, browser = setup("cal@example.com")

    response = browser.post(path(organisation_id, "webhooks", "new"), fields)

    assert response["statusCode"] == 422
    errors = [line for line in response["body"].splitlines() if 'class="field-error"' in line]
    assert len(errors) == 1
    assert message in errors[0]
    assert 'id="f-url-error"' in errors[0] or 'id="f-enabled_events-error"' in errors[0]
    assert stored(account_id, organisation_id) == []


def test_an_endpoint_is_edited_disabled_enabled_and_deleted() -> None:
    account_id, organisation_id, browser = setup("dee@example.com")
    made = endpoint(account_id, organisation_id).endpoint
    base = path(organisation_id, "webhooks", made.id)

    edited = browser.post(
        f"{base}/edit",
        {"url": "https://93.184.215.15/new", "enabled_events": "*", "description": "", "status": "enabled"},
        confirmed=False,
    )
    asked = browser.post(f"{base}/disable", confirmed=False)
    still_enabled = stored(account_id, organisation_id)[0].status
    disabled = browser.post(f"{base}/disable")
    after_disable = stored(account_id, organisation_id)[0].status
    enabled = browser.post(f"{base}/enable")
    after_enable = stored(account_id, organisation_id)[0]
    deleted = browser.post(f"{base}/delete")

    assert edited["statusCode"] == 303, text_of(edited["body"])
    assert asked["statusCode"] == 200
    assert still_enabled == "enabled"
    assert disabled["statusCode"] == enabled["statusCode"] == deleted["statusCode"] == 303
    assert after_disable == "disabled"
    assert (after_enable.status, after_enable.url, after_enable.enabled_events) == (
        "enabled",
        "https://93.184.215.15/new",
        ["*"],
    )
    assert stored(account_id, organisation_id) == []


def test_rotating_shows_the_new_secret_once_and_keeps_the_old_one_signing() -> None:
    account_id, organisation_id, browser = setup("eve@example.com")
    made = endpoint(account_id, organisation_id)

    response = browser.post(path(organisation_id, "webhooks", made.endpoint.id, "rotate"))

    assert response["statusCode"] == 200
    (rotated,) = stored(account_id, organisation_id)
    new_secret, old_secret = rotated.signing_secrets(rotated.updated_at)
    assert old_secret == made.secret
    assert f'value="{new_secret}"' in response["body"]
    assert made.secret not in response["body"]


def customer(account_id: str, organisation_id: str, name: str) -> Any:
    from remit.bootstrap import services
    from remit.domain.customer import NewCustomer

    new = NewCustomer.model_validate({"name": name, "email": "ap@globex.test"})
    return services().customers.create(account_id, organisation_id, new)


def queued_orders() -> list[dict[str, Any]]:
    """Every delivery order waiting in the queue (read, then visible again at once)."""
    import os

    sqs = boto3.client("sqs")
    url = os.environ["REMIT_WEBHOOK_QUEUE_URL"]
    found = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0)
    return [json.loads(message["Body"]) for message in found.get("Messages", [])]


def test_the_event_log_lists_filters_and_pages_and_escapes_tenant_data() -> None:
    account_id, organisation_id, browser = setup("fay@example.com")
    hostile = customer(account_id, organisation_id, "<script>alert(1)</script> Ltd")
    other = customer(account_id, organisation_id, "Initech")

    everything = browser.request("GET", path(organisation_id, "events"))
    only_one = browser.request("GET", path(organisation_id, "events") + f"?object_id={other.id}")
    of_type = browser.request("GET", path(organisation_id, "events") + "?type=invoice.*")
    refused = browser.request("GET", path(organisation_id, "events") + "?type=invoice.payed")

    assert everything["statusCode"] == 200
    assert hostile.id in everything["body"]
    assert other.id in everything["body"]
    assert "customer.created" in text_of(everything["body"])
    assert other.id in only_one["body"]
    assert hostile.id not in only_one["body"]
    assert "customer.created" not in text_of(of_type["body"])
    assert refused["statusCode"] == 422
    assert 'class="field-error"' in refused["body"]

    from remit.bootstrap import services

    (event,) = services().events.list(account_id, organisation_id, 10, None, object_id=hostile.id).items
    page = browser.request("GET", path(organisation_id, "events", event.id))

    assert page["statusCode"] == 200
    assert "<script>alert(1)</script>" not in page["body"]
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Ltd" in page["body"]
    assert (
        f"&#34;id&#34;: &#34;{event.id}&#34;" in page["body"]
        or f"&quot;id&quot;: &quot;{event.id}&quot;" in page["body"]
    )


def test_the_event_log_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    import dashboard.pages.developers as developers

    monkeypatch.setattr(developers, "PAGE_SIZE", 1)
    account_id, organisation_id, browser = setup("gus@example.com")
    first_customer = customer(account_id, organisation_id, "Alpha")
    second_customer = customer(account_id, organisation_id, "Beta")

    first = browser.request("GET", path(organisation_id, "events"))
    next_link = re.search(r'href="([^"]+)" rel="next"', first["body"])
    assert next_link is not None
    second = browser.request("GET", html.unescape(next_link[1]).removeprefix("/local"))

    assert first_customer.id in first["body"]
    assert second_customer.id not in first["body"]
    assert second_customer.id in second["body"]
    assert first_customer.id not in second["body"]
    assert "First page" in second["body"]


def test_an_event_is_resent_to_an_endpoint_after_confirmation() -> None:
    from remit.bootstrap import services

    account_id, organisation_id, browser = setup("hal@example.com")
    made = endpoint(account_id, organisation_id, enabled_events=["*"]).endpoint
    customer(account_id, organisation_id, "Alpha")
    (event,) = services().events.list(account_id, organisation_id, 10, None).items
    page = browser.request("GET", path(organisation_id, "events", event.id))
    assert 'name="endpoint_id" value="' + made.id in page["body"]
    before = len([o for o in queued_orders() if o["event_id"] == event.id])

    asked = browser.post(
        path(organisation_id, "events", event.id, "resend"), {"endpoint_id": made.id}, confirmed=False
    )
    after_asking = len([o for o in queued_orders() if o["event_id"] == event.id])
    done = browser.post(path(organisation_id, "events", event.id, "resend"), {"endpoint_id": made.id})
    unknown = browser.post(path(organisation_id, "events", event.id, "resend"), {"endpoint_id": "we_missing"})

    assert asked["statusCode"] == 200
    assert after_asking == before
    assert done["statusCode"] == 303
    resent = [o for o in queued_orders() if o["event_id"] == event.id]
    assert len(resent) == before + 1
    assert resent[-1]["endpoint_id"] == made.id
    assert unknown["statusCode"] == 404


def test_an_endpoint_page_lists_its_attempts_escaped() -> None:
    import os
    from datetime import UTC, datetime

    from remit.adapters.dynamodb import DynamoTable
    from remit.adapters.dynamodb_deliveries import DynamoDeliveryLog
    from remit.domain.deliveries import DeliveryAttempt

    account_id, organisation_id, browser = setup("ida@example.com")
    made = endpoint(account_id, organisation_id).endpoint
    attempt = DeliveryAttempt(
        id="wda_1",
        organisation_id=organisation_id,
        endpoint_id=made.id,
        event_id="evt_seen",
        attempt=2,
        started_at=datetime.now(UTC),
        duration_ms=321,
        status_code=500,
        error=None,
        response_head="<b>boom</b>",
        succeeded=False,
    )
    table = DynamoTable(lambda: boto3.client("dynamodb"), os.environ["REMIT_BILLING_TABLE"])
    DynamoDeliveryLog(table).record("wdl_1", attempt)

    page = browser.request("GET", path(organisation_id, "webhooks", made.id))

    assert page["statusCode"] == 200
    text = text_of(page["body"])
    assert "evt_seen" in text
    assert "500" in text
    assert "321 ms" in text
    assert "<b>boom</b>" not in page["body"]
    assert "&lt;b&gt;boom&lt;/b&gt;" in page["body"]
    assert "whsec_" not in page["body"]


def test_send_test_event_queues_a_test_event_to_that_endpoint_only() -> None:
    from remit.bootstrap import services

    account_id, organisation_id, browser = setup("jon@example.com")
    made = endpoint(account_id, organisation_id, enabled_events=["*"]).endpoint
    endpoint(account_id, organisation_id, enabled_events=["*"])
    base = path(organisation_id, "webhooks", made.id)
    shown = browser.request("GET", base)["body"]
    assert f'action="/local{base}/test"' in shown or f'{base}/test"' in shown
    assert "Send test event" in shown

    asked = browser.post(f"{base}/test", confirmed=False)
    nothing_yet = (
        services().events.list(account_id, organisation_id, 10, None, event_type="webhook_endpoint.*").items
    )
    done = browser.post(f"{base}/test")

    assert asked["statusCode"] == 200
    assert nothing_yet == []
    assert done["statusCode"] == 303
    (event,) = (
        services().events.list(account_id, organisation_id, 10, None, event_type="webhook_endpoint.*").items
    )
    assert (event.type, event.object.id) == ("webhook_endpoint.test", made.id)
    orders = [o for o in queued_orders() if o["event_id"] == event.id]
    assert [o["endpoint_id"] for o in orders] == [made.id]
