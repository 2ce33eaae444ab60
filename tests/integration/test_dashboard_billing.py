"""The dashboard's billing: the customers to bill, a customer's open charges, drafting an invoice from
the selected charges or from all of them (confirmed), adding a charge; refusals change nothing.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.dashboard_browser import account_with_user, signed_in, text_of
from tests.integration.test_dashboard_customers import add_customer, org_path

pytestmark = pytest.mark.usefixtures("user_pool")


def add_charge(account_id: str, organisation_id: str, customer_id: str, description: str, amount: int) -> Any:
    from remit.bootstrap import services
    from remit.domain.charge import NewCharge

    return services().charges.create(
        account_id, organisation_id, customer_id, NewCharge(description=description, unit_amount=amount)
    )


def open_charges(account_id: str, organisation_id: str, customer_id: str) -> list[str]:
    from remit.bootstrap import services

    page = services().charges.list_charges(account_id, organisation_id, customer_id, 50, None, "open")
    return [charge.description for charge in page.items]


def invoices_of(account_id: str, organisation_id: str, customer_id: str) -> list[Any]:
    from remit.bootstrap import services

    return services().invoices.list_invoices(account_id, organisation_id, 50, None, None, customer_id).items


def test_the_billing_page_lists_customers_with_the_search_and_links_each_ones_charges() -> None:
    account_id, organisation_id = account_with_user("ada@example.com")
    globex = add_customer(account_id, organisation_id, "Globex GmbH")
    add_customer(account_id, organisation_id, "Initech")
    browser = signed_in("ada@example.com")

    page = browser.request("GET", org_path(organisation_id, "billing"))
    searched = browser.request("GET", org_path(organisation_id, "billing?q=glob"))

    assert page["statusCode"] == 200
    assert "Globex GmbH" in text_of(page["body"])
    assert "Initech" in text_of(page["body"])
    assert f'href="{org_path(organisation_id, "billing", globex.id)}"' in page["body"]
    assert 'aria-current="page">Billing<' in page["body"]
    assert "Globex GmbH" in text_of(searched["body"])
    assert "Initech" not in text_of(searched["body"])


def test_a_customers_billing_page_shows_its_open_charges_with_checkboxes() -> None:
    account_id, organisation_id = account_with_user("bob@example.com")
    customer = add_customer(account_id, organisation_id)
    storage = add_charge(account_id, organisation_id, customer.id, "Storage", 1500)
    browser = signed_in("bob@example.com")

    page = browser.request("GET", org_path(organisation_id, "billing", customer.id))

    assert page["statusCode"] == 200
    assert "Storage" in text_of(page["body"])
    assert "€15.00" in text_of(page["body"])
    assert f'name="charge_ids" value="{storage.id}"' in page["body"]
    assert "Draft an invoice from selected" in page["body"]
    assert "Draft from all open charges" in page["body"]
    assert 'id="f-charge-unit_amount"' in page["body"]  # add a charge
    assert page["body"].count("<h1") == 1


def test_an_invoice_is_drafted_from_the_selected_charges_after_confirmation() -> None:
    account_id, organisation_id = account_with_user("cy@example.com")
    customer = add_customer(account_id, organisation_id)
    storage = add_charge(account_id, organisation_id, customer.id, "Storage", 1500)
    add_charge(account_id, organisation_id, customer.id, "Support", 2500)
    browser = signed_in("cy@example.com")
    path = org_path(organisation_id, "billing", customer.id, "draft")

    asked = browser.post(path, {"charge_ids": storage.id}, confirmed=False)
    assert asked["statusCode"] == 200
    assert "Draft an invoice to Globex GmbH from 1 selected charge?" in text_of(asked["body"])
    assert f'name="charge_ids" value="{storage.id}"' in asked["body"]  # re-posted once confirmed
    assert invoices_of(account_id, organisation_id, customer.id) == []

    drafted = browser.post(path, {"charge_ids": storage.id})

    assert drafted["statusCode"] == 303
    (invoice,) = invoices_of(account_id, organisation_id, customer.id)
    assert drafted["headers"]["Location"] == org_path(organisation_id, "invoices", invoice.id)
    assert invoice.status == "draft"
    assert [line.charge_id for line in invoice.line_items] == [storage.id]
    assert open_charges(account_id, organisation_id, customer.id) == ["Support"]


def test_an_invoice_is_drafted_from_all_open_charges() -> None:
    account_id, organisation_id = account_with_user("di@example.com")
    customer = add_customer(account_id, organisation_id)
    add_charge(account_id, organisation_id, customer.id, "Storage", 1500)
    add_charge(account_id, organisation_id, customer.id, "Support", 2500)
    browser = signed_in("di@example.com")

    drafted = browser.post(
        org_path(organisation_id, "billing", customer.id, "draft"), {"include_open_charges": "true"}
    )

    assert drafted["statusCode"] == 303
    (invoice,) = invoices_of(account_id, organisation_id, customer.id)
    assert invoice.total == 4000
    assert len(invoice.line_items) == 2
    assert open_charges(account_id, organisation_id, customer.id) == []


def test_drafting_with_nothing_selected_is_refused_and_drafts_nothing() -> None:
    account_id, organisation_id = account_with_user("ed@example.com")
    customer = add_customer(account_id, organisation_id)
    add_charge(account_id, organisation_id, customer.id, "Storage", 1500)
    browser = signed_in("ed@example.com")

    response = browser.post(org_path(organisation_id, "billing", customer.id, "draft"), {})

    assert response["statusCode"] == 422
    assert "Select at least one charge" in text_of(response["body"])
    assert invoices_of(account_id, organisation_id, customer.id) == []


def test_a_charge_already_invoiced_is_refused_with_the_apis_message_and_nothing_changes() -> None:
    from remit.bootstrap import services
    from remit.domain.invoice import NewInvoice

    account_id, organisation_id = account_with_user("flo@example.com")
    customer = add_customer(account_id, organisation_id)
    storage = add_charge(account_id, organisation_id, customer.id, "Storage", 1500)
    add_charge(account_id, organisation_id, customer.id, "Support", 2500)
    first = services().invoices.create_draft(
        account_id, organisation_id, NewInvoice(customer_id=customer.id, charge_ids=[storage.id])
    )
    browser = signed_in("flo@example.com")

    response = browser.post(
        org_path(organisation_id, "billing", customer.id, "draft"), {"charge_ids": storage.id}
    )

    assert response["statusCode"] == 409
    assert f"Charge {storage.id} is already on invoice {first.id}." in text_of(response["body"])
    assert [invoice.id for invoice in invoices_of(account_id, organisation_id, customer.id)] == [first.id]
    assert open_charges(account_id, organisation_id, customer.id) == ["Support"]


def test_a_charge_added_from_the_billing_page_returns_to_it() -> None:
    account_id, organisation_id = account_with_user("gil@example.com")
    customer = add_customer(account_id, organisation_id)
    browser = signed_in("gil@example.com")

    added = browser.post(
        org_path(organisation_id, "customers", customer.id, "charges"),
        {"charge.description": "Setup", "charge.unit_amount": "99", "return_to": "billing"},
    )
    refused = browser.post(
        org_path(organisation_id, "customers", customer.id, "charges"),
        {"charge.description": "", "charge.unit_amount": "99", "return_to": "billing"},
    )

    assert added["statusCode"] == 303
    assert added["headers"]["Location"] == org_path(organisation_id, "billing", customer.id)
    assert open_charges(account_id, organisation_id, customer.id) == ["Setup"]
    assert refused["statusCode"] == 422
    assert 'id="f-charge-description-error"' in refused["body"]
    assert "Billing Globex GmbH" in text_of(refused["body"])


def test_another_organisations_customer_and_charges_are_not_found() -> None:
    account_id, organisation_id = account_with_user("hue@example.com")
    mine = add_customer(account_id, organisation_id, "Mine")
    other_account, other_org = account_with_user("ivy@example.com", "Other Ltd")
    theirs = add_customer(other_account, other_org, "Theirs")
    their_charge = add_charge(other_account, other_org, theirs.id, "Theirs", 1000)
    browser = signed_in("hue@example.com")

    assert browser.request("GET", org_path(organisation_id, "billing", theirs.id))["statusCode"] == 404
    assert browser.request("GET", org_path(other_org, "billing"))["statusCode"] == 404
    drafted = browser.post(
        org_path(organisation_id, "billing", theirs.id, "draft"), {"include_open_charges": "true"}
    )
    assert drafted["statusCode"] == 404
    stolen = browser.post(
        org_path(organisation_id, "billing", mine.id, "draft"), {"charge_ids": their_charge.id}
    )
    assert stolen["statusCode"] == 422
    assert "no charge" in text_of(stolen["body"])
    assert invoices_of(account_id, organisation_id, mine.id) == []
    assert open_charges(other_account, other_org, theirs.id) == ["Theirs"]


def test_a_draft_posted_without_its_csrf_token_changes_nothing() -> None:
    account_id, organisation_id = account_with_user("jan@example.com")
    customer = add_customer(account_id, organisation_id)
    add_charge(account_id, organisation_id, customer.id, "Storage", 1500)
    browser = signed_in("jan@example.com")

    response = browser.request(
        "POST",
        org_path(organisation_id, "billing", customer.id, "draft"),
        {"include_open_charges": "true", "confirmed": "yes"},
    )

    assert response["statusCode"] == 403
    assert invoices_of(account_id, organisation_id, customer.id) == []


def test_every_billing_page_has_clean_markup() -> None:
    from tests.integration.test_dashboard_customers import markup_problems

    account_id, organisation_id = account_with_user("kim@example.com")
    customer = add_customer(account_id, organisation_id)
    add_charge(account_id, organisation_id, customer.id, "Storage", 1500)
    browser = signed_in("kim@example.com")

    for path in [org_path(organisation_id, "billing"), org_path(organisation_id, "billing", customer.id)]:
        page = browser.request("GET", path)
        assert page["statusCode"] == 200
        assert markup_problems(page["body"]) == [], path
