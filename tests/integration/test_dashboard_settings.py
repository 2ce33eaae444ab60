"""Settings: each form saves its section only, through the same services as the API; refusals are
the API's, next to their fields; the logo upload is a multipart form; the card provider connects and
disconnects.
"""

from __future__ import annotations

import base64
import copy
import io
import json
import uuid
from typing import Any

import pytest

from tests.integration.dashboard_browser import SAMPLE, Browser, account_with_user, signed_in, text_of

pytestmark = pytest.mark.usefixtures("user_pool")


def settings_of(organisation_id: str) -> str:
    return f"/dashboard/organisations/{organisation_id}/settings"


def stored(account_id: str, organisation_id: str) -> Any:
    from remit.bootstrap import services

    return services().organisations.get(account_id, organisation_id)


def png(width: int = 8, height: int = 8) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (26, 115, 232)).save(buffer, format="PNG")
    return buffer.getvalue()


def post_multipart(
    browser: Browser,
    path: str,
    fields: dict[str, str],
    files: dict[str, tuple[str, str, bytes]],
) -> dict[str, Any]:
    """A `multipart/form-data` POST as API Gateway passes it on (base64, a binary media type)."""
    from dashboard.app import lambda_handler
    from tests.integration.api_client import LambdaContext

    boundary = f"----remit{uuid.uuid4().hex}"
    body = b""
    for name, value in fields.items():
        body += (f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n').encode()
    for name, (filename, content_type, content) in files.items():
        body += (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
            f"Content-Type: {content_type}\r\n\r\n"
        ).encode()
        body += content + b"\r\n"
    body += f"--{boundary}--\r\n".encode()
    event: dict[str, Any] = copy.deepcopy(json.loads(SAMPLE.read_text()))
    event.update(
        httpMethod="POST",
        path=path,
        body=base64.b64encode(body).decode(),
        isBase64Encoded=True,
        queryStringParameters=None,
    )
    event["headers"]["Content-Type"] = f"multipart/form-data; boundary={boundary}"
    event["headers"]["Cookie"] = "; ".join(f"{name}={value}" for name, value in browser.cookies.items())
    event["requestContext"].update(requestId=str(uuid.uuid4()), path=path)
    response: dict[str, Any] = lambda_handler(event, LambdaContext(str(uuid.uuid4()), "remit-dashboard"))
    cookie = response["headers"].get("Set-Cookie")
    if cookie:
        name, _, rest = cookie.partition("=")
        browser.cookies[name] = rest.split(";", 1)[0]
    return response


def follow(browser: Browser, response: dict[str, Any]) -> str:
    assert response["statusCode"] == 303, text_of(response["body"])
    return str(browser.request("GET", response["headers"]["Location"].split("#")[0])["body"])


# The page -----------------------------------------------------------------------------------------


def test_the_settings_page_shows_every_section_with_the_stored_values() -> None:
    _account_id, organisation_id = account_with_user("sam@example.com", "Settings Ltd")
    browser = signed_in("sam@example.com")

    page = browser.request("GET", settings_of(organisation_id))

    assert page["statusCode"] == 200
    body = page["body"]
    assert body.count("<h1>") == 1
    for heading in (
        "Organisation",
        "Legal identity",
        "Branding",
        "Numbering",
        "Payment methods",
        "Card provider",
        "Reminders",
    ):
        assert f">{heading}</h2>" in body
    assert 'aria-current="page">Settings</a>' in body
    assert 'value="Settings Ltd"' in body
    assert 'name="timezone"' in body
    assert '<option value="Europe/Paris">' in body
    assert 'name="payment_methods.bank_transfer.iban"' in body
    assert 'name="legal.vat_id"' in body
    assert 'name="legal.electronic_address.scheme"' in body
    assert 'name="reminders.days_after_due"' in body
    assert 'enctype="multipart/form-data"' in body
    assert 'type="file"' in body
    assert "SETT-00001" in text_of(body)  # the example number
    assert "Not connected" in text_of(body)
    path = settings_of(organisation_id)
    for action in (
        "organisation",
        "legal",
        "branding",
        "logo",
        "numbering",
        "payment-methods",
        "card-provider",
        "reminders",
        "notifications",
        "portal",
    ):
        assert f'action="{path}/{action}"' in body
    assert f'hx-get="{path}/branding/preview"' in body
    assert "<script>" not in body
    assert " onclick" not in body


def test_the_organisation_form_saves_its_fields_and_changes_no_other_section() -> None:
    account_id, organisation_id = account_with_user("tia@example.com", "Tia Ltd")
    browser = signed_in("tia@example.com")
    browser.post(f"{settings_of(organisation_id)}/branding", {"branding.brand_colour": "#112233"})

    response = browser.post(
        f"{settings_of(organisation_id)}/organisation",
        {
            "name": "Tia GmbH",
            "email": "billing@tia.test",
            "default_currency": "EUR",
            "timezone": "Europe/Berlin",
            "locale": "de-DE",
            "address.line1": "Hauptstraße 1",
            "address.city": "Berlin",
            "address.country": "DE",
            "tax_id": "",
            "payment_terms_days": "14",
        },
        confirmed=False,
    )

    page = follow(browser, response)
    assert "Organisation details saved." in text_of(page)
    organisation = stored(account_id, organisation_id)
    assert organisation.name == "Tia GmbH"
    assert organisation.email == "billing@tia.test"
    assert organisation.timezone == "Europe/Berlin"
    assert organisation.locale == "de-DE"
    assert organisation.payment_terms_days == 14
    assert organisation.address is not None
    assert organisation.address.city == "Berlin"
    assert organisation.branding.brand_colour is not None
    assert organisation.branding.brand_colour.lower() == "#112233"  # another section's field kept
    assert organisation.invoice_numbering.prefix == "TIAL-"


def test_a_refused_organisation_field_shows_the_apis_message_next_to_it_and_changes_nothing() -> None:
    account_id, organisation_id = account_with_user("uma@example.com", "Uma Ltd")
    browser = signed_in("uma@example.com")
    before = stored(account_id, organisation_id)

    response = browser.post(
        f"{settings_of(organisation_id)}/organisation",
        {"name": "Uma Renamed", "default_currency": "EURO", "timezone": "UTC", "payment_terms_days": "30"},
    )

    assert response["statusCode"] == 422
    assert 'id="f-default_currency-error"' in response["body"]
    assert 'value="Uma Renamed"' in response["body"]  # what was typed is kept
    assert stored(account_id, organisation_id) == before


def test_an_emptied_name_is_refused_as_the_api_refuses_a_null_name() -> None:
    account_id, organisation_id = account_with_user("una@example.com", "Una Ltd")
    browser = signed_in("una@example.com")

    response = browser.post(f"{settings_of(organisation_id)}/organisation", {"name": "", "timezone": "UTC"})

    assert response["statusCode"] == 422
    assert 'id="f-name-error"' in response["body"]
    assert stored(account_id, organisation_id).name == "Una Ltd"


def test_the_time_zone_change_is_reflected_in_the_times_shown() -> None:
    account_id, organisation_id = account_with_user("vic@example.com", "Vic Ltd")
    browser = signed_in("vic@example.com")
    assert "UTC" in text_of(browser.request("GET", settings_of(organisation_id))["body"])

    response = browser.post(f"{settings_of(organisation_id)}/organisation", {"timezone": "Asia/Tokyo"})

    page = follow(browser, response)
    organisation = stored(account_id, organisation_id)
    assert organisation.timezone == "Asia/Tokyo"
    shown = organisation.updated_at.astimezone(__import__("zoneinfo").ZoneInfo("Asia/Tokyo"))
    assert f"{shown:%Y-%m-%d %H:%M} JST" in text_of(page)


# Branding -----------------------------------------------------------------------------------------


def test_the_brand_colour_is_saved_previewed_and_cleared() -> None:
    account_id, organisation_id = account_with_user("wes@example.com", "Wes Ltd")
    browser = signed_in("wes@example.com")
    path = settings_of(organisation_id)

    page = follow(browser, browser.post(f"{path}/branding", {"branding.brand_colour": "#1a73e8"}))

    assert "Brand colour saved." in text_of(page)
    assert (stored(account_id, organisation_id).branding.brand_colour or "").lower() == "#1a73e8"
    assert "background: #1" in page
    assert "Preview of #1" in text_of(page)
    assert 'hx-get="' in page
    assert 'hx-include="#f-branding-brand_colour"' in page

    # The htmx fragment and the no-script preview show a colour without saving it.
    event_headers = {"HX-Request": "true"}
    fragment = request_with_headers(
        browser, f"{path}/branding/preview?branding.brand_colour=%23ff0000", event_headers
    )
    assert fragment["statusCode"] == 200
    assert "background: #ff0000" in fragment["body"]
    assert "<html" not in fragment["body"]
    assert "color: #000000" in fragment["body"]  # black reads better on red
    without_htmx = browser.request("GET", f"{path}/branding/preview?branding.brand_colour=%23abcdef")
    assert without_htmx["statusCode"] == 303
    page = follow(browser, without_htmx)
    assert "background: #abcdef" in page
    assert 'value="#abcdef"' in page
    preview = browser.post(f"{path}/branding", {"branding.brand_colour": "#00ff00", "preview": "yes"})
    assert preview["statusCode"] == 200
    assert "background: #00ff00" in preview["body"]
    assert (stored(account_id, organisation_id).branding.brand_colour or "").lower() == "#1a73e8"

    follow(browser, browser.post(f"{path}/branding", {"branding.brand_colour": ""}))
    assert stored(account_id, organisation_id).branding.brand_colour is None


def request_with_headers(browser: Browser, path: str, headers: dict[str, str]) -> dict[str, Any]:
    from dashboard.app import lambda_handler
    from tests.integration.api_client import LambdaContext

    event: dict[str, Any] = copy.deepcopy(json.loads(SAMPLE.read_text()))
    path, _, query = path.partition("?")
    from urllib.parse import parse_qsl

    event.update(httpMethod="GET", path=path, body=None, queryStringParameters=dict(parse_qsl(query)) or None)
    event["headers"].update(headers)
    event["headers"]["Cookie"] = "; ".join(f"{name}={value}" for name, value in browser.cookies.items())
    response: dict[str, Any] = lambda_handler(event, LambdaContext(str(uuid.uuid4()), "remit-dashboard"))
    return response


def test_a_refused_brand_colour_is_shown_next_to_the_field_and_changes_nothing() -> None:
    account_id, organisation_id = account_with_user("xan@example.com", "Xan Ltd")
    browser = signed_in("xan@example.com")

    response = browser.post(f"{settings_of(organisation_id)}/branding", {"branding.brand_colour": "blue;x"})

    assert response["statusCode"] == 422
    assert 'id="f-branding-brand_colour-error"' in response["body"]
    assert "blue;x" in response["body"]
    assert "background: blue" not in response["body"]  # never put into a style
    assert stored(account_id, organisation_id).branding.brand_colour is None


def test_a_png_logo_is_uploaded_through_the_multipart_form_shown_and_removed() -> None:
    from remit.bootstrap import services

    account_id, organisation_id = account_with_user("yan@example.com", "Yan Ltd")
    browser = signed_in("yan@example.com")
    path = settings_of(organisation_id)
    image = png()

    response = post_multipart(
        browser, f"{path}/logo", {"csrf_token": browser.csrf}, {"logo": ("logo.png", "image/png", image)}
    )

    page = follow(browser, response)
    assert "Logo logo.png uploaded." in text_of(page)
    logo_url = stored(account_id, organisation_id).branding.logo_url
    assert logo_url is not None
    assert logo_url.startswith("https://api.remit.test/assets/logos/")
    key = logo_url.split("/assets/", 1)[1]
    organisation_folder, file_name = key.removeprefix("logos/").split("/")
    served, content_type = services().organisations.current_logo(organisation_folder, file_name)
    assert (content_type, served[:8]) == ("image/png", b"\x89PNG\r\n\x1a\n")  # drawn again from its pixels
    assert f'src="/assets/{key}"' in page  # same origin: the CSP's img-src 'self' allows it

    confirmation = browser.post(f"{path}/logo/remove", {}, confirmed=False)
    assert confirmation["statusCode"] == 200
    assert "Remove the logo?" in text_of(confirmation["body"])
    assert stored(account_id, organisation_id).branding.logo_url == logo_url
    page = follow(browser, browser.post(f"{path}/logo/remove", {}))
    assert "Logo removed." in text_of(page)
    assert stored(account_id, organisation_id).branding.logo_url is None


@pytest.mark.parametrize(
    ("filename", "content_type", "content", "message"),
    [
        ("notes.txt", "text/plain", b"not an image at all", "must be one of image/png"),
        ("fake.png", "image/png", b"definitely not a png", ""),
        ("empty.png", "image/png", b"", "empty"),
    ],
)
def test_a_file_that_is_not_a_logo_is_refused_next_to_the_field(
    filename: str, content_type: str, content: bytes, message: str
) -> None:
    account_id, organisation_id = account_with_user("zed@example.com", "Zed Ltd")
    browser = signed_in("zed@example.com")

    response = post_multipart(
        browser,
        f"{settings_of(organisation_id)}/logo",
        {"csrf_token": browser.csrf},
        {"logo": (filename, content_type, content)},
    )

    assert response["statusCode"] == 422
    assert 'id="f-logo-error"' in response["body"]
    assert message in response["body"]
    assert stored(account_id, organisation_id).branding.logo_url is None


def test_a_multipart_post_without_its_csrf_token_is_refused_and_changes_nothing() -> None:
    account_id, organisation_id = account_with_user("abe@example.com", "Abe Ltd")
    browser = signed_in("abe@example.com")

    response = post_multipart(
        browser, f"{settings_of(organisation_id)}/logo", {}, {"logo": ("logo.png", "image/png", png())}
    )
    wrong = post_multipart(
        browser,
        f"{settings_of(organisation_id)}/logo",
        {"csrf_token": "not-the-token"},
        {"logo": ("logo.png", "image/png", png())},
    )

    assert response["statusCode"] == 403
    assert wrong["statusCode"] == 403
    assert stored(account_id, organisation_id).branding.logo_url is None


def test_a_form_posted_without_its_csrf_token_changes_nothing() -> None:
    account_id, organisation_id = account_with_user("bea@example.com", "Bea Ltd")
    browser = signed_in("bea@example.com")

    response = browser.request("POST", f"{settings_of(organisation_id)}/organisation", {"name": "Sneaky"})

    assert response["statusCode"] == 403
    assert stored(account_id, organisation_id).name == "Bea Ltd"


# Numbering ----------------------------------------------------------------------------------------


def test_the_numbering_is_saved_and_the_example_number_follows() -> None:
    account_id, organisation_id = account_with_user("cal@example.com", "Cal Ltd")
    browser = signed_in("cal@example.com")

    response = browser.post(
        f"{settings_of(organisation_id)}/numbering",
        {
            "invoice_numbering.prefix": "C-2026-",
            "invoice_numbering.padding": "3",
            "invoice_numbering.next_number": "42",
        },
    )

    page = follow(browser, response)
    numbering = stored(account_id, organisation_id).invoice_numbering
    assert (numbering.prefix, numbering.padding, numbering.next_number) == ("C-2026-", 3, 42)
    assert "C-2026-042" in text_of(page)

    follow(
        browser, browser.post(f"{settings_of(organisation_id)}/numbering", {"invoice_numbering.prefix": ""})
    )
    assert stored(account_id, organisation_id).invoice_numbering.prefix == ""  # an empty prefix is a prefix


def test_a_next_number_at_or_below_the_last_used_is_refused_next_to_the_field() -> None:
    from remit.bootstrap import services

    account_id, organisation_id = account_with_user("dan@example.com", "Dan Ltd")
    organisation, series = services().organisations._organisations.read(organisation_id)
    assert organisation is not None
    assert series is not None
    # As if invoice 7 had been finalized.
    services().organisations._organisations.save(
        organisation, series=series.model_copy(update={"last_number_used": 7})
    )
    browser = signed_in("dan@example.com")

    response = browser.post(
        f"{settings_of(organisation_id)}/numbering",
        {"invoice_numbering.prefix": "DAN-", "invoice_numbering.next_number": "5"},
    )

    assert response["statusCode"] == 422
    assert 'id="f-invoice_numbering-next_number-error"' in response["body"]
    assert "must be above 7, the last number already used" in text_of(response["body"])
    assert stored(account_id, organisation_id).invoice_numbering.next_number == 1


# Payment methods ----------------------------------------------------------------------------------


def test_bank_transfer_and_cheque_details_are_saved_and_cleared() -> None:
    account_id, organisation_id = account_with_user("eve@example.com", "Eve Ltd")
    browser = signed_in("eve@example.com")
    path = f"{settings_of(organisation_id)}/payment-methods"

    follow(
        browser,
        browser.post(
            path,
            {
                "payment_methods.bank_transfer.account_name": "Eve Ltd",
                "payment_methods.bank_transfer.iban": "DE89 3704 0044 0532 0130 00",
                "payment_methods.bank_transfer.bic": "COBADEFFXXX",
                "payment_methods.bank_transfer.instructions": "Quote the invoice number.",
                "payment_methods.cheque.payable_to": "Eve Ltd",
                "payment_methods.cheque.mail_to": "1 Cheque Lane",
            },
        ),
    )

    methods = stored(account_id, organisation_id).payment_methods
    assert methods.bank_transfer is not None
    assert methods.bank_transfer.iban == "DE89370400440532013000"
    assert methods.cheque is not None
    assert methods.cheque.payable_to == "Eve Ltd"
    page = browser.request("GET", settings_of(organisation_id))["body"]
    assert 'value="DE89370400440532013000"' in page

    follow(
        browser,
        browser.post(path, {"payment_methods.cheque.payable_to": "", "payment_methods.cheque.mail_to": ""}),
    )
    methods = stored(account_id, organisation_id).payment_methods
    assert methods.cheque is None or (methods.cheque.payable_to is None and methods.cheque.mail_to is None)
    assert methods.bank_transfer is not None
    assert methods.bank_transfer.bic == "COBADEFFXXX"


def test_a_refused_iban_is_shown_next_to_its_field_and_changes_nothing() -> None:
    account_id, organisation_id = account_with_user("fay@example.com", "Fay Ltd")
    browser = signed_in("fay@example.com")

    response = browser.post(
        f"{settings_of(organisation_id)}/payment-methods", {"payment_methods.bank_transfer.iban": "DE00 1234"}
    )

    assert response["statusCode"] == 422
    assert 'id="f-payment_methods-bank_transfer-iban-error"' in response["body"]
    assert "is not a valid IBAN" in text_of(response["body"])
    assert stored(account_id, organisation_id).payment_methods.bank_transfer is None


# Legal identity -----------------------------------------------------------------------------------


def test_the_legal_identity_is_saved_normalised_and_shown() -> None:
    account_id, organisation_id = account_with_user("lea@example.com", "Lea GmbH")
    browser = signed_in("lea@example.com")

    follow(
        browser,
        browser.post(
            f"{settings_of(organisation_id)}/legal",
            {
                "legal.registration_name": "Lea GmbH",
                "legal.company_id": "HRB 4711",
                "legal.vat_id": "de 136 695 976",
                "legal.electronic_address.scheme": "9930",
                "legal.electronic_address.id": "DE136695976",
            },
        ),
    )

    legal = stored(account_id, organisation_id).legal
    assert legal is not None
    assert (legal.registration_name, legal.company_id, legal.vat_id) == (
        "Lea GmbH",
        "HRB 4711",
        "DE136695976",
    )
    assert legal.electronic_address is not None
    assert legal.electronic_address.scheme == "9930"
    page = browser.request("GET", settings_of(organisation_id))["body"]
    assert 'value="DE136695976"' in page
    assert stored(account_id, organisation_id).name == "Lea GmbH"  # no other section changed


def test_a_refused_vat_id_is_shown_next_to_its_field_and_changes_nothing() -> None:
    account_id, organisation_id = account_with_user("leo@example.com", "Leo GmbH")
    browser = signed_in("leo@example.com")

    response = browser.post(f"{settings_of(organisation_id)}/legal", {"legal.vat_id": "DE136695975"})

    assert response["statusCode"] == 422
    assert 'id="f-legal-vat_id-error"' in response["body"]
    assert "is not a valid EU VAT number" in text_of(response["body"])
    assert stored(account_id, organisation_id).legal is None


# Card provider ------------------------------------------------------------------------------------


def test_the_sandbox_card_provider_is_connected_and_disconnected() -> None:
    account_id, organisation_id = account_with_user("gus@example.com", "Gus Ltd")
    browser = signed_in("gus@example.com")
    path = settings_of(organisation_id)

    page = follow(browser, browser.post(f"{path}/card-provider", {"provider": "sandbox"}))

    assert "Card payments connected (sandbox)." in text_of(page)
    assert stored(account_id, organisation_id).payment_methods.card is True
    assert "Connected" in text_of(page)
    assert "sk_sandbox" not in page
    assert "whsec_" not in page.replace("(whsec_…)", "")

    confirmation = browser.post(f"{path}/card-provider/disconnect", {}, confirmed=False)
    assert "Disconnect the card provider?" in text_of(confirmation["body"])
    assert stored(account_id, organisation_id).payment_methods.card is True
    page = follow(browser, browser.post(f"{path}/card-provider/disconnect", {}))
    assert "Card provider disconnected" in text_of(page)
    assert stored(account_id, organisation_id).payment_methods.card is False


def test_a_refused_connection_shows_the_message_next_to_the_field_and_never_echoes_a_secret() -> None:
    account_id, organisation_id = account_with_user("hal@example.com", "Hal Ltd")
    browser = signed_in("hal@example.com")

    response = browser.post(
        f"{settings_of(organisation_id)}/card-provider",
        {"provider": "stripe", "secret_key": "sk_test_supersecret123", "webhook_secret": ""},
    )

    assert response["statusCode"] == 422
    assert 'id="f-webhook_secret-error"' in response["body"]
    assert "supersecret" not in response["body"]
    assert 'type="password"' in response["body"]
    assert stored(account_id, organisation_id).payment_methods.card is False


# Reminders ----------------------------------------------------------------------------------------


def test_the_reminders_are_saved_from_lines_of_days() -> None:
    account_id, organisation_id = account_with_user("ian@example.com", "Ian Ltd")
    browser = signed_in("ian@example.com")

    page = follow(
        browser,
        browser.post(
            f"{settings_of(organisation_id)}/reminders",
            [
                ("reminders.enabled", "false"),
                ("reminders.enabled", "true"),
                ("reminders.days_after_due", "30\n7\n\n14"),
                ("reminders.days_before_due", "3"),
            ],
        ),
    )

    reminders = stored(account_id, organisation_id).reminders
    assert (reminders.enabled, reminders.days_after_due, reminders.days_before_due) == (
        True,
        [7, 14, 30],
        [3],
    )
    assert "Reminder settings saved." in text_of(page)

    follow(
        browser,
        browser.post(
            f"{settings_of(organisation_id)}/reminders",
            [
                ("reminders.enabled", "false"),
                ("reminders.days_after_due", "7"),
                ("reminders.days_before_due", ""),
            ],
        ),
    )
    reminders = stored(account_id, organisation_id).reminders
    assert (reminders.enabled, reminders.days_after_due, reminders.days_before_due) == (False, [7], [])


def test_refused_reminder_days_are_shown_next_to_the_field_and_change_nothing() -> None:
    account_id, organisation_id = account_with_user("jon@example.com", "Jon Ltd")
    browser = signed_in("jon@example.com")
    before = stored(account_id, organisation_id).reminders

    response = browser.post(
        f"{settings_of(organisation_id)}/reminders",
        [
            ("reminders.enabled", "true"),
            ("reminders.days_after_due", "15"),
            ("reminders.days_before_due", "45"),
        ],
    )

    assert response["statusCode"] == 422
    assert 'id="f-reminders-days_before_due-error"' in response["body"]
    assert stored(account_id, organisation_id).reminders == before


# Isolation ----------------------------------------------------------------------------------------


def test_another_accounts_organisation_answers_not_found_and_changes_nothing() -> None:
    other_account, other_organisation = account_with_user("kim@example.com", "Kim Ltd")
    account_with_user("lea@example.com", "Lea Ltd")
    browser = signed_in("lea@example.com")
    path = settings_of(other_organisation)

    assert browser.request("GET", path)["statusCode"] == 404
    assert browser.post(f"{path}/organisation", {"name": "Taken"})["statusCode"] == 404
    assert browser.post(f"{path}/card-provider", {"provider": "sandbox"})["statusCode"] == 404
    assert browser.post(f"{path}/logo/remove", {})["statusCode"] == 404
    response = post_multipart(
        browser, f"{path}/logo", {"csrf_token": browser.csrf}, {"logo": ("logo.png", "image/png", png())}
    )
    assert response["statusCode"] == 404
    organisation = stored(other_account, other_organisation)
    assert organisation.name == "Kim Ltd"
    assert organisation.payment_methods.card is False
    assert organisation.branding.logo_url is None


def test_the_invoice_finalized_email_is_turned_on_and_off_in_settings() -> None:
    account_id, organisation_id = account_with_user("ivy@example.com", "Ivy Ltd")
    browser = signed_in("ivy@example.com")
    path = f"{settings_of(organisation_id)}/notifications"
    assert stored(account_id, organisation_id).notifications.invoice_finalized is False

    on = follow(
        browser,
        browser.post(
            path, [("notifications.invoice_finalized", "false"), ("notifications.invoice_finalized", "true")]
        ),
    )
    turned_on = stored(account_id, organisation_id).notifications.invoice_finalized
    follow(browser, browser.post(path, [("notifications.invoice_finalized", "false")]))

    assert turned_on is True
    assert "Customer email settings saved." in text_of(on)
    assert stored(account_id, organisation_id).notifications.invoice_finalized is False


def test_the_customer_portal_is_turned_off_and_on_in_settings() -> None:
    # Given an organisation whose portal is on (the default)
    account_id, organisation_id = account_with_user("jo@example.com", "Jo Ltd")
    browser = signed_in("jo@example.com")
    path = f"{settings_of(organisation_id)}/portal"
    assert stored(account_id, organisation_id).portal.enabled is True

    # When its settings turn the portal off, then on again
    off = follow(browser, browser.post(path, [("portal.enabled", "false")]))
    turned_off = stored(account_id, organisation_id).portal.enabled
    follow(browser, browser.post(path, [("portal.enabled", "false"), ("portal.enabled", "true")]))

    # Then each save is stored, and said
    assert turned_off is False
    assert "Customer portal settings saved." in text_of(off)
    assert stored(account_id, organisation_id).portal.enabled is True
