"""Accounts and API-key digests in the billing table.

`ACCOUNT#<id>/ACCOUNT` holds the account; `APIKEY#<sha256>/APIKEY` points a key to its account.
"""

from __future__ import annotations

from remit.adapters.dynamodb import DynamoTable, Write, put
from remit.domain.account import Account
from remit.domain.errors import Conflict


class DynamoAccountRepository:
    def __init__(self, table: DynamoTable) -> None:
        self._table = table

    def add(self, account: Account, key_digest: str) -> None:
        self._table.write(
            [
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
                    put(
                        {
                            "PK": f"APIKEY#{key_digest}",
                            "SK": "APIKEY",
                            "entity": "api_key",
                            "account_id": account.id,
                        },
                        "attribute_not_exists(PK)",
                    ),
                    lambda: Conflict("This API key is already in use."),
                ),
            ]
        )

    def account_id_for_key(self, key_digest: str) -> str | None:
        item = self._table.get(f"APIKEY#{key_digest}", "APIKEY", projection=["account_id"])
        return str(item["account_id"]) if item else None
