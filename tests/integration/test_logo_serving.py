"""Which logo is served, where, and with which headers; and the logo an issued invoice keeps.

Only the organisation's current logo is served at its public URL (`/assets/logos/…`); a replaced or
removed one is not found. An invoice keeps the logo it was finalized with: its PDF draws it (read
from the bucket) and its hosted page shows it from `/i/{token}/logo`. Nothing is deleted from the
bucket.
"""

from __future__ import annotations

import io
from typing import Any

import boto3
import pytest
from PIL import Image
from pypdf import PdfReader

from tests.integration.api_client import ApiClient, ApiResponse
from tests.integration.billing import Billing
from tests.integration.conftest import LOGO_BUCKET, TABLES

UPLOAD_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; sandbox",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "public, max-age=300",
}


def png(width: int, height: int, colour: tuple[int, int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(buffer, "PNG")
    return buffer.getvalue()


RED_LOGO = png(300, 100, (200, 0, 0))
BLUE_LOGO = png(200, 100, (0, 0, 200))


def upload(api: ApiClient, organisation_id: str, content: bytes) -> dict[str, Any]:
    response = api.put(
        f"/v1/organisations/{organisation_id}/logo", raw_body=content, headers={"Content-Type": "image/png"}
    )
    assert response.status == 200, response.body
    organisation: dict[str, Any] = response.json()
    return organisation


def fetch(api: ApiClient, url: str) -> ApiResponse:
    return api.get(url.removeprefix("https://api.remit.test"), api_key=None)


def pdf_image_sizes(api: ApiClient, billing: Billing, invoice_id: str) -> list[tuple[int, int]]:
    response = api.get(f"{billing.invoice(invoice_id)}/pdf")
    assert response.status == 200, response.body
    page = PdfReader(io.BytesIO(response.body)).pages[0]
    return [image.image.size for image in page.images if image.image is not None]


def stored_keys(organisation_id: str) -> list[str]:
    listed = boto3.client("s3").list_objects_v2(Bucket=LOGO_BUCKET, Prefix=f"logos/{organisation_id}/")
    return sorted(item["Key"] for item in listed.get("Contents", []))


def test_the_current_logo_is_served_with_headers_that_keep_it_inert(api: ApiClient) -> None:
    # Given an organisation with a logo
    billing = Billing(api)
    logo_url = upload(api, billing.org, RED_LOGO)["branding"]["logo_url"]

    # When anyone fetches its URL, without a key
    served = fetch(api, logo_url)

    # Then it is the logo, served sandboxed, typed, and cached briefly (never for good)
    assert served.status == 200
    assert served.content_type == "image/png"
    assert UPLOAD_HEADERS.items() <= served.headers.items()
    assert "immutable" not in served.headers["Cache-Control"]
    assert Image.open(io.BytesIO(served.body)).size == (300, 100)


def test_a_replaced_logo_is_no_longer_served(api: ApiClient) -> None:
    # Given an organisation whose logo was replaced
    billing = Billing(api)
    old_url = upload(api, billing.org, RED_LOGO)["branding"]["logo_url"]
    new_url = upload(api, billing.org, BLUE_LOGO)["branding"]["logo_url"]

    # When both URLs are fetched
    old, new = fetch(api, old_url), fetch(api, new_url)

    # Then only the current one is served; the old one stays in the bucket for issued documents
    assert (old.status, new.status) == (404, 200)
    assert old.content_type == "application/problem+json"
    assert len(stored_keys(billing.org)) == 2


def test_deleting_the_logo_answers_204_and_it_is_no_longer_served(api: ApiClient) -> None:
    # Given an organisation with a logo
    billing = Billing(api)
    logo_url = upload(api, billing.org, RED_LOGO)["branding"]["logo_url"]

    # When the logo is deleted, twice
    first = api.delete(f"/v1/organisations/{billing.org}/logo")
    again = api.delete(f"/v1/organisations/{billing.org}/logo")

    # Then each answers 204, the organisation has no logo, and its URL is not found
    assert (first.status, first.body, again.status) == (204, b"", 204)
    assert api.get(f"/v1/organisations/{billing.org}").json()["branding"]["logo_url"] is None
    assert fetch(api, logo_url).status == 404
    assert stored_keys(billing.org) != []  # kept for the documents issued with it


def test_another_account_can_neither_delete_nor_replace_the_logo(
    api: ApiClient, other_api: ApiClient
) -> None:
    billing = Billing(api)
    logo_url = upload(api, billing.org, RED_LOGO)["branding"]["logo_url"]

    deleted = other_api.delete(f"/v1/organisations/{billing.org}/logo")
    replaced = other_api.put(
        f"/v1/organisations/{billing.org}/logo", raw_body=BLUE_LOGO, headers={"Content-Type": "image/png"}
    )

    assert (deleted.status, replaced.status) == (404, 404)
    assert api.get(f"/v1/organisations/{billing.org}").json()["branding"]["logo_url"] == logo_url
    assert fetch(api, logo_url).status == 200


def test_a_logo_is_served_only_under_its_own_organisation(api: ApiClient) -> None:
    # Given two organisations, one with a logo
    acme, globex = Billing(api), Billing(api)
    logo_url = upload(api, acme.org, RED_LOGO)["branding"]["logo_url"]
    file_name = logo_url.rsplit("/", 1)[1]

    # When its file is asked for under the other organisation, or under a made-up one
    elsewhere = fetch(api, f"/assets/logos/{globex.org}/{file_name}")
    made_up = fetch(api, f"/assets/logos/org_nobody/{file_name}")

    # Then neither is found
    assert (elsewhere.status, made_up.status) == (404, 404)


def test_an_issued_invoice_keeps_the_logo_it_was_issued_with(api: ApiClient) -> None:
    # Given invoices finalized under a red logo, then a blue one, then none
    billing = Billing(api)
    upload(api, billing.org, RED_LOGO)
    under_red = billing.finalized()
    upload(api, billing.org, BLUE_LOGO)
    under_blue = billing.finalized()
    assert api.delete(f"/v1/organisations/{billing.org}/logo").status == 204
    without = billing.finalized()

    # When their PDFs, hosted pages and hosted logos are read
    # Then each shows the logo it was issued with, whatever the organisation has now
    assert pdf_image_sizes(api, billing, under_red["id"]) == [(300, 100)]
    assert pdf_image_sizes(api, billing, under_blue["id"]) == [(200, 100)]
    assert pdf_image_sizes(api, billing, without["id"]) == []
    for invoice, colour in ((under_red, (200, 0, 0)), (under_blue, (0, 0, 200))):
        page = fetch(api, invoice["hosted_url"])
        assert f'src="{invoice["hosted_url"]}/logo"'.encode() in page.body
        logo = fetch(api, f"{invoice['hosted_url']}/logo")
        assert logo.status == 200
        assert UPLOAD_HEADERS.items() <= logo.headers.items()
        assert Image.open(io.BytesIO(logo.body)).convert("RGB").getpixel((5, 5)) == colour
    assert b"/logo" not in fetch(api, without["hosted_url"]).body
    assert fetch(api, f"{without['hosted_url']}/logo").status == 404


def test_an_unknown_token_has_no_logo(api: ApiClient) -> None:
    assert fetch(api, "/i/" + "x" * 43 + "/logo").status == 404


def test_an_invoice_finalized_before_logos_were_recorded_shows_the_current_logo(api: ApiClient) -> None:
    # Given an invoice finalized before invoices recorded their logo (its item has no `logo_key`)
    billing = Billing(api)
    invoice = billing.finalized()
    boto3.client("dynamodb").update_item(
        TableName=TABLES["BillingTable"],
        Key={"PK": {"S": f"ORG#{billing.org}"}, "SK": {"S": f"INVOICE#{invoice['id']}"}},
        UpdateExpression="REMOVE logo_key",
    )

    # When the organisation uploads a logo
    upload(api, billing.org, BLUE_LOGO)

    # Then the invoice's documents show it
    assert fetch(api, f"{invoice['hosted_url']}/logo").status == 200
    assert pdf_image_sizes(api, billing, invoice["id"]) == [(200, 100)]


@pytest.mark.parametrize("method", ["POST", "PATCH"])
def test_the_logo_path_refuses_other_methods(api: ApiClient, method: str) -> None:
    billing = Billing(api)

    response = api.request(method, f"/v1/organisations/{billing.org}/logo", {})

    assert response.status == 405
    assert set(response.headers["Allow"].split(", ")) == {"DELETE", "PUT"}
