"""Money never crosses currencies (invariant 12): a credit balance per currency, as Stripe keeps it.

Credit is applied only to invoices of its currency; a void, an offline or a card over-payment
credits the invoice's currency; a balance change names its currency (the customer's by default);
a change of the customer's currency moves no money.
"""

from __future__ import annotations

import os
from typing import Any

import boto3
import pytest

from tests.integration.api_client import ApiClient
from tests.integration.billing import Billing
from tests.integration.test_billing_concurrency import race
from tests.integration.test_card_webhooks import Shop, stripe_event


@pytest.fixture
def acme(api: ApiClient) -> Billing:
    billing = Billing(api)
    billing.customer = billing.new_customer(tax_rate="0")  # amounts below are totals
    return billing


def add_credit(billing: Billing, amount: int, currency: str | None = None, **fields: Any) -> Any:
    body: dict[str, Any] = {"amount": amount, **fields}
    if currency is not None:
        body["currency"] = currency
    return billing.api.post(f"{billing.base}/customers/{billing.customer}/balance_transactions", body)


def customer(billing: Billing) -> dict[str, Any]:
    return dict(billing.api.get(f"{billing.base}/customers/{billing.customer}").json())


def ledger(billing: Billing) -> list[tuple[str, int, str, int]]:
    """(type, amount, currency, ending balance) of each entry, oldest first."""
    path = f"{billing.base}/customers/{billing.customer}/balance_transactions?limit=100"
    entries = billing.api.get(path).json()["data"]
    return [(e["type"], e["amount"], e["currency"], e["ending_balance"]) for e in entries]


def set_currency(billing: Billing, currency: str) -> dict[str, Any]:
    response = billing.api.patch(f"{billing.base}/customers/{billing.customer}", {"currency": currency})
    assert response.status == 200, response.body
    return dict(response.json())


def draft_in(billing: Billing, currency: str, **fields: Any) -> dict[str, Any]:
    """A draft in `currency` of a customer billed in another: made while the customer was billed in
    it (an invoice is created in its customer's currency), the customer's currency then put back.
    """
    before = customer(billing)["currency"]
    set_currency(billing, currency)
    draft = billing.draft(**fields)
    set_currency(billing, before)
    return draft


def finalize(billing: Billing, draft: dict[str, Any]) -> dict[str, Any]:
    response = billing.api.post(f"{billing.invoice(draft['id'])}/finalize")
    assert response.status == 200, response.body
    return dict(response.json())


# --- the attack -------------------------------------------------------------------------------


def test_a_currency_change_never_turns_one_currencys_credit_into_anothers(acme: Billing) -> None:
    # Given a EUR customer with 50.00 EUR of credit and a EUR draft of 100.00
    add_credit(acme, 5000)
    eur_draft = acme.draft(unit_amount=10000, quantity="1")

    # When its currency becomes JPY and a JPY draft and the EUR draft are finalized
    patched = acme.api.patch(f"{acme.base}/customers/{acme.customer}", {"currency": "JPY"})
    assert patched.status == 200, patched.body
    jpy_invoice = finalize(acme, acme.draft(unit_amount=10000, quantity="1"))
    after_jpy = customer(acme)
    eur_invoice = finalize(acme, eur_draft)

    # Then the JPY invoice got no EUR credit, the EUR invoice got the EUR credit, in EUR
    assert patched.json()["balance"] == 0
    assert patched.json()["balances"] == {"EUR": 5000}
    assert (jpy_invoice["currency"], jpy_invoice["credit_applied"], jpy_invoice["amount_due"]) == (
        "JPY",
        0,
        10000,
    )
    assert after_jpy["balances"] == {"EUR": 5000}
    assert (eur_invoice["currency"], eur_invoice["credit_applied"], eur_invoice["amount_due"]) == (
        "EUR",
        5000,
        5000,
    )
    assert ledger(acme) == [
        ("adjustment", 5000, "EUR", 5000),
        ("applied_to_invoice", -5000, "EUR", 0),
    ]
    assert (customer(acme)["balance"], customer(acme)["balances"]) == (0, {})


# --- each path --------------------------------------------------------------------------------


def test_finalizing_applies_only_the_credit_in_the_invoices_currency(acme: Billing) -> None:
    # Given a EUR customer with EUR credit and a little USD credit
    add_credit(acme, 5000)
    add_credit(acme, 300, "USD")

    # When a USD invoice of theirs is finalized
    invoice = finalize(acme, draft_in(acme, "USD", unit_amount=1000, quantity="1"))

    # Then only the USD credit pays it; the EUR credit is untouched
    assert (invoice["credit_applied"], invoice["amount_due"]) == (300, 700)
    assert customer(acme)["balances"] == {"EUR": 5000}
    assert customer(acme)["balance"] == 5000
    assert ledger(acme)[-1] == ("applied_to_invoice", -300, "USD", 0)


