"""The customer portal's links, sessions and request counters in the billing table, each expired
by TTL (`expires_at`, epoch seconds; DynamoDB deletes late, so reads check the time too).

Global lookups, outside any organisation's partition:

* `PORTAL_LINK#<sha256 of the link's secret>/LINK`: a one-time sign-in link, for one customer;
* `PORTAL_SESSION#<sha256 of the cookie's id>/SESSION`: a signed-in customer;
* `PORTAL_LIMIT#<counter>/<window start>`: requests for links counted in one window.
"""

from __future__ import annotations

from datetime import datetime

from botocore.exceptions import ClientError

from remit.adapters.dynamodb import DynamoTable, Write, delete, from_attributes, key, put, to_attributes
from remit.adapters.dynamodb_billing import outbox_item
from remit.domain.outbox import OutboxMessage
from remit.domain.portal import PortalLink, PortalSession

_SESSION_SK = "SESSION"
_LINK_SK = "LINK"


def _link_pk(link_digest: str) -> str:
    return f"PORTAL_LINK#{link_digest}"


def _session_pk(session_digest: str) -> str:
    return f"PORTAL_SESSION#{session_digest}"


class DynamoPortalStore:
    """`remit.ports.portal.PortalStore` over the billing table."""

    def __init__(self, table: DynamoTable) -> None:
        self._table = table

    def add_link(self, link: PortalLink, email: OutboxMessage | None) -> None:
        item = {
            "PK": _link_pk(link.link_digest),
            "SK": _LINK_SK,
            "entity": "portal_link",
            "organisation_id": link.organisation_id,
            "customer_id": link.customer_id,
            "link_expires_at": link.expires_at.isoformat(),
            "expires_at": int(link.expires_at.timestamp()),
        }
        writes = [Write("Put", put(item, "attribute_not_exists(PK)"))]
        if email is not None:
            writes.append(Write("Put", put(outbox_item(email), "attribute_not_exists(PK)")))
        self._table.write(writes)

    def consume_link(self, link_digest: str, now: datetime) -> PortalLink | None:
        try:
            answer = self._table.client.delete_item(
                TableName=self._table.name,
                Key=key(_link_pk(link_digest), _LINK_SK),
                ConditionExpression="attribute_exists(PK)",
                ReturnValues="ALL_OLD",
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return None
            raise
        if not answer.get("Attributes"):
            return None  # deleted by a concurrent use between the check and the delete
        item = from_attributes(answer["Attributes"])
        expires_at = datetime.fromisoformat(str(item["link_expires_at"]))
        if expires_at <= now:
            return None
        return PortalLink(link_digest, str(item["organisation_id"]), str(item["customer_id"]), expires_at)

    def add_session(self, session: PortalSession) -> None:
        item = {
            "PK": _session_pk(session.session_digest),
            "SK": _SESSION_SK,
            "entity": "portal_session",
            "organisation_id": session.organisation_id,
            "customer_id": session.customer_id,
            "csrf_token": session.csrf_token,
            "session_expires_at": session.expires_at.isoformat(),
            "expires_at": int(session.expires_at.timestamp()),
        }
        self._table.write([Write("Put", put(item, "attribute_not_exists(PK)"))])

    def get_session(self, session_digest: str, now: datetime) -> PortalSession | None:
        item = self._table.get(_session_pk(session_digest), _SESSION_SK)
        if item is None:
            return None
        expires_at = datetime.fromisoformat(str(item["session_expires_at"]))
        if expires_at <= now:
            return None
        return PortalSession(
            session_digest=session_digest,
            organisation_id=str(item["organisation_id"]),
            customer_id=str(item["customer_id"]),
            csrf_token=str(item["csrf_token"]),
            expires_at=expires_at,
        )

    def remove_session(self, session_digest: str) -> None:
        self._table.write([Write("Delete", delete(_session_pk(session_digest), _SESSION_SK))])

    def count_request(self, counter: str, window_start: datetime, window_end: datetime, limit: int) -> bool:
        try:
            self._table.client.update_item(
                TableName=self._table.name,
                Key=key(f"PORTAL_LIMIT#{counter}", window_start.isoformat()),
                UpdateExpression="ADD requests :one SET expires_at = :expires, entity = :entity",
                ConditionExpression="attribute_not_exists(requests) OR requests < :limit",
                ExpressionAttributeValues=to_attributes(
                    {
                        ":one": 1,
                        ":limit": limit,
                        ":expires": int(window_end.timestamp()),
                        ":entity": "portal_limit",
                    }
                ),
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True
