"""Mapping an imported file's columns to a customer's fields: suggestions, presets, rows."""

from __future__ import annotations

import pytest

from remit.domain.changes import build
from remit.domain.customer import NewCustomer
from remit.domain.errors import InvalidInput
from remit.domain.import_mapping import (
    checked_mapping,
    column_key,
    json_fields,
    mapped_fields,
    suggest_mapping,
)


@pytest.mark.parametrize(
    ("column", "field"),
    [
        ("Email", "email"),
        ("E-mail", "email"),
        ("  e mail ", "email"),
        ("Company", "name"),
        ("Name", "name"),
        ("VAT number", "tax_id"),
        ("Tax ID", "tax_id"),
        ("Currency", "currency"),
        ("Address line 1", "address.line1"),
        ("City", "address.city"),
        ("Postal code", "address.postal_code"),
        ("Country", "country"),
        ("Téléphone", "metadata.phone"),
        ("Loyalty tier", None),
        ("Phone", "metadata.phone"),
    ],
)
def test_columns_are_recognised_by_their_common_names_case_space_and_accents_aside(
    column: str, field: str | None
) -> None:
    assert suggest_mapping([column]).get(column) == field


def test_accents_are_ignored_in_column_names() -> None:
    assert column_key("Prénom") == "prenom"
    assert suggest_mapping(["E-Mäil", "Ciudád"]) == {"E-Mäil": "email"}


def test_a_field_is_suggested_for_its_first_column_only() -> None:
    assert suggest_mapping(["Company", "Name", "Email"]) == {"Company": "name", "Email": "email"}


def test_the_stripe_preset_maps_stripes_customer_export() -> None:
    header = ["id", "Description", "Email", "Name", "Created (UTC)", "Phone", "Address Line1",
              "Address City", "Address Country", "Address Zip", "Business Vat ID", "Currency"]  # fmt: skip

    mapping = suggest_mapping(header, "stripe_customers")

    assert mapping == {
        "id": "external_id",
        "Description": "metadata.description",
        "Email": "email",
        "Name": "name",
        "Phone": "metadata.phone",
        "Address Line1": "address.line1",
        "Address City": "address.city",
        "Address Country": "address.country",
        "Address Zip": "address.postal_code",
        "Business Vat ID": "tax_id",
        "Currency": "currency",
    }


def test_the_invoice_ninja_preset_maps_its_clients_export_and_its_first_contact() -> None:
    header = ["name", "number", "id_number", "vat_number", "address1", "address2", "city", "state",
              "postal_code", "country", "currency", "first_name", "last_name", "email"]  # fmt: skip

    mapping = suggest_mapping(header, "invoiceninja_clients")

    assert mapping["number"] == "external_id"
    assert mapping["id_number"] == "metadata.id_number"
    assert mapping["vat_number"] == "tax_id"
    assert mapping["address2"] == "address.line2"
    assert mapping["first_name"] == "first_name"
    assert mapping["email"] == "email"


def test_the_invoice_ninja_preset_maps_the_header_its_english_export_writes() -> None:
    # Given the header Invoice Ninja's client export writes in English: each column's label, not
    # its key (ClientExport: `ctrans("texts.<key>")`, e.g. address1 -> "Street")
    header = ["Name", "Number", "ID Number", "VAT Number", "Street", "Apt/Suite", "City", "State/Province",
              "Postal Code", "Country", "Currency", "Phone", "Website", "Public Notes", "Private Notes",
              "Balance", "Paid to Date", "First Name", "Last Name", "Email"]  # fmt: skip

    # When the preset suggests the mapping
    mapping = suggest_mapping(header, "invoiceninja_clients")

    # Then every column Remit has a field for is mapped, and the balances are not
    assert mapping == {
        "Name": "name",
        "Number": "external_id",
        "ID Number": "metadata.id_number",
        "VAT Number": "tax_id",
        "Street": "address.line1",
        "Apt/Suite": "address.line2",
        "City": "address.city",
        "State/Province": "address.state",
        "Postal Code": "address.postal_code",
        "Country": "address.country",
        "Currency": "currency",
        "Phone": "metadata.phone",
        "Website": "metadata.website",
        "Public Notes": "metadata.notes",
        "First Name": "first_name",
        "Last Name": "last_name",
        "Email": "email",
    }


