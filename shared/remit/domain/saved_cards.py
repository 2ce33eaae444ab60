"""A customer's saved cards: several, one of them the default that auto-pay charges.

The provider's ids (its customer, the card's payment method) stay inside Remit: the API and the
dashboard show a card by its own `card_…` id, brand, last four digits and expiry.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Annotated

from pydantic import Field

from remit.domain.errors import NotFound
from remit.domain.values import Model

# At most this many cards per customer: the customer's item holds them all.
MAX_SAVED_CARDS = 20


class CardDetails(Model):
    """What the provider tells of a saved card (all optional: a card saved before Remit asked)."""

    brand: Annotated[str, Field(max_length=30)] = "card"
    last4: Annotated[str, Field(max_length=4)] | None = None
    exp_month: Annotated[int, Field(ge=1, le=12)] | None = None
    exp_year: Annotated[int, Field(ge=2000, le=2200)] | None = None


class SavedCard(CardDetails):
    """One card the customer saved with the organisation's provider for off-session charges."""

    id: str
    default: bool = False
    created_at: datetime | None = None
    # The provider's: never shown.
    provider_customer_id: str
    payment_method_id: str


def legacy_card_id(payment_method_id: str) -> str:
    """The id of a card stored before saved cards (as `card_on_file`): the same at every read."""
    return "card_" + hashlib.sha256(payment_method_id.encode()).hexdigest()[:20]


def with_card_added(cards: list[SavedCard], card: SavedCard) -> list[SavedCard]:
    """`cards` with `card` saved: a payment method saved already is not saved twice (its details are
    refreshed); the first card is the default. The oldest non-default card goes beyond the limit."""
    for index, existing in enumerate(cards):
        if existing.payment_method_id == card.payment_method_id:
            refreshed = existing.model_copy(
                update=card.model_dump(include={"brand", "last4", "exp_month", "exp_year"})
            )
            return [*cards[:index], refreshed, *cards[index + 1 :]]
    added = [*cards, card.model_copy(update={"default": not any(c.default for c in cards)})]
    while len(added) > MAX_SAVED_CARDS:
        oldest = next(c for c in added if not c.default)
        added.remove(oldest)
    return added


def without_card(cards: list[SavedCard], card_id: str) -> tuple[list[SavedCard], SavedCard]:
    """`cards` less the card `card_id`, and that card. Removing the default makes the newest of the
    others the default. Raises `NotFound` for an id the customer has no card by."""
    removed = card_named(cards, card_id)
    rest = [card for card in cards if card.id != card_id]
    if removed.default and rest:
        rest[-1] = rest[-1].model_copy(update={"default": True})
    return rest, removed


def with_default(cards: list[SavedCard], card_id: str) -> list[SavedCard]:
    """`cards` with `card_id` the only default. Raises `NotFound` for an unknown id."""
    card_named(cards, card_id)
    return [card.model_copy(update={"default": card.id == card_id}) for card in cards]


def card_named(cards: list[SavedCard], card_id: str) -> SavedCard:
    """The customer's card `card_id`; `NotFound` otherwise."""
    for card in cards:
        if card.id == card_id:
            return card
    raise NotFound("card", card_id)


def default_card(cards: list[SavedCard]) -> SavedCard | None:
    """The card auto-pay charges, None without one."""
    return next((card for card in cards if card.default), None)
