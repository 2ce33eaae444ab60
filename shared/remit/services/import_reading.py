"""An import's rows read back from its kept file, as a stream: the rows after a given row number,
each as a customer's fields by the import's mapping, or the problem that makes it unreadable."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from remit.domain.errors import FieldProblem
from remit.domain.import_files import CsvLayout, csv_rows
from remit.domain.import_mapping import json_fields, mapped_fields
from remit.domain.imports import CustomerImport


@dataclass(frozen=True)
class ImportRow:
    number: int
    fields: dict[str, Any]
    problem: FieldProblem | None = None


def rows_after(record: CustomerImport, chunks: Iterable[bytes], after: int) -> Iterator[ImportRow]:
    """The import's rows after row number `after`, read from the start of its file's `chunks`.

    Raises `InvalidInput` (field `file`) if the file stops being readable.
    """
    if record.source == "json":
        yield from _json_rows_after(record, chunks, after)
        return
    layout = CsvLayout(record.encoding, record.delimiter, tuple(record.columns))
    for file_row in csv_rows(chunks, layout):
        if file_row.number <= after:
            continue
        if file_row.problem is not None:
            yield ImportRow(file_row.number, {}, file_row.problem)
        else:
            yield ImportRow(file_row.number, mapped_fields(file_row.cells, record.mapping))


def _json_rows_after(record: CustomerImport, chunks: Iterable[bytes], after: int) -> Iterator[ImportRow]:
    pending = b""
    number = 0

    def rows_of(lines: list[bytes]) -> Iterator[ImportRow]:
        nonlocal number
        for line in lines:
            number += 1
            if number <= after:
                continue
            value = json.loads(line)
            if not isinstance(value, dict):
                yield ImportRow(number, {}, FieldProblem("row", "is not a JSON object"))
            else:
                yield ImportRow(number, json_fields(value, record.mapping or None))

    for chunk in chunks:
        pending += chunk
        *lines, pending = pending.split(b"\n")
        yield from rows_of([line for line in lines if line.strip()])
    if pending.strip():
        yield from rows_of([pending])
