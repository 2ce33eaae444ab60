"""An organisation with one of everything (a customer, an open charge, a draft invoice, a billing
template, a subscription, a credit note on an open invoice, a dry-run customer import and, when
asked, a bulk billing run), for the tests that walk every route.
"""

from __future__ import annotations


def stock_organisation(account_id: str, organisation_id: str, *, with_run: bool = True) -> dict[str, str]:
    """Fill the organisation through the services; the ids of what was made, by path parameter name."""
    from remit.bootstrap import services
    from remit.domain.billing_template import BulkBillingRequest, NewBillingTemplate
    from remit.domain.card_payments import CardPaymentEvent
    from remit.domain.charge import NewCharge
    from remit.domain.credit_notes import NewCreditNote
    from remit.domain.customer import NewCustomer
    from remit.domain.imports import ImportRequest
    from remit.domain.invoice import NewInvoice
    from remit.domain.saved_cards import CardDetails
    from remit.domain.subscription import NewSubscription
    from remit.domain.webhooks import NewWebhookEndpoint

    everything = services()
    customer = everything.customers.create(
        account_id, organisation_id, NewCustomer(name="Globex", email="ap@globex.test")
    )
    # A card saved as the provider's webhook saves one.
    setup = CardPaymentEvent(
        event_id="evt_stocked_card",
        kind="card_saved",
        organisation_id=organisation_id,
        invoice_id=None,
        customer_id=customer.id,
        payment_intent_id="seti_stocked",
        amount=0,
        currency="",
        provider_customer_id="cus_stocked",
        payment_method_id="pm_stocked_4242",
    )
    everything.saved_cards.apply_card_saved(organisation_id, setup, CardDetails(brand="visa", last4="4242"))
    [card] = everything.saved_cards.list_cards(organisation_id, customer.id)
    charge = everything.charges.create(
        account_id,
        organisation_id,
        customer.id,
        NewCharge.model_validate({"description": "Setup", "unit_amount": 500}),
    )
    invoice = everything.invoices.create_draft(
        account_id,
        organisation_id,
        NewInvoice.model_validate(
            {"customer_id": customer.id, "line_items": [{"description": "Work", "unit_amount": 10000}]}
        ),
    )
    template = everything.billing_runs.create_template(
        account_id,
        organisation_id,
        NewBillingTemplate.model_validate(
            {"name": "Plan", "currency": "EUR", "line_items": [{"description": "Plan", "unit_amount": 900}]}
        ),
    )
    subscription = everything.subscriptions.create(
        account_id,
        organisation_id,
        NewSubscription.model_validate(
            {"customer_id": customer.id, "line_items": [{"description": "Pro", "unit_amount": 4900}]}
        ),
    )
    # On a customer of its own: the stocked customer keeps only a draft invoice (so it can be deleted).
    corrected_customer = everything.customers.create(
        account_id, organisation_id, NewCustomer(name="Initech", email="ap@initech.test")
    )
    corrected = everything.invoices.create_draft(
        account_id,
        organisation_id,
        NewInvoice.model_validate(
            {
                "customer_id": corrected_customer.id,
                "line_items": [{"description": "Work", "unit_amount": 10000}],
            }
        ),
    )
    everything.invoice_lifecycle.finalize(account_id, organisation_id, corrected.id, "https://remit.test")
    credit_note = everything.credit_notes.issue(
        account_id, organisation_id, corrected.id, NewCreditNote.model_validate({"amount": 100})
    )
    # A literal public address: nothing to resolve, so no test needs the network.
    endpoint = everything.webhook_endpoints.create(
        account_id,
        organisation_id,
        NewWebhookEndpoint(url="https://93.184.215.14/remit", enabled_events=["invoice.*"]),
    ).endpoint
    ids = {
        "organisation_id": organisation_id,
        "endpoint_id": endpoint.id,
        "credit_note_id": credit_note.id,
        "customer_id": customer.id,
        "card_id": card.id,
        "charge_id": charge.id,
        "invoice_id": invoice.id,
        "template_id": template.id,
        "subscription_id": subscription.id,
        "event_id": everything.events.list(account_id, organisation_id, 1, None).items[0].id,
        "kind": "invoices",
        # A dry run: it changes no customer, whenever a test's queue delivers it.
        "import_id": everything.imports.import_rows(
            account_id,
            organisation_id,
            ImportRequest(kind="customers", rows=[{"name": "Hooli", "email": "ap@hooli.test"}], dry_run=True),
        ).id,
    }
    if with_run:
        request = {
            "customer_ids": [customer.id],
            "currency": "EUR",
            "line_items": [{"description": "Fee", "unit_amount": 100}],
        }
        ids["run_id"] = everything.billing_runs.bill_customers(
            account_id, organisation_id, BulkBillingRequest.model_validate(request), "https://remit.test"
        ).id
    return ids
