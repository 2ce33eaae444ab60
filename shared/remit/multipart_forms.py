"""`multipart/form-data` bodies (RFC 7578) read by `python-multipart` (Starlette's parser): the
dashboard's forms with files (the logo, an import's file) and the API's file imports.

The body's size and shape are checked before (`remit.request_bodies.check_form`).
"""

from __future__ import annotations

from dataclasses import dataclass

from python_multipart.multipart import MultipartParseError, MultipartParser, parse_options_header

MAX_FORM_FIELDS = 400


@dataclass(frozen=True)
class Upload:
    """A file of a `multipart/form-data` form: its bytes and what the browser said of them."""

    filename: str
    content_type: str
    content: bytes


def parse_multipart(content_type: str, body: bytes) -> tuple[dict[str, list[str]], dict[str, list[Upload]]]:
    """A `multipart/form-data` body (RFC 7578) as (text fields, files), read by `python-multipart`;
    a part naming a file is a file, even an empty one. A body that is not multipart has no parts;
    one of more than `MAX_FORM_FIELDS` parts raises `ValueError`.
    """
    _, options = parse_options_header(content_type)
    boundary = options.get(b"boundary")
    if not boundary:
        return {}, {}
    parts: list[tuple[dict[bytes, bytes], bytearray]] = []
    header_name = bytearray()
    header_value = bytearray()

    def begin_part() -> None:
        if len(parts) >= MAX_FORM_FIELDS:
            raise ValueError(f"a form has at most {MAX_FORM_FIELDS} fields")
        parts.append(({}, bytearray()))

    def add_header_name(data: bytes, start: int, end: int) -> None:
        header_name.extend(data[start:end])

    def add_header_value(data: bytes, start: int, end: int) -> None:
        header_value.extend(data[start:end])

    def end_header() -> None:
        parts[-1][0][bytes(header_name).lower()] = bytes(header_value)
        header_name.clear()
        header_value.clear()

    def add_data(data: bytes, start: int, end: int) -> None:
        parts[-1][1].extend(data[start:end])

    parser = MultipartParser(
        boundary,
        {
            "on_part_begin": begin_part,
            "on_header_field": add_header_name,
            "on_header_value": add_header_value,
            "on_header_end": end_header,
            "on_part_data": add_data,
        },
    )
    try:
        parser.write(body)
        parser.finalize()
    except MultipartParseError:
        return {}, {}
    fields: dict[str, list[str]] = {}
    files: dict[str, list[Upload]] = {}
    for headers, content in parts:
        disposition, parameters = parse_options_header(headers.get(b"content-disposition", b""))
        name = parameters.get(b"name")
        if disposition != b"form-data" or name is None:
            continue
        media_type, type_parameters = parse_options_header(headers.get(b"content-type", b""))
        filename = parameters.get(b"filename")
        if filename is not None:
            upload = Upload(
                filename.decode("utf-8", errors="replace"),
                media_type.decode("latin-1") or "text/plain",
                bytes(content),
            )
            files.setdefault(name.decode("utf-8", errors="replace"), []).append(upload)
        else:
            charset = type_parameters.get(b"charset", b"utf-8").decode("latin-1")
            try:
                text = bytes(content).decode(charset, errors="replace")
            except LookupError:  # a charset no codec knows
                text = bytes(content).decode("utf-8", errors="replace")
            fields.setdefault(name.decode("utf-8", errors="replace"), []).append(text)
    return fields, files
