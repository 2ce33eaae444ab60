"""Webhook endpoints as stored: the limit of 16 under real concurrency, and which endpoints an
event goes to."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from remit.domain.errors import Conflict
from remit.domain.organisation import NewOrganisation
from remit.domain.webhooks import MAX_ENDPOINTS, NewWebhookEndpoint, WebhookEndpointChanges

RACERS = 6
PUBLIC = "https://93.184.215.14/remit"  # a literal public address: nothing to resolve


def organisation_of_new_account() -> tuple[str, str]:
    from remit.bootstrap import services

    account = services().accounts.create_account("Hooks account").account_id
    organisation = services().organisations.create(
        account, NewOrganisation(name="Acme", default_currency="EUR")
    )
    return account, organisation.id


@pytest.mark.concurrency
def test_concurrent_creations_never_take_an_organisation_past_16_endpoints(served_aws: None) -> None:
    from remit.bootstrap import services

    account, organisation = organisation_of_new_account()
    new = NewWebhookEndpoint(url=PUBLIC, enabled_events=["*"])
    for _ in range(MAX_ENDPOINTS - 2):
        services().webhook_endpoints.create(account, organisation, new)
    start = threading.Barrier(RACERS)

    def create(_: int) -> str:
        start.wait()
        try:
            services().webhook_endpoints.create(account, organisation, new)
        except Conflict:
            return "refused"
        return "created"

    with ThreadPoolExecutor(RACERS) as pool:
        outcomes = sorted(pool.map(create, range(RACERS)))

    assert outcomes == ["created"] * 2 + ["refused"] * (RACERS - 2)
    assert len(services().webhook_endpoints.list(account, organisation)) == MAX_ENDPOINTS


def test_an_event_goes_to_the_endpoints_that_want_it_and_are_not_disabled(aws: None) -> None:
    import boto3

    from remit.adapters.dynamodb import DynamoTable
    from remit.adapters.dynamodb_webhooks import DynamoWebhookEndpoints
    from remit.bootstrap import services

    account, organisation = organisation_of_new_account()
    endpoints = services().webhook_endpoints

    def made(*patterns: str) -> str:
        new = NewWebhookEndpoint(url=PUBLIC, enabled_events=list(patterns))
        return endpoints.create(account, organisation, new).endpoint.id

    invoices, everything, payments, disabled = made("invoice.*"), made("*"), made("payment.*"), made("*")
    endpoints.update(account, organisation, disabled, WebhookEndpointChanges(status="disabled"))
    store = DynamoWebhookEndpoints(
        DynamoTable(lambda: boto3.client("dynamodb"), services().settings.billing_table)
    )
    failing = store.get(organisation, everything)
    assert failing is not None
    store.save(failing.model_copy(update={"status": "failing"}))

    wanted = [e.id for e in store.enabled_for(organisation, "invoice.paid")]

    assert wanted == [invoices, everything]
    assert [e.id for e in store.enabled_for(organisation, "payment.failed")] == [everything, payments]
    assert store.enabled_for("org_other", "invoice.paid") == []
