"""Subscriptions: create, read, change, set live, pause, resume, cancel, and the upcoming invoice.

Billing them is the daily invoicing cycle's work (`billing_cycle`); this module keeps each
subscription's schedule and its entry in the due index right, in the same write as the change.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

from remit.domain.billing_period import BillingPeriod
from remit.domain.billing_template import BillingTemplate
from remit.domain.changes import apply_changes, build
from remit.domain.charge import Charge
from remit.domain.customer import Customer
from remit.domain.errors import Conflict, FieldProblem, InvalidInput, NotFound
from remit.domain.ids import new_id
from remit.domain.invoice import Invoice, NewLineItem, line_tax_problems
from remit.domain.organisation import Organisation
from remit.domain.pagination import Page
from remit.domain.subscription import (
    SCHEDULE_FIELDS,
    CancelSubscription,
    NewSubscription,
    Subscription,
    SubscriptionChanges,
    check_subscription,
)
from remit.ports.billing import BillingStore
from remit.ports.recurring import RecurringStore
from remit.services.billing_context import BillingContext, today_in
from remit.services.charges import billable_open_charges
from remit.services.invoices import InvoiceService
from remit.services.retry import retry_on_conflict


def plan_lines(subscription: Subscription, template: BillingTemplate | None) -> list[NewLineItem]:
    """The lines every period bills: the subscription's own, or its template's as they are now."""
    if template is not None:
        return template.line_items
    return list(subscription.line_items or [])


class SubscriptionService:
    def __init__(self, context: BillingContext, store: RecurringStore, invoices: InvoiceService) -> None:
        self._context = context
        self._store = store
        self._invoices = invoices
        self._clock = context.clock

    # --- reading -------------------------------------------------------------------------------

    def get(self, account_id: str, organisation_id: str, subscription_id: str) -> Subscription:
        """The subscription with its current period as of the organisation's today; `NotFound` otherwise."""
        _, subscription, _ = self._read(account_id, organisation_id, subscription_id)
        return self._as_of_now(subscription)

    def list(
        self, account_id: str, organisation_id: str, limit: int, cursor: str | None
    ) -> Page[Subscription]:
        """The organisation's subscriptions, oldest first."""
        self._context.access.require_access(account_id, organisation_id)
        page = self._store.list_subscriptions(organisation_id, limit, cursor)
        return Page([self._as_of_now(s) for s in page.items], page.next_cursor)

    def upcoming(self, account_id: str, organisation_id: str, subscription_id: str) -> Invoice:
        """The next invoice as the cycle will issue it on its billing date, not stored.

        `Conflict` when nothing is left to bill (cancelled, ended, or past its end date).
        """
        organisation, subscription, customer = self._read(
            account_id, organisation_id, subscription_id, with_customer=True
        )
        if customer is None:
            raise NotFound("subscription", subscription_id)
        if subscription.status in ("cancelled", "ended"):
            raise Conflict(
                f"Subscription {subscription.id} is {subscription.status}: nothing is left to bill."
            )
        index = subscription.next_period
        if subscription.status == "draft":
            index = max(index, subscription.trial_periods)
        if not subscription.is_billable(index):
            raise Conflict(f"Subscription {subscription.id} has no period left to bill before its end.")
        period = subscription.schedule.period(index)
        billing_date = subscription.billing_date_of(index)
        draft, _ = period_draft(
            self._invoices,
            self._context.billing,
            organisation,
            customer,
            subscription,
            period,
            billing_date,
            self._clock.now(),
        )
        return draft.model_copy(update={"id": "upcoming", "issue_date": billing_date})

    # --- changing ------------------------------------------------------------------------------

    def create(self, account_id: str, organisation_id: str, new: NewSubscription) -> Subscription:
        """A draft subscription (nothing is billed until it is set live). `InvalidInput` names each
        bad field: an unknown customer or template, a currency other than the customer's, lines and
        a template together (or neither), an end date not after the start.
        """
        organisation, customer = self._context.organisation_and_customer(
            account_id, organisation_id, new.customer_id, customer_field="customer_id"
        )
        now = self._clock.now()
        fields = new.model_dump(exclude_unset=True, exclude_none=True)
        subscription = build(
            Subscription,
            {
                "currency": customer.currency,
                "start_date": today_in(organisation.timezone, now),
                **fields,
                "id": new_id("sub", now),
                "organisation_id": organisation_id,
                "timezone": organisation.timezone,
                "created_at": now,
                "updated_at": now,
            },
        )
        self._check(organisation_id, subscription, customer, template_given=True)
        transaction = self._store.transaction(organisation_id)
        saved = transaction.save_subscription(subscription, event="subscription.created")
        transaction.commit()
        return self._as_of_now(saved)

    def update(
        self, account_id: str, organisation_id: str, subscription_id: str, changes: SubscriptionChanges
    ) -> Subscription:
        """Apply a PATCH. The schedule (`period`, `period_units`, `start_date`, `trial_periods`,
        `charge_period_end`, `currency`) is read-only once a period was invoiced (`InvalidInput`
        naming the field); an active subscription's next billing date follows the change at once.
        `Conflict` for a cancelled or ended subscription. Retries on concurrent changes.
        """

        def attempt() -> Subscription:
            given = changes.model_fields_set
            organisation, current, customer = self._read(
                account_id, organisation_id, subscription_id, with_customer="currency" in given
            )
            current.require_status(("draft", "active", "paused"), "change")
            if current.invoices_issued:
                fixed = [
                    name
                    for name in SCHEDULE_FIELDS
                    if name in given and getattr(changes, name) != getattr(current, name)
                ]
                if fixed:
                    raise InvalidInput(
                        [
                            FieldProblem(name, "is read-only once the subscription has issued an invoice")
                            for name in fixed
                        ]
                    )
            now = self._clock.now()
            updated = apply_changes(current, changes, updated_at=now, timezone=organisation.timezone)
            if "line_items" in given and changes.line_items is not None:
                updated = updated.model_copy(update={"line_items": changes.line_items, "template_id": None})
            if "template_id" in given and changes.template_id is not None:
                updated = updated.model_copy(update={"line_items": None})
            self._check(organisation_id, updated, customer, template_given="template_id" in given)
            if updated.status == "active":
                first = updated.trial_periods if not updated.invoices_issued else updated.next_period
                updated = updated.scheduled_from(first)
            transaction = self._store.transaction(organisation_id)
            saved = transaction.save_subscription(updated, event="subscription.updated")
            transaction.commit()
            return self._as_of_now(saved)

        return retry_on_conflict(attempt)

    def activate(self, account_id: str, organisation_id: str, subscription_id: str) -> Subscription:
        """Set live: from now on the daily cycle bills it, from its first period after the trial
        (periods since a past start date are caught up). `Conflict` unless a draft.
        """
        return self._act(
            account_id,
            organisation_id,
            subscription_id,
            lambda s, today, now: s.activate(now),
            "subscription.activated",
        )

    def pause(self, account_id: str, organisation_id: str, subscription_id: str) -> Subscription:
        """Stop issuing; periods billed while paused are skipped for good. `Conflict` unless active."""
        return self._act(
            account_id,
            organisation_id,
            subscription_id,
            lambda s, today, now: s.pause(now),
            "subscription.paused",
        )

    def resume(self, account_id: str, organisation_id: str, subscription_id: str) -> Subscription:
        """Continue from the next period billed on or after today. `Conflict` unless paused."""
        return self._act(
            account_id,
            organisation_id,
            subscription_id,
            lambda s, today, now: s.resume(today, now),
            "subscription.resumed",
        )

    def cancel(
        self, account_id: str, organisation_id: str, subscription_id: str, request: CancelSubscription
    ) -> Subscription:
        """End it now, or (by default) when the current period ends: the current period is still
        billed, nothing after it. `Conflict` for a cancelled or ended subscription.
        """
        return self._act(
            account_id,
            organisation_id,
            subscription_id,
            lambda s, today, now: s.cancel(at_period_end=request.at_period_end, today=today, now=now),
            "subscription.canceled",
        )

    # --- helpers -------------------------------------------------------------------------------

    def _act(
        self,
        account_id: str,
        organisation_id: str,
        subscription_id: str,
        act: Callable[[Subscription, date, datetime], Subscription],
        event: str,
    ) -> Subscription:
        def attempt() -> Subscription:
            organisation, current, _ = self._read(account_id, organisation_id, subscription_id)
            now = self._clock.now()
            changed = act(current, today_in(organisation.timezone, now), now)
            transaction = self._store.transaction(organisation_id)
            saved = transaction.save_subscription(
                changed.model_copy(update={"timezone": organisation.timezone}), event=event
            )
            transaction.commit()
            return self._as_of_now(saved)

        return retry_on_conflict(attempt)

    def _read(
        self, account_id: str, organisation_id: str, subscription_id: str, *, with_customer: bool = False
    ) -> tuple[Organisation, Subscription, Customer | None]:
        """One read of the organisation and the subscription (two with the customer); `NotFound`."""
        organisation, _, subscription, customer = self._store.read_subscription(
            organisation_id, subscription_id, with_customer=with_customer
        )
        if organisation is None or organisation.account_id != account_id:
            raise NotFound("organisation", organisation_id)
        if subscription is None or (with_customer and customer is None):
            raise NotFound("subscription", subscription_id)
        return organisation, subscription, customer

    def _template(self, organisation_id: str, subscription: Subscription) -> BillingTemplate | None:
        if subscription.template_id is None:
            return None
        return self._context.billing.get_template(organisation_id, subscription.template_id)

    def _check(
        self,
        organisation_id: str,
        subscription: Subscription,
        customer: Customer | None,
        *,
        template_given: bool,
    ) -> None:
        """The rules across fields; the currency against the customer's (when read) and the template
        (when given: it exists here and bills in the subscription's currency).
        """
        check_subscription(subscription)
        problems: list[FieldProblem] = []
        if customer is not None and subscription.currency != customer.currency:
            problems.append(FieldProblem("currency", f"must be the customer's currency {customer.currency}"))
        if customer is not None:
            # Lines the customer's tax treatment refuses would fail each period's invoice: refused now.
            for index, line in enumerate(subscription.line_items or []):
                problems += line_tax_problems(f"line_items.{index}", line, customer)[2]
        if template_given and subscription.template_id is not None:
            template = self._template(organisation_id, subscription)
            if template is None:
                problems.append(
                    FieldProblem("template_id", f"no billing template '{subscription.template_id}' here")
                )
            elif template.currency != subscription.currency:
                problems.append(
                    FieldProblem(
                        "template_id",
                        f"the template bills in {template.currency}, not {subscription.currency}",
                    )
                )
        if problems:
            raise InvalidInput(problems)

    def _as_of_now(self, subscription: Subscription) -> Subscription:
        return subscription.as_seen_on(today_in(subscription.timezone, self._clock.now()))


