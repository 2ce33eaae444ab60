"""The event log: what changed in an organisation, read oldest first (written by the billing
transaction that makes each change, `remit.adapters.dynamodb_events`)."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from remit.domain.events import Event
from remit.domain.pagination import Page


class EventLog(Protocol):
    def get(self, organisation_id: str, event_id: str) -> Event | None: ...

    def add(self, event: Event) -> None:
        """Store an event no change of an object records (`webhook_endpoint.test`)."""
        ...

    def list_events(
        self,
        organisation_id: str,
        limit: int,
        cursor: str | None,
        *,
        event_type: str | None = None,
        object_id: str | None = None,
        created_gte: datetime | None = None,
        created_lt: datetime | None = None,
        newest_first: bool = False,
    ) -> Page[Event]:
        """A page of the organisation's events, oldest first (newest first with `newest_first`,
        which takes no `created_gte`), matching the filters: `event_type` is `*`, `<object>.*` or a
        type; `created_gte` / `created_lt` bound `created_at`."""
        ...
