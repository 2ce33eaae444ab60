"""Remit's invoices and credit notes as EN 16931 documents: the amounts the PDF shows, the VAT
breakdown per category and rate, the parties as the invoice recorded them, and the failed rule's
field a user is shown."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from remit.domain.einvoice_building import einvoice_for_credit_note, einvoice_for_invoice
from remit.domain.einvoice_fields import field_for_rule
from remit.domain.errors import InvalidInput
from tests.einvoice_records import (
    BELGIAN_PARTICIPANT,
    FRENCH_BUSINESS,
    FRENCH_SELLER,
    a_credit_note_of,
    a_customer,
    an_issued_invoice,
    an_organisation,
)

MIXED = [
    ("Consulting", "3", 15000, "19"),
    ("Handbook", "2", 1250, "7"),
    ("Loyalty discount", "1", -1000, "19"),
]


def test_amounts_are_the_invoices_own_in_its_currency():
    customer = a_customer()
    invoice = an_issued_invoice(customer, MIXED)

    document = einvoice_for_invoice(invoice, organisation=an_organisation(), customer=customer)

    assert document.type_code == "380"
    assert document.number == "ACME-00001"
    assert document.line_total == Decimal("465.00") == Decimal(invoice.subtotal) / 100
    assert document.tax_total == Decimal(invoice.tax_total) / 100
    assert document.tax_inclusive_total == document.payable_amount == Decimal(invoice.total) / 100
    assert [line.net_amount for line in document.lines] == [
        Decimal("450.00"),
        Decimal("25.00"),
        Decimal("-10.00"),
    ]


def test_the_vat_breakdown_has_one_entry_per_category_and_rate_summing_the_lines_taxes():
    customer = a_customer()
    invoice = an_issued_invoice(customer, MIXED)

    document = einvoice_for_invoice(invoice, organisation=an_organisation(), customer=customer)

    assert [(b.category, b.rate, b.taxable_amount, b.tax_amount) for b in document.vat_breakdown] == [
        ("S", Decimal(7), Decimal("25.00"), Decimal("1.75")),
        ("S", Decimal(19), Decimal("440.00"), Decimal("83.60")),
    ]
    assert sum(b.tax_amount for b in document.vat_breakdown) == document.tax_total


def test_a_discount_is_a_negative_quantity_at_a_positive_price():
    customer = a_customer()

    document = einvoice_for_invoice(
        an_issued_invoice(customer, MIXED), organisation=an_organisation(), customer=customer
    )

    discount = document.lines[2]
    assert (discount.quantity, discount.net_price, discount.net_amount) == (
        Decimal(-1),
        Decimal("10.00"),
        Decimal("-10.00"),
    )


def test_reverse_charge_lines_are_category_ae_with_the_default_reason():
    customer = a_customer(BELGIAN_PARTICIPANT, tax_treatment="reverse_charge", tax_rate="0")
    invoice = an_issued_invoice(customer, [("Licence", "1", 50000, "0")])

    document = einvoice_for_invoice(invoice, organisation=an_organisation(), customer=customer)

    assert [line.vat_category for line in document.lines] == ["AE"]
    (breakdown,) = document.vat_breakdown
    assert (breakdown.category, breakdown.rate, breakdown.tax_amount) == ("AE", Decimal(0), Decimal("0.00"))
    assert (breakdown.exemption_reason, breakdown.exemption_reason_code) == ("Reverse charge", "VATEX-EU-AE")
    assert document.buyer.vat_id == "BE0417497106"


def test_an_exempt_line_gives_its_own_reason():
    customer = a_customer()
    reason = "Steuerfrei nach § 4 Nr. 21 UStG"
    invoice = an_issued_invoice(
        customer,
        [
            ("Consulting", "1", 10000, "19"),
            ("Training", "1", 20000, "0", {"vat_category": "E", "exemption_reason": reason}),
        ],
    )

    document = einvoice_for_invoice(invoice, organisation=an_organisation(), customer=customer)

    exempt = [b for b in document.vat_breakdown if b.category == "E"]
    assert [(b.taxable_amount, b.exemption_reason, b.exemption_reason_code) for b in exempt] == [
        (Decimal("200.00"), reason, None)
    ]


def test_jpy_amounts_have_no_decimals():
    customer = a_customer(currency="JPY")
    invoice = an_issued_invoice(customer, [("Sencha", "3", 1500, "10")], currency="JPY")

    document = einvoice_for_invoice(invoice, organisation=an_organisation(), customer=customer)

    assert document.currency == "JPY"
    assert (document.line_total, document.tax_total, document.payable_amount) == (
        Decimal(4500),
        Decimal(450),
        Decimal(4950),
    )


def test_a_currency_with_three_decimals_cannot_be_an_einvoice():
    customer = a_customer(currency="KWD")
    invoice = an_issued_invoice(customer, [("Service", "1", 10000, "0")], currency="KWD")

    with pytest.raises(InvalidInput) as refused:
        einvoice_for_invoice(invoice, organisation=an_organisation(), customer=customer)

    (problem,) = refused.value.problems
    assert problem.field == "currency"
    assert "KWD" in problem.message
    assert "at most 2" in problem.message


def test_a_redownload_after_the_customer_changed_gives_the_same_document():
    customer = a_customer()
    invoice = an_issued_invoice(customer, MIXED)
    organisation = an_organisation()
    before = einvoice_for_invoice(invoice, organisation=organisation, customer=customer)

    changed = customer.model_copy(
        update={
            "name": "Stadt Köln (neu)",
            "buyer_reference": "99999-99999-99",
            "vat_id": "DE811907980",
            "address": None,
            "electronic_address": None,
        }
    )
    after = einvoice_for_invoice(invoice, organisation=organisation, customer=changed)

    assert after == before
    assert after.buyer_reference == "05315-12345-67"


def test_a_party_without_a_country_is_named():
    customer = a_customer(country=None, address={"line1": "Somewhere 1", "city": "Köln"})
    invoice = an_issued_invoice(customer, MIXED)

    with pytest.raises(InvalidInput) as refused:
        einvoice_for_invoice(invoice, organisation=an_organisation(), customer=customer)

    assert [problem.field for problem in refused.value.problems] == ["customer.address.country"]


@pytest.mark.parametrize(
    ("currency", "bank", "code"),
    [
        ("EUR", {"iban": "DE89370400440532013000", "bic": "COBADEFFXXX"}, "58"),
        ("GBP", {"iban": "GB29NWBK60161331926819"}, "30"),
        ("EUR", None, "1"),
    ],
)
def test_payment_means_follow_the_organisations_bank_details(currency, bank, code):
    customer = a_customer(currency=currency)
    organisation = an_organisation(payment_methods={"bank_transfer": bank} if bank else {})
    invoice = an_issued_invoice(customer, MIXED, currency=currency)

    document = einvoice_for_invoice(invoice, organisation=organisation, customer=customer)

    assert document.payment_means is not None
    assert document.payment_means.code == code
    assert document.payment_means.iban == (bank or {}).get("iban")
    assert document.payment_means.remittance_information == "ACME-00001"


def test_the_memo_and_footer_share_one_note():
    customer = a_customer()
    invoice = an_issued_invoice(customer, MIXED, memo="Project Rheinufer", footer="Thank you.")

    document = einvoice_for_invoice(invoice, organisation=an_organisation(), customer=customer)

    assert document.notes == ["Project Rheinufer\n\nThank you."]


def test_the_delivery_date_is_the_invoices_else_its_period_else_the_issue_date():
    customer = a_customer()
    organisation = an_organisation()

    def built(**changes):
        return einvoice_for_invoice(
            an_issued_invoice(customer, MIXED, **changes), organisation=organisation, customer=customer
        )

    assert built(delivery_date=date(2026, 11, 20)).delivery_date == date(2026, 11, 20)
    in_period = built(period_start=date(2026, 11, 1), period_end=date(2026, 11, 30))
    assert (in_period.delivery_date, in_period.period_start, in_period.period_end) == (
        None,
        date(2026, 11, 1),
        date(2026, 11, 30),
    )
    assert built().delivery_date == date(2026, 12, 1)


def test_the_seller_is_the_organisations_legal_identity():
    document = einvoice_for_invoice(
        an_issued_invoice(a_customer(FRENCH_BUSINESS), MIXED),
        organisation=an_organisation(FRENCH_SELLER),
        customer=a_customer(FRENCH_BUSINESS),
    )

    seller = document.seller
    assert (seller.name, seller.trading_name, seller.legal_id, seller.vat_id) == (
        "Société Exemple SAS",
        "Société Exemple",
        "303265045",
        "FR40303265045",
    )
    assert seller.contact is not None
    assert seller.contact.email == "factures@exemple.test"
    assert document.language == "fr"


def test_a_credit_note_names_the_invoice_it_corrects_and_its_buyer():
    customer = a_customer()
    invoice = an_issued_invoice(customer, MIXED)
    credit_note = a_credit_note_of(
        invoice, {"lines": [{"invoice_line_id": "li_0", "quantity": "1"}], "memo": "One day less"}
    )

    document = einvoice_for_credit_note(
        credit_note,
        invoice=invoice,
        organisation=an_organisation(),
        customer=customer.model_copy(update={"name": "Other"}),
    )

    assert (document.type_code, document.number, document.issue_date) == (
        "381",
        "ACME-CN-00001",
        date(2026, 12, 2),
    )
    assert document.preceding_invoice is not None
    assert (document.preceding_invoice.number, document.preceding_invoice.issue_date) == (
        "ACME-00001",
        date(2026, 12, 1),
    )
    assert document.buyer.name == "Stadt Köln"
    assert [(line.quantity, line.net_price, line.net_amount) for line in document.lines] == [
        (Decimal(1), Decimal("150.00"), Decimal("150.00"))
    ]
    assert document.payable_amount == Decimal("178.50")
    assert document.notes == ["One day less"]


def test_a_credit_by_amount_is_one_unit_of_the_amount():
    customer = a_customer()
    invoice = an_issued_invoice(customer, MIXED)
    credit_note = a_credit_note_of(invoice, {"lines": [{"invoice_line_id": "li_1", "amount": 333}]})

    document = einvoice_for_credit_note(
        credit_note, invoice=invoice, organisation=an_organisation(), customer=customer
    )

    assert [(line.quantity, line.net_price, line.vat_rate) for line in document.lines] == [
        (Decimal(1), Decimal("3.33"), Decimal(7))
    ]


@pytest.mark.parametrize(
    ("rule", "location", "field"),
    [
        ("BR-DE-15", None, "customer.buyer_reference"),
        ("PEPPOL-EN16931-R010", None, "customer.electronic_address"),
        ("BR-DE-6", None, "organisation.legal.contact_phone"),
        ("BR-DE-23-a", None, "organisation.payment_methods.bank_transfer"),
        ("BR-S-02", None, "organisation.legal.vat_id"),
        (
            "BR-CO-09",
            "/Invoice[1]/AccountingSupplierParty[1]/Party[1]/PartyTaxScheme[1]",
            "organisation.legal.vat_id",
        ),
        ("BR-CO-09", "/Invoice[1]/AccountingCustomerParty[1]/Party[1]/PartyTaxScheme[1]", "customer.vat_id"),
        ("BR-AE-02", None, "organisation.legal.vat_id"),
        (
            "PEPPOL-EN16931-CL008",
            "/Invoice[1]/AccountingCustomerParty[1]/Party[1]/EndpointID[1]",
            "customer.electronic_address",
        ),
        ("PEPPOL-COMMON-R043", "/CrossIndustryInvoice[1]/BuyerTradeParty[1]", "customer.electronic_address"),
    ],
)
def test_a_failed_rule_names_the_field_a_user_can_change(rule, location, field):
    assert field_for_rule(rule, location) == field


@pytest.mark.parametrize("rule", ["BR-CO-10", "BR-CO-17", "BR-01", "XSD", "no such rule"])
def test_rules_no_user_field_causes_name_none(rule):
    assert field_for_rule(rule) is None
