"""Tax ids: EU VAT numbers checked everywhere, national numbers checked where the country is known."""

from __future__ import annotations

import pytest

from remit.domain.customer import Customer
from remit.domain.organisation import Organisation
from remit.domain.tax_ids import normalise_tax_id
from tests.unit.builders import CUSTOMER_FIELDS, ORGANISATION_FIELDS, a_customer, an_organisation, problems_of


@pytest.mark.parametrize("vat_number", ["FR40303265045", "DE136695976", "EL094259216", "ATU13585627"])
def test_a_valid_eu_vat_number_is_accepted_as_given(vat_number: str) -> None:
    assert a_customer(tax_id=vat_number).tax_id == vat_number


def test_a_valid_eu_vat_number_is_accepted_whatever_the_customer_country() -> None:
    customer = a_customer(country="US", tax_id="DE136695976")

    assert customer.tax_id == "DE136695976"


@pytest.mark.parametrize("vat_number", ["FR00303265045", "DE136695970"])
def test_an_eu_vat_number_with_a_wrong_checksum_is_refused_naming_the_number(vat_number: str) -> None:
    problems = problems_of(Customer, {**CUSTOMER_FIELDS, "tax_id": vat_number})

    assert problems == {
        "tax_id": f"'{vat_number}' is not a valid EU VAT number "
        "(The number's checksum or check digit is invalid.)"
    }


def test_an_eu_vat_number_of_the_wrong_length_is_refused() -> None:
    problems = problems_of(Customer, {**CUSTOMER_FIELDS, "tax_id": "DE12345"})

    assert problems["tax_id"].startswith("'DE12345' is not a valid EU VAT number")


def test_a_tax_id_is_trimmed_of_surrounding_spaces() -> None:
    assert normalise_tax_id("  DE136695976 ", None) == "DE136695976"


def test_an_empty_tax_id_is_refused() -> None:
    with pytest.raises(ValueError, match="must not be empty"):
        normalise_tax_id("   ", "DE")


def test_a_tax_id_longer_than_40_characters_is_refused() -> None:
    with pytest.raises(ValueError, match="is too long for a tax id"):
        normalise_tax_id("X" * 41, None)


@pytest.mark.parametrize("country", ["JM", "NG", "AQ"])
def test_a_tax_id_for_a_country_whose_format_is_unknown_is_accepted_as_given(country: str) -> None:
    customer = a_customer(country=country, tax_id="000-ANY 123/x")

    assert customer.tax_id == "000-ANY 123/x"


def test_a_non_eu_tax_id_without_any_country_is_accepted_as_given() -> None:
    assert a_customer(tax_id="12-3456789").tax_id == "12-3456789"


def test_the_customer_country_selects_the_national_format() -> None:
    assert a_customer(country="DE", tax_id="136695976").tax_id == "136695976"

    problems = problems_of(Customer, {**CUSTOMER_FIELDS, "country": "DE", "tax_id": "12345"})

    assert problems == {"tax_id": "'12345' is not a valid tax id for DE (The number has an invalid length.)"}


def test_the_customer_address_country_selects_the_national_format_when_no_country_is_given() -> None:
    assert a_customer(address={"country": "GB"}, tax_id="980780684").tax_id == "980780684"

    problems = problems_of(Customer, {**CUSTOMER_FIELDS, "address": {"country": "GB"}, "tax_id": "980780685"})

    assert problems == {
        "tax_id": "'980780685' is not a valid tax id for GB "
        "(The number's checksum or check digit is invalid.)"
    }


def test_the_customer_country_takes_precedence_over_the_address_country() -> None:
    # A German number without its prefix is valid in Germany but not in France, where the customer is.
    problems = problems_of(
        Customer, {**CUSTOMER_FIELDS, "country": "FR", "address": {"country": "DE"}, "tax_id": "136695976"}
    )

    assert list(problems) == ["tax_id"]
    assert "for FR" in problems["tax_id"]


def test_the_organisation_address_country_selects_the_national_format() -> None:
    assert an_organisation(address={"country": "GB"}, tax_id="GB980780684").tax_id == "GB980780684"

    problems = problems_of(Organisation, {**ORGANISATION_FIELDS, "address": {"country": "US"}, "tax_id": "1"})

    assert problems == {"tax_id": "'1' is not a valid tax id for US (The number has an invalid format.)"}


def test_a_stored_tax_id_is_loaded_without_being_checked_again() -> None:
    # Rules tighten over time; an item saved under older rules must still load.
    from remit.adapters.items.customers import customer_of

    customer = customer_of({**CUSTOMER_FIELDS, "tax_id": "DE136695970"})

    assert customer.tax_id == "DE136695970"


@pytest.mark.parametrize("rfc", ["ROMA800101AB4", "DEMA800101AB1"])
def test_a_valid_mexican_rfc_is_accepted_for_a_customer_in_mexico(rfc: str) -> None:
    assert a_customer(country="MX", tax_id=rfc).tax_id == rfc


def test_an_invalid_mexican_rfc_is_refused_for_a_customer_in_mexico() -> None:
    problems = problems_of(Customer, {**CUSTOMER_FIELDS, "country": "MX", "tax_id": "GODE561331GR8"})

    assert problems["tax_id"].startswith("'GODE561331GR8' is not a valid tax id for MX")
