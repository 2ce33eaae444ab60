"""E-invoice validation: what the validator function weighs, how long it takes to load and to check.

* Size: the function's one layer (Saxon-HE, lxml, the rules with the compiled Schematron, the
  `remit` modules, pydantic and Powertools: arm64 wheels, staged as `make build` stages it, or the
  one `--layer-dir` names) and its code, unzipped and zipped, against Lambda's 250 MB unzipped
  limit for a function with all its layers; the shared layer (which it does not carry) for scale.
* Cold start: a fresh interpreter imports the engine and loads the XSDs and compiles the five
  rule stylesheets (`EinvoiceRules()`), as the function's init phase does.
* Warm: the time to validate one document, per format, median of `--repeat` runs over the
  official examples of that format.
* Peak memory: the child's peak resident set (`VmHWM`) after loading and validating.

Figures only, never a pass or fail.

    python -m benchmarks einvoice_validation [--repeat N] [--layer-dir .aws-sam/einvoice-rules-layer]
"""

from __future__ import annotations

import argparse
import importlib.metadata
import io
import json
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Iterable
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent
LAMBDA_UNZIPPED_LIMIT_MB = 250
DEFAULT_REPEAT = 20
RULES_PACKAGES = ("saxonche", "lxml")

_CHILD = r"""
import json, statistics, sys, time
from pathlib import Path

repeat = int(sys.argv[1])
started = time.perf_counter()
from remit.adapters.einvoice_rules import EinvoiceRules
imported = time.perf_counter()
engine = EinvoiceRules()
loaded = time.perf_counter()
peak_loaded = int(Path("/proc/self/status").read_text().split("VmHWM:")[1].split()[0])

examples = Path("tests/fixtures/einvoices")
cases = {
    "facturx": sorted((examples / "en16931-cii").glob("*.xml")),
    "xrechnung_cii": sorted((examples / "xrechnung").glob("*_uncefact.xml")),
    "xrechnung_ubl": sorted((examples / "xrechnung").glob("*_ubl.xml")),
    "peppol_ubl": sorted((examples / "peppol").glob("*.xml")),
}
warm = {}
first = None
for name, paths in cases.items():
    documents = [path.read_bytes() for path in paths]
    timings = []
    for _ in range(repeat):
        for document in documents:
            begin = time.perf_counter()
            report = engine.validate(name, document)
            elapsed = time.perf_counter() - begin
            if first is None:
                first = elapsed
            timings.append(elapsed)
            assert report.valid, (name, report.failed_rules[:3])
    warm[name] = {
        "documents": len(documents),
        "median_ms": statistics.median(timings) * 1000,
        "p95_ms": sorted(timings)[int(len(timings) * 0.95) - 1] * 1000,
        "kb": sum(len(d) for d in documents) // len(documents) // 1024,
    }
peak = int(Path("/proc/self/status").read_text().split("VmHWM:")[1].split()[0])
print(json.dumps({
    "import_s": imported - started, "load_s": loaded - imported, "first_ms": first * 1000,
    "peak_loaded_kib": peak_loaded, "peak_kib": peak, "warm": warm,
}))
"""


def _files_size(paths: Iterable[Path], root: Path) -> tuple[int, int]:
    """Unzipped bytes of `paths`, and the size of a zip of them (names relative to `root`)."""
    unzipped = 0
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in paths:
            if not path.is_file():
                continue
            unzipped += path.stat().st_size
            archive.write(path, path.relative_to(root).as_posix() if path.is_relative_to(root) else path.name)
    return unzipped, len(buffer.getvalue())


def _tree(folder: Path, skip: tuple[str, ...] = ("__pycache__",)) -> list[Path]:
    return [path for path in folder.rglob("*") if path.is_file() and not set(path.parts) & set(skip)]


def _installed(names: Iterable[str]) -> list[Path]:
    files: list[Path] = []
    for name in names:
        distribution = importlib.metadata.distribution(name)
        for entry in distribution.files or []:
            path = Path(str(distribution.locate_file(entry)))
            if "__pycache__" not in path.parts and path.is_file():
                files.append(path)
    return files


def _requirement_names(requirements: Path) -> list[str]:
    names = []
    for line in requirements.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            names.append(line.split("==", 1)[0].split("[", 1)[0])
    return names


