"""`make load` against the local stack, briefly: it runs, stops by itself and finds the books whole.

Only whether it works is asserted here; its figures are read from `make load` (docs/load.md),
never asserted in a test.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.e2e.local_stack import REPOSITORY_ROOT, RunningLocalStack

pytestmark = pytest.mark.e2e

# The clients stop after 3 s; the rest is setting up, finishing, checking and waiting for emails.
LOAD_TIMEOUT_SECONDS = 300


def test_a_short_load_with_four_clients_ends_without_errors_and_with_every_invariant_held(
    stack: RunningLocalStack,
) -> None:
    # Given a running local stack
    # When the load tool drives it with 4 clients for 3 seconds
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks",
            "load",
            "--clients",
            "4",
            "--seconds",
            "3",
            "--url",
            stack.base_url,
        ],
        cwd=REPOSITORY_ROOT,
        env=os.environ | {"PYTHONPATH": os.pathsep.join(["functions", "."])},
        capture_output=True,
        text=True,
        timeout=LOAD_TIMEOUT_SECONDS,
        check=False,
    )

    # Then it stops by itself, exits 0, and reports no error and every invariant held
    report = completed.stdout + completed.stderr
    assert completed.returncode == 0, report
    assert "errors: 0" in report
    assert "all invariants held" in report
    for operation in ("create draft", "finalize", "send", "record payment"):
        assert operation in report
