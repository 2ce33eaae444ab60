"""The dashboard's overview: what an organisation is owed, what it has been paid, what it has invoiced.

Every figure is per currency, in the currency's minor unit (exact integers, never converted):

* **outstanding**: the amount due of `open` invoices (a credit note lowers it by what it takes off
  the amount due). `uncollectible` invoices are not in it: they are shown apart (`uncollectible`),
  as written off;
* **overdue**: the part of outstanding whose due date is before today (the organisation's date);
* **paid in the last 30 days**: the payments received (offline and card) from 29 days before today
  through today, by the day they were received (`received_on`). Gross: a card payment refunded
  later still counts (refunds are not subtracted), and a failed card payment never does;
* **revenue by month**: for the current month and the 11 before it, the total (taxes included) of
  the invoices issued that month (by `issue_date`, the organisation's date at finalization), paid
  or not, uncollectible ones included, net of their credit notes (a credit note lowers its invoice's
  month, and voiding it restores it); a voided invoice leaves its month's total when voided.

The figures are not computed from the invoices on read: each invoice and payment contributes to a
few counters (`Bucket`s), and every change stores the difference it makes to them in its own
transaction (`bucket_changes`), so reading them costs the same whatever the number of invoices.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Literal

from remit.domain.invoice import Invoice
from remit.domain.payment import Payment

Figure = Literal["open", "uncollectible", "due", "paid", "issued"]

PAID_DAYS = 30
REVENUE_MONTHS = 12
ATTENTION_LIMIT = 10


@dataclass(frozen=True, order=True)
class Bucket:
    """One counter of an organisation's figures.

    `open` and `uncollectible`: all such invoices of the currency (no period); `due`: open invoices
    due on `period`; `paid`: payments received on `period`; `issued`: invoices issued in the month
    that starts on `period`.
    """

    figure: Figure
    currency: str
    period: date | None = None


@dataclass(frozen=True)
class Total:
    """What a bucket holds: an amount in minor units and how many invoices (or payments) make it."""

    amount: int = 0
    count: int = 0

    def __add__(self, other: Total) -> Total:
        return Total(self.amount + other.amount, self.count + other.count)

    def __neg__(self) -> Total:
        return Total(-self.amount, -self.count)

    def __bool__(self) -> bool:
        return bool(self.amount or self.count)


Buckets = Mapping[Bucket, Total]


def first_of_month(day: date) -> date:
    return day.replace(day=1)


def invoice_buckets(invoice: Invoice) -> dict[Bucket, Total]:
    """What one invoice, as stored, contributes to its organisation's figures."""
    buckets: dict[Bucket, Total] = {}
    currency = invoice.currency
    if invoice.status == "open":
        buckets[Bucket("open", currency)] = Total(invoice.amount_due, 1)
        buckets[Bucket("due", currency, invoice.due_date)] = Total(invoice.amount_due, 1)
    elif invoice.status == "uncollectible":
        buckets[Bucket("uncollectible", currency)] = Total(invoice.amount_due, 1)
    if invoice.status in ("open", "paid", "uncollectible") and invoice.issue_date is not None:
        revenue = invoice.total - invoice.credited_amount  # net of its issued credit notes
        buckets[Bucket("issued", currency, first_of_month(invoice.issue_date))] = Total(revenue, 1)
    return buckets


def payment_buckets(payment: Payment) -> dict[Bucket, Total]:
    """What one payment contributes: its amount on the day it was received, unless it failed.

    A payment refunded in full still counts (the figure is gross), whichever order the provider's
    events arrived in: a payment recorded as already refunded counts as one refunded later does.
    """
    if payment.status == "failed":
        return {}
    return {Bucket("paid", payment.currency, payment.received_on): Total(payment.amount, 1)}


def bucket_changes(before: Buckets, after: Buckets) -> dict[Bucket, Total]:
    """`after - before`, without the buckets that do not change."""
    changes: dict[Bucket, Total] = {}
    for bucket in set(before) | set(after):
        change = after.get(bucket, Total()) + -before.get(bucket, Total())
        if change:
            changes[bucket] = change
    return changes


