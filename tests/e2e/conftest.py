"""End-to-end fixtures: the local stack started as `make run` starts it, driven over HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.local_stack import RunningLocalStack, start_local_stack

DEV_API_KEY = "rk_e2e_dev_key_for_the_local_stack_0001"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningLocalStack]:
    """A local stack shared by a test module, with an empty data directory and a known dev key."""
    running = start_local_stack(tmp_path_factory.mktemp("local-stack") / "data", DEV_API_KEY)
    yield running
    assert running.interrupt() == 0, running.log()
