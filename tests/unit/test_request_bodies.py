"""The body checks every HTTP function makes first: depth without recursion, size, encoding."""

from __future__ import annotations

import base64
import contextlib
import json
import time
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from remit.request_bodies import (
    MAX_JSON_BYTES,
    UnreadableBody,
    body_bytes,
    check_form,
    json_depth,
    read_json,
)

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(alphabet=st.characters(codec="utf-8")),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(), children, max_size=3),
    max_leaves=30,
)


def nesting(value: Any) -> int:
    if isinstance(value, list):
        return 1 + max((nesting(item) for item in value), default=0)
    if isinstance(value, dict):
        return 1 + max((nesting(item) for item in value.values()), default=0)
    return 0


@given(JSON_VALUES)
def test_the_depth_counted_without_recursion_is_the_documents_depth(value: Any) -> None:
    text = json.dumps(value)

    assert json_depth(text) == nesting(value)
    assert read_json(text.encode()) == value


@given(st.text())
def test_any_text_is_either_read_or_refused_with_a_400(text: str) -> None:
    status = None
    try:
        read_json(text.encode("utf-8", "surrogatepass"))
    except UnreadableBody as refused:
        status = refused.status

    assert status in (None, 400)


@pytest.mark.parametrize(
    "text",
    ["[" * 100_000 + "]" * 100_000, '{"a":' * 100_000 + "0" + "}" * 100_000, "[" * 33 + "]" * 33],
)
def test_nesting_beyond_32_levels_is_refused_naming_the_limit(text: str) -> None:
    with pytest.raises(UnreadableBody) as refused:
        read_json(text.encode())

    assert (refused.value.status, refused.value.slug) == (400, "body-too-deep")
    assert "32 levels" in refused.value.detail


@pytest.mark.parametrize("text", ["[" * 100_000, "]" * 100_000 + "[" * 100_000, "[}", '{"a": ]'])
def test_brackets_that_do_not_pair_are_not_json(text: str) -> None:
    with pytest.raises(UnreadableBody) as refused:
        read_json(text.encode())

    assert (refused.value.status, refused.value.slug) == (400, "malformed-body")


def test_32_levels_are_read_and_brackets_inside_strings_do_not_count() -> None:
    assert read_json(("[" * 32 + "]" * 32).encode()) == json.loads("[" * 32 + "]" * 32)
    assert read_json(json.dumps({"memo": "[" * 100_000, "quote": '\\"[{'}).encode())["memo"] == "[" * 100_000


def test_a_body_over_a_megabyte_is_413_before_it_is_read() -> None:
    with pytest.raises(UnreadableBody) as refused:
        read_json(b" " * (MAX_JSON_BYTES + 1))

    assert refused.value.status == 413
    assert str(MAX_JSON_BYTES) in refused.value.detail


@pytest.mark.parametrize(
    "text",
    [
        '"x\\"' * 300_000,  # a string never closed, full of escaped quotes
        '"' + "\\" * 1_000_000,
        "[]" * 500_000,
        "[" * 32 + ",".join(["1"] * 200_000) + "]" * 32,
    ],
)
def test_the_depth_is_counted_in_linear_time_whatever_the_text(text: str) -> None:
    started = time.perf_counter()
    with contextlib.suppress(UnreadableBody):
        json_depth(text)

    assert time.perf_counter() - started < 1.0


def test_bytes_that_are_not_utf8_are_refused() -> None:
    with pytest.raises(UnreadableBody) as refused:
        read_json('{"name": "Caf\xe9"}'.encode("latin-1"))

    assert refused.value.status == 400


@pytest.mark.parametrize(
    ("body", "flagged"), [("%%% not base64", True), ("eyJ", True), ('{"name": "\udcff"}', False)]
)
def test_a_body_that_lies_about_base64_or_is_no_text_is_refused(body: str, flagged: bool) -> None:
    with pytest.raises(UnreadableBody) as refused:
        body_bytes(body, base64_encoded=flagged)

    assert refused.value.status == 400


def test_a_body_is_decoded_as_its_flag_says() -> None:
    assert body_bytes(base64.b64encode(b"\x89PNG").decode(), base64_encoded=True) == b"\x89PNG"
    assert body_bytes("caf\xe9", base64_encoded=False) == "café".encode()
    assert body_bytes(None, base64_encoded=True) == b""


def test_a_form_is_refused_when_too_large_not_utf8_or_nesting_parts() -> None:
    nested = b"".join(b"--b\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n" for _ in range(20))
    cases = {
        "large": (b"a=" + b"x" * (2 * 1024 * 1024), "application/x-www-form-urlencoded", 413),
        "latin-1": (b"a=caf\xe9", "application/x-www-form-urlencoded", 400),
        "nested": (nested, "multipart/form-data", 400),
    }
    for name, (raw, media_type, status) in cases.items():
        with pytest.raises(UnreadableBody) as refused:
            check_form(raw, media_type)
        assert refused.value.status == status, name

    check_form(b"--b\r\nContent-Disposition: form-data; name=a\r\n\r\nx\r\n--b--\r\n", "multipart/form-data")
    check_form(b"a=1&b=%E9", "application/x-www-form-urlencoded")