def test_voiding_returns_what_was_paid_and_applied_in_the_invoices_currency(acme: Billing) -> None:
    # Given a USD invoice of a EUR customer, 300 of it paid from USD credit and 200 by bank transfer
    add_credit(acme, 300, "USD")
    add_credit(acme, 1000)
    invoice = finalize(acme, draft_in(acme, "USD", unit_amount=1000, quantity="1"))
    acme.pay(invoice["id"], 200)

    # When it is voided
    voided = acme.api.post(f"{acme.invoice(invoice['id'])}/void")

    # Then 500 USD returns to the USD balance; the EUR balance is as it was
    assert voided.status == 200
    assert customer(acme)["balances"] == {"EUR": 1000, "USD": 500}
    assert ledger(acme)[-1] == ("invoice_voided", 500, "USD", 500)


def test_an_offline_overpayment_credits_the_invoices_currency(acme: Billing) -> None:
    # Given a EUR customer's open USD invoice of 10.00
    invoice = finalize(acme, draft_in(acme, "USD", unit_amount=1000, quantity="1"))

    # When 15.00 is paid on it
    payment = acme.pay(invoice["id"], 1500)

    # Then the 5.00 beyond it is USD credit, and the EUR balance stays 0
    assert payment.status == 201
    assert payment.json()["currency"] == "USD"
    assert (customer(acme)["balance"], customer(acme)["balances"]) == (0, {"USD": 500})
    assert ledger(acme) == [("overpayment", 500, "USD", 500)]


def test_a_card_overpayment_and_its_refund_move_the_invoices_currency(api: ApiClient) -> None:
    # Given a EUR customer with EUR credit and an open USD invoice of 23.80, paid by card
    shop = Shop(api)
    add_credit(shop.billing, 700)
    invoice = finalize(shop.billing, draft_in(shop.billing, "USD"))
    overpaid = stripe_event(
        "evt_1", "payment_intent.succeeded", shop.org, invoice["id"], 3000, currency="usd"
    )

    # When the card pays 30.00 on it, then all of it is refunded
    shop.deliver(overpaid)
    after_payment = customer(shop.billing)
    shop.deliver(stripe_event("evt_2", "charge.refunded", shop.org, invoice["id"], 3000, currency="usd"))

    # Then the 6.20 beyond the invoice is USD credit; the refund reopens the invoice and takes the
    # USD credit back; the EUR credit never moves
    assert after_payment["balances"] == {"EUR": 700, "USD": 620}
    assert customer(shop.billing)["balances"] == {"EUR": 700}
    assert shop.billing.get(invoice["id"])["amount_due"] == 2380
    assert ledger(shop.billing)[1:] == [
        ("overpayment", 620, "USD", 620),
        ("adjustment", -620, "USD", 0),
    ]


def test_a_card_payment_in_another_currency_than_the_invoice_is_ignored(api: ApiClient) -> None:
    # Given a EUR invoice
    shop = Shop(api)
    invoice = shop.billing.finalized()

    # When the provider reports a USD payment for it
    outcome = shop.deliver(
        stripe_event("evt_1", "payment_intent.succeeded", shop.org, invoice["id"], 3000, currency="usd")
    )

    # Then nothing moves
    assert outcome == "ignored"
    assert shop.billing.get(invoice["id"])["amount_due"] == invoice["amount_due"]
    assert customer(shop.billing)["balances"] == {}


def test_credit_is_added_in_the_customers_currency_unless_another_is_named(acme: Billing) -> None:
    # When credit is added without a currency, then in USD, then in lower-case jpy
    default = add_credit(acme, 5000, description="Prepayment")
    dollars = add_credit(acme, 1200, "USD")
    yen = add_credit(acme, 300, "jpy")

    # Then each entry is in its currency, with that currency's balance after it
    assert default.status == dollars.status == yen.status == 201
    assert (default.json()["currency"], default.json()["ending_balance"]) == ("EUR", 5000)
    assert (dollars.json()["currency"], dollars.json()["ending_balance"]) == ("USD", 1200)
    assert (yen.json()["currency"], yen.json()["ending_balance"]) == ("JPY", 300)
    assert customer(acme)["balances"] == {"EUR": 5000, "JPY": 300, "USD": 1200}
    assert customer(acme)["balance"] == 5000


def test_removing_more_than_a_currencys_balance_is_refused_and_changes_nothing(acme: Billing) -> None:
    # Given 50.00 EUR and 1.00 USD of credit
    add_credit(acme, 5000)
    add_credit(acme, 100, "USD")
    before = (customer(acme), ledger(acme))

    # When 2.00 USD is removed (less than the EUR balance, more than the USD one)
    refused = add_credit(acme, -200, "USD")

    # Then it is refused, naming the amount and the currency's balance, and nothing changed
    assert refused.status == 409
    assert refused.content_type == "application/problem+json"
    assert refused.json()["errors"][0]["field"] == "amount"
    assert "USD" in refused.json()["detail"]
    assert (customer(acme), ledger(acme)) == before


