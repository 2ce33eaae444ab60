"""Gapless numbering and lost-update-free payments under real concurrency against the moto server."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest

from remit.domain.customer import NewCustomer
from remit.domain.errors import ConcurrentUpdate
from remit.domain.invoice import InvalidTransition, NewInvoice, NewLineItem
from remit.domain.organisation import NewOrganisation
from remit.domain.payment import NewOfflinePayment

pytestmark = pytest.mark.concurrency


def race[ResultT](count: int, work: Callable[[int], ResultT]) -> list[ResultT]:
    """Run `work(0..count-1)` on `count` threads released at the same moment."""
    start = threading.Barrier(count)

    def run(number: int) -> ResultT:
        start.wait()
        return work(number)

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(run, range(count)))


def organisation_with_drafts(account: str, name: str, drafts: int) -> tuple[str, list[str]]:
    from remit.bootstrap import services

    organisation = services().organisations.create(
        account, NewOrganisation(name=name, default_currency="EUR")
    )
    customer = services().customers.create(
        account, organisation.id, NewCustomer(name="Globex", email="a@g.test")
    )
    line = NewLineItem(description="Widget", unit_amount=1000)
    ids = [
        services()
        .invoices.create_draft(
            account, organisation.id, NewInvoice(customer_id=customer.id, line_items=[line])
        )
        .id
        for _ in range(drafts)
    ]
    return organisation.id, ids


def test_fifty_concurrent_finalizations_number_one_to_fifty_exactly_once(served_aws: None) -> None:
    from remit.bootstrap import services

    account = services().accounts.create_account("Racing").account_id
    organisation, drafts = organisation_with_drafts(account, "Acme Ltd", 50)

    finalized = race(
        50,
        lambda n: services().invoice_lifecycle.finalize(account, organisation, drafts[n], "https://x.test"),
    )

    assert sorted(invoice.number or "" for invoice in finalized) == [f"ACME-{n:05d}" for n in range(1, 51)]
    stored = services().invoices.list_invoices(account, organisation, 100, None, "open", None).items
    assert sorted(invoice.number or "" for invoice in stored) == [f"ACME-{n:05d}" for n in range(1, 51)]
    assert services().organisations.get(account, organisation).invoice_numbering.next_number == 51


def test_two_organisations_number_independently_while_racing(served_aws: None) -> None:
    from remit.bootstrap import services

    account = services().accounts.create_account("Racing").account_id
    acme, acme_drafts = organisation_with_drafts(account, "Acme Ltd", 10)
    brand, brand_drafts = organisation_with_drafts(account, "Brand Co", 10)
    work = [(acme, draft) for draft in acme_drafts] + [(brand, draft) for draft in brand_drafts]

    finalized = race(20, lambda n: services().invoice_lifecycle.finalize(account, *work[n], "https://x.test"))

    numbers: dict[str, list[str]] = {acme: [], brand: []}
    for invoice in finalized:
        numbers[invoice.organisation_id].append(invoice.number or "")
    assert sorted(numbers[acme]) == [f"ACME-{n:05d}" for n in range(1, 11)]
    assert sorted(numbers[brand]) == [f"BRAN-{n:05d}" for n in range(1, 11)]


def test_concurrent_payments_on_one_invoice_lose_no_update(served_aws: None) -> None:
    from remit.bootstrap import services

    account = services().accounts.create_account("Racing").account_id
    organisation, (draft,) = organisation_with_drafts(account, "Acme Ltd", 1)
    invoice = services().invoice_lifecycle.finalize(account, organisation, draft, "https://x.test")  # 1000
    amounts = [10 * (n + 1) for n in range(12)]  # 780 in all, less than due

    def pay(number: int) -> int:
        try:
            services().payments.record_offline_payment(
                account, organisation, invoice.id, NewOfflinePayment(amount=amounts[number], method="cash")
            )
        except ConcurrentUpdate:
            # A payer that lost every retry to the others is answered 409 and records nothing; with
            # twelve racers and eight attempts that is a legitimate (rare) outcome, not a lost update. A
            # payer fails only when another commits, so if one ran out at least eight were recorded.
            return 0
        return amounts[number]

    paid = race(len(amounts), pay)

    after = services().invoices.get(account, organisation, invoice.id)
    recorded = services().payments.list_payments(account, organisation, 100, None, invoice.id, None).items
    assert after.amount_paid == sum(paid) == sum(p.amount for p in recorded)
    assert after.amount_due == invoice.total - sum(paid)
    assert len(recorded) == len([amount for amount in paid if amount]) >= 8


def test_racing_payments_that_overpay_record_exactly_what_was_paid(served_aws: None) -> None:
    from remit.bootstrap import services

    account = services().accounts.create_account("Racing").account_id
    organisation, (draft,) = organisation_with_drafts(account, "Acme Ltd", 1)
    invoice = services().invoice_lifecycle.finalize(account, organisation, draft, "https://x.test")  # 1000

    def pay(_: int) -> str:
        try:
            services().payments.record_offline_payment(
                account, organisation, invoice.id, NewOfflinePayment(amount=400, method="cash")
            )
        except InvalidTransition:
            return "refused: already paid"
        return "recorded"

    outcomes = race(4, pay)

    recorded = services().payments.list_payments(account, organisation, 100, None, invoice.id, None).items
    after = services().invoices.get(account, organisation, invoice.id)
    customer = services().customers.get(account, organisation, after.customer_id)
    # 400 + 400 + 400 covers 1000 (200 to credit); the fourth finds the invoice paid.
    assert outcomes.count("recorded") == len(recorded) == 3
    assert after.status == "paid"
    assert after.amount_paid + customer.balance == sum(p.amount for p in recorded)
