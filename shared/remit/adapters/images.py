"""Checks that an uploaded logo really is an image of the type it claims (Pillow, defusedxml).

Imported only on the logo-upload path: Pillow is heavy and most requests never need it.
"""

from __future__ import annotations

import io

_RASTER_FORMATS = {"image/png": "PNG", "image/jpeg": "JPEG"}
_SVG_NAMESPACE = "{http://www.w3.org/2000/svg}"
# SVG parts that can run script or pull in other documents when the logo is shown in a browser.
_FORBIDDEN_SVG_ELEMENTS = {"script", "foreignObject", "iframe", "embed", "object"}
_MAX_PIXELS = 4096 * 4096


class PillowImageVerifier:
    def problem_with(self, content: bytes, content_type: str) -> str | None:
        if not content:
            return "the body is empty; send the image bytes"
        if content_type == "image/svg+xml":
            return _svg_problem(content)
        return _raster_problem(content, _RASTER_FORMATS[content_type])


def _raster_problem(content: bytes, expected_format: str) -> str | None:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(content)) as image:
            actual = image.format
            width, height = image.size
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        return f"the body is not a readable {expected_format} image"
    if actual != expected_format:
        return f"the body is a {actual} image, not {expected_format} as declared"
    if width * height > _MAX_PIXELS:
        return "the image is too large (at most 4096 x 4096 pixels)"
    return None


def _svg_problem(content: bytes) -> str | None:
    from xml.etree.ElementTree import ParseError

    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import fromstring

    try:
        root = fromstring(content)
    except (ParseError, DefusedXmlException, ValueError):
        return "the body is not a well-formed SVG document"
    if root.tag not in {f"{_SVG_NAMESPACE}svg", "svg"}:
        return "the body is XML but not an SVG image"
    for element in root.iter():
        local_name = str(element.tag).rsplit("}", 1)[-1]
        if local_name in _FORBIDDEN_SVG_ELEMENTS:
            return f"SVG logos may not contain <{local_name}> elements"
        for attribute, value in element.attrib.items():
            name = attribute.rsplit("}", 1)[-1].lower()
            if name.startswith("on"):
                return "SVG logos may not contain event-handler attributes"
            if name == "href" and not value.startswith("#"):
                return "SVG logos may not link to other documents"
    return None
