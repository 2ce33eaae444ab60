"""The checks every page passes before its handler runs, as Powertools middleware (`app.use`), in
this order:

1. `read_request`: the event as a `PageRequest`, kept in the resolver's context for the handler
   (`page_request(router)`); on the way out, a redirect's `Location` put under the stage.
2. `refuse_unreadable_form`: a body no form can be is refused before any parser reads it, on any
   path: larger than a form may be (413), flagged base64 but not, not UTF-8, multipart parts
   holding parts, or more than `MAX_FORM_FIELDS` fields (400).
3. `require_session`: a person signed in, or a 303 to the sign-in page.
4. `require_csrf_token`: for every POST, the form's `csrf_token` must be the session's, compared in
   constant time, before any service is called ("Form expired" page, 403, nothing changed).
5. `require_organisation`: for every path naming `{organisation_id}`, one of the person's account's,
   or the not-found page, exactly as for an id that does not exist.

The pages under `PUBLIC_PATHS` (sign-in and its steps, the vendored script) opt out of 3 to 5;
they check what they need themselves (the sign-in forms' double-submit token). A path or method no
page serves passes straight to the not-found handler (`dashboard.app.handle_not_found`).

Handlers then reach the services as the signed-in person (`request.services`), so their role is
checked by the services at every operation; a refusal is the refused page, 403, nothing changed.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from dashboard.page_request import PageRequest
from dashboard.rendering import SESSION_COOKIE, Page, forbidden, not_found, render, see_other
from remit import request_bodies
from remit.bootstrap import services
from remit.domain.errors import NotFound
from remit.domain.sessions import CsrfRefused

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import APIGatewayRestResolver
    from aws_lambda_powertools.event_handler.middlewares import NextMiddleware

# The pages reached without a session: the sign-in page and its steps (`/dashboard/sign-in/…`),
# and the vendored script. Each checks what it needs itself.
PUBLIC_PATHS = ("/dashboard/sign-in", "/dashboard/assets/")


def current_request(app: APIGatewayRestResolver) -> PageRequest:
    """The `PageRequest` of the event being answered (built here if no middleware has yet)."""
    request = app.context.get("page_request")
    if not isinstance(request, PageRequest):
        request = PageRequest(dict(app.current_event.raw_event))
        app.append_context(page_request=request)
    return request


def allowed_methods(app: APIGatewayRestResolver, path: str) -> list[str]:
    """The methods the dashboard serves at `path` (none: the path is unknown)."""
    # Powertools keeps its routes in these two lists; reading them spares a second route table.
    routes = app._static_routes + app._dynamic_routes
    return sorted({route.method for route in routes if route.rule.match(path)})


def _serves_a_page(app: APIGatewayRestResolver, request: PageRequest) -> bool:
    """Whether a page answers this method and path (else the not-found handler does)."""
    return request.method in allowed_methods(app, request.path)


def is_public(route_path: str) -> bool:
    """Whether the page at `route_path` (a route's path, ids as `{name}`) is reached without a session."""
    return any(
        route_path == public.rstrip("/") or route_path.startswith(public.rstrip("/") + "/")
        for public in PUBLIC_PATHS
    )


def read_request(app: APIGatewayRestResolver, next_middleware: NextMiddleware) -> Page:
    request = PageRequest(dict(app.current_event.raw_event), dict(app.request.path_parameters))
    app.append_context(page_request=request)
    page = next_middleware(app)
    location = page.headers.get("Location")
    if isinstance(location, str):
        page.headers["Location"] = request.url(location)
    return page


# The import form carries a customer file, with its own limit (`Settings.max_import_bytes`).
_IMPORT_FORM = re.compile(r"/dashboard/organisations/[^/]+/imports$")
# Room for the form's other fields and its parts' headers beside the file.
_FORM_OVERHEAD_BYTES = 64 * 1024


def _form_limit(request: PageRequest) -> int:
    if _IMPORT_FORM.search(request.path) and request.method == "POST":
        return max(request_bodies.MAX_FORM_BYTES, services().settings.max_import_bytes + _FORM_OVERHEAD_BYTES)
    return request_bodies.MAX_FORM_BYTES


def refuse_unreadable_form(app: APIGatewayRestResolver, next_middleware: NextMiddleware) -> Page:
    request = current_request(app)
    body = request.event.get("body")
    if body:
        media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
        try:
            raw = request_bodies.body_bytes(
                str(body), base64_encoded=bool(request.event.get("isBase64Encoded"))
            )
            request_bodies.check_form(raw, media_type, max_bytes=_form_limit(request))
        except request_bodies.UnreadableBody as refused:
            return render(request, refused.status, "refused.html", title="Not a form", detail=refused.detail)
    if request.method == "POST" and _serves_a_page(app, request):
        try:
            request.form  # noqa: B018 - parsed once, here, so a body no form can be is refused first
        except ValueError:  # more than MAX_FORM_FIELDS fields, or a body that is not what it says
            return render(
                request, 400, "refused.html", title="Not a form", detail="The form sent could not be read."
            )
    return next_middleware(app)


def require_session(app: APIGatewayRestResolver, next_middleware: NextMiddleware) -> Page:
    request = current_request(app)
    if is_public(app.request.route) or not _serves_a_page(app, request):
        return next_middleware(app)
    signed_in = services().dashboard_sessions.current(request.cookies.get(SESSION_COOKIE))
    if signed_in is None:
        return see_other("/dashboard/sign-in")
    request.session, request.caller = signed_in.session, signed_in.caller
    return next_middleware(app)


def require_csrf_token(app: APIGatewayRestResolver, next_middleware: NextMiddleware) -> Page:
    request = current_request(app)
    if request.session is None or request.method != "POST":
        return next_middleware(app)
    try:
        services().dashboard_sessions.check_csrf(request.session, request.field("csrf_token"))
    except CsrfRefused:
        return forbidden(request)
    return next_middleware(app)


def require_organisation(app: APIGatewayRestResolver, next_middleware: NextMiddleware) -> Page:
    request = current_request(app)
    if request.session is None or "organisation_id" not in request.params:
        return next_middleware(app)
    try:
        request.organisation = services().organisations.get(
            request.account_id, request.params["organisation_id"]
        )
    except NotFound:
        return not_found(request)
    return next_middleware(app)


# In the order they run, for every request (see the module's docstring).
PAGE_CHECKS = [
    read_request,
    refuse_unreadable_form,
    require_session,
    require_csrf_token,
    require_organisation,
]
