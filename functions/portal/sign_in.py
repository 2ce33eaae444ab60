"""Signing in: the organisation's portal page asks for an email and mails a one-time link; the
link's page signs the customer in (its button, so that a mail scanner opening the link does not
spend it); sign-out ends the session.
"""

from __future__ import annotations

from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from portal.web import (
    SESSION_COOKIE,
    Page,
    PortalRequest,
    not_found,
    page,
    see_other,
    with_cookie,
    with_form_cookie,
    with_session,
)
from remit.bootstrap import services
from remit.domain.errors import NotFound
from remit.domain.organisation import Organisation
from remit.services.portal import LinkRequestsThrottled

router = APIGatewayRouter()

SIGN_IN_TITLE = "Sign in to your billing portal"


def _request() -> PortalRequest:
    return PortalRequest(router.current_event.raw_event)


def _sign_in_answer(
    request: PortalRequest,
    organisation: Organisation,
    status: int,
    *,
    sent: bool = False,
    notice: str | None = None,
) -> Page:
    """The sign-in page (a fresh form token in its form and cookie), with what the last request did."""
    token = request.form_token()
    answer = page(
        request,
        status,
        "sign_in.html",
        SIGN_IN_TITLE,
        organisation,
        organisation.locale,
        form_token=token,
        sent=sent,
        notice=notice,
    )
    return with_form_cookie(answer, token)


@router.get("/p/<org_id>")
def sign_in_page(org_id: str) -> Page:
    request = _request()
    organisation = services().portal.portal_of(org_id)
    if request.signed_in(org_id) is not None:
        return see_other(f"{request.base}/p/{org_id}/account")
    return _sign_in_answer(request, organisation, 200)


@router.post("/p/<org_id>/sign_in")
def ask_for_link(org_id: str) -> Page:
    """The same page for a known and an unknown email (`PortalSignInService.request_link`)."""
    request = _request()
    organisation = services().portal.portal_of(org_id)
    if not request.accepts_form_csrf():
        return _sign_in_answer(request, organisation, 403, notice="This form has expired; please try again.")
    email = request.field("email").strip()
    if not email or len(email) > 254 or "@" not in email:
        return _sign_in_answer(request, organisation, 422, notice="Enter an email address.")
    try:
        services().portal.request_link(org_id, email, request.client, request.public_url)
    except LinkRequestsThrottled as throttled:
        answer = _sign_in_answer(request, organisation, 429, notice=throttled.detail)
        answer.headers["Retry-After"] = "900"
        return answer
    return _sign_in_answer(request, organisation, 200, sent=True)


@router.get("/p/<org_id>/sign_in/<secret>")
def link_page(org_id: str, secret: str) -> Page:
    request = _request()
    organisation = services().portal.portal_of(org_id)
    token = request.form_token()
    answer = page(
        request,
        200,
        "link.html",
        SIGN_IN_TITLE,
        organisation,
        organisation.locale,
        form_token=token,
        secret=secret,
    )
    return with_form_cookie(answer, token)


@router.post("/p/<org_id>/sign_in/<secret>")
def use_link(org_id: str, secret: str) -> Page:
    """Spend the link and sign in; the not-found page for a link used, expired or not this portal's."""
    request = _request()
    organisation = services().portal.portal_of(org_id)
    if not request.accepts_form_csrf():
        token = request.form_token()
        answer = page(
            request,
            403,
            "link.html",
            SIGN_IN_TITLE,
            organisation,
            organisation.locale,
            form_token=token,
            secret=secret,
        )
        return with_form_cookie(answer, token)
    try:
        session_id, _ = services().portal.sign_in(org_id, secret)
    except NotFound:
        return not_found(request, organisation, organisation.locale)
    return with_session(see_other(f"{request.base}/p/{org_id}/account"), session_id)


@router.post("/p/<org_id>/sign_out")
def sign_out(org_id: str) -> Page:
    request = _request()
    signed_in = request.signed_in(org_id)
    if signed_in is not None:
        if not request.accepts_session_csrf(signed_in.session):
            return page(
                request,
                403,
                "refused.html",
                "This form has expired",
                signed_in.organisation,
                signed_in.locale,
                message="Reload the page and try again.",
                back=f"{request.base}/p/{org_id}/account",
            )
        services().portal.sign_out(signed_in.session)
    return with_cookie(see_other(f"{request.base}/p/{org_id}"), SESSION_COOKIE, "", 0)
