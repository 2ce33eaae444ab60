"""`make einvoice-rules`: the formats' Schematron rules compiled to XSLT 2.0 with SchXslt and Saxon.

XRechnung (CII and UBL) and Peppol BIS Billing 3.0 publish their rules as Schematron (`.sch`);
SchXslt's pipeline (include, expand, compile for SVRL) turns each into an XSLT stylesheet that
reports every failed assert in SVRL, which the validator's engine (`remit.adapters.einvoice_rules`)
runs. The output goes to `einvoice_rules/build/` (git-ignored): it is derived, never committed. A
stylesheet newer than its sources is left alone, so the target costs nothing once built.

    python -m tools.einvoice_rules [--force]
    python -m tools.einvoice_rules layer DIRECTORY [--x86_64]

`layer` stages the rules layer that `EinvoiceValidatorFunction` runs with, and nothing else: it is
the function's only layer (the shared layer's fonts, PDF and image libraries would take it over
Lambda's 250 MB). DIRECTORY/python gets the arm64 wheels of the engine (Saxon-HE, lxml) and of
what the handler imports (pydantic, Powertools' logger), pinned as `einvoice_rules/requirements.txt`
and `shared/requirements.txt` pin them; the `remit` package's Python modules; and the rules with
their compiled stylesheets under `einvoice_rules/` (REMIT_EINVOICE_RULES_DIR on Lambda).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent
RULES = REPOSITORY / "einvoice_rules"
BUILD = RULES / "build"
SCHXSLT_PIPELINE = RULES / "schxslt" / "xslt2" / "pipeline-for-svrl.xsl"

# Compiled stylesheet (in BUILD) -> its Schematron source and the files it includes.
SOURCES: dict[str, tuple[Path, ...]] = {
    "xrechnung-cii.xsl": (
        RULES / "xrechnung" / "schematron" / "cii" / "XRechnung-CII-validation.sch",
        RULES / "xrechnung" / "schematron" / "common.sch",
    ),
    "xrechnung-ubl.xsl": (
        RULES / "xrechnung" / "schematron" / "ubl" / "XRechnung-UBL-validation.sch",
        RULES / "xrechnung" / "schematron" / "common.sch",
    ),
    "peppol-ubl.xsl": (RULES / "peppol" / "PEPPOL-EN16931-UBL.sch",),
}


def _stale(target: Path, sources: tuple[Path, ...]) -> bool:
    if not target.exists():
        return True
    newest = max(path.stat().st_mtime for path in (*sources, *SCHXSLT_PIPELINE.parent.rglob("*.xsl")))
    return target.stat().st_mtime < newest


def compile_rules(force: bool = False) -> list[Path]:
    """Compile every stale Schematron source; returns the stylesheets written."""
    stale = {name: sources for name, sources in SOURCES.items() if force or _stale(BUILD / name, sources)}
    if not stale:
        return []
    from saxonche import PySaxonProcessor  # ~100 MB, only loaded when something is stale

    processor = PySaxonProcessor(license=False)
    pipeline = processor.new_xslt30_processor().compile_stylesheet(stylesheet_file=str(SCHXSLT_PIPELINE))
    BUILD.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for name, sources in stale.items():
        compiled = pipeline.transform_to_string(source_file=str(sources[0]))
        if not compiled or "http://www.w3.org/1999/XSL/Transform" not in compiled:
            raise RuntimeError(f"SchXslt produced no stylesheet from {sources[0]}")
        target = BUILD / name
        partial = target.with_suffix(".tmp")
        partial.write_text(compiled, encoding="utf-8")
        partial.replace(target)
        written.append(target)
    return written


# What the validator function imports besides the engine, pinned in shared/requirements.txt.
LAYER_SHARED_PACKAGES = (
    "pydantic",
    "pydantic-core",
    "annotated-types",
    "typing-extensions",
    "typing-inspection",
    "aws-lambda-powertools",
    "jmespath",
)
# The function runs on arm64 (template.yaml's Globals) under Amazon Linux 2023 (glibc 2.34); Saxon's
# wheel is manylinux_2_24, which SAM's own pip build (manylinux2014) does not accept.
LAYER_PLATFORMS = ("manylinux_2_28_aarch64", "manylinux_2_24_aarch64", "manylinux2014_aarch64")


def _pins(requirements: Path, names: tuple[str, ...] | None = None) -> list[str]:
    pins = []
    for line in requirements.read_text(encoding="utf-8").splitlines():
        requirement = line.split("#", 1)[0].strip()
        if not requirement or requirement.startswith("-"):
            continue
        name = requirement.split("==", 1)[0].strip().lower()
        if names is None or name in names:
            pins.append(requirement)
    if names is not None and len(pins) != len(names):
        raise RuntimeError(f"{requirements} does not pin all of {', '.join(names)}")
    return pins


def stage_layer(directory: Path, platforms: tuple[str, ...] = LAYER_PLATFORMS) -> Path:
    """Write the rules layer's content into `directory` (emptied first); returns its `python/`.

    `platforms`: the wheels' platform tags (x86_64 ones stage a layer this machine can run, to try it).
    """
    compile_rules()
    if directory.exists():
        shutil.rmtree(directory)
    python = directory / "python"
    python.mkdir(parents=True)
    pins = _pins(RULES / "requirements.txt") + _pins(
        REPOSITORY / "shared" / "requirements.txt", LAYER_SHARED_PACKAGES
    )
    subprocess.run(  # noqa: S603 - our own interpreter's pip, with pinned requirements
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--only-binary=:all:",
            *(option for platform in platforms for option in ("--platform", platform)),
            "--implementation",
            "cp",
            "--python-version",
            "3.13",
            "--target",
            str(python),
            *pins,
        ],
        check=True,
    )
    shutil.copytree(
        REPOSITORY / "shared" / "remit",
        python / "remit",
        ignore=lambda folder, names: [
            name
            for name in names
            if name == "__pycache__" or (Path(folder, name).is_file() and not name.endswith(".py"))
        ],
    )
    shutil.copytree(RULES, python / "einvoice_rules", ignore=shutil.ignore_patterns("*.tmp", "__pycache__"))
    return python


def main(argv: list[str]) -> int:
    if argv[:1] == ["layer"]:
        if len(argv) not in (2, 3) or argv[2:] not in ([], ["--x86_64"]):
            print("usage: python -m tools.einvoice_rules layer DIRECTORY [--x86_64]", file=sys.stderr)
            return 2
        platforms = (
            tuple(tag.replace("aarch64", "x86_64") for tag in LAYER_PLATFORMS)
            if argv[2:]
            else LAYER_PLATFORMS
        )
        python = stage_layer(Path(argv[1]), platforms)
        print(f"einvoice rules: layer staged in {python.parent}")
        return 0
    written = compile_rules(force="--force" in argv)
    for path in written:
        print(f"einvoice rules: compiled {path.relative_to(RULES.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
