"""Credit balances per currency: one currency moves at a time, none goes below 0."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from remit.domain.credit import Credit, InsufficientCredit, balances_after, credit_for
from remit.domain.customer import Customer
from tests.unit.builders import a_customer, pure_property

credits = st.builds(Credit, st.sampled_from(["EUR", "USD", "JPY"]), st.integers(-10_000, 10_000))


def test_a_change_moves_only_its_own_currency() -> None:
    assert balances_after({"EUR": 5000}, Credit("USD", 300)) == {"EUR": 5000, "USD": 300}
    assert balances_after({"EUR": 5000, "USD": 300}, Credit("USD", -300)) == {"EUR": 5000}


def test_removing_more_than_a_currency_holds_is_refused_naming_the_amount() -> None:
    with pytest.raises(InsufficientCredit) as refused:
        balances_after({"EUR": 5000, "USD": 100}, Credit("USD", -200))

    assert refused.value.problems[0].field == "amount"
    assert "USD is 100" in str(refused.value)


def test_an_invoice_takes_only_its_currencys_credit_and_never_more_than_its_total() -> None:
    balances = {"EUR": 5000, "USD": 300}

    assert credit_for(balances, "JPY", 10_000) == 0
    assert credit_for(balances, "USD", 10_000) == 300
    assert credit_for(balances, "EUR", 1200) == 1200


@pure_property
@given(st.lists(credits, max_size=30))
def test_no_sequence_of_changes_leaves_a_balance_below_zero_or_moves_another_currency(
    changes: list[Credit],
) -> None:
    balances: dict[str, int] = {}
    for change in changes:
        try:
            after = balances_after(balances, change)
        except InsufficientCredit:
            assert balances.get(change.currency, 0) + change.amount < 0
            continue
        others = {c: a for c, a in after.items() if c != change.currency}
        assert others == {c: a for c, a in balances.items() if c != change.currency}
        assert after.get(change.currency, 0) == balances.get(change.currency, 0) + change.amount
        assert all(amount > 0 for amount in after.values())
        balances = after


def test_a_customer_stored_with_one_balance_has_it_in_its_currency() -> None:
    stored = a_customer(currency="JPY").model_dump(mode="json") | {"balance": 700}
    del stored["balances"]

    customer = Customer.model_validate(stored, context={"stored": True})

    assert (customer.balances, customer.balance) == ({"JPY": 700}, 700)


def test_the_balance_shown_is_the_one_in_the_customers_currency() -> None:
    customer = a_customer(currency="USD", balances={"EUR": 5000, "usd": 120, "JPY": 0})

    assert customer.balances == {"EUR": 5000, "USD": 120}
    assert customer.balance == 120
    assert customer.model_copy(update={"currency": "GBP"}).balance == 0
