"""Webhook deliveries: the attempt log, the queue of attempts, the sender, and who is told when an
endpoint fails for good."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from remit.domain.deliveries import DeliveryAttempt, DeliveryOrder, PostResult
from remit.domain.pagination import Page
from remit.domain.webhooks import WebhookEndpoint


class DeliveryLog(Protocol):
    def record(self, delivery_id: str, attempt: DeliveryAttempt) -> bool:
        """Keep the attempt (for at least 30 days); False, and nothing changed, when attempt
        `attempt.attempt` of `delivery_id` was already recorded (a message delivered twice)."""
        ...

    def recorded(
        self, organisation_id: str, endpoint_id: str, delivery_id: str, attempt: int
    ) -> DeliveryAttempt | None:
        """The attempt as recorded, or None."""
        ...

    def list(
        self, organisation_id: str, endpoint_id: str, limit: int, cursor: str | None
    ) -> Page[DeliveryAttempt]:
        """A page of the endpoint's attempts, newest first."""
        ...


class DeliveryQueue(Protocol):
    def send(self, orders: Sequence[DeliveryOrder], *, delay_seconds: int = 0) -> None:
        """Queue every order, each delivered after `delay_seconds` (at most 900), or raise."""
        ...


class WebhookPoster(Protocol):
    def send(
        self, *, url: str, message_id: str, body: bytes, secrets: Sequence[str], timestamp: datetime
    ) -> PostResult:
        """POST `body` signed with every secret; what the destination did is in the result, never raised."""
        ...


class FailingEndpointAlerts(Protocol):
    def endpoint_failing(self, endpoint: WebhookEndpoint) -> None:
        """Tell the organisation its endpoint has failed every attempt for days (once per failing spell)."""
        ...
