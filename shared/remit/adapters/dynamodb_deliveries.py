"""The webhook attempt log in the billing table: one item per attempt (`WEBHOOK_DELIVERY#…`) in the
organisation's partition, keyed by endpoint, delivery and attempt so that an attempt is recorded
once, and expired by the table's TTL after `ATTEMPT_RETENTION`."""

from __future__ import annotations

from datetime import timedelta
from typing import Final

from remit.adapters.dynamodb import DynamoTable, Write, decode_cursor, encode_cursor, keyed, put
from remit.domain.deliveries import DeliveryAttempt
from remit.domain.errors import AlreadyDone
from remit.domain.pagination import Page

ATTEMPT_RETENTION: Final = timedelta(days=30)
_PREFIX = "WEBHOOK_DELIVERY#"


def _pk(organisation_id: str) -> str:
    return f"ORG#{organisation_id}"


def _sk(endpoint_id: str, delivery_id: str, attempt: int) -> str:
    return f"{_PREFIX}{endpoint_id}#{delivery_id}#{attempt:03d}"


class DynamoDeliveryLog:
    def __init__(self, table: DynamoTable) -> None:
        self._table = table

    def record(self, delivery_id: str, attempt: DeliveryAttempt) -> bool:
        item = keyed(
            attempt.model_dump(mode="json"),
            _pk(attempt.organisation_id),
            _sk(attempt.endpoint_id, delivery_id, attempt.attempt),
            "webhook_delivery_attempt",
        )
        item["expires_at"] = int((attempt.started_at + ATTEMPT_RETENTION).timestamp())
        try:
            self._table.write(
                [
                    Write(
                        "Put",
                        put(item, "attribute_not_exists(PK)"),
                        lambda: AlreadyDone("attempt already recorded"),
                    )
                ]
            )
        except AlreadyDone:
            return False
        return True

    def recorded(
        self, organisation_id: str, endpoint_id: str, delivery_id: str, attempt: int
    ) -> DeliveryAttempt | None:
        item = self._table.get(_pk(organisation_id), _sk(endpoint_id, delivery_id, attempt))
        return DeliveryAttempt.model_validate(item) if item else None

    def list(
        self, organisation_id: str, endpoint_id: str, limit: int, cursor: str | None
    ) -> Page[DeliveryAttempt]:
        prefix = f"{_PREFIX}{endpoint_id}#"
        after = decode_cursor(cursor, prefix) if cursor else None
        items, more = self._table.query_prefix(_pk(organisation_id), prefix, limit, after, descending=True)
        attempts = [DeliveryAttempt.model_validate(item) for item in items]
        return Page(attempts, encode_cursor(items[-1]["SK"]) if more and items else None)
