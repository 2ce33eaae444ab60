"""Settlement: how a payment divides between what an invoice owes and the customer's credit.

The one rule every payment path follows (an offline payment, a card payment, the dashboard's
confirmation of either): a payment pays what the invoice still owes, never more; the excess is
credit in the invoice's currency. Pure: no I/O, no clock.
"""

from __future__ import annotations

from dataclasses import dataclass

from remit.domain.credit import Credit


@dataclass(frozen=True)
class Settlement:
    """A payment divided: `applied` to the invoice, `excess` to the credit balance of its currency."""

    applied: int
    excess: Credit


def settle(amount_due: int, paid: int, currency: str) -> Settlement:
    """Divide `paid` (minor units of `currency`, the invoice's) between `amount_due` and credit.

    An invoice that takes no payment (not open) has nothing due here: pass 0 and all of it is excess.
    """
    applied = max(0, min(paid, amount_due))
    return Settlement(applied, Credit(currency, paid - applied))
