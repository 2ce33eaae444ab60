"""Schemathesis on the portal-session operation alone (`POST …/customers/{id}/portal_sessions`),
with more examples than the whole API's run gives each operation and the coverage phase: no server
error, answers as documented, invalid requests refused, no key refused. (One operation alone has no
links between operations: the stateful phase is the whole API's run's.)
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.fuzzing import run_schemathesis
from tests.e2e.local_stack import RunningLocalStack

pytestmark = pytest.mark.e2e


def test_schemathesis_finds_no_failure_in_the_portal_session_operation(
    stack: RunningLocalStack, tmp_path: Path
) -> None:
    run = run_schemathesis(
        stack.base_url,
        stack.dev_api_key,
        tmp_path,
        50,
        "examples,coverage,fuzzing",
        only_paths="portal_sessions$",
    )

    print(run.output)
    assert run.exit_code == 0, run.output
    for report in run.report["runs"]:
        assert report.get("operations", {}).get("selected", 0) == 1, report.get("operations")
