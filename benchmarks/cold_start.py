"""Cold start: what importing each function's handler costs against the reference handler.

Budget: importing a function's handler module costs at most 1.0x importing
`benchmarks/reference_handler.py`, the handler any team would write with Powertools (one validated
REST route, Logger, Tracer, Metrics, the idempotency utility with DynamoDB persistence). Each sample
is a fresh interpreter, as a Lambda cold start is. The child times its own imports (interpreter
start-up is the same for both and is left out) and reports its wall time, its CPU time and its peak
resident memory. Reference and handler runs alternate, so that a machine getting busier or quieter
affects both alike, and the medians are compared within one run. On a shared machine the CPU-time
ratio is the steadier of the two; both are printed.

A function whose first answer loads more than its import (the dashboard renders its first page
with Jinja2 and Babel, and wires the services) is also measured as import plus that first answer
(`FIRST_ANSWERS`: the handler called with a sample event from `events/`, which needs no AWS call),
against the same reference import.

    python -m benchmarks cold_start [--repeat N] [--module api.app ...]
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent
FUNCTIONS = REPOSITORY / "functions"

REFERENCE_MODULE = "benchmarks.reference_handler"
BUDGET_RATIO = 1.0
DEFAULT_REPEAT = 11

# Installed in the development environment (as SAM CLI's dependencies) but not in the Lambda
# runtime. boto3 and urllib3 import them when present, which would make both sides heavier than
# they are in Lambda; the child makes them unimportable, as they are there.
ABSENT_IN_LAMBDA: tuple[str, ...] = ("awscrt", "OpenSSL")

# A handler measured as its import and its first answer: label -> (module, sample event).
FIRST_ANSWERS: dict[str, tuple[str, str]] = {
    "dashboard.app + GET sign-in": ("dashboard.app", "events/dashboard/sign_in_page.json"),
}

# Runs in the child: import (and answer the sample event, if given), then report elapsed time and
# peak RSS as one JSON line. A first answer must be a 200, or the child fails.
_CHILD = """
import importlib, json, resource, sys, time, types
absent, module, event_path = sys.argv[1].split(","), sys.argv[2], sys.argv[3]
for name in absent:
    sys.modules[name] = None
event = json.load(open(event_path)) if event_path else None
context = types.SimpleNamespace(
    function_name="remit-bench", memory_limit_in_mb=256, aws_request_id="bench",
    invoked_function_arn="arn:aws:lambda:eu-west-1:123456789012:function:remit-bench",
)
started, started_cpu = time.perf_counter(), time.process_time()
handler = importlib.import_module(module)
if event is not None:
    answer = handler.lambda_handler(event, context)
    if answer["statusCode"] != 200:
        raise SystemExit(f"the first answer was {answer['statusCode']}, not 200")
elapsed, cpu = time.perf_counter() - started, time.process_time() - started_cpu
peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"seconds": elapsed, "cpu_seconds": cpu, "peak_rss_kib": peak_kib}))
"""


def handler_modules() -> tuple[str, ...]:
    """Every function's handler module, as the template's `Handler:` names them (`notifications.app`
    for `notifications.app.lambda_handler`); a package may hold two functions' handlers."""
    from local.cloudformation import load_template

    handlers = {
        str(resource["Properties"]["Handler"]).rsplit(".", 1)[0]
        for resource in load_template()["Resources"].values()
        if resource.get("Type") == "AWS::Serverless::Function"
    }
    return tuple(sorted(handlers))


@dataclass(frozen=True)
class Sample:
    seconds: float
    cpu_seconds: float
    peak_rss_kib: int


@dataclass(frozen=True)
class Series:
    samples: list[Sample]

    @property
    def wall_ms(self) -> float:
        return statistics.median(sample.seconds for sample in self.samples) * 1000

    @property
    def cpu_ms(self) -> float:
        return statistics.median(sample.cpu_seconds for sample in self.samples) * 1000

    @property
    def peak_rss_mib(self) -> float:
        return statistics.median(sample.peak_rss_kib for sample in self.samples) / 1024

    def spread(self) -> str:
        times = [sample.seconds * 1000 for sample in self.samples]
        return f"min {min(times):.0f}, max {max(times):.0f}"


class ImportFailedError(RuntimeError):
    pass


