"""The data EN 16931 needs, in the domain and in the stored items: VAT ids, the customer's treatment
and e-invoice details, each line's VAT category and the rules that tie it to the rate, the invoice's
snapshot of the buyer, and items stored before any of it reading back with the defaults."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from remit.adapters.items.customers import customer_attributes, customer_of
from remit.adapters.items.invoices import invoice_attributes, invoice_of
from remit.adapters.items.organisations import organisation_attributes, organisation_of
from remit.domain.changes import apply_changes, build
from remit.domain.credit_notes import NewCreditNote, price_credit_note
from remit.domain.customer import CustomerChanges
from remit.domain.einvoices import (
    CustomerEinvoiceDetails,
    ElectronicAddress,
    LegalIdentity,
    default_tax_rate,
    exemption_reason_problem,
    line_tax_problem,
)
from remit.domain.errors import InvalidInput
from remit.domain.invoice import Invoice, LineItemInput, NewLineItem, line_tax_problems, priced_line
from remit.domain.organisation import OrganisationChanges
from remit.domain.tax_ids import normalise_vat_id, vat_number_or_none
from tests.unit.builders import NOW, a_customer, an_organisation, problems_of

# --- VAT ids -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "normalised"),
    [
        ("DE136695976", "DE136695976"),
        ("de 136 695 976", "DE136695976"),
        ("FR 40-303-265-045", "FR40303265045"),
        ("EL094259216", "EL094259216"),
        ("GB980780684", "GB980780684"),
    ],
)
def test_a_vat_id_is_kept_compact_with_its_country_prefix(given: str, normalised: str) -> None:
    assert normalise_vat_id(given) == normalised


@pytest.mark.parametrize("given", ["DE136695975", "136695976", "XX12345678", "", "DE"])
def test_a_vat_id_that_is_not_one_is_refused(given: str) -> None:
    with pytest.raises(ValueError, match=r"VAT number|empty"):
        normalise_vat_id(given)


def test_a_tax_id_is_a_vat_number_only_when_it_is_one() -> None:
    assert vat_number_or_none("DE136695976") == "DE136695976"
    assert vat_number_or_none("123-45-6789") is None
    assert vat_number_or_none(None) is None


# --- The organisation's legal identity -----------------------------------------------------------


def test_an_organisation_has_no_legal_identity_until_given_one() -> None:
    assert an_organisation().legal is None


def test_a_legal_identity_normalises_its_vat_id_and_refuses_a_wrong_one() -> None:
    assert an_organisation(legal={"vat_id": "de136695976"}).legal == LegalIdentity(vat_id="DE136695976")
    assert list(
        problems_of(type(an_organisation()), {**an_organisation().model_dump(), "legal": {"vat_id": "DE1"}})
    ) == ["legal.vat_id"]


def test_a_patch_of_the_legal_identity_merges_field_by_field() -> None:
    organisation = an_organisation(legal={"vat_id": "DE136695976", "company_id": "HRB 1"})

    changed = apply_changes(
        organisation, OrganisationChanges.model_validate({"legal": {"company_id": "HRB 2"}})
    )

    assert changed.legal == LegalIdentity(vat_id="DE136695976", company_id="HRB 2")


# --- The customer --------------------------------------------------------------------------------


def test_a_customers_einvoice_details_default_to_none_and_standard() -> None:
    assert a_customer().einvoice_details() == CustomerEinvoiceDetails()


def test_the_details_take_the_vat_id_else_a_tax_id_that_is_a_vat_number() -> None:
    assert a_customer(tax_id="DE136695976", country="DE").einvoice_details().vat_id == "DE136695976"
    assert a_customer(tax_id="123-45-6789", country="US").einvoice_details().vat_id is None
    both = a_customer(tax_id="DE136695976", country="DE", vat_id="FR40303265045")
    assert both.einvoice_details().vat_id == "FR40303265045"


def test_the_details_carry_every_einvoice_field() -> None:
    customer = a_customer(
        vat_id="FR40303265045",
        tax_treatment="reverse_charge",
        electronic_address={"scheme": "0009", "id": "30326504500015"},
        buyer_reference="REF-1",
        einvoice_format="facturx",
    )

    assert customer.einvoice_details() == CustomerEinvoiceDetails(
        einvoice_format="facturx",
        tax_treatment="reverse_charge",
        vat_id="FR40303265045",
        electronic_address=ElectronicAddress(scheme="0009", id="30326504500015"),
        buyer_reference="REF-1",
    )


def test_reverse_charge_without_a_vat_id_is_refused_naming_the_treatment() -> None:
    with pytest.raises(InvalidInput) as refused:
        a_customer(tax_treatment="reverse_charge", tax_id="123-45-6789", country="US")

    assert [problem.field for problem in refused.value.problems] == ["tax_treatment"]


def test_dropping_the_vat_id_of_a_reverse_charge_customer_is_refused() -> None:
    customer = a_customer(tax_treatment="reverse_charge", vat_id="FR40303265045")

    with pytest.raises(InvalidInput) as refused:
        apply_changes(customer, CustomerChanges.model_validate({"vat_id": None}))

    assert [problem.field for problem in refused.value.problems] == ["tax_treatment"]


# --- Lines and their VAT category ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("treatment", "rate"),
    [
        ("standard", Decimal("19")),
        ("reverse_charge", Decimal(0)),
        ("exempt", Decimal(0)),
        ("export", Decimal(0)),
    ],
)
def test_a_line_defaults_to_no_tax_for_a_treatment_that_carries_none(treatment: str, rate: Decimal) -> None:
    customer = a_customer(tax_rate="19", tax_treatment=treatment, vat_id="FR40303265045")

    assert default_tax_rate(customer) == rate


@pytest.mark.parametrize(
    ("rate", "category", "wrong"),
    [
        ("19", "S", False),
        ("0", "S", True),
        ("0", "Z", False),
        ("7", "Z", True),
        ("0", "AE", False),
        ("19", "AE", True),
        ("19", "E", True),
        ("0", "K", False),
        ("0", "G", False),
        ("0", "O", False),
    ],
)
def test_a_category_needs_its_rate(rate: str, category: Any, wrong: bool) -> None:
    assert (line_tax_problem(Decimal(rate), category) is not None) is wrong


def test_only_an_untaxed_category_has_an_exemption_reason() -> None:
    assert exemption_reason_problem("E", "Art. 132") is None
    assert exemption_reason_problem("AE", "Reverse charge") is None
    assert exemption_reason_problem("S", "Because") is not None
    assert exemption_reason_problem("Z", "Because") is not None
    assert exemption_reason_problem("S", None) is None


def test_a_line_of_a_reverse_charge_customer_is_ae_at_0() -> None:
    customer = a_customer(tax_rate="19", tax_treatment="reverse_charge", vat_id="FR40303265045")

    rate, category, problems = line_tax_problems("line_items.0", LineItemInput(), customer)

    assert (rate, category, problems) == (Decimal(0), "AE", [])


def test_a_taxed_line_of_a_reverse_charge_customer_is_named_by_its_rate() -> None:
    customer = a_customer(tax_treatment="reverse_charge", vat_id="FR40303265045")

    _, _, problems = line_tax_problems(
        "line_items.2", LineItemInput(tax_rate=Decimal(19), vat_category="S"), customer
    )

    assert [problem.field for problem in problems] == ["line_items.2.tax_rate"]


def test_a_category_given_without_a_rate_is_named_when_the_default_rate_disagrees() -> None:
    _, _, problems = line_tax_problems(
        "line_items.0", LineItemInput(vat_category="E"), a_customer(tax_rate="19")
    )

    assert [problem.field for problem in problems] == ["line_items.0.vat_category"]


def test_a_new_line_refuses_a_category_its_own_rate_contradicts() -> None:
    problems = problems_of(
        NewLineItem, {"description": "X", "unit_amount": 1, "tax_rate": "19", "vat_category": "Z"}
    )

    assert list(problems) == ["vat_category"]


def test_a_new_line_defaults_its_unit_to_one() -> None:
    line = build(NewLineItem, {"description": "X", "unit_amount": 1})

    assert (line.vat_category, line.exemption_reason, line.unit_code) == (None, None, "C62")
    assert list(problems_of(NewLineItem, {"description": "X", "unit_amount": 1, "unit_code": "c62"})) == [
        "unit_code"
    ]


# --- Finalization snapshots the buyer ------------------------------------------------------------


def a_draft(**fields: Any) -> Invoice:
    line = priced_line("li_1", "Work", Decimal(1), 1000, Decimal(0), None, vat_category="AE")
    return Invoice(
        id="inv_1",
        organisation_id="org_test",
        customer_id="cus_test",
        currency="EUR",
        due_date=date(2025, 4, 1),
        created_at=NOW,
        updated_at=NOW,
        **fields,
    ).with_lines([line])


def finalized(draft: Invoice, details: CustomerEinvoiceDetails | None) -> Invoice:
    return draft.finalize(
        number="ACME-00001",
        sequence=1,
        issue_date=date(2025, 3, 14),
        hosted_token="tok",
        hosted_url="https://x.test/i/tok",
        customer_name="Globex",
        customer_email="ap@globex.test",
        customer_address=None,
        customer_tax_id=None,
        customer_einvoice=details,
        recipients=["ap@globex.test"],
        credit_balances={},
        now=NOW,
    )


def test_finalizing_keeps_the_customers_einvoice_details() -> None:
    details = a_customer(tax_treatment="reverse_charge", vat_id="FR40303265045").einvoice_details()

    invoice = finalized(a_draft(delivery_date=date(2025, 3, 1)), details)

    assert invoice.customer_einvoice == details
    assert invoice.delivery_date == date(2025, 3, 1)


def test_a_credit_of_an_amount_takes_the_category_of_the_invoices_lines_at_that_rate() -> None:
    details = a_customer(tax_treatment="reverse_charge", vat_id="FR40303265045").einvoice_details()
    invoice = finalized(a_draft(), details)

    priced = price_credit_note(invoice, NewCreditNote(amount=500), lambda: "cnl_1")

    assert [(line.tax_rate, line.vat_category) for line in priced.lines] == [(Decimal(0), "AE")]


# --- Stored items --------------------------------------------------------------------------------


def test_items_stored_before_einvoices_read_back_with_the_defaults() -> None:
    customer = a_customer()
    invoice = a_draft()
    organisation = an_organisation()
    old_customer = customer_attributes(customer)
    old_invoice = invoice_attributes(invoice)
    old_organisation = organisation_attributes(organisation)

    # Given items as they were before: none of the new attributes
    for name in ("vat_id", "tax_treatment", "electronic_address", "buyer_reference", "einvoice_format"):
        assert name not in old_customer
    assert "legal" not in old_organisation
    assert "customer_einvoice" not in old_invoice
    assert "delivery_date" not in old_invoice
    for name in ("vat_category", "exemption_reason", "unit_code"):
        old_invoice["line_items"][0].pop(name, None)

    # When read, Then each new field has its default
    assert customer_of(old_customer).einvoice_details() == CustomerEinvoiceDetails()
    assert organisation_of(old_organisation).legal is None
    read = invoice_of(old_invoice)
    assert (read.customer_einvoice, read.delivery_date) == (None, None)
    line = read.line_items[0]
    assert (line.vat_category, line.exemption_reason, line.unit_code) == (None, None, "C62")


def test_the_einvoice_fields_survive_a_round_trip_through_the_items() -> None:
    customer = a_customer(
        vat_id="FR40303265045",
        tax_treatment="reverse_charge",
        electronic_address={"scheme": "0009", "id": "30326504500015"},
        buyer_reference="REF-1",
        einvoice_format="xrechnung_ubl",
    )
    organisation = an_organisation(
        legal={"vat_id": "DE136695976", "electronic_address": {"scheme": "EM", "id": "a@b.test"}}
    )
    line = priced_line(
        "li_1",
        "Work",
        Decimal(1),
        1000,
        Decimal(0),
        None,
        vat_category="E",
        exemption_reason="Art. 132",
        unit_code="HUR",
    )
    invoice = finalized(
        a_draft(delivery_date=date(2025, 3, 1)).with_lines([line]), customer.einvoice_details()
    )

    assert customer_of(customer_attributes(customer)) == customer
    assert organisation_of(organisation_attributes(organisation)) == organisation
    assert invoice_of(invoice_attributes(invoice)) == invoice


def test_a_vat_id_accepted_when_saved_reads_back_though_the_rules_now_refuse_it() -> None:
    attributes = organisation_attributes(an_organisation(legal={"vat_id": "DE136695976"}))
    attributes["legal"]["vat_id"] = "DE000"
    stored_customer = customer_attributes(a_customer(vat_id="DE136695976")) | {"vat_id": "DE000"}

    legal = organisation_of(attributes).legal
    assert legal is not None
    assert legal.vat_id == "DE000"
    assert customer_of(stored_customer).vat_id == "DE000"
