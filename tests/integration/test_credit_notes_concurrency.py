"""Credit notes under real concurrency against the moto server: gapless numbers, no over-credit,
no money refunded twice."""

from __future__ import annotations

from typing import Any

import pytest

from remit.domain.credit_notes import NewCreditNote
from remit.domain.errors import Conflict, InvalidInput
from remit.domain.payment import NewOfflinePayment
from tests.integration.test_billing_concurrency import organisation_with_drafts, race

pytestmark = pytest.mark.concurrency


def finalized_invoices(count: int) -> tuple[str, str, list[str]]:
    from remit.bootstrap import services

    account = services().accounts.create_account("Racing").account_id
    organisation, drafts = organisation_with_drafts(account, "Acme Ltd", count)
    for draft in drafts:
        services().invoice_lifecycle.finalize(account, organisation, draft, "https://x.test")
    return account, organisation, drafts


def credit(**fields: Any) -> NewCreditNote:
    return NewCreditNote.model_validate(fields)


def test_fifty_concurrent_credit_notes_number_one_to_fifty_exactly_once(served_aws: None) -> None:
    from remit.bootstrap import services

    account, organisation, invoices = finalized_invoices(50)

    issued = race(
        50, lambda n: services().credit_notes.issue(account, organisation, invoices[n], credit(amount=100))
    )

    expected = [f"ACME-CN-{n:05d}" for n in range(1, 51)]
    assert sorted(note.number for note in issued) == expected
    stored = services().credit_notes.list_credit_notes(account, organisation, 100, None).items
    assert sorted(note.number for note in stored) == expected
    assert services().organisations.get(account, organisation).credit_note_numbering.next_number == 51
    # The invoice series is untouched by credit notes
    assert services().organisations.get(account, organisation).invoice_numbering.next_number == 51


def test_credit_notes_racing_on_one_invoice_never_over_credit_it(served_aws: None) -> None:
    from remit.bootstrap import services

    account, organisation, (invoice_id,) = finalized_invoices(1)  # 1000 net, no tax: total 1000

    def issue(_: int) -> str:
        try:
            services().credit_notes.issue(account, organisation, invoice_id, credit(amount=300))
        except Conflict:
            return "refused"
        return "issued"

    outcomes = race(8, issue)

    assert sorted(outcomes) == ["issued"] * 3 + ["refused"] * 5
    invoice = services().invoices.get(account, organisation, invoice_id)
    assert (invoice.credited_amount, invoice.amount_due) == (900, 100)


def test_credit_notes_racing_for_one_lines_quantity_credit_it_once(served_aws: None) -> None:
    from remit.bootstrap import services

    account, organisation, (invoice_id,) = finalized_invoices(1)
    line = services().invoices.get(account, organisation, invoice_id).line_items[0].id

    def issue(_: int) -> str:
        try:
            services().credit_notes.issue(
                account, organisation, invoice_id, credit(lines=[{"invoice_line_id": line, "quantity": "1"}])
            )
        except InvalidInput:
            return "refused"
        return "issued"

    assert sorted(race(6, issue)) == ["issued"] + ["refused"] * 5


def test_refunds_racing_for_one_payment_never_take_the_same_money_twice(served_aws: None) -> None:
    from remit.bootstrap import services

    account, organisation, (invoice_id,) = finalized_invoices(1)
    services().payments.record_offline_payment(
        account, organisation, invoice_id, NewOfflinePayment(amount=1000, method="bank_transfer")
    )

    def issue(_: int) -> str:
        try:
            services().credit_notes.issue(
                account, organisation, invoice_id, credit(amount=400, refund_amount=400)
            )
        except Conflict:
            return "refused"
        return "issued"

    outcomes = race(6, issue)

    assert sorted(outcomes) == ["issued"] * 2 + ["refused"] * 4
    (payment,) = services().payments.list_payments(account, organisation, 10, None, invoice_id, None).items
    refunds = services().credit_notes.list_refunds(account, organisation, 100, None, payment.id).items
    assert (payment.amount_refunded, payment.status) == (800, "partially_refunded")
    assert sum(refund.amount for refund in refunds) == 800
