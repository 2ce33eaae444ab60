"""A customer's timeline: its own events (`customer.*`), newest first, each said in words.

What changed is read from the event's type and, for `customer.updated`, from the difference
between the customer it carries and the one the event before it carried (each event carries the
customer as the API showed it after the change). Saved cards are not part of that answer: an
update that changes nothing the answer shows is a change of the saved cards (or an edit that
changed nothing).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from remit.domain.events import Event, EventSource

# Fields every change moves, which say nothing about what changed.
_ALWAYS_MOVING = frozenset({"updated_at"})
_BALANCE = frozenset({"balances", "balance"})


@dataclass(frozen=True)
class TimelineEntry:
    """One change of the customer, as its timeline says it."""

    at: datetime
    what: str  # "Created", "Details changed: address, tax id", "Balance moved", …
    source: EventSource | None  # "portal": the customer made it itself; None: the organisation
    event_id: str


def _changed_fields(data: dict[str, Any], before: dict[str, Any]) -> list[str]:
    names = dict.fromkeys([*before, *data])
    return [name for name in names if name not in _ALWAYS_MOVING and data.get(name) != before.get(name)]


_WORDS = {"vat_id": "VAT id", "send_reminders": "reminders", "address": "billing address"}


def _field_words(name: str) -> str:
    return _WORDS.get(name, name.replace("_", " "))


def describe(event: Event, before: Event | None) -> str:
    """What `event` changed of the customer, in words; `before` is the customer's event just before
    it (None when not read: an update then says only that details changed)."""
    if event.type == "customer.created":
        return "Created"
    if event.type == "customer.deleted":
        return "Deleted"
    if before is None:
        return "Details changed"
    changed = _changed_fields(event.data, before.data)
    if not changed:
        return "Saved cards changed"
    details = [name for name in changed if name not in _BALANCE]
    if not details:
        return "Balance moved"
    said = f"Details changed: {', '.join(_field_words(name) for name in details)}"
    return f"{said}; balance moved" if len(details) < len(changed) else said


def timeline(events: list[Event], *, more: bool) -> list[TimelineEntry]:
    """The entries of `events`, one customer's, newest first. With `more`, the last event is only
    read to say what the one before it in the list changed, and is not an entry itself."""
    shown = events[:-1] if more else events
    return [
        TimelineEntry(
            at=event.created_at,
            what=describe(event, events[index + 1] if index + 1 < len(events) else None),
            source=event.source,
            event_id=event.id,
        )
        for index, event in enumerate(shown)
    ]
