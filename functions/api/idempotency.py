"""`Idempotency-Key` on every POST, with Powertools' idempotency utility and the idempotency table.

The key is scoped to the account, method and path, so two accounts (or two endpoints) never
share one. The same key with the same body within 24 hours replays the first successful
response (marked `Idempotent-Replayed: true`) and changes nothing; the same key with another
body is `409`. Errors are not stored: a request that failed may be retried with its key.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import APIGatewayRestResolver
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyValidationError,
)
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel

from api.problems import problem
from remit.bootstrap import services

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255

config = IdempotencyConfig(
    event_key_jmespath="scope",
    payload_validation_jmespath="body",
    raise_on_no_idempotency_key=True,
    expires_after_seconds=24 * 60 * 60,
)


@cache
def _persistence() -> DynamoDBPersistenceLayer:
    return DynamoDBPersistenceLayer(table_name=services().settings.idempotency_table)


def register_context(context: LambdaContext) -> None:
    config.register_lambda_context(context)


def _stored(response: Response[Any]) -> dict[str, Any]:
    body = response.body
    if isinstance(body, BaseModel):
        body = body.model_dump(mode="json")
    return {
        "status_code": response.status_code,
        "headers": {k: v for k, v in response.headers.items() if isinstance(v, str)},
        "body": body
        if isinstance(body, str)
        else json.dumps(body, separators=(",", ":"), ensure_ascii=False),
    }


def idempotent_posts(
    app: APIGatewayRestResolver, next_middleware: Callable[..., Response[Any]]
) -> Response[Any]:
    """Middleware: run a POST at most once per `Idempotency-Key`."""
    event = app.current_event
    key = event.headers.get(HEADER) or event.headers.get(HEADER.lower())
    if event.http_method != "POST" or key is None:
        return next_middleware(app)
    if not 1 <= len(key) <= MAX_KEY_LENGTH:
        return problem(422, "invalid-fields", f"{HEADER} must be 1 to {MAX_KEY_LENGTH} characters.")

    executed = False

    class _NotStored(Exception):
        def __init__(self, response: Response[Any]) -> None:
            self.response = response

    def execute(request: dict[str, Any]) -> dict[str, Any]:
        nonlocal executed
        executed = True
        response = next_middleware(app)
        if not 200 <= response.status_code < 300:
            raise _NotStored(response)  # the utility deletes its in-progress record
        return _stored(response)

    caller = app.context.get("caller")
    request = {
        "scope": f"{caller.account_id if caller else '-'} {event.http_method} {event.path} {key}",
        "body": event.body or "",
    }
    run_once = idempotent_function(
        data_keyword_argument="request", persistence_store=_persistence(), config=config
    )
    try:
        stored = run_once(execute)(request=request)
    except _NotStored as not_stored:
        return not_stored.response
    except IdempotencyValidationError:
        return problem(
            409,
            "idempotency-key-reused",
            f"This {HEADER} was already used with a different request body.",
        )
    except IdempotencyAlreadyInProgressError:
        return problem(
            409, "idempotency-key-in-progress", f"A request with this {HEADER} is still in progress."
        )
    headers = dict(stored["headers"])
    if not executed:
        headers["Idempotent-Replayed"] = "true"
    return Response(status_code=stored["status_code"], body=stored["body"], headers=headers)


def reset() -> None:
    """Forget the persistence layer (tests that switch the AWS endpoint or tables)."""
    _persistence.cache_clear()
