"""The data EN 16931 e-invoices need, through the API: the organisation's legal identity, the
customer's VAT id, treatment, electronic address, reference and format, each line's VAT category,
exemption reason and unit code, the invoice's delivery date and its snapshot of the buyer.
Bad values are a 422 naming the field, and change nothing."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.api_client import ApiClient
from tests.integration.billing import Billing

LEGAL: dict[str, Any] = {
    "registration_name": "Acme GmbH",
    "company_id": "HRB 12345",
    "vat_id": "DE136695976",
    "tax_registration_id": "201/113/40209",
    "electronic_address": {"scheme": "9930", "id": "DE136695976"},
    "contact_name": "Ann Accounts",
    "contact_phone": "+49 30 1234567",
    "contact_email": "ann@acme.test",
}

EINVOICE_CUSTOMER: dict[str, Any] = {
    "vat_id": "FR40303265045",
    "tax_treatment": "reverse_charge",
    "electronic_address": {"scheme": "0009", "id": "30326504500015"},
    "buyer_reference": "991-12345-67",
    "einvoice_format": "peppol_ubl",
}


# Finalizing for a customer with an `einvoice_format` validates the document: both parties name
# their country, as EN 16931 requires (BT-40, BT-55).
SELLER_ADDRESS = {"line1": "Hauptstraße 1", "city": "Berlin", "postal_code": "10115", "country": "DE"}
BUYER_ADDRESS = {"line1": "1 Rue de la Paix", "city": "Paris", "postal_code": "75002", "country": "FR"}


@pytest.fixture
def acme(api: ApiClient) -> Billing:
    return Billing(api, legal=LEGAL, address=SELLER_ADDRESS)


def errors_of(response: Any) -> list[str]:
    assert response.status == 422, response.body
    return [error["field"] for error in response.json()["errors"]]


# --- The organisation ----------------------------------------------------------------------------


def test_an_organisations_legal_identity_round_trips(acme: Billing) -> None:
    organisation = acme.api.get(acme.base).json()

    assert organisation["legal"] == LEGAL


def test_an_organisation_without_a_legal_identity_has_none(api: ApiClient) -> None:
    organisation = Billing(api)

    assert api.get(organisation.base).json()["legal"] is None


def test_a_legal_vat_id_is_normalised(api: ApiClient) -> None:
    organisation = Billing(api, legal={"vat_id": "de 136 695 976"})

    assert api.get(organisation.base).json()["legal"]["vat_id"] == "DE136695976"


def test_a_patch_of_the_legal_identity_changes_only_the_fields_given(acme: Billing) -> None:
    response = acme.api.patch(acme.base, {"legal": {"company_id": "HRB 999"}})

    assert response.status == 200, response.body
    assert response.json()["legal"] == {**LEGAL, "company_id": "HRB 999"}
    assert acme.api.patch(acme.base, {"legal": None}).json()["legal"] is None


@pytest.mark.parametrize(
    ("legal", "named"),
    [
        ({"vat_id": "DE136695975"}, "legal.vat_id"),
        ({"vat_id": "136695976"}, "legal.vat_id"),
        ({"electronic_address": {"scheme": "99", "id": "x"}}, "legal.electronic_address.scheme"),
        ({"electronic_address": {"scheme": "0088"}}, "legal.electronic_address.id"),
        ({"registration_name": "x" * 201}, "legal.registration_name"),
        ({"nickname": "Acme"}, "legal.nickname"),
    ],
)
def test_a_bad_legal_identity_is_a_422_naming_the_field_and_changes_nothing(
    acme: Billing, legal: dict[str, Any], named: str
) -> None:
    before = acme.api.get(acme.base).json()

    assert named in errors_of(acme.api.patch(acme.base, {"legal": legal}))
    assert named in errors_of(
        acme.api.post("/v1/organisations", {"name": "B", "default_currency": "EUR", "legal": legal})
    )
    assert acme.api.get(acme.base).json() == before


# --- The customer --------------------------------------------------------------------------------


def customer(acme: Billing, customer_id: str) -> dict[str, Any]:
    return acme.api.get(f"{acme.base}/customers/{customer_id}").json()


def test_a_customer_has_no_einvoice_details_by_default(acme: Billing) -> None:
    shown = customer(acme, acme.customer)

    assert {name: shown[name] for name in EINVOICE_CUSTOMER} == {
        "vat_id": None,
        "tax_treatment": "standard",
        "electronic_address": None,
        "buyer_reference": None,
        "einvoice_format": None,
    }


def test_a_customers_einvoice_details_round_trip(acme: Billing) -> None:
    customer_id = acme.new_customer(**EINVOICE_CUSTOMER, address=BUYER_ADDRESS)

    shown = customer(acme, customer_id)

    assert {name: shown[name] for name in EINVOICE_CUSTOMER} == EINVOICE_CUSTOMER


def test_a_customers_einvoice_details_are_changed_by_a_patch(acme: Billing) -> None:
    path = f"{acme.base}/customers/{acme.customer}"

    response = acme.api.patch(
        path,
        {"vat_id": "de136695976", "einvoice_format": "xrechnung_cii", "buyer_reference": "04011000-12345-34"},
    )

    assert response.status == 200, response.body
    assert response.json()["vat_id"] == "DE136695976"
    assert response.json()["einvoice_format"] == "xrechnung_cii"
    assert customer(acme, acme.customer)["buyer_reference"] == "04011000-12345-34"


def test_a_vat_number_given_as_tax_id_is_enough_for_reverse_charge(acme: Billing) -> None:
    customer_id = acme.new_customer(tax_id="FR40303265045", country="FR", tax_treatment="reverse_charge")

    assert customer(acme, customer_id)["tax_treatment"] == "reverse_charge"


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"vat_id": "FR00000000000"}, "vat_id"),
        ({"vat_id": "303265045"}, "vat_id"),
        ({"vat_id": "   "}, "vat_id"),
        ({"tax_treatment": "offshore"}, "tax_treatment"),
        ({"tax_treatment": "reverse_charge"}, "tax_treatment"),
        ({"tax_treatment": "reverse_charge", "tax_id": "123-45-6789"}, "tax_treatment"),
        ({"einvoice_format": "pdf"}, "einvoice_format"),
        ({"buyer_reference": "x" * 201}, "buyer_reference"),
        ({"electronic_address": {"scheme": "EMAIL", "id": "ap@globex.test"}}, "electronic_address.scheme"),
        ({"electronic_address": {"scheme": "0088", "id": ""}}, "electronic_address.id"),
    ],
)
def test_a_bad_einvoice_detail_of_a_customer_is_a_422_naming_the_field_and_changes_nothing(
    acme: Billing, fields: dict[str, Any], named: str
) -> None:
    path = f"{acme.base}/customers/{acme.customer}"
    before = customer(acme, acme.customer)

    assert named in errors_of(
        acme.api.post(f"{acme.base}/customers", {"name": "B", "email": "b@b.test", **fields})
    )
    assert named in errors_of(acme.api.patch(path, fields))
    assert customer(acme, acme.customer) == before
    assert len(acme.api.get(f"{acme.base}/customers").json()["data"]) == 1


def test_removing_the_vat_id_of_a_reverse_charge_customer_is_refused(acme: Billing) -> None:
    customer_id = acme.new_customer(**EINVOICE_CUSTOMER, address=BUYER_ADDRESS)
    path = f"{acme.base}/customers/{customer_id}"

    assert errors_of(acme.api.patch(path, {"vat_id": None})) == ["tax_treatment"]
    assert customer(acme, customer_id)["vat_id"] == "FR40303265045"


# --- Lines ---------------------------------------------------------------------------------------


def lines_of(acme: Billing, *lines: dict[str, Any], customer_id: str | None = None) -> Any:
    return acme.api.post(
        f"{acme.base}/invoices",
        {
            "customer_id": customer_id or acme.customer,
            "line_items": [{"description": "Widget", "unit_amount": 1000, **line} for line in lines],
        },
    )


def test_a_line_gets_its_category_from_its_rate_and_keeps_what_is_given(acme: Billing) -> None:
    response = lines_of(
        acme,
        {},
        {"tax_rate": "0"},
        {"tax_rate": "0", "vat_category": "E", "exemption_reason": "Art. 132 (1)(i) 2006/112/EC"},
        {"unit_code": "HUR", "quantity": "1.5"},
    )

    assert response.status == 201, response.body
    lines = response.json()["line_items"]
    assert [line["vat_category"] for line in lines] == ["S", "Z", "E", "S"]
    assert [line["exemption_reason"] for line in lines] == [None, None, "Art. 132 (1)(i) 2006/112/EC", None]
    assert [line["unit_code"] for line in lines] == ["C62", "C62", "C62", "HUR"]
    assert acme.get(response.json()["id"])["line_items"] == lines


@pytest.mark.parametrize(
    ("line", "named"),
    [
        ({"tax_rate": "19", "vat_category": "Z"}, "line_items.0.vat_category"),
        ({"tax_rate": "0", "vat_category": "S"}, "line_items.0.vat_category"),
        ({"vat_category": "AE"}, "line_items.0.vat_category"),
        ({"vat_category": "X"}, "line_items.0.vat_category"),
        ({"exemption_reason": "Because"}, "line_items.0.exemption_reason"),
        (
            {"tax_rate": "0", "vat_category": "Z", "exemption_reason": "Because"},
            "line_items.0.exemption_reason",
        ),
        ({"unit_code": "hour"}, "line_items.0.unit_code"),
    ],
)
def test_a_line_whose_rate_and_category_disagree_is_a_422_naming_the_field(
    acme: Billing, line: dict[str, Any], named: str
) -> None:
    assert named in errors_of(lines_of(acme, line))
    assert acme.api.get(f"{acme.base}/invoices").json()["data"] == []


def test_editing_a_draft_checks_its_new_lines(acme: Billing) -> None:
    draft = acme.draft()

    response = acme.api.patch(
        acme.invoice(draft["id"]),
        {
            "line_items": [
                {"id": draft["line_items"][0]["id"]},
                {"description": "X", "unit_amount": 5, "vat_category": "K"},
            ]
        },
    )

    assert errors_of(response) == ["line_items.1.vat_category"]
    assert acme.get(draft["id"]) == draft


def test_a_charge_takes_a_category_and_its_line_keeps_it(acme: Billing) -> None:
    charge = acme.charge(tax_rate="0", vat_category="E", exemption_reason="Medical care", unit_code="DAY")

    invoice = acme.api.post(
        f"{acme.base}/invoices", {"customer_id": acme.customer, "charge_ids": [charge["id"]]}
    )

    assert invoice.status == 201, invoice.body
    line = invoice.json()["line_items"][0]
    assert (line["vat_category"], line["exemption_reason"], line["unit_code"]) == ("E", "Medical care", "DAY")


def test_a_charge_whose_rate_and_category_disagree_is_a_422(acme: Billing) -> None:
    response = acme.api.post(
        f"{acme.base}/customers/{acme.customer}/charges",
        {"description": "X", "unit_amount": 5, "vat_category": "Z"},
    )

    assert errors_of(response) == ["vat_category"]
    assert acme.api.get(f"{acme.base}/customers/{acme.customer}/charges").json()["data"] == []


def test_a_taxed_charge_of_a_customer_now_reverse_charged_is_refused_naming_it(acme: Billing) -> None:
    charge = acme.charge()  # at the customer's 19 %
    acme.api.patch(f"{acme.base}/customers/{acme.customer}", EINVOICE_CUSTOMER)

    response = acme.api.post(
        f"{acme.base}/invoices", {"customer_id": acme.customer, "charge_ids": [charge["id"]]}
    )

    assert errors_of(response) == ["charge_ids"]
    assert charge["id"] in response.json()["errors"][0]["message"]
    assert acme.api.get(f"{acme.base}/invoices").json()["data"] == []
    charges = acme.api.get(f"{acme.base}/customers/{acme.customer}/charges").json()["data"]
    assert [c["status"] for c in charges] == ["open"]


# --- Reverse charge, end to end ------------------------------------------------------------------


def test_a_reverse_charge_customers_invoice_carries_no_tax_and_category_ae(acme: Billing) -> None:
    acme.customer = acme.new_customer(
        **EINVOICE_CUSTOMER, address=BUYER_ADDRESS
    )  # and the default tax_rate 19 of Billing

    invoice = acme.finalized()

    assert invoice["tax_total"] == 0
    assert invoice["total"] == invoice["subtotal"] == 2000
    assert [(line["tax_rate"], line["vat_category"]) for line in invoice["line_items"]] == [("0.00", "AE")]
    assert invoice["customer_einvoice"] == EINVOICE_CUSTOMER
    assert acme.get(invoice["id"])["customer_einvoice"] == EINVOICE_CUSTOMER


def test_a_reverse_charge_customers_taxed_line_is_a_422(acme: Billing) -> None:
    acme.customer = acme.new_customer(**EINVOICE_CUSTOMER, address=BUYER_ADDRESS)

    assert errors_of(lines_of(acme, {"tax_rate": "19"})) == ["line_items.0.tax_rate"]
    assert errors_of(lines_of(acme, {"tax_rate": "19", "vat_category": "S"})) == ["line_items.0.tax_rate"]
    assert acme.api.get(f"{acme.base}/invoices").json()["data"] == []


@pytest.mark.parametrize(("treatment", "category"), [("exempt", "E"), ("export", "G")])
def test_an_exempt_or_export_customers_lines_are_untaxed(
    acme: Billing, treatment: str, category: str
) -> None:
    acme.customer = acme.new_customer(tax_treatment=treatment)

    invoice = acme.draft()

    assert invoice["tax_total"] == 0
    assert invoice["line_items"][0]["vat_category"] == category


def test_the_snapshot_keeps_the_customer_as_it_was_at_finalization(acme: Billing) -> None:
    acme.customer = acme.new_customer(**EINVOICE_CUSTOMER, address=BUYER_ADDRESS)
    invoice = acme.finalized()

    acme.api.patch(f"{acme.base}/customers/{acme.customer}", {"buyer_reference": "changed"})

    assert acme.get(invoice["id"])["customer_einvoice"]["buyer_reference"] == "991-12345-67"


def test_a_vat_number_tax_id_is_the_snapshots_vat_id(acme: Billing) -> None:
    acme.customer = acme.new_customer(tax_id="DE136695976", country="DE")

    invoice = acme.finalized()

    assert invoice["customer_einvoice"]["vat_id"] == "DE136695976"
    assert invoice["customer_einvoice"]["tax_treatment"] == "standard"


def test_a_draft_has_no_snapshot(acme: Billing) -> None:
    assert acme.draft()["customer_einvoice"] is None


# --- The delivery date ---------------------------------------------------------------------------


def test_a_drafts_delivery_date_is_set_changed_and_removed(acme: Billing) -> None:
    draft = acme.draft(delivery_date="2026-11-15")
    assert draft["delivery_date"] == "2026-11-15"

    changed = acme.api.patch(acme.invoice(draft["id"]), {"delivery_date": "2026-11-20"}).json()
    assert changed["delivery_date"] == "2026-11-20"
    assert acme.api.patch(acme.invoice(draft["id"]), {"memo": "x"}).json()["delivery_date"] == "2026-11-20"
    assert acme.api.patch(acme.invoice(draft["id"]), {"delivery_date": None}).json()["delivery_date"] is None


def test_a_bad_delivery_date_is_a_422_and_a_finalized_invoices_cannot_change(acme: Billing) -> None:
    draft = acme.draft()
    assert errors_of(acme.api.patch(acme.invoice(draft["id"]), {"delivery_date": "15/11/2026"})) == [
        "delivery_date"
    ]
    assert acme.get(draft["id"])["delivery_date"] is None

    invoice = acme.finalized(delivery_date="2026-11-15")
    assert invoice["delivery_date"] == "2026-11-15"
    assert acme.api.patch(acme.invoice(invoice["id"]), {"delivery_date": "2026-11-16"}).status == 409
    assert acme.get(invoice["id"])["delivery_date"] == "2026-11-15"


# --- Credit notes --------------------------------------------------------------------------------


def test_a_credit_note_line_keeps_the_invoice_lines_category_and_a_free_line_its_own(acme: Billing) -> None:
    acme.customer = acme.new_customer(**EINVOICE_CUSTOMER, address=BUYER_ADDRESS)
    invoice = acme.finalized()
    line_id = invoice["line_items"][0]["id"]

    response = acme.api.post(
        f"{acme.invoice(invoice['id'])}/credit_notes",
        {
            "lines": [
                {"invoice_line_id": line_id, "quantity": "1"},
                {"description": "Goodwill", "amount": 100, "tax_rate": "0", "unit_code": "DAY"},
            ]
        },
    )

    assert response.status == 201, response.body
    lines = response.json()["lines"]
    assert [(line["vat_category"], line["unit_code"]) for line in lines] == [("AE", "C62"), ("AE", "DAY")]


@pytest.mark.parametrize(
    ("line", "named"),
    [
        ({"description": "X", "amount": 100, "tax_rate": "19", "vat_category": "E"}, "lines[0].vat_category"),
        (
            {
                "description": "X",
                "amount": 100,
                "tax_rate": "0",
                "vat_category": "Z",
                "exemption_reason": "No",
            },
            "lines[0].exemption_reason",
        ),
        ({"description": "X", "amount": 100, "tax_rate": "19"}, "lines[0].tax_rate"),
    ],
)
def test_a_reverse_charge_credit_notes_bad_free_line_is_a_422(
    acme: Billing, line: dict[str, Any], named: str
) -> None:
    acme.customer = acme.new_customer(**EINVOICE_CUSTOMER, address=BUYER_ADDRESS)
    invoice = acme.finalized()

    response = acme.api.post(f"{acme.invoice(invoice['id'])}/credit_notes", {"lines": [line]})

    assert named in errors_of(response)
    assert acme.get(invoice["id"])["credited_amount"] == 0


# --- Subscriptions -------------------------------------------------------------------------------


def test_a_subscriptions_lines_keep_their_einvoice_fields_and_its_draft_has_them(acme: Billing) -> None:
    acme.customer = acme.new_customer(**EINVOICE_CUSTOMER, address=BUYER_ADDRESS)
    plan = [{"description": "Pro plan", "unit_amount": 4900, "unit_code": "MON"}]

    created = acme.api.post(f"{acme.base}/subscriptions", {"customer_id": acme.customer, "line_items": plan})

    assert created.status == 201, created.body
    assert created.json()["line_items"][0]["unit_code"] == "MON"
    upcoming = acme.api.get(f"{acme.base}/subscriptions/{created.json()['id']}/upcoming")
    assert upcoming.status == 200, upcoming.body
    line = upcoming.json()["line_items"][0]
    assert (line["tax_rate"], line["vat_category"], line["unit_code"]) == ("0.00", "AE", "MON")


def test_a_subscription_line_the_customers_treatment_refuses_is_a_422(acme: Billing) -> None:
    acme.customer = acme.new_customer(**EINVOICE_CUSTOMER, address=BUYER_ADDRESS)
    plan = [{"description": "Pro plan", "unit_amount": 4900, "tax_rate": "19"}]

    response = acme.api.post(f"{acme.base}/subscriptions", {"customer_id": acme.customer, "line_items": plan})

    assert errors_of(response) == ["line_items.0.tax_rate"]
    assert acme.api.get(f"{acme.base}/subscriptions").json()["data"] == []
