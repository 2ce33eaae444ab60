"""The fuzzing run accepts only the documented deviations, and only when nothing else is wrong."""

from __future__ import annotations

from tests.e2e.fuzzing_hooks import is_deliberate


def problem(*errors: tuple[str, str]) -> dict[str, object]:
    return {"status": 422, "errors": [{"field": field, "message": message} for field, message in errors]}


def test_an_opaque_cursor_refused_is_a_deliberate_deviation() -> None:
    assert is_deliberate(422, problem(("cursor", "is not a cursor from a previous page of this list")), None)


def test_a_float_amount_is_deliberate_only_when_a_float_was_sent() -> None:
    refusal = problem(("amount", "must be a whole number of the currency's minor unit (1999 for 19.99 EUR)"))

    assert is_deliberate(422, refusal, {"amount": 296.0})
    assert not is_deliberate(422, refusal, {"amount": "296"})


def test_a_deviation_mixed_with_another_problem_still_fails() -> None:
    refusal = problem(
        ("cursor", "is not a cursor from a previous page of this list"), ("limit", "must be at most 100")
    )

    assert not is_deliberate(422, refusal, None)


def test_any_other_refusal_or_status_fails() -> None:
    assert not is_deliberate(422, problem(("email", "is not an email address")), None)
    assert not is_deliberate(422, {"status": 422, "errors": []}, None)
    assert not is_deliberate(
        400, problem(("cursor", "is not a cursor from a previous page of this list")), None
    )
