"""The one retry loop of optimistic writes: attempts, waiting, and what it raises when they run out."""

from __future__ import annotations

import pytest

from remit.domain.errors import AlreadyDone, ConcurrentUpdate
from remit.domain.retry import READ_AGAIN, ReadAgain, retry_on_conflict


class _Attempts:
    """An attempt that plays back `outcomes` (an exception is raised, anything else returned)."""

    def __init__(self, *outcomes: object) -> None:
        self._outcomes = list(outcomes)
        self.calls = 0

    def __call__(self) -> str | ReadAgain:
        outcome = self._outcomes[self.calls]
        self.calls += 1
        if isinstance(outcome, Exception):
            raise outcome
        assert isinstance(outcome, str | ReadAgain)
        return outcome


def test_an_attempt_that_commits_at_once_runs_once() -> None:
    attempt = _Attempts("saved")

    result = retry_on_conflict(attempt)

    assert (result, attempt.calls) == ("saved", 1)


def test_conflicts_are_retried_until_an_attempt_commits() -> None:
    attempt = _Attempts(ConcurrentUpdate(), ConcurrentUpdate(), "saved")

    result = retry_on_conflict(attempt, 3)

    assert (result, attempt.calls) == ("saved", 3)


def test_when_every_attempt_conflicts_the_last_conflict_is_raised() -> None:
    last = ConcurrentUpdate("the third")
    attempt = _Attempts(ConcurrentUpdate(), ConcurrentUpdate(), last, "never reached")

    with pytest.raises(ConcurrentUpdate) as raised:
        retry_on_conflict(attempt, 3)

    assert (raised.value, attempt.calls) == (last, 3)


def test_when_attempts_run_out_the_exhausted_detail_is_raised() -> None:
    attempt = _Attempts(ConcurrentUpdate(), ConcurrentUpdate())

    with pytest.raises(ConcurrentUpdate, match="kept changing") as raised:
        retry_on_conflict(attempt, 2, exhausted="Invoice in_1 kept changing.")

    assert isinstance(raised.value.__cause__, ConcurrentUpdate)
    assert attempt.calls == 2


def test_read_again_runs_the_attempt_again_and_counts_as_an_attempt() -> None:
    attempt = _Attempts(READ_AGAIN, READ_AGAIN, "saved")

    assert retry_on_conflict(attempt, 3) == "saved"

    with pytest.raises(ConcurrentUpdate, match="kept changing"):
        retry_on_conflict(_Attempts(READ_AGAIN, READ_AGAIN, "too late"), 2, exhausted="kept changing")


def test_an_error_other_than_a_conflict_passes_through_at_once() -> None:
    attempt = _Attempts(ConcurrentUpdate(), AlreadyDone("done before"), "never reached")

    with pytest.raises(AlreadyDone):
        retry_on_conflict(attempt, 5)

    assert attempt.calls == 2
