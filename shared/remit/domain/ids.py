"""Opaque, type-prefixed, unguessable identifiers that sort by creation time.

`cus_` + 10 base32 characters of the creation millisecond + 16 random base32 characters, so a
partition's items listed by sort key come out oldest first, and ids cannot be guessed.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # Crockford base32, lower case
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _base32(number: int, length: int) -> str:
    chars = []
    for _ in range(length):
        number, remainder = divmod(number, 32)
        chars.append(_ALPHABET[remainder])
    return "".join(reversed(chars))


def new_id(prefix: str, created_at: datetime) -> str:
    """A new id such as `cus_01jd7k…`, ordered by `created_at` (millisecond precision)."""
    millis = (created_at - _EPOCH) // timedelta(milliseconds=1)  # integer arithmetic: no float rounding
    return f"{prefix}_{_base32(millis, 10)}{_base32(secrets.randbits(80), 16)}"


def new_token(nbytes: int = 32) -> str:
    """A long random URL-safe token (API keys, hosted-page links)."""
    return secrets.token_urlsafe(nbytes)
