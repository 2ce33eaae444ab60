"""`docs/api-reference.md` is the OpenAPI document the code produces, rendered: never out of date."""

from __future__ import annotations

from pathlib import Path

from tools import openapi_reference

REFERENCE = Path(__file__).resolve().parents[2] / "docs" / "api-reference.md"


def test_the_committed_api_reference_is_the_current_openapi_document_rendered() -> None:
    rendered = openapi_reference.render(openapi_reference.load_document())

    committed = REFERENCE.read_text(encoding="utf-8") if REFERENCE.exists() else ""
    assert committed == rendered, (
        "docs/api-reference.md differs from the OpenAPI document the code produces: run `make docs`"
    )


def test_rendering_the_same_document_twice_gives_the_same_text() -> None:
    document = openapi_reference.load_document()

    assert openapi_reference.render(document) == openapi_reference.render(document)


def test_every_operation_of_the_document_is_in_the_reference() -> None:
    document = openapi_reference.load_document()
    rendered = openapi_reference.render(document)

    for path, item in document["paths"].items():
        for method in item:
            if method in openapi_reference.METHODS:
                assert f"`{method.upper()} {path}`" in rendered, (method, path)
