"""Schemathesis against a running local stack: the seed data, its configuration, and one run.

Used by `tests/e2e/test_api_fuzzing.py` (a bounded run inside `make test`) and by `make fuzz` (the
same module with more examples per operation, `REMIT_FUZZ_EXAMPLES`).

Random ids in paths would make nearly every operation answer 404 and test nothing deeper, so the
run is given real ids: an organisation with a customer, a charge, a draft invoice, a billing
template, a subscription and a billing run, created first. Schemathesis then generates everything
else from `/openapi.json`: valid and invalid bodies, queries and headers, unknown methods, missing
authentication, and sequences of calls linked by the ids the answers carry.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from tests.e2e.local_stack import REPOSITORY_ROOT

HOOKS_MODULE = "tests.e2e.fuzzing_hooks"


@dataclass
class FuzzRun:
    """The outcome of one schemathesis run."""

    exit_code: int
    output: str
    report: dict[str, Any]


def seed(base_url: str, api_key: str) -> dict[str, str]:
    """Create one of each resource and answer the path parameters that name them."""
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {api_key}"

    def post(path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = session.post(base_url + path, json=body, timeout=30)
        assert response.status_code in (201, 202), f"{path}: {response.status_code} {response.text}"
        answer: dict[str, Any] = response.json()
        return answer

    organisation = post("/v1/organisations", {"name": "Fuzz Ltd", "default_currency": "EUR"})
    org = f"/v1/organisations/{organisation['id']}"
    customer = post(f"{org}/customers", {"name": "Globex GmbH", "email": "ap@globex.test"})
    charge = post(
        f"{org}/customers/{customer['id']}/charges", {"description": "Consulting", "unit_amount": 12_000}
    )
    invoice = post(
        f"{org}/invoices",
        {"customer_id": customer["id"], "line_items": [{"description": "Support", "unit_amount": 5_000}]},
    )
    template = post(
        f"{org}/billing_templates",
        {
            "name": "Monthly support",
            "currency": "EUR",
            "line_items": [{"description": "Support", "unit_amount": 9_900}],
        },
    )
    subscription = post(
        f"{org}/subscriptions",
        {
            "customer_id": customer["id"],
            "line_items": [{"description": "Hosting", "unit_amount": 2_500}],
            "period": 1,
            "period_units": "months",
            "start_date": "2026-12-01",
        },
    )
    run = post(
        f"{org}/billing",
        {
            "customer_ids": [customer["id"]],
            "currency": "EUR",
            "line_items": [{"description": "Audit", "unit_amount": 30_000}],
        },
    )
    return {
        "organisation_id": organisation["id"],
        "customer_id": customer["id"],
        "charge_id": charge["id"],
        "invoice_id": invoice["id"],
        "template_id": template["id"],
        "subscription_id": subscription["id"],
        "run_id": run["id"],
    }


def configuration(base_url: str, api_key: str, path_parameters: dict[str, str], examples: int) -> str:
    """A schemathesis.toml: every check, positive and negative data, the seeded ids in paths."""
    lines = [
        f'base-url = "{base_url}"',
        "seed = 20261201",
        "workers = 1",
        "",
        "[headers]",
        f'Authorization = "Bearer {api_key}"',
        "",
        "[generation]",
        'mode = "all"',
        f"max-examples = {examples}",
        "deterministic = true",
        "",
        "[checks]",
        "enabled = true",
        "",
        "[parameters]",
        *(f'"path.{name}" = "{value}"' for name, value in sorted(path_parameters.items())),
    ]
    return "\n".join(lines) + "\n"


ALL_PHASES = "examples,coverage,fuzzing,stateful"


def run_schemathesis(
    base_url: str,
    api_key: str,
    work_dir: Path,
    examples: int,
    phases: str = ALL_PHASES,
    only_paths: str | None = None,
) -> FuzzRun:
    """Seed the stack, then run `schemathesis run` over every operation of its `/openapi.json`.

    `phases`: the coverage phase (every constraint broken one at a time, boundary values) takes
    minutes whatever `examples` says; `make test` leaves it to `make fuzz`. The stateful phase runs
    on its own, without the seeded ids: its sequences carry the ids of what they created, which
    pinned path parameters would replace.
    """
    seeded = seed(base_url, api_key)
    chosen = phases.split(",")
    runs = []
    single = [phase for phase in chosen if phase != "stateful"]
    if single:
        runs.append(
            _run(base_url, api_key, work_dir / "single", examples, ",".join(single), seeded, only_paths)
        )
    if "stateful" in chosen:
        runs.append(_run(base_url, api_key, work_dir / "stateful", examples, "stateful", {}, only_paths))
    return FuzzRun(
        max(run.exit_code for run in runs),
        "\n".join(run.output for run in runs),
        {"runs": [run.report for run in runs]},
    )


def _run(
    base_url: str,
    api_key: str,
    work_dir: Path,
    examples: int,
    phases: str,
    path_parameters: dict[str, str],
    only_paths: str | None = None,
) -> FuzzRun:
    work_dir.mkdir(parents=True, exist_ok=True)
    config_path = work_dir / "schemathesis.toml"
    config_path.write_text(configuration(base_url, api_key, path_parameters, examples))
    report_path = work_dir / "schemathesis-report.json"
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "schemathesis.cli",
            "--config-file",
            str(config_path),
            "run",
            f"{base_url}/openapi.json",
            "--checks",
            "all",
            "--phases",
            phases,
            "--report",
            "json",
            "--report-json-path",
            str(report_path),
            "--output-truncate",
            "false",
            # `only_paths`: the operations whose path matches this regular expression, alone.
            *(["--include-path-regex", only_paths] if only_paths else []),
        ],
        cwd=REPOSITORY_ROOT,
        env={**_environment(), "SCHEMATHESIS_HOOKS": HOOKS_MODULE},
        capture_output=True,
        text=True,
        check=False,
    )
    report = json.loads(report_path.read_text()) if report_path.exists() else {}
    return FuzzRun(completed.returncode, completed.stdout + completed.stderr, report)


def _environment() -> dict[str, str]:
    environment = dict(os.environ)
    environment["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(REPOSITORY_ROOT), environment.get("PYTHONPATH")])
    )
    return environment
