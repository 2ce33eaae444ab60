"""Organisations through the API function: every field, every rule, every error."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from tests.integration.api_client import ApiClient

FULL_ORGANISATION: dict[str, Any] = {
    "name": "Acme Ltd",
    "email": "billing@acme.test",
    "default_currency": "EUR",
    "timezone": "Europe/Paris",
    "address": {
        "line1": "1 Rue de la Paix",
        "line2": "Bâtiment B",
        "city": "Paris",
        "state": None,
        "postal_code": "75002",
        "country": "FR",
    },
    "tax_id": "FR40303265045",
    "branding": {"brand_colour": "#1A73E8"},
    "invoice_numbering": {"prefix": "ACME-", "padding": 6, "next_number": 100},
    "payment_terms_days": 14,
    "payment_methods": {
        "bank_transfer": {
            "account_name": "Acme Ltd",
            "iban": "FR1420041010050500013M02606",
            "bic": "BNPAFRPP",
            "instructions": "Quote the invoice number.",
        },
        "cheque": {"payable_to": "Acme Ltd", "mail_to": "1 Rue de la Paix, 75002 Paris"},
    },
    "reminders": {"enabled": True, "days_after_due": [30, 15], "days_before_due": [3, 1]},
}

# A valid 1x1 PNG.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


def create(api: ApiClient, **fields: Any) -> dict[str, Any]:
    response = api.post("/v1/organisations", {"name": "Acme Ltd", "default_currency": "EUR", **fields})
    assert response.status == 201, response.body
    return response.json()


def test_every_field_of_an_organisation_round_trips(api: ApiClient) -> None:
    created = api.post("/v1/organisations", FULL_ORGANISATION)

    assert created.status == 201
    fetched = api.get(f"/v1/organisations/{created.json()['id']}").json()
    assert fetched == created.json()
    assert fetched["id"].startswith("org_")
    for name in ("name", "email", "default_currency", "timezone", "address", "tax_id", "payment_terms_days"):
        assert fetched[name] == FULL_ORGANISATION[name]
    assert fetched["branding"] == {"logo_url": None, "brand_colour": "#1A73E8"}
    assert fetched["invoice_numbering"] == {"prefix": "ACME-", "padding": 6, "next_number": 100}
    assert fetched["payment_methods"] == {"card": False, **FULL_ORGANISATION["payment_methods"]}
    assert fetched["reminders"] == {"enabled": True, "days_after_due": [15, 30], "days_before_due": [1, 3]}
    assert fetched["created_at"].endswith("Z")


def test_an_organisation_gets_the_documented_defaults(api: ApiClient) -> None:
    organisation = create(api)

    assert organisation["timezone"] == "UTC"
    assert organisation["payment_terms_days"] == 30
    assert organisation["invoice_numbering"] == {"prefix": "ACME-", "padding": 5, "next_number": 1}
    assert organisation["reminders"] == {"enabled": True, "days_after_due": [15], "days_before_due": []}
    assert organisation["payment_methods"] == {"card": False, "bank_transfer": None, "cheque": None}


@pytest.mark.parametrize(
    ("field", "value", "named"),
    [
        ("name", "", "name"),
        ("name", "x" * 201, "name"),
        ("default_currency", "EURO", "default_currency"),
        ("default_currency", "XAU", "default_currency"),
        ("email", "not-an-email", "email"),
        ("timezone", "Mars/Olympus", "timezone"),
        ("address", {"country": "XX"}, "address.country"),
        ("address", {"planet": "Earth"}, "address.planet"),
        ("tax_id", "FR00000000000", "tax_id"),
        ("branding", {"brand_colour": "blue"}, "branding.brand_colour"),
        ("branding", {"logo_url": "https://evil.test/x.png"}, "branding.logo_url"),
        ("invoice_numbering", {"padding": 0}, "invoice_numbering.padding"),
        ("invoice_numbering", {"prefix": "A B"}, "invoice_numbering.prefix"),
        ("invoice_numbering", {"next_number": 0}, "invoice_numbering.next_number"),
        ("payment_terms_days", -1, "payment_terms_days"),
        ("payment_methods", {"card": True}, "payment_methods.card"),
        ("payment_methods", {"bank_transfer": {"iban": "DE00123"}}, "payment_methods.bank_transfer.iban"),
        ("reminders", {"days_after_due": [0]}, "reminders.days_after_due.0"),
        ("reminders", {"days_after_due": [1, 2, 3, 4, 5, 6]}, "reminders.days_after_due"),
        ("reminders", {"days_before_due": [31]}, "reminders.days_before_due.0"),
        ("reminders", {"days_before_due": [1, 2, 3, 4]}, "reminders.days_before_due"),
        ("unknown_field", 1, "unknown_field"),
    ],
)
def test_each_invalid_field_is_named_in_a_422(api: ApiClient, field: str, value: Any, named: str) -> None:
    response = api.post("/v1/organisations", {"name": "Acme Ltd", "default_currency": "EUR", field: value})

    assert response.status == 422
    assert response.content_type == "application/problem+json"
    problem = response.json()
    assert problem["status"] == 422
    assert named in [error["field"] for error in problem["errors"]]
    assert api.get("/v1/organisations").json()["data"] == []


def test_missing_required_fields_are_each_named(api: ApiClient) -> None:
    response = api.post("/v1/organisations", {})

    assert response.status == 422
    assert {e["field"] for e in response.json()["errors"]} == {"name", "default_currency"}


@pytest.mark.parametrize("body", ["{not json", '["a", "list"]', '"a string"', "42", ""])
def test_a_body_that_is_not_a_json_object_is_a_400(api: ApiClient, body: str) -> None:
    response = api.post("/v1/organisations", raw_body=body)

    assert response.status == 400
    assert response.content_type == "application/problem+json"
    assert response.json()["detail"]
    assert api.get("/v1/organisations").json()["data"] == []


def test_patch_changes_only_the_fields_given_and_merges_nested_objects(api: ApiClient) -> None:
    organisation = create(api, address={"line1": "1 Main St", "city": "Dublin", "country": "IE"})

    response = api.patch(
        f"/v1/organisations/{organisation['id']}",
        {"address": {"city": "Cork"}, "invoice_numbering": {"prefix": "INV/"}, "email": "ar@acme.test"},
    )

    assert response.status == 200
    changed = response.json()
    assert changed["address"]["line1"] == "1 Main St"
    assert changed["address"]["city"] == "Cork"
    assert changed["invoice_numbering"] == {"prefix": "INV/", "padding": 5, "next_number": 1}
    assert changed["email"] == "ar@acme.test"
    assert changed["name"] == organisation["name"]
    assert api.get(f"/v1/organisations/{organisation['id']}").json() == changed


def test_patch_with_null_clears_an_optional_field_and_refuses_a_required_one(api: ApiClient) -> None:
    organisation = create(api, email="billing@acme.test")
    path = f"/v1/organisations/{organisation['id']}"

    cleared = api.patch(path, {"email": None})
    refused = api.patch(path, {"name": None})

    assert cleared.status == 200
    assert cleared.json()["email"] is None
    assert refused.status == 422
    assert [e["field"] for e in refused.json()["errors"]] == ["name"]
    assert api.get(path).json()["name"] == "Acme Ltd"


def test_an_invalid_patch_changes_nothing(api: ApiClient) -> None:
    organisation = create(api)
    path = f"/v1/organisations/{organisation['id']}"

    response = api.patch(path, {"name": "New name", "default_currency": "NOPE"})

    assert response.status == 422
    assert api.get(path).json() == organisation


def test_the_next_invoice_number_can_be_raised_and_lowered_while_no_number_was_used(api: ApiClient) -> None:
    organisation = create(api)
    path = f"/v1/organisations/{organisation['id']}"

    raised = api.patch(path, {"invoice_numbering": {"next_number": 500}})
    lowered = api.patch(path, {"invoice_numbering": {"next_number": 10}})

    assert raised.json()["invoice_numbering"]["next_number"] == 500
    assert lowered.json()["invoice_numbering"]["next_number"] == 10


def test_organisations_are_listed_oldest_first_with_a_cursor(api: ApiClient) -> None:
    names = [f"Brand {n}" for n in range(5)]
    for name in names:
        create(api, name=name)

    first = api.get("/v1/organisations?limit=2").json()
    second = api.get(f"/v1/organisations?limit=2&cursor={first['next_cursor']}").json()
    third = api.get(f"/v1/organisations?limit=2&cursor={second['next_cursor']}").json()

    listed = [o["name"] for page in (first, second, third) for o in page["data"]]
    assert listed == names
    assert third["next_cursor"] is None


@pytest.mark.parametrize("query", ["limit=0", "limit=101", "limit=ten", "cursor=garbage"])
def test_bad_list_parameters_are_a_422_naming_them(api: ApiClient, query: str) -> None:
    response = api.get(f"/v1/organisations?{query}")

    assert response.status == 422
    assert response.json()["errors"][0]["field"] == query.split("=")[0]


def test_an_unknown_organisation_is_a_404(api: ApiClient) -> None:
    response = api.get("/v1/organisations/org_doesnotexist")

    assert response.status == 404
    assert response.content_type == "application/problem+json"


def test_a_png_logo_is_stored_and_served_publicly(api: ApiClient) -> None:
    organisation = create(api)

    response = api.put(
        f"/v1/organisations/{organisation['id']}/logo", raw_body=PNG, headers={"Content-Type": "image/png"}
    )

    assert response.status == 200
    logo_url = response.json()["branding"]["logo_url"]
    assert logo_url.startswith("https://api.remit.test/assets/logos/")
    served = api.get(logo_url.removeprefix("https://api.remit.test"), api_key=None)
    assert served.status == 200
    assert served.content_type == "image/png"
    assert served.body.startswith(b"\x89PNG\r\n\x1a\n")  # drawn again from the upload's pixels


def test_an_svg_logo_is_accepted_and_stored_as_a_png(api: ApiClient) -> None:
    organisation = create(api)
    svg = (
        b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>'
    )

    response = api.put(
        f"/v1/organisations/{organisation['id']}/logo",
        raw_body=svg,
        headers={"Content-Type": "image/svg+xml"},
    )

    assert response.status == 200
    assert response.json()["branding"]["logo_url"].endswith(".png")


@pytest.mark.parametrize(
    ("content", "content_type", "field"),
    [
        (b"definitely not a png", "image/png", "body"),
        (PNG, "image/jpeg", "body"),
        (b"", "image/png", "body"),
        (PNG + b"\0" * (1024 * 1024), "image/png", "body"),
        (
            b'<svg xmlns="http://www.w3.org/2000/svg"><image href="/etc/hostname"/></svg>',
            "image/svg+xml",
            "body",
        ),
        (b"<html><body>hi</body></html>", "image/svg+xml", "body"),
        (PNG, "application/pdf", "Content-Type"),
    ],
)
def test_a_logo_that_is_not_an_image_of_the_declared_type_is_refused(
    api: ApiClient, content: bytes, content_type: str, field: str
) -> None:
    organisation = create(api)

    response = api.put(
        f"/v1/organisations/{organisation['id']}/logo",
        raw_body=content,
        headers={"Content-Type": content_type},
    )

    assert response.status == 422
    assert response.json()["errors"][0]["field"] == field
    assert api.get(f"/v1/organisations/{organisation['id']}").json()["branding"]["logo_url"] is None


def test_the_logo_can_be_removed(api: ApiClient) -> None:
    organisation = create(api)
    path = f"/v1/organisations/{organisation['id']}"
    api.put(f"{path}/logo", raw_body=PNG, headers={"Content-Type": "image/png"})

    response = api.patch(path, {"branding": {"logo_url": None}})

    assert response.json()["branding"] == {"logo_url": None, "brand_colour": None}


def test_the_openapi_document_describes_the_routes(api: ApiClient) -> None:
    response = api.get("/openapi.json", api_key=None)

    assert response.status == 200
    document = response.json()
    assert document["openapi"].startswith("3.")
    assert "/v1/organisations" in document["paths"]
    assert "/v1/organisations/{organisation_id}/customers/{customer_id}" in document["paths"]
    assert "NewOrganisation" in document["components"]["schemas"]


def test_the_interactive_documentation_is_served(api: ApiClient) -> None:
    response = api.get("/docs", api_key=None)

    assert response.status == 200
    assert b"swagger" in response.body.lower()
