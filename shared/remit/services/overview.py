"""The dashboard's overview of an organisation: outstanding, overdue, paid, revenue, what needs attention."""

from __future__ import annotations

from remit.domain.overview import Overview, OverviewWindow, summarise
from remit.ports.billing import BillingStore
from remit.ports.clock import Clock
from remit.services.billing_context import today_in
from remit.services.organisations import OrganisationService


class OverviewService:
    def __init__(self, organisations: OrganisationService, billing: BillingStore, clock: Clock) -> None:
        self._organisations = organisations
        self._billing = billing
        self._clock = clock

    def figures(self, account_id: str, organisation_id: str) -> Overview:
        """The organisation's figures per currency as of today in its time zone, and its oldest overdue
        open invoices (what each figure means: `remit.domain.overview`).

        Reads the organisation, then a bounded set of counters and at most 10 invoices: the cost
        does not grow with the number of invoices (docs/access-patterns.md). `NotFound` when the
        organisation does not exist or belongs to another account.
        """
        organisation = self._organisations.get(account_id, organisation_id)
        window = OverviewWindow(today_in(organisation.timezone, self._clock.now()))
        reading = self._billing.read_overview(organisation_id, window)
        return summarise(
            organisation.id, organisation.default_currency, organisation.timezone, window, reading
        )
