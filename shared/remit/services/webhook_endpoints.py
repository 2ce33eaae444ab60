"""An organisation's webhook endpoints: create, list, read, change, delete, rotate the secret.

Every URL is checked when it is saved: its syntax and scheme (`url_problem`), then each address
its host resolves to (`address_problem`); deliveries check again before each attempt
(`destination_problem`), since a name can be pointed elsewhere later. A signing secret is
returned only by `create` and `rotate_secret`; nothing else returns or logs it.
"""

from __future__ import annotations

from remit.domain.errors import InvalidInput, NotFound
from remit.domain.ids import new_id
from remit.domain.webhook_addresses import address_problem, host_of, ip_literal, url_problem
from remit.domain.webhooks import (
    CreatedEndpoint,
    NewWebhookEndpoint,
    SigningSecret,
    WebhookEndpoint,
    WebhookEndpointChanges,
    new_signing_secret,
)
from remit.ports.clock import Clock
from remit.ports.webhooks import EndpointRepository, Endpoints, HostResolver
from remit.services.organisations import OrganisationService
from remit.services.retry import retry_on_conflict

#: Fields a PATCH may not set to null (only `description` may be cleared).
_REQUIRED = ("url", "enabled_events", "status")


def destination_problem(url: str, resolver: HostResolver, *, allow_http_loopback: bool) -> str | None:
    """Why Remit must not send a webhook to `url` now (None: it may).

    The URL's own rules first, then every address its host resolves to: one refused address
    refuses the URL (a connection could reach any of them). A host that does not resolve is
    refused too.
    """
    problem = url_problem(url, allow_http_loopback=allow_http_loopback)
    if problem is not None:
        return problem
    host = host_of(url)
    if ip_literal(host) is not None:
        return None  # already judged by url_problem
    try:
        addresses = resolver.resolve(host)
    except LookupError as error:
        return f"names a host that could not be resolved ({error})"
    for address in addresses:
        refused = address_problem(address, allow_loopback=allow_http_loopback)
        if refused is not None:
            return f"{refused}: {host} resolves to {address}"
    return None


class WebhookEndpointService:
    def __init__(
        self,
        endpoints: EndpointRepository,
        access: OrganisationService,
        resolver: HostResolver,
        clock: Clock,
        *,
        allow_http_loopback: bool = False,
    ) -> None:
        self._endpoints = endpoints
        self._access = access
        self._resolver = resolver
        self._clock = clock
        self._allow_http_loopback = allow_http_loopback

    def create(self, account_id: str, organisation_id: str, new: NewWebhookEndpoint) -> CreatedEndpoint:
        """Create an endpoint with a new signing secret, returned here and never again.

        Raises `NotFound` (organisation), `InvalidInput` naming `url` for a refused destination,
        `Conflict` once the organisation has `MAX_ENDPOINTS` (counted in the same transaction).
        """
        self._access.require_access(account_id, organisation_id)
        self._check_url(new.url)
        now = self._clock.now()
        secret = new_signing_secret()
        endpoint = WebhookEndpoint(
            id=new_id("we", now),
            organisation_id=organisation_id,
            url=new.url,
            description=new.description,
            enabled_events=new.enabled_events,
            status=new.status,
            secrets=[SigningSecret(secret=secret)],
            created_at=now,
            updated_at=now,
        )
        self._endpoints.add(endpoint)
        return CreatedEndpoint(endpoint=endpoint, secret=secret)

    def list(self, account_id: str, organisation_id: str) -> Endpoints:
        """The organisation's endpoints, oldest first (at most `MAX_ENDPOINTS`: no pages)."""
        self._access.require_access(account_id, organisation_id)
        return self._endpoints.list(organisation_id)

    def get(self, account_id: str, organisation_id: str, endpoint_id: str) -> WebhookEndpoint:
        """The endpoint; `NotFound` if it or its organisation is not the account's."""
        self._access.require_access(account_id, organisation_id)
        endpoint = self._endpoints.get(organisation_id, endpoint_id)
        if endpoint is None:
            raise NotFound("webhook endpoint", endpoint_id)
        return endpoint

    def update(
        self, account_id: str, organisation_id: str, endpoint_id: str, changes: WebhookEndpointChanges
    ) -> WebhookEndpoint:
        """Apply a PATCH (a new `url` is checked as at creation; `status: enabled` clears a failing
        endpoint's `failing_since`). Retries on concurrent changes. Raises `NotFound`, `InvalidInput`.
        """
        given = changes.model_fields_set
        nulls = [name for name in _REQUIRED if name in given and getattr(changes, name) is None]
        if nulls:
            raise InvalidInput.single(nulls[0], "cannot be null")
        if changes.url is not None:
            self._check_url(changes.url)

        def attempt() -> WebhookEndpoint:
            current = self.get(account_id, organisation_id, endpoint_id)
            update: dict[str, object] = {"updated_at": self._clock.now()}
            for name in ("url", "enabled_events", "description"):
                if name in given:
                    update[name] = getattr(changes, name)
            if changes.status is not None:
                update["status"] = changes.status
                if changes.status == "enabled":
                    update["failing_since"] = None
            return self._endpoints.save(current.model_copy(update=update))

        return retry_on_conflict(attempt)

    def delete(self, account_id: str, organisation_id: str, endpoint_id: str) -> None:
        """Delete the endpoint: nothing more is delivered to it. Raises `NotFound`."""
        retry_on_conflict(lambda: self._endpoints.delete(self.get(account_id, organisation_id, endpoint_id)))

    def rotate_secret(self, account_id: str, organisation_id: str, endpoint_id: str) -> CreatedEndpoint:
        """Give the endpoint a new signing secret, returned here and never again; the previous one
        keeps signing for `ROTATION_OVERLAP`. Raises `NotFound`.
        """
        secret = new_signing_secret()

        def attempt() -> WebhookEndpoint:
            current = self.get(account_id, organisation_id, endpoint_id)
            return self._endpoints.save(current.rotated(secret, self._clock.now()))

        return CreatedEndpoint(endpoint=retry_on_conflict(attempt), secret=secret)

    def _check_url(self, url: str) -> None:
        problem = destination_problem(url, self._resolver, allow_http_loopback=self._allow_http_loopback)
        if problem is not None:
            raise InvalidInput.single("url", problem)
