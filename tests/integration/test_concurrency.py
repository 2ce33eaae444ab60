"""Uniqueness under real concurrency: threads racing against the moto server over HTTP."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from remit.domain.customer import NewCustomer
from remit.domain.errors import Conflict
from remit.domain.organisation import NewOrganisation

pytestmark = pytest.mark.concurrency

RACERS = 8


def test_only_one_of_eight_concurrent_creates_gets_an_external_id(served_aws: None) -> None:
    from remit.bootstrap import services

    account = services().accounts.create_account("Racing account").account_id
    organisation = services().organisations.create(
        account, NewOrganisation(name="Acme Ltd", default_currency="EUR")
    )
    start = threading.Barrier(RACERS)

    def create_customer(number: int) -> str:
        start.wait()
        try:
            new = NewCustomer(name=f"Racer {number}", email=f"r{number}@race.test", external_ids=["crm-1"])
            services().customers.create(account, organisation.id, new)
        except Conflict:
            return "conflict"
        return "created"

    with ThreadPoolExecutor(RACERS) as pool:
        outcomes = list(pool.map(create_customer, range(RACERS)))

    assert sorted(outcomes) == ["conflict"] * (RACERS - 1) + ["created"]
    customers = services().customers.list(account, organisation.id, 100, None, None).items
    assert len(customers) == 1
    found = services().customers.list(account, organisation.id, 100, None, "crm-1").items
    assert [c.id for c in found] == [customers[0].id]


def test_concurrent_patches_claiming_one_external_id_leave_it_with_exactly_one_customer(
    served_aws: None,
) -> None:
    from remit.bootstrap import services
    from remit.domain.customer import CustomerChanges

    account = services().accounts.create_account("Racing account").account_id
    organisation = services().organisations.create(
        account, NewOrganisation(name="Acme Ltd", default_currency="EUR")
    )
    customers = [
        services()
        .customers.create(account, organisation.id, NewCustomer(name=f"C{n}", email=f"c{n}@race.test"))
        .id
        for n in range(RACERS)
    ]
    start = threading.Barrier(RACERS)

    def claim(customer_id: str) -> str:
        start.wait()
        try:
            services().customers.update(
                account, organisation.id, customer_id, CustomerChanges(external_ids=["shared"])
            )
        except Conflict:
            return "conflict"
        return "claimed"

    with ThreadPoolExecutor(RACERS) as pool:
        outcomes = list(pool.map(claim, customers))

    assert outcomes.count("claimed") == 1
    holders = [
        c.id
        for c in services().customers.list(account, organisation.id, 100, None, None).items
        if "shared" in c.external_ids
    ]
    assert len(holders) == 1
    found = services().customers.list(account, organisation.id, 100, None, "shared").items
    assert [c.id for c in found] == holders
