"""The dashboard's customers: list and search, new (page and dialog), profile, edit, delete, charges,
credit balance; each change visible through the services, each refusal shown, nothing changed by it.
"""

from __future__ import annotations

import copy
import json
import re
import uuid
from decimal import Decimal
from typing import Any

import pytest

from tests.integration.dashboard_browser import SAMPLE, Browser, account_with_user, signed_in, text_of

pytestmark = pytest.mark.usefixtures("user_pool")


def org_path(organisation_id: str, *parts: str) -> str:
    return "/".join([f"/dashboard/organisations/{organisation_id}", *parts])


def add_customer(account_id: str, organisation_id: str, name: str = "Globex GmbH", **fields: Any) -> Any:
    from remit.bootstrap import services
    from remit.domain.customer import NewCustomer

    new = NewCustomer.model_validate({"name": name, "email": "ap@globex.test", **fields})
    return services().customers.create(account_id, organisation_id, new)


def customer_of(account_id: str, organisation_id: str, customer_id: str) -> Any:
    from remit.bootstrap import services

    return services().customers.get(account_id, organisation_id, customer_id)


def htmx_get(browser: Browser, path: str) -> dict[str, Any]:
    """A GET as htmx sends it for an `hx-get` (not boosted)."""
    from dashboard.app import lambda_handler
    from tests.integration.api_client import LambdaContext

    event: dict[str, Any] = copy.deepcopy(json.loads(SAMPLE.read_text()))
    event.update(httpMethod="GET", path=path, body=None, queryStringParameters=None)
    event["headers"]["Cookie"] = "; ".join(f"{name}={value}" for name, value in browser.cookies.items())
    event["headers"]["HX-Request"] = "true"
    event["requestContext"].update(requestId=str(uuid.uuid4()), path=path)
    response: dict[str, Any] = lambda_handler(event, LambdaContext(str(uuid.uuid4()), "remit-dashboard"))
    return response


# List and search ---------------------------------------------------------------------------------


def test_the_list_shows_each_customers_name_email_currency_and_balance() -> None:
    from remit.bootstrap import services
    from remit.domain.payment import NewBalanceTransaction

    account_id, organisation_id = account_with_user("ann@example.com")
    globex = add_customer(account_id, organisation_id, "Globex GmbH", currency="CHF")
    add_customer(account_id, organisation_id, "Initech", email="billing@initech.test")
    services().payments.adjust_balance(
        account_id, organisation_id, globex.id, NewBalanceTransaction(amount=12345)
    )
    browser = signed_in("ann@example.com")

    page = browser.request("GET", org_path(organisation_id, "customers"))

    assert page["statusCode"] == 200
    text = text_of(page["body"])
    assert "Globex GmbH ap@globex.test CHF" in text
    assert "123.45" in text.split("Globex GmbH")[-1].split("Initech")[0]
    assert "Initech billing@initech.test EUR" in text
    assert f'href="{org_path(organisation_id, "customers", globex.id)}"' in page["body"]
    assert 'aria-current="page">Customers<' in page["body"]


def test_the_search_finds_customers_by_name_prefix_or_external_id() -> None:
    account_id, organisation_id = account_with_user("bea@example.com")
    add_customer(account_id, organisation_id, "Émile Zola SARL")
    add_customer(account_id, organisation_id, "Emilia Bakery", external_ids=["crm-7"])
    add_customer(account_id, organisation_id, "Globex GmbH")
    browser = signed_in("bea@example.com")

    by_name = text_of(browser.request("GET", org_path(organisation_id, "customers?q=EMIL"))["body"])
    by_id = text_of(browser.request("GET", org_path(organisation_id, "customers?external_id=crm-7"))["body"])
    nothing = text_of(browser.request("GET", org_path(organisation_id, "customers?q=zzz"))["body"])

    assert "Emilia Bakery" in by_name
    assert "Émile Zola SARL" in by_name
    assert "Globex" not in by_name
    assert by_name.index("Émile Zola SARL") < by_name.index("Emilia Bakery")  # name order: emile < emilia
    assert "Emilia Bakery" in by_id
    assert "Émile" not in by_id
    assert "No customer matches this search." in nothing


def test_the_list_reads_one_page_and_links_the_next() -> None:
    account_id, organisation_id = account_with_user("cai@example.com")
    for index in range(21):
        add_customer(account_id, organisation_id, f"Shop {index:02}")
    browser = signed_in("cai@example.com")

    first = browser.request("GET", org_path(organisation_id, "customers?q=shop"))
    start = first["body"].index('<nav class="pager"')
    link = first["body"][first["body"].index('href="', start) + 6 : first["body"].index('">Next page', start)]
    second = browser.request("GET", link.replace("&amp;", "&"))

    assert "Shop 19" in text_of(first["body"])
    assert "Shop 20" not in text_of(first["body"])
    assert "Shop 20" in text_of(second["body"])
    assert "Shop 00" not in text_of(second["body"])
    assert "Next page" not in text_of(second["body"])


# New customer ------------------------------------------------------------------------------------


