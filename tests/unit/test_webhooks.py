"""Webhook endpoints' rules: which events they want, which secrets sign, what a user may give."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from remit.domain.events import EVENT_TYPES
from remit.domain.webhooks import (
    ROTATION_OVERLAP,
    NewWebhookEndpoint,
    SigningSecret,
    WebhookEndpoint,
    new_signing_secret,
)

NOW = datetime(2026, 12, 1, 9, tzinfo=UTC)


def endpoint(*patterns: str, secrets: list[SigningSecret] | None = None) -> WebhookEndpoint:
    return WebhookEndpoint(
        id="we_1",
        organisation_id="org_1",
        url="https://example.com/hook",
        enabled_events=list(patterns),
        secrets=secrets or [SigningSecret(secret="whsec_current")],
        created_at=NOW,
        updated_at=NOW,
    )


def test_an_endpoint_wants_the_types_its_patterns_cover() -> None:
    invoices = endpoint("invoice.*", "payment.succeeded")
    assert invoices.wants("invoice.finalized")
    assert invoices.wants("payment.succeeded")
    assert not invoices.wants("payment.failed")
    assert not invoices.wants("invoices.finalized")
    assert all(endpoint("*").wants(event_type) for event_type in EVENT_TYPES)


def test_a_new_secret_is_standard_webhooks_shaped_and_unguessable() -> None:
    first, second = new_signing_secret(), new_signing_secret()
    assert first.startswith("whsec_")
    assert len(first) >= len("whsec_") + 32
    assert first != second


def test_after_a_rotation_the_old_secret_signs_for_24_hours_then_stops() -> None:
    rotated = endpoint("*").rotated("whsec_new", NOW)
    assert rotated.signing_secrets(NOW) == ["whsec_new", "whsec_current"]
    assert rotated.signing_secrets(NOW + ROTATION_OVERLAP - timedelta(seconds=1)) == [
        "whsec_new",
        "whsec_current",
    ]
    assert rotated.signing_secrets(NOW + ROTATION_OVERLAP) == ["whsec_new"]


def test_rotating_twice_keeps_the_first_expiry_and_drops_expired_secrets() -> None:
    once = endpoint("*").rotated("whsec_second", NOW)
    twice = once.rotated("whsec_third", NOW + timedelta(hours=1))
    assert twice.signing_secrets(NOW + timedelta(hours=1)) == ["whsec_third", "whsec_second", "whsec_current"]
    assert [s.expires_at for s in twice.secrets] == [
        None,
        NOW + timedelta(hours=1) + ROTATION_OVERLAP,
        NOW + ROTATION_OVERLAP,
    ]
    later = twice.rotated("whsec_fourth", NOW + timedelta(days=2))
    assert [s.secret for s in later.secrets] == ["whsec_fourth", "whsec_third"]


def test_the_secrets_are_not_in_an_endpoints_repr() -> None:
    assert "whsec_current" not in repr(endpoint("*"))


@pytest.mark.parametrize("patterns", [["*"], ["invoice.*"], ["invoice.paid", "credit_note.*"]])
def test_known_types_and_wildcards_are_accepted(patterns: list[str]) -> None:
    NewWebhookEndpoint.model_validate({"url": "https://example.com", "enabled_events": patterns})


@pytest.mark.parametrize(
    ("patterns", "field"),
    [
        (["invoice.paid", "invoice.payed"], "enabled_events.1"),
        (["invoices.*"], "enabled_events.0"),
        (["invoice*"], "enabled_events.0"),
        (["*.paid"], "enabled_events.0"),
        ([], "enabled_events"),
    ],
)
def test_an_unknown_type_or_pattern_is_refused_naming_its_position(patterns: list[str], field: str) -> None:
    with pytest.raises(ValidationError) as refused:
        NewWebhookEndpoint.model_validate({"url": "https://example.com", "enabled_events": patterns})
    locations = [".".join(str(part) for part in error["loc"]) for error in refused.value.errors()]
    assert locations == [field]


def test_only_the_local_stack_allows_webhooks_to_its_own_loopback() -> None:
    from local.environment import export_remit_environment
    from remit.config import Settings

    local: dict[str, str] = {}
    export_remit_environment("http://127.0.0.1:5000", "http://127.0.0.1:3000", local)

    assert Settings.from_environment(local).webhooks_allow_http_loopback is True
    assert Settings.from_environment({"REMIT_STAGE": "prod"}).webhooks_allow_http_loopback is False
    assert (
        Settings.from_environment(
            {"REMIT_WEBHOOKS_ALLOW_HTTP_LOOPBACK": "false"}
        ).webhooks_allow_http_loopback
        is False
    )
    with pytest.raises(ValueError, match="REMIT_WEBHOOKS_ALLOW_HTTP_LOOPBACK"):
        Settings.from_environment({"REMIT_WEBHOOKS_ALLOW_HTTP_LOOPBACK": "maybe"})
