"""The signed-in home: the account's organisations, a new one from the API's own model, the switcher."""

from __future__ import annotations

import pytest

from tests.integration.dashboard_browser import account_with_user, signed_in, text_of

pytestmark = pytest.mark.usefixtures("user_pool")


def test_a_new_organisation_is_created_from_the_home_page_and_listed_in_the_switcher() -> None:
    from remit.bootstrap import services

    account_id, _ = account_with_user("olga@example.com", "First Ltd")
    browser = signed_in("olga@example.com")

    response = browser.post(
        "/dashboard/organisations",
        {
            "name": "Second GmbH",
            "default_currency": "EUR",
            "timezone": "Europe/Berlin",
            "address.city": "Berlin",
        },
    )

    assert response["statusCode"] == 303
    page = browser.request("GET", response["headers"]["Location"])
    assert "Second GmbH created." in text_of(page["body"])
    created = [
        o for o in services().organisations.list(account_id, 10, None).items if o.name == "Second GmbH"
    ]
    assert created[0].timezone == "Europe/Berlin"
    assert created[0].address is not None
    assert created[0].address.city == "Berlin"
    assert 'href="/dashboard/organisations/' in page["body"]
    assert "First Ltd" in page["body"]  # the switcher lists the account's other organisation


def test_a_refused_organisation_shows_the_apis_message_next_to_the_field_and_creates_nothing() -> None:
    from remit.bootstrap import services

    account_id, _ = account_with_user("pia@example.com", "Only Ltd")
    browser = signed_in("pia@example.com")

    response = browser.post("/dashboard/organisations", {"name": "Bad", "default_currency": "EURO"})

    assert response["statusCode"] == 422
    assert 'id="f-default_currency-error"' in response["body"]
    assert 'aria-invalid="true"' in response["body"]
    assert 'value="Bad"' in response["body"]  # what was typed is kept
    assert [o.name for o in services().organisations.list(account_id, 10, None).items] == ["Only Ltd"]


def test_a_form_posted_without_its_csrf_token_changes_nothing() -> None:
    from remit.bootstrap import services

    account_id, _ = account_with_user("quin@example.com", "Only Ltd")
    browser = signed_in("quin@example.com")

    response = browser.request(
        "POST", "/dashboard/organisations", {"name": "Sneaky", "default_currency": "EUR"}
    )

    assert response["statusCode"] == 403
    assert [o.name for o in services().organisations.list(account_id, 10, None).items] == ["Only Ltd"]