def test_the_new_customer_form_has_every_field_of_the_apis_model_and_opens_as_a_dialog_with_htmx() -> None:
    _, organisation_id = account_with_user("dan@example.com")
    browser = signed_in("dan@example.com")

    page = browser.request("GET", org_path(organisation_id, "customers", "new"))
    dialog = htmx_get(browser, org_path(organisation_id, "customers", "new"))
    listing = browser.request("GET", org_path(organisation_id, "customers"))

    assert page["statusCode"] == 200
    for field in [
        "name",
        "email",
        "first_name",
        "last_name",
        "country",
        "currency",
        "preferred_locale",
        "address-line1",
        "address-postal_code",
        "tax_rate",
        "tax_id",
        "vat_id",
        "tax_treatment",
        "electronic_address-scheme",
        "electronic_address-id",
        "buyer_reference",
        "einvoice_format",
        "external_ids",
        "invoicing_flow",
        "payment_terms_days",
        "auto_pay",
        "send_reminders",
        "billing_cycle",
        "contacts-0-email",
        "contacts-0-name",
        "metadata",
    ]:
        assert f'id="f-{field}"' in page["body"], field
    assert 'name="contacts.0.preferences" value="billing"' in page["body"]
    assert page["body"].count("<h1") == 1
    assert dialog["statusCode"] == 200
    assert dialog["body"].lstrip().startswith("<dialog open")
    assert "<html" not in dialog["body"]
    assert 'id="f-contacts-0-email"' in dialog["body"]
    assert 'hx-get="' in listing["body"]
    assert 'hx-target="#dialog"' in listing["body"]
    assert 'hx-push-url="false"' in listing["body"]


def test_a_new_customer_is_created_with_every_field_and_shown_on_its_profile() -> None:
    from remit.bootstrap import services

    account_id, organisation_id = account_with_user("eve@example.com")
    browser = signed_in("eve@example.com")

    response = browser.post(
        org_path(organisation_id, "customers"),
        [
            ("name", "Globex GmbH"),
            ("email", "ap@globex.test"),
            ("first_name", "Hank"),
            ("last_name", "Scorpio"),
            ("country", "DE"),
            ("currency", "CHF"),
            ("preferred_locale", "de-DE"),
            ("address.line1", "Hauptstraße 1"),
            ("address.city", "Köln"),
            ("address.postal_code", "50667"),
            ("address.country", "DE"),
            ("tax_rate", "19"),
            ("tax_id", "DE136695976"),
            ("vat_id", "fr 40 303 265 045"),
            ("tax_treatment", "reverse_charge"),
            ("electronic_address.scheme", "0204"),
            ("electronic_address.id", "991-12345-67"),
            ("buyer_reference", "991-12345-67"),
            ("einvoice_format", "xrechnung_ubl"),
            ("external_ids", "crm-1\nerp-2"),
            ("invoicing_flow", "manual"),
            ("payment_terms_days", "14"),
            ("auto_pay", "false"),
            ("send_reminders", "false"),
            ("billing_cycle", "monthly"),
            ("contacts.0.name", "Marge"),
            ("contacts.0.email", "marge@globex.test"),
            ("contacts.0.preferences.present", "1"),
            ("contacts.0.preferences", "billing"),
            ("contacts.0.preferences", "legal"),
            ("metadata", "plan: gold\nregion: eu"),
        ],
    )

    assert response["statusCode"] == 303
    (customer,) = services().customers.list(account_id, organisation_id, 10, None, None).items
    assert response["headers"]["Location"] == org_path(organisation_id, "customers", customer.id)
    assert customer.currency == "CHF"
    assert customer.preferred_locale == "de-DE"
    assert customer.address is not None
    assert customer.address.city == "Köln"
    assert customer.tax_rate == Decimal("19")
    assert customer.tax_id == "DE136695976"
    assert (customer.vat_id, customer.tax_treatment) == ("FR40303265045", "reverse_charge")
    assert customer.electronic_address is not None
    assert (customer.electronic_address.scheme, customer.electronic_address.id) == ("0204", "991-12345-67")
    assert (customer.buyer_reference, customer.einvoice_format) == ("991-12345-67", "xrechnung_ubl")
    assert customer.external_ids == ["crm-1", "erp-2"]
    assert (customer.invoicing_flow, customer.payment_terms_days, customer.send_reminders) == (
        "manual",
        14,
        False,
    )
    assert customer.billing_cycle == "monthly"
    assert [(c.email, c.preferences) for c in customer.contacts] == [
        ("marge@globex.test", ["billing", "legal"])
    ]
    assert customer.metadata == {"plan": "gold", "region": "eu"}
    profile = browser.request("GET", response["headers"]["Location"])
    text = text_of(profile["body"])
    assert "Customer Globex GmbH created." in text
    for shown in [
        "Hank",
        "Scorpio",
        "Hauptstraße 1",
        "Köln",
        "DE136695976",
        "crm-1",
        "marge@globex.test",
        "FR40303265045",
        "Reverse charge",
        "xrechnung_ubl",
        "0204: 991-12345-67",
    ]:
        assert shown in text, shown
    assert "billing, legal" in text
    assert "plan gold" in text
    assert "Opted out" in text


