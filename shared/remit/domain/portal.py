"""The customer portal's sign-in: one-time links and the sessions they open, and the rules that
bound them.

The email (or the platform) holds the link's secret and the browser holds the session's id; the
store keeps only their SHA-256 (`remit.domain.sessions.digest`), so a leaked table opens nothing.
A link opens one session once; a session belongs to one customer of one organisation and names
nothing else.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta

from pydantic import Field

from remit.domain.customer import EmailPreference
from remit.domain.errors import DomainError
from remit.domain.tax_ids import TaxId
from remit.domain.values import Address, Model, Strict

#: A link emailed to a billing contact.
EMAILED_LINK_LIFETIME = timedelta(minutes=15)
#: A link made for a platform that signs its customers in itself (it redirects at once).
PLATFORM_LINK_LIFETIME = timedelta(minutes=5)
#: A signed-in session; sign-out ends it sooner.
PORTAL_SESSION_LIFETIME = timedelta(hours=8)
#: "Send me a link" requests counted per window, per email and per client.
LINK_REQUEST_WINDOW = timedelta(minutes=15)
MAX_LINK_REQUESTS_PER_EMAIL = 3
MAX_LINK_REQUESTS_PER_CLIENT = 20
#: Customers one email may sign in to (one link each): an email shared by many is not a way to mail-bomb.
MAX_CUSTOMERS_PER_EMAIL = 5


@dataclass(frozen=True)
class PortalLink:
    """A one-time sign-in link as stored: its digest, for whom, until when."""

    link_digest: str
    organisation_id: str
    customer_id: str
    expires_at: datetime


@dataclass(frozen=True)
class PortalSession:
    """A signed-in customer: which customer of which organisation, its CSRF token, until when."""

    session_digest: str
    organisation_id: str
    customer_id: str
    csrf_token: str
    expires_at: datetime

    def accepts_csrf(self, presented: str | None) -> bool:
        """Whether a form's token is this session's, compared in constant time."""
        return presented is not None and hmac.compare_digest(presented.encode(), self.csrf_token.encode())


@dataclass(frozen=True)
class IssuedLink:
    """A link just made: its URL (holding the secret, shown once) and when it stops working."""

    url: str
    expires_at: datetime


class PortalDisabled(DomainError):
    """The organisation has turned its customer portal off."""

    def __init__(self) -> None:
        super().__init__("The customer portal is disabled for this organisation.")


def normalised_email(email: str) -> str:
    """An email as links are requested and contacts compared: trimmed, lower case."""
    return email.strip().lower()


def window_of(now: datetime, window: timedelta) -> tuple[datetime, datetime]:
    """The fixed window `now` falls in (windows of `window` since the epoch)."""
    size = int(window.total_seconds())
    start = int(now.timestamp()) // size * size
    return (
        datetime.fromtimestamp(start, now.tzinfo),
        datetime.fromtimestamp(start + size, now.tzinfo),
    )


class PortalDetailsChanges(Strict):
    """What a signed-in customer may change of itself: only the fields given change."""

    address: Address | None = None
    tax_id: TaxId | None = None
    send_reminders: bool | None = None
    # Each contact's email preferences, by contact id (contacts not named keep theirs).
    contact_preferences: dict[str, list[EmailPreference]] | None = None


class PortalSessionLink(Model):
    """A one-time link that signs a customer in to the portal (`POST …/portal_sessions`)."""

    url: str = Field(description="Open once, within 5 minutes, to sign the customer in.")
    expires_at: datetime
