"""The dashboard's overview (`services().overview.figures`): each figure after each change, and its cost.

Changes go through the API (or the card webhook service) as a client makes them; the figures are
read through the service the dashboard calls. The counters behind them are written in each
change's own transaction (`remit/adapters/dynamodb_overview.py`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import boto3
import pytest

from remit.domain.invoice import Invoice
from remit.domain.overview import CurrencyFigures, MonthRevenue, Overview
from tests.integration.api_client import ApiClient
from tests.integration.billing import Billing
from tests.integration.conftest import TABLES, SettableClock, reset_remit
from tests.integration.faults import Calls, counting_reads, injected

TOTAL = 2380  # Billing.draft(): 2 x 1000, 19 % tax


@dataclass
class Books:
    """An organisation of its own account (through the API) and its overview (through the service)."""

    billing: Billing
    account_id: str

    @property
    def org(self) -> str:
        return self.billing.org

    def overview(self) -> Overview:
        from remit.bootstrap import services

        return services().overview.figures(self.account_id, self.org)

    def figures(self, currency: str = "EUR") -> CurrencyFigures:
        figures = self.overview().in_currency(currency)
        assert figures is not None, f"no {currency} figures"
        return figures

    def finalized(self, days_until_due: int = 14, **fields: Any) -> dict[str, Any]:
        return self.billing.finalized(days_until_due=days_until_due, **fields)

    def pay(self, invoice_id: str, amount: int, **fields: Any) -> dict[str, Any]:
        response = self.billing.pay(invoice_id, amount, **fields)
        assert response.status == 201, response.body
        return dict(response.json())

    def post(self, invoice_id: str, action: str) -> None:
        response = self.billing.api.post(f"{self.billing.invoice(invoice_id)}/{action}")
        assert response.status == 200, response.body


def new_books(timezone: str = "Europe/Berlin", currency: str = "EUR", **organisation: Any) -> Books:
    from remit.bootstrap import services

    issued = services().accounts.create_account("Overview account")
    billing = Billing(ApiClient(issued.api_key), currency, timezone=timezone, **organisation)
    return Books(billing, issued.account_id)


@pytest.fixture
def acme(aws: None, clock: SettableClock) -> Books:
    """An organisation in Berlin billing in EUR; the clock at 2026-11-22 10:00 in Berlin."""
    return new_books(invoice_numbering={"prefix": "ACME-"})


def month(figures: CurrencyFigures, first_day: str) -> MonthRevenue:
    found = [m for m in figures.revenue_by_month if m.month == date.fromisoformat(first_day)]
    assert found, f"{first_day} is not among the months shown"
    return found[0]


def owed(figures: CurrencyFigures) -> tuple[int, int, int, int]:
    """(outstanding, its invoices, overdue, its invoices)"""
    return figures.outstanding, figures.outstanding_invoices, figures.overdue, figures.overdue_invoices


def overview_items(org: str) -> list[dict[str, Any]]:
    """The organisation's counters and open-invoice markers, as stored."""
    client = boto3.client("dynamodb")
    items = []
    for low, high in (("OPENDUE#", "OPENDUE#~"), ("STATS#", "STATS#~")):
        items += client.query(
            TableName=TABLES["BillingTable"],
            KeyConditionExpression="PK = :pk AND SK BETWEEN :low AND :high",
            ExpressionAttributeValues={":pk": {"S": f"ORG#{org}"}, ":low": {"S": low}, ":high": {"S": high}},
            ConsistentRead=True,
        )["Items"]
    return items


# --- each change, and what it does to the figures ------------------------------------------------


def test_a_new_organisation_shows_its_currency_and_twelve_empty_months(acme: Books) -> None:
    overview = acme.overview()

    assert (overview.today, overview.timezone) == (date(2026, 11, 22), "Europe/Berlin")
    assert [figures.currency for figures in overview.currencies] == ["EUR"]
    eur = overview.currencies[0]
    assert owed(eur) == (0, 0, 0, 0)
    assert (eur.uncollectible, eur.paid_last_30_days, eur.payments_last_30_days) == (0, 0, 0)
    assert [m.month for m in eur.revenue_by_month] == [date(2025, 12, 1)] + [
        date(2026, n, 1) for n in range(1, 12)
    ]
    assert all((m.amount, m.invoices) == (0, 0) for m in eur.revenue_by_month)
    assert overview.needing_attention == ()


