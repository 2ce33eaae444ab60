"""Value objects shared by every entity: codes, addresses, colours, percentages, emails.

Each is an `Annotated` type whose validator raises `ValueError` with a message a user can act
on; pydantic turns that into a field error, and the API into a `422` naming the field.
"""

from __future__ import annotations

import re
import types
import zoneinfo
from decimal import Decimal
from functools import cache
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    PlainValidator,
    ValidationInfo,
    field_validator,
)
from pydantic import Strict as Strict_


class Model(BaseModel):
    """Base of every Remit model: its validator and serializer are built on first use.

    Building them (pydantic-core schemas) is most of what a model class costs; deferring it keeps
    a handler's import to the models it declares, and each request pays only for the models it
    validates or serializes. Behaviour is the same: pydantic builds the model completely the first
    time it is used.
    """

    model_config = ConfigDict(defer_build=True)


class Strict(Model):
    """Base for input models: unknown fields are refused rather than silently ignored, and JSON's
    types are kept (pydantic's lax mode would take `true` for 1, `0` for false, `"5"` or `5.0` for 5).
    """

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="before")
    @classmethod
    def _json_types(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None or info.field_name is None:
            return value
        field = cls.model_fields[info.field_name]
        if _checks_itself(field.metadata):
            return value
        kind = _plain_scalar(field.annotation)
        if kind is bool and not isinstance(value, bool):
            raise ValueError("must be true or false")
        if kind is int and (isinstance(value, bool) or not isinstance(value, int)):
            raise ValueError("must be a whole number (a JSON integer)")
        return value


def _plain_scalar(annotation: Any) -> type | None:
    """`bool` or `int` for a field of that type (optional or not) with no rule of its own, else None."""
    options = [arg for arg in get_args(annotation) if arg is not type(None)] if _is_union(annotation) else []
    if len(options) == 1:
        annotation = options[0]
    if get_origin(annotation) is Annotated:
        base, *metadata = get_args(annotation)
        if _checks_itself(metadata):
            return None
        annotation = base
    return annotation if annotation in (bool, int) else None


def _checks_itself(metadata: list[Any]) -> bool:
    """The type checks its input itself (amounts, quantities), with messages of its own."""
    return any(isinstance(item, (BeforeValidator, PlainValidator, Strict_)) for item in metadata)


def _is_union(annotation: Any) -> bool:
    return get_origin(annotation) in (Union, types.UnionType)


def accepts_none(annotation: Any) -> bool:
    """Whether a field of this type may be `None` (`X | None`, `Optional[X]`, `None` itself)."""
    if annotation is None or annotation is type(None):
        return True
    return _is_union(annotation) and type(None) in get_args(annotation)


# iso4217 and pycountry load on the first code to check, not with the models that use them.
def _currency_code(value: str) -> str:
    from iso4217 import Currency

    code = value.upper()
    try:
        currency = Currency(code)
    except ValueError:
        raise ValueError(f"'{value}' is not an ISO 4217 currency code") from None
    if currency.exponent is None:
        raise ValueError(f"'{value}' is not a currency that invoices can be issued in")
    return code


def currency_exponent(code: str) -> int:
    """Number of decimal places of the currency's minor unit (JPY 0, EUR 2, KWD 3)."""
    from iso4217 import Currency

    exponent = Currency(code).exponent
    if exponent is None:
        raise ValueError(f"{code} has no minor unit")
    return int(exponent)


def _country_code(value: str) -> str:
    import pycountry

    code = value.upper()
    if len(code) != 2 or pycountry.countries.get(alpha_2=code) is None:
        raise ValueError(f"'{value}' is not an ISO 3166-1 alpha-2 country code")
    return code


@cache
def _timezones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def _timezone_name(value: str) -> str:
    if value not in _timezones():
        raise ValueError(f"'{value}' is not an IANA time zone name (e.g. 'Europe/Paris')")
    return value


# Deliberately simple: one @, no spaces or control characters, a dot in the domain. Deliverability
# is the mailer's job. The same pattern is the document's; the characters it excludes besides `\s`
# are those Python's and JSON Schema's (ECMA-262) `\s` disagree on, so both read it alike.
_EMAIL_PART = r"[^@\s\x00-\x1f\x7f-\x9f\ufeff]+"
_EMAIL = re.compile(rf"^{_EMAIL_PART}@{_EMAIL_PART}\.{_EMAIL_PART}$")


def _email(value: str) -> str:
    if len(value) > 254 or not _EMAIL.match(value):
        raise ValueError(f"'{value}' is not an email address")
    return value


_COLOUR = re.compile(r"^#[0-9A-Fa-f]{6}$")


def _colour(value: str) -> str:
    if not _COLOUR.match(value):
        raise ValueError("must be a hex colour such as '#1A73E8'")
    return value.upper()


def _no_float(value: Any) -> Any:
    if isinstance(value, float):
        raise ValueError('must be given as a decimal string (e.g. "7.5"), not a floating-point number')
    return value


_PLAIN_DECIMAL = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")


def plain_decimal(value: Any, what: str) -> Decimal:
    """A decimal written plainly ("7.5", 20): no exponent, no NaN or infinity; -0 becomes 0."""
    text = str(value).strip()
    if isinstance(value, bool) or not _PLAIN_DECIMAL.match(text):
        raise ValueError(f'must be {what} written as a plain decimal, e.g. "20" or "7.5"')
    number = Decimal(text)
    return abs(number) if number == 0 else number


def _percentage(value: Any) -> Decimal:
    rate = plain_decimal(value, "a percentage")
    if rate < 0 or rate > 100:
        raise ValueError("must be between 0 and 100")
    exponent = rate.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -4:
        raise ValueError("may have at most 4 decimals")
    return rate


# `_percentage`'s rule as JSON Schema: 0 to 100 with at most 4 decimals (a float is refused).
_PERCENTAGE_TEXT = r"^(\+?0*(100(\.0{0,4})?|\d{1,2}(\.\d{0,4})?|\.\d{1,4})|-(0+(\.0{0,4})?|\.0{1,4}))$"


def _percentage_schema(schema: dict[str, Any]) -> None:
    schema.pop("anyOf", None)
    schema["anyOf"] = [
        {"type": "integer", "minimum": 0, "maximum": 100},
        {"type": "string", "pattern": _PERCENTAGE_TEXT},
    ]
    schema["examples"] = ["20", "7.5"]


def _any_case(codes: list[str]) -> str:
    """A pattern matching exactly `codes`, in any letter case (the validators upper-case them)."""
    alternatives = (
        "".join(f"[{c.upper()}{c.lower()}]" if c.isalpha() else c for c in code) for code in codes
    )
    return f"^({'|'.join(alternatives)})$"


# The documents' schemas name the codes the validators accept, computed when a document is
# generated (`/openapi.json`), never on a request's path.
def _currency_schema(schema: dict[str, Any]) -> None:
    from iso4217 import Currency

    codes = sorted(c.code for c in Currency if c.exponent is not None)
    schema.update({"pattern": _any_case(codes), "examples": ["EUR", "USD", "JPY"]})


def _country_schema(schema: dict[str, Any]) -> None:
    import pycountry

    schema.update({"pattern": _any_case(sorted(c.alpha_2 for c in pycountry.countries)), "examples": ["DE"]})


CurrencyCode = Annotated[
    str, AfterValidator(_currency_code), Field(description="ISO 4217", json_schema_extra=_currency_schema)
]
CountryCode = Annotated[
    str,
    AfterValidator(_country_code),
    Field(description="ISO 3166-1 alpha-2", json_schema_extra=_country_schema),
]


def _timezone_schema(schema: dict[str, Any]) -> None:
    schema.update({"enum": sorted(_timezones()), "examples": ["Europe/Paris"]})


TimezoneName = Annotated[str, AfterValidator(_timezone_name), Field(json_schema_extra=_timezone_schema)]


# BCP 47 language tags that Babel (CLDR) knows, as Remit stores them: "de-DE", "fr", "ja-JP".
# Babel loads on the first tag to check (or document), not with the model.
@cache
def _locale_tags() -> frozenset[str]:
    from babel import localedata

    return frozenset(identifier.replace("_", "-") for identifier in localedata.locale_identifiers())


def _locale_tag(value: str) -> str:
    """The canonical BCP 47 form of a language tag Babel knows ("de-de" -> "de-DE")."""
    from babel import Locale, UnknownLocaleError

    try:
        tag = str(Locale.parse(value.replace("_", "-"), sep="-")).replace("_", "-")
    except (UnknownLocaleError, ValueError, TypeError):
        tag = ""
    if tag not in _locale_tags():
        raise ValueError(f"'{value}' is not a known BCP 47 language tag (e.g. 'de-DE', 'fr', 'ja-JP')")
    return tag


def _locale_schema(schema: dict[str, Any]) -> None:
    schema.update({"enum": sorted(_locale_tags()), "examples": ["de-DE", "fr-FR", "ja-JP"]})


LocaleTag = Annotated[
    str,
    AfterValidator(_locale_tag),
    Field(description="BCP 47 language tag known to CLDR", json_schema_extra=_locale_schema),
]


EmailAddress = Annotated[
    str,
    Field(max_length=254, json_schema_extra={"pattern": _EMAIL.pattern, "examples": ["ap@globex.test"]}),
    AfterValidator(_email),
]
HexColour = Annotated[str, AfterValidator(_colour), Field(json_schema_extra={"pattern": _COLOUR.pattern})]
# A tax rate in percent: accepted as a decimal string or an integer, returned as a string.
Percentage = Annotated[
    Decimal,
    BeforeValidator(_no_float),
    AfterValidator(_percentage),
    PlainSerializer(lambda rate: str(rate), return_type=str, when_used="always"),
    # Accepted as an integer or a decimal string (the schema says both), always answered as a string.
    Field(json_schema_extra=_percentage_schema),
]
# Text the input's trimming leaves non-empty, in JSON Schema's terms: it holds a character that is
# not white space. pydantic trims Unicode's White_Space, which has \x85 where ECMA-262's `\s` has
# not, and lacks \ufeff where ECMA's `\s` has it. The pattern says both.
NOT_BLANK = r"[^\s\x85]|\ufeff"


def text(max_length: int) -> Any:
    """A `Field` for text that must not be blank, up to `max_length` characters once trimmed."""
    return Field(min_length=1, max_length=max_length, json_schema_extra={"pattern": NOT_BLANK})


ShortText = Annotated[str, text(200)]
OptionalText = Annotated[str, Field(max_length=500)]


class Address(Strict):
    """A postal address; `country` is ISO 3166-1 alpha-2."""

    line1: OptionalText | None = None
    line2: OptionalText | None = None
    city: Annotated[str, Field(max_length=200)] | None = None
    state: Annotated[str, Field(max_length=200)] | None = None
    postal_code: Annotated[str, Field(max_length=40)] | None = None
    country: CountryCode | None = None
