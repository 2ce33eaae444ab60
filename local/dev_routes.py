"""The `/_dev/*` endpoints: served by the local front itself, never by the deployed handler.

docs/development.md lists them. Each is a function from `HttpRequest` to
`HttpResponse`, registered in `dev_routes()` under its method and path; adding a capability
means writing its function and adding one line there.
"""

from __future__ import annotations

from collections.abc import Callable

from local import dev_accounts, dev_billing, dev_outbox, dev_reminders, sandbox_checkout
from local.http_messages import HttpRequest, HttpResponse, RequestRejected, problem_response

DEV_PREFIX = "/_dev"

DevRoute = Callable[[HttpRequest], HttpResponse]


class DevRoutes:
    """A table of dev routes by path and method, answering 404 and 405 as the API does."""

    def __init__(self) -> None:
        self._routes: dict[str, dict[str, DevRoute]] = {}
        # Routes that take the rest of the path as a parameter (`/_dev/sandbox/checkout/<id>`).
        self._prefixed: dict[str, dict[str, DevRoute]] = {}

    def add(self, method: str, path: str, route: DevRoute) -> None:
        """Serve `method path` with `route`; the path must lie under `/_dev/`."""
        if not path.startswith(DEV_PREFIX + "/"):
            raise ValueError(f"dev routes live under {DEV_PREFIX}/, not at {path}")
        self._routes.setdefault(path, {})[method.upper()] = route

    def add_under(self, method: str, prefix: str, route: DevRoute) -> None:
        """Serve `method prefix/<anything>` with `route`, which reads the rest of the path itself."""
        if not prefix.startswith(DEV_PREFIX + "/"):
            raise ValueError(f"dev routes live under {DEV_PREFIX}/, not at {prefix}")
        self._prefixed.setdefault(prefix.rstrip("/") + "/", {})[method.upper()] = route

    @staticmethod
    def claims(path: str) -> bool:
        """True when `path` belongs to the dev endpoints, whether or not one is registered there."""
        return path == DEV_PREFIX or path.startswith(DEV_PREFIX + "/")

    def handle(self, request: HttpRequest) -> HttpResponse:
        """Answer `request` with its route, or with a 404 or 405 problem."""
        methods = self._routes.get(request.path.rstrip("/"))
        if methods is None:
            methods = next(
                (found for prefix, found in self._prefixed.items() if request.path.startswith(prefix)), None
            )
        if methods is None:
            return problem_response(404, "not-found", f"There is no dev endpoint at {request.path}.")
        route = methods.get(request.method)
        if route is None:
            allowed = ", ".join(sorted(methods))
            response = problem_response(405, "method-not-allowed", f"{request.path} accepts {allowed}.")
            return HttpResponse(response.status, [*response.headers, ("Allow", allowed)], response.body)
        try:
            return route(request)
        except RequestRejected as rejection:
            return rejection.response


def dev_routes(*, invoicing_cycle: DevRoute | None = None, reminders: DevRoute | None = None) -> DevRoutes:
    """Every dev endpoint the local stack serves.

    `invoicing_cycle` is `POST /_dev/run/invoicing-cycle`, bound to the running stack's functions
    and queue (`local.dev_billing.InvoicingCycleRoute`); `reminders` is `POST /_dev/run/reminders`
    (`local.dev_reminders.RemindersRoute`). Without one, its path answers 404.
    """
    routes = DevRoutes()
    routes.add("POST", "/_dev/accounts", dev_accounts.open_account)
    routes.add("GET", "/_dev/outbox", dev_outbox.list_sent_emails)
    routes.add_under("GET", sandbox_checkout.PATH_PREFIX, sandbox_checkout.show_checkout)
    routes.add_under("POST", sandbox_checkout.PATH_PREFIX, sandbox_checkout.pay)
    if invoicing_cycle is not None:
        routes.add("POST", dev_billing.PATH, invoicing_cycle)
    if reminders is not None:
        routes.add("POST", dev_reminders.PATH, reminders)
    return routes
