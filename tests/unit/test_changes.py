"""PATCH semantics (`deep_merge`, `apply_changes`) and field problems (`build`, `InvalidInput`)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from remit.domain.changes import apply_changes, build, deep_merge
from remit.domain.customer import CustomerChanges, NewCustomer
from remit.domain.errors import FieldProblem, InvalidInput
from remit.domain.organisation import OrganisationChanges
from tests.unit.builders import NOW, a_customer, an_organisation

# --- deep_merge ----------------------------------------------------------------------------------


def test_merging_replaces_the_given_keys_and_keeps_the_others() -> None:
    assert deep_merge({"name": "Acme", "email": "a@acme.test"}, {"name": "Acme Ltd"}) == {
        "name": "Acme Ltd",
        "email": "a@acme.test",
    }


def test_merging_merges_nested_objects_key_by_key() -> None:
    current = {"address": {"city": "Paris", "country": "FR", "extra": {"a": 1, "b": 2}}}

    merged = deep_merge(current, {"address": {"city": "Lyon", "extra": {"b": 3}}})

    assert merged == {"address": {"city": "Lyon", "country": "FR", "extra": {"a": 1, "b": 3}}}


def test_merging_a_null_clears_the_value() -> None:
    assert deep_merge({"address": {"city": "Paris"}}, {"address": None}) == {"address": None}


def test_merging_an_object_into_a_null_sets_the_object() -> None:
    assert deep_merge({"address": None}, {"address": {"city": "Lyon"}}) == {"address": {"city": "Lyon"}}


def test_merging_replaces_lists_rather_than_concatenating_them() -> None:
    assert deep_merge({"days": [7, 15]}, {"days": [30]}) == {"days": [30]}


def test_merging_adds_keys_that_were_not_there() -> None:
    assert deep_merge({"a": 1}, {"b": {"c": 2}}) == {"a": 1, "b": {"c": 2}}


def test_merging_leaves_both_inputs_unchanged() -> None:
    current = {"address": {"city": "Paris", "country": "FR"}}
    changes = {"address": {"city": "Lyon"}}

    deep_merge(current, changes)

    assert current == {"address": {"city": "Paris", "country": "FR"}}
    assert changes == {"address": {"city": "Lyon"}}


# --- apply_changes -------------------------------------------------------------------------------


def test_a_patch_changes_only_the_fields_it_sets() -> None:
    organisation = an_organisation(email="billing@acme.test", payment_terms_days=14)

    changed = apply_changes(organisation, build(OrganisationChanges, {"name": "Acme Holdings"}))

    assert changed.name == "Acme Holdings"
    assert changed.model_dump(exclude={"name"}) == organisation.model_dump(exclude={"name"})


def test_a_patch_leaves_the_original_entity_as_it_was() -> None:
    organisation = an_organisation()

    apply_changes(
        organisation, build(OrganisationChanges, {"name": "Acme Holdings", "address": {"city": "Lyon"}})
    )

    assert organisation.name == "Acme Ltd"
    assert organisation.address is None


def test_a_patch_merges_nested_objects_field_by_field() -> None:
    organisation = an_organisation(
        address={"line1": "1 rue de la Paix", "city": "Paris", "country": "FR"},
        invoice_numbering={"prefix": "ACME-", "padding": 5, "next_number": 42},
        branding={"logo_url": "https://cdn.remit.test/logo.png", "brand_colour": "#1A73E8"},
    )

    changed = apply_changes(
        organisation,
        build(
            OrganisationChanges,
            {
                "address": {"city": "Lyon"},
                "invoice_numbering": {"padding": 3},
                "branding": {"brand_colour": "#00ff00"},
            },
        ),
    )

    assert changed.address is not None
    assert (changed.address.line1, changed.address.city, changed.address.country) == (
        "1 rue de la Paix",
        "Lyon",
        "FR",
    )
    assert changed.invoice_numbering.model_dump() == {"prefix": "ACME-", "padding": 3, "next_number": 42}
    assert changed.branding.model_dump() == {
        "logo_url": "https://cdn.remit.test/logo.png",
        "brand_colour": "#00FF00",
    }


def test_a_patch_of_one_bank_detail_keeps_the_others() -> None:
    organisation = an_organisation(
        payment_methods={"bank_transfer": {"account_name": "Acme Ltd", "iban": "FR7630006000011234567890189"}}
    )

    changed = apply_changes(
        organisation, build(OrganisationChanges, {"payment_methods": {"bank_transfer": {"bic": "DEUTDEFF"}}})
    )

    assert changed.payment_methods.bank_transfer is not None
    assert changed.payment_methods.bank_transfer.model_dump() == {
        "account_name": "Acme Ltd",
        "iban": "FR7630006000011234567890189",
        "bic": "DEUTDEFF",
        "instructions": None,
    }


def test_an_explicit_null_clears_an_optional_field() -> None:
    organisation = an_organisation(email="billing@acme.test", address={"city": "Paris"})

    changed = apply_changes(organisation, build(OrganisationChanges, {"email": None, "address": None}))

    assert (changed.email, changed.address) == (None, None)


def test_an_explicit_null_logo_url_removes_the_logo_but_keeps_the_colour() -> None:
    organisation = an_organisation(
        branding={"logo_url": "https://cdn.remit.test/logo.png", "brand_colour": "#1A73E8"}
    )

    changed = apply_changes(organisation, build(OrganisationChanges, {"branding": {"logo_url": None}}))

    assert changed.branding.model_dump() == {"logo_url": None, "brand_colour": "#1A73E8"}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"name": None}, "name"),
        ({"default_currency": None}, "default_currency"),
        ({"invoice_numbering": None}, "invoice_numbering"),
        ({"invoice_numbering": {"prefix": None}}, "invoice_numbering.prefix"),
        ({"timezone": None}, "timezone"),
    ],
)
def test_a_null_for_a_required_field_is_refused_naming_the_field(
    changes: dict[str, object], field: str
) -> None:
    organisation = an_organisation()

    with pytest.raises(InvalidInput) as refused:
        apply_changes(organisation, build(OrganisationChanges, changes))

    assert [problem.field for problem in refused.value.problems] == [field]


def test_a_patch_keeps_the_fields_that_are_never_shown() -> None:
    organisation = an_organisation(version=3)

    changed = apply_changes(organisation, build(OrganisationChanges, {"name": "Acme Holdings"}))

    assert (changed.account_id, changed.version) == ("acct_test", 3)


def test_values_set_by_the_service_are_applied_with_the_user_changes() -> None:
    customer = a_customer()
    later = NOW + timedelta(minutes=5)

    changed = apply_changes(
        customer, build(CustomerChanges, {"name": "Globex AG"}), updated_at=later, version=1
    )

    assert changed.name == "Globex AG"
    assert (changed.created_at, changed.updated_at) == (NOW, later)
    assert changed.version == 1


def test_a_customer_patch_keeps_its_tax_rate_unless_given() -> None:
    customer = a_customer(tax_rate="19")

    unchanged = apply_changes(customer, build(CustomerChanges, {"name": "Globex AG"}))
    changed = apply_changes(customer, build(CustomerChanges, {"tax_rate": "7.5"}))

    assert unchanged.model_dump(mode="json")["tax_rate"] == "19"
    assert changed.model_dump(mode="json")["tax_rate"] == "7.5"


def test_a_customer_patch_replaces_contacts_as_a_whole() -> None:
    customer = a_customer(
        contacts=[
            {"id": "ctc_1", "email": "cfo@globex.test", "preferences": ["billing"]},
            {"id": "ctc_2", "email": "legal@globex.test", "preferences": ["legal"]},
        ]
    )

    changed = apply_changes(
        customer, build(CustomerChanges, {"contacts": [{"id": "ctc_2", "email": "law@globex.test"}]})
    )

    assert [(contact.id, contact.email) for contact in changed.contacts] == [("ctc_2", "law@globex.test")]


def test_a_patch_that_makes_the_tax_id_invalid_for_the_new_country_is_refused() -> None:
    customer = a_customer(country="DE", tax_id="136695976")

    with pytest.raises(InvalidInput) as refused:
        apply_changes(customer, build(CustomerChanges, {"country": "FR"}))

    assert [problem.field for problem in refused.value.problems] == ["tax_id"]


# --- build and InvalidInput ----------------------------------------------------------------------


def test_every_invalid_field_is_named_by_its_dotted_path_at_once() -> None:
    with pytest.raises(InvalidInput) as refused:
        build(
            NewCustomer,
            {
                "name": "",
                "email": "ap@globex.test",
                "address": {"country": "XX"},
                "contacts": [{"email": "cfo@globex.test"}, {"email": "not-an-email"}],
                "colour": "red",
            },
        )

    assert {problem.field for problem in refused.value.problems} == {
        "name",
        "address.country",
        "contacts.1.email",
        "colour",
    }


def test_a_field_problem_message_is_the_validator_message_without_pydantic_prefix() -> None:
    with pytest.raises(InvalidInput) as refused:
        build(NewCustomer, {"name": "Globex", "email": "ap@globex.test", "contacts": [{"email": "nope"}]})

    assert refused.value.problems == [FieldProblem("contacts.0.email", "'nope' is not an email address")]
    assert refused.value.detail == "Invalid fields: contacts.0.email: 'nope' is not an email address"


def test_a_missing_required_field_is_named() -> None:
    with pytest.raises(InvalidInput) as refused:
        build(NewCustomer, {"name": "Globex"})

    assert refused.value.problems == [FieldProblem("email", "Field required")]


def test_a_single_problem_is_reported_with_its_own_detail() -> None:
    error = InvalidInput.single("invoice_numbering.next_number", "must be above 41")

    assert error.problems == [FieldProblem("invoice_numbering.next_number", "must be above 41")]
    assert error.detail == "invoice_numbering.next_number: must be above 41"
    assert str(error) == error.detail