def _child_environment(bytecode: str, pycache: str) -> dict[str, str]:
    """The environment a deployed function sees, minus anything that would reach AWS.

    `bytecode`: "cached" compiles every module once (in the warm-up, into `pycache`) and then loads
    bytecode, as a package that ships .pyc files does; "source" compiles every module on every
    import (`pycache` stays empty), as code shipped without .pyc files does on a read-only disk.
    """
    env = dict(os.environ)
    env["PYTHONPYCACHEPREFIX"] = pycache
    if bytecode == "cached":
        env.pop("PYTHONDONTWRITEBYTECODE", None)
    else:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    # The tracer must load as it does in Lambda: not disabled, and in the X-Ray SDK's Lambda mode
    # (which `LAMBDA_TASK_ROOT` selects). Outside that mode the SDK builds a full recorder and
    # sampler at import, ~100 ms that a deployed function never pays. In Lambda mode the SDK
    # touches /tmp/.aws-xray/initialized, as it does in Lambda.
    env.pop("POWERTOOLS_TRACE_DISABLED", None)
    env.update(
        {
            "LAMBDA_TASK_ROOT": str(FUNCTIONS),
            "PYTHONPATH": os.pathsep.join(
                [str(FUNCTIONS), str(REPOSITORY / "shared"), str(REPOSITORY), env.get("PYTHONPATH", "")]
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
            "IDEMPOTENCY_TABLE": "remit-bench-idempotency",
        }
    )
    return env


def _measure(measured: str, env: dict[str, str]) -> Sample:
    """One fresh interpreter's sample of `measured`: a module's import, or a `FIRST_ANSWERS` label."""
    module, event = FIRST_ANSWERS.get(measured, (measured, ""))
    event_path = str(REPOSITORY / event) if event else ""
    completed = subprocess.run(
        [sys.executable, "-c", _CHILD, ",".join(ABSENT_IN_LAMBDA), module, event_path],
        env=env,
        cwd=REPOSITORY,
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        last_line = completed.stderr.strip().splitlines()[-1] if completed.stderr.strip() else "no output"
        raise ImportFailedError(f"{measured}: {last_line}")
    report = json.loads(completed.stdout.strip().splitlines()[-1])
    return Sample(
        seconds=report["seconds"], cpu_seconds=report["cpu_seconds"], peak_rss_kib=report["peak_rss_kib"]
    )


def measure(handlers: list[str], repeat: int, env: dict[str, str]) -> dict[str, Series]:
    """`repeat` samples of the reference and of each handler, interleaved round by round.

    Each round imports the reference and every handler once, in an order that rotates from round
    to round; one unmeasured warm-up of each fills the file-system caches first.
    """
    modules = [REFERENCE_MODULE, *handlers]
    for module in modules:
        _measure(module, env)
    samples: dict[str, list[Sample]] = {module: [] for module in modules}
    for round_number in range(repeat):
        shift = round_number % len(modules)
        for module in modules[shift:] + modules[:shift]:
            samples[module].append(_measure(module, env))
    return {module: Series(found) for module, found in samples.items()}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks cold_start", description=__doc__)
    parser.add_argument(
        "--repeat", type=int, default=DEFAULT_REPEAT, help=f"samples of each (default {DEFAULT_REPEAT})"
    )
    parser.add_argument(
        "--module",
        dest="modules",
        action="append",
        metavar="MODULE",
        help="handler module (or first answer) to measure, repeatable"
        f" (default: {', '.join([*handler_modules(), *FIRST_ANSWERS])})",
    )
    parser.add_argument(
        "--bytecode",
        choices=("cached", "source"),
        default="cached",
        help="load cached bytecode (default), or compile every module from source on each import",
    )
    args = parser.parse_args(argv)
    handlers: list[str] = args.modules or [*handler_modules(), *FIRST_ANSWERS]

    print(
        f"{sys.executable} ({sys.version.split()[0]}), {args.repeat} interleaved samples each, medians,"
        f" bytecode {args.bytecode}"
    )
    with tempfile.TemporaryDirectory(prefix="remit-bench-pycache-") as pycache:
        try:
            series = measure(handlers, args.repeat, _child_environment(args.bytecode, pycache))
        except ImportFailedError as error:
            print(f"could not be imported: {error}")
            return 1
    reference = series[REFERENCE_MODULE]
    print(f"  {'import (first answer)':<30} {'wall':>9} {'cpu':>9} {'peak RSS':>10}   wall spread")
    for module, found in series.items():
        print(
            f"  {module:<30} {found.wall_ms:6.0f} ms {found.cpu_ms:6.0f} ms {found.peak_rss_mib:6.1f} MiB"
            f"   ({found.spread()})"
        )
    for handler in handlers:
        found = series[handler]
        wall_ratio = found.wall_ms / reference.wall_ms
        cpu_ratio = found.cpu_ms / reference.cpu_ms
        rss_ratio = found.peak_rss_mib / reference.peak_rss_mib
        ratios = f"{wall_ratio:.2f}x the reference (wall), {cpu_ratio:.2f}x (cpu), peak RSS {rss_ratio:.2f}x"
        if handler in FIRST_ANSWERS:
            # The budget is on imports; an import and a first answer is read beside it.
            print(f"  {handler}: {ratios}; an import and a first answer, beside the import's budget")
            continue
        verdict = "within budget" if max(wall_ratio, cpu_ratio) <= BUDGET_RATIO else "OVER BUDGET"
        print(f"  {handler}: {ratios}; target {BUDGET_RATIO:.1f}x: {verdict}")
    return 0