def test_a_mapping_naming_an_unknown_column_or_field_or_a_field_twice_is_refused() -> None:
    with pytest.raises(InvalidInput) as refused:
        checked_mapping(
            {"Nope": "email", "Name": "password", "Company": "name", "Customer": "name"},
            ["Name", "Company", "Customer"],
        )

    assert [(p.field, p.message) for p in refused.value.problems] == [
        ("mapping.Nope", "is not a column of the file's header row"),
        ("mapping.Name", "'password' is not a customer field an import fills"),
        ("mapping.Customer", "'name' is filled by column 'Company' already"),
    ]


def test_a_row_becomes_a_customers_fields_with_address_contact_metadata_and_ids() -> None:
    mapping = {
        "Company": "name",
        "Mail": "email",
        "Street": "address.line1",
        "Town": "address.city",
        "Land": "country",
        "Ref": "external_id",
        "Others": "external_ids",
        "Phone": "metadata.phone",
        "CF": "contact.first_name",
        "CL": "contact.last_name",
        "CE": "contact.email",
        "Reminders": "send_reminders",
        "Empty": "tax_id",
    }
    cells = {
        "Company": " Globex GmbH ",
        "Mail": "ap@globex.test",
        "Street": "Hauptstr. 1",
        "Town": "Köln",
        "Land": "DE",
        "Ref": "crm-1",
        "Others": "erp-9; crm-1 | old-3",
        "Phone": "+49 221 1",
        "CF": "Hank",
        "CL": "Scorpio",
        "CE": "hank@globex.test",
        "Reminders": "No",
        "Empty": "  ",
    }

    fields = mapped_fields(cells, mapping)

    assert fields == {
        "name": "Globex GmbH",
        "email": "ap@globex.test",
        "country": "DE",
        "address": {"line1": "Hauptstr. 1", "city": "Köln", "country": "DE"},
        "contacts": [{"email": "hank@globex.test", "name": "Hank Scorpio"}],
        "metadata": {"phone": "+49 221 1"},
        "external_ids": ["crm-1", "erp-9", "old-3"],
        "send_reminders": False,
    }
    assert build(NewCustomer, fields).address is not None


def test_a_person_without_a_company_name_is_named_after_themselves() -> None:
    fields = mapped_fields({"F": "Ada", "L": "Lovelace"}, {"F": "first_name", "L": "last_name"})

    assert fields["name"] == "Ada Lovelace"


def test_an_exported_customer_imports_without_its_read_only_fields_or_contact_ids() -> None:
    exported = {
        "id": "cus_01",
        "organisation_id": "org_other",
        "name": "Globex GmbH",
        "email": "ap@globex.test",
        "currency": "EUR",
        "balance": 1200,
        "balances": {"EUR": 1200},
        "contacts": [
            {"id": "ctc_other", "name": "Hank", "email": "hank@globex.test", "preferences": ["billing"]}
        ],
        "external_ids": ["crm-1"],
        "metadata": {},
        "tax_id": None,
        "created_at": "2026-01-01T00:00:00Z",
        "updated_at": "2026-01-01T00:00:00Z",
    }

    fields = json_fields(exported, None)

    customer = build(NewCustomer, fields)
    assert customer.contacts[0].id is None
    assert customer.external_ids == ["crm-1"]
    assert "balance" not in fields
    assert "id" not in fields


@pytest.mark.parametrize(
    ("cells", "country", "currency"),
    [
        ({"Land": "Germany", "Money": "Euro"}, "DE", "EUR"),
        ({"Land": "DEU", "Money": "eur"}, "DE", "eur"),
        ({"Land": "Atlantis", "Money": "Gold coins"}, "Atlantis", "Gold coins"),
    ],
)
def test_countries_and_currencies_named_in_full_become_their_codes(
    cells: dict[str, str], country: str, currency: str
) -> None:
    fields = mapped_fields(cells, {"Land": "address.country", "Money": "currency"})

    assert (fields["country"], fields["address"]["country"], fields["currency"]) == (
        country,
        country,
        currency,
    )
