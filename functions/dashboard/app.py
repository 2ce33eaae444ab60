"""The dashboard function: `/dashboard` and `/dashboard/{proxy+}`, server-rendered HTML for people.

It calls the same services as the API (`remit.bootstrap.services()`), never the API over HTTP, so
a change made in one shows in the other at once. `dashboard.web` holds the request handling
(sessions, CSRF, the organisation check); each module of `dashboard.pages` one section's pages.
Pages are readable without script; the vendored htmx (`assets/`) only makes links and forms
swap the page in place. `docs/dashboard.md` describes it all.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from dashboard import pages, web
from remit import request_bodies, snapstart
from remit.observability import logger

# SnapStart: the snapshot holds the templates; a restore renews random state, clients and settings.
snapstart.register_hooks()

PAGE_HEADERS = web.PAGE_HEADERS

# Every module of `dashboard.pages` registers its routes as it is imported.
for module in pkgutil.iter_modules(pages.__path__):
    importlib.import_module(f"dashboard.pages.{module.name}")


def route(event: dict[str, Any]) -> web.Page:
    return unreadable_form(event) or web.dispatch(event)


def unreadable_form(event: dict[str, Any]) -> web.Page | None:
    """The page refusing a body no form can be, before any parser reads it: larger than a form may
    be (413), flagged base64 but not, not UTF-8, or multipart parts holding parts (400).
    """
    body = event.get("body")
    if not body:
        return None
    headers = {str(name).lower(): str(value) for name, value in (event.get("headers") or {}).items()}
    media_type = headers.get("content-type", "").split(";", 1)[0].strip().lower()
    try:
        raw = request_bodies.body_bytes(str(body), base64_encoded=bool(event.get("isBase64Encoded")))
        request_bodies.check_form(raw, media_type)
    except request_bodies.UnreadableBody as refused:
        request = web.Request(event, {})
        return web.render(request, refused.status, "refused.html", title="Not a form", detail=refused.detail)
    return None


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> web.Page:
    return route(event)