def test_drafts_count_for_nothing_and_finalizing_counts_an_invoice_outstanding_and_issued(
    acme: Books,
) -> None:
    draft, deleted = acme.billing.draft(days_until_due=14), acme.billing.draft()
    assert acme.billing.api.delete(acme.billing.invoice(deleted["id"])).status == 204
    assert owed(acme.figures()) == (0, 0, 0, 0)
    assert month(acme.figures(), "2026-11-01") == MonthRevenue(date(2026, 11, 1), 0, 0)

    acme.post(draft["id"], "finalize")

    figures = acme.figures()
    assert owed(figures) == (TOTAL, 1, 0, 0)
    assert month(figures, "2026-11-01") == MonthRevenue(date(2026, 11, 1), TOTAL, 1)
    assert (figures.paid_last_30_days, figures.uncollectible) == (0, 0)


def test_payments_lower_what_is_outstanding_and_count_as_paid(acme: Books) -> None:
    invoice = acme.finalized()

    acme.pay(invoice["id"], 1000)
    figures = acme.figures()
    assert owed(figures) == (TOTAL - 1000, 1, 0, 0)
    assert (figures.paid_last_30_days, figures.payments_last_30_days) == (1000, 1)

    acme.pay(invoice["id"], TOTAL - 1000, method="cheque")
    figures = acme.figures()
    assert owed(figures) == (0, 0, 0, 0)
    assert (figures.paid_last_30_days, figures.payments_last_30_days) == (TOTAL, 2)
    assert month(figures, "2026-11-01").amount == TOTAL  # revenue is what was issued, paid or not


def test_an_overpayment_counts_in_full_and_the_credit_it_leaves_is_not_paid_again(acme: Books) -> None:
    first = acme.finalized()
    acme.pay(first["id"], 3000)  # 620 beyond what was due: the customer's credit

    second = acme.finalized()  # the credit pays 620 of it
    assert (second["credit_applied"], second["amount_due"]) == (620, TOTAL - 620)
    figures = acme.figures()
    assert owed(figures) == (TOTAL - 620, 1, 0, 0)
    assert (figures.paid_last_30_days, figures.payments_last_30_days) == (3000, 1)
    assert month(figures, "2026-11-01") == MonthRevenue(date(2026, 11, 1), 2 * TOTAL, 2)

    # An invoice the credit pays in full is issued, and never outstanding
    added = acme.billing.api.post(
        f"{acme.billing.base}/customers/{acme.billing.customer}/balance_transactions", {"amount": TOTAL}
    )
    assert added.status == 201, added.body
    third = acme.finalized()
    assert third["status"] == "paid"
    figures = acme.figures()
    assert owed(figures) == (TOTAL - 620, 1, 0, 0)
    assert figures.paid_last_30_days == 3000
    assert month(figures, "2026-11-01") == MonthRevenue(date(2026, 11, 1), 3 * TOTAL, 3)


def test_voiding_takes_an_invoice_out_of_outstanding_and_revenue_but_not_what_was_paid(
    acme: Books,
) -> None:
    kept, voided = acme.finalized(), acme.finalized()
    acme.pay(voided["id"], 1000)

    acme.post(voided["id"], "void")

    figures = acme.figures()
    assert owed(figures) == (TOTAL, 1, 0, 0)
    assert month(figures, "2026-11-01") == MonthRevenue(date(2026, 11, 1), TOTAL, 1)
    assert figures.paid_last_30_days == 1000  # received; it went back to the customer's credit
    assert kept["status"] == "open"


def test_an_uncollectible_invoice_is_shown_apart_from_outstanding_until_voided(acme: Books) -> None:
    invoice = acme.finalized()
    acme.pay(invoice["id"], 380)

    acme.post(invoice["id"], "mark_uncollectible")
    figures = acme.figures()
    assert owed(figures) == (0, 0, 0, 0)
    assert (figures.uncollectible, figures.uncollectible_invoices) == (2000, 1)
    assert month(figures, "2026-11-01").amount == TOTAL  # written off, still issued

    acme.post(invoice["id"], "void")
    figures = acme.figures()
    assert (figures.uncollectible, figures.uncollectible_invoices) == (0, 0)
    assert month(figures, "2026-11-01") == MonthRevenue(date(2026, 11, 1), 0, 0)