def test_a_refused_new_customer_shows_the_apis_message_next_to_the_field_and_creates_nothing() -> None:
    from remit.bootstrap import services

    account_id, organisation_id = account_with_user("fay@example.com")
    browser = signed_in("fay@example.com")

    refused = browser.post(
        org_path(organisation_id, "customers"), {"name": "Globex", "email": "not-an-email", "country": "DE"}
    )
    bad_metadata = browser.post(
        org_path(organisation_id, "customers"),
        {"name": "Globex", "email": "ap@globex.test", "metadata": "no colon here"},
    )

    assert refused["statusCode"] == 422
    assert 'id="f-email-error"' in refused["body"]
    assert 'value="Globex"' in refused["body"]
    assert bad_metadata["statusCode"] == 422
    assert 'id="f-metadata-error"' in bad_metadata["body"]
    for fields, named in (
        ({"vat_id": "DE136695975"}, "vat_id"),
        ({"tax_treatment": "reverse_charge"}, "tax_treatment"),
        ({"electronic_address.scheme": "0204"}, "electronic_address-id"),
    ):
        bad = browser.post(
            org_path(organisation_id, "customers"), {"name": "Globex", "email": "ap@globex.test", **fields}
        )
        assert bad["statusCode"] == 422, named
        assert f'id="f-{named}-error"' in bad["body"], named
    assert services().customers.list(account_id, organisation_id, 10, None, None).items == []


def test_a_taken_external_id_is_refused_next_to_its_field() -> None:
    from remit.bootstrap import services

    account_id, organisation_id = account_with_user("gus@example.com")
    add_customer(account_id, organisation_id, "First", external_ids=["crm-1"])
    browser = signed_in("gus@example.com")

    response = browser.post(
        org_path(organisation_id, "customers"),
        {"name": "Second", "email": "b@example.test", "external_ids": "crm-1"},
    )

    assert response["statusCode"] == 409  # the API's status for a taken external id
    assert "already belongs to another customer" in text_of(response["body"])
    assert 'id="f-external_ids-error"' in response["body"]
    assert "already in use" in response["body"]
    assert len(services().customers.list(account_id, organisation_id, 10, None, None).items) == 1


# Profile -----------------------------------------------------------------------------------------


def test_the_profile_shows_open_charges_invoices_and_the_ledger() -> None:
    from remit.bootstrap import services
    from remit.domain.charge import NewCharge
    from remit.domain.invoice import NewInvoice
    from remit.domain.payment import NewBalanceTransaction

    account_id, organisation_id = account_with_user("hal@example.com")
    customer = add_customer(account_id, organisation_id)
    services().charges.create(
        account_id, organisation_id, customer.id, NewCharge(description="Storage", unit_amount=1500)
    )
    billed = services().charges.create(
        account_id, organisation_id, customer.id, NewCharge(description="Consulting", unit_amount=90000)
    )
    invoice = services().invoices.create_draft(
        account_id, organisation_id, NewInvoice(customer_id=customer.id, charge_ids=[billed.id])
    )
    services().payments.adjust_balance(
        account_id, organisation_id, customer.id, NewBalanceTransaction(amount=5000, description="Prepayment")
    )
    browser = signed_in("hal@example.com")

    page = browser.request("GET", org_path(organisation_id, "customers", customer.id))

    assert page["statusCode"] == 200
    text = text_of(page["body"])
    assert "Storage" in text
    assert "€15.00" in text
    assert "Consulting" not in text.split("Invoices")[0].split("Open charges")[-1]  # invoiced, not open
    assert f'href="{org_path(organisation_id, "invoices", invoice.id)}"' in page["body"]
    assert "draft" in text
    assert "€900.00" in text
    assert "Prepayment" in text
    assert "adjustment" in text
    assert "€50.00" in text
    assert f'href="{org_path(organisation_id, "billing", customer.id)}"' in page["body"]
    assert page["body"].count("<h1") == 1


def test_a_charge_is_added_in_major_units_and_deleted_after_confirmation() -> None:
    from remit.bootstrap import services

    account_id, organisation_id = account_with_user("ida@example.com")
    customer = add_customer(account_id, organisation_id)
    browser = signed_in("ida@example.com")
    path = org_path(organisation_id, "customers", customer.id)

    added = browser.post(
        f"{path}/charges",
        {"charge.description": "Extra storage", "charge.quantity": "3", "charge.unit_amount": "12.50"},
    )

    assert added["statusCode"] == 303
    assert added["headers"]["Location"] == path
    (charge,) = (
        services().charges.list_charges(account_id, organisation_id, customer.id, 10, None, "open").items
    )
    assert (charge.description, charge.quantity, charge.unit_amount) == ("Extra storage", Decimal(3), 1250)
    assert "Extra storage" in text_of(browser.request("GET", path)["body"])

    asked = browser.post(
        f"{path}/charges/{charge.id}/delete", {"description": charge.description}, confirmed=False
    )
    assert asked["statusCode"] == 200
    assert "Delete the charge “Extra storage”?" in text_of(asked["body"])
    assert (
        len(services().charges.list_charges(account_id, organisation_id, customer.id, 10, None, None).items)
        == 1
    )

    deleted = browser.post(f"{path}/charges/{charge.id}/delete", {"description": charge.description})
    assert deleted["statusCode"] == 303
    assert (
        services().charges.list_charges(account_id, organisation_id, customer.id, 10, None, None).items == []
    )