@dataclass(frozen=True)
class OverviewWindow:
    """The days and months an overview covers, from today in the organisation's time zone."""

    today: date
    attention_limit: int = ATTENTION_LIMIT

    @property
    def paid_from(self) -> date:
        """The first day of the last 30 days (today is the last)."""
        return self.today - timedelta(days=PAID_DAYS - 1)

    @property
    def months(self) -> tuple[date, ...]:
        """The first days of the current month and the 11 before it, oldest first."""
        year, month = self.today.year, self.today.month
        firsts = []
        for back in range(REVENUE_MONTHS - 1, -1, -1):
            index = year * 12 + month - 1 - back
            firsts.append(date(index // 12, index % 12 + 1, 1))
        return tuple(firsts)


@dataclass(frozen=True)
class OverviewReading:
    """What the store read for an overview: the buckets of its window (the `open` and
    `uncollectible` totals, the `due` buckets from today on, the `paid` buckets of the last 30 days
    and the `issued` buckets of the 12 months; others are ignored), and the open invoices due before
    today, oldest due date first, at most `attention_limit`.
    """

    buckets: Buckets
    needing_attention: list[Invoice] = field(default_factory=list)


@dataclass(frozen=True)
class MonthRevenue:
    month: date  # its first day
    amount: int  # the total of the invoices issued in the month, void ones left out
    invoices: int


@dataclass(frozen=True)
class CurrencyFigures:
    """The overview's figures in one currency (amounts in its minor unit)."""

    currency: str
    outstanding: int
    outstanding_invoices: int
    overdue: int
    overdue_invoices: int
    uncollectible: int
    uncollectible_invoices: int
    paid_last_30_days: int
    payments_last_30_days: int
    revenue_by_month: tuple[MonthRevenue, ...]  # the 12 months, oldest first, months without any included


@dataclass(frozen=True)
class Overview:
    """An organisation's overview as of `today` (its date in its time zone `timezone`).

    `currencies`: the organisation's default currency first (always there, zeros included), then
    every other currency with a figure that is not zero, in code order. `needing_attention`: the
    open invoices due before today, oldest due date first (at most 10), with `overdue` set.
    """

    organisation_id: str
    today: date
    timezone: str
    currencies: tuple[CurrencyFigures, ...]
    needing_attention: tuple[Invoice, ...]

    def in_currency(self, currency: str) -> CurrencyFigures | None:
        return next((figures for figures in self.currencies if figures.currency == currency), None)


def _dated(buckets: Buckets, figure: Figure, currency: str) -> Iterator[tuple[date, Total]]:
    for bucket, total in buckets.items():
        if bucket.figure == figure and bucket.currency == currency and bucket.period is not None:
            yield bucket.period, total


def _sum(totals: Iterable[Total]) -> Total:
    result = Total()
    for total in totals:
        result += total
    return result


def summarise(
    organisation_id: str,
    default_currency: str,
    timezone: str,
    window: OverviewWindow,
    reading: OverviewReading,
) -> Overview:
    """The overview from what the store read."""
    today = window.today
    buckets = reading.buckets
    found = {bucket.currency for bucket in buckets}
    figures = []
    for currency in [default_currency, *sorted(found - {default_currency})]:
        outstanding = buckets.get(Bucket("open", currency), Total())
        due_later = _sum(total for day, total in _dated(buckets, "due", currency) if day >= today)
        # Read in separate requests, the buckets may straddle a change made meanwhile: never below
        # 0 nor above what is outstanding.
        overdue = Total(
            min(max(outstanding.amount - due_later.amount, 0), outstanding.amount),
            min(max(outstanding.count - due_later.count, 0), outstanding.count),
        )
        paid = _sum(
            total for day, total in _dated(buckets, "paid", currency) if window.paid_from <= day <= today
        )
        months = tuple(
            MonthRevenue(month, total.amount, total.count)
            for month in window.months
            for total in [buckets.get(Bucket("issued", currency, month), Total())]
        )
        uncollectible = buckets.get(Bucket("uncollectible", currency), Total())
        currency_figures = CurrencyFigures(
            currency=currency,
            outstanding=outstanding.amount,
            outstanding_invoices=outstanding.count,
            overdue=overdue.amount,
            overdue_invoices=overdue.count,
            uncollectible=uncollectible.amount,
            uncollectible_invoices=uncollectible.count,
            paid_last_30_days=paid.amount,
            payments_last_30_days=paid.count,
            revenue_by_month=months,
        )
        nothing = not (outstanding or uncollectible or paid or any(m.amount or m.invoices for m in months))
        if currency == default_currency or not nothing:
            figures.append(currency_figures)
    attention = tuple(invoice.as_seen_on(today) for invoice in reading.needing_attention)
    return Overview(organisation_id, today, timezone, tuple(figures), attention)
