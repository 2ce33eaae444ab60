"""Retrying a read-modify-write when another writer got there first (optimistic concurrency).

Pure control flow over a callable, so that the services and the adapters share the one loop.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Final

from remit.domain.errors import ConcurrentUpdate

MAX_ATTEMPTS = 8
MAX_BACKOFF_SECONDS = 0.25


class ReadAgain:
    """What an attempt returns to be run again at once, without waiting: its work was done by an
    earlier attempt, or it did one step of several. It counts as one of the attempts.
    """


READ_AGAIN: Final = ReadAgain()


def retry_on_conflict[ResultT](
    attempt: Callable[[], ResultT | ReadAgain],
    attempts: int = MAX_ATTEMPTS,
    *,
    exhausted: str | None = None,
) -> ResultT:
    """Run `attempt` (which must re-read what it changes) until it commits without a concurrent update.

    Waits with jittered exponential backoff after each `ConcurrentUpdate`; an attempt returning
    `READ_AGAIN` runs again at once. When the attempts run out it raises `ConcurrentUpdate` with the
    `exhausted` detail if given, else re-raises the last one (which the API answers with `409`).
    Any other error of an attempt passes through at once.
    """
    conflict: ConcurrentUpdate | None = None
    for number in range(attempts):
        try:
            result = attempt()
        except ConcurrentUpdate as error:
            conflict = error
            if number < attempts - 1:
                back_off(number)
            continue
        if not isinstance(result, ReadAgain):
            return result
        conflict = None
    if exhausted is not None:
        raise ConcurrentUpdate(exhausted) from conflict
    raise conflict or ConcurrentUpdate()


def back_off(number: int) -> None:
    """Wait before the retry after `number` conflicts (jittered, exponential, capped)."""
    ceiling = min(MAX_BACKOFF_SECONDS, 0.005 * 2 ** min(number, 10))
    time.sleep(random.uniform(0, ceiling))  # noqa: S311 - jitter, not security
