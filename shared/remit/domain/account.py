"""Accounts and their API keys. A key is shown once; only its SHA-256 digest is ever stored."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from remit.domain.ids import new_token

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