def period_draft(
    invoices: InvoiceService,
    billing: BillingStore,
    organisation: Organisation,
    customer: Customer,
    subscription: Subscription,
    period: BillingPeriod,
    issue_date: date,
    now: datetime,
) -> tuple[Invoice, list[Charge]]:
    """The invoice of one period as issued on `issue_date` (a draft, not stored), and the open charges
    it takes: the plan's lines (the template's as it is now), the customer's open charges unless the
    subscription leaves them out, the memo, and the due date from the subscription's terms, else the
    template's, else the customer's. `Conflict` when the subscription's template was deleted.
    """
    template = None
    if subscription.template_id is not None:
        template = billing.get_template(organisation.id, subscription.template_id)
        if template is None:
            raise Conflict(
                f"The billing template {subscription.template_id} of the subscription no longer exists."
            )
    charges = (
        billable_open_charges(billing, organisation.id, customer) if subscription.include_open_charges else []
    )
    draft = invoices.draft_for(
        organisation,
        customer,
        charges,
        plan_lines(subscription, template),
        today=issue_date,
        now=now,
        days_until_due=_days_until_due(subscription, template, customer),
        memo=subscription.memo or (template.memo if template else None),
        source="subscription",
        subscription_id=subscription.id,
        period=(period.start, period.end),
    )
    return draft, charges


def _days_until_due(subscription: Subscription, template: BillingTemplate | None, customer: Customer) -> int:
    if subscription.days_until_due is not None:
        return subscription.days_until_due
    if template is not None and template.days_until_due is not None:
        return template.days_until_due
    return customer.payment_terms_days
