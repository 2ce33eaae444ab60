"""An exported CSV opened by a spreadsheet program (LibreOffice Calc, headless), as an accountant
opens it: the right columns, amounts as numbers, defused formulas and non-Latin names as text."""

from __future__ import annotations

import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from defusedxml import ElementTree

from tests.clocks import SettableClock
from tests.integration.api_client import ApiClient
from tests.integration.exports_helpers import downloaded
from tests.integration.test_exports_api import HOSTILE_NAME, NOVEMBER, November

SOFFICE = shutil.which("soffice")
pytestmark = pytest.mark.skipif(
    SOFFICE is None, reason="LibreOffice is not installed (apt-get install libreoffice-calc-nogui)"
)

SHEET = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"


def opened_in_calc(content: bytes, directory: Path) -> list[list[str | float]]:
    """The CSV converted by LibreOffice to a workbook, read back: each row's cells, numbers as floats.

    The import options are what Calc's dialog offers by default for this file: comma-separated,
    double quotes, UTF-8 (76), from the first line, English (United States) number formats (1033).
    """
    source = directory / "invoices.csv"
    source.write_bytes(content)
    subprocess.run(
        [
            str(SOFFICE),
            f"-env:UserInstallation=file://{directory / 'profile'}",
            "--headless",
            "--infilter=CSV:44,34,76,1,,1033",
            "--convert-to",
            "xlsx",
            "--outdir",
            str(directory),
            str(source),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    with zipfile.ZipFile(directory / "invoices.xlsx") as workbook:
        strings = [
            "".join(text.text or "" for text in item.iter(f"{SHEET}t"))
            for item in ElementTree.fromstring(workbook.read("xl/sharedStrings.xml")).iter(f"{SHEET}si")
        ]
        sheet = ElementTree.fromstring(workbook.read("xl/worksheets/sheet1.xml"))
    # No cell became a formula
    assert list(sheet.iter(f"{SHEET}f")) == []
    rows: list[list[str | float]] = []
    for row in sheet.iter(f"{SHEET}row"):
        cells: list[str | float] = []
        for cell in row.iter(f"{SHEET}c"):
            column = _column_index(str(cell.get("r")))
            cells.extend([""] * (column - len(cells)))
            value = cell.find(f"{SHEET}v")
            if value is None or value.text is None:
                cells.append("")
            elif cell.get("t") == "s":
                cells.append(strings[int(value.text)])
            else:
                cells.append(float(value.text))
        rows.append(cells)
    return rows


def _column_index(reference: str) -> int:
    letters = re.match(r"[A-Z]+", reference)
    index = 0
    for letter in letters.group(0) if letters else "":
        index = index * 26 + ord(letter) - ord("A") + 1
    return index - 1


def test_calc_opens_the_invoices_with_their_columns_amounts_as_numbers_and_formulas_as_text(
    api: ApiClient, clock: SettableClock, tmp_path: Path
) -> None:
    november = November(api, clock)
    content, _ = downloaded(api, f"{november.acme.base}/exports/invoices.csv?{NOVEMBER}")

    header, *rows = opened_in_calc(content, tmp_path)

    assert header[:4] == ["number", "issue_date", "due_date", "status"]
    assert header[-4:] == ["net_10.00", "tax_10.00", "net_19.00", "tax_19.00"]
    # A row's trailing empty cells are not stored in the workbook
    by_column = [dict(zip(header, row + [""] * (len(header) - len(row)), strict=True)) for row in rows]
    assert [row["number"] for row in by_column] == ["ACME-00002", "ACME-00003", "ACME-00004"]
    # Amounts are numbers a sum can add; the hostile name is text, its apostrophe shown; the
    # Japanese name is intact
    assert [row["total"] for row in by_column] == [172.5, 1100.0, 23.8]
    assert [row["tax_19.00"] for row in by_column] == [19.0, "", 3.8]
    assert by_column[1]["customer_name"] == "'" + HOSTILE_NAME
    assert by_column[2]["customer_name"] == "株式会社東京商事"
