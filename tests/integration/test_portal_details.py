"""A signed-in customer edits its billing address, tax id, its contacts' email preferences and
opts out of reminders, through the customer service: the same validation and events as the API.
"""

from __future__ import annotations

import pytest

from tests.integration.api_client import ApiClient
from tests.integration.billing import Billing
from tests.integration.conftest import SettableClock
from tests.integration.portal_browser import PortalBrowser, sign_in_links

FORM = {
    "address.line1": "1 Main Street",
    "address.line2": "",
    "address.postal_code": "10115",
    "address.city": "Berlin",
    "address.state": "",
    "address.country": "DE",
    "tax_id": "DE136695976",
}


@pytest.fixture
def acme(api: ApiClient, clock: SettableClock) -> Billing:
    billing = Billing(api, email="billing@acme.test")
    response = api.patch(
        f"{billing.base}/customers/{billing.customer}",
        {"contacts": [{"name": "CEO", "email": "ceo@globex.test", "preferences": ["updates"]}]},
    )
    assert response.status == 200, response.body
    return billing


def signed_in(billing: Billing) -> PortalBrowser:
    browser = PortalBrowser()
    browser.ask_for_link(billing.org, "ap@globex.test")
    [message] = sign_in_links(billing.org)
    assert browser.sign_in_with(message["link"]).status == 303
    return browser


def customer(acme: Billing) -> dict[str, object]:
    response = acme.api.get(f"{acme.base}/customers/{acme.customer}")
    assert response.status == 200
    return dict(response.json())


def test_a_customer_changes_its_address_tax_id_and_opts_out_of_reminders(acme: Billing) -> None:
    browser = signed_in(acme)
    assert browser.get(f"/p/{acme.org}/details").status == 200

    response = browser.post(f"/p/{acme.org}/details", {**FORM, "no_reminders": "1"})

    assert response.status == 303, browser.last_page
    assert response.headers["Location"] == f"/p/{acme.org}/details?saved=1"
    shown = customer(acme)
    assert shown["address"] == {
        "line1": "1 Main Street",
        "line2": None,
        "postal_code": "10115",
        "city": "Berlin",
        "state": None,
        "country": "DE",
    }
    assert shown["tax_id"] == "DE136695976"
    assert shown["send_reminders"] is False
    # ...recorded as any change of the customer is: a customer.updated event, made by the customer
    events = acme.api.get(f"{acme.base}/events?type=customer.updated&object_id={acme.customer}").json()[
        "data"
    ]
    assert events[-1]["data"]["send_reminders"] is False
    assert events[-1]["source"] == "portal"


def test_an_edit_through_the_api_has_no_source(acme: Billing) -> None:
    response = acme.api.patch(f"{acme.base}/customers/{acme.customer}", {"tax_id": "DE136695976"})

    assert response.status == 200
    events = acme.api.get(f"{acme.base}/events?type=customer.updated&object_id={acme.customer}").json()[
        "data"
    ]
    assert events[-1]["data"]["tax_id"] == "DE136695976"
    assert events[-1]["source"] is None


def test_a_customer_sets_its_contacts_email_preferences(acme: Billing) -> None:
    [contact] = customer(acme)["contacts"]  # type: ignore[misc]
    browser = signed_in(acme)
    browser.get(f"/p/{acme.org}/details")

    response = browser.post(
        f"/p/{acme.org}/details",
        {**FORM, "contact": contact["id"], f"preferences.{contact['id']}": ["billing", "legal"]},
    )

    assert response.status == 303
    [changed] = customer(acme)["contacts"]  # type: ignore[misc]
    assert changed["id"] == contact["id"]
    assert changed["preferences"] == ["billing", "legal"]
    assert customer(acme)["send_reminders"] is True


def test_an_invalid_country_is_refused_naming_the_field_and_nothing_changes(acme: Billing) -> None:
    before = customer(acme)
    browser = signed_in(acme)
    browser.get(f"/p/{acme.org}/details")

    response = browser.post(f"/p/{acme.org}/details", {**FORM, "address.country": "<script>x</script>"})

    assert response.status == 422
    assert 'id="address.country-problem"' in browser.last_page
    assert "<script>x</script>" not in browser.last_page
    assert customer(acme) == before


def test_a_forged_form_changes_nothing(acme: Billing) -> None:
    before = customer(acme)
    browser = signed_in(acme)

    assert browser.post(f"/p/{acme.org}/details", {**FORM, "no_reminders": "1"}, csrf="forged").status == 403
    assert customer(acme) == before


def test_unknown_contact_ids_are_ignored(acme: Billing) -> None:
    browser = signed_in(acme)
    browser.get(f"/p/{acme.org}/details")

    response = browser.post(
        f"/p/{acme.org}/details", {**FORM, "contact": "ctc_other", "preferences.ctc_other": "billing"}
    )

    assert response.status == 303
    assert [c["email"] for c in customer(acme)["contacts"]] == ["ceo@globex.test"]  # type: ignore[attr-defined]
