"""The signed-in customer's saved cards: list, add (the provider's setup flow), remove, make default.

The cards are `SavedCardService`'s (`services().saved_cards`: `list_cards`, `start_card_setup`,
`remove_card`, `set_default_card`), which comes with saved cards; until it is there these pages
are not found and the navigation offers none (`has_saved_cards`).
"""

from __future__ import annotations

from typing import Any, Protocol, cast

from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from portal.account import refused, signed_in_form, signed_in_page
from portal.web import Page, PortalRequest, SignedInCustomer, has_saved_cards, not_found, page, see_other
from remit.bootstrap import services
from remit.domain.errors import Conflict

router = APIGatewayRouter()


class SavedCards(Protocol):
    def list_cards(self, organisation_id: str, customer_id: str) -> list[Any]: ...

    def start_card_setup(self, organisation_id: str, customer_id: str, *, return_url: str) -> str: ...

    def remove_card(self, organisation_id: str, customer_id: str, card_id: str) -> None: ...

    def set_default_card(self, organisation_id: str, customer_id: str, card_id: str) -> None: ...


def _cards() -> SavedCards:
    return cast("SavedCards", getattr(services(), "saved_cards"))  # noqa: B009 - not wired until saved cards merge


def _cards_page(request: PortalRequest, signed_in: SignedInCustomer) -> Page:
    if not has_saved_cards() or not signed_in.organisation.payment_methods.card:
        return not_found(request, signed_in.organisation, signed_in.locale)
    cards = _cards().list_cards(signed_in.organisation.id, signed_in.customer.id)
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
        if not has_saved_cards() or not signed_in.organisation.payment_methods.card:
            return not_found(request, signed_in.organisation, signed_in.locale)
        try:
            url = _cards().start_card_setup(
                signed_in.organisation.id,
                signed_in.customer.id,
                return_url=f"{request.public_url}/p/{org_id}/cards",
            )
        except Conflict as refusal:
            return refused(request, signed_in, 409, "A card cannot be added now", refusal.detail)
        return see_other(url)

    return signed_in_form(org_id, add)


@router.post("/p/<org_id>/cards/<card_id>/remove")
def remove_card(org_id: str, card_id: str) -> Page:
    def remove(request: PortalRequest, signed_in: SignedInCustomer) -> Page:
        if not has_saved_cards():
            return not_found(request, signed_in.organisation, signed_in.locale)
        _cards().remove_card(signed_in.organisation.id, signed_in.customer.id, card_id)
        return see_other(f"{request.base}/p/{org_id}/cards")

    return signed_in_form(org_id, remove)


@router.post("/p/<org_id>/cards/<card_id>/default")
def make_default(org_id: str, card_id: str) -> Page:
    def default(request: PortalRequest, signed_in: SignedInCustomer) -> Page:
        if not has_saved_cards():
            return not_found(request, signed_in.organisation, signed_in.locale)
        _cards().set_default_card(signed_in.organisation.id, signed_in.customer.id, card_id)
        return see_other(f"{request.base}/p/{org_id}/cards")

    return signed_in_form(org_id, default)
