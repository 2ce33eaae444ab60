"""Schemathesis, an outside fuzzer, against the local stack's `/openapi.json`: every operation,
every check (server errors, status codes, content types, response schemas, valid data accepted and
invalid data refused, unknown methods, missing authentication), positive and negative data, and
sequences of calls linked by the ids the answers carry.

`make test` runs a few examples per operation, without the coverage phase; `make fuzz` runs every
phase with many more examples (`REMIT_FUZZ_EXAMPLES`, `REMIT_FUZZ_PHASES`). The deliberate
deviations it accepts are listed, with their reasons, in `tests/e2e/fuzzing_hooks.py` and
docs/fuzzing.md; any other failure fails this test with schemathesis's report, each failure with a
curl command that reproduces it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.e2e.fuzzing import run_schemathesis
from tests.e2e.local_stack import RunningLocalStack

pytestmark = pytest.mark.e2e

EXAMPLES = int(os.environ.get("REMIT_FUZZ_EXAMPLES", "5"))
# `make fuzz` adds the coverage phase, which takes minutes whatever the number of examples.
PHASES = os.environ.get("REMIT_FUZZ_PHASES", "examples,fuzzing,stateful")


def test_schemathesis_finds_no_failure_in_any_operation(stack: RunningLocalStack, tmp_path: Path) -> None:
    printed_key = stack.log().count(stack.dev_api_key)  # the banner shows it, once for the user

    run = run_schemathesis(stack.base_url, stack.dev_api_key, tmp_path, EXAMPLES, PHASES)

    print(run.output)  # the report, shown by `make fuzz` (pytest -s) and on failure
    assert run.exit_code == 0, run.output
    for report in run.report["runs"]:
        assert report.get("operations", {}).get("selected", 0) >= 49, report.get("operations")
    assert "Something went wrong on our side" not in stack.log()
    # Thousands of requests carried the key: none of them logged it.
    assert stack.log().count(stack.dev_api_key) == printed_key
