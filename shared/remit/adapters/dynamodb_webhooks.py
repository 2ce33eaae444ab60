"""Webhook endpoints in their organisation's partition.

`ORG#<org>/WEBHOOK#<id>` holds an endpoint; `ORG#<org>/WEBHOOK_ENDPOINTS` counts them, changed in
the same transaction as each endpoint added or deleted, so two concurrent creations cannot take an
organisation past `MAX_ENDPOINTS`.
"""

from __future__ import annotations

from remit.adapters.dynamodb import DynamoTable, Write, delete, keyed, put, to_attributes
from remit.adapters.items.webhooks import endpoint_attributes, endpoint_of
from remit.domain.errors import ConcurrentUpdate, Conflict, FieldProblem
from remit.domain.webhooks import MAX_ENDPOINTS, WebhookEndpoint
from remit.ports.webhooks import Endpoints

_PREFIX = "WEBHOOK#"
_COUNT = "WEBHOOK_ENDPOINTS"


def _pk(organisation_id: str) -> str:
    return f"ORG#{organisation_id}"


def _item(endpoint: WebhookEndpoint) -> dict[str, object]:
    return keyed(
        endpoint_attributes(endpoint),
        _pk(endpoint.organisation_id),
        f"{_PREFIX}{endpoint.id}",
        "webhook_endpoint",
    )


def _too_many() -> Conflict:
    return Conflict(
        f"An organisation may have at most {MAX_ENDPOINTS} webhook endpoints; delete one first "
        "(one endpoint can receive every event type).",
        [FieldProblem("url", f"this organisation already has {MAX_ENDPOINTS} webhook endpoints")],
    )


def _count_change(organisation_id: str, step: int) -> Write:
    request: dict[str, object] = {
        "Key": {"PK": {"S": _pk(organisation_id)}, "SK": {"S": _COUNT}},
        "UpdateExpression": "SET #n = if_not_exists(#n, :zero) + :step, entity = :kind",
        "ExpressionAttributeNames": {"#n": "endpoints"},
        "ExpressionAttributeValues": to_attributes(
            {":zero": 0, ":step": step, ":kind": "webhook_endpoint_count"}
        ),
    }
    if step > 0:
        request["ConditionExpression"] = "attribute_not_exists(#n) OR #n < :max"
        request["ExpressionAttributeValues"] = to_attributes(
            {":zero": 0, ":step": step, ":kind": "webhook_endpoint_count", ":max": MAX_ENDPOINTS}
        )
        return Write("Update", request, _too_many)
    return Write("Update", request)


class DynamoWebhookEndpoints:
    def __init__(self, table: DynamoTable) -> None:
        self._table = table

    def add(self, endpoint: WebhookEndpoint) -> None:
        created = Write(
            "Put", put(_item(endpoint), "attribute_not_exists(PK)"), lambda: Conflict("Endpoint exists.")
        )
        self._table.write([created, _count_change(endpoint.organisation_id, +1)])

    def get(self, organisation_id: str, endpoint_id: str) -> WebhookEndpoint | None:
        item = self._table.get(_pk(organisation_id), f"{_PREFIX}{endpoint_id}")
        return endpoint_of(item) if item else None

    def list(self, organisation_id: str) -> Endpoints:
        # The card provider's applied-event markers share the `WEBHOOK#` prefix (`WEBHOOK#evt_…`):
        # endpoints are those of entity `webhook_endpoint` alone.
        items = self._table.query_all(_pk(organisation_id), _PREFIX)
        return [endpoint_of(item) for item in items if item.get("entity") != "webhook_event"]

    def enabled_for(self, organisation_id: str, event_type: str) -> Endpoints:
        return [
            endpoint
            for endpoint in self.list(organisation_id)
            if endpoint.status != "disabled" and endpoint.wants(event_type)
        ]

    def save(self, endpoint: WebhookEndpoint) -> WebhookEndpoint:
        saved = endpoint.model_copy(update={"version": endpoint.version + 1})
        written = Write(
            "Put",
            put(_item(saved), "attribute_exists(PK) AND version = :read", read=endpoint.version),
            ConcurrentUpdate,
        )
        self._table.write([written])
        return saved

    def delete(self, endpoint: WebhookEndpoint) -> None:
        removed = Write(
            "Delete",
            delete(
                _pk(endpoint.organisation_id),
                f"{_PREFIX}{endpoint.id}",
                "attribute_exists(PK) AND version = :read",
                read=endpoint.version,
            ),
            ConcurrentUpdate,
        )
        self._table.write([removed, _count_change(endpoint.organisation_id, -1)])
