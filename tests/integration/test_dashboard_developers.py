"""The dashboard's Developers section: webhook endpoints listed, created (the secret shown once),
edited, disabled and enabled, their secret rotated, deleted; each seen through the services."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.dashboard_browser import Browser, account_with_user, signed_in, text_of

pytestmark = pytest.mark.usefixtures("user_pool")

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
