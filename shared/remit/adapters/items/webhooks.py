"""Webhook endpoints' stored items (`WEBHOOK#…`): the endpoint as it is, its signing secrets included
(deliveries sign with them, so they are kept, never shown again by an answer)."""

from __future__ import annotations

from remit.adapters.dynamodb import Item
from remit.domain.webhooks import WebhookEndpoint


def endpoint_attributes(endpoint: WebhookEndpoint) -> Item:
    return endpoint.model_dump(mode="json")


def endpoint_of(item: Item) -> WebhookEndpoint:
    return WebhookEndpoint.model_validate(item)
