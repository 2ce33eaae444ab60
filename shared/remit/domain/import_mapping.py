"""Which column of an imported file fills which field of a customer: suggestions from the header's
names, presets for other systems' exports, and a row turned into the customer's fields.

A mapping is `{column: field}`. Fields are the customer's (`name`, `email`, `tax_id`, …), dotted for
its address (`address.city`) and for its one imported contact (`contact.email`), `external_id` for
an id from the other system (matched on the next import), and `metadata.<key>` for anything kept
as metadata (a phone number). Cells are text and stay text: a cell that looks like a spreadsheet
formula is imported as the characters it holds, never evaluated.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any, Literal

from remit.domain.errors import FieldProblem, InvalidInput
from remit.domain.exports import FORMULA_STARTS

Preset = Literal["stripe_customers", "invoiceninja_clients"]
PRESETS: tuple[Preset, ...] = ("stripe_customers", "invoiceninja_clients")

CUSTOMER_FIELDS = (
    "name",
    "email",
    "first_name",
    "last_name",
    "country",
    "currency",
    "preferred_locale",
    "tax_rate",
    "tax_id",
    "vat_id",
    "buyer_reference",
    "payment_terms_days",
    "invoicing_flow",
    "send_reminders",
    "billing_cycle",
    "external_id",
    "external_ids",
    "address.line1",
    "address.line2",
    "address.city",
    "address.state",
    "address.postal_code",
    "address.country",
    "contact.name",
    "contact.first_name",
    "contact.last_name",
    "contact.email",
)
METADATA = "metadata."
_METADATA_KEY = re.compile(r"^metadata\.[^\s].{0,39}$")
# Every field a column may fill, as a pattern (the API's document states it).
TARGET_PATTERN = "^(?:" + "|".join(re.escape(f) for f in CUSTOMER_FIELDS) + r"|metadata\.\S.{0,39})$"
_BOOLEANS = {
    "true": True,
    "yes": True,
    "y": True,
    "1": True,
    "false": False,
    "no": False,
    "n": False,
    "0": False,
}
_LIST_SEPARATORS = re.compile(r"[,;|]")


def column_key(name: str) -> str:
    """A column's name as it is recognised: accents, case, spaces and punctuation aside
    ("E-mail", "e mail" and "EMAIL" are all `email`)."""
    decomposed = unicodedata.normalize("NFKD", name)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return "".join(c for c in bare.casefold() if c.isalnum())


def _synonyms(table: Mapping[str, Iterable[str]]) -> dict[str, str]:
    return {column_key(name): field for field, names in table.items() for name in names}


# What people call each field in the files they keep; keyed by `column_key`.
SYNONYMS = _synonyms(
    {
        "name": ("Name", "Company", "Company name", "Customer", "Customer name", "Organisation",
                 "Organization", "Business", "Business name", "Client", "Client name", "Display name",
                 "Full name", "Account name"),
        "email": ("Email", "E-mail", "Email address", "Mail", "Primary email", "Billing email"),
        "first_name": ("First name", "Given name", "Forename"),
        "last_name": ("Last name", "Surname", "Family name"),
        "country": ("Country", "Country code"),
        "currency": ("Currency", "Currency code"),
        "preferred_locale": ("Locale", "Language", "Preferred locale", "Preferred locales"),
        "tax_rate": ("Tax rate", "VAT rate"),
        "tax_id": ("Tax ID", "Tax number", "VAT number", "VAT", "VAT no", "Business VAT ID", "TVA"),
        "vat_id": ("VAT ID", "VAT identification number", "USt-IdNr"),
        "payment_terms_days": ("Payment terms", "Payment terms days", "Terms", "Net days"),
        "external_id": ("External ID", "ID", "Customer ID", "Client ID", "Customer number",
                        "Client number", "Account number", "Reference"),
        "external_ids": ("External IDs",),
        "address.line1": ("Address line 1", "Address 1", "Address", "Street", "Street address", "Line 1"),
        "address.line2": ("Address line 2", "Address 2", "Line 2", "Apt/Suite", "Suite"),
        "address.city": ("City", "Town", "Address city"),
        "address.state": ("State", "Province", "Region", "County", "State/Province", "Address state"),
        "address.postal_code": ("Postal code", "Postcode", "ZIP", "ZIP code", "Address ZIP",
                                "Address postal code", "PLZ"),
        "address.country": ("Address country", "Billing country"),
        "contact.name": ("Contact", "Contact name"),
        "contact.email": ("Contact email",),
        "contact.first_name": ("Contact first name",),
        "contact.last_name": ("Contact last name",),
        "metadata.phone": ("Phone", "Telephone", "Phone number", "Mobile"),
        "metadata.description": ("Description",),
        "metadata.notes": ("Notes", "Note", "Comments"),
    }
)  # fmt: skip

# Stripe's Dashboard export of customers (Customers ▸ Export), by its column names.
_STRIPE = _synonyms(
    {
        "external_id": ("id",),
        "email": ("Email",),
        "name": ("Name",),
        "metadata.description": ("Description",),
        "metadata.phone": ("Phone",),
        "currency": ("Currency",),
        "tax_id": ("Business Vat ID", "Tax ID", "Tax IDs"),
        "preferred_locale": ("Preferred Locales",),
        "address.line1": ("Address Line1", "Address Line 1"),
        "address.line2": ("Address Line2", "Address Line 2"),
        "address.city": ("Address City",),
        "address.state": ("Address State",),
        "address.country": ("Address Country",),
        "address.postal_code": ("Address Zip", "Address Postal Code"),
    }
)

# Invoice Ninja's export of clients: its column names with and without the `client.`/`contact.`
# prefixes of its export templates. The first contact gives the customer its email and names.
_INVOICE_NINJA = _synonyms(
    {
        "name": ("name", "client.name", "Client Name"),
        "external_id": ("number", "client.number", "Client Number"),
        "metadata.id_number": ("id_number", "client.id_number", "ID Number", "Client ID Number"),
        "tax_id": ("vat_number", "client.vat_number", "VAT Number", "Client VAT Number"),
        "address.line1": ("address1", "client.address1", "Street", "Client Street", "Client Address1"),
        "address.line2": ("address2", "client.address2", "Apt/Suite", "Client Apt/Suite", "Client Address2"),
        "address.city": ("city", "client.city", "Client City"),
        "address.state": ("state", "client.state", "State/Province", "Client State"),
        "address.postal_code": ("postal_code", "client.postal_code", "Postal Code", "Client Postal Code"),
        "address.country": ("country", "client.country", "country_id", "Client Country"),
        "currency": ("currency", "client.currency", "currency_id", "Client Currency"),
        "metadata.phone": ("phone", "client.phone", "Client Phone"),
        "metadata.website": ("website", "client.website", "Client Website"),
        "metadata.notes": ("public_notes", "client.public_notes", "Client Public Notes"),
        "first_name": ("first_name", "contact.first_name", "Contact First Name"),
        "last_name": ("last_name", "contact.last_name", "Contact Last Name"),
        "email": ("email", "contact.email", "Contact Email"),
    }
)

_PRESET_TABLES: dict[str, dict[str, str]] = {
    "stripe_customers": _STRIPE,
    "invoiceninja_clients": _INVOICE_NINJA,
}


def is_target(field: str) -> bool:
    """Whether a column may fill `field`."""
    return field in CUSTOMER_FIELDS or bool(_METADATA_KEY.match(field))


def suggest_mapping(header: Iterable[str], preset: Preset | None = None) -> dict[str, str]:
    """The mapping suggested for a file with `header`: each column whose name is known (to the
    preset first, then as a common name of a field) mapped to its field, each field filled by its
    first such column. Unknown columns are left out (not imported)."""
    tables = [_PRESET_TABLES[preset]] if preset else []
    tables.append(SYNONYMS)
    mapping: dict[str, str] = {}
    taken: set[str] = set()
    for column in header:
        key = column_key(column)
        for table in tables:
            field = table.get(key)
            if field is not None and field not in taken:
                mapping[column] = field
                taken.add(field)
                break
    return mapping


def checked_mapping(mapping: Mapping[str, str], header: Iterable[str]) -> dict[str, str]:
    """`mapping` if every column it names is in `header` and every field it names may be imported,
    and no field is filled twice; `InvalidInput` naming `mapping.<column>` otherwise."""
    columns = set(header)
    problems = []
    filled: dict[str, str] = {}
    for column, field in mapping.items():
        if column not in columns:
            problems.append(FieldProblem(f"mapping.{column}", "is not a column of the file's header row"))
        elif not is_target(field):
            problems.append(
                FieldProblem(f"mapping.{column}", f"'{field}' is not a customer field an import fills")
            )
        elif field in filled:
            problems.append(
                FieldProblem(f"mapping.{column}", f"'{field}' is filled by column '{filled[field]}' already")
            )
        else:
            filled[field] = column
    if problems:
        raise InvalidInput(problems)
    return dict(mapping)


def country_code(value: str) -> str:
    """A country as a file may name it ("Germany", "DEU", "de") as its ISO 3166-1 alpha-2 code; a
    name pycountry does not know stays as written (the customer's validation names it)."""
    import pycountry

    if len(value) == 2:
        return value
    try:
        return str(pycountry.countries.lookup(value).alpha_2)
    except LookupError:
        return value


def currency_code(value: str) -> str:
    """A currency as a file may name it ("Euro", "eur") as its ISO 4217 code; else as written."""
    import pycountry

    if len(value) == 3:
        return value
    try:
        return str(pycountry.currencies.lookup(value).alpha_3)
    except LookupError:
        return value


def _cell(value: Any) -> str | None:
    text = "" if value is None else str(value)
    text = text.strip()
    if text.startswith("'") and text[1:].lstrip(" ").startswith(FORMULA_STARTS):
        # A spreadsheet export's guard against formulas (Remit's own among them): the quote is
        # not part of the value. What is left stays text, inert wherever it is shown.
        text = text[1:]
    return text or None


def mapped_fields(cells: Mapping[str, Any], mapping: Mapping[str, str]) -> dict[str, Any]:
    """A row's cells as the fields of a customer (`NewCustomer`'s shape), by `mapping`; empty cells
    are left out (an import never blanks a field). Values stay as written where the field is text;
    countries and currencies named in full become their codes, `send_reminders` reads yes/no,
    `external_ids` a list separated by `,` `;` or `|`.
    """
    fields: dict[str, Any] = {}
    address: dict[str, str] = {}
    contact: dict[str, str] = {}
    metadata: dict[str, str] = {}
    external_ids: list[str] = []
    for column, field in mapping.items():
        value = _cell(cells.get(column))
        if value is None:
            continue
        if field == "address.country":
            address["country"] = country_code(value)
        elif field.startswith("address."):
            address[field.removeprefix("address.")] = value
        elif field.startswith("contact."):
            contact[field.removeprefix("contact.")] = value
        elif field.startswith(METADATA):
            metadata[field.removeprefix(METADATA)] = value
        elif field == "external_id":
            external_ids.append(value)
        elif field == "external_ids":
            external_ids += [part.strip() for part in _LIST_SEPARATORS.split(value) if part.strip()]
        elif field == "payment_terms_days":
            fields[field] = int(value) if value.isdecimal() else value
        elif field == "send_reminders":
            fields[field] = _BOOLEANS.get(value.casefold(), value)
        elif field == "country":
            fields[field] = country_code(value)
        elif field == "currency":
            fields[field] = currency_code(value)
        else:
            fields[field] = value
    if address:
        if "country" not in address and "country" in fields:
            address["country"] = fields["country"]
        fields["address"] = address
        if "country" not in fields and "country" in address:
            fields["country"] = address["country"]
    if contact:
        names = [contact.pop("first_name", None), contact.pop("last_name", None)]
        if "name" not in contact and any(names):
            contact["name"] = " ".join(name for name in names if name)
        fields["contacts"] = [contact]
    if metadata:
        fields["metadata"] = metadata
    if external_ids:
        fields["external_ids"] = list(dict.fromkeys(external_ids))
    if "name" not in fields:
        # A person rather than a company: the name is theirs.
        person = " ".join(fields[part] for part in ("first_name", "last_name") if fields.get(part))
        if person:
            fields["name"] = person
    return fields


# What a JSON row may give: a customer as `GET …/customers/{id}` answers it, whose read-only fields
# (`id`, `balance`, `created_at`, …) an import ignores.
_JSON_FIELDS = (
    "name", "email", "first_name", "last_name", "country", "currency", "preferred_locale", "address",
    "tax_rate", "tax_id", "vat_id", "tax_treatment", "electronic_address", "buyer_reference",
    "einvoice_format", "external_ids", "invoicing_flow", "payment_terms_days", "auto_pay",
    "send_reminders", "billing_cycle", "contacts", "metadata",
)  # fmt: skip


def json_fields(row: Mapping[str, Any], mapping: Mapping[str, str] | None) -> dict[str, Any]:
    """A JSON row as the fields of a customer: with a mapping, its top-level keys mapped as a file's
    columns are; without, the row is a customer in the API's shape (an export's `data`), read-only
    fields and the contacts' ids (another organisation's) left out, `external_id` taken as one more
    external id."""
    if mapping:
        return mapped_fields(row, mapping)
    fields = {name: row[name] for name in _JSON_FIELDS if name in row and row[name] is not None}
    contacts = fields.get("contacts")
    if isinstance(contacts, list):
        fields["contacts"] = [
            {key: value for key, value in contact.items() if key != "id"}
            if isinstance(contact, dict)
            else contact
            for contact in contacts
        ]
    single = row.get("external_id")
    if isinstance(single, str) and single.strip():
        given = fields.get("external_ids")
        known = given if isinstance(given, list) else []
        fields["external_ids"] = list(dict.fromkeys([*known, single.strip()]))
    return fields
