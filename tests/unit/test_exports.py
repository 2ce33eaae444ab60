"""The cells of an accounting export: formulas defused in text, amounts left numeric, tax rates as
column names, periods read from the query."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

import pytest

from remit.domain.errors import InvalidInput
from remit.domain.exports import (
    ExportPeriod,
    ExportRow,
    RateColumns,
    amount_cell,
    csv_line,
    parse_kind,
    rate_label,
    text_cell,
)


@pytest.mark.parametrize(
    ("text", "cell"),
    [
        ("=1+1", "'=1+1"),
        ("+41 79 000 00 00", "'+41 79 000 00 00"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
        ("\t=cmd", "'\t=cmd"),
        ("\r=cmd", "'\r=cmd"),
        ('   =HYPERLINK("http://evil.test")', '\'   =HYPERLINK("http://evil.test")'),
        ("Globex GmbH", "Globex GmbH"),
        ("株式会社東京商事", "株式会社東京商事"),
        ("a=b", "a=b"),
        ("", ""),
        (None, ""),
    ],
)
def test_a_text_cell_that_a_spreadsheet_would_run_as_a_formula_starts_with_a_quote(
    text: str | None, cell: str
) -> None:
    assert text_cell(text) == cell


@pytest.mark.parametrize(
    ("amount", "currency", "cell"),
    [
        (123450, "EUR", "1234.50"),
        (-1190, "EUR", "-11.90"),
        (5, "EUR", "0.05"),
        (0, "EUR", "0.00"),
        (1100, "JPY", "1100"),
        (-500, "JPY", "-500"),
        (1234567, "KWD", "1234.567"),
        (10**12, "EUR", "10000000000.00"),
    ],
)
def test_an_amount_is_a_plain_decimal_in_its_currencys_exponent_and_a_negative_one_is_not_escaped(
    amount: int, currency: str, cell: str
) -> None:
    assert amount_cell(amount, currency) == cell


@pytest.mark.parametrize(
    ("rate", "label"),
    [("20", "20.00"), ("7.5", "7.50"), ("0", "0.00"), ("8.875", "8.875"), ("19.0000", "19.00")],
)
def test_a_tax_rate_names_its_columns_with_at_least_two_decimals(rate: str, label: str) -> None:
    assert rate_label(Decimal(rate)) == label


def test_the_rate_columns_are_those_met_in_rate_order_with_empty_cells_where_a_row_has_none() -> None:
    columns = RateColumns()
    twenty = ExportRow(("A",), "EUR", {"20.00": (1000, 200)})
    seven = ExportRow(("B",), "JPY", {"7.50": (100, 8), "0.00": (50, 0)})
    for row in (twenty, seven):
        columns.add(row)

    assert columns.header(["doc"]) == [
        "doc",
        "net_0.00",
        "tax_0.00",
        "net_7.50",
        "tax_7.50",
        "net_20.00",
        "tax_20.00",
    ]
    assert columns.cells(twenty) == ["A", "", "", "", "", "10.00", "2.00"]
    assert columns.cells(seven) == ["B", "50", "0", "100", "8", "", ""]


def test_a_row_survives_its_trip_through_the_scratch_file() -> None:
    row = ExportRow(("'=x", "名前"), "EUR", {"19.00": (100, 19)})

    assert ExportRow.of_record(row.as_record()) == row


def test_a_csv_line_quotes_as_rfc_4180_says_and_ends_with_crlf() -> None:
    line = csv_line(["plain", 'say "hi"', "a,b", "two\nlines", "'=1+1"])

    assert line == 'plain,"say ""hi""","a,b","two\nlines",\'=1+1\r\n'
    assert next(csv.reader(io.StringIO(line, newline=""))) == [
        "plain",
        'say "hi"',
        "a,b",
        "two\nlines",
        "'=1+1",
    ]


def test_a_period_is_read_from_its_query_parameters() -> None:
    assert ExportPeriod.parse("2026-11-01", "2026-11-30") == ExportPeriod(
        date(2026, 11, 1), date(2026, 11, 30)
    )
    assert ExportPeriod.parse("2026-11-01", "2026-11-01").days == 1


@pytest.mark.parametrize(
    ("first", "last", "fields"),
    [
        (None, "2026-11-30", ["from"]),
        ("2026-11-01", "", ["to"]),
        ("2026-13-01", "30.11.2026", ["from", "to"]),
        ("2026-11-1", "2026-11-30", ["from"]),
        ("2026-11-30", "2026-11-01", ["to"]),
    ],
)
def test_a_bad_period_names_each_bad_parameter(
    first: str | None, last: str | None, fields: list[str]
) -> None:
    with pytest.raises(InvalidInput) as refused:
        ExportPeriod.parse(first, last)

    assert [problem.field for problem in refused.value.problems] == fields


def test_a_period_holds_a_moment_by_its_day_in_the_organisations_time_zone() -> None:
    from datetime import UTC, datetime

    november = ExportPeriod(date(2026, 11, 1), date(2026, 11, 30))
    late_on_the_31st_in_utc = datetime(2026, 10, 31, 23, 30, tzinfo=UTC)

    assert november.holds_moment(late_on_the_31st_in_utc, "Europe/Paris")
    assert not november.holds_moment(late_on_the_31st_in_utc, "UTC")


def test_an_unknown_kind_is_refused_naming_kind() -> None:
    assert parse_kind("payments") == "payments"
    with pytest.raises(InvalidInput) as refused:
        parse_kind("quotes")
    assert [problem.field for problem in refused.value.problems] == ["kind"]
