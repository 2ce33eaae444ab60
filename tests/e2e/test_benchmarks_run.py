"""`make bench`'s billing benchmarks still run, at a tiny size: a benchmark broken by a change of
the code it drives would otherwise go unnoticed until someone wants its figures.

Only that each runs to the end and prints its figures is asserted; the figures themselves are read
from `make bench`, never asserted in a test.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.e2e.local_stack import REPOSITORY_ROOT

pytestmark = pytest.mark.e2e

TINY = {
    "write_units": (["--small", "2", "--large", "3", "--emailed", "1"], "write units per recurring invoice"),
    "billing": (
        ["--subscriptions", "6", "--bulk", "6", "--one-organisation", "8"],
        "ratio together/one by one",
    ),
    "planner": (["--sizes", "200,2000", "--organisations", "20"], "peak of one invocation"),
    "exports": (["--invoices", "50"], "organisation.jsonl"),
    "customer_import": (["--rows", "20"], "memory of a part"),
}


@pytest.mark.parametrize("name", sorted(TINY))
def test_a_billing_benchmark_runs_to_its_figures_at_a_tiny_size(name: str) -> None:
    arguments, last_figure = TINY[name]
    environment = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPOSITORY_ROOT / "functions"), str(REPOSITORY_ROOT)]),
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
    }
    environment.pop("AWS_ENDPOINT_URL", None)

    completed = subprocess.run(
        [sys.executable, "-m", "benchmarks", name, *arguments],
        cwd=REPOSITORY_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    assert completed.returncode == 0, completed.stderr[-3000:]
    assert last_figure in completed.stdout, completed.stdout[-3000:]
