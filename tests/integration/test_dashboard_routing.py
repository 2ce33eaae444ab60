"""How the dashboard's resolver answers what no page handles on its own: a method a page does not
take, HEAD, a form of too many parts, two cookies in one answer, and which pages are public.
"""

from __future__ import annotations

import base64

import pytest

from tests.integration.test_dashboard_pages import call, dashboard_event


@pytest.mark.usefixtures("aws")
def test_a_method_a_known_path_does_not_take_answers_405_naming_the_ones_it_does() -> None:
    response = call("POST", "/dashboard/organisations/org_1/customers/new")

    assert response["statusCode"] == 405
    assert response["headers"]["Allow"] == "GET"
    assert response["headers"]["Content-Type"] == "text/html; charset=utf-8"


@pytest.mark.usefixtures("aws")
def test_head_on_a_page_answers_as_its_get() -> None:
    head = call("HEAD", "/dashboard/sign-in")

    assert head["statusCode"] == 200
    assert head["headers"]["Content-Security-Policy"].startswith("default-src 'none'")


@pytest.mark.usefixtures("aws")
def test_a_multipart_form_of_more_parts_than_a_form_has_is_refused_with_400() -> None:
    from dashboard.app import lambda_handler
    from dashboard.page_request import MAX_FORM_FIELDS
    from tests.integration.api_client import LambdaContext

    part = b'--b0\r\nContent-Disposition: form-data; name="f"\r\n\r\nx\r\n'
    body = part * (MAX_FORM_FIELDS + 1) + b"--b0--\r\n"
    event = dashboard_event("POST", "/dashboard/sign-in", base64.b64encode(body).decode())
    event["isBase64Encoded"] = True
    event["headers"]["Content-Type"] = "multipart/form-data; boundary=b0"

    response = lambda_handler(event, LambdaContext("multipart", "remit-dashboard"))

    assert response["statusCode"] == 400
    assert "The form sent could not be read." in response["body"]


@pytest.mark.usefixtures("aws")
def test_a_page_that_shows_a_notice_and_sets_a_cookie_sends_both_cookies() -> None:
    from dashboard.app import lambda_handler
    from dashboard.rendering import NOTICE_COOKIE, SIGN_IN_COOKIE
    from tests.integration.api_client import LambdaContext

    event = dashboard_event("GET", "/dashboard/sign-in")
    notice = base64.urlsafe_b64encode(b"Signed out.").decode()
    event["headers"]["Cookie"] = f"{NOTICE_COOKIE}={notice}"

    response = lambda_handler(event, LambdaContext("cookies", "remit-dashboard"))

    cookies = response["multiValueHeaders"]["Set-Cookie"]
    assert [cookie.split("=", 1)[0] for cookie in cookies] == [NOTICE_COOKIE, SIGN_IN_COOKIE]
    assert "Max-Age=0" in cookies[0]
    assert response["headers"]["Set-Cookie"] == cookies[-1]
    assert "Signed out." in response["body"]


def test_only_the_sign_in_pages_and_the_scripts_are_public() -> None:
    from dashboard.app import page_routes

    public = sorted({route.path for route in page_routes() if route.public})

    assert public == [
        "/dashboard/assets/copy-link.js",
        "/dashboard/assets/htmx-2.0.11.min.js",
        "/dashboard/sign-in",
        "/dashboard/sign-in/code",
        "/dashboard/sign-in/new-password",
    ]
