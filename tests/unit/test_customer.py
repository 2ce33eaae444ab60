"""Customers: who receives invoice emails, external ids and contacts."""

from __future__ import annotations

import pytest

from remit.domain.changes import apply_changes, build
from remit.domain.customer import Customer, CustomerChanges, NewCustomer
from remit.domain.errors import InvalidInput
from tests.unit.builders import CUSTOMER_FIELDS, a_customer, problems_of

# --- Billing recipients --------------------------------------------------------------------------


def test_a_customer_without_contacts_is_billed_at_its_primary_email() -> None:
    assert a_customer(email="ap@globex.test").billing_recipients() == ["ap@globex.test"]


def test_invoice_emails_go_to_the_primary_email_first_then_to_billing_contacts_in_order() -> None:
    customer = a_customer(
        email="ap@globex.test",
        contacts=[
            {"id": "ctc_1", "email": "hank@globex.test", "preferences": ["billing", "legal"]},
            {"id": "ctc_2", "email": "news@globex.test", "preferences": ["updates"]},
            {"id": "ctc_3", "email": "cfo@globex.test", "preferences": ["billing"]},
            {"id": "ctc_4", "email": "nobody@globex.test"},
        ],
    )

    assert customer.billing_recipients() == ["ap@globex.test", "hank@globex.test", "cfo@globex.test"]


def test_an_address_that_is_both_primary_and_a_billing_contact_receives_one_email() -> None:
    customer = a_customer(
        email="ap@globex.test",
        contacts=[
            {"id": "ctc_1", "email": "cfo@globex.test", "preferences": ["billing"]},
            {"id": "ctc_2", "email": "ap@globex.test", "preferences": ["billing"]},
            {"id": "ctc_3", "email": "cfo@globex.test", "preferences": ["billing", "updates"]},
        ],
    )

    assert customer.billing_recipients() == ["ap@globex.test", "cfo@globex.test"]


# --- External ids --------------------------------------------------------------------------------


def test_a_customer_can_have_several_distinct_external_ids() -> None:
    assert a_customer(external_ids=["crm-4711", "erp/88"]).external_ids == ["crm-4711", "erp/88"]


@pytest.mark.parametrize(
    "data",
    [
        {"name": "Globex", "email": "ap@globex.test", "external_ids": ["crm-4711", "crm-4711"]},
        # Surrounding spaces are trimmed first, so these two are the same id.
        {"name": "Globex", "email": "ap@globex.test", "external_ids": ["crm-4711", " crm-4711 "]},
    ],
)
def test_a_new_customer_with_a_repeated_external_id_is_refused(data: dict[str, object]) -> None:
    assert problems_of(NewCustomer, data) == {"external_ids": "must not repeat an external id"}


def test_a_customer_with_a_repeated_external_id_is_refused() -> None:
    problems = problems_of(Customer, {**CUSTOMER_FIELDS, "external_ids": ["crm-4711", "crm-4711"]})

    assert problems == {"external_ids": "must not repeat an external id"}


def test_changes_repeating_an_external_id_are_refused() -> None:
    problems = problems_of(CustomerChanges, {"external_ids": ["a", "b", "a"]})

    assert problems == {"external_ids": "must not repeat an external id"}


@pytest.mark.parametrize("external_id", ["", "   ", "x" * 101])
def test_an_empty_or_over_long_external_id_is_refused(external_id: str) -> None:
    data = {"name": "Globex", "email": "ap@globex.test", "external_ids": ["crm-4711", external_id]}

    assert list(problems_of(NewCustomer, data)) == ["external_ids.1"]


def test_external_ids_are_replaced_as_a_whole_by_changes() -> None:
    customer = a_customer(external_ids=["crm-4711", "erp-1"])

    changed = apply_changes(customer, build(CustomerChanges, {"external_ids": ["crm-9"]}))

    assert changed.external_ids == ["crm-9"]


def test_changes_setting_external_ids_to_null_are_refused_as_a_field_problem() -> None:
    customer = a_customer(external_ids=["crm-4711"])

    with pytest.raises(InvalidInput) as refused:
        apply_changes(customer, build(CustomerChanges, {"external_ids": None}))

    assert [problem.field for problem in refused.value.problems] == ["external_ids"]


# --- Contacts ------------------------------------------------------------------------------------


def test_a_contact_preference_given_twice_is_kept_once() -> None:
    new_customer = build(
        NewCustomer,
        {
            "name": "Globex",
            "email": "ap@globex.test",
            "contacts": [{"email": "cfo@globex.test", "preferences": ["billing", "legal", "billing"]}],
        },
    )

    assert new_customer.contacts[0].preferences == ["billing", "legal"]


def test_an_unknown_contact_preference_is_refused_naming_its_position() -> None:
    data = {
        "name": "Globex",
        "email": "ap@globex.test",
        "contacts": [{"email": "cfo@globex.test"}, {"email": "x@globex.test", "preferences": ["marketing"]}],
    }

    assert list(problems_of(NewCustomer, data)) == ["contacts.1.preferences.0"]


# --- Defaults ------------------------------------------------------------------------------------


def test_a_new_customer_given_only_a_name_and_email_leaves_the_rest_to_defaults() -> None:
    new_customer = build(NewCustomer, {"name": "Globex", "email": "ap@globex.test"})

    assert new_customer.model_dump(mode="json") == {
        "name": "Globex",
        "email": "ap@globex.test",
        "first_name": None,
        "last_name": None,
        "country": None,
        "currency": None,
        "preferred_locale": None,
        "address": None,
        "tax_rate": "0.00",
        "tax_id": None,
        "vat_id": None,
        "tax_treatment": "standard",
        "electronic_address": None,
        "buyer_reference": None,
        "einvoice_format": None,
        "external_ids": [],
        "invoicing_flow": "automatic",
        "payment_terms_days": None,
        "auto_pay": False,
        "send_reminders": True,
        "billing_cycle": None,
        "contacts": [],
        "metadata": {},
    }


def test_a_customer_shows_no_internal_counters() -> None:
    from remit.domain.answers import Customer as CustomerAnswer

    shown = CustomerAnswer.of(a_customer(issued_invoices=3, version=7)).model_dump(mode="json")

    assert "issued_invoices" not in shown
    assert "version" not in shown
    assert shown["balance"] == 0


@pytest.mark.parametrize(
    ("field", "value"),
    [("invoicing_flow", "weekly"), ("billing_cycle", "yearly"), ("payment_terms_days", 366)],
)
def test_a_new_customer_with_an_unsupported_setting_is_refused(field: str, value: object) -> None:
    problems = problems_of(NewCustomer, {"name": "Globex", "email": "ap@globex.test", field: value})

    assert list(problems) == [field]
