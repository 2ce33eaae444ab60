"""Documents: the peak memory of drawing an invoice PDF, with no logo and with the largest logo.

Target: the PDF of an invoice with the largest logo an upload can leave peaks under 100 MB (a
process's whole resident memory; the functions have 256 MB). Any upload is stored fitted into
`LOGO_BOX`, 720 x 240 pixels; the worst case is that box filled with incompressible RGBA pixels,
which an SVG embedding a photograph of noise can produce. Also shown: preparing the largest upload
(4,000,000 pixels, PNG and JPEG, under 1 MB), and for comparison the logo the API stored before
pixels were limited (4096 x 4096, drawn as uploaded).

Each figure is one fresh interpreter, as a Lambda cold start is: it reads the input made for it,
does the work once and reports its peak resident memory (`VmHWM`). Memory, not time: figures only,
never a pass or fail.

    python -m benchmarks documents [--repeat N]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent
TARGET_MB = 100
DEFAULT_REPEAT = 3

# Runs in the child: read the input the parent made, do the work once, print the peak RSS.
_CHILD = r"""
import json, sys
from datetime import date
from decimal import Decimal
from pathlib import Path

case, path = sys.argv[1], sys.argv[2]
content = Path(path).read_bytes() if path else None


def document():
    from remit.domain.documents import DocumentParty, InvoiceDocument
    from remit.domain.invoice import priced_line

    lines = [
        priced_line(f"li_{n}", f"Consulting, week {n}", Decimal("7.5"), 12000, Decimal("20"), None)
        for n in range(12)
    ]
    subtotal, tax = sum(line.amount for line in lines), sum(line.tax_amount for line in lines)
    return InvoiceDocument(
        organisation_id="org_bench", invoice_id="inv_bench",
        seller=DocumentParty(name="Acme Ltd", email="billing@acme.test"),
        buyer=DocumentParty(name="Globex GmbH", email="ap@globex.test"),
        brand_colour="#0F766E", logo_url=None, number="ACME-00042", status="open", currency="EUR",
        issue_date=date(2026, 3, 31), due_date=date(2026, 4, 30), overdue=False, lines=lines,
        tax_breakdown=[{"tax_rate": "20", "taxable_amount": subtotal, "tax_amount": tax}],
        subtotal=subtotal, tax_total=tax, total=subtotal + tax, credit_applied=0, amount_paid=0,
        amount_due=subtotal + tax, memo=None, footer=None, hosted_url="https://x.test/i/t",
        pdf_url="https://x.test/i/t/pdf", bank_transfer=None, cheque=None, card_payments=False,
    )


if case.startswith("pdf"):
    from remit.adapters.pdf_invoice import FpdfInvoiceRenderer

    made = FpdfInvoiceRenderer().render(document(), (content, "image/png") if content else None)
    detail = f"{len(made) // 1024} KB PDF"
else:
    from remit.adapters.images import LogoImages

    prepared = LogoImages().prepare(content, "image/jpeg" if case.endswith("jpeg") else "image/png")
    detail = f"{len(content) // 1024} KB upload -> {prepared.width} x {prepared.height}"
# VmHWM: this process image's own peak (ru_maxrss would carry the parent's over from before exec).
peak_kib = int(Path("/proc/self/status").read_text().split("VmHWM:")[1].split()[0])
print(json.dumps({"peak_kib": peak_kib, "detail": detail}))
"""

CASES = {
    "pdf-no-logo": "invoice PDF, no logo",
    "pdf-largest-logo": "invoice PDF, largest stored logo (720 x 240 RGBA noise)",
    "upload-png": "logo upload, 2000 x 2000 PNG prepared",
    "upload-jpeg": "logo upload, 2000 x 2000 JPEG prepared",
    "pdf-unlimited-logo": "for comparison: PDF with a 4096 x 4096 logo as stored before",
}


def _inputs(directory: Path) -> dict[str, Path | None]:
    """The image each case starts from, made here so that the measured process only reads it."""
    import io
    import random

    from PIL import Image

    from remit.domain.logos import LOGO_BOX

    def encoded(image: Image.Image, image_format: str, **options: object) -> bytes:
        buffer = io.BytesIO()
        image.save(buffer, image_format, **options)
        return buffer.getvalue()

    def noise(width: int, height: int, mode: str) -> Image.Image:
        pixels = random.Random(7).randbytes(width * height * len(mode))  # noqa: S311 - noise, not secrets
        return Image.frombytes(mode, (width, height), pixels)

    # 4,000,000 pixels under the 1 MB an upload may have: a gradient (PNG), coarse noise (JPEG).
    gradient_row = bytes(x * 255 // 2000 for x in range(2000))
    gradient = Image.frombytes("L", (2000, 2000), gradient_row * 2000).convert("RGB")
    images = {
        "pdf-largest-logo": encoded(noise(*LOGO_BOX, "RGBA"), "PNG"),
        "upload-png": encoded(gradient, "PNG", optimize=True),
        "upload-jpeg": encoded(noise(2000, 2000, "RGB"), "JPEG", quality=5),
        "pdf-unlimited-logo": encoded(Image.new("RGB", (4096, 4096), (11, 110, 79)), "PNG", optimize=True),
    }
    paths: dict[str, Path | None] = dict.fromkeys(CASES)
    for case, content in images.items():
        paths[case] = directory / f"{case}.bin"
        paths[case].write_bytes(content)  # type: ignore[union-attr]
    return paths


def _peak(case: str, path: Path | None) -> tuple[float, str]:
    completed = subprocess.run(
        [sys.executable, "-c", _CHILD, case, str(path or "")],
        cwd=REPOSITORY,
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"{case}: {completed.stderr.strip().splitlines()[-1:]}")
    report = json.loads(completed.stdout.strip().splitlines()[-1])
    return report["peak_kib"] / 1024, report["detail"]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks documents", description=__doc__)
    parser.add_argument(
        "--repeat", type=int, default=DEFAULT_REPEAT, help=f"runs of each (default {DEFAULT_REPEAT})"
    )
    args = parser.parse_args(argv)
    print(
        f"{sys.executable} ({sys.version.split()[0]}), peak RSS of a fresh process, median of {args.repeat}"
    )
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="remit-bench-documents-") as directory:
        inputs = _inputs(Path(directory))
        for case, label in CASES.items():
            try:
                runs = [_peak(case, inputs[case]) for _ in range(args.repeat)]
            except RuntimeError as failed:
                print(f"could not be measured: {failed}")
                return 1
            figures[case] = statistics.median(peak for peak, _ in runs)
            print(f"  {label:<62} {figures[case]:6.1f} MB   ({runs[0][1]})")
    largest = figures["pdf-largest-logo"]
    verdict = "within" if largest < TARGET_MB else "OVER"
    print(f"  PDF with the largest logo: {largest:.0f} MB peak, {verdict} the {TARGET_MB} MB target")
    return 0
