"""Events: what changed in an organisation, one record per change, for the events API and webhooks.

An event is written in the same transaction as the change it records (the outbox pattern), so an
event exists exactly when its change was committed. It carries the object as the API shows it
after the change, and the object's `sequence`: the object's version after the change, which every
change of it moves up, so that a consumer who has seen a higher sequence for an object can drop a
stale event. The events one transaction writes for one object (an invoice created and finalized
together) share that sequence and carry the same object.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import Field

from remit.domain.values import Model

EventType = str  # e.g. "invoice.finalized"

EVENT_TYPES: tuple[str, ...] = (
    "customer.created",
    "customer.updated",
    "customer.deleted",
    "invoice.created",
    "invoice.updated",
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
    "payment.updated",
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

# The event "Send test event" sends to one endpoint (never fanned out to the others).
TEST_EVENT_TYPE = "webhook_endpoint.test"

# Who made a change, when not the organisation's own people or systems (the API, the dashboard,
# Remit's schedules, which an event leaves null): "portal" is the customer itself, signed in to the
# organisation's customer portal.
EventSource = Literal["portal"]

# The object types events are about: the part of a type before its dot.
OBJECT_TYPES: tuple[str, ...] = tuple(dict.fromkeys(kind.split(".", 1)[0] for kind in EVENT_TYPES))

# How long an event is kept (the stored item's TTL); the events API promises at least 30 days.
EVENT_RETENTION = timedelta(days=90)


class EventObject(Model):
    """The object an event is about."""

    type: str
    id: str
    sequence: int


class Event(Model):
    """One change of one object, as the events API and webhook deliveries show it."""

    id: str
    organisation_id: str
    type: str
    created_at: datetime
    object: EventObject
    data: dict[str, Any]
    # Events stored before sources were recorded have none: null, as any change by the organisation.
    source: EventSource | None = Field(
        default=None,
        description=(
            "Who made the change: `portal` when the customer made it itself, signed in to the "
            "customer portal; null when the organisation's own people or systems did (the API, "
            "the dashboard, Remit's schedules)."
        ),
    )


def type_matches(pattern: str, event_type: str) -> bool:
    """Whether `event_type` is one `pattern` names: `*` (every type), `invoice.*` (every type of
    invoices) or the type itself."""
    if pattern == "*":
        return True
    if pattern.endswith(".*"):
        return event_type.startswith(pattern[:-1])
    return pattern == event_type


def type_pattern_problem(pattern: str) -> str | None:
    """Why `pattern` names no event type (None if it names some): `*`, `<object>.*` or a type."""
    if pattern == "*" or pattern in EVENT_TYPES:
        return None
    if pattern.endswith(".*") and pattern[:-2] in OBJECT_TYPES:
        return None
    return f"must be `*`, one of {', '.join(f'`{kind}.*`' for kind in OBJECT_TYPES)} or an event type"
