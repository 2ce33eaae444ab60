"""Value objects as a user meets them: currencies, countries, time zones, emails, colours, tax rates."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from remit.domain.changes import build
from remit.domain.customer import NewCustomer
from remit.domain.organisation import NewBranding, NewOrganisation
from remit.domain.values import Address, Percentage, currency_exponent
from tests.unit.builders import a_customer, an_organisation, problems_of, pure_property

# --- Currencies ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("given_code", "stored_code"), [("EUR", "EUR"), ("jpy", "JPY"), ("Kwd", "KWD")])
def test_an_iso_4217_currency_is_accepted_and_upper_cased(given_code: str, stored_code: str) -> None:
    organisation = build(NewOrganisation, {"name": "Acme Ltd", "default_currency": given_code})

    assert organisation.default_currency == stored_code


@pytest.mark.parametrize("code", ["ABC", "EURO", "EU", ""])
def test_an_unknown_currency_code_is_refused(code: str) -> None:
    problems = problems_of(NewOrganisation, {"name": "Acme Ltd", "default_currency": code})

    assert problems == {"default_currency": f"'{code}' is not an ISO 4217 currency code"}


@pytest.mark.parametrize("code", ["XAU", "XAG", "XDR", "XTS", "XXX"])
def test_a_currency_without_minor_unit_is_refused(code: str) -> None:
    problems = problems_of(NewOrganisation, {"name": "Acme Ltd", "default_currency": code})

    assert problems == {"default_currency": f"'{code}' is not a currency that invoices can be issued in"}


@pytest.mark.parametrize(("code", "decimals"), [("JPY", 0), ("EUR", 2), ("USD", 2), ("KWD", 3), ("BHD", 3)])
def test_the_currency_exponent_is_the_number_of_decimals_of_its_minor_unit(code: str, decimals: int) -> None:
    assert currency_exponent(code) == decimals


def test_the_exponent_of_a_currency_without_minor_unit_is_refused() -> None:
    with pytest.raises(ValueError, match="XAU has no minor unit"):
        currency_exponent("XAU")


# --- Countries -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given_code", "stored_code"), [("FR", "FR"), ("de", "DE"), ("Gb", "GB"), ("JP", "JP")]
)
def test_an_iso_3166_alpha_2_country_is_accepted_and_upper_cased(given_code: str, stored_code: str) -> None:
    address = build(Address, {"country": given_code})

    assert address.country == stored_code


@pytest.mark.parametrize("code", ["XX", "DEU", "D", "", "UK"])
def test_a_country_that_is_not_iso_3166_alpha_2_is_refused(code: str) -> None:
    assert problems_of(Address, {"country": code}) == {
        "country": f"'{code}' is not an ISO 3166-1 alpha-2 country code"
    }


def test_an_address_needs_no_field_at_all() -> None:
    assert build(Address, {}).model_dump() == {
        "line1": None,
        "line2": None,
        "city": None,
        "state": None,
        "postal_code": None,
        "country": None,
    }


def test_an_address_with_an_unknown_field_is_refused() -> None:
    assert problems_of(Address, {"street": "1 Main St"}) == {"street": "Extra inputs are not permitted"}


# --- Time zones ----------------------------------------------------------------------------------


@pytest.mark.parametrize("zone", ["Europe/Paris", "America/New_York", "Asia/Kolkata", "UTC"])
def test_an_iana_time_zone_is_accepted(zone: str) -> None:
    organisation = build(NewOrganisation, {"name": "Acme Ltd", "default_currency": "EUR", "timezone": zone})

    assert organisation.timezone == zone


@pytest.mark.parametrize("zone", ["Europe/Atlantis", "europe/paris", "CEST", "+02:00", ""])
def test_a_time_zone_that_is_not_an_iana_name_is_refused(zone: str) -> None:
    problems = problems_of(NewOrganisation, {"name": "Acme Ltd", "default_currency": "EUR", "timezone": zone})

    assert problems == {"timezone": f"'{zone}' is not an IANA time zone name (e.g. 'Europe/Paris')"}


def test_an_organisation_without_a_time_zone_keeps_its_dates_in_utc() -> None:
    assert an_organisation().timezone == "UTC"


# --- Emails --------------------------------------------------------------------------------------


@pytest.mark.parametrize("email", ["ap@globex.test", "first.last+invoices@mail.example.co.uk", "x@y.io"])
def test_an_email_address_is_accepted_as_given(email: str) -> None:
    assert build(NewCustomer, {"name": "Globex", "email": email}).email == email


@pytest.mark.parametrize(
    "email",
    [
        "ap.globex.test",
        "ap@globex",
        "ap@@globex.test",
        "a p@globex.test",
        "ap@glo bex.test",
        "@x.io",
        "ap\x00@globex.test",  # control characters, which JSON Schema's `\s` does not cover
        "ap@globex\x1c.test",
        "ap@glo\x85bex.test",
    ],
)
def test_a_malformed_email_address_is_refused(email: str) -> None:
    assert problems_of(NewCustomer, {"name": "Globex", "email": email}) == {
        "email": f"'{email}' is not an email address"
    }


def test_an_email_address_longer_than_254_characters_is_refused() -> None:
    email = "a" * 243 + "@globex.test"

    problems = problems_of(NewCustomer, {"name": "Globex", "email": email})

    assert list(problems) == ["email"]


# --- Colours -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("given_colour", "stored_colour"), [("#1a73e8", "#1A73E8"), ("#FFFFFF", "#FFFFFF")])
def test_a_hex_colour_is_accepted_in_upper_case(given_colour: str, stored_colour: str) -> None:
    assert build(NewBranding, {"brand_colour": given_colour}).brand_colour == stored_colour


@pytest.mark.parametrize("colour", ["1A73E8", "#FFF", "#GGGGGG", "#1A73E8FF", "blue"])
def test_a_colour_that_is_not_six_hex_digits_is_refused(colour: str) -> None:
    assert problems_of(NewBranding, {"brand_colour": colour}) == {
        "brand_colour": "must be a hex colour such as '#1A73E8'"
    }


# --- Percentages (tax rates) ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given_rate", "shown_rate"),
    [
        ("20", "20"),
        ("7.5", "7.5"),
        ("0.00", "0.00"),
        ("100", "100"),
        ("12.3456", "12.3456"),
        (19, "19"),
        (0, "0"),
    ],
)
def test_a_tax_rate_given_as_a_string_or_an_integer_is_shown_as_the_same_decimal_string(
    given_rate: str | int, shown_rate: str
) -> None:
    customer = a_customer(tax_rate=given_rate)

    assert customer.model_dump(mode="json")["tax_rate"] == shown_rate
    assert customer.tax_rate == Decimal(shown_rate)


def test_a_customer_without_a_tax_rate_is_taxed_at_zero_percent() -> None:
    assert a_customer().model_dump(mode="json")["tax_rate"] == "0.00"


def test_a_tax_rate_given_as_a_floating_point_number_is_refused_with_a_hint() -> None:
    problems = problems_of(NewCustomer, {"name": "Globex", "email": "ap@globex.test", "tax_rate": 7.5})

    assert problems == {
        "tax_rate": 'must be given as a decimal string (e.g. "7.5"), not a floating-point number'
    }


@pytest.mark.parametrize("rate", ["100.0001", "101", "-1", "-0.0001", 250])
def test_a_tax_rate_outside_0_to_100_percent_is_refused(rate: str | int) -> None:
    problems = problems_of(NewCustomer, {"name": "Globex", "email": "ap@globex.test", "tax_rate": rate})

    assert problems == {"tax_rate": "must be between 0 and 100"}


@pytest.mark.parametrize("rate", ["7.12345", "0.00001", "20.00000"])
def test_a_tax_rate_with_more_than_4_decimals_is_refused(rate: str) -> None:
    problems = problems_of(NewCustomer, {"name": "Globex", "email": "ap@globex.test", "tax_rate": rate})

    assert problems == {"tax_rate": "may have at most 4 decimals"}


@pytest.mark.parametrize("rate", ["twenty", "7,5", "NaN", "Infinity", True, None])
def test_a_tax_rate_that_is_not_a_number_is_refused(rate: object) -> None:
    problems = problems_of(NewCustomer, {"name": "Globex", "email": "ap@globex.test", "tax_rate": rate})

    assert list(problems) == ["tax_rate"]


_PLAIN_RATE = re.compile(r"\d{1,3}(\.\d{1,4})?")


@pytest.mark.parametrize("rate", ["1e2", "-0"])
def test_an_accepted_tax_rate_is_always_shown_as_a_plain_unsigned_decimal(rate: str) -> None:
    percentage = TypeAdapter(Percentage)
    try:
        shown = percentage.dump_python(percentage.validate_python(rate))
    except ValidationError:
        return  # refusing the odd spelling is as good as normalising it

    assert _PLAIN_RATE.fullmatch(shown), shown


@st.composite
def _rates_as_written(draw: st.DrawFn) -> str:
    """A rate in [0, 100] written with 0 to 4 decimals, trailing zeros included ("7.50", "100.0000")."""
    decimals = draw(st.integers(min_value=0, max_value=4))
    units = draw(st.integers(min_value=0, max_value=100 * 10**decimals))
    return str(Decimal(units).scaleb(-decimals))


@pure_property
@given(rate=_rates_as_written())
def test_any_valid_tax_rate_comes_back_exactly_as_it_was_written(rate: str) -> None:
    customer = a_customer(tax_rate=rate)

    shown = customer.model_dump(mode="json")["tax_rate"]

    assert shown == rate
    assert a_customer(tax_rate=shown).tax_rate == Decimal(rate)


# --- Blank text ----------------------------------------------------------------------------------


@pytest.mark.parametrize("blank", ["", " ", "\t\n", "\x85", "\u3000", "\xa0", "\u2028"])
def test_text_the_trimming_leaves_empty_is_refused_and_the_document_says_so(blank: str) -> None:
    import jsonschema_rs

    from remit.domain.values import NOT_BLANK

    assert "name" in problems_of(NewCustomer, {"name": blank, "email": "ap@globex.test"})
    # schemathesis checks the document's patterns as JSON Schema (ECMA-262) does
    assert not jsonschema_rs.validator_for({"type": "string", "pattern": NOT_BLANK}).is_valid(blank)


@pytest.mark.parametrize("kept", ["a", " a ", "\ufeff"])
def test_text_with_a_character_that_is_not_space_is_kept(kept: str) -> None:
    import jsonschema_rs

    from remit.domain.values import NOT_BLANK

    assert build(NewCustomer, {"name": kept, "email": "ap@globex.test"}).name == kept.strip()
    assert jsonschema_rs.validator_for({"type": "string", "pattern": NOT_BLANK}).is_valid(kept)
