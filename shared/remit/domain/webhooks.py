"""Webhook endpoints: where an organisation wants its events sent, and the secrets that sign them.

An endpoint names a URL (checked by `remit.domain.webhook_addresses`), the event types it wants
(patterns: an exact type, `invoice.*`, or `*`), and its signing secrets. A secret is shown once,
when the endpoint is created or its secret rotated; after a rotation the previous secret keeps
signing for `ROTATION_OVERLAP` (deliveries carry one signature per secret), so a receiver can
switch over without missing a delivery.
"""

from __future__ import annotations

import base64
import secrets
from datetime import datetime, timedelta
from typing import Annotated, Final, Literal

from pydantic import AfterValidator, ConfigDict, Field

from remit.domain.changes import nullable_as_in
from remit.domain.events import type_matches, type_pattern_problem
from remit.domain.values import Model, Strict

EndpointStatus = Literal["enabled", "disabled", "failing"]
#: What a user may set; `failing` is set by deliveries and cleared by enabling the endpoint again.
SettableStatus = Literal["enabled", "disabled"]

#: Endpoints one organisation may have at most.
MAX_ENDPOINTS: Final = 16
#: How long a rotated-out secret keeps signing deliveries.
ROTATION_OVERLAP: Final = timedelta(hours=24)
SECRET_PREFIX: Final = "whsec_"  # noqa: S105 - a prefix, not a secret
_SECRET_BYTES: Final = 32
MAX_PATTERNS: Final = 50


def _event_pattern(pattern: str) -> str:
    problem = type_pattern_problem(pattern)
    if problem is not None:
        raise ValueError(f"'{pattern}' {problem}")
    return pattern


EventPattern = Annotated[str, Field(max_length=100), AfterValidator(_event_pattern)]
EventPatterns = Annotated[list[EventPattern], Field(min_length=1, max_length=MAX_PATTERNS)]
EndpointUrl = Annotated[str, Field(min_length=1, max_length=2048, examples=["https://example.com/remit"])]
Description = Annotated[str, Field(max_length=500)]


def new_signing_secret() -> str:
    """A new secret: `whsec_` and the base64 of 32 random bytes (Standard Webhooks' form)."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(_SECRET_BYTES)).decode()


class SigningSecret(Model):
    secret: str
    expires_at: datetime | None = None  # None: the current secret


class WebhookEndpoint(Model):
    id: str
    organisation_id: str
    url: str
    description: str | None = None
    enabled_events: list[str]
    status: EndpointStatus = "enabled"
    secrets: list[SigningSecret] = Field(default_factory=list, repr=False)
    failing_since: datetime | None = None
    created_at: datetime
    updated_at: datetime
    version: int = 0

    def wants(self, event_type: str) -> bool:
        """True when one of the endpoint's patterns covers `event_type` (whatever its status)."""
        return any(type_matches(pattern, event_type) for pattern in self.enabled_events)

    def signing_secrets(self, now: datetime) -> list[str]:
        """The secrets that sign a delivery made at `now`: the current one first, then each rotated
        one still within its overlap."""
        current = [s.secret for s in self.secrets if s.expires_at is None]
        overlapping = [s.secret for s in self.secrets if s.expires_at is not None and s.expires_at > now]
        return current + overlapping

    def rotated(self, new_secret: str, now: datetime) -> WebhookEndpoint:
        """The endpoint signing with `new_secret` from now on; the current secret keeps signing for
        `ROTATION_OVERLAP`, and secrets already expired are dropped."""
        kept = [
            SigningSecret(secret=s.secret, expires_at=s.expires_at or now + ROTATION_OVERLAP)
            for s in self.secrets
            if s.expires_at is None or s.expires_at > now
        ]
        return self.model_copy(
            update={"secrets": [SigningSecret(secret=new_secret), *kept], "updated_at": now}
        )


class NewWebhookEndpoint(Strict):
    """What a user gives to create an endpoint."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "url": "https://example.com/remit/webhooks",
                    "enabled_events": ["invoice.*", "payment.succeeded"],
                    "description": "Accounting sync",
                }
            ]
        }
    )

    url: EndpointUrl
    enabled_events: EventPatterns
    description: Description | None = None
    status: SettableStatus = "enabled"


class WebhookEndpointChanges(Strict):
    """A PATCH: only the fields given change. Setting `status` to `enabled` clears `failing`."""

    model_config = ConfigDict(json_schema_extra=nullable_as_in(WebhookEndpoint))

    url: EndpointUrl | None = None
    enabled_events: EventPatterns | None = None
    description: Description | None = None
    status: SettableStatus | None = None


class CreatedEndpoint(Model):
    """An endpoint just created or rotated, with the secret it signs with from now on."""

    endpoint: WebhookEndpoint
    secret: str
