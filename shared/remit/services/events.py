"""Reading an organisation's events: what changed, oldest first, for a program catching up."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from remit.domain.customer_timeline import TimelineEntry, timeline
from remit.domain.errors import InvalidInput, NotFound
from remit.domain.events import Event, type_pattern_problem
from remit.domain.pagination import Page
from remit.ports.events import EventLog
from remit.services.organisations import OrganisationService


class EventService:
    def __init__(self, log: EventLog, organisations: OrganisationService) -> None:
        self._log = log
        self._organisations = organisations

    def get(self, account_id: str, organisation_id: str, event_id: str) -> Event:
        """The event; `NotFound` if the organisation is not the account's, or the event is not the
        organisation's (or has expired)."""
        self._organisations.require_access(account_id, organisation_id)
        event = self._log.get(organisation_id, event_id)
        if event is None:
            raise NotFound("event", event_id)
        return event

    def list(
        self,
        account_id: str,
        organisation_id: str,
        limit: int,
        cursor: str | None,
        *,
        event_type: str | None = None,
        object_id: str | None = None,
        created_gte: datetime | None = None,
        created_lt: datetime | None = None,
    ) -> Page[Event]:
        """The organisation's events, oldest first, reading only those that match; `InvalidInput`
        naming `type` for a pattern that names no event type. Reads nothing of another organisation."""
        if event_type is not None:
            problem = type_pattern_problem(event_type)
            if problem is not None:
                raise InvalidInput.single("type", problem)
        self._organisations.require_access(account_id, organisation_id)
        return self._log.list_events(
            organisation_id,
            limit,
            cursor,
            event_type=event_type,
            object_id=object_id,
            created_gte=created_gte,
            created_lt=created_lt,
        )

    def customer_timeline(
        self, account_id: str, organisation_id: str, customer_id: str, limit: int
    ) -> Sequence[TimelineEntry]:
        """The customer's own events (`customer.*`), newest first, at most `limit`, each said in
        words and marked with who made it (`portal`: the customer itself). Events expire (see
        `EVENT_RETENTION`): older changes are not on it. `NotFound` if the organisation is not the
        account's; another organisation's customer has no events here (its id reads nothing).
        """
        self._organisations.require_access(account_id, organisation_id)
        # One event more than shown: the oldest shown is said by its difference with it.
        page = self._log.list_events(
            organisation_id, limit + 1, None, object_id=customer_id, newest_first=True
        )
        return timeline(page.items, more=len(page.items) > limit)