def _sizes(layer_dir: Path | None) -> tuple[str, dict[str, tuple[int, int]]]:
    """The validator function's parts, unzipped and zipped: its layer (staged as `make build` does,
    arm64 wheels, unless `layer_dir` is one already staged) and its code; the shared layer for
    comparison (this machine's installed wheels and `shared/`).
    """
    from tools.einvoice_rules import stage_layer

    with tempfile.TemporaryDirectory() as scratch:
        if layer_dir is None:
            layer_dir = Path(scratch) / "layer"
            stage_layer(layer_dir)
            source = "the rules layer staged afresh (arm64 wheels)"
        else:
            source = f"the rules layer staged in {layer_dir}"
        layer = _files_size(_tree(layer_dir, ()), layer_dir)
    code = _files_size(_tree(REPOSITORY / "functions"), REPOSITORY)
    shared = _tree(REPOSITORY / "shared") + _installed(
        _requirement_names(REPOSITORY / "shared" / "requirements.txt")
    )
    return source, {
        "EinvoiceRulesLayer": layer,
        "EinvoiceValidatorFunction code": code,
        "(SharedLayer, not attached)": _files_size(shared, REPOSITORY),
    }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks einvoice_validation")
    parser.add_argument("--repeat", type=int, default=DEFAULT_REPEAT, help="runs over each format's examples")
    parser.add_argument("--layer-dir", type=Path, default=None, help="a staged rules layer to measure")
    options, _ = parser.parse_known_args(argv)

    source, sizes = _sizes(options.layer_dir)
    print(f"sizes ({source}):")
    total = 0
    for name, (unzipped, zipped) in sizes.items():
        if not name.startswith("("):
            total += unzipped
        print(f"  {name:32} {unzipped / 1e6:7.1f} MB unzipped  {zipped / 1e6:6.1f} MB zipped")
    print(
        f"  {'validator function, all layers':32} {total / 1e6:7.1f} MB unzipped "
        f"(Lambda's limit {LAMBDA_UNZIPPED_LIMIT_MB} MB: "
        f"{LAMBDA_UNZIPPED_LIMIT_MB - total / 1e6:.0f} MB to spare)"
    )

    completed = subprocess.run(
        [sys.executable, "-c", _CHILD, str(options.repeat)],
        capture_output=True,
        text=True,
        cwd=REPOSITORY,
        check=False,
    )
    if completed.returncode != 0:
        print(
            f"einvoice_validation: the measuring process failed:\n{completed.stderr[-2000:]}", file=sys.stderr
        )
        return 1
    figures = json.loads(completed.stdout.strip().splitlines()[-1])
    print(
        f"cold start: import {figures['import_s']:.2f} s, load XSDs and compile the rules "
        f"{figures['load_s']:.2f} s, first document {figures['first_ms']:.0f} ms"
    )
    print(
        f"peak memory: {figures['peak_loaded_kib'] / 1024:.0f} MB loaded, "
        f"{figures['peak_kib'] / 1024:.0f} MB after validating"
    )
    print(f"warm, per document (median and p95 of {options.repeat} runs over the official examples):")
    for name, warm in figures["warm"].items():
        print(
            f"  {name:14} {warm['median_ms']:6.1f} ms  p95 {warm['p95_ms']:6.1f} ms"
            f"  ({warm['documents']} documents, {warm['kb']} KB on average)"
        )
    _through_the_child_process(options.repeat)
    return 0


def _through_the_child_process(repeat: int) -> None:
    """The local stack's path: the same document through `ProcessEinvoiceValidator` (pipe and JSON)."""
    from remit.adapters.process_einvoice_validator import ProcessEinvoiceValidator

    document = (
        REPOSITORY / "tests" / "fixtures" / "einvoices" / "xrechnung" / "01.01a-INVOICE_ubl.xml"
    ).read_bytes()
    validator = ProcessEinvoiceValidator()
    try:
        started = time.perf_counter()
        validator.validate("xrechnung_ubl", document)
        first = time.perf_counter() - started
        timings = []
        for _ in range(repeat * 5):
            started = time.perf_counter()
            validator.validate("xrechnung_ubl", document)
            timings.append(time.perf_counter() - started)
    finally:
        validator.close()
    print(
        f"through the child process (local stack, tests): first call {first:.2f} s (starts the child), "
        f"then {statistics.median(timings) * 1000:.1f} ms a document (median of {len(timings)})"
    )


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
