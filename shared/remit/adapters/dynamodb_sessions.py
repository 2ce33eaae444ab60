"""Dashboard sessions and failed sign-in counters in the sessions table, each expired by TTL.

`SESSION#<digest of the session id>/SESSION` holds a session; `SIGNIN#<digest of the email>/
<window start>` counts one email's failed sign-ins in one window; `USER#<digest of the email>/
SESSION#<digest>` lists a user's sessions (to end them all when the user is removed);
`STEP#<digest of the step id>/STEP` keeps a sign-in waiting for its next step (a new password,
a TOTP code) with the directory's session for it, for `SIGN_IN_STEP_LIFETIME`. `expires_at` (epoch seconds) is
the table's TTL attribute; DynamoDB deletes late, so reads check it too.
"""

from __future__ import annotations

from datetime import datetime

from remit.adapters.dynamodb import DynamoTable, Write, delete, key, put, to_attributes
from remit.domain.sessions import DashboardSession, digest
from remit.domain.users import PendingSignIn, SessionTokens


class DynamoSessionStore:
    """`remit.ports.people.SessionStore` over DynamoDB."""

    def __init__(self, table: DynamoTable) -> None:
        self._table = table

    def add(self, session: DashboardSession) -> None:
        self._table.write(
            [
                Write(
                    "Put",
                    put(
                        {
                            "PK": f"SESSION#{session.session_digest}",
                            "SK": "SESSION",
                            "email": session.email,
                            "account_id": session.account_id,
                            "access_token": session.tokens.access_token,
                            "access_expires_at": session.tokens.expires_at.isoformat(),
                            "refresh_token": session.refresh_token,
                            "csrf_token": session.csrf_token,
                            "session_expires_at": session.expires_at.isoformat(),
                            "expires_at": int(session.expires_at.timestamp()),
                        },
                        "attribute_not_exists(PK)",
                    ),
                ),
                Write(
                    "Put",
                    put(
                        {
                            "PK": f"USER#{digest(session.email.lower())}",
                            "SK": f"SESSION#{session.session_digest}",
                            "expires_at": int(session.expires_at.timestamp()),
                        }
                    ),
                ),
            ]
        )

    def remove_sessions_of(self, email_digest: str) -> int:
        listed = self._table.query_all(f"USER#{email_digest}", "SESSION#")
        for item in listed:
            session_digest = str(item["SK"]).removeprefix("SESSION#")
            self._table.write(
                [
                    Write("Delete", delete(f"SESSION#{session_digest}", "SESSION")),
                    Write("Delete", delete(f"USER#{email_digest}", str(item["SK"]))),
                ]
            )
        return len(listed)

    def add_pending(self, pending: PendingSignIn) -> None:
        self._table.write(
            [
                Write(
                    "Put",
                    put(
                        {
                            "PK": f"STEP#{pending.step_digest}",
                            "SK": "STEP",
                            "email": pending.email,
                            "challenge": pending.challenge,
                            "directory_session": pending.directory_session,
                            "step_expires_at": pending.expires_at.isoformat(),
                            "expires_at": int(pending.expires_at.timestamp()),
                        }
                    ),
                )
            ]
        )

    def get_pending(self, step_digest: str, now: datetime) -> PendingSignIn | None:
        item = self._table.get(f"STEP#{step_digest}", "STEP")
        if item is None:
            return None
        expires_at = datetime.fromisoformat(str(item["step_expires_at"]))
        if expires_at <= now:
            return None
        return PendingSignIn(
            step_digest=step_digest,
            email=str(item["email"]),
            challenge=str(item["challenge"]),
            directory_session=str(item["directory_session"]),
            expires_at=expires_at,
        )

    def remove_pending(self, step_digest: str) -> None:
        self._table.write([Write("Delete", delete(f"STEP#{step_digest}", "STEP"))])

    def get(self, session_digest: str, now: datetime) -> DashboardSession | None:
        item = self._table.get(f"SESSION#{session_digest}", "SESSION")
        if item is None:
            return None
        expires_at = datetime.fromisoformat(str(item["session_expires_at"]))
        if expires_at <= now:
            return None
        return DashboardSession(
            session_digest=session_digest,
            email=str(item["email"]),
            account_id=str(item["account_id"]),
            tokens=SessionTokens(
                access_token=str(item["access_token"]),
                refresh_token=None,
                expires_at=datetime.fromisoformat(str(item["access_expires_at"])),
            ),
            refresh_token=str(item["refresh_token"]),
            csrf_token=str(item["csrf_token"]),
            expires_at=expires_at,
        )

    def replace_tokens(self, session_digest: str, tokens: SessionTokens) -> None:
        # Only a session that still exists: a sign-out elsewhere is not undone by a late refresh.
        self._table.write(
            [
                Write(
                    "Update",
                    {
                        "Key": key(f"SESSION#{session_digest}", "SESSION"),
                        "UpdateExpression": "SET access_token = :token, access_expires_at = :expires",
                        "ConditionExpression": "attribute_exists(PK)",
                        "ExpressionAttributeValues": to_attributes(
                            {":token": tokens.access_token, ":expires": tokens.expires_at.isoformat()}
                        ),
                    },
                )
            ]
        )

    def remove(self, session_digest: str) -> None:
        self._table.write([Write("Delete", delete(f"SESSION#{session_digest}", "SESSION"))])

    def count_failed_sign_in(self, email_digest: str, window_start: datetime, window_end: datetime) -> int:
        answer = self._table.client.update_item(
            TableName=self._table.name,
            Key=key(f"SIGNIN#{email_digest}", window_start.isoformat()),
            UpdateExpression="ADD failures :one SET expires_at = :expires",
            ExpressionAttributeValues=to_attributes({":one": 1, ":expires": int(window_end.timestamp())}),
            ReturnValues="UPDATED_NEW",
        )
        return int(answer["Attributes"]["failures"]["N"])

    def failed_sign_ins(self, email_digest: str, window_start: datetime) -> int:
        item = self._table.get(f"SIGNIN#{email_digest}", window_start.isoformat(), projection=["failures"])
        return int(item["failures"]) if item else 0
