"""Retrying a read-modify-write when another writer got there first."""

from __future__ import annotations

import random
import time
from collections.abc import Callable

from remit.domain.errors import ConcurrentUpdate

MAX_ATTEMPTS = 8
MAX_BACKOFF_SECONDS = 0.25


def retry_on_conflict[ResultT](attempt: Callable[[], ResultT], attempts: int = MAX_ATTEMPTS) -> ResultT:
    """Run `attempt` (which must re-read what it changes) until it commits without a concurrent update.

    Waits with jittered exponential backoff between tries; re-raises `ConcurrentUpdate` after the
    last one, which the API answers with `409`.
    """
    for number in range(attempts):
        try:
            return attempt()
        except ConcurrentUpdate:
            if number == attempts - 1:
                raise
            back_off(number)
    raise AssertionError("unreachable")


def back_off(number: int) -> None:
    """Wait before the retry after `number` conflicts (jittered, exponential, capped)."""
    ceiling = min(MAX_BACKOFF_SECONDS, 0.005 * 2 ** min(number, 10))
    time.sleep(random.uniform(0, ceiling))  # noqa: S311 - jitter, not security
