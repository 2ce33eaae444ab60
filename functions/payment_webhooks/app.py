"""The payment-webhooks function: `POST /webhooks/stripe/{org_id}`, Stripe-format events.

Thin on purpose: the raw body (exactly as signed) and the `Stripe-Signature` header go to
`CardEventService.handle`, which verifies and applies the event. Answers:

* `200 {"received": true}` for an applied, duplicate or ignored event (the provider stops retrying);
* `400` problem+json for a body no event can be (checked first, before the signature or any
  parser: not UTF-8 JSON, flagged base64 but not, nested deeper than 32 levels) and `413` for one
  over 1 MB;
* `400` problem+json, one and the same answer, for a bad, stale or missing signature, for an
  organisation without a card provider and for one that does not exist: a stranger cannot tell
  them apart;
* `404` problem+json for another route;
* `503` problem+json when AWS throttled or timed out (the provider delivers the event again).

Nothing the provider sends (body, signature) is logged: only the request id and outcomes.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from remit import request_bodies, snapstart
from remit.adapters.aws_errors import RETRY_AFTER_SECONDS, is_transient
from remit.bootstrap import services
from remit.domain.errors import InvalidSignature, NotFound
from remit.observability import logger, metrics
from remit.problem_details import proxy_problem

if TYPE_CHECKING:
    from remit.services.card_events import CardEventService

# SnapStart: the snapshot holds the services; a restore renews random state, clients and settings.
snapstart.register_hooks()

_ROUTE = re.compile(r"^/webhooks/stripe/(?P<org_id>[^/]+)/?$")


def card_event_service() -> CardEventService:
    return services().card_events


def _received() -> dict[str, Any]:
    return {
        "statusCode": 200,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps({"received": True}),
        "isBase64Encoded": False,
    }


def organisation_of(event: dict[str, Any]) -> str | None:
    """The `{org_id}` of the route: the path parameter, or the path when routed through a proxy."""
    parameters = event.get("pathParameters") or {}
    if parameters.get("org_id"):
        return str(parameters["org_id"])
    match = _ROUTE.match(str(event.get("path") or ""))
    return match.group("org_id") if match else None


def raw_body(event: dict[str, Any]) -> bytes:
    """The body as the provider signed it (API Gateway may hand it over base64-encoded).

    Raises `UnreadableBody` (400) for a body flagged base64 that is not.
    """
    body = event.get("body")
    return request_bodies.body_bytes(
        None if body is None else str(body), base64_encoded=bool(event.get("isBase64Encoded"))
    )


def signature_header(event: dict[str, Any]) -> str | None:
    for name, value in (event.get("headers") or {}).items():
        if name.lower() == "stripe-signature":
            return str(value)
    return None


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    organisation_id = organisation_of(event)
    if event.get("httpMethod") != "POST" or organisation_id is None:
        return proxy_problem(404, "not-found", f"No route {event.get('httpMethod')} {event.get('path')}.")
    try:
        payload = raw_body(event)
        request_bodies.read_json(payload)
    except request_bodies.UnreadableBody as refused:
        return proxy_problem(refused.status, refused.slug, refused.detail)
    try:
        outcome = card_event_service().handle(organisation_id, payload, signature_header(event))
    except InvalidSignature as error:
        logger.warning("Webhook refused: invalid signature", extra={"organisation_id": organisation_id})
        metrics.add_metric(name="WebhooksRefused", unit=MetricUnit.Count, value=1)
        return proxy_problem(400, "invalid-signature", error.detail)
    except NotFound as error:
        # Only after a verified signature: the organisation's own provider named a deleted one.
        return proxy_problem(404, "not-found", error.detail)
    except Exception as error:
        if not is_transient(error):
            raise
        # Throttled or timed out: nothing applied that a redelivery would apply twice (the event's
        # marker commits with its effect), so ask the provider to deliver it again.
        logger.warning("Webhook not applied: transient AWS failure", exc_info=error)
        metrics.add_metric(name="WebhooksDeferred", unit=MetricUnit.Count, value=1)
        return proxy_problem(
            503,
            "service-unavailable",
            "The event could not be applied now; deliver it again.",
            {"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
    logger.info("Webhook received", extra={"organisation_id": organisation_id, "outcome": outcome})
    metrics.add_metric(name="WebhooksReceived", unit=MetricUnit.Count, value=1)
    return _received()
