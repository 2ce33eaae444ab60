"""Cold start: what importing a function's handler module costs over `boto3` + `pydantic` alone.

Budget (DESIGN.md): at most 1.3x. Each sample is a fresh interpreter, as a Lambda cold start is.
The child times its own imports (interpreter start-up is the same for both and is left out) and
reports its peak resident memory. Baseline and handler runs alternate, so that a machine getting
busier or quieter affects both alike, and the medians are compared within one run.

    python -m benchmarks cold_start [--repeat N] [--module api.app ...]
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

# Handler modules of the deployed functions, as `Handler:` names them in template.yaml.
HANDLER_MODULES: tuple[str, ...] = ("api.app", "notifications.app", "payment_webhooks.app")
BASELINE_IMPORTS: tuple[str, ...] = ("boto3", "pydantic")
BUDGET_RATIO = 1.3
DEFAULT_REPEAT = 15

REPOSITORY = Path(__file__).resolve().parent.parent

# Installed in the development environment (as SAM CLI's dependencies) but not in the Lambda
# runtime. boto3 and urllib3 import them when present, which would make the baseline heavier than
# it is in Lambda; the child makes them unimportable, as they are there.
ABSENT_IN_LAMBDA: tuple[str, ...] = ("awscrt", "OpenSSL")

# Runs in the child: import, then report elapsed import time and peak RSS as one JSON line.
_CHILD = """
import importlib, json, resource, sys, time
absent, modules = sys.argv[1].split(","), sys.argv[2:]
for name in absent:
    sys.modules[name] = None
started = time.perf_counter()
for name in modules:
    importlib.import_module(name)
elapsed = time.perf_counter() - started
peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"seconds": elapsed, "peak_rss_kib": peak_kib}))
"""


@dataclass(frozen=True)
class Sample:
    seconds: float
    peak_rss_kib: int


class ImportFailedError(RuntimeError):
    pass


def _child_environment() -> dict[str, str]:
    """The environment a deployed function sees, minus anything that would reach AWS."""
    env = dict(os.environ)
    # The tracer must load as it does in Lambda: not disabled, and in the X-Ray SDK's Lambda mode
    # (which `LAMBDA_TASK_ROOT` selects). Outside that mode the SDK builds a full recorder and
    # sampler at import, ~100 ms that a deployed function never pays. In Lambda mode the SDK
    # touches /tmp/.aws-xray/initialized, as it does in Lambda.
    env.pop("POWERTOOLS_TRACE_DISABLED", None)
    env.update(
        {
            "LAMBDA_TASK_ROOT": str(REPOSITORY / "functions"),
            "PYTHONPATH": os.pathsep.join(
                [str(REPOSITORY / "functions"), str(REPOSITORY / "shared"), env.get("PYTHONPATH", "")]
            ).rstrip(os.pathsep),
            "AWS_DEFAULT_REGION": "eu-west-1",
            "AWS_REGION": "eu-west-1",
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_SESSION_TOKEN": "testing",
            "POWERTOOLS_SERVICE_NAME": "remit",
            "POWERTOOLS_METRICS_NAMESPACE": "Remit",
            "POWERTOOLS_LOG_LEVEL": "INFO",
            "REMIT_STAGE": "dev",
            "REMIT_BILLING_TABLE": "remit-bench-billing",
            "REMIT_IDEMPOTENCY_TABLE": "remit-bench-idempotency",
            "REMIT_LOGO_BUCKET": "remit-bench-logos",
            "REMIT_PUBLIC_BASE_URL": "",
        }
    )
    return env


def _measure(modules: tuple[str, ...], env: dict[str, str]) -> Sample:
    completed = subprocess.run(
        [sys.executable, "-c", _CHILD, ",".join(ABSENT_IN_LAMBDA), *modules],
        env=env,
        cwd=REPOSITORY,
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        last_line = completed.stderr.strip().splitlines()[-1] if completed.stderr.strip() else "no output"
        raise ImportFailedError(last_line)
    report = json.loads(completed.stdout.strip().splitlines()[-1])
    return Sample(seconds=report["seconds"], peak_rss_kib=report["peak_rss_kib"])


def _series(samples: list[Sample]) -> tuple[float, float, float]:
    """Median, minimum and maximum import time, in milliseconds."""
    times = [sample.seconds * 1000 for sample in samples]
    return statistics.median(times), min(times), max(times)


def measure_handler(handler: str, repeat: int, env: dict[str, str]) -> tuple[list[Sample], list[Sample]]:
    """Alternating baseline and handler samples; one unmeasured warm-up of each fills the caches."""
    baseline_modules = BASELINE_IMPORTS
    handler_modules = (*BASELINE_IMPORTS, handler)
    _measure(baseline_modules, env)
    _measure(handler_modules, env)
    baseline: list[Sample] = []
    with_handler: list[Sample] = []
    for round_number in range(repeat):
        if round_number % 2 == 0:
            baseline.append(_measure(baseline_modules, env))
            with_handler.append(_measure(handler_modules, env))
        else:
            with_handler.append(_measure(handler_modules, env))
            baseline.append(_measure(baseline_modules, env))
    return baseline, with_handler


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks cold_start", description=__doc__)
    parser.add_argument("--repeat", type=int, default=DEFAULT_REPEAT, help="samples of each (default 15)")
    parser.add_argument(
        "--module",
        dest="modules",
        action="append",
        metavar="MODULE",
        help=f"handler module to measure, repeatable (default: {', '.join(HANDLER_MODULES)})",
    )
    args = parser.parse_args(argv)
    handlers: list[str] = args.modules or list(HANDLER_MODULES)
    env = _child_environment()

    print(f"{sys.executable} ({sys.version.split()[0]}), {args.repeat} samples each, medians")
    status = 0
    for handler in handlers:
        try:
            baseline, with_handler = measure_handler(handler, args.repeat, env)
        except ImportFailedError as error:
            print(f"{handler}: could not be imported: {error}")
            status = 1
            continue
        base_median, base_min, base_max = _series(baseline)
        handler_median, handler_min, handler_max = _series(with_handler)
        ratio = handler_median / base_median
        verdict = "within budget" if ratio <= BUDGET_RATIO else "OVER BUDGET"
        peak_mib = [sample.peak_rss_kib / 1024 for sample in with_handler]
        print(
            f"  import {' + '.join(BASELINE_IMPORTS):<30} {base_median:8.1f} ms"
            f"  (min {base_min:.1f}, max {base_max:.1f})"
        )
        print(
            f"  import {'... + ' + handler:<30} {handler_median:8.1f} ms"
            f"  (min {handler_min:.1f}, max {handler_max:.1f})"
        )
        print(f"  {handler}: cold-start ratio {ratio:.2f}x (budget {BUDGET_RATIO:.2f}x): {verdict}")
        print(
            f"  {handler}: peak RSS after import {statistics.median(peak_mib):.1f} MiB"
            f" (max {max(peak_mib):.1f} MiB)"
        )
    return status
