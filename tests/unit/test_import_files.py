"""Reading imported customer files: encodings, delimiters, the header row, ragged rows."""

from __future__ import annotations

import codecs

import pytest

from remit.domain.errors import InvalidInput
from remit.domain.import_files import CsvLayout, FileRow, csv_rows, detect_encoding, detect_layout

HEADER_AND_ROWS = "Name;E-mail;City\nGlobex GmbH;ap@globex.test;Köln\nInitech;ap@initech.test;Zürich\n"


def _rows(content: bytes, chunk: int = 7) -> list[FileRow]:
    layout = detect_layout(content)
    return list(csv_rows((content[i : i + chunk] for i in range(0, len(content), chunk)), layout))


def _file_problem(content: bytes) -> str:
    with pytest.raises(InvalidInput) as refused:
        detect_layout(content)
    (problem,) = refused.value.problems
    assert problem.field == "file"
    return problem.message


@pytest.mark.parametrize(
    ("content", "encoding"),
    [
        (HEADER_AND_ROWS.encode("utf-8"), "utf-8"),
        (codecs.BOM_UTF8 + HEADER_AND_ROWS.encode("utf-8"), "utf-8-sig"),
        (HEADER_AND_ROWS.encode("utf-16"), "utf-16"),
        (HEADER_AND_ROWS.encode("cp1252"), "cp1252"),
    ],
)
def test_a_files_encoding_is_detected_and_its_accents_read_back(content: bytes, encoding: str) -> None:
    # Given the same customers saved in four encodings
    # When the file is read
    rows = _rows(content)

    # Then the encoding is found and every accent survives
    assert detect_encoding(content) == encoding
    assert [row.cells["City"] for row in rows] == ["Köln", "Zürich"]


def test_bytes_no_windows_code_page_knows_are_read_as_latin_1() -> None:
    content = "Name,City\nGlobex,Köln\n".encode("latin-1") + b"\x81\n"

    assert detect_encoding(content) == "latin-1"


@pytest.mark.parametrize(
    ("delimiter", "name"), [(",", "comma"), (";", "semicolon"), ("\t", "tab"), ("|", "pipe")]
)
def test_the_delimiter_is_detected(delimiter: str, name: str) -> None:
    content = delimiter.join(["Name", "Email", "Country"]) + "\n"
    content += (
        delimiter.join(["Globex, GmbH" if delimiter != "," else '"Globex, GmbH"', "a@g.test", "DE"]) + "\n"
    )

    layout = detect_layout(content.encode())

    assert layout.delimiter == delimiter, name
    assert layout.header == ("Name", "Email", "Country")
    assert _rows(content.encode())[0].cells["Name"] == "Globex, GmbH"


def test_rows_are_numbered_as_a_spreadsheet_shows_them_and_blank_rows_are_skipped() -> None:
    content = b"Name,Email\nGlobex,ap@globex.test\n,\n\nInitech,ap@initech.test\n"

    rows = _rows(content)

    assert [(row.number, row.cells["Name"]) for row in rows] == [(2, "Globex"), (5, "Initech")]


def test_a_ragged_row_is_a_problem_of_that_row_and_the_next_rows_are_read() -> None:
    content = (
        b"Name,Email,Country\nGlobex,ap@globex.test\nInitech,i@initech.test,US,x\nHooli,h@hooli.test,US\n"
    )

    rows = _rows(content)

    assert [row.problem.message if row.problem else None for row in rows] == [
        "has 2 cells where the header row has 3 columns",
        "has 4 cells where the header row has 3 columns",
        None,
    ]
    assert rows[2].cells == {"Name": "Hooli", "Email": "h@hooli.test", "Country": "US"}


def test_a_quoted_cell_keeps_its_line_breaks_and_a_formula_stays_text() -> None:
    content = b'Name,Notes\n"=HYPERLINK(""http://evil.test"")","two\nlines"\n'

    (row,) = _rows(content, chunk=3)

    assert row.cells == {"Name": '=HYPERLINK("http://evil.test")', "Notes": "two\nlines"}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "it is empty"),
        (b"\n\n", "it is empty"),
        (b"PK\x03\x04 rest of a zip", "it is a spreadsheet, not CSV; save it as CSV (UTF-8) and upload that"),
        (b"Name,Email\x00\n", "it is not a text file (it holds NUL bytes); upload a CSV file"),
        (
            b"Globex,ap@globex.test\n",
            "its first row holds an email address; the first row must name the columns",
        ),
        (b"Name,,Email\n", "column 2 of the header row has no name"),
        (b"Email,Name,Email\n", "the header row names Email more than once"),
    ],
)
def test_a_file_that_cannot_be_imported_is_refused_whole_with_its_reason(
    content: bytes, message: str
) -> None:
    assert _file_problem(content) == message


def test_bytes_that_stop_being_the_detected_encoding_midway_make_the_file_unreadable() -> None:
    layout = CsvLayout("utf-8", ",", ("Name", "Email"))
    chunks = [b"Name,Email\nGlobex,ap@globex.test\n", b"Caf\xe9,c@cafe.test\n"]

    with pytest.raises(InvalidInput) as refused:
        list(csv_rows(chunks, layout))

    assert refused.value.problems[0].field == "file"
    assert "not utf-8 text throughout" in refused.value.problems[0].message


def test_a_giant_cell_makes_the_file_unreadable_rather_than_filling_memory() -> None:
    content = b"Name,Email\n" + b"x" * 20_000 + b",a@b.test\n"

    with pytest.raises(InvalidInput) as refused:
        _rows(content, chunk=4096)

    assert "row" in refused.value.problems[0].message