def test_each_currency_has_its_own_figures_the_default_first(acme: Books) -> None:
    dollars = acme.billing.new_customer(name="Initech Inc", currency="USD")
    pounds = acme.billing.new_customer(name="Brit Ltd", currency="GBP")
    usd = acme.finalized(customer_id=dollars, unit_amount=5000)
    acme.pay(usd["id"], 1000)
    acme.billing.draft(customer_id=pounds)  # a draft: nothing in GBP yet
    acme.finalized()

    overview = acme.overview()

    assert [figures.currency for figures in overview.currencies] == ["EUR", "USD"]
    assert owed(acme.figures("EUR")) == (TOTAL, 1, 0, 0)
    assert owed(acme.figures("USD")) == (usd["total"] - 1000, 1, 0, 0)
    assert acme.figures("USD").paid_last_30_days == 1000
    assert acme.figures("EUR").paid_last_30_days == 0
    assert month(acme.figures("USD"), "2026-11-01").amount == usd["total"] == 11900


def test_overdue_moves_with_the_clock_in_the_organisations_time_zone(
    acme: Books, clock: SettableClock
) -> None:
    sooner = acme.finalized(days_until_due=14)  # due 2026-12-06
    later = acme.finalized(days_until_due=30)  # due 2026-12-22
    assert (sooner["due_date"], later["due_date"]) == ("2026-12-06", "2026-12-22")

    clock.set("2026-12-06T22:59:00+00:00")  # 23:59 on the due date in Berlin
    assert owed(acme.figures()) == (2 * TOTAL, 2, 0, 0)
    assert acme.overview().needing_attention == ()

    clock.set("2026-12-06T23:00:00+00:00")  # midnight in Berlin: the day after
    assert owed(acme.figures()) == (2 * TOTAL, 2, TOTAL, 1)
    attention = acme.overview().needing_attention
    assert [(invoice.id, invoice.overdue) for invoice in attention] == [(sooner["id"], True)]

    acme.pay(sooner["id"], 1000)  # a part paid late
    assert owed(acme.figures()) == (2 * TOTAL - 1000, 2, TOTAL - 1000, 1)

    clock.set("2026-12-23T09:00:00+00:00")
    assert owed(acme.figures()) == (2 * TOTAL - 1000, 2, 2 * TOTAL - 1000, 2)
    assert [invoice.id for invoice in acme.overview().needing_attention] == [sooner["id"], later["id"]]

    acme.pay(sooner["id"], TOTAL - 1000)
    assert owed(acme.figures()) == (TOTAL, 1, TOTAL, 1)
    assert [invoice.id for invoice in acme.overview().needing_attention] == [later["id"]]


def test_needing_attention_is_the_ten_oldest_overdue_invoices(acme: Books, clock: SettableClock) -> None:
    due_in = [5, 3, 11, 0, 7, 1, 9, 2, 10, 4, 8, 6]
    invoices = {days: acme.finalized(days_until_due=days)["id"] for days in due_in}
    not_yet = acme.finalized(days_until_due=40)["id"]

    clock.advance(days=20)
    overview = acme.overview()

    assert [invoice.id for invoice in overview.needing_attention] == [invoices[days] for days in range(10)]
    assert all(invoice.overdue for invoice in overview.needing_attention)
    assert not_yet not in [invoice.id for invoice in overview.needing_attention]
    assert owed(overview.currencies[0]) == (13 * TOTAL, 13, 12 * TOTAL, 12)


