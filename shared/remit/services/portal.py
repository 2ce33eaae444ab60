"""The customer portal's sign-in: one-time links (emailed to a billing contact, or made for a
platform that signs its customers in itself), the sessions they open, sign-out.

Links and sessions are kept by the SHA-256 of their secrets. A link opens one session, once (a
conditional delete). A session names one customer of one organisation; every request finds it
afresh (`current`): a session whose customer was deleted, or whose organisation turned the
portal off, ends at its next request.

Asking for a link answers the same whether the email is known or not: requests are counted per
email and per client before anything is looked up, and a known email's link leaves by the outbox
(in the same transaction as the link), never in the answer.
"""

from __future__ import annotations

from collections.abc import Iterator

from remit.domain.customer import Customer
from remit.domain.documents import document_locale
from remit.domain.errors import Conflict, DomainError, NotFound
from remit.domain.ids import new_id
from remit.domain.organisation import Organisation
from remit.domain.outbox import OutboxMessage
from remit.domain.portal import (
    EMAILED_LINK_LIFETIME,
    LINK_REQUEST_WINDOW,
    MAX_CUSTOMERS_PER_EMAIL,
    MAX_LINK_REQUESTS_PER_CLIENT,
    MAX_LINK_REQUESTS_PER_EMAIL,
    PLATFORM_LINK_LIFETIME,
    PORTAL_SESSION_LIFETIME,
    IssuedLink,
    PortalLink,
    PortalSession,
    normalised_email,
    window_of,
)
from remit.domain.sessions import digest, new_secret
from remit.ports.clock import Clock
from remit.ports.customers import CustomerRepository
from remit.ports.organisations import OrganisationRepository
from remit.ports.portal import PortalStore
from remit.services.organisations import OrganisationService


class LinkRequestsThrottled(DomainError):
    """Too many links asked for lately, from this client or for this email."""

    def __init__(self) -> None:
        super().__init__("Too many sign-in links were asked for. Try again in 15 minutes.")


