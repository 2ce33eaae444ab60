"""The signed-in customer's saved cards: list, add (the provider's setup flow), remove, make default.

The cards are `SavedCardService`'s (`services().saved_cards`: `list_cards`, `start_card_setup`,
`remove_card`, `set_default_card`); without a card provider connected these pages are not found
and the navigation offers none.
"""

from __future__ import annotations

from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from portal import messages
from portal.account import refused, signed_in_form, signed_in_page
from portal.web import Page, PortalRequest, SignedInCustomer, not_found, page, see_other
from remit.bootstrap import services
from remit.domain.errors import Conflict

router = APIGatewayRouter()


def _cards_page(request: PortalRequest, signed_in: SignedInCustomer) -> Page:
    if not signed_in.organisation.payment_methods.card:
        return not_found(request, signed_in.organisation, signed_in.locale)
    cards = services().saved_cards.list_cards(signed_in.organisation.id, signed_in.customer.id)
    return page(
        request,
        200,
        "cards.html",
        "Your saved cards",
        signed_in.organisation,
        signed_in.locale,
        cards=cards,
        csrf_token=signed_in.session.csrf_token,
    )


@router.get("/p/<org_id>/cards")
def cards(org_id: str) -> Page:
    return signed_in_page(org_id, _cards_page)


@router.post("/p/<org_id>/cards")
def add_card(org_id: str) -> Page:
    def add(request: PortalRequest, signed_in: SignedInCustomer) -> Page:
        if not signed_in.organisation.payment_methods.card:
            return not_found(request, signed_in.organisation, signed_in.locale)
        try:
            url = services().saved_cards.start_card_setup(
                signed_in.organisation.id,
                signed_in.customer.id,
                return_url=f"{request.public_url}/p/{org_id}/cards",
            )
        except Conflict as refusal:
            return refused(
                request, signed_in, 409, "A card cannot be added now", messages.of_conflict(refusal)
            )
        return see_other(url)

    return signed_in_form(org_id, add)


@router.post("/p/<org_id>/cards/<card_id>/remove")
def remove_card(org_id: str, card_id: str) -> Page:
    def remove(request: PortalRequest, signed_in: SignedInCustomer) -> Page:
        services().saved_cards.remove_card(signed_in.organisation.id, signed_in.customer.id, card_id)
        return see_other(f"{request.base}/p/{org_id}/cards")

    return signed_in_form(org_id, remove)


@router.post("/p/<org_id>/cards/<card_id>/default")
def make_default(org_id: str, card_id: str) -> Page:
    def default(request: PortalRequest, signed_in: SignedInCustomer) -> Page:
        services().saved_cards.set_default_card(signed_in.organisation.id, signed_in.customer.id, card_id)
        return see_other(f"{request.base}/p/{org_id}/cards")

    return signed_in_form(org_id, default)
