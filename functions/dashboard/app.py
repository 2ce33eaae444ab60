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
from remit import snapstart
from remit.observability import logger

# SnapStart: the snapshot holds the templates; a restore renews random state, clients and settings.
snapstart.register_hooks()

PAGE_HEADERS = web.PAGE_HEADERS

# Every module of `dashboard.pages` registers its routes as it is imported.
for module in pkgutil.iter_modules(pages.__path__):
    importlib.import_module(f"dashboard.pages.{module.name}")


def route(event: dict[str, Any]) -> web.Page:
    return web.dispatch(event)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> web.Page:
    return web.dispatch(event)