def test_a_refused_charge_is_shown_next_to_its_field_and_adds_nothing() -> None:
    from remit.bootstrap import services

    account_id, organisation_id = account_with_user("jo@example.com")
    customer = add_customer(account_id, organisation_id)
    browser = signed_in("jo@example.com")

    response = browser.post(
        org_path(organisation_id, "customers", customer.id, "charges"),
        {"charge.description": "Storage", "charge.unit_amount": "1.234"},
    )

    assert response["statusCode"] == 422
    assert 'id="f-charge-unit_amount-error"' in response["body"]
    assert 'value="Storage"' in response["body"]
    assert (
        services().charges.list_charges(account_id, organisation_id, customer.id, 10, None, None).items == []
    )


def test_an_invoiced_charge_cannot_be_deleted_and_the_apis_message_is_shown() -> None:
    from remit.bootstrap import services
    from remit.domain.charge import NewCharge
    from remit.domain.invoice import NewInvoice

    account_id, organisation_id = account_with_user("kit@example.com")
    customer = add_customer(account_id, organisation_id)
    charge = services().charges.create(
        account_id, organisation_id, customer.id, NewCharge(description="Storage", unit_amount=1500)
    )
    services().invoices.create_draft(
        account_id, organisation_id, NewInvoice(customer_id=customer.id, charge_ids=[charge.id])
    )
    browser = signed_in("kit@example.com")

    response = browser.post(
        org_path(organisation_id, "customers", customer.id, "charges", charge.id, "delete")
    )

    assert response["statusCode"] == 409
    assert "Not done" in text_of(response["body"])
    (kept,) = services().charges.list_charges(account_id, organisation_id, customer.id, 10, None, None).items
    assert kept.status == "invoiced"


def test_credit_is_added_to_the_balance_and_a_refused_amount_changes_nothing() -> None:
    account_id, organisation_id = account_with_user("lea@example.com")
    customer = add_customer(account_id, organisation_id)
    browser = signed_in("lea@example.com")
    path = org_path(organisation_id, "customers", customer.id)

    added = browser.post(
        f"{path}/balance_transactions", {"credit.amount": "50.00", "credit.description": "Prepayment"}
    )
    page = browser.request("GET", path)
    refused = browser.post(f"{path}/balance_transactions", {"credit.amount": "0"})
    overdrawn = browser.post(f"{path}/balance_transactions", {"credit.amount": "-80"})

    assert added["statusCode"] == 303
    assert customer_of(account_id, organisation_id, customer.id).balance == 5000
    assert "€50.00 credit added to Globex GmbH&#39;s balance (now €50.00)." in text_of(page["body"])
    assert "Prepayment" in text_of(page["body"])
    assert refused["statusCode"] == 422
    assert 'id="f-credit-amount-error"' in refused["body"]
    assert overdrawn["statusCode"] == 409
    assert 'id="f-credit-amount-error"' in overdrawn["body"]
    assert "cannot go below 0" in text_of(overdrawn["body"])
    assert customer_of(account_id, organisation_id, customer.id).balance == 5000


def test_the_profile_shows_each_currencys_balance_and_the_ledger_with_currencies() -> None:
    from remit.bootstrap import services
    from remit.domain.payment import NewBalanceTransaction

    # Given a EUR customer with credit in EUR and in USD
    account_id, organisation_id = account_with_user("ivo@example.com")
    customer = add_customer(account_id, organisation_id)
    for amount, currency in [(5000, None), (1250, "USD")]:
        services().payments.adjust_balance(
            account_id, organisation_id, customer.id, NewBalanceTransaction(amount=amount, currency=currency)
        )
    browser = signed_in("ivo@example.com")

    # When its profile and the list are shown
    page = browser.request("GET", org_path(organisation_id, "customers", customer.id))
    listed = browser.request("GET", org_path(organisation_id, "customers"))

    # Then each currency's balance is shown, the ledger says each entry's currency, and the form
    # offers the customer's currency first, then those it holds credit in
    text = text_of(page["body"])
    assert "Credit balance €50.00 and US$12.50" in text
    assert "EUR (the customer's currency) €50.00" in text
    assert "USD US$12.50" in text
    ledger = text.split("Ledger")[-1]
    assert "adjustment USD US$12.50 US$12.50" in ledger
    assert "adjustment EUR €50.00 €50.00" in ledger
    select = page["body"].split('name="credit.currency"')[1].split("</select>")[0]
    assert re.findall(r'<option value="([A-Z]{3})"', select) == ["EUR", "USD"]
    assert '<option value="EUR" selected>' in select
    assert "€50.00 US$12.50" in text_of(listed["body"])


