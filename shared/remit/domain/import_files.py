"""Reading an uploaded customer file: its encoding, its delimiter, its header and its rows.

A file is untrusted bytes. Whatever it holds, reading it either refuses the whole file with a
problem naming `file` (`InvalidInput`: not text, no header, a spreadsheet rather than CSV) or
yields its rows one by one, a ragged row as a problem of that row rather than a crash. Rows are
read as a stream (`csv_rows`), so the memory a file takes does not grow with its length.

Row numbers are those a spreadsheet shows: the header is row 1, the first customer row 2.
"""

from __future__ import annotations

import codecs
import csv
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from remit.domain.errors import FieldProblem, InvalidInput

DELIMITERS = ",;\t|"
# Enough of a file to tell its delimiter from; a header and a few dozen rows.
SAMPLE_CHARS = 64 * 1024
# A cell longer than this is not a customer's field (the longest field takes 500 characters).
MAX_CELL_CHARS = 10_000
# The first row number of a customer: the header is row 1.
FIRST_ROW = 2

_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# The files people mistake for CSV: a spreadsheet's zip (xlsx, ods) and an old Excel file.
_SPREADSHEETS = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0")


def _unreadable(message: str) -> InvalidInput:
    return InvalidInput([FieldProblem("file", message)], f"The file cannot be imported: {message}.")


@dataclass(frozen=True)
class CsvLayout:
    """How a CSV file is written: what the worker needs to read its rows again."""

    encoding: str
    delimiter: str
    header: tuple[str, ...]


@dataclass(frozen=True)
class FileRow:
    """One customer row: its number (as a spreadsheet shows it) and its cells by column name, or the
    problem that makes it unreadable (a ragged row)."""

    number: int
    cells: dict[str, str]
    problem: FieldProblem | None = None


def detect_encoding(content: bytes) -> str:
    """The encoding `content` is written in: the one its byte-order mark names, else UTF-8 when it
    decodes as such, else Windows-1252 (what Excel writes in Western Europe), else Latin-1.

    Raises `InvalidInput` (field `file`) for a spreadsheet and for bytes that are not text (a NUL
    byte: a binary file, or UTF-16 without its mark).
    """
    if content.startswith(_SPREADSHEETS):
        raise _unreadable("it is a spreadsheet, not CSV; save it as CSV (UTF-8) and upload that")
    for mark, encoding in _BOMS:
        if content.startswith(mark):
            return encoding
    if b"\x00" in content:
        raise _unreadable("it is not a text file (it holds NUL bytes); upload a CSV file")
    for encoding in ("utf-8", "cp1252"):
        try:
            content.decode(encoding)
        except UnicodeDecodeError:
            continue
        return encoding
    return "latin-1"


def _delimiter(sample: str) -> str:
    try:
        return csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
    except csv.Error:
        # One column, or rows too uneven for the sniffer: the most frequent candidate of the header.
        first_line = sample.splitlines()[0] if sample else ""
        counts = {candidate: first_line.count(candidate) for candidate in DELIMITERS}
        best = max(counts, key=lambda candidate: counts[candidate])
        return best if counts[best] else ","


def _lines(chunks: Iterable[bytes], encoding: str) -> Iterator[str]:
    """The decoded lines of a stream of bytes, each with its line ending (as `csv` needs them)."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    pending = ""
    try:
        for chunk in chunks:
            pending += decoder.decode(chunk)
            lines = pending.splitlines(keepends=True)
            # The last piece may be a line cut in two (or a CR whose LF is in the next chunk).
            pending = lines.pop() if lines and not lines[-1].endswith("\n") else ""
            yield from lines
        pending += decoder.decode(b"", final=True)
    except UnicodeDecodeError as error:
        raise _unreadable(f"it is not {encoding} text throughout ({error.reason})") from None
    if pending:
        yield pending


def _header(cells: list[str]) -> tuple[str, ...]:
    names = tuple(cell.strip() for cell in cells)
    if not any(names):
        raise _unreadable("its first row is empty; the first row must name the columns")
    if any("@" in name for name in names):
        raise _unreadable("its first row holds an email address; the first row must name the columns")
    blank = [str(index + 1) for index, name in enumerate(names) if not name]
    if blank:
        raise _unreadable(f"column {', '.join(blank)} of the header row has no name")
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise _unreadable(f"the header row names {', '.join(repeated)} more than once")
    return names


def detect_layout(content: bytes) -> CsvLayout:
    """The encoding, delimiter and header of a whole CSV file (as uploaded, so bounded in size).

    Raises `InvalidInput` (field `file`) for a file that is not text in any of the encodings tried,
    is empty, or has no header row (empty, unnamed or repeated columns, or data in its place).
    """
    encoding = detect_encoding(content)
    text = content.decode(encoding)
    if not text.strip():
        raise _unreadable("it is empty")
    delimiter = _delimiter(text[:SAMPLE_CHARS])
    csv.field_size_limit(MAX_CELL_CHARS)
    try:
        first = next(csv.reader(text.splitlines(keepends=True), delimiter=delimiter, strict=True))
    except csv.Error as error:
        raise _unreadable(f"its header row cannot be read ({error})") from None
    return CsvLayout(encoding, delimiter, _header(first))


def csv_rows(chunks: Iterable[bytes], layout: CsvLayout) -> Iterator[FileRow]:
    """The customer rows of a CSV file read as a stream of byte chunks, after its header; blank rows
    skipped. A row with more or fewer cells than the header is a row with a problem (field `row`);
    a cell beyond `MAX_CELL_CHARS` or a malformed quote makes the rest of the file unreadable.

    Raises `InvalidInput` (field `file`) when the bytes stop being text in the layout's encoding.
    """
    csv.field_size_limit(MAX_CELL_CHARS)
    reader = csv.reader(_lines(chunks, layout.encoding), delimiter=layout.delimiter, strict=True)
    columns = len(layout.header)
    try:
        next(reader, None)  # the header
        number = FIRST_ROW - 1
        for cells in reader:
            number += 1
            if not any(cell.strip() for cell in cells):
                continue
            if len(cells) != columns:
                problem = FieldProblem(
                    "row", f"has {len(cells)} cells where the header row has {columns} columns"
                )
                yield FileRow(number, {}, problem)
                continue
            yield FileRow(number, dict(zip(layout.header, cells, strict=True)))
    except csv.Error as error:
        raise _unreadable(f"row {reader.line_num} cannot be read ({error})") from None


def exported_customer(value: Any) -> Any:
    """A row as given, or the customer an export's line holds (`{"type": "customer", "data": …}`)."""
    if isinstance(value, dict) and value.get("type") == "customer" and isinstance(value.get("data"), dict):
        return value["data"]
    return value


def json_file_rows(content: bytes) -> list[Any]:
    """The rows of a JSON file: a JSON array, or JSON Lines (an export's customers, other lines left).

    Raises `ValueError` for bytes that are not UTF-8 JSON of that shape (`RecursionError` for JSON
    nested beyond the parser's depth).
    """
    text = content.decode("utf-8-sig", errors="strict")
    if text.lstrip().startswith("["):
        rows = json.loads(text)
        if not isinstance(rows, list):
            raise ValueError("not an array")
        return [exported_customer(row) for row in rows]
    rows = []
    for line in text.splitlines():
        if not line.strip():
            continue
        value = json.loads(line)
        if (
            isinstance(value, dict)
            and "type" in value
            and "data" in value
            and value.get("type") != "customer"
        ):
            continue  # an export's invoices, payments, …: not customers
        rows.append(exported_customer(value))
    return rows