def test_paid_in_the_last_30_days_is_today_and_the_29_days_before(acme: Books, clock: SettableClock) -> None:
    invoice = acme.finalized()
    acme.pay(invoice["id"], 100, received_on="2026-10-24")  # 29 days before 2026-11-22
    acme.pay(invoice["id"], 200, received_on="2026-10-23")  # 30 days before: outside
    acme.pay(invoice["id"], 400)  # today

    figures = acme.figures()
    assert (figures.paid_last_30_days, figures.payments_last_30_days) == (500, 2)

    clock.advance(days=1)
    figures = acme.figures()
    assert (figures.paid_last_30_days, figures.payments_last_30_days) == (400, 1)

    clock.advance(days=29)  # 2026-12-22: the payment of 2026-11-22 was 30 days ago
    assert acme.figures().paid_last_30_days == 0


def test_revenue_months_follow_the_organisations_time_zone(aws: None, clock: SettableClock) -> None:
    books = new_books(timezone="America/New_York")

    clock.set("2026-12-01T04:30:00+00:00")  # 23:30 on 30 November in New York
    november = books.finalized()
    assert november["issue_date"] == "2026-11-30"
    figures = books.figures()
    assert figures.revenue_by_month[-1] == MonthRevenue(date(2026, 11, 1), TOTAL, 1)

    clock.set("2026-12-01T05:30:00+00:00")  # 00:30 on 1 December in New York
    december = books.finalized()
    assert december["issue_date"] == "2026-12-01"
    figures = books.figures()
    assert [(m.month, m.amount) for m in figures.revenue_by_month[-2:]] == [
        (date(2026, 11, 1), TOTAL),
        (date(2026, 12, 1), TOTAL),
    ]
    assert figures.revenue_by_month[0].month == date(2026, 1, 1)

    clock.set("2027-11-15T12:00:00+00:00")  # a year on: November 2026 has left the 12 months
    figures = books.figures()
    assert figures.revenue_by_month[0] == MonthRevenue(date(2026, 12, 1), TOTAL, 1)
    assert sum(m.amount for m in figures.revenue_by_month) == TOTAL


def test_a_card_payment_counts_as_paid_a_failed_one_does_not_and_a_refund_reopens_the_invoice(
    acme: Books, monkeypatch: pytest.MonkeyPatch
) -> None:
    from remit.bootstrap import services
    from tests.integration.test_card_webhooks import SECRETS_PREFIX, connect_stripe, sign, stripe_event

    monkeypatch.setenv("REMIT_SECRETS_PREFIX", SECRETS_PREFIX)
    reset_remit()
    connect_stripe(acme.org)
    invoice = acme.finalized()

    def deliver(event_id: str, kind: str, **fields: Any) -> None:
        body = stripe_event(event_id, kind, acme.org, invoice["id"], **fields)
        assert services().card_events.handle(acme.org, body, sign(body)) == "applied"

    deliver("evt_failed", "payment_intent.payment_failed", intent="pi_declined")
    assert acme.figures().paid_last_30_days == 0

    deliver("evt_paid", "payment_intent.succeeded")
    figures = acme.figures()
    assert owed(figures) == (0, 0, 0, 0)
    assert (figures.paid_last_30_days, figures.payments_last_30_days) == (TOTAL, 1)

    deliver("evt_refunded", "charge.refunded", amount=1000)
    figures = acme.figures()
    assert owed(figures) == (1000, 1, 0, 0)  # open again for what went back
    assert figures.paid_last_30_days == TOTAL  # gross: refunds are not subtracted


# --- failures and concurrency ---------------------------------------------------------------------


