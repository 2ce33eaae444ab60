"""Accounts, their API keys and their dashboard members in the billing table.

`ACCOUNT#<id>/ACCOUNT` holds the account; `APIKEY#<sha256>/APIKEY` points a key to its account
(and its record's id); `ACCOUNT#<id>/APIKEY#<key id>` is the key's record (name, last characters,
who created it: never the key); `ACCOUNT#<id>/USER#<member id>` lists a dashboard user of the
account (the user pool cannot list its users by account).

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
from remit.domain.account import Account, ApiKey
from remit.domain.errors import Conflict, NotFound
from remit.domain.pagination import Page
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
        return found[0] if found else None

    def key_pointer(self, key_digest: str) -> tuple[str, str | None] | None:
        """The account of a key digest and its record's id (None for a key issued before records)."""
        item = self._table.get(f"APIKEY#{key_digest}", "APIKEY", projection=["account_id", "key_id"])
        if item is None:
            return None
        return str(item["account_id"]), (str(item["key_id"]) if item.get("key_id") else None)

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

    def remove_member(self, account_id: str, member_id: str) -> None:
        self._table.write([Write("Delete", delete(f"ACCOUNT#{account_id}", f"{_MEMBER_PREFIX}{member_id}"))])


def _pointer(account_id: str, key_digest: str, api_key: ApiKey | None) -> dict[str, Any]:
    item: dict[str, Any] = {
        "PK": f"APIKEY#{key_digest}",
        "SK": "APIKEY",
        "entity": "api_key",
        "account_id": account_id,
    }
    if api_key is not None:
        item["key_id"] = api_key.id
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
    )


def _member(account_id: str, item: dict[str, Any]) -> AccountMember:
    return AccountMember(
        id=str(item["id"]),
        account_id=account_id,
        email=str(item["email"]),
        added_at=datetime.fromisoformat(str(item["added_at"])),
        added_by=str(item["added_by"]) if item.get("added_by") else None,
    )
