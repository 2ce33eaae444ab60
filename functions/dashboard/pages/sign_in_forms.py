"""What the sign-in page and its further steps share: the sign-in form, its double-submit CSRF
check, and the redirect to a further step's page with the cookie naming it.

It declares no route.
"""

from __future__ import annotations

import hmac
import secrets

from dashboard.page_request import PageRequest
from dashboard.rendering import SIGN_IN_COOKIE, Page, render, see_other, with_cookie
from remit.domain.sessions import SIGN_IN_STEP_LIFETIME

STEP_COOKIE = "__Host-remit_sign_in_step"
STEP_PAGES = {
    "NEW_PASSWORD_REQUIRED": "/dashboard/sign-in/new-password",
    "SOFTWARE_TOKEN_MFA": "/dashboard/sign-in/code",
}


def sign_in_form(request: PageRequest, status: int, email: str, error: str | None) -> Page:
    """The sign-in page, its CSRF token both in the form and in the sign-in cookie."""
    token = request.cookies.get(SIGN_IN_COOKIE) or secrets.token_urlsafe(32)
    page = render(
        request, status, "sign_in.html", title="Sign in", email=email, error=error, csrf_token=token
    )
    return with_cookie(page, SIGN_IN_COOKIE, token, 3600)


def double_submit_ok(request: PageRequest) -> bool:
    """Whether the form's CSRF token is the sign-in cookie's (compared in constant time): a
    double-submit token, so no other site can sign a browser in to an account of its choosing.
    """
    expected = request.cookies.get(SIGN_IN_COOKIE, "")
    presented = request.field("csrf_token")
    return bool(expected) and hmac.compare_digest(expected.encode(), presented.encode())


def step_redirect(challenge: str, step_id: str) -> Page | None:
    """The redirect to the page of a further step, with its cookie; None for a step not handled."""
    path = STEP_PAGES.get(challenge)
    if path is None:
        return None
    return with_cookie(see_other(path), STEP_COOKIE, step_id, int(SIGN_IN_STEP_LIFETIME.total_seconds()))
