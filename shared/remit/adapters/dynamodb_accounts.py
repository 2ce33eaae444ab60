"""Accounts, their API keys and their dashboard members in the billing table.

`ACCOUNT#<id>/ACCOUNT` holds the account; `APIKEY#<sha256>/APIKEY` points a key to its account
(and its record's id, `read_only` when the key may only read, and `last_used_at`: what
authenticating reads); `ACCOUNT#<id>/APIKEY#<key id>` is the key's record (name, last characters,
who created it, `read_only`, `last_used_at`: never the key); `ACCOUNT#<id>/USER#<member id>` lists
a dashboard user of the account (the user pool cannot list its users by account) with their
`role` (a member recorded before roles has none and reads as `UNRECORDED_ROLE`, owner) and
`removing` while their removal is under way.

A key's last use is written to its pointer and its record together, conditionally, at most once
per `KEY_USE_RESOLUTION` (see `record_key_use`): never a write per request.

Keys issued before keys had records (one per account, by `create-account`) have a pointer without
`key_id`: the first time such a key authenticates, it gets a record named "Default" (`adopt_key`,
idempotent). Nothing is rewritten in bulk.
"""

from __future__ import annotations

import contextlib
from datetime import datetime
from typing import Any

from remit.adapters.dynamodb import (
    DynamoTable,
    Write,
    decode_cursor,
    delete,
    encode_cursor,
    key,
    put,
    to_attributes,
)
from remit.domain.account import KEY_USE_RESOLUTION, Account, ApiKey, KeyPointer
from remit.domain.errors import Conflict, NotFound
from remit.domain.pagination import Page
from remit.domain.roles import ROLES, UNRECORDED_ROLE, Role
from remit.domain.users import AccountMember

_KEY_PREFIX = "APIKEY#"
_MEMBER_PREFIX = "USER#"


