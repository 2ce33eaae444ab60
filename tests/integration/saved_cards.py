"""Customers with saved cards, as the provider's card-setup events leave them (for the dashboard's
and the timeline's tests)."""

from __future__ import annotations

from typing import Any


def customer_with_cards(account_id: str, organisation_id: str, *brands: str) -> Any:
    from remit.bootstrap import services
    from remit.domain.card_payments import CardPaymentEvent
    from remit.domain.customer import NewCustomer
    from remit.domain.saved_cards import CardDetails

    everything = services()
    customer = everything.customers.create(
        account_id, organisation_id, NewCustomer(name="Globex", email="ap@globex.test")
    )
    for number, brand in enumerate(brands):
        setup = CardPaymentEvent(
            event_id=f"evt_{customer.id}_{number}",
            kind="card_saved",
            organisation_id=organisation_id,
            invoice_id=None,
            customer_id=customer.id,
            payment_intent_id=f"seti_{number}",
            amount=0,
            currency="",
            provider_customer_id="cus_1",
            payment_method_id=f"pm_{number}",
        )
        details = CardDetails(
            brand=brand, last4=f"{number}{number}{number}{number}", exp_month=3, exp_year=2031
        )
        everything.saved_cards.apply_card_saved(organisation_id, setup, details)
    return customer
