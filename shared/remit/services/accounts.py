"""Accounts, their named API keys and API-key authentication.

A key authenticates while its pointer exists. Revoking deletes it and forgets the key in this
process's cache at once; another warm process may still trust a hit it cached for up to
`key_cache_seconds` (the `REMIT_API_KEY_CACHE_SECONDS` setting, 300 s by default).

A key acts for its account, whoever made it: removing the person who made a key leaves the key
working (the list names who made each, so an owner or admin can revoke it). A read-only key may
only read (`Caller.api_key`). Each key's last use is recorded when this process checks the key
again (a cache miss), at most once per `KEY_USE_RESOLUTION` across all processes: a cached hit
costs no DynamoDB call at all.
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from datetime import datetime

from remit.domain.account import (
    DEFAULT_KEY_NAME,
    Account,
    ApiKey,
    ApiKeyChanges,
    CreatedApiKey,
    IssuedApiKey,
    KeyPointer,
    NewApiKey,
    api_key_digest,
    generate_api_key,
    key_hint,
    key_use_due,
)
from remit.domain.errors import InvalidInput, NotFound, Unauthenticated
from remit.domain.ids import new_id
from remit.domain.pagination import Page
from remit.domain.roles import Caller
from remit.ports.accounts import AccountRepository
from remit.ports.clock import Clock

logger = logging.getLogger(__name__)


class AccountService:
    def __init__(self, accounts: AccountRepository, clock: Clock, key_cache_seconds: float) -> None:
        self._accounts = accounts
        self._clock = clock
        self._key_cache_seconds = key_cache_seconds
        # digest -> (pointer, monotonic expiry). Keys never move between accounts and read-only is
        # fixed at creation, so a warm Lambda may trust a hit for a while; misses are not cached,
        # so a new key works at once.
        self._known_keys: dict[str, tuple[KeyPointer, float]] = {}

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
        pointer = self._pointer_of(api_key)
        return pointer.account_id if pointer else None

    def _pointer_of(self, api_key: str) -> KeyPointer | None:
        """The key's pointer (cached on a hit); on a fresh read, the key's use is recorded when due."""
        digest = api_key_digest(api_key)
        cached = self._known_keys.get(digest)
        if cached and cached[1] > time.monotonic():
            return cached[0]
        pointer = self._accounts.key_pointer(digest)
        if pointer is None:
            return None
        if pointer.key_id is None:
            pointer = replace(pointer, key_id=self._adopt(pointer.account_id, api_key, digest))
        now = self._clock.now()
        if key_use_due(pointer.last_used_at, now):
            self._record_use(digest, pointer, now)
        self._known_keys[digest] = (pointer, time.monotonic() + self._key_cache_seconds)
        return pointer

    def _record_use(self, digest: str, pointer: KeyPointer, now: datetime) -> None:
        """Record the key's use; a failure is logged, never the request's: the last use is a hint."""
        try:
            self._accounts.record_key_use(digest, pointer, now)
        except Exception:
            logger.warning("Could not record an API key's last use", exc_info=True)

    def _adopt(self, account_id: str, api_key: str, digest: str) -> str:
        """Give a key issued before keys had names its record, "Default" (once; see the adapter);
        the record's id.
        """
        account = self._accounts.get(account_id)
        created_at = account.created_at if account else self._clock.now()
        key_id = "key_" + digest[:26]
        self._accounts.adopt_key(
            ApiKey(key_id, account_id, DEFAULT_KEY_NAME, key_hint(api_key), created_at, None, digest)
        )
        return key_id

    def create_key(self, account_id: str, new: NewApiKey, created_by: str | None) -> CreatedApiKey:
        """A new random key for the account, named, read-only if asked; the key is in the answer
        only, stored as its digest.
        """
        key = generate_api_key()
        now = self._clock.now()
        record = ApiKey(
            new_id("key", now),
            account_id,
            new.name,
            key_hint(key),
            now,
            created_by,
            api_key_digest(key),
            read_only=new.read_only,
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

    def authenticate(self, authorization: str | None) -> Caller:
        """The caller an `Authorization: Bearer <key>` header names: the key's account, acting with
        everything the API offers or, for a read-only key, reading only. `Unauthenticated` otherwise.
        """
        scheme, _, api_key = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not api_key.strip():
            raise Unauthenticated("Send your API key as 'Authorization: Bearer <key>'.")
        pointer = self._pointer_of(api_key.strip())
        if pointer is None:
            raise Unauthenticated("The API key is not valid.")
        return Caller.api_key(pointer.account_id, pointer.key_id, read_only=pointer.read_only)