def test_a_cancelled_transaction_changes_no_figure(acme: Books) -> None:
    from remit.adapters.dynamodb import DynamoTable
    from remit.adapters.dynamodb_billing import DynamoBillingStore
    from remit.domain.errors import ConcurrentUpdate
    from remit.domain.payment import Payment

    # A finalization cancelled by one of its own writes (the number is taken by a stray marker)
    boto3.client("dynamodb").put_item(
        TableName=TABLES["BillingTable"],
        Item={"PK": {"S": f"ORG#{acme.org}"}, "SK": {"S": "INVNUM#ACME-00001"}, "entity": {"S": "x"}},
    )
    draft = acme.billing.draft()
    assert acme.billing.api.post(f"{acme.billing.invoice(draft['id'])}/finalize").status == 409
    assert overview_items(acme.org) == []
    assert owed(acme.figures()) == (0, 0, 0, 0)

    # A payment staged on an invoice read before another payment changed it
    boto3.client("dynamodb").delete_item(
        TableName=TABLES["BillingTable"],
        Key={"PK": {"S": f"ORG#{acme.org}"}, "SK": {"S": "INVNUM#ACME-00001"}},
    )
    invoice = acme.finalized()
    store = DynamoBillingStore(DynamoTable(lambda: boto3.client("dynamodb"), TABLES["BillingTable"]))
    stale = store.get_invoice(acme.org, invoice["id"])
    assert stale is not None
    acme.pay(invoice["id"], 500)
    before, items = acme.overview(), overview_items(acme.org)

    now = datetime(2026, 11, 22, 9, 30, tzinfo=UTC)
    paid, _ = stale.record_payment(1000, now)
    transaction = store.transaction(acme.org)
    transaction.update_invoice(paid, as_read=stale)
    transaction.insert_payment(
        Payment(
            id="pay_stale",
            invoice_id=invoice["id"],
            customer_id=invoice["customer_id"],
            amount=1000,
            currency="EUR",
            method="cash",
            received_on=date(2026, 11, 22),
            created_at=now,
        )
    )
    with pytest.raises(ConcurrentUpdate):
        transaction.commit()

    assert acme.overview() == before
    assert overview_items(acme.org) == items
    assert owed(before.currencies[0]) == (TOTAL - 500, 1, 0, 0)


def test_a_payment_whose_answer_was_lost_counts_once(acme: Books) -> None:
    invoice = acme.finalized()
    path, key = f"{acme.billing.invoice(invoice['id'])}/payments", str(uuid.uuid4())
    body = {"amount": 1000, "method": "bank_transfer"}
    with injected("timeout_after", Calls("TransactWriteItems")):
        lost = acme.billing.api.post(path, body, headers={"Idempotency-Key": key})
    assert lost.status == 503

    again = acme.billing.api.post(path, body, headers={"Idempotency-Key": key})

    assert again.status == 201, again.body
    figures = acme.figures()
    assert (figures.paid_last_30_days, figures.payments_last_30_days) == (1000, 1)
    assert owed(figures) == (TOTAL - 1000, 1, 0, 0)


@pytest.mark.concurrency
def test_payments_on_different_invoices_at_the_same_time_all_count(served_aws: None) -> None:
    from remit.bootstrap import services
    from remit.domain.payment import NewOfflinePayment
    from tests.integration.test_billing_concurrency import organisation_with_drafts, race

    account = services().accounts.create_account("Racing").account_id
    organisation, drafts = organisation_with_drafts(account, "Acme Ltd", 8)
    invoices = [
        services().invoice_lifecycle.finalize(account, organisation, draft, "https://x.test")
        for draft in drafts
    ]
    total = invoices[0].total

    race(
        8,
        lambda n: services().payments.record_offline_payment(
            account, organisation, invoices[n].id, NewOfflinePayment(amount=total - n, method="cash")
        ),
    )

    figures = services().overview.figures(account, organisation).currencies[0]
    assert (figures.outstanding, figures.outstanding_invoices) == (sum(range(8)), 7)
    assert (figures.paid_last_30_days, figures.payments_last_30_days) == (8 * total - sum(range(8)), 8)
    assert figures.revenue_by_month[-1].amount == 8 * total


# --- data stored before the counters ------------------------------------------------------------


def forget_the_counters(org: str) -> None:
    """Make the organisation's data look as a version before the overview stored it."""
    client = boto3.client("dynamodb")
    for item in overview_items(org):
        client.delete_item(TableName=TABLES["BillingTable"], Key={"PK": item["PK"], "SK": item["SK"]})
    for prefix in ("INVOICE#", "PAYMENT#"):
        for item in client.query(
            TableName=TABLES["BillingTable"],
            KeyConditionExpression="PK = :pk AND begins_with(SK, :prefix)",
            ExpressionAttributeValues={":pk": {"S": f"ORG#{org}"}, ":prefix": {"S": prefix}},
        )["Items"]:
            client.update_item(
                TableName=TABLES["BillingTable"],
                Key={"PK": item["PK"], "SK": item["SK"]},
                UpdateExpression="REMOVE in_overview",
            )


