"""`/v1/organisations/{organisation_id}/customers/{customer_id}/cards`: the customer's saved cards.

A card is saved through the provider's setup page (the customer portal starts it) or by paying
with a card while `auto_pay` is on; the provider's webhook brings it. Here cards are listed,
removed and made the default.
"""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from api.http import account_id, caller_services, json_response, no_content
from remit.domain.answers import SavedCard
from remit.domain.pagination import ListResponse

router = APIGatewayRouter()
CARDS = "/<organisation_id>/customers/<customer_id>/cards"


@router.get(
    CARDS,
    summary="List a customer's saved cards",
    description="Oldest first; the one with `default: true` is the card auto-pay charges.",
)
def list_saved_cards(organisation_id: str, customer_id: str) -> Response[ListResponse[SavedCard]]:
    cards = caller_services(router).saved_cards.cards_of(account_id(router), organisation_id, customer_id)
    body = ListResponse[SavedCard](data=[SavedCard.of(card) for card in cards], next_cursor=None)
    return json_response(200, body)


@router.delete(
    CARDS + "/<card_id>",
    summary="Remove a saved card",
    description=(
        "The card is forgotten and detached at the provider. Removing the default card makes the "
        "newest other card the default."
    ),
)
def remove_saved_card(organisation_id: str, customer_id: str, card_id: str) -> Response[None]:
    caller_services(router).saved_cards.remove(account_id(router), organisation_id, customer_id, card_id)
    return no_content()


@router.post(
    CARDS + "/<card_id>/default",
    summary="Make a saved card the default",
    description="Auto-pay and “Attempt card” charge the default card from now on.",
)
def make_saved_card_default(
    organisation_id: str, customer_id: str, card_id: str
) -> Response[ListResponse[SavedCard]]:
    services = caller_services(router).saved_cards
    services.make_default(account_id(router), organisation_id, customer_id, card_id)
    cards = services.cards_of(account_id(router), organisation_id, customer_id)
    body = ListResponse[SavedCard](data=[SavedCard.of(card) for card in cards], next_cursor=None)
    return json_response(200, body)