class DynamoAccountRepository:
    def __init__(self, table: DynamoTable) -> None:
        self._table = table

    def add(self, account: Account, key_digest: str, first_key: ApiKey | None = None) -> None:
        writes = [
            Write(
                "Put",
                put(
                    {
                        "PK": f"ACCOUNT#{account.id}",
                        "SK": "ACCOUNT",
                        "entity": "account",
                        "id": account.id,
                        "name": account.name,
                        "created_at": account.created_at.isoformat(),
                    },
                    "attribute_not_exists(PK)",
                ),
                lambda: Conflict("An account with this id exists."),
            ),
            Write(
                "Put",
                put(_pointer(account.id, key_digest, first_key), "attribute_not_exists(PK)"),
                lambda: Conflict("This API key is already in use."),
            ),
        ]
        if first_key is not None:
            writes.append(Write("Put", put(_key_item(first_key), "attribute_not_exists(PK)")))
        self._table.write(writes)

    def get(self, account_id: str) -> Account | None:
        item = self._table.get(f"ACCOUNT#{account_id}", "ACCOUNT")
        if item is None:
            return None
        return Account(
            id=str(item["id"]), name=str(item["name"]), created_at=datetime.fromisoformat(item["created_at"])
        )

    def account_id_for_key(self, key_digest: str) -> str | None:
        found = self.key_pointer(key_digest)
        return found.account_id if found else None

    def key_pointer(self, key_digest: str) -> KeyPointer | None:
        """What authenticating the key needs, in one read of its pointer; None for an unknown key."""
        item = self._table.get(
            f"APIKEY#{key_digest}", "APIKEY", projection=["account_id", "key_id", "read_only", "last_used_at"]
        )
        if item is None:
            return None
        return KeyPointer(
            account_id=str(item["account_id"]),
            key_id=str(item["key_id"]) if item.get("key_id") else None,
            read_only=bool(item.get("read_only", False)),
            last_used_at=_moment(item.get("last_used_at")),
        )

    def record_key_use(self, key_digest: str, pointer: KeyPointer, now: datetime) -> None:
        """`now` as the key's last use, on its pointer and its record in one transaction, only if no
        use within `KEY_USE_RESOLUTION` is recorded (another process may have just written it) and
        the key still exists; otherwise nothing. A key without a record (`key_id` None) is skipped.
        """
        if pointer.key_id is None:
            return
        stale_before = (now - KEY_USE_RESOLUTION).isoformat()
        values = to_attributes({":now": now.isoformat(), ":stale": stale_before})
        condition = "attribute_exists(PK) AND (attribute_not_exists(last_used_at) OR last_used_at < :stale)"
        with contextlib.suppress(Conflict):
            self._table.write(
                [
                    Write(
                        "Update",
                        {
                            "Key": key(f"APIKEY#{key_digest}", "APIKEY"),
                            "UpdateExpression": "SET last_used_at = :now",
                            "ConditionExpression": condition,
                            "ExpressionAttributeValues": values,
                        },
                        lambda: Conflict("recorded"),
                    ),
                    Write(
                        "Update",
                        {
                            "Key": key(f"ACCOUNT#{pointer.account_id}", f"{_KEY_PREFIX}{pointer.key_id}"),
                            "UpdateExpression": "SET last_used_at = :now",
                            "ConditionExpression": "attribute_exists(PK)",
                            "ExpressionAttributeValues": to_attributes({":now": now.isoformat()}),
                        },
                        lambda: Conflict("revoked"),
                    ),
                ]
            )

    # API keys -----------------------------------------------------------------------------------

    def add_key(self, api_key: ApiKey) -> None:
        """The key's pointer and its record, together; `Conflict` if the key is in use (never)."""
        self._table.write(
            [
                Write(
                    "Put",
                    put(
                        _pointer(api_key.account_id, api_key.key_digest, api_key), "attribute_not_exists(PK)"
                    ),
                    lambda: Conflict("This API key is already in use."),
                ),
                Write("Put", put(_key_item(api_key), "attribute_not_exists(PK)")),
            ]
        )

    def adopt_key(self, api_key: ApiKey) -> None:
        """Give a key issued before records its record (idempotent: a second call changes nothing)."""
        # A Conflict: adopted by another request, or revoked meanwhile.
        with contextlib.suppress(Conflict):
            self._table.write(
                [
                    Write(
                        "Update",
                        {
                            "Key": key(f"APIKEY#{api_key.key_digest}", "APIKEY"),
                            "UpdateExpression": "SET key_id = :id",
                            "ConditionExpression": "attribute_exists(PK) AND attribute_not_exists(key_id)",
                            "ExpressionAttributeValues": to_attributes({":id": api_key.id}),
                        },
                        lambda: Conflict("adopted"),
                    ),
                    Write(
                        "Put",
                        put(_key_item(api_key), "attribute_not_exists(PK)"),
                        lambda: Conflict("adopted"),
                    ),
                ]
            )

    def get_key(self, account_id: str, key_id: str) -> ApiKey | None:
        item = self._table.get(f"ACCOUNT#{account_id}", f"{_KEY_PREFIX}{key_id}")
        return _api_key(item) if item else None

    def list_keys(self, account_id: str, limit: int, cursor: str | None) -> Page[ApiKey]:
        after = decode_cursor(cursor, _KEY_PREFIX) if cursor else None
        items, more = self._table.query_prefix(f"ACCOUNT#{account_id}", _KEY_PREFIX, limit, after)
        return Page([_api_key(item) for item in items], encode_cursor(items[-1]["SK"]) if more else None)

    def rename_key(self, account_id: str, key_id: str, name: str) -> None:
        self._table.write(
            [
                Write(
                    "Update",
                    {
                        "Key": key(f"ACCOUNT#{account_id}", f"{_KEY_PREFIX}{key_id}"),
                        "UpdateExpression": "SET #name = :name",
                        "ConditionExpression": "attribute_exists(PK)",
                        "ExpressionAttributeNames": {"#name": "name"},
                        "ExpressionAttributeValues": to_attributes({":name": name}),
                    },
                    lambda: NotFound("API key", key_id),
                )
            ]
        )

    def remove_key(self, api_key: ApiKey) -> None:
        """Delete the key's pointer (it authenticates no more) and its record, together."""
        self._table.write(
            [
                Write("Delete", delete(f"APIKEY#{api_key.key_digest}", "APIKEY")),
                Write(
                    "Delete",
                    delete(
                        f"ACCOUNT#{api_key.account_id}", f"{_KEY_PREFIX}{api_key.id}", "attribute_exists(PK)"
                    ),
                    lambda: NotFound("API key", api_key.id),
                ),
            ]
        )

    # Members ------------------------------------------------------------------------------------

    def add_member(self, member: AccountMember) -> bool:
        """Record the member; False (and nothing changed) when they were already recorded."""
        item: dict[str, Any] = {
            "PK": f"ACCOUNT#{member.account_id}",
            "SK": f"{_MEMBER_PREFIX}{member.id}",
            "entity": "account_member",
            "id": member.id,
            "email": member.email,
            "added_at": member.added_at.isoformat(),
            "role": member.role,
        }
        if member.added_by:
            item["added_by"] = member.added_by
        try:
            self._table.write(
                [Write("Put", put(item, "attribute_not_exists(PK)"), lambda: Conflict("member"))]
            )
        except Conflict:
            return False
        return True

    def get_member(self, account_id: str, member_id: str) -> AccountMember | None:
        item = self._table.get(f"ACCOUNT#{account_id}", f"{_MEMBER_PREFIX}{member_id}")
        return _member(account_id, item) if item else None

    def list_members(self, account_id: str, limit: int, cursor: str | None) -> Page[AccountMember]:
        after = decode_cursor(cursor, _MEMBER_PREFIX) if cursor else None
        items, more = self._table.query_prefix(f"ACCOUNT#{account_id}", _MEMBER_PREFIX, limit, after)
        return Page(
            [_member(account_id, item) for item in items], encode_cursor(items[-1]["SK"]) if more else None
        )

    def all_members(self, account_id: str) -> list[AccountMember]:
        return [
            _member(account_id, item)
            for item in self._table.query_all(f"ACCOUNT#{account_id}", _MEMBER_PREFIX)
        ]

    def change_role(self, member: AccountMember, role: Role, keep_owner: str | None) -> None:
        """The member's new role, if they still have the one read and `keep_owner` is still an owner."""
        self._table.write(
            [
                Write(
                    "Update",
                    {
                        "Key": key(f"ACCOUNT#{member.account_id}", f"{_MEMBER_PREFIX}{member.id}"),
                        "UpdateExpression": "SET #role = :role",
                        **_as_read(member, {":role": role}),
                    },
                ),
                *_owner_stays(member.account_id, keep_owner),
            ]
        )

    def mark_removing(self, member: AccountMember, keep_owner: str | None) -> None:
        """The member marked as being removed, if they still have the role read and `keep_owner`
        is still an owner.
        """
        self._table.write(
            [
                Write(
                    "Update",
                    {
                        "Key": key(f"ACCOUNT#{member.account_id}", f"{_MEMBER_PREFIX}{member.id}"),
                        "UpdateExpression": "SET removing = :removing",
                        **_as_read(member, {":removing": True}),
                    },
                ),
                *_owner_stays(member.account_id, keep_owner),
            ]
        )

    def remove_member(self, account_id: str, member_id: str) -> None:
        self._table.write([Write("Delete", delete(f"ACCOUNT#{account_id}", f"{_MEMBER_PREFIX}{member_id}"))])


