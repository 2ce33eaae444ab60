"""SnapStart: every environment restored from one snapshot gets its own random state, AWS session,
clients and settings, and the handlers register the hooks that do it."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
import snapshot_restore_py

from remit import bootstrap, snapstart


@pytest.fixture(autouse=True)
def fresh_services(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("REMIT_BILLING_TABLE", "billing-at-snapshot")
    bootstrap.reset()
    yield
    bootstrap.reset()


def _run(hooks: list[Any]) -> None:
    for function, args, kwargs in hooks:
        function(*args, **kwargs)


def _registered(hooks: list[Any]) -> list[Callable[..., Any]]:
    return [function for function, _, _ in hooks]


def test_a_restored_environment_draws_other_random_numbers_than_the_snapshot() -> None:
    # Given the random state a snapshot holds, and what it would draw next in every environment
    snapshot_state = random.getstate()
    drawn_by_every_environment = [random.random() for _ in range(5)]
    random.setstate(snapshot_state)

    # When an environment is restored from it
    snapstart.renew_after_restore()

    # Then it draws its own numbers
    assert [random.random() for _ in range(5)] != drawn_by_every_environment


def test_two_restores_of_one_snapshot_draw_different_numbers() -> None:
    snapshot_state = random.getstate()

    snapstart.renew_after_restore()
    first_environment = [random.random() for _ in range(5)]
    random.setstate(snapshot_state)
    snapstart.renew_after_restore()
    second_environment = [random.random() for _ in range(5)]

    assert first_environment != second_environment


def test_a_restore_forgets_the_aws_session_the_services_and_the_settings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given services primed before the snapshot, and an AWS session with its credentials
    snapstart.prime()
    primed = bootstrap.services()
    boto3.setup_default_session(region_name="eu-west-1")
    assert boto3.DEFAULT_SESSION is not None
    monkeypatch.setenv("REMIT_BILLING_TABLE", "billing-after-restore")

    # When the environment is restored
    snapstart.renew_after_restore()

    # Then the next request builds its own session, services (with their clients) and settings
    assert boto3.DEFAULT_SESSION is None
    assert bootstrap.services() is not primed
    assert bootstrap.services().settings.billing_table == "billing-after-restore"


def test_the_api_handler_primes_the_snapshot_and_renews_its_idempotency_store_on_restore() -> None:
    from api import app, idempotency

    before_snapshot = _registered(snapshot_restore_py.get_before_snapshot())
    after_restore = _registered(snapshot_restore_py.get_after_restore())
    assert snapstart.prime in before_snapshot
    assert app.openapi_document in before_snapshot
    assert snapstart.renew_after_restore in after_restore
    assert idempotency.reset in after_restore

    # As the runtime does: before-snapshot hooks in reverse order, after-restore hooks in order
    _run(list(reversed(snapshot_restore_py.get_before_snapshot())))
    snapshot_persistence = idempotency._persistence()
    _run(snapshot_restore_py.get_after_restore())

    assert idempotency._persistence() is not snapshot_persistence
    assert "/v1/organisations" in app.openapi_document()


def test_the_payment_webhook_handler_registers_the_restore_hook() -> None:
    import payment_webhooks.app  # noqa: F401 - importing registers the hooks

    assert snapstart.renew_after_restore in _registered(snapshot_restore_py.get_after_restore())
    assert snapstart.prime in _registered(snapshot_restore_py.get_before_snapshot())