def test_credit_is_added_and_removed_in_the_currency_chosen() -> None:
    # Given a EUR customer
    account_id, organisation_id = account_with_user("jon@example.com")
    customer = add_customer(account_id, organisation_id)
    browser = signed_in("jon@example.com")
    path = f"{org_path(organisation_id, 'customers', customer.id)}/balance_transactions"

    # When credit is added in dollars and in yen (no minor unit), then too much is removed in
    # dollars, and yen with decimals are typed
    dollars = browser.post(path, {"credit.amount": "12.50", "credit.currency": "USD"})
    yen = browser.post(path, {"credit.amount": "300", "credit.currency": "JPY"})
    overdrawn = browser.post(path, {"credit.amount": "-20", "credit.currency": "USD"})
    fractional_yen = browser.post(path, {"credit.amount": "1.5", "credit.currency": "JPY"})
    unknown = browser.post(path, {"credit.amount": "1", "credit.currency": "XYZ"})

    # Then each currency holds its own credit; the refusals are shown next to their field, the
    # overdrawn currency named, and change nothing
    assert (dollars["statusCode"], yen["statusCode"]) == (303, 303)
    assert customer_of(account_id, organisation_id, customer.id).balances == {"JPY": 300, "USD": 1250}
    assert customer_of(account_id, organisation_id, customer.id).balance == 0
    assert overdrawn["statusCode"] == 409
    assert 'id="f-credit-amount-error"' in overdrawn["body"]
    assert "balance in USD is 1250" in text_of(overdrawn["body"])
    assert fractional_yen["statusCode"] == 422
    assert 'id="f-credit-amount-error"' in fractional_yen["body"]
    assert unknown["statusCode"] == 422
    assert 'id="f-credit-currency-error"' in unknown["body"]
    assert customer_of(account_id, organisation_id, customer.id).balances == {"JPY": 300, "USD": 1250}


# Edit and delete ---------------------------------------------------------------------------------


def test_the_edit_form_starts_from_the_record_saves_changes_and_clears_emptied_fields() -> None:
    account_id, organisation_id = account_with_user("max@example.com")
    customer = add_customer(
        account_id,
        organisation_id,
        first_name="Hank",
        metadata={"plan": "gold"},
        contacts=[{"email": "marge@globex.test", "preferences": ["billing"]}],
    )
    browser = signed_in("max@example.com")
    path = org_path(organisation_id, "customers", customer.id)

    form = browser.request("GET", f"{path}/edit")
    assert form["statusCode"] == 200
    assert 'value="Hank"' in form["body"]
    assert "plan: gold" in form["body"]
    assert 'value="marge@globex.test"' in form["body"]

    saved = browser.post(
        f"{path}/edit",
        {
            "name": "Globex AG",
            "email": "ap@globex.test",
            "first_name": "",
            "tax_rate": "7.5",
            "currency": "EUR",
            "payment_terms_days": "30",
            "invoicing_flow": "automatic",
            "vat_id": "DE136695976",
            "tax_treatment": "exempt",
            "einvoice_format": "facturx",
            "contacts.0.email": "marge@globex.test",
            "contacts.0.preferences.present": "1",
            "contacts.0.preferences": "updates",
            "metadata": "plan: gold",
        },
    )

    assert saved["statusCode"] == 303
    assert saved["headers"]["Location"] == path
    changed = customer_of(account_id, organisation_id, customer.id)
    assert changed.name == "Globex AG"
    assert changed.first_name is None
    assert changed.tax_rate == Decimal("7.5")
    assert changed.payment_terms_days == 30
    assert [c.preferences for c in changed.contacts] == [["updates"]]
    assert changed.metadata == {"plan": "gold"}
    assert (changed.vat_id, changed.tax_treatment, changed.einvoice_format) == (
        "DE136695976",
        "exempt",
        "facturx",
    )
    assert "Customer Globex AG saved." in text_of(browser.request("GET", path)["body"])
    assert 'value="DE136695976"' in browser.request("GET", f"{path}/edit")["body"]


def test_a_refused_edit_shows_the_message_next_to_the_field_and_changes_nothing() -> None:
    account_id, organisation_id = account_with_user("ned@example.com")
    customer = add_customer(account_id, organisation_id)
    browser = signed_in("ned@example.com")

    response = browser.post(
        org_path(organisation_id, "customers", customer.id, "edit"),
        {"name": "Globex AG", "email": "ap@globex.test", "payment_terms_days": "999"},
    )

    assert response["statusCode"] == 422
    assert 'id="f-payment_terms_days-error"' in response["body"]
    assert 'value="Globex AG"' in response["body"]
    assert customer_of(account_id, organisation_id, customer.id).name == "Globex GmbH"


def test_a_customer_is_deleted_after_confirmation() -> None:
    from remit.bootstrap import services
    from remit.domain.errors import NotFound

    account_id, organisation_id = account_with_user("ola@example.com")
    customer = add_customer(account_id, organisation_id)
    browser = signed_in("ola@example.com")
    path = org_path(organisation_id, "customers", customer.id, "delete")

    asked = browser.post(path, confirmed=False)
    assert asked["statusCode"] == 200
    assert "Delete customer Globex GmbH?" in text_of(asked["body"])
    assert customer_of(account_id, organisation_id, customer.id).name == "Globex GmbH"

    deleted = browser.post(path)
    assert deleted["statusCode"] == 303
    assert deleted["headers"]["Location"] == org_path(organisation_id, "customers")
    with pytest.raises(NotFound):
        services().customers.get(account_id, organisation_id, customer.id)