def _as_read(member: AccountMember, values: dict[str, Any]) -> dict[str, Any]:
    """The condition (and its names and values) that the member's item is still as it was read:
    there, with the same role (none at all reads as `UNRECORDED_ROLE`), not being removed.
    """
    same_role = "#role = :was"
    if member.role == UNRECORDED_ROLE:
        same_role = "(#role = :was OR attribute_not_exists(#role))"
    return {
        "ConditionExpression": f"attribute_exists(PK) AND {same_role} AND attribute_not_exists(removing)",
        "ExpressionAttributeNames": {"#role": "role"},
        "ExpressionAttributeValues": to_attributes({**values, ":was": member.role}),
    }


def _owner_stays(account_id: str, owner_id: str | None) -> list[Write]:
    """A check that `owner_id` is still an owner not being removed (none for no owner to keep)."""
    if owner_id is None:
        return []
    return [
        Write(
            "ConditionCheck",
            {
                "Key": key(f"ACCOUNT#{account_id}", f"{_MEMBER_PREFIX}{owner_id}"),
                "ConditionExpression": (
                    "attribute_exists(PK) AND (#role = :owner OR attribute_not_exists(#role)) "
                    "AND attribute_not_exists(removing)"
                ),
                "ExpressionAttributeNames": {"#role": "role"},
                "ExpressionAttributeValues": to_attributes({":owner": "owner"}),
            },
        )
    ]


def _pointer(account_id: str, key_digest: str, api_key: ApiKey | None) -> dict[str, Any]:
    item: dict[str, Any] = {
        "PK": f"APIKEY#{key_digest}",
        "SK": "APIKEY",
        "entity": "api_key",
        "account_id": account_id,
    }
    if api_key is not None:
        item["key_id"] = api_key.id
        if api_key.read_only:
            item["read_only"] = True
    return item


def _key_item(api_key: ApiKey) -> dict[str, Any]:
    item: dict[str, Any] = {
        "PK": f"ACCOUNT#{api_key.account_id}",
        "SK": f"{_KEY_PREFIX}{api_key.id}",
        "entity": "api_key_record",
        "id": api_key.id,
        "name": api_key.name,
        "hint": api_key.hint,
        "created_at": api_key.created_at.isoformat(),
        "key_digest": api_key.key_digest,
    }
    if api_key.created_by:
        item["created_by"] = api_key.created_by
    if api_key.read_only:
        item["read_only"] = True
    return item


def _api_key(item: dict[str, Any]) -> ApiKey:
    return ApiKey(
        id=str(item["id"]),
        account_id=str(item["PK"]).removeprefix("ACCOUNT#"),
        name=str(item["name"]),
        hint=str(item.get("hint", "")),
        created_at=datetime.fromisoformat(str(item["created_at"])),
        created_by=str(item["created_by"]) if item.get("created_by") else None,
        key_digest=str(item["key_digest"]),
        read_only=bool(item.get("read_only", False)),
        last_used_at=_moment(item.get("last_used_at")),
    )


def _member(account_id: str, item: dict[str, Any]) -> AccountMember:
    return AccountMember(
        id=str(item["id"]),
        account_id=account_id,
        email=str(item["email"]),
        added_at=datetime.fromisoformat(str(item["added_at"])),
        added_by=str(item["added_by"]) if item.get("added_by") else None,
        role=_role(item.get("role")),
        removing=bool(item.get("removing", False)),
    )


def _role(stored: Any) -> Role:
    """A stored role; none at all (a member recorded before roles) is `UNRECORDED_ROLE`, and a value
    that is no role (never written by Remit) the least of them, `viewer`.
    """
    if not stored:
        return UNRECORDED_ROLE
    return next((role for role in ROLES if role == stored), "viewer")


def _moment(stored: Any) -> datetime | None:
    return datetime.fromisoformat(str(stored)) if stored else None