def not_zero(items: list[dict[str, Any]]) -> list[tuple[str, int, int] | str]:
    """The markers, and each counter's shards added up, in key order, without the counters back at
    zero (their invoices left them)."""
    counters: dict[str, tuple[int, int]] = {}
    markers: list[tuple[str, int, int] | str] = []
    for item in items:
        sk = item["SK"]["S"]
        if not sk.startswith("STATS#"):
            markers.append(sk)
            continue
        counter = sk.rsplit("#", 1)[0]  # the counter, whichever shard
        amount, count = counters.get(counter, (0, 0))
        counters[counter] = (amount + int(item["amount"]["N"]), count + int(item["count"]["N"]))
    kept: list[tuple[str, int, int] | str] = [
        (counter, amount, count) for counter, (amount, count) in counters.items() if amount or count
    ]
    return sorted(kept + markers, key=lambda entry: entry if isinstance(entry, str) else entry[0])


def a_bit_of_everything(books: Books, clock: SettableClock) -> dict[str, str]:
    """Open, overdue, partly paid, paid, void, uncollectible, another currency and a draft."""
    dollars = books.billing.new_customer(name="Initech Inc", currency="USD")
    made = {
        "overdue": books.finalized(days_until_due=3)["id"],
        "partly paid": books.finalized(days_until_due=30)["id"],
        "paid": books.finalized()["id"],
        "void": books.finalized()["id"],
        "uncollectible": books.finalized()["id"],
        "dollars": books.finalized(customer_id=dollars)["id"],
        "draft": books.billing.draft()["id"],
    }
    books.pay(made["partly paid"], 1000, received_on="2026-11-01")
    books.pay(made["paid"], TOTAL)
    books.pay(made["void"], 700)
    books.post(made["void"], "void")
    books.post(made["uncollectible"], "mark_uncollectible")
    clock.advance(days=10)
    return made


def test_the_backfill_counts_older_data_as_the_counters_do_once(acme: Books, clock: SettableClock) -> None:
    from remit.admin import backfill_overview

    a_bit_of_everything(acme, clock)
    maintained, items = acme.overview(), overview_items(acme.org)
    assert owed(maintained.currencies[0]) == (2 * TOTAL - 1000, 2, TOTAL, 1)

    forget_the_counters(acme.org)
    assert owed(acme.figures()) == (0, 0, 0, 0)
    assert acme.overview().needing_attention == ()

    first, second = backfill_overview(TABLES["BillingTable"]), backfill_overview(TABLES["BillingTable"])

    assert first == 8  # 5 invoices (not the draft nor the void one) and 3 payments
    assert second is None
    assert acme.overview() == maintained
    assert not_zero(overview_items(acme.org)) == not_zero(items)


def test_an_older_invoice_changed_before_the_backfill_is_counted_once(
    acme: Books, clock: SettableClock
) -> None:
    from remit.admin import backfill_overview

    made = a_bit_of_everything(acme, clock)
    expected = acme.overview()
    forget_the_counters(acme.org)

    # Paid in full, and the overdue one voided, by this version before the backfill has run
    acme.pay(made["partly paid"], TOTAL - 1000)
    acme.post(made["overdue"], "void")
    assert owed(acme.figures()) == (0, 0, 0, 0)  # what was never counted is not taken off
    # the paid, uncollectible and dollar invoices; the 3 payments recorded before
    assert backfill_overview(TABLES["BillingTable"]) == 6

    figures = acme.figures()
    before = expected.currencies[0]
    assert owed(figures) == (0, 0, 0, 0)
    assert figures.paid_last_30_days == before.paid_last_30_days + TOTAL - 1000
    assert figures.payments_last_30_days == before.payments_last_30_days + 1
    assert month(figures, "2026-11-01").amount == month(before, "2026-11-01").amount - TOTAL
    assert figures.uncollectible == before.uncollectible == TOTAL
    assert acme.figures("USD") == expected.in_currency("USD")
    assert acme.overview().needing_attention == ()


# --- the cost of reading it ---------------------------------------------------------------------


