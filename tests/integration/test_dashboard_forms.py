"""Forms drawn from the API's input models: fields, parsing, and the API's own refusals by field."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from dashboard.forms import FormField, fields_of, parse, values_of
from remit.domain.charge import NewCharge
from remit.domain.customer import CustomerChanges, NewCustomer
from remit.problem_details import field_problems


def names(model: type[BaseModel]) -> set[str]:
    found: set[str] = set()

    def walk(fields: tuple[FormField, ...]) -> None:
        for form_field in fields:
            found.add(form_field.name)
            walk(form_field.children)

    walk(fields_of(model))
    return found


def test_the_new_customer_form_has_every_field_the_api_takes() -> None:
    shown = {name.split(".", 1)[0] for name in names(NewCustomer)}

    assert shown == set(NewCustomer.model_fields)
    assert {"address.line1", "address.country", "contacts.#.email", "contacts.#.preferences"} <= names(
        NewCustomer
    )


def test_posted_values_become_the_models_json_types() -> None:
    new, errors = parse(
        NewCustomer,
        {
            "name": ["Globex"],
            "email": ["ap@globex.test"],
            "payment_terms_days": ["14"],
            "address.city": ["Berlin"],
            "address.line1": [""],
            "contacts.0.email": ["cfo@globex.test"],
            "contacts.0.preferences.present": ["1"],
            "contacts.0.preferences": ["billing", "legal"],
            "contacts.1.email": [""],
        },
    )

    assert not errors
    assert new is not None
    assert new.payment_terms_days == 14
    assert new.address is not None
    assert new.address.city == "Berlin"
    assert new.address.line1 is None
    assert [(c.email, c.preferences) for c in new.contacts] == [("cfo@globex.test", ["billing", "legal"])]


def test_an_amount_is_typed_in_major_units_and_never_rounded() -> None:
    charge, errors = parse(NewCharge, {"description": ["Setup"], "unit_amount": ["19.99"]}, exponent=2)
    assert not errors
    assert charge is not None
    assert charge.unit_amount == 1999

    yen, errors = parse(NewCharge, {"description": ["Setup"], "unit_amount": ["1500"]}, exponent=0)
    assert yen is not None
    assert yen.unit_amount == 1500

    refused, errors = parse(NewCharge, {"description": ["Setup"], "unit_amount": ["19.999"]}, exponent=2)
    assert refused is None
    assert "unit_amount" in errors.by_field


@pytest.mark.parametrize(
    ("values", "api_body", "field"),
    [
        ({"name": [""], "email": ["ap@globex.test"]}, {"email": "ap@globex.test"}, "name"),
        (
            {"name": ["Globex"], "email": ["not an email"]},
            {"name": "Globex", "email": "not an email"},
            "email",
        ),
        (
            {"name": ["Globex"], "email": ["ap@globex.test"], "contacts.0.email": ["nope"]},
            {"name": "Globex", "email": "ap@globex.test", "contacts": [{"email": "nope"}]},
            "contacts.0.email",
        ),
        (
            {"name": ["Globex"], "email": ["ap@globex.test"], "payment_terms_days": ["soon"]},
            {"name": "Globex", "email": "ap@globex.test", "payment_terms_days": "soon"},
            "payment_terms_days",
        ),
    ],
)
def test_a_refusal_is_shown_next_to_its_field_with_the_apis_message(
    values: dict[str, list[str]], api_body: dict[str, Any], field: str
) -> None:
    new, errors = parse(NewCustomer, values)

    assert new is None
    assert field in errors.by_field
    # The same data sent to the API is refused with the same field and message.
    with pytest.raises(ValidationError) as api:
        NewCustomer.model_validate(api_body)
    assert {p.field: p.message for p in field_problems(api.value.errors())}[field] == errors.by_field[field]


def test_an_edit_form_starts_from_the_stored_record_and_clears_an_emptied_field() -> None:
    stored = NewCustomer.model_validate(
        {"name": "Globex", "email": "ap@globex.test", "first_name": "Ada", "address": {"city": "Berlin"}}
    )
    values = values_of(stored, fields_of(NewCustomer))
    assert values["first_name"] == ["Ada"]
    assert values["address.city"] == ["Berlin"]

    values["first_name"] = [""]
    changes, errors = parse(CustomerChanges, values, blank="null")
    assert not errors
    assert changes is not None
    assert "first_name" in changes.model_fields_set
    assert changes.first_name is None


def test_a_new_form_starts_from_the_models_defaults_so_an_untouched_form_asks_for_them() -> None:
    from dashboard.forms import defaults_of
    from remit.domain.organisation import NewOrganisation

    values = defaults_of(NewOrganisation)
    values.update(name=["Acme"], default_currency=["EUR"])
    new, errors = parse(NewOrganisation, values)

    assert not errors
    assert new is not None
    assert new.reminders is not None
    assert new.reminders.enabled is True
    assert new.reminders.days_after_due == [15]
    assert new.timezone == "UTC"


def test_a_list_of_whole_numbers_is_typed_one_per_line_or_with_commas() -> None:
    from remit.domain.organisation import NewOrganisation

    values = {"name": ["Acme"], "default_currency": ["EUR"], "reminders.enabled": ["false", "true"]}
    new, errors = parse(NewOrganisation, {**values, "reminders.days_after_due": ["7\n30, 60"]})
    assert not errors
    assert new is not None
    assert new.reminders is not None
    assert new.reminders.days_after_due == [7, 30, 60]

    refused, errors = parse(NewOrganisation, {**values, "reminders.days_after_due": ["soon"]})
    assert refused is None
    assert any(name.startswith("reminders.days_after_due") for name in errors.by_field)


def test_time_zones_and_locales_are_chosen_from_the_apis_own_lists() -> None:
    from remit.domain.organisation import NewOrganisation

    by_name = {f.name: f for f in fields_of(NewOrganisation)}
    assert by_name["timezone"].kind == "select"
    assert "Europe/Berlin" in by_name["timezone"].options
    assert by_name["invoice_numbering"].kind == "group"


def test_lines_of_whole_numbers_are_sent_as_integers_and_a_refused_line_is_shown_next_to_the_list() -> None:
    from remit.domain.organisation import Reminders

    (days_after, days_before) = [f for f in fields_of(Reminders) if f.kind == "lines"]
    assert days_after.whole_numbers
    assert days_before.whole_numbers

    reminders, errors = parse(
        Reminders,
        {"enabled": ["true"], "days_after_due": ["30\n 7\n\n"], "days_before_due": ["2\n45"]},
    )

    assert reminders is None
    assert errors.by_field == {"days_before_due": "line 2: Input should be less than or equal to 30"}
    from dashboard.forms import _value

    assert _value(days_after, {"days_after_due": ["30\n 7\n\nx"]}, 2, "omit") == [30, 7, "x"]


def test_empty_rows_are_not_sent_and_a_refusal_lands_on_the_row_it_was_typed_in() -> None:
    values = {
        "name": ["Globex"],
        "email": ["ap@globex.test"],
        # Row 0 left empty (its boxes' marker only), row 1 typed with a bad email, row 2 empty.
        "contacts.0.preferences.present": ["1"],
        "contacts.0.email": [""],
        "contacts.1.preferences.present": ["1"],
        "contacts.1.email": ["nope"],
        "contacts.2.preferences.present": ["1"],
    }

    new, errors = parse(NewCustomer, values)

    assert new is None
    assert list(errors.by_field) == ["contacts.1.email"]

    values["contacts.1.email"] = ["cfo@globex.test"]
    new, errors = parse(NewCustomer, values)
    assert not errors
    assert new is not None
    assert [contact.email for contact in new.contacts] == ["cfo@globex.test"]
