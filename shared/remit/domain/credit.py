"""A customer's credit: one balance per currency, as Stripe keeps it, never crossing currencies.

Money never crosses currencies (invariant 12): credit comes from a document (a prepayment, an
over-payment, a voided invoice) in that document's currency, and goes only to invoices of the same
currency. A customer's `currency` is what new invoices default to; changing it moves no money, each
balance stays in its own currency. Every change is a `Credit` (an amount and its currency) and
leaves no balance below 0. Pure: no I/O, no clock.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import Field

from remit.domain.errors import Conflict, FieldProblem
from remit.domain.money import NonNegativeMinorUnits
from remit.domain.values import CurrencyCode


def _balances_schema(schema: dict[str, Any]) -> None:
    # pydantic writes the key's rule as `patternProperties`, which leaves other keys unconstrained;
    # the answer's keys are upper-case ISO 4217 codes, every value a balance.
    for values in schema.pop("patternProperties", {}).values():
        schema["additionalProperties"] = values
    schema["propertyNames"] = {"pattern": "^[A-Z]{3}$"}
    schema["readOnly"] = True


# The balances by ISO 4217 code, in each currency's minor unit; only currencies with credit appear.
CreditBalances = Annotated[
    dict[CurrencyCode, NonNegativeMinorUnits],
    Field(
        description=(
            "Credit balance per currency (ISO 4217 code: minor units), currencies with credit only "
            "(read-only). Credit pays only invoices of its own currency."
        ),
        examples=[{"EUR": 5000}],
        json_schema_extra=_balances_schema,
    ),
]


@dataclass(frozen=True)
class Credit:
    """An amount of one currency entering (positive) or leaving (negative) the credit balance."""

    currency: str
    amount: int


class InsufficientCredit(Conflict):
    """A change would take a currency's balance below 0."""

    def __init__(self, credit: Credit, available: int) -> None:
        super().__init__(
            f"The customer's credit balance in {credit.currency} is {available}; it cannot go below 0.",
            [FieldProblem("amount", f"at most {available} {credit.currency} can be removed")],
        )


def balance_in(balances: Mapping[str, int], currency: str) -> int:
    """The balance of one currency (0 when the customer has none in it)."""
    return balances.get(currency, 0)


def balances_after(balances: Mapping[str, int], credit: Credit) -> dict[str, int]:
    """The balances with `credit` applied to its own currency alone, currencies at 0 left out.

    Raises `InsufficientCredit` (nothing changes) when the currency's balance would go below 0.
    """
    available = balance_in(balances, credit.currency)
    if available + credit.amount < 0:
        raise InsufficientCredit(credit, available)
    after = {**balances, credit.currency: available + credit.amount}
    return {currency: amount for currency, amount in sorted(after.items()) if amount}


def credit_for(balances: Mapping[str, int], currency: str, total: int) -> int:
    """The credit an invoice of `currency` and `total` takes at finalization: its currency's balance,
    never more than the total.
    """
    return min(balance_in(balances, currency), max(total, 0))


def refund_from_credit(to_credit: Credit, balances: Mapping[str, int]) -> Credit:
    """What a change of `to_credit` can actually do to the balances.

    Credit can only be taken back as far as the customer has not spent it in that currency: a refund
    asking for more than is left takes that currency's balance to 0. Added credit is added whole.
    """
    return Credit(to_credit.currency, max(to_credit.amount, -balance_in(balances, to_credit.currency)))
