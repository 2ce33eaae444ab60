"""The customer profile's saved cards: listed with brand, digits, expiry and default; made default and
removed through confirmed, CSRF-protected forms; hostile card details shown inert."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.dashboard_browser import account_with_user, signed_in, text_of
from tests.integration.saved_cards import customer_with_cards

pytestmark = pytest.mark.usefixtures("user_pool")


def cards(organisation_id: str, customer_id: str) -> list[Any]:
    from remit.bootstrap import services

    return services().saved_cards.list_cards(organisation_id, customer_id)


def test_the_profile_lists_saved_cards_and_makes_one_default_once_confirmed() -> None:
    account_id, organisation_id = account_with_user("ann@example.com")
    customer = customer_with_cards(account_id, organisation_id, "visa", "mastercard")
    browser = signed_in("ann@example.com")
    path = f"/dashboard/organisations/{organisation_id}/customers/{customer.id}"
    second = cards(organisation_id, customer.id)[1]

    page = text_of(browser.request("GET", path)["body"])
    asked = browser.post(
        f"{path}/cards/{second.id}/default", {"card": "mastercard •••• 1111"}, confirmed=False
    )
    unchanged = [card.default for card in cards(organisation_id, customer.id)]
    done = browser.post(f"{path}/cards/{second.id}/default", {"card": "mastercard •••• 1111"})

    assert "visa •••• 0000" in page
    assert "mastercard •••• 1111" in page
    assert "03/2031" in page
    assert "Default" in page
    assert asked["statusCode"] == 200
    assert unchanged == [True, False]
    assert done["statusCode"] == 303
    assert [card.default for card in cards(organisation_id, customer.id)] == [False, True]


def test_removing_a_card_needs_the_csrf_token_and_then_removes_it() -> None:
    account_id, organisation_id = account_with_user("bo@example.com")
    customer = customer_with_cards(account_id, organisation_id, "visa")
    browser = signed_in("bo@example.com")
    [card] = cards(organisation_id, customer.id)
    path = f"/dashboard/organisations/{organisation_id}/customers/{customer.id}/cards/{card.id}/remove"

    forged = browser.request("POST", path, {"confirmed": "yes"})
    kept = cards(organisation_id, customer.id)
    removed = browser.post(path, {"card": "visa"})

    assert forged["statusCode"] == 403
    assert kept == [card]
    assert removed["statusCode"] == 303
    assert cards(organisation_id, customer.id) == []


def test_a_hostile_brand_is_shown_as_text() -> None:
    account_id, organisation_id = account_with_user("cy@example.com")
    customer = customer_with_cards(account_id, organisation_id, "<script>x</script>")
    browser = signed_in("cy@example.com")

    body = browser.request("GET", f"/dashboard/organisations/{organisation_id}/customers/{customer.id}")[
        "body"
    ]

    assert "<script>x</script>" not in body
    assert "&lt;script&gt;x&lt;/script&gt;" in body