def test_a_customer_with_finalized_invoices_is_not_deleted_and_the_apis_message_is_shown() -> None:
    from remit.bootstrap import services
    from remit.domain.invoice import NewInvoice, NewLineItem

    account_id, organisation_id = account_with_user("pam@example.com")
    customer = add_customer(account_id, organisation_id)
    draft = services().invoices.create_draft(
        account_id,
        organisation_id,
        NewInvoice(customer_id=customer.id, line_items=[NewLineItem(description="Work", unit_amount=1000)]),
    )
    services().invoice_lifecycle.finalize(account_id, organisation_id, draft.id, "https://pay.example.test")
    browser = signed_in("pam@example.com")

    response = browser.post(org_path(organisation_id, "customers", customer.id, "delete"))

    assert response["statusCode"] == 409
    assert "has finalized invoices and cannot be deleted" in text_of(response["body"])
    assert customer_of(account_id, organisation_id, customer.id).name == "Globex GmbH"


# Safety ------------------------------------------------------------------------------------------


def test_a_form_posted_without_its_csrf_token_changes_nothing() -> None:
    from remit.bootstrap import services

    account_id, organisation_id = account_with_user("quy@example.com")
    customer = add_customer(account_id, organisation_id)
    browser = signed_in("quy@example.com")

    created = browser.request(
        "POST", org_path(organisation_id, "customers"), {"name": "Sneaky", "email": "s@example.test"}
    )
    deleted = browser.request(
        "POST", org_path(organisation_id, "customers", customer.id, "delete"), {"confirmed": "yes"}
    )

    assert created["statusCode"] == 403
    assert deleted["statusCode"] == 403
    assert [c.name for c in services().customers.list(account_id, organisation_id, 10, None, None).items] == [
        "Globex GmbH"
    ]


def test_another_organisations_customer_is_not_found() -> None:
    from remit.bootstrap import services
    from remit.domain.organisation import NewOrganisation

    account_id, organisation_id = account_with_user("ray@example.com")
    other_account, other_org = account_with_user("sam@example.com", "Other Ltd")
    theirs = add_customer(other_account, other_org, "Theirs")
    # The same account's second organisation: its ids are not the first one's either
    second = services().organisations.create(
        account_id, NewOrganisation(name="Second", default_currency="EUR")
    )
    sibling = add_customer(account_id, second.id, "Sibling")
    browser = signed_in("ray@example.com")

    for customer_id in (theirs.id, sibling.id):
        base = org_path(organisation_id, "customers", customer_id)
        assert browser.request("GET", base)["statusCode"] == 404
        assert browser.request("GET", f"{base}/edit")["statusCode"] == 404
        assert browser.post(f"{base}/edit", {"name": "Stolen"})["statusCode"] == 404
        assert browser.post(f"{base}/delete")["statusCode"] == 404
        assert (
            browser.post(f"{base}/charges", {"charge.description": "X", "charge.unit_amount": "1"})[
                "statusCode"
            ]
            == 404
        )
        assert browser.post(f"{base}/balance_transactions", {"credit.amount": "1"})["statusCode"] == 404
    assert browser.request("GET", org_path(other_org, "customers"))["statusCode"] == 404
    assert customer_of(other_account, other_org, theirs.id).name == "Theirs"
    assert customer_of(account_id, second.id, sibling.id).name == "Sibling"
    assert services().charges.list_charges(account_id, second.id, sibling.id, 10, None, None).items == []


def test_a_charge_of_another_customer_is_not_found() -> None:
    from remit.bootstrap import services
    from remit.domain.charge import NewCharge

    account_id, organisation_id = account_with_user("tom@example.com")
    mine = add_customer(account_id, organisation_id, "Mine")
    other = add_customer(account_id, organisation_id, "Other")
    charge = services().charges.create(
        account_id, organisation_id, other.id, NewCharge(description="Storage", unit_amount=1500)
    )
    browser = signed_in("tom@example.com")

    response = browser.post(org_path(organisation_id, "customers", mine.id, "charges", charge.id, "delete"))

    assert response["statusCode"] == 404
    assert (
        len(services().charges.list_charges(account_id, organisation_id, other.id, 10, None, None).items) == 1
    )


# Markup ------------------------------------------------------------------------------------------


