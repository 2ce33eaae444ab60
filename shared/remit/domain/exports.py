"""Accounting exports: which documents a period selects, and each one as a spreadsheet row.

A row is a tuple of cells, each already text as the CSV will hold it. Two kinds of cell:

* **amounts and counts** are plain decimal strings in the currency's exponent (`1234.50`,
  `-80.00`, `500` for JPY): no thousands separator, a leading `-` for a negative amount. They come
  from integers, so they can never hold a formula, and they are never escaped: a spreadsheet must
  read them as numbers.
* **text** (names, references, numbers of documents, e-mail addresses) is untrusted: a cell that
  starts, after any leading spaces, with `=`, `+`, `-`, `@`, a tab or a carriage return gets a
  single quote in front (OWASP's advice against CSV injection), so a spreadsheet shows it as text
  instead of running it as a formula.

Tax is broken down by rate: each row carries its net and tax amount per rate, and the file has a
pair of columns `net_<rate>` / `tax_<rate>` for every rate present in the export, in rate order.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal, get_args
from zoneinfo import ZoneInfo

from remit.domain.errors import FieldProblem, InvalidInput
from remit.domain.invoice import TaxBreakdownLine
from remit.domain.values import currency_exponent

AccountingKind = Literal["invoices", "credit_notes", "payments", "customers"]
ACCOUNTING_KINDS: tuple[str, ...] = get_args(AccountingKind)

#: The characters a spreadsheet may take as the start of a formula (OWASP, "CSV Injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

#: Excel recognises UTF-8 only with a byte order mark.
UTF8_BOM = "\ufeff"


@dataclass(frozen=True)
class ExportPeriod:
    """The days `first` to `last`, both included."""

    first: date
    last: date

    @classmethod
    def parse(cls, first: str | None, last: str | None) -> ExportPeriod:
        """The period from the query's `from` and `to` (YYYY-MM-DD). Raises `InvalidInput` naming
        each missing or unreadable parameter, or `to` when it is before `from`."""
        errors: list[FieldProblem] = []
        days: dict[str, date] = {}
        for name, text in (("from", first), ("to", last)):
            if not text:
                errors.append(FieldProblem(name, "Required: a date as YYYY-MM-DD."))
                continue
            try:
                if len(text) != 10:
                    raise ValueError(text)
                days[name] = date.fromisoformat(text)
            except ValueError:
                errors.append(FieldProblem(name, "Not a date as YYYY-MM-DD."))
        if errors:
            raise InvalidInput(errors)
        return cls.between(days["from"], days["to"])

    @classmethod
    def between(cls, first: date, last: date) -> ExportPeriod:
        """The days `first` to `last`; `InvalidInput` naming `to` when it is before `from`."""
        if last < first:
            raise InvalidInput([FieldProblem("to", "Must be on or after `from`.")])
        return cls(first, last)

    def holds(self, day: date) -> bool:
        return self.first <= day <= self.last

    def holds_moment(self, moment: datetime, timezone: str) -> bool:
        """Whether `moment` falls on one of the period's days in `timezone` (the organisation's)."""
        return self.holds(moment.astimezone(ZoneInfo(timezone)).date())

    def file_name(self, kind: str) -> str:
        return f"{kind}_{self.first.isoformat()}_{self.last.isoformat()}.csv"

    @property
    def days(self) -> int:
        return (self.last - self.first + timedelta(days=1)).days


def parse_kind(kind: str) -> AccountingKind:
    """The accounting export `kind` names; `InvalidInput` naming `kind` otherwise."""
    if kind not in ACCOUNTING_KINDS:
        raise InvalidInput([FieldProblem("kind", f"One of {', '.join(ACCOUNTING_KINDS)}.")])
    return kind  # type: ignore[return-value]


def text_cell(value: object) -> str:
    """`value` as a text cell: empty for None, a quote in front of anything a spreadsheet would
    take for a formula (see the module)."""
    if value is None:
        return ""
    text = str(value)
    if text.lstrip(" ").startswith(FORMULA_STARTS):
        return "'" + text
    return text


def amount_cell(amount: int, currency: str) -> str:
    """Minor units as a plain decimal in the currency's exponent: 123450 EUR → `1234.50`."""
    exponent = currency_exponent(currency)
    return format(Decimal(amount).scaleb(-exponent), f".{exponent}f")


def count_cell(value: int | None) -> str:
    return "" if value is None else str(value)


def rate_label(rate: Decimal) -> str:
    """A tax rate as its columns name it: at least two decimals (`20.00`, `7.50`, `8.875`)."""
    two = rate.quantize(Decimal("0.01"))
    return format(two if two == rate else rate.normalize(), "f")


@dataclass(frozen=True)
class ExportRow:
    """One document as a row: its fixed cells, and its net and tax per rate (minor units)."""

    cells: tuple[str, ...]
    currency: str | None = None
    taxes: Mapping[str, tuple[int, int]] = field(default_factory=dict)

    def as_record(self) -> list[object]:
        """The row as JSON can keep it between the two passes of a file (see `RateColumns`)."""
        return [list(self.cells), self.currency, {rate: list(pair) for rate, pair in self.taxes.items()}]

    @classmethod
    def of_record(cls, record: Sequence[Any]) -> ExportRow:
        cells, currency, taxes = record
        return cls(tuple(cells), currency, {rate: (pair[0], pair[1]) for rate, pair in taxes.items()})


def taxes_of(breakdown: Iterable[TaxBreakdownLine], *, sign: int = 1) -> dict[str, tuple[int, int]]:
    taxes: dict[str, tuple[int, int]] = {}
    for line in breakdown:
        label = rate_label(line.tax_rate)
        net, tax = taxes.get(label, (0, 0))
        taxes[label] = (net + sign * line.taxable_amount, tax + sign * line.tax_amount)
    return taxes


class RateColumns:
    """The tax rates met in an export so far: the file's `net_<rate>`/`tax_<rate>` columns."""

    def __init__(self) -> None:
        self._rates: set[str] = set()

    def add(self, row: ExportRow) -> None:
        self._rates.update(row.taxes)

    @property
    def rates(self) -> list[str]:
        return sorted(self._rates, key=Decimal)

    def header(self, fixed: Sequence[str]) -> list[str]:
        return [*fixed, *(f"{part}_{rate}" for rate in self.rates for part in ("net", "tax"))]

    def cells(self, row: ExportRow) -> list[str]:
        extra: list[str] = []
        for rate in self.rates:
            pair = row.taxes.get(rate)
            if pair is None or row.currency is None:
                extra.extend(("", ""))
            else:
                extra.extend(amount_cell(amount, row.currency) for amount in pair)
        return [*row.cells, *extra]


def csv_line(cells: Sequence[str]) -> str:
    """One CSV record as RFC 4180 writes it: fields quoted where they need it, CRLF at the end."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL).writerow(cells)
    return buffer.getvalue()
