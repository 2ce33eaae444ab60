"""The dashboard's billing templates: the list, a new one, its page, its edit form, delete, and an
invoice sent from it to a customer, each seen through the services the API reads.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.dashboard_browser import Browser, account_with_user, signed_in, text_of
from tests.integration.test_dashboard_subscriptions import customer

pytestmark = pytest.mark.usefixtures("user_pool")


def template(account_id: str, organisation_id: str, name: str = "Monthly support", **fields: Any) -> str:
    from remit.bootstrap import services
    from remit.domain.billing_template import NewBillingTemplate

    new = NewBillingTemplate.model_validate(
        {
            "name": name,
            "currency": "EUR",
            "line_items": [{"description": "Support", "unit_amount": 9900}],
            **fields,
        }
    )
    return services().billing_runs.create_template(account_id, organisation_id, new).id


def stored(account_id: str, organisation_id: str, template_id: str) -> Any:
    from remit.bootstrap import services

    return services().billing_runs.template(account_id, organisation_id, template_id)


def setup(email: str) -> tuple[str, str, Browser]:
    account_id, organisation_id = account_with_user(email, "Ada Ltd")
    return account_id, organisation_id, signed_in(email)


def path(organisation_id: str, *parts: str) -> str:
    return "/".join([f"/dashboard/organisations/{organisation_id}/templates", *parts])


def test_the_list_shows_each_template_and_links_its_page() -> None:
    account_id, organisation_id, browser = setup("ann@example.com")
    made = template(account_id, organisation_id)

    page = browser.request("GET", path(organisation_id))

    assert page["statusCode"] == 200
    assert f'href="{path(organisation_id, made)}"' in page["body"]
    assert "Monthly support EUR 1 €99.00" in text_of(page["body"])
    assert 'aria-current="page">Templates<' in page["body"]


def test_a_new_template_is_created_from_the_apis_model_with_amounts_in_major_units() -> None:
    account_id, organisation_id, browser = setup("ben@example.com")
    form = browser.request("GET", path(organisation_id, "new"))
    for name in (
        "name",
        "currency",
        "line_items.0.description",
        "line_items.1.unit_amount",
        "days_until_due",
        "memo",
    ):
        assert f'name="{name}"' in form["body"], name

    response = browser.post(
        path(organisation_id, "new"),
        {
            "name": "Yearly audit",
            "currency": "EUR",
            "line_items.0.description": "Audit",
            "line_items.0.unit_amount": "1200.50",
            "line_items.0.tax_rate": "19",
            "days_until_due": "30",
            "memo": "Thanks",
        },
        confirmed=False,
    )

    assert response["statusCode"] == 303
    made = stored(account_id, organisation_id, response["headers"]["Location"].rsplit("/", 1)[-1])
    assert (made.name, made.currency, made.days_until_due, made.memo) == ("Yearly audit", "EUR", 30, "Thanks")
    assert (made.line_items[0].unit_amount, str(made.line_items[0].tax_rate)) == (120050, "19")
    page = browser.request("GET", response["headers"]["Location"])
    text = text_of(page["body"])
    assert "Template Yearly audit created." in text
    assert "Audit 1 €1,200.50 19 %" in text
    assert "Days until due 30" in text


def test_a_refused_template_shows_the_message_next_to_its_field_and_creates_nothing() -> None:
    from remit.bootstrap import services

    account_id, organisation_id, browser = setup("cal@example.com")

    response = browser.post(
        path(organisation_id, "new"),
        {
            "name": "Bad",
            "currency": "JPY",
            "line_items.0.description": "X",
            "line_items.0.unit_amount": "1.5",
        },
    )

    assert response["statusCode"] == 422
    assert 'id="f-line_items-0-unit_amount-error"' in response["body"]
    assert 'value="1.5"' in response["body"]
    assert services().billing_runs.list_templates(account_id, organisation_id, 10, None).items == []


def test_the_edit_form_saves_through_the_apis_patch() -> None:
    account_id, organisation_id, browser = setup("dee@example.com")
    made = template(account_id, organisation_id, memo="Old memo")
    form = browser.request("GET", path(organisation_id, made, "edit"))
    assert 'value="99.00"' in form["body"]
    assert 'value="Old memo"' in form["body"]

    response = browser.post(
        path(organisation_id, made, "edit"),
        {
            "name": "Premium support",
            "currency": "EUR",
            "line_items.0.description": "Premium support",
            "line_items.0.unit_amount": "149",
            "days_until_due": "",
            "memo": "",
        },
        confirmed=False,
    )

    assert response["statusCode"] == 303
    changed = stored(account_id, organisation_id, made)
    assert (changed.name, changed.memo, changed.line_items[0].unit_amount) == ("Premium support", None, 14900)
    assert "Template Premium support saved." in text_of(
        browser.request("GET", path(organisation_id, made))["body"]
    )


def test_a_refused_edit_shows_the_message_and_changes_nothing() -> None:
    account_id, organisation_id, browser = setup("eva@example.com")
    made = template(account_id, organisation_id)
    before = stored(account_id, organisation_id, made)

    response = browser.post(path(organisation_id, made, "edit"), {"name": "", "currency": "EURO"})

    assert response["statusCode"] == 422
    assert 'id="f-currency-error"' in response["body"]
    assert stored(account_id, organisation_id, made) == before


def test_delete_is_confirmed_then_removes_the_template() -> None:
    from remit.bootstrap import services

    account_id, organisation_id, browser = setup("fay@example.com")
    made = template(account_id, organisation_id)
    page = browser.request("GET", path(organisation_id, made))
    assert f'action="{path(organisation_id, made, "delete")}"' in page["body"]

    question = browser.post(path(organisation_id, made, "delete"), confirmed=False)
    assert "Delete template Monthly support?" in text_of(question["body"])
    assert stored(account_id, organisation_id, made).id == made

    response = browser.post(path(organisation_id, made, "delete"))
    assert response["statusCode"] == 303
    assert services().billing_runs.list_templates(account_id, organisation_id, 10, None).items == []
    assert "Template Monthly support deleted." in text_of(
        browser.request("GET", path(organisation_id))["body"]
    )


def test_an_invoice_is_sent_from_the_template_to_a_customer_and_linked() -> None:
    from remit.bootstrap import services

    account_id, organisation_id, browser = setup("gus@example.com")
    made = template(account_id, organisation_id)
    globex = customer(account_id, organisation_id, "Globex")
    customer(account_id, organisation_id, "Dollar", currency="USD")
    page = browser.request("GET", path(organisation_id, made))
    assert f'<option value="{globex}">Globex (EUR)</option>' in page["body"]
    assert "Dollar (USD)" not in page["body"]  # only the customers billed in the template's currency

    question = browser.post(path(organisation_id, made, "send"), {"customer_id": globex}, confirmed=False)
    assert "Send an invoice from template Monthly support to Globex?" in text_of(question["body"])
    assert services().invoices.list_invoices(account_id, organisation_id, 10, None, None, None).items == []

    response = browser.post(path(organisation_id, made, "send"), {"customer_id": globex})

    assert response["statusCode"] == 303
    (invoice,) = services().invoices.list_invoices(account_id, organisation_id, 10, None, None, None).items
    assert (invoice.customer_id, invoice.status, invoice.source, invoice.total) == (
        globex,
        "open",
        "template",
        9900,
    )
    assert invoice.sent_at is not None
    page = browser.request("GET", response["headers"]["Location"])
    assert f"Invoice {invoice.number} sent to Globex." in text_of(page["body"])
    assert f'href="/dashboard/organisations/{organisation_id}/invoices/{invoice.id}"' in page["body"]


def test_sending_to_a_customer_of_another_currency_shows_the_apis_message_and_sends_nothing() -> None:
    from remit.bootstrap import services

    account_id, organisation_id, browser = setup("hal@example.com")
    made = template(account_id, organisation_id)
    dollar = customer(account_id, organisation_id, "Dollar", currency="USD")

    response = browser.post(path(organisation_id, made, "send"), {"customer_id": dollar})

    assert response["statusCode"] == 422
    assert 'id="f-customer_id-error"' in response["body"]
    assert "the customer is billed in USD, the template in EUR" in response["body"]
    assert services().invoices.list_invoices(account_id, organisation_id, 10, None, None, None).items == []


def test_a_post_without_the_csrf_token_changes_nothing() -> None:
    account_id, organisation_id, browser = setup("ida@example.com")
    made = template(account_id, organisation_id)

    response = browser.request("POST", path(organisation_id, made, "delete"), {"confirmed": "yes"})

    assert response["statusCode"] == 403
    assert stored(account_id, organisation_id, made).id == made


def test_another_organisations_template_and_customer_are_not_found() -> None:
    from remit.bootstrap import services

    account_id, organisation_id, browser = setup("jon@example.com")
    other_account, other_organisation = account_with_user("kim@example.com", "Other Ltd")
    theirs = template(other_account, other_organisation)
    their_customer = customer(other_account, other_organisation)
    mine = template(account_id, organisation_id)

    assert browser.request("GET", path(organisation_id, theirs))["statusCode"] == 404
    assert browser.request("GET", path(organisation_id, theirs, "edit"))["statusCode"] == 404
    assert browser.post(path(organisation_id, theirs, "delete"))["statusCode"] == 404
    assert browser.request("GET", path(other_organisation))["statusCode"] == 404
    refused = browser.post(path(organisation_id, mine, "send"), {"customer_id": their_customer})
    assert refused["statusCode"] == 422
    assert stored(other_account, other_organisation, theirs).id == theirs
    assert (
        services().invoices.list_invoices(other_account, other_organisation, 10, None, None, None).items == []
    )