@pytest.mark.parametrize("currency", ["XYZ", "", "EURO", 978])
def test_an_unknown_currency_is_a_422_naming_it_and_changes_nothing(acme: Billing, currency: object) -> None:
    # Given a customer with credit
    add_credit(acme, 5000)
    before = (customer(acme), ledger(acme))

    # When a balance change names a currency that is not one
    refused = acme.api.post(
        f"{acme.base}/customers/{acme.customer}/balance_transactions", {"amount": 100, "currency": currency}
    )

    # Then it is a 422 naming `currency`, and nothing changed
    assert refused.status == 422
    assert "currency" in [e["field"] for e in refused.json()["errors"]]
    assert (customer(acme), ledger(acme)) == before


def test_a_currency_change_keeps_every_balance_and_moves_no_money(acme: Billing) -> None:
    # Given credit in EUR and USD
    add_credit(acme, 5000)
    add_credit(acme, 100, "USD")

    # When the customer's currency becomes USD, then JPY
    as_usd = acme.api.patch(f"{acme.base}/customers/{acme.customer}", {"currency": "USD"}).json()
    as_jpy = acme.api.patch(f"{acme.base}/customers/{acme.customer}", {"currency": "JPY"}).json()

    # Then `balance` follows the customer's currency and `balances` never change; no entry is written
    assert (as_usd["balance"], as_usd["balances"]) == (100, {"EUR": 5000, "USD": 100})
    assert (as_jpy["balance"], as_jpy["balances"]) == (0, {"EUR": 5000, "USD": 100})
    assert [entry[0] for entry in ledger(acme)] == ["adjustment", "adjustment"]


def test_a_customer_stored_before_balances_per_currency_keeps_its_balance_in_its_currency(
    acme: Billing,
) -> None:
    # Given a USD and a EUR draft of 30.00, then the customer's item as stored before balances per
    # currency: `balance` alone (5000), its version moved as every balance change moved it
    usd_draft = draft_in(acme, "USD", unit_amount=3000, quantity="1")
    eur_draft = acme.draft(unit_amount=3000, quantity="1")
    table = boto3.client("dynamodb")
    key = {"PK": {"S": f"ORG#{acme.org}"}, "SK": {"S": f"CUSTOMER#{acme.customer}"}}
    table.update_item(
        TableName=os.environ["REMIT_BILLING_TABLE"],
        Key=key,
        UpdateExpression="SET balance = :balance REMOVE balances ADD version :one",
        ExpressionAttributeValues={":balance": {"N": "5000"}, ":one": {"N": "1"}},
    )

    # When it is read, and the two drafts are finalized
    read = customer(acme)
    usd = finalize(acme, usd_draft)
    eur = finalize(acme, eur_draft)

    # Then its balance is in its currency, EUR, only the EUR invoice takes from it, and the item
    # now keeps its balances per currency
    assert (read["balance"], read["balances"]) == (5000, {"EUR": 5000})
    assert (usd["credit_applied"], eur["credit_applied"]) == (0, 3000)
    assert customer(acme)["balances"] == {"EUR": 2000}
    stored = table.get_item(TableName=os.environ["REMIT_BILLING_TABLE"], Key=key, ConsistentRead=True)["Item"]
    assert (stored["balances"], "balance" in stored) == ({"M": {"EUR": {"N": "2000"}}}, False)
    assert ledger(acme) == [("applied_to_invoice", -3000, "EUR", 2000)]


@pytest.mark.concurrency
def test_concurrent_changes_of_different_currencies_lose_no_update(served_aws: None) -> None:
    from remit.bootstrap import services
    from remit.domain.customer import NewCustomer
    from remit.domain.organisation import NewOrganisation
    from remit.domain.payment import NewBalanceTransaction

    # Given a customer with no credit
    account = services().accounts.create_account("Racing").account_id
    organisation = (
        services().organisations.create(account, NewOrganisation(name="Acme Ltd", default_currency="EUR")).id
    )
    customer_id = (
        services().customers.create(account, organisation, NewCustomer(name="Globex", email="a@g.test")).id
    )
    currencies = ["EUR", "USD", "JPY"] * 4

    # When twelve changes in three currencies race
    def add(number: int) -> None:
        change = NewBalanceTransaction(amount=100 * (number + 1), currency=currencies[number])
        services().payments.adjust_balance(account, organisation, customer_id, change)

    race(len(currencies), add)

    # Then every currency's balance holds all of its changes, and its ledger adds up to it
    expected = {
        currency: sum(100 * (n + 1) for n, c in enumerate(currencies) if c == currency)
        for currency in ("EUR", "JPY", "USD")
    }
    assert services().customers.get(account, organisation, customer_id).balances == expected
    entries = services().payments.balance_transactions(account, organisation, customer_id, 100, None).items
    for currency, balance in expected.items():
        mine = [entry for entry in entries if entry.currency == currency]
        assert sum(entry.amount for entry in mine) == balance
        assert sorted(entry.ending_balance for entry in mine)[-1] == balance
