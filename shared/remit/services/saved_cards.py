"""A customer's saved cards: listed, saved through the provider's setup page, removed, made default.

Guarantees:

* A card is saved only by a verified provider event (`card_saved`, from `CardEventService`),
  at most once per event id: the event's marker commits in the same transaction as the customer's
  new list of cards and its `customer.updated` event. A second event for a card already saved (the
  same payment method) changes nothing.
* Every change of the list (saved, removed, made default) is written whole, only over the customer
  as read, with its `customer.updated` event in the same transaction; a concurrent change makes it
  re-read and retry. The customer keeps exactly one default card while it has any: auto-pay and
  "Attempt card" charge that one.
* Removing a card forgets it in Remit first, then detaches it at the provider; a provider that
  refuses leaves the card removed in Remit (it is never charged again by Remit) and is logged.
* The provider's ids never leave Remit: a card is shown by its `card_…` id, brand, digits and expiry.

The methods named by customer (`list_cards`, `start_card_setup`, `remove_card`, `set_default_card`)
act for the customer (the portal, which checked its session); `cards_of`, `remove` and
`make_default` are the same for an account's user or key (the API and the dashboard).
"""

from __future__ import annotations

from datetime import datetime

from remit.domain.card_payments import CardPaymentEvent, CardSetupRequest
from remit.domain.customer import Customer
from remit.domain.errors import Conflict, InvalidInput, NotFound
from remit.domain.events import EventSource
from remit.domain.ids import new_id
from remit.domain.saved_cards import (
    CardDetails,
    SavedCard,
    card_named,
    with_card_added,
    with_default,
    without_card,
)
from remit.observability import logger
from remit.services.billing_context import BillingContext
from remit.services.card_payments import CardPaymentService
from remit.services.retry import retry_on_conflict

MAX_RETURN_URL = 2000


