"""Accounts, their named API keys and API-key authentication.

A key authenticates while its pointer exists. Revoking deletes it and forgets the key in this
process's cache at once; another warm process may still trust a hit it cached for up to
`key_cache_seconds` (the `REMIT_API_KEY_CACHE_SECONDS` setting, 300 s by default).
"""

from __future__ import annotations

import time

from remit.domain.account import (
    DEFAULT_KEY_NAME,
    Account,
    ApiKey,
    ApiKeyChanges,
    CreatedApiKey,
    IssuedApiKey,
    NewApiKey,
    api_key_digest,
    generate_api_key,
    key_hint,
)
from remit.domain.errors import InvalidInput, NotFound, Unauthenticated
from remit.domain.ids import new_id
from remit.domain.pagination import Page
from remit.ports import AccountRepository, Clock


class AccountService:
    def __init__(self, accounts: AccountRepository, clock: Clock, key_cache_seconds: float) -> None:
        self._accounts = accounts
        self._clock = clock
        self._key_cache_seconds = key_cache_seconds
        # digest -> (account id, monotonic expiry). Keys never move between accounts, so a warm
        # Lambda may trust a hit for a while; misses are not cached, so a new key works at once.
        self._known_keys: dict[str, tuple[str, float]] = {}

    def create_account(self, name: str, api_key: str | None = None) -> IssuedApiKey:
        """Create an account and its first API key (random unless given). The key is returned once.

        Raises `InvalidInput` for a bad name, `Conflict` if the given key is already in use.
        """
        name = name.strip()
        if not 1 <= len(name) <= 200:
            raise InvalidInput.single("name", "must be 1 to 200 characters")
        key = api_key or generate_api_key()
        if len(key) < 20:
            raise InvalidInput.single("api_key", "must be at least 20 characters")
        now = self._clock.now()
        account = Account(id=new_id("acct", now), name=name, created_at=now)
        digest = api_key_digest(key)
        first = ApiKey(new_id("key", now), account.id, DEFAULT_KEY_NAME, key_hint(key), now, None, digest)
        self._accounts.add(account, digest, first)
        return IssuedApiKey(account_id=account.id, name=account.name, api_key=key)

    def account_for_key(self, api_key: str) -> str | None:
        """The account the key belongs to, or None. Hits are cached in the process."""
        digest = api_key_digest(api_key)
        cached = self._known_keys.get(digest)
        if cached and cached[1] > time.monotonic():
            return cached[0]
        pointer = self._accounts.key_pointer(digest)
        if pointer is None:
            return None
        account_id, key_id = pointer
        if key_id is None:
            self._adopt(account_id, api_key, digest)
        self._known_keys[digest] = (account_id, time.monotonic() + self._key_cache_seconds)
        return account_id

    def _adopt(self, account_id: str, api_key: str, digest: str) -> None:
        """Give a key issued before keys had names its record, "Default" (once; see the adapter)."""
        account = self._accounts.get(account_id)
        created_at = account.created_at if account else self._clock.now()
        key_id = "key_" + digest[:26]
        self._accounts.adopt_key(
            ApiKey(key_id, account_id, DEFAULT_KEY_NAME, key_hint(api_key), created_at, None, digest)
        )

    def create_key(self, account_id: str, new: NewApiKey, created_by: str | None) -> CreatedApiKey:
        """A new random key for the account, named; the key is in the answer only, stored as digest."""
        key = generate_api_key()
        now = self._clock.now()
        record = ApiKey(
            new_id("key", now), account_id, new.name, key_hint(key), now, created_by, api_key_digest(key)
        )
        self._accounts.add_key(record)
        return CreatedApiKey(record, key)

    def list_keys(self, account_id: str, limit: int, cursor: str | None) -> Page[ApiKey]:
        return self._accounts.list_keys(account_id, limit, cursor)

    def get_key(self, account_id: str, key_id: str) -> ApiKey:
        """The account's key; `NotFound` for an unknown id or another account's key."""
        found = self._accounts.get_key(account_id, key_id)
        if found is None:
            raise NotFound("API key", key_id)
        return found

    def rename_key(self, account_id: str, key_id: str, changes: ApiKeyChanges) -> ApiKey:
        found = self.get_key(account_id, key_id)
        self._accounts.rename_key(account_id, key_id, changes.name)
        return ApiKey(**{**found.__dict__, "name": changes.name})

    def revoke_key(self, account_id: str, key_id: str) -> ApiKey:
        """Delete the key: it authenticates no more, in this process at once (see the module)."""
        found = self.get_key(account_id, key_id)
        self._accounts.remove_key(found)
        self._known_keys.pop(found.key_digest, None)
        return found

    def authenticate(self, authorization: str | None) -> str:
        """The account of an `Authorization: Bearer <key>` header; `Unauthenticated` otherwise."""
        scheme, _, api_key = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not api_key.strip():
            raise Unauthenticated("Send your API key as 'Authorization: Bearer <key>'.")
        account_id = self.account_for_key(api_key.strip())
        if account_id is None:
            raise Unauthenticated("The API key is not valid.")
        return account_id
