"""A customer's saved cards: one default while it has any, no card saved twice, removal and choice
of the default by id."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from remit.domain.errors import NotFound
from remit.domain.saved_cards import (
    MAX_SAVED_CARDS,
    SavedCard,
    default_card,
    with_card_added,
    with_default,
    without_card,
)

T = datetime(2026, 12, 1, tzinfo=UTC)


def card(number: int, **fields: object) -> SavedCard:
    return SavedCard.model_validate(
        {
            "id": f"card_{number}",
            "last4": f"{number:04d}",
            "created_at": T,
            "provider_customer_id": "cus_1",
            "payment_method_id": f"pm_{number}",
            **fields,
        }
    )


def defaults(cards: list[SavedCard]) -> list[str]:
    return [c.id for c in cards if c.default]


def test_the_first_card_saved_is_the_default_and_later_ones_are_not() -> None:
    cards = with_card_added(with_card_added([], card(1)), card(2))

    assert defaults(cards) == ["card_1"]
    assert default_card(cards) == cards[0]


def test_a_payment_method_saved_again_is_not_a_second_card_and_its_details_are_refreshed() -> None:
    cards = with_card_added([], card(1))

    again = with_card_added(cards, card(9, payment_method_id="pm_1", last4="4242", exp_year=2031))

    assert [(c.id, c.last4, c.exp_year) for c in again] == [("card_1", "4242", 2031)]


def test_beyond_the_limit_the_oldest_card_that_is_not_the_default_goes() -> None:
    cards: list[SavedCard] = []
    for number in range(MAX_SAVED_CARDS + 1):
        cards = with_card_added(cards, card(number))

    assert len(cards) == MAX_SAVED_CARDS
    assert [c.id for c in cards[:2]] == ["card_0", "card_2"]
    assert defaults(cards) == ["card_0"]


def test_removing_the_default_makes_the_newest_other_the_default() -> None:
    cards = with_card_added(with_card_added(with_card_added([], card(1)), card(2)), card(3))

    rest, removed = without_card(cards, "card_1")

    assert removed.id == "card_1"
    assert defaults(rest) == ["card_3"]
    assert without_card(rest, "card_2")[0] == [rest[1]]


def test_choosing_the_default_leaves_exactly_one() -> None:
    cards = with_card_added(with_card_added([], card(1)), card(2))

    assert defaults(with_default(cards, "card_2")) == ["card_2"]


@pytest.mark.parametrize(
    "change", [lambda cards: without_card(cards, "card_x"), lambda cards: with_default(cards, "card_x")]
)
def test_an_unknown_card_is_not_found(change: object) -> None:
    with pytest.raises(NotFound):
        change([card(1)])  # type: ignore[operator]
