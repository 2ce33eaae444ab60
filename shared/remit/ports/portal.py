"""Where the customer portal keeps its one-time links, its sessions and its request counters."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from remit.domain.outbox import OutboxMessage
from remit.domain.portal import PortalLink, PortalSession


class PortalStore(Protocol):
    def add_link(self, link: PortalLink, email: OutboxMessage | None) -> None:
        """Keep the link; with `email`, the outbox message that mails it, in the same transaction."""
        ...

    def consume_link(self, link_digest: str, now: datetime) -> PortalLink | None:
        """Take the link out of the store (one conditional delete: of two concurrent uses only one
        gets it) and return it; None when it is unknown, already used or expired.
        """
        ...

    def add_session(self, session: PortalSession) -> None: ...

    def get_session(self, session_digest: str, now: datetime) -> PortalSession | None:
        """The session, None when unknown or expired."""
        ...

    def remove_session(self, session_digest: str) -> None:
        """End the session. Idempotent."""
        ...

    def count_request(self, counter: str, window_start: datetime, window_end: datetime, limit: int) -> bool:
        """Count one request against `counter` in the window; False (nothing counted) once `limit`
        requests have been counted in it.
        """
        ...
