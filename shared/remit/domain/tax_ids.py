"""Tax identification numbers, validated with python-stdnum where the country's format is known.

A number that starts with an EU VAT country prefix ("DE136695976", "EL094259216") is checked as an
EU VAT number; for an entity outside the EU, a number that is not a valid EU VAT number is then
checked against its own country's format (a Mexican RFC may start with "DE..."). Otherwise the
country of the organisation or customer selects python-stdnum's module for that country (`vat`,
then other business tax numbers); a country stdnum does not know is accepted as given, since we
cannot tell a right number from a wrong one there.
"""

from __future__ import annotations

from types import ModuleType
from typing import Annotated, cast

from pydantic import Field

from remit.domain.values import NOT_BLANK

# A tax id as given: up to 40 characters, not blank (the document says so; `normalise_tax_id` checks it).
TaxId = Annotated[str, Field(max_length=40, json_schema_extra={"pattern": NOT_BLANK})]

# Business tax-number module names in python-stdnum, most specific first.
_NATIONAL_KINDS = ("vat", "tin", "abn", "gst", "gstin", "rfc", "cnpj", "nit", "ruc", "rut", "uen", "brn")


def _national_module(country: str) -> ModuleType | None:
    from stdnum.util import get_cc_module

    for kind in _NATIONAL_KINDS:
        module = get_cc_module(country.lower(), kind)
        if module is not None:
            return cast(ModuleType, module)
    return None


def normalise_tax_id(tax_id: str, country: str | None) -> str:
    """Return the tax id as entered (trimmed) once valid, or raise `ValueError` saying why it is not."""
    # python-stdnum (and the pydoc it pulls in) loads on the first tax id to check, not at import.
    from stdnum.eu import vat as eu_vat
    from stdnum.exceptions import ValidationError

    value = tax_id.strip()
    if not value:
        raise ValueError("must not be empty")
    if len(value) > 40:
        raise ValueError("is too long for a tax id")
    prefix = value[:2].upper()
    in_the_eu = country is None or country.lower() in eu_vat.MEMBER_STATES or country.upper() == "GR"
    if prefix.lower() in eu_vat.MEMBER_STATES or prefix == "EL":
        try:
            eu_vat.validate(value)
            return value
        except ValidationError as error:
            if in_the_eu:
                raise ValueError(f"'{tax_id}' is not a valid EU VAT number ({error})") from None
    module = _national_module(country) if country else None
    if module is None:
        return value
    try:
        module.validate(value)
    except ValidationError as error:
        raise ValueError(f"'{tax_id}' is not a valid tax id for {country} ({error})") from None
    return value


def _is_country(prefix: str) -> bool:
    import pycountry

    return prefix == "EL" or pycountry.countries.get(alpha_2=prefix) is not None


def normalise_vat_id(vat_id: str) -> str:
    """The VAT identifier in its compact form with its country prefix ("DE 136 695 976" gives
    "DE136695976"), or `ValueError` saying why it is not one.

    EN 16931 wants the ISO 3166 prefix (EL for Greece) on every VAT identifier (BR-CO-9). An EU
    number is checked by the VIES rules python-stdnum knows; another country's by its `vat` module
    when python-stdnum has one (GB, CH, NO, …), else it is accepted as given.
    """
    from stdnum.eu import vat as eu_vat
    from stdnum.exceptions import ValidationError
    from stdnum.util import get_cc_module

    value = "".join(character for character in vat_id if character not in " .-/").upper()
    if not value:
        raise ValueError("must not be empty")
    if len(value) > 40:
        raise ValueError("is too long for a VAT number")
    prefix = value[:2]
    if not prefix.isalpha() or len(value) < 4 or not _is_country(prefix):
        raise ValueError(
            f"'{vat_id}' is not a VAT number: it must start with its country code (e.g. DE, FR, EL)"
        )
    if prefix.lower() in eu_vat.MEMBER_STATES or prefix == "EL":
        try:
            return str(eu_vat.validate(value))
        except ValidationError as error:
            raise ValueError(f"'{vat_id}' is not a valid EU VAT number ({error})") from None
    module = get_cc_module(prefix.lower(), "vat")
    if module is None:
        return value
    try:
        cast(ModuleType, module).validate(vat_id.strip())
    except ValidationError:
        try:
            cast(ModuleType, module).validate(value[2:])
        except ValidationError as error:
            raise ValueError(f"'{vat_id}' is not a valid VAT number for {prefix} ({error})") from None
    return value


def vat_number_or_none(tax_id: str | None) -> str | None:
    """`tax_id` as a VAT identifier when it is one (see `normalise_vat_id`), else None."""
    if tax_id is None:
        return None
    try:
        return normalise_vat_id(tax_id)
    except ValueError:
        return None
