"""Events: what changed in an organisation, in the order it changed, as webhooks deliver it.

Minimal copy of the shared contract (the `events` branch owns this module and replaces it).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from remit.domain.values import Model

EventType = str  # e.g. "invoice.finalized"

EVENT_TYPES: tuple[str, ...] = (
    "customer.created",
    "customer.updated",
    "customer.deleted",
    "invoice.created",
    "invoice.finalized",
    "invoice.sent",
    "invoice.paid",
    "invoice.voided",
    "invoice.marked_uncollectible",
    "invoice.overdue",
    "invoice.reminder_sent",
    "payment.succeeded",
    "payment.failed",
    "payment.refunded",
    "credit_note.issued",
    "credit_note.voided",
    "subscription.created",
    "subscription.updated",
    "subscription.activated",
    "subscription.paused",
    "subscription.resumed",
    "subscription.canceled",
    "billing_run.completed",
    "webhook_endpoint.test",
)


class EventObject(Model):
    type: str
    id: str
    sequence: int


class Event(Model):
    id: str
    organisation_id: str
    type: str
    created_at: datetime
    object: EventObject
    data: dict[str, Any]


def type_matches(pattern: str, event_type: str) -> bool:
    """True when `pattern` ("*", "invoice.*" or an exact type) covers `event_type`."""
    if pattern == "*":
        return True
    if pattern.endswith(".*"):
        return event_type.startswith(pattern[:-1])
    return pattern == event_type