def model_invoice(books: Books) -> Invoice:
    """A real invoice of the organisation, finalized through the API, for stored books to copy."""
    from remit.adapters.dynamodb import DynamoTable
    from remit.adapters.dynamodb_billing import DynamoBillingStore

    store = DynamoBillingStore(DynamoTable(lambda: boto3.client("dynamodb"), TABLES["BillingTable"]))
    model = store.get_invoice(books.org, books.billing.draft(days_until_due=14)["id"])
    assert model is not None
    return model.model_copy(update={"status": "open", "issue_date": date(2026, 11, 22)})


def test_reading_the_overview_costs_the_same_with_thousands_of_invoices(
    acme: Books, clock: SettableClock
) -> None:
    from tests.integration import stored_books

    # Given an organisation with a few invoices, overdue ones among them
    for days in (0, 5, 30):
        acme.finalized(days_until_due=days)
    clock.advance(days=10)
    with counting_reads() as few:
        small = acme.overview()
    assert len(small.needing_attention) == 2

    # When it has two years of invoices besides: 5,000, a tenth of them open, 4,250 payments
    books = stored_books.older_books(model_invoice(acme), 5000, through=date(2026, 11, 22))
    stored_books.store(TABLES["BillingTable"], acme.org, books, counted=True)
    with counting_reads() as many:
        large = acme.overview()

    # Then reading the overview makes the same calls, and reads about as many items
    open_ones = [invoice for invoice in books.invoices if invoice.status == "open"]
    overdue = [invoice for invoice in open_ones if invoice.due_date < date(2026, 12, 2)]
    assert len(open_ones) == 500
    late = 2 + len(overdue)
    assert owed(large.currencies[0]) == (503 * TOTAL, 503, late * TOTAL, late)
    assert len(large.needing_attention) == 10
    assert [invoice.id for invoice in large.needing_attention] == [invoice.id for invoice in overdue[:10]]
    assert few["calls"] == many["calls"] == 7  # the organisation, 5 queries, at most 10 invoices
    assert many["scans"] == 0
    # 1 organisation, 1 total, future due dates (4 here), 30 days paid, 12 months, 10 markers, 10
    # invoices; each counter in up to 8 shards, as the transactions that wrote it chose
    assert many["items"] <= 70 + 7 * 20, many
    print(f"overview read: {few} with 3 invoices, {many} with 5,003")


def test_the_backfill_counts_years_of_older_books_as_this_version_would_have(
    aws: None, clock: SettableClock
) -> None:
    from remit.admin import backfill_overview
    from tests.integration import stored_books

    # Given the same two years of books in two organisations: one stored as this version stores
    # them, one as a version before the overview did
    counted, older = new_books(), new_books()
    for books, is_counted in ((counted, True), (older, False)):
        model = model_invoice(books)
        stored = stored_books.older_books(model, 400, through=date(2026, 11, 22))
        stored_books.store(TABLES["BillingTable"], books.org, stored, counted=is_counted)

    # When the backfill runs
    assert backfill_overview(TABLES["BillingTable"]) == 380 + 340  # not the 20 void invoices

    # Then both show the same figures
    assert older.overview().currencies == counted.overview().currencies
    assert len(older.overview().needing_attention) == 10
    assert older.figures().revenue_by_month == counted.figures().revenue_by_month


def test_the_overview_of_another_accounts_organisation_is_not_found(acme: Books) -> None:
    from remit.bootstrap import services
    from remit.domain.errors import NotFound

    stranger = services().accounts.create_account("Intruder").account_id
    with pytest.raises(NotFound):
        services().overview.figures(stranger, acme.org)
    with pytest.raises(NotFound):
        services().overview.figures(acme.account_id, "org_nonexistent")


def test_a_counter_is_spread_over_shards_that_a_read_adds_up(acme: Books) -> None:
    """Concurrent changes in one currency write one of 8 items of each counter, not all the same one."""
    for _ in range(20):
        acme.finalized(days_until_due=30)

    shards = {
        item["SK"]["S"]
        for item in overview_items(acme.org)
        if item["SK"]["S"].startswith("STATS#TOTAL#OPEN#")
    }

    assert len(shards) > 1
    assert owed(acme.figures())[:2] == (20 * TOTAL, 20)
