"""Accounts and API-key authentication."""

from __future__ import annotations

import time

from remit.domain.account import Account, IssuedApiKey, api_key_digest, generate_api_key
from remit.domain.errors import InvalidInput, Unauthenticated
from remit.domain.ids import new_id
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
        self._accounts.add(account, api_key_digest(key))
        return IssuedApiKey(account_id=account.id, name=account.name, api_key=key)

    def account_for_key(self, api_key: str) -> str | None:
        """The account the key belongs to, or None. Hits are cached in the process."""
        digest = api_key_digest(api_key)
        cached = self._known_keys.get(digest)
        if cached and cached[1] > time.monotonic():
            return cached[0]
        account_id = self._accounts.account_id_for_key(digest)
        if account_id is not None:
            self._known_keys[digest] = (account_id, time.monotonic() + self._key_cache_seconds)
        return account_id

    def authenticate(self, authorization: str | None) -> str:
        """The account of an `Authorization: Bearer <key>` header; `Unauthenticated` otherwise."""
        scheme, _, api_key = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not api_key.strip():
            raise Unauthenticated("Send your API key as 'Authorization: Bearer <key>'.")
        account_id = self.account_for_key(api_key.strip())
        if account_id is None:
            raise Unauthenticated("The API key is not valid.")
        return account_id
