"""The retry schedule of webhook deliveries."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from remit.domain.deliveries import (
    MAX_ATTEMPTS,
    MAX_QUEUE_DELAY_SECONDS,
    is_success,
    queue_delay,
    retry_delay,
    total_retry_window,
)

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


def test_retries_span_about_three_days_then_stop() -> None:
    assert timedelta(days=2, hours=12) <= total_retry_window() <= timedelta(days=3, hours=6)
    assert retry_delay(1) == timedelta(seconds=5)
    assert retry_delay(MAX_ATTEMPTS - 1) is not None
    assert retry_delay(MAX_ATTEMPTS) is None


def test_the_schedule_never_shortens() -> None:
    delays = [retry_delay(n) for n in range(1, MAX_ATTEMPTS)]
    assert all(a is not None and b is not None and a <= b for a, b in itertools.pairwise(delays))


def test_attempts_are_numbered_from_one() -> None:
    with pytest.raises(ValueError, match="numbered from 1"):
        retry_delay(0)


@pytest.mark.parametrize(
    ("status", "expected"), [(200, True), (204, True), (299, True), (301, False), (500, False), (None, False)]
)
def test_only_a_2xx_answer_is_success(status: int | None, expected: bool) -> None:
    assert is_success(status) is expected


def test_a_long_wait_is_covered_by_the_longest_queue_delay_then_the_rest() -> None:
    due = NOW + timedelta(hours=2)
    assert queue_delay(due, NOW) == MAX_QUEUE_DELAY_SECONDS
    assert queue_delay(due, due - timedelta(seconds=12.2)) == 13
    assert queue_delay(due, due + timedelta(seconds=1)) == 0
