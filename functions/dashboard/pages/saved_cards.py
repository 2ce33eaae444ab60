"""A customer's saved cards on its profile: make one the default, remove one (each confirmed).

The cards themselves are listed by the profile (`customers/_saved_cards.html`); these are the
changes, with the roles and refusals of the API's (`saved_cards.make_default`, `.remove`).
"""

from __future__ import annotations

from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from dashboard.page_request import page_request
from dashboard.rendering import Page, confirm, see_other

router = APIGatewayRouter()
CARD = "/organisations/<organisation_id>/customers/<customer_id>/cards/<card_id>"


@router.post(CARD + "/default")
def make_card_default(organisation_id: str, customer_id: str, card_id: str) -> Page:
    request = page_request(router)
    # The card is named as the page that posted it showed it (the service changes it by id).
    named = request.field("card")[:60] or card_id
    back = request.org_path("customers", customer_id)
    page = confirm(
        request,
        f"Make {named} the default card?",
        "Make default",
        back=back,
        detail="Auto-pay and “Attempt card” charge the default card.",
    )
    if page:
        return page
    request.services.saved_cards.make_default(request.account_id, request.org.id, customer_id, card_id)
    return see_other(back, f"{named} is now the default card.")


@router.post(CARD + "/remove")
def remove_card(organisation_id: str, customer_id: str, card_id: str) -> Page:
    request = page_request(router)
    named = request.field("card")[:60] or card_id
    back = request.org_path("customers", customer_id)
    page = confirm(
        request,
        f"Remove {named}?",
        "Remove card",
        back=back,
        detail="The card is removed at the payment provider too. If it was the default, the newest "
        "other card becomes the default.",
    )
    if page:
        return page
    request.services.saved_cards.remove(request.account_id, request.org.id, customer_id, card_id)
    return see_other(back, f"{named} removed.")