def markup_problems(body: str) -> list[str]:
    """Duplicate ids, headings that skip a level, inputs without a label, tables without `<th scope>`."""
    from html.parser import HTMLParser

    class Reader(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.ids: list[str] = []
            self.levels: list[int] = []
            self.inputs: list[tuple[str, dict[str, str | None]]] = []
            self.labelled: set[str] = set()
            self.in_label = 0
            self.headers_without_scope = 0

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            found = dict(attrs)
            if found.get("id"):
                self.ids.append(str(found["id"]))
            if len(tag) == 2 and tag[0] == "h" and tag[1].isdigit():
                self.levels.append(int(tag[1]))
            if tag == "label":
                self.in_label += 1
                if found.get("for"):
                    self.labelled.add(str(found["for"]))
            if tag in ("input", "select", "textarea") and found.get("type") != "hidden":
                self.inputs.append((tag, found) if not self.in_label else (tag, {**found, "wrapped": "1"}))
            if tag == "th" and "scope" not in found:
                self.headers_without_scope += 1

        def handle_endtag(self, tag: str) -> None:
            if tag == "label":
                self.in_label -= 1

    reader = Reader()
    reader.feed(body)
    problems = [f"duplicate id {i}" for i in sorted({i for i in reader.ids if reader.ids.count(i) > 1})]
    if reader.levels and reader.levels[0] not in (1, 2):
        problems.append(f"first heading h{reader.levels[0]}")
    for before, after in zip(reader.levels, reader.levels[1:], strict=False):
        if after > before + 1:
            problems.append(f"h{before} then h{after}")
    for tag, found in reader.inputs:
        named = found.get("wrapped") or found.get("aria-label") or (found.get("id") in reader.labelled)
        if not named:
            problems.append(f"{tag} {found.get('name')} without a label")
    if reader.headers_without_scope:
        problems.append("th without scope")
    return problems


def test_every_customers_page_has_clean_markup() -> None:
    from remit.bootstrap import services
    from remit.domain.charge import NewCharge
    from remit.domain.payment import NewBalanceTransaction

    account_id, organisation_id = account_with_user("uma@example.com")
    customer = add_customer(account_id, organisation_id, contacts=[{"email": "c@globex.test"}])
    services().charges.create(
        account_id, organisation_id, customer.id, NewCharge(description="Storage", unit_amount=1500)
    )
    services().payments.adjust_balance(
        account_id, organisation_id, customer.id, NewBalanceTransaction(amount=5)
    )
    browser = signed_in("uma@example.com")

    pages = {
        path: browser.request("GET", org_path(organisation_id, *path.split("/")))
        for path in [
            "customers",
            "customers/new",
            f"customers/{customer.id}",
            f"customers/{customer.id}/edit",
        ]
    }
    pages["dialog"] = htmx_get(browser, org_path(organisation_id, "customers", "new"))
    pages["refused"] = browser.post(org_path(organisation_id, "customers"), {"name": "", "email": "x"})

    for name, page in pages.items():
        assert page["statusCode"] in (200, 422), name
        assert markup_problems(page["body"]) == [], name
        assert re.search(r"\son[a-z]+=", page["body"]) is None, name  # no inline handler
        assert "<script>" not in page["body"], name  # no inline script


# As a browser submits the forms --------------------------------------------------------------------


def submitted(body: str, action: str, typed: dict[str, str]) -> list[tuple[str, str]]:
    """The fields a browser posts for the form posting to `action`, with `typed` typed in: every
    input's value, checked boxes only, selected options, textareas; no CSRF token (post adds it).
    """
    from html import unescape
    from html.parser import HTMLParser

    class Reader(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.inside = False
            self.fields: list[tuple[str, str]] = []
            self.select: str | None = None
            self.selected: str | None = None
            self.first_option: str | None = None
            self.textarea: str | None = None
            self.text = ""

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            found = {name: value or "" for name, value in attrs}
            if tag == "form":
                self.inside = found.get("action") == action
            if not self.inside:
                return
            if tag == "input" and found.get("name") and found["name"] != "csrf_token":
                if found.get("type") != "checkbox" or "checked" in found:
                    self.fields.append((found["name"], unescape(found.get("value", ""))))
            elif tag == "select":
                self.select, self.selected, self.first_option = found.get("name"), None, None
            elif tag == "option" and self.select is not None:
                if self.first_option is None:
                    self.first_option = found.get("value", "")
                if "selected" in found:
                    self.selected = found.get("value", "")
            elif tag == "textarea":
                self.textarea, self.text = found.get("name"), ""

        def handle_data(self, data: str) -> None:
            if self.textarea is not None:
                self.text += data

        def handle_endtag(self, tag: str) -> None:
            if tag == "form":
                self.inside = False
            elif tag == "select" and self.select is not None:
                self.fields.append((self.select, self.selected or self.first_option or ""))
                self.select = None
            elif tag == "textarea" and self.textarea is not None:
                self.fields.append((self.textarea, unescape(self.text)))
                self.textarea = None

    reader = Reader()
    reader.feed(body)
    names = {name for name, _ in reader.fields}
    assert set(typed) <= names, set(typed) - names
    return [(name, typed.get(name, value)) for name, value in reader.fields]


def test_the_new_customer_form_as_a_browser_posts_it_with_its_blank_contact_rows_creates_the_customer() -> (
    None
):
    from remit.bootstrap import services

    account_id, organisation_id = account_with_user("vic@example.com")
    browser = signed_in("vic@example.com")
    form = browser.request("GET", org_path(organisation_id, "customers", "new"))

    response = browser.post(
        org_path(organisation_id, "customers"),
        submitted(
            form["body"],
            org_path(organisation_id, "customers"),
            {"name": "Globex GmbH", "email": "ap@globex.test", "contacts.0.email": "marge@globex.test"},
        ),
    )

    assert response["statusCode"] == 303, text_of(response["body"])
    (customer,) = services().customers.list(account_id, organisation_id, 10, None, None).items
    assert [contact.email for contact in customer.contacts] == ["marge@globex.test"]
    assert customer.currency == "EUR"
    assert customer.metadata == {}


def test_the_edit_form_as_a_browser_posts_it_unchanged_changes_nothing_and_keeps_the_contacts_ids() -> None:
    account_id, organisation_id = account_with_user("wes@example.com")
    customer = add_customer(
        account_id,
        organisation_id,
        first_name="Hank",
        country="DE",
        tax_id="DE136695976",
        tax_rate="19",
        address={"line1": "Hauptstraße 1", "city": "Köln"},
        external_ids=["crm-1"],
        metadata={"plan": "gold"},
        contacts=[
            {"name": "Marge", "email": "marge@globex.test", "preferences": ["billing", "legal"]},
            {"email": "homer@globex.test"},
        ],
    )
    browser = signed_in("wes@example.com")
    path = org_path(organisation_id, "customers", customer.id, "edit")
    form = browser.request("GET", path)

    response = browser.post(path, submitted(form["body"], path, {}))

    assert response["statusCode"] == 303, text_of(response["body"])
    after = customer_of(account_id, organisation_id, customer.id)
    unchanged = {"updated_at", "version"}
    assert after.model_dump(exclude=unchanged) == customer.model_dump(exclude=unchanged)

    # Emptying the first contact's row removes it; the other keeps its id
    changed = submitted(form["body"], path, {"contacts.0.email": "", "contacts.0.name": ""})
    changed = [(n, v) for n, v in changed if n != "contacts.0.preferences"]
    assert browser.post(path, changed)["statusCode"] == 303
    assert [(c.id, c.email) for c in customer_of(account_id, organisation_id, customer.id).contacts] == [
        (customer.contacts[1].id, "homer@globex.test")
    ]


def test_the_charge_and_credit_forms_as_a_browser_posts_them() -> None:
    from remit.bootstrap import services

    account_id, organisation_id = account_with_user("xia@example.com")
    customer = add_customer(account_id, organisation_id, tax_rate="19")
    browser = signed_in("xia@example.com")
    path = org_path(organisation_id, "customers", customer.id)
    profile = browser.request("GET", path)["body"]

    charged = browser.post(
        f"{path}/charges",
        submitted(profile, f"{path}/charges", {"charge.description": "Setup", "charge.unit_amount": "99.90"}),
    )
    credited = browser.post(
        f"{path}/balance_transactions",
        submitted(profile, f"{path}/balance_transactions", {"credit.amount": "20"}),
    )

    assert charged["statusCode"] == 303
    assert credited["statusCode"] == 303
    (charge,) = (
        services().charges.list_charges(account_id, organisation_id, customer.id, 10, None, "open").items
    )
    assert (charge.unit_amount, charge.quantity, charge.tax_rate) == (9990, Decimal(1), Decimal(19))
    assert customer_of(account_id, organisation_id, customer.id).balance == 2000


def test_the_profile_lists_the_customers_invoices_newest_first_one_page_at_a_time() -> None:
    from remit.bootstrap import services
    from remit.domain.invoice import NewInvoice, NewLineItem

    account_id, organisation_id = account_with_user("yan@example.com")
    customer = add_customer(account_id, organisation_id)
    other = add_customer(account_id, organisation_id, "Other")
    drafts = [
        services().invoices.create_draft(
            account_id,
            organisation_id,
            NewInvoice(customer_id=who.id, line_items=[NewLineItem(description="Work", unit_amount=100)]),
        )
        for who in [customer] * 22 + [other]
    ]
    browser = signed_in("yan@example.com")
    path = org_path(organisation_id, "customers", customer.id)

    first = browser.request("GET", path)["body"]
    start = first.index('aria-label="Invoice pages"')
    link = first[first.index('href="', start) + 6 : first.index('">Older invoices', start)]
    second = browser.request("GET", path + link.replace("&amp;", "&"))["body"]

    def listed(body: str) -> list[str]:
        return [d.id for d in drafts if f"/invoices/{d.id}" in body]

    mine = [d.id for d in drafts[:22]]
    assert listed(first) == mine[2:]
    assert first.index(mine[21]) < first.index(mine[2])  # newest first
    assert listed(second) == mine[:2]
    assert "Older invoices" not in second


def test_with_htmx_a_refused_form_page_is_swapped_in_as_without_it() -> None:
    """htmx 2 swaps no 4xx page by default: a boosted form refused (422, 409) would seem to do
    nothing. The layout's htmx-config swaps every page with content, as a plain browser shows it.
    """
    _, organisation_id = account_with_user("zoe@example.com")
    browser = signed_in("zoe@example.com")

    page = browser.request("GET", org_path(organisation_id, "customers"))["body"]
    config = page[page.index('name="htmx-config" content=\'') :].split("'", 2)[1]

    assert json.loads(config)["responseHandling"] == [
        {"code": "204", "swap": False},
        {"code": "[2345]..", "swap": True},
    ]