class PortalSignInService:
    def __init__(
        self,
        store: PortalStore,
        organisations: OrganisationRepository,
        customers: CustomerRepository,
        access: OrganisationService,
        clock: Clock,
    ) -> None:
        self._store = store
        self._organisations = organisations
        self._customers = customers
        self._access = access
        self._clock = clock

    def portal_of(self, organisation_id: str) -> Organisation:
        """The organisation whose portal this is; `NotFound` when there is none or it is turned off
        (a disabled portal looks like no portal).
        """
        organisation = (
            self._organisations.get(organisation_id) if organisation_id.startswith("org_") else None
        )
        if organisation is None or not organisation.portal.enabled:
            raise NotFound("organisation", organisation_id)
        return organisation

    def request_link(self, organisation_id: str, email: str, client: str, base_url: str) -> None:
        """Email a one-time link (valid `EMAILED_LINK_LIFETIME`) to `email` for each customer of the
        organisation (at most `MAX_CUSTOMERS_PER_EMAIL`) that has it among its billing recipients;
        nothing when none has. Each link and its outbox message are written in one transaction, in
        the customer's locale. The caller answers the same either way.

        Raises `NotFound` when the portal does not exist or is off; `LinkRequestsThrottled` once
        the client or the email has asked `MAX_LINK_REQUESTS_PER_CLIENT` /
        `MAX_LINK_REQUESTS_PER_EMAIL` times in the current window (counted for known and unknown
        emails alike, before any lookup).
        """
        organisation = self.portal_of(organisation_id)
        email = normalised_email(email)
        now = self._clock.now()
        start, end = window_of(now, LINK_REQUEST_WINDOW)
        if not self._store.count_request(
            f"CLIENT#{digest(client)}", start, end, MAX_LINK_REQUESTS_PER_CLIENT
        ):
            raise LinkRequestsThrottled()
        counter = f"EMAIL#{digest(organisation.id + '#' + email)}"
        if not self._store.count_request(counter, start, end, MAX_LINK_REQUESTS_PER_EMAIL):
            raise LinkRequestsThrottled()
        for customer in self._customers_of(organisation.id, email):
            secret = new_secret()
            expires_at = now + EMAILED_LINK_LIFETIME
            message = OutboxMessage(
                id=new_id("msg", now),
                organisation_id=organisation.id,
                invoice_id="",
                customer_id=customer.id,
                kind="portal_sign_in",
                to=[email],
                portal_link=_link_url(base_url, organisation.id, secret),
                created_at=now,
            )
            self._store.add_link(
                PortalLink(digest(secret), organisation.id, customer.id, expires_at), message
            )

    def issue_link(
        self, account_id: str, organisation_id: str, customer_id: str, base_url: str
    ) -> IssuedLink:
        """A one-time link (valid `PLATFORM_LINK_LIFETIME`) that signs the customer in, for a
        platform that has signed them in itself. Shown once; only its digest is kept.

        Raises `NotFound` for an unknown customer or another account's organisation;
        `Conflict` ("portal is disabled") when the organisation turned its portal off.
        """
        self._access.require_access(account_id, organisation_id)
        organisation = self._organisations.get(organisation_id)
        customer = self._customers.get(organisation_id, customer_id)
        if organisation is None or customer is None:
            raise NotFound("customer", customer_id)
        if not organisation.portal.enabled:
            raise Conflict("The customer portal is disabled for this organisation: portal is disabled.")
        secret = new_secret()
        expires_at = self._clock.now() + PLATFORM_LINK_LIFETIME
        self._store.add_link(PortalLink(digest(secret), organisation_id, customer_id, expires_at), None)
        return IssuedLink(_link_url(base_url, organisation_id, secret), expires_at)

    def sign_in(self, organisation_id: str, secret: str) -> tuple[str, PortalSession]:
        """Use the link once: open a session (valid `PORTAL_SESSION_LIFETIME`) for its customer and
        return its id (for the cookie only) and the session.

        Raises `NotFound` for a link that is unknown, used, expired, of another organisation, or
        whose customer no longer exists or whose portal is off; the link is spent either way.
        """
        self.portal_of(organisation_id)
        now = self._clock.now()
        link = self._store.consume_link(digest(secret), now) if 20 <= len(secret) <= 100 else None
        if link is None or link.organisation_id != organisation_id:
            raise NotFound("sign-in link", "(link)")
        if self._customers.get(organisation_id, link.customer_id) is None:
            raise NotFound("sign-in link", "(link)")
        session_id = new_secret()
        session = PortalSession(
            session_digest=digest(session_id),
            organisation_id=organisation_id,
            customer_id=link.customer_id,
            csrf_token=new_secret(),
            expires_at=now + PORTAL_SESSION_LIFETIME,
        )
        self._store.add_session(session)
        return session_id, session

    def current(self, organisation_id: str, session_id: str | None) -> tuple[PortalSession, Customer] | None:
        """The session the cookie names, with its customer as stored now. None for no cookie, an
        unknown or expired session, one of another organisation's portal, or one whose customer
        was deleted or whose portal was turned off (that session is ended).
        """
        if not session_id or len(session_id) > 100:
            return None
        session = self._store.get_session(digest(session_id), self._clock.now())
        if session is None or session.organisation_id != organisation_id:
            return None
        organisation = self._organisations.get(organisation_id)
        customer = self._customers.get(organisation_id, session.customer_id)
        if customer is None or organisation is None or not organisation.portal.enabled:
            self._store.remove_session(session.session_digest)
            return None
        return session, customer

    def sign_out(self, session: PortalSession) -> None:
        """End the session. Idempotent."""
        self._store.remove_session(session.session_digest)

    def _customers_of(self, organisation_id: str, email: str) -> Iterator[Customer]:
        """The organisation's customers that bill `email`, oldest first, at most `MAX_CUSTOMERS_PER_EMAIL`.

        Reads only those (the customers' email lookup), never the organisation's other customers.
        """
        found = self._customers.find_by_recipient(organisation_id, email, MAX_CUSTOMERS_PER_EMAIL)
        for customer in found:
            if email in (normalised_email(r) for r in customer.billing_recipients()):
                yield customer


def _link_url(base_url: str, organisation_id: str, secret: str) -> str:
    return f"{base_url.rstrip('/')}/p/{organisation_id}/sign_in/{secret}"


def locale_of(customer: Customer, organisation: Organisation) -> str:
    """The language the portal speaks to this customer: its documents'."""
    return document_locale(customer.preferred_locale, organisation.locale)