class SavedCardService:
    def __init__(self, context: BillingContext, card_payments: CardPaymentService) -> None:
        self._context = context
        self._billing = context.billing
        self._card_payments = card_payments

    # --- for the customer (the portal) -----------------------------------------------------

    def list_cards(self, organisation_id: str, customer_id: str) -> list[SavedCard]:
        """The customer's saved cards, oldest first, the default among them. Raises `NotFound` for
        an unknown organisation or customer."""
        return self._customer(organisation_id, customer_id).saved_cards

    def start_card_setup(self, organisation_id: str, customer_id: str, *, return_url: str) -> str:
        """The URL of the provider's page where the customer saves a card (no payment); the provider
        sends the customer back to `return_url` and the card arrives by webhook. Raises `NotFound`,
        `InvalidInput` naming `return_url` (not an http(s) URL), or `Conflict` when no provider is
        connected or it refuses."""
        if not return_url.startswith(("https://", "http://")) or len(return_url) > MAX_RETURN_URL:
            raise InvalidInput.single("return_url", "must be an http(s) URL of at most 2000 characters")
        organisation, _, customer = self._billing.read_for_billing(organisation_id, customer_id=customer_id)
        if organisation is None:
            raise NotFound("organisation", organisation_id)
        if customer is None:
            raise NotFound("customer", customer_id)
        credentials, gateway = self._card_payments.connected_gateway(organisation)
        default = customer.card_on_file
        request = CardSetupRequest(
            organisation_id=organisation_id,
            customer_id=customer_id,
            currency=customer.currency,
            customer_email=customer.email,
            provider_customer_id=default.provider_customer_id if default else None,
            return_url=return_url,
        )
        session = gateway.create_card_setup(credentials, request)
        logger.info("Card setup started", extra={"customer_id": customer_id, "session_id": session.id})
        return session.url

    def remove_card(
        self, organisation_id: str, customer_id: str, card_id: str, *, source: EventSource | None = "portal"
    ) -> None:
        """Remove the card (the newest other card becomes the default if it was), then detach it at
        the provider; its `customer.updated` event has `source` (the customer's, `portal`, unless
        an account acts). Raises `NotFound` for an unknown organisation, customer or card."""

        def attempt() -> SavedCard:
            customer = self._customer(organisation_id, customer_id)
            cards, removed = without_card(customer.saved_cards, card_id)
            self._save(customer, cards, source)
            return removed

        removed = retry_on_conflict(attempt)
        logger.info("Saved card removed", extra={"customer_id": customer_id, "card_id": card_id})
        self._detach(organisation_id, removed)

    def set_default_card(
        self, organisation_id: str, customer_id: str, card_id: str, *, source: EventSource | None = "portal"
    ) -> None:
        """Make the card the one auto-pay charges (its event's `source` as `remove_card`'s).
        Idempotent; raises `NotFound` for an unknown organisation, customer or card."""

        def attempt() -> None:
            customer = self._customer(organisation_id, customer_id)
            if card_named(customer.saved_cards, card_id).default:
                return
            self._save(customer, with_default(customer.saved_cards, card_id), source)

        retry_on_conflict(attempt)

    # --- for an account (API, dashboard) ----------------------------------------------------

    def cards_of(self, account_id: str, organisation_id: str, customer_id: str) -> list[SavedCard]:
        """`list_cards` for the account's organisation; `NotFound` for another account's."""
        self._context.access.require_access(account_id, organisation_id)
        return self.list_cards(organisation_id, customer_id)

    def remove(self, account_id: str, organisation_id: str, customer_id: str, card_id: str) -> None:
        """`remove_card` for the account's organisation; `NotFound` for another account's."""
        self._context.access.require_access(account_id, organisation_id)
        self.remove_card(organisation_id, customer_id, card_id, source=None)

    def make_default(self, account_id: str, organisation_id: str, customer_id: str, card_id: str) -> None:
        """`set_default_card` for the account's organisation; `NotFound` for another account's."""
        self._context.access.require_access(account_id, organisation_id)
        self.set_default_card(organisation_id, customer_id, card_id, source=None)

    # --- from the provider's webhook --------------------------------------------------------

    def apply_card_saved(self, organisation_id: str, event: CardPaymentEvent, details: CardDetails) -> bool:
        """Save the card of a verified `card_saved` event, once per event id (`EventAlreadyApplied`
        for a duplicate, nothing written). False (nothing written) when the customer is unknown.
        Only the portal starts a card setup, so the customer's event has the source `portal`."""

        def attempt() -> bool:
            found = self._billing.get_customers(organisation_id, [str(event.customer_id)])
            if not found or not event.payment_method_id or not event.provider_customer_id:
                return False
            customer = found[0]
            now = self._context.clock.now()
            card = SavedCard(
                id=new_id("card", now),
                created_at=now,
                provider_customer_id=event.provider_customer_id,
                payment_method_id=event.payment_method_id,
                **details.model_dump(),
            )
            cards = with_card_added(customer.saved_cards, card)
            transaction = self._billing.transaction(organisation_id)
            transaction.claim_webhook_event(event.event_id, event.kind, now)
            if cards != customer.saved_cards:
                transaction.adjust_customer(
                    customer.id, now, as_read=customer, saved_cards=cards, source="portal"
                )
            transaction.commit()
            return True

        saved = retry_on_conflict(attempt)
        logger.info("Card setup applied", extra={"customer_id": event.customer_id, "saved": saved})
        return saved

    # --- helpers ----------------------------------------------------------------------------

    def _customer(self, organisation_id: str, customer_id: str) -> Customer:
        found = self._billing.get_customers(organisation_id, [customer_id]) if customer_id else []
        if not found:
            raise NotFound("customer", customer_id)
        return found[0]

    def _save(self, customer: Customer, cards: list[SavedCard], source: EventSource | None) -> None:
        now: datetime = self._context.clock.now()
        transaction = self._billing.transaction(customer.organisation_id)
        transaction.adjust_customer(customer.id, now, as_read=customer, saved_cards=cards, source=source)
        transaction.commit()

    def _detach(self, organisation_id: str, card: SavedCard) -> None:
        credentials = self._card_payments.credentials(organisation_id)
        if credentials is None:
            return
        try:
            self._card_payments.gateway(credentials).detach_card(credentials, card.payment_method_id)
        except Conflict:
            logger.warning("The provider did not detach the removed card", extra={"card_id": card.id})
