"""Stored items apart from the domain's entities: an item as the table holds it today reads back into
the entity it was written from, and that entity writes out the very same item (no data migration).

The items below are what the table holds for an invoice, a customer and an organisation with every
storage-only attribute set (version, numbering sequence, hosted-page token, saved card, …): their
attribute names are the table's, whatever the API or the domain call the fields.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from remit.adapters.dynamodb_billing import invoice_item
from remit.adapters.dynamodb_customers import customer_item
from remit.adapters.dynamodb_organisations import organisation_item
from remit.adapters.items.customers import customer_of
from remit.adapters.items.invoices import invoice_of
from remit.adapters.items.organisations import organisation_of
from remit.domain.customer import CardOnFile, Contact, Customer
from remit.domain.invoice import Invoice, priced_line
from remit.domain.organisation import Organisation
from remit.domain.saved_cards import SavedCard, legacy_card_id
from remit.domain.values import Address

T = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
ADDRESS = Address(line1="1 Rue de la Paix", city="Paris", postal_code="75002", country="FR")

STORED_INVOICE: dict[str, Any] = {
    "GSI1PK": "REMIND#2",
    "GSI1SK": "2026-12-30#org_1#inv_1",
    "GSI2PK": "ORG#org_1#INVOICES#STATUS#open",
    "GSI2SK": "INVOICE#inv_1",
    "GSI3PK": "ORG#org_1#CUSTOMER#cus_1#INVOICES",
    "GSI3SK": "INVOICE#inv_1",
    "GSI4PK": "ORG#org_1#CUSTOMER#cus_1#INVOICES#STATUS#open",
    "GSI4SK": "INVOICE#inv_1",
    "GSI6PK": "ORG#org_1#INVOICES#BY_DATE",
    "GSI6SK": "2026-12-01#inv_1",
    "PK": "ORG#org_1",
    "SK": "INVOICE#inv_1",
    "amount_due": 225000,
    "amount_paid": 0,
    "created_at": "2026-12-01T10:00:00Z",
    "credit_applied": 0,
    "currency": "EUR",
    "customer_address": {
        "city": "Paris",
        "country": "FR",
        "line1": "1 Rue de la Paix",
        "line2": None,
        "postal_code": "75002",
        "state": None,
    },
    "customer_email": "ap@globex.test",
    "customer_id": "cus_1",
    "customer_locale": "fr-FR",
    "customer_name": "Globex",
    "customer_tax_id": "FR40303265045",
    "days_until_due": 14,
    "draft_customer": {
        "address": {
            "city": "Paris",
            "country": "FR",
            "line1": "1 Rue de la Paix",
            "line2": None,
            "postal_code": "75002",
            "state": None,
        },
        "auto_pay": True,
        "balance": 500,
        "balances": {"EUR": 500, "USD": 200},
        "billing_cycle": "monthly",
        "saved_cards": [
            {
                "brand": "visa",
                "created_at": "2026-12-01T10:00:00Z",
                "default": True,
                "exp_month": 4,
                "exp_year": 2030,
                "id": "card_1",
                "last4": "4242",
                "payment_method_id": "pm_1",
                "provider_customer_id": "pcus_1",
            }
        ],
        "contacts": [{"email": "ann@globex.test", "id": "con_1", "name": "Ann", "preferences": ["billing"]}],
        "country": "FR",
        "created_at": "2026-12-01T10:00:00Z",
        "currency": "EUR",
        "email": "ap@globex.test",
        "external_ids": ["crm-7"],
        "first_name": None,
        "id": "cus_1",
        "invoicing_flow": "automatic",
        "issued_invoices": 3,
        "last_name": None,
        "metadata": {"k": "v"},
        "name": "Globex",
        "next_charges_billing": "2027-01-01",
        "organisation_id": "org_1",
        "payment_terms_days": 14,
        "preferred_locale": None,
        "send_reminders": True,
        "tax_id": "FR40303265045",
        "tax_rate": "20.00",
        "updated_at": "2026-12-01T10:00:00Z",
        "version": 7,
    },
    "due_date": "2026-12-15",
    "entity": "invoice",
    "finalized_at": "2026-12-01T10:00:00Z",
    "finalized_by_request": "req-hash",
    "footer": "Footer",
    "hosted_token": "tok",
    "hosted_url": "https://x.test/i/tok",
    "id": "inv_1",
    "in_overview": True,
    "issue_date": "2026-12-01",
    "line_items": [
        {
            "amount": 187500,
            "charge_id": "chg_1",
            "description": "Consulting",
            "id": "li_1",
            "quantity": "12.5",
            "tax_amount": 37500,
            "tax_rate": "20.00",
            "unit_amount": 15000,
        }
    ],
    "logo_key": "logos/org_1/a.png",
    "marked_uncollectible_at": None,
    "memo": "Thanks",
    "next_reminder_on": "2026-12-30",
    "number": "ACME-00042",
    "organisation_id": "org_1",
    "overdue": False,
    "paid_at": None,
    "period_end": None,
    "period_start": None,
    "recipients": ["ap@globex.test", "ann@globex.test"],
    "sent_at": "2026-12-01T10:00:00Z",
    "sequence": 42,
    "source": "manual",
    "status": "open",
    "subscription_id": None,
    "subtotal": 187500,
    "tax_breakdown": [{"tax_amount": 37500, "tax_rate": "20.00", "taxable_amount": 187500}],
    "tax_total": 37500,
    "timezone": "Europe/Paris",
    "total": 225000,
    "updated_at": "2026-12-01T10:00:00Z",
    "version": 5,
    "voided_at": None,
}

STORED_CUSTOMER: dict[str, Any] = {
    "GSI1PK": "DUE#2",  # the shard of its organisation
    "GSI1SK": "2027-01-01#org_1#cus_1",
    "GSI5PK": "ORG#org_1#CUSTOMERS",
    "GSI5SK": "globex#cus_1",
    "GSI6PK": "ORG#org_1#EMAIL#ap@globex.test",
    "GSI6SK": "cus_1",
    "PK": "ORG#org_1",
    "SK": "CUSTOMER#cus_1",
    "address": {
        "city": "Paris",
        "country": "FR",
        "line1": "1 Rue de la Paix",
        "line2": None,
        "postal_code": "75002",
        "state": None,
    },
    "auto_pay": True,
    "balances": {"EUR": 500, "USD": 200},
    "billing_cycle": "monthly",
    "saved_cards": [
        {
            "brand": "visa",
            "created_at": "2026-12-01T10:00:00Z",
            "default": True,
            "exp_month": 4,
            "exp_year": 2030,
            "id": "card_1",
            "last4": "4242",
            "payment_method_id": "pm_1",
            "provider_customer_id": "pcus_1",
        }
    ],
    "contacts": [{"email": "ann@globex.test", "id": "con_1", "name": "Ann", "preferences": ["billing"]}],
    "country": "FR",
    "created_at": "2026-12-01T10:00:00Z",
    "currency": "EUR",
    "email": "ap@globex.test",
    "entity": "customer",
    "external_ids": ["crm-7"],
    "first_name": None,
    "id": "cus_1",
    "invoicing_flow": "automatic",
    "issued_invoices": 3,
    "last_name": None,
    "metadata": {"k": "v"},
    "name": "Globex",
    "next_charges_billing": "2027-01-01",
    "organisation_id": "org_1",
    "payment_terms_days": 14,
    "preferred_locale": None,
    # The billing contacts' emails that have a sign-in lookup item (the customer's own is its key).
    "recipient_lookups": ["ann@globex.test"],
    "send_reminders": True,
    "tax_id": "FR40303265045",
    "tax_rate": "20.00",
    "updated_at": "2026-12-01T10:00:00Z",
    "version": 7,
}

STORED_ORGANISATION: dict[str, Any] = {
    "PK": "ORG#org_1",
    "SK": "ORG",
    "account_id": "acc_1",
    "address": {
        "city": "Paris",
        "country": "FR",
        "line1": "1 Rue de la Paix",
        "line2": None,
        "postal_code": "75002",
        "state": None,
    },
    "branding": {"brand_colour": "#112233", "logo_url": "https://x.test/assets/logos/org_1/a.png"},
    "created_at": "2026-12-01T10:00:00Z",
    "default_currency": "EUR",
    "email": "billing@acme.test",
    "entity": "organisation",
    "id": "org_1",
    "invoice_numbering": {"next_number": 43, "padding": 5, "prefix": "ACME-"},
    "locale": "fr-FR",
    "name": "Acme",
    "payment_methods": {
        "bank_transfer": {
            "account_name": "Acme",
            "bic": "BNPAFRPP",
            "iban": "FR1420041010050500013M02606",
            "instructions": None,
        },
        "card": True,
        "cheque": {"mail_to": None, "payable_to": "Acme"},
    },
    "payment_terms_days": 30,
    "reminders": {"days_after_due": [15, 30], "days_before_due": [3], "enabled": True},
    "portal": {"enabled": False},
    "tax_id": "FR40303265045",
    "timezone": "Europe/Paris",
    "updated_at": "2026-12-01T10:00:00Z",
    "version": 9,
}


def stored_customer() -> Customer:
    return Customer(
        id="cus_1",
        organisation_id="org_1",
        name="Globex",
        email="ap@globex.test",
        currency="EUR",
        country="FR",
        address=ADDRESS,
        tax_rate=Decimal("20.00"),
        tax_id="FR40303265045",
        external_ids=["crm-7"],
        payment_terms_days=14,
        auto_pay=True,
        billing_cycle="monthly",
        contacts=[Contact(id="con_1", name="Ann", email="ann@globex.test", preferences=["billing"])],
        balances={"EUR": 500, "USD": 200},
        metadata={"k": "v"},
        created_at=T,
        updated_at=T,
        issued_invoices=3,
        version=7,
        saved_cards=[
            SavedCard(
                id="card_1",
                brand="visa",
                last4="4242",
                exp_month=4,
                exp_year=2030,
                default=True,
                created_at=T,
                provider_customer_id="pcus_1",
                payment_method_id="pm_1",
            )
        ],
        next_charges_billing=date(2027, 1, 1),
    )


def stored_invoice() -> Invoice:
    line = priced_line("li_1", "Consulting", Decimal("12.5"), 15000, Decimal("20.00"), "chg_1")
    draft = Invoice(
        id="inv_1",
        organisation_id="org_1",
        customer_id="cus_1",
        currency="EUR",
        due_date=date(2026, 12, 15),
        created_at=T,
        updated_at=T,
    ).with_lines([line])
    return draft.model_copy(
        update={
            "number": "ACME-00042",
            "status": "open",
            "issue_date": date(2026, 12, 1),
            "memo": "Thanks",
            "footer": "Footer",
            "hosted_url": "https://x.test/i/tok",
            "customer_name": "Globex",
            "customer_email": "ap@globex.test",
            "customer_address": ADDRESS,
            "customer_tax_id": "FR40303265045",
            "customer_locale": "fr-FR",
            "finalized_at": T,
            "sent_at": T,
            "days_until_due": 14,
            "timezone": "Europe/Paris",
            "draft_customer": stored_customer(),
            "recipients": ["ap@globex.test", "ann@globex.test"],
            "sequence": 42,
            "next_reminder_on": date(2026, 12, 30),
            "hosted_token": "tok",
            "logo_key": "logos/org_1/a.png",
            "finalized_by_request": "req-hash",
            "in_overview": True,
            "version": 5,
        }
    )


def stored_organisation() -> Organisation:
    return Organisation.model_validate(
        {
            "id": "org_1",
            "account_id": "acc_1",
            "name": "Acme",
            "email": "billing@acme.test",
            "default_currency": "EUR",
            "timezone": "Europe/Paris",
            "locale": "fr-FR",
            "address": ADDRESS,
            "tax_id": "FR40303265045",
            "branding": {"logo_url": "https://x.test/assets/logos/org_1/a.png", "brand_colour": "#112233"},
            "invoice_numbering": {"prefix": "ACME-", "padding": 5, "next_number": 43},
            "payment_methods": {
                "card": True,
                "bank_transfer": {
                    "account_name": "Acme",
                    "iban": "FR1420041010050500013M02606",
                    "bic": "BNPAFRPP",
                },
                "cheque": {"payable_to": "Acme"},
            },
            "reminders": {"days_after_due": [15, 30], "days_before_due": [3]},
            "portal": {"enabled": False},
            "created_at": T,
            "updated_at": T,
            "version": 9,
        }
    )


def test_a_stored_invoice_reads_back_into_the_invoice_it_was_written_from() -> None:
    assert invoice_of(STORED_INVOICE) == stored_invoice()


def test_an_invoice_writes_out_the_item_the_table_holds() -> None:
    assert invoice_item(stored_invoice()) == STORED_INVOICE


def test_a_stored_invoice_survives_a_round_trip_unchanged() -> None:
    assert invoice_item(invoice_of(STORED_INVOICE)) == STORED_INVOICE


def test_a_stored_customer_reads_back_and_writes_out_the_same_item() -> None:
    assert customer_of(STORED_CUSTOMER) == stored_customer()
    assert customer_item(stored_customer()) == STORED_CUSTOMER


def test_a_stored_organisation_reads_back_and_writes_out_the_same_item() -> None:
    assert organisation_of(STORED_ORGANISATION) == stored_organisation()
    assert organisation_item(stored_organisation()) == STORED_ORGANISATION


def test_an_organisation_stored_before_the_portal_has_it_on() -> None:
    legacy = {name: value for name, value in STORED_ORGANISATION.items() if name != "portal"}
    assert organisation_of(legacy).portal.enabled is True


def test_a_tax_id_accepted_when_saved_reads_back_though_the_rules_now_refuse_it() -> None:
    # Given a customer saved with a tax id that today's rules refuse for its country
    item = {**STORED_CUSTOMER, "tax_id": "FR00000000000"}
    with pytest.raises(ValidationError):
        Customer.model_validate(stored_customer().model_dump() | {"tax_id": "FR00000000000"})

    # When it is read back, Then it is the customer as saved: no input rule runs on the way back
    assert customer_of(item).tax_id == "FR00000000000"


def test_a_customer_stored_before_balances_per_currency_reads_its_balance_in_its_currency() -> None:
    legacy = {name: value for name, value in STORED_CUSTOMER.items() if name != "balances"} | {"balance": 700}
    assert customer_of(legacy).balances == {"EUR": 700}


def test_a_customer_stored_with_one_card_on_file_reads_it_as_its_one_default_card() -> None:
    # Given a customer item stored before saved cards, with the one card auto-pay charged
    legacy = {name: value for name, value in STORED_CUSTOMER.items() if name != "saved_cards"} | {
        "card_on_file": {"payment_method_id": "pm_old", "provider_customer_id": "pcus_old"}
    }

    # When it is read, Then that card is its one saved card, the default, which auto-pay charges
    customer = customer_of(legacy)
    [card] = customer.saved_cards
    assert (card.id, card.default, card.payment_method_id) == (legacy_card_id("pm_old"), True, "pm_old")
    assert customer.card_on_file == CardOnFile(provider_customer_id="pcus_old", payment_method_id="pm_old")
    # And it reads with the same id every time, and writes out as saved cards
    assert customer_of(legacy).saved_cards[0].id == card.id
    written = customer_item(customer)
    assert "card_on_file" not in written
    assert written["saved_cards"][0]["payment_method_id"] == "pm_old"


def test_the_net_and_tax_credited_at_each_rate_are_stored_and_read_back_and_left_out_when_none() -> None:
    credited = stored_invoice().model_copy(
        update={"credited_nets": {"20": 187500, "5.5": 50}, "credited_taxes": {"20": 37500, "5.5": 3}}
    )

    item = invoice_item(credited)

    assert (item["credited_nets"], item["credited_taxes"]) == (
        {"20": 187500, "5.5": 50},
        {"20": 37500, "5.5": 3},
    )
    assert invoice_of(item) == credited
    assert not {"credited_nets", "credited_taxes"} & set(invoice_item(stored_invoice()))
