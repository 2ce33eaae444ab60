"""Opaque, type-prefixed, unguessable identifiers that sort by creation time.

`cus_` + 10 base32 characters of the creation millisecond + 16 random base32 characters, so a
partition's items listed by sort key come out oldest first, and ids cannot be guessed. Ids made in
one process within one millisecond follow each other (the random part of the previous one, plus
one, as monotonic ULIDs do): the timeline events a transaction writes list in the order they happened.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
from datetime import UTC, datetime, timedelta

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # Crockford base32, lower case
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _base32(number: int, length: int) -> str:
    chars = []
    for _ in range(length):
        number, remainder = divmod(number, 32)
        chars.append(_ALPHABET[remainder])
    return "".join(reversed(chars))


_RANDOM_BITS = 80
_last = [-1, 0]  # the millisecond and random part of the latest id made here
_lock = threading.Lock()


def new_id(prefix: str, created_at: datetime) -> str:
    """A new id such as `cus_01jd7k…`, ordered by `created_at` (millisecond precision), and within
    a millisecond by the order this process made them."""
    millis = (created_at - _EPOCH) // timedelta(milliseconds=1)  # integer arithmetic: no float rounding
    with _lock:
        random_part = secrets.randbits(_RANDOM_BITS)
        if millis == _last[0] and _last[1] + 1 < 1 << _RANDOM_BITS:
            # Still unguessable: the step is random too, within the space left above the previous id.
            random_part = _last[1] + 1 + secrets.randbelow(min(1 << 32, (1 << _RANDOM_BITS) - _last[1] - 1))
        _last[:] = [millis, random_part]
    return f"{prefix}_{_base32(millis, 10)}{_base32(random_part, 16)}"


def new_token(nbytes: int = 32) -> str:
    """A long random URL-safe token (API keys, hosted-page links)."""
    return secrets.token_urlsafe(nbytes)


def derived_id(prefix: str, created_at: datetime, *names: str) -> str:
    """An id that sorts by `created_at` as `new_id`'s do, whose other part is a digest of `names`:
    whoever derives it from the same names gets the same id (a planner delivered twice, say)."""
    millis = (created_at - _EPOCH) // timedelta(milliseconds=1)
    digest = int.from_bytes(hashlib.sha256("\x1f".join(names).encode()).digest()[:10])
    return f"{prefix}_{_base32(millis, 10)}{_base32(digest, 16)}"


def time_floor(prefix: str, moment: datetime) -> str:
    """The lowest id `new_id(prefix, …)` makes at `moment`'s millisecond: every id made at or after
    `moment` sorts at or above it, every id made before sorts below."""
    millis = (moment - _EPOCH) // timedelta(milliseconds=1)
    return f"{prefix}_{_base32(millis, 10)}"
