"""Accounts and their API keys."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from remit.domain.account import Account, ApiKey, KeyPointer
from remit.domain.pagination import Page


class AccountRepository(Protocol):
    def add(self, account: Account, key_digest: str, first_key: ApiKey | None = None) -> None:
        """Store a new account with the digest of its first API key."""
        ...

    def account_id_for_key(self, key_digest: str) -> str | None: ...

    def get(self, account_id: str) -> Account | None: ...

    def key_pointer(self, key_digest: str) -> KeyPointer | None:
        """The account of a key digest, its record's id (None for a key issued before records),
        whether it is read-only and when its use was last recorded; None for an unknown key.
        """
        ...

    def record_key_use(self, key_digest: str, pointer: KeyPointer, now: datetime) -> None:
        """Record `now` as the key's last use (on its pointer and its record), unless a use within
        `KEY_USE_RESOLUTION` is already recorded or the key was revoked meanwhile (nothing then).
        """
        ...

    def add_key(self, api_key: ApiKey) -> None: ...

    def adopt_key(self, api_key: ApiKey) -> None:
        """Give a key issued before records its record; idempotent."""
        ...

    def get_key(self, account_id: str, key_id: str) -> ApiKey | None: ...

    def list_keys(self, account_id: str, limit: int, cursor: str | None) -> Page[ApiKey]: ...

    def rename_key(self, account_id: str, key_id: str, name: str) -> None: ...

    def remove_key(self, api_key: ApiKey) -> None:
        """Delete the key's pointer and record together: the key authenticates no more."""
        ...
