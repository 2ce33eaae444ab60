"""Accounts and their API keys. A key is shown once; only its SHA-256 digest is ever stored."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from remit.domain.ids import new_token
from remit.domain.values import Strict, text

API_KEY_PREFIX = "rk_"


@dataclass(frozen=True)
class Account:
    id: str
    name: str
    created_at: datetime


@dataclass(frozen=True)
class IssuedApiKey:
    """A newly created account with the plaintext key, which exists only in this object."""

    account_id: str
    name: str
    api_key: str


def generate_api_key() -> str:
    """A new random API key (`rk_` + 43 URL-safe characters, 256 bits of entropy)."""
    return API_KEY_PREFIX + new_token(32)


def api_key_digest(api_key: str) -> str:
    """The stored form of a key. Keys are random and long, so a fast hash is enough (no brute force)."""
    return hashlib.sha256(api_key.encode("utf-8")).hexdigest()


#: The name an account's first key has when it was issued before keys had names.
DEFAULT_KEY_NAME = "Default"
KeyName = Annotated[str, text(100)]


class NewApiKey(Strict):
    """A new API key of an account: its name, for people to tell keys apart (the dashboard's form)."""

    name: KeyName


class ApiKeyChanges(Strict):
    """A key's new name (renaming changes nothing else; the key itself never changes)."""

    name: KeyName


@dataclass(frozen=True)
class ApiKey:
    """What is kept of an API key besides its digest: never the key, only its last characters."""

    id: str
    account_id: str
    name: str
    hint: str  # the key's last 4 characters, to recognise it
    created_at: datetime
    created_by: str | None  # the dashboard user's email; None for the account's first key
    key_digest: str


@dataclass(frozen=True)
class CreatedApiKey:
    """A newly created key with its plaintext, which exists only in this object."""

    key: ApiKey
    api_key: str


def key_hint(api_key: str) -> str:
    return api_key[-4:]
