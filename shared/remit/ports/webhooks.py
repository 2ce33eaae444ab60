"""Webhook endpoints as stored, and the resolver their hosts are checked with."""

from __future__ import annotations

from typing import Protocol

from remit.domain.webhook_addresses import IPAddress
from remit.domain.webhooks import WebhookEndpoint

Endpoints = list[WebhookEndpoint]  # (a method named `list` hides the builtin in the classes below)
Addresses = list[IPAddress]


class EndpointDirectory(Protocol):
    """What deliveries read: an organisation's endpoints."""

    def get(self, organisation_id: str, endpoint_id: str) -> WebhookEndpoint | None: ...

    def list(self, organisation_id: str) -> Endpoints:
        """Every endpoint of the organisation (at most `MAX_ENDPOINTS`), oldest first."""
        ...

    def enabled_for(self, organisation_id: str, event_type: str) -> Endpoints:
        """The endpoints that want `event_type` and are not disabled (failing ones included: they
        are still retried)."""
        ...


class EndpointRepository(EndpointDirectory, Protocol):
    """The directory, and the writes that keep an organisation within `MAX_ENDPOINTS`."""

    def add(self, endpoint: WebhookEndpoint) -> None:
        """Store a new endpoint; `Conflict` if the organisation already has `MAX_ENDPOINTS`."""
        ...

    def save(self, endpoint: WebhookEndpoint) -> WebhookEndpoint:
        """Replace the endpoint as read (`ConcurrentUpdate` if it changed since); returns it with
        its version bumped."""
        ...

    def delete(self, endpoint: WebhookEndpoint) -> None:
        """Remove the endpoint as read (`ConcurrentUpdate` if it changed since)."""
        ...


class HostResolver(Protocol):
    """Resolves a host name to the addresses a connection to it could reach."""

    def resolve(self, host: str) -> Addresses:
        """Every address of `host`; `LookupError` if it has none or cannot be resolved."""
        ...
