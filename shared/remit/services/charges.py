"""Charges: billable items recorded against a customer until a draft invoice takes them."""

from __future__ import annotations

from remit.domain.charge import Charge, NewCharge
from remit.domain.customer import Customer
from remit.domain.errors import FieldProblem, InvalidInput, NotFound
from remit.domain.ids import new_id
from remit.domain.invoice import line_tax_problems
from remit.domain.pagination import Page
from remit.ports.billing import BillingStore
from remit.services.billing_context import BillingContext


class ChargeService:
    def __init__(self, context: BillingContext) -> None:
        self._context = context
        self._billing = context.billing
        self._clock = context.clock

    def create(self, account_id: str, organisation_id: str, customer_id: str, new: NewCharge) -> Charge:
        """An open charge in the customer's currency; the tax rate defaults to the customer's (0 for a
        customer whose treatment carries no VAT). `InvalidInput` names a rate, VAT category or
        exemption reason that does not fit the customer."""
        _, customer = self._context.organisation_and_customer(account_id, organisation_id, customer_id)
        tax_rate, _, problems = line_tax_problems("", new, customer)
        if problems:
            raise InvalidInput([FieldProblem(p.field.lstrip("."), p.message) for p in problems])
        now = self._clock.now()
        charge = Charge(
            id=new_id("chg", now),
            customer_id=customer.id,
            description=new.description,
            quantity=new.quantity,
            unit_amount=new.unit_amount,
            tax_rate=tax_rate,
            currency=customer.currency,
            created_at=now,
            vat_category=new.vat_category,
            exemption_reason=new.exemption_reason,
            unit_code=new.unit_code,
        )
        transaction = self._billing.transaction(organisation_id)
        transaction.insert_charge(charge)
        transaction.commit()
        return charge

    def list_charges(
        self,
        account_id: str,
        organisation_id: str,
        customer_id: str,
        limit: int,
        cursor: str | None,
        status: str | None,
    ) -> Page[Charge]:
        """The customer's charges, oldest first, optionally only `open` or `invoiced` ones."""
        self._context.organisation_and_customer(account_id, organisation_id, customer_id)
        return self._billing.list_charges(organisation_id, customer_id, limit, cursor, status)

    def delete(self, account_id: str, organisation_id: str, customer_id: str, charge_id: str) -> None:
        """Delete an open charge; `Conflict` once it is on an invoice (conditioned on its status)."""
        self._context.access.require_access(account_id, organisation_id)
        found = self._billing.get_charges(organisation_id, customer_id, [charge_id])
        if not found:
            raise NotFound("charge", charge_id)
        transaction = self._billing.transaction(organisation_id)
        transaction.delete_charge(found[0])
        transaction.commit()


def billable_open_charges(billing: BillingStore, organisation_id: str, customer: Customer) -> list[Charge]:
    """The customer's open charges that its next invoice takes: those in its currency (a charge in
    another currency cannot join its invoices and waits).
    """
    return [c for c in billing.open_charges(organisation_id, customer.id) if c.currency == customer.currency]
