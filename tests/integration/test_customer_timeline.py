"""The customer's timeline on its dashboard profile: its own events newest first, said in words,
those the customer made in the portal marked so (their events carry the source `portal`)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.integration.dashboard_browser import account_with_user, signed_in, text_of
from tests.integration.saved_cards import customer_with_cards

pytestmark = pytest.mark.usefixtures("user_pool")


def new_customer(account_id: str, organisation_id: str, name: str = "Globex") -> Any:
    from remit.bootstrap import services
    from remit.domain.customer import NewCustomer

    return services().customers.create(
        account_id, organisation_id, NewCustomer(name=name, email="ap@globex.test")
    )


def customer_events(account_id: str, organisation_id: str, customer_id: str) -> list[Any]:
    from remit.bootstrap import services

    return services().events.list(account_id, organisation_id, 100, None, object_id=customer_id).items


def timeline_rows(page: str) -> list[str]:
    """The text of each row of the Timeline card, top to bottom."""
    card = page.split('id="timeline"', 1)[1].split("</table>", 1)[0]
    return [text_of(row) for row in re.findall(r"<tr>(.*?)</tr>", card, re.S)[1:]]


def test_a_portal_edit_is_on_the_timeline_marked_as_made_by_the_customer() -> None:
    from remit.bootstrap import services
    from remit.domain.customer import CustomerChanges

    account_id, organisation_id = account_with_user("tia@example.com", "Tia Ltd")
    customer = new_customer(account_id, organisation_id)
    # The change the portal's details page makes, as the signed-in customer.
    services().customers.update_by_customer(
        organisation_id, customer.id, CustomerChanges(tax_id="DE136695976")
    )
    browser = signed_in("tia@example.com")

    page = browser.request("GET", f"/dashboard/organisations/{organisation_id}/customers/{customer.id}")[
        "body"
    ]

    updated, created = customer_events(account_id, organisation_id, customer.id)[::-1]
    assert updated.type == "customer.updated"
    assert updated.source == "portal"
    assert created.source is None
    newest, oldest = timeline_rows(page)
    assert "Details changed: tax id" in newest
    assert "by the customer in the portal" in newest
    assert "Created" in oldest
    assert "by the customer in the portal" not in oldest


def test_an_edit_by_the_organisation_has_no_source_and_no_portal_marker() -> None:
    from remit.bootstrap import services
    from remit.domain.customer import CustomerChanges

    account_id, organisation_id = account_with_user("uma@example.com", "Uma Ltd")
    customer = new_customer(account_id, organisation_id)
    services().customers.update(
        account_id, organisation_id, customer.id, CustomerChanges(send_reminders=False)
    )
    browser = signed_in("uma@example.com")

    page = browser.request("GET", f"/dashboard/organisations/{organisation_id}/customers/{customer.id}")[
        "body"
    ]

    assert [event.source for event in customer_events(account_id, organisation_id, customer.id)] == [
        None,
        None,
    ]
    newest, _ = timeline_rows(page)
    assert "Details changed: reminders" in newest
    assert "your organisation" in newest
    assert "portal" not in newest


def test_cards_changed_in_the_portal_are_marked_and_those_changed_in_the_dashboard_are_not() -> None:
    from remit.bootstrap import services

    account_id, organisation_id = account_with_user("vic@example.com", "Vic Ltd")
    customer = customer_with_cards(account_id, organisation_id, "visa", "visa")
    everything = services()
    first, second = everything.saved_cards.list_cards(organisation_id, customer.id)
    everything.saved_cards.set_default_card(organisation_id, customer.id, second.id)  # in the portal
    everything.saved_cards.make_default(account_id, organisation_id, customer.id, first.id)  # dashboard
    browser = signed_in("vic@example.com")

    page = browser.request("GET", f"/dashboard/organisations/{organisation_id}/customers/{customer.id}")[
        "body"
    ]

    sources = [event.source for event in customer_events(account_id, organisation_id, customer.id)]
    assert sources == [None, "portal", "portal", "portal", None]
    rows = timeline_rows(page)
    assert [("Saved cards changed" in row, "by the customer in the portal" in row) for row in rows] == [
        (True, False),
        (True, True),
        (True, True),
        (True, True),
        (False, False),
    ]


def test_hostile_names_and_values_on_the_timeline_are_inert() -> None:
    from remit.bootstrap import services
    from remit.domain.customer import CustomerChanges

    account_id, organisation_id = account_with_user("wes@example.com", "Wes Ltd")
    customer = new_customer(account_id, organisation_id, name='<script>alert("name")</script>')
    services().customers.update_by_customer(
        organisation_id, customer.id, CustomerChanges(tax_id='<img src=x onerror="alert(1)">')
    )
    browser = signed_in("wes@example.com")

    page = browser.request("GET", f"/dashboard/organisations/{organisation_id}/customers/{customer.id}")[
        "body"
    ]

    assert '<script>alert("name")</script>' not in page
    assert "<img src=x" not in page
    assert "Details changed: tax id" in timeline_rows(page)[0]


def test_another_organisations_customer_and_its_timeline_are_not_found() -> None:
    from remit.bootstrap import services
    from remit.domain.errors import NotFound

    theirs_account, theirs_org = account_with_user("xan@example.com", "Xan Ltd")
    theirs = new_customer(theirs_account, theirs_org)
    account_id, organisation_id = account_with_user("yve@example.com", "Yve Ltd")
    browser = signed_in("yve@example.com")

    own_path = f"/dashboard/organisations/{organisation_id}/customers/{theirs.id}"
    their_path = f"/dashboard/organisations/{theirs_org}/customers/{theirs.id}"

    assert browser.request("GET", own_path)["statusCode"] == 404
    assert browser.request("GET", their_path)["statusCode"] == 404
    assert services().events.customer_timeline(account_id, organisation_id, theirs.id, 20) == []
    with pytest.raises(NotFound):
        services().events.customer_timeline(account_id, theirs_org, theirs.id, 20)
