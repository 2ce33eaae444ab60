"""`make einvoice-rules`: the formats' Schematron rules compiled to XSLT 2.0 with SchXslt and Saxon.

XRechnung (CII and UBL) and Peppol BIS Billing 3.0 publish their rules as Schematron (`.sch`);
SchXslt's pipeline (include, expand, compile for SVRL) turns each into an XSLT stylesheet that
reports every failed assert in SVRL, which the validator's engine (`remit.adapters.einvoice_rules`)
runs. The output goes to `einvoice_rules/build/` (git-ignored): it is derived, never committed. A
stylesheet newer than its sources is left alone, so the target costs nothing once built.

    python -m tools.einvoice_rules [--force]
"""

from __future__ import annotations

import sys
from pathlib import Path

RULES = Path(__file__).resolve().parent.parent / "einvoice_rules"
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


def main(argv: list[str]) -> int:
    written = compile_rules(force="--force" in argv)
    for path in written:
        print(f"einvoice rules: compiled {path.relative_to(RULES.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
