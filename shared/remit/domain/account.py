"""Accounts and their API keys. A key is shown once; only its SHA-256 digest is ever stored."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated

from pydantic import Field

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
    """A new API key of an account: its name, for people to tell keys apart, and whether it may
    only read (the dashboard's form). Read-only is chosen at creation and never changes.
    """

    name: KeyName
    read_only: bool = Field(
        default=False,
        title="Read-only",
        description="The key may only read: any change through the API with it is refused (403).",
    )


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
    read_only: bool = False
    last_used_at: datetime | None = None  # to within `KEY_USE_RESOLUTION` (see `key_use_due`)


@dataclass(frozen=True)
class KeyPointer:
    """What authenticating a key reads: its account, its record's id (None for a key issued before
    records), whether it may only read, and when its use was last recorded.
    """

    account_id: str
    key_id: str | None
    read_only: bool = False
    last_used_at: datetime | None = None


#: A key's last use is recorded at most this often, so that using a key costs no write per request.
KEY_USE_RESOLUTION = timedelta(minutes=15)


def key_use_due(last_used_at: datetime | None, now: datetime) -> bool:
    """Whether a use of a key at `now` should be recorded: never recorded, or not within
    `KEY_USE_RESOLUTION`. The list then shows each key's last use to within that (plus the time a
    process trusts a key it has checked).
    """
    return last_used_at is None or now - last_used_at >= KEY_USE_RESOLUTION


@dataclass(frozen=True)
class CreatedApiKey:
    """A newly created key with its plaintext, which exists only in this object."""

    key: ApiKey
    api_key: str


def key_hint(api_key: str) -> str:
    return api_key[-4:]
