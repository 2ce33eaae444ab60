"""Organisation settings: bank details, invoice numbering, default prefix and reminders."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from remit.domain.changes import build
from remit.domain.organisation import (
    BankTransferDetails,
    InvoiceNumbering,
    NewOrganisation,
    Reminders,
    default_number_prefix,
)
from tests.unit.builders import an_organisation, problems_of, pure_property

# --- Bank transfer details -----------------------------------------------------------------------


def test_an_iban_and_bic_are_stored_in_their_compact_upper_case_form() -> None:
    details = build(
        BankTransferDetails,
        {"account_name": "Acme Ltd", "iban": "fr76 3000 6000 0112 3456 7890 189", "bic": "deutdeff"},
    )

    assert details.iban == "FR7630006000011234567890189"
    assert details.bic == "DEUTDEFF"


def test_an_iban_with_a_wrong_checksum_is_refused_naming_it() -> None:
    problems = problems_of(BankTransferDetails, {"iban": "FR7630006000011234567890188"})

    assert problems == {
        "iban": "'FR7630006000011234567890188' is not a valid IBAN "
        "(The number's checksum or check digit is invalid.)"
    }


@pytest.mark.parametrize("bic", ["DEUTDEFX1", "DEUT", "12345678"])
def test_a_malformed_bic_is_refused_naming_it(bic: str) -> None:
    problems = problems_of(BankTransferDetails, {"bic": bic})

    assert list(problems) == ["bic"]
    assert problems["bic"].startswith(f"'{bic}' is not a valid BIC")


def test_a_bad_iban_in_a_new_organisation_is_named_by_its_full_path() -> None:
    problems = problems_of(
        NewOrganisation,
        {
            "name": "Acme Ltd",
            "default_currency": "EUR",
            "payment_methods": {"bank_transfer": {"iban": "DE00000000000000000000"}},
        },
    )

    assert list(problems) == ["payment_methods.bank_transfer.iban"]


def test_bank_details_are_optional_field_by_field() -> None:
    details = build(
        BankTransferDetails, {"account_name": "Acme Ltd", "instructions": "Quote the invoice number"}
    )

    assert (details.iban, details.bic) == (None, None)


# --- Invoice numbering ---------------------------------------------------------------------------


def test_an_invoice_number_is_the_prefix_and_the_zero_padded_sequence() -> None:
    assert InvoiceNumbering(prefix="ACME-", padding=5).format(42) == "ACME-00042"


def test_a_sequence_wider_than_the_padding_is_never_truncated() -> None:
    assert InvoiceNumbering(prefix="ACME-", padding=2).format(12345) == "ACME-12345"


def test_an_organisation_without_a_prefix_numbers_with_digits_only() -> None:
    assert InvoiceNumbering().format(7) == "00007"


def test_numbering_starts_at_1_with_5_digits_by_default() -> None:
    assert InvoiceNumbering().model_dump() == {"prefix": "", "padding": 5, "next_number": 1}


@pytest.mark.parametrize("prefix", ["ACME 2025-", "ACME-€", "A" * 21, "ACME\t2025"])
def test_a_prefix_with_spaces_symbols_or_over_20_characters_is_refused(prefix: str) -> None:
    assert list(problems_of(InvoiceNumbering, {"prefix": prefix})) == ["prefix"]


@pytest.mark.parametrize(("field", "value"), [("padding", 0), ("padding", 13), ("next_number", 0)])
def test_numbering_out_of_its_bounds_is_refused(field: str, value: int) -> None:
    assert list(problems_of(InvoiceNumbering, {field: value})) == [field]


@pure_property
@given(
    prefix=st.from_regex(r"[A-Za-z0-9\-_/.#]{0,20}", fullmatch=True),
    padding=st.integers(min_value=1, max_value=12),
    sequence=st.integers(min_value=1, max_value=10**12),
)
def test_any_invoice_number_starts_with_the_prefix_and_reads_back_as_its_sequence(
    prefix: str, padding: int, sequence: int
) -> None:
    numbering = build(InvoiceNumbering, {"prefix": prefix, "padding": padding})

    number = numbering.format(sequence)

    assert number.startswith(prefix)
    digits = number.removeprefix(prefix)
    assert digits.isdigit()
    assert len(digits) >= padding
    assert int(digits) == sequence


# --- Default number prefix -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "prefix"),
    [
        ("Acme Ltd", "ACME-"),
        ("Globex GmbH", "GLOB-"),
        ("3M", "3M-"),
        ("O'Brien & Co", "OBRI-"),
        ("A", "A-"),
        ("株式会社", "INV-"),
        ("!!!", "INV-"),
    ],
)
def test_the_default_prefix_is_made_of_the_first_four_letters_or_digits_of_the_name(
    name: str, prefix: str
) -> None:
    assert default_number_prefix(name) == prefix


@pure_property
@given(name=st.text(min_size=1, max_size=200))
def test_the_default_prefix_of_any_name_is_a_valid_prefix(name: str) -> None:
    prefix = default_number_prefix(name)

    assert build(InvoiceNumbering, {"prefix": prefix}).prefix == prefix
    assert prefix.endswith("-")


# --- Reminders -----------------------------------------------------------------------------------


def test_reminder_days_are_sorted_and_given_once() -> None:
    reminders = build(Reminders, {"days_after_due": [30, 7, 15, 7, 30]})

    assert reminders.days_after_due == [7, 15, 30]


def test_an_organisation_is_reminded_15_days_after_due_by_default() -> None:
    assert an_organisation().reminders.model_dump() == {
        "enabled": True,
        "days_after_due": [15],
        "days_before_due": [],
    }


@pytest.mark.parametrize("day", [0, -1, 366])
def test_a_reminder_day_outside_1_to_365_is_refused(day: int) -> None:
    assert list(problems_of(Reminders, {"days_after_due": [15, day]})) == ["days_after_due.1"]


def test_more_than_10_reminder_days_are_refused() -> None:
    assert list(problems_of(Reminders, {"days_after_due": list(range(1, 12))})) == ["days_after_due"]


def test_reminders_can_be_switched_off_with_no_days() -> None:
    reminders = build(Reminders, {"enabled": False, "days_after_due": []})

    assert reminders.model_dump() == {"enabled": False, "days_after_due": [], "days_before_due": []}
