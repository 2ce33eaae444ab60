"""The outbox's delivery state in the billing table: claims, outcomes and the sweep's work queue.

Outbox items are written by the billing transactions (`DynamoBillingTransaction.insert_outbox`,
layout in `dynamodb_billing`); this adapter only moves an existing item through delivery:

    pending ──claim──► sending ──mark_sent──► sent      (leaves GSI1: no longer owed)
       ▲                  │ └──────give_up──► failed    (leaves GSI1: a human looks at it)
       └─────release──────┘

Every step is one conditional UpdateItem on the base item, never on the (eventually consistent)
index. A claim is identified by the `attempts` count it set, so the later steps apply only while
the claim that made them is still the current one.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from remit.adapters.dynamodb import DynamoTable, from_attributes, json_time, key, to_attributes
from remit.adapters.dynamodb_billing import OUTBOX_SHARDS
from remit.adapters.items.outbox import outbox_message_of
from remit.domain.outbox import OutboxMessage

_INDEX = "GSI1"
_STATUS = {"#status": "status"}


def _pk(organisation_id: str) -> str:
    return f"ORG#{organisation_id}"


def _sk(message_id: str) -> str:
    return f"OUTBOX#{message_id}"


def _lease_time(moment: datetime) -> str:
    """A fixed-width UTC timestamp: lease ends are compared as strings inside conditions."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _message(attributes: dict[str, Any]) -> OutboxMessage:
    return outbox_message_of(from_attributes(attributes))


class DynamoOutboxRepository:
    """Delivery state of outbox messages, in the billing table."""

    def __init__(self, table: DynamoTable) -> None:
        self._table = table

    def get(self, organisation_id: str, message_id: str) -> OutboxMessage | None:
        item = self._table.get(_pk(organisation_id), _sk(message_id))
        return outbox_message_of(item) if item else None

    def claim(
        self, organisation_id: str, message_id: str, now: datetime, lease: timedelta
    ) -> OutboxMessage | None:
        """Take the message for delivery until `now + lease`: from `pending`, or from `sending` when the
        previous claim has run out (its worker died). Counts the attempt.

        Returns the claimed message, or None when it does not exist, is already sent or failed, or
        another worker holds a live claim. At most one worker holds a live claim at any moment.
        """
        values = {
            ":sending": "sending",
            ":pending": "pending",
            ":until": _lease_time(now + lease),
            ":now": _lease_time(now),
            ":one": 1,
        }
        updated = self._update(
            organisation_id,
            message_id,
            "SET #status = :sending, claimed_until = :until, "
            "attempts = attempts + :one, version = version + :one",
            "attribute_exists(PK) AND (#status = :pending OR (#status = :sending AND claimed_until < :now))",
            values,
        )
        return _message(updated) if updated is not None else None

    def mark_sent(self, message: OutboxMessage, provider_message_id: str, now: datetime) -> bool:
        """Record the delivery of a claimed message and take it out of the sweep's queue.

        A portal sign-in link is removed with it: once sent, the table need not hold its secret.
        False (and nothing changed) when the claim is no longer the current one.
        """
        return self._finish(
            message,
            "SET #status = :sent, sent_at = :now, provider_message_id = :provider, version = version + :one "
            "REMOVE GSI1PK, GSI1SK, claimed_until, portal_link",
            {":sent": "sent", ":now": json_time(now), ":provider": provider_message_id},
        )

    def release(self, message: OutboxMessage, error: str) -> bool:
        """Hand a claimed message back as `pending` after a failed attempt, recording why.

        It stays in the sweep's queue. False when the claim is no longer the current one.
        """
        return self._finish(
            message,
            "SET #status = :pending, last_error = :error, version = version + :one REMOVE claimed_until",
            {":pending": "pending", ":error": error},
        )

    def give_up(self, message: OutboxMessage, error: str) -> bool:
        """Mark a claimed message `failed` for good and take it out of the sweep's queue.

        False when the claim is no longer the current one.
        """
        return self._finish(
            message,
            "SET #status = :failed, last_error = :error, version = version + :one "
            "REMOVE GSI1PK, GSI1SK, claimed_until",
            {":failed": "failed", ":error": error},
        )

    def owed(
        self, created_before: datetime, limit: int, after: str | None = None
    ) -> tuple[list[OutboxMessage], str | None]:
        """Up to `limit` messages not yet sent nor given up, created before `created_before`, oldest
        first, and the cursor to pass as `after` for the next page (None after the last page).

        Read from the sparse index, which lags the table slightly: a message listed here may have
        been sent meanwhile, so callers act on it only through `claim`. Reads at most `limit` items
        from each of the index's shards.
        """
        # GSI1SK starts with `created_at.isoformat()`; any key of a later message sorts after this.
        before = created_before.astimezone(UTC).isoformat()
        # DynamoDB refuses an empty key value: without a cursor, from below any timestamp.
        start = after or "0"
        found: list[tuple[str, tuple[str, str]]] = []
        for shard in range(OUTBOX_SHARDS):
            request: dict[str, Any] = {
                "TableName": self._table.name,
                "IndexName": _INDEX,
                "KeyConditionExpression": "GSI1PK = :shard AND GSI1SK BETWEEN :after AND :before",
                "ExpressionAttributeValues": to_attributes(
                    {":shard": f"OUTBOX_PENDING#{shard}", ":after": start, ":before": before}
                ),
                "ProjectionExpression": "PK, SK, GSI1SK",
                "Limit": limit + 1,  # the first may be `after` itself (BETWEEN includes its bounds)
            }
            taken = 0
            while taken < limit:
                response = self._table.client.query(**request)
                for item in response.get("Items", []):
                    if item["GSI1SK"]["S"] != start:
                        found.append((item["GSI1SK"]["S"], (item["PK"]["S"], item["SK"]["S"])))
                        taken += 1
                last = response.get("LastEvaluatedKey")
                if not last:
                    break
                request["ExclusiveStartKey"] = last
        found.sort(key=lambda entry: entry[0])
        page = found[:limit]
        # A short page is the last: every shard had fewer than `limit` left.
        cursor = page[-1][0] if len(page) == limit else None
        # The index holds the keys only (template.yaml): the messages are read from the table, and
        # those sent or given up since the index was read are left out.
        keys = [entry_key for _, entry_key in page]
        messages: list[OutboxMessage] = []
        for first in range(0, len(keys), 100):
            messages += map(outbox_message_of, self._table.batch_get(keys[first : first + 100]))
        return [message for message in messages if message.status in ("pending", "sending")], cursor

    def _finish(self, message: OutboxMessage, update: str, values: dict[str, Any]) -> bool:
        """Apply `update` if the message is still `sending` under the claim `message` came from."""
        updated = self._update(
            message.organisation_id,
            message.id,
            update,
            "#status = :claimed AND attempts = :attempt",
            {**values, ":claimed": "sending", ":attempt": message.attempts, ":one": 1},
        )
        return updated is not None

    def _update(
        self, organisation_id: str, message_id: str, update: str, condition: str, values: dict[str, Any]
    ) -> dict[str, Any] | None:
        """The item's attributes after the conditional update, or None when the condition failed."""
        try:
            response = self._table.client.update_item(
                TableName=self._table.name,
                Key=key(_pk(organisation_id), _sk(message_id)),
                UpdateExpression=update,
                ConditionExpression=condition,
                ExpressionAttributeNames=_STATUS,
                ExpressionAttributeValues=to_attributes(values),
                ReturnValues="ALL_NEW",
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return None
            raise
        return dict(response["Attributes"])
