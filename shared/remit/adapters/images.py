"""Logo uploads made into stored logos: pixels drawn from the upload, never the upload itself.

* **PNG and JPEG** (Pillow): only the declared format's decoder opens the bytes; the size in the
  header is checked (at most `MAX_UPLOAD_PIXELS`) before any pixel is decoded; the picture is turned
  by its EXIF orientation, scaled down into `LOGO_BOX` and encoded afresh (PNG stays PNG, JPEG stays
  JPEG). No metadata, chunk or trailing byte of the upload survives.
* **SVG** (defusedxml, then resvg): parsed without entity declarations or external entities; its
  root must be `<svg>`; every reference (`href`, `xlink:href`, on any element) must be one of its own
  parts (`#id`) or an image embedded as a `data:` URL, because resvg reads image files named by a
  path (it runs no script and fetches no URL). What was parsed is written out again (no DOCTYPE,
  processing instruction or comment) and resvg draws it into a PNG that fits `LOGO_BOX`, in a
  process of its own limited in time and memory (`svg_drawing.py`). The stored logo is that PNG:
  no markup, so nothing in it can run wherever it is shown (docs/documents.md, "Logos").

Imported only on the logo-upload path: Pillow is heavy and most requests never need it.
"""

from __future__ import annotations

import importlib.util
import io
import subprocess
import sys
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

from remit.adapters.pdf_fonts import FONT_DIRECTORY, PRIMARY_FILES
from remit.domain.logos import (
    LOGO_BOX,
    MAX_UPLOAD_PIXELS,
    LogoContentType,
    PreparedLogo,
    UnusableLogo,
    fits_the_upload_limit,
)

if TYPE_CHECKING:
    from xml.etree.ElementTree import Element

    from PIL.Image import Image

_RASTER_FORMATS = {"image/png": "PNG", "image/jpeg": "JPEG"}
_SVG_NAMESPACE = "{http://www.w3.org/2000/svg}"
# Deeper nesting than any drawing tool writes; the check keeps writing the tree out again bounded.
MAX_SVG_DEPTH = 100
# Drawing an SVG: the wall-clock limit is below the API function's timeout (15 s), the memory
# limit leaves the function (256 MB) room for the request that waits for it.
SVG_DRAWING_SECONDS = 8
SVG_DRAWING_MEGABYTES = 128
_DRAWING_SCRIPT = Path(__file__).with_name("svg_drawing.py")
_LIMIT_WORDS = f"{MAX_UPLOAD_PIXELS:,} pixels"


class LogoImages:
    """`LogoImages` with Pillow (PNG, JPEG) and resvg (SVG)."""

    def prepare(self, content: bytes, content_type: str) -> PreparedLogo:
        if not content:
            raise UnusableLogo("the body is empty; send the image bytes")
        if content_type == "image/svg+xml":
            return _drawn_svg(content)
        return _redrawn_raster(content, _RASTER_FORMATS[content_type])


# --- PNG and JPEG -------------------------------------------------------------------------------


def _redrawn_raster(content: bytes, declared: str) -> PreparedLogo:
    from PIL import Image as PillowImage
    from PIL import UnidentifiedImageError

    unreadable = f"the body is not a readable {declared} image"
    try:
        with warnings.catch_warnings():
            # Pillow warns of a bomb past its own limit (far above ours) and refuses one twice that.
            warnings.simplefilter("error", PillowImage.DecompressionBombWarning)
            image = PillowImage.open(io.BytesIO(content), formats=[declared])
    except (PillowImage.DecompressionBombWarning, PillowImage.DecompressionBombError):
        raise UnusableLogo(f"the image is larger than {_LIMIT_WORDS}") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise UnusableLogo(unreadable) from None
    with image:
        width, height = image.size
        if not fits_the_upload_limit(width, height):
            raise UnusableLogo(f"the image is {width} x {height} pixels: larger than {_LIMIT_WORDS}")
        try:
            fitted = _fitted(image)
        except (OSError, SyntaxError, ValueError):
            raise UnusableLogo(unreadable) from None
    return _encoded(fitted, "image/jpeg" if declared == "JPEG" else "image/png")


def _fitted(image: Image) -> Image:
    """The decoded picture, the right way up, in RGB(A), scaled down into the logo box."""
    from PIL import Image as PillowImage
    from PIL import ImageOps

    longest = max(LOGO_BOX)
    if image.format == "JPEG":
        image.draft("RGB", (longest, longest))  # decodes at a fraction of the size where it can
    upright = ImageOps.exif_transpose(image)
    transparent = upright.mode in ("RGBA", "LA", "PA") or "transparency" in upright.info
    converted = upright.convert("RGBA" if transparent else "RGB")
    converted.thumbnail(LOGO_BOX, PillowImage.Resampling.LANCZOS)
    return converted


def _encoded(image: Image, content_type: LogoContentType) -> PreparedLogo:
    buffer = io.BytesIO()
    if content_type == "image/jpeg":
        image.convert("RGB").save(buffer, "JPEG", quality=90, optimize=True)
    else:
        image.save(buffer, "PNG", optimize=True)
    width, height = image.size
    return PreparedLogo(content=buffer.getvalue(), content_type=content_type, width=width, height=height)


# --- SVG --------------------------------------------------------------------------------------


def _drawn_svg(content: bytes) -> PreparedLogo:
    from xml.etree.ElementTree import tostring

    root = _parsed_svg(content)
    _check_references_and_depth(root)
    png = _drawing_of(tostring(root, encoding="unicode"))
    from PIL import Image as PillowImage

    try:
        with PillowImage.open(io.BytesIO(png), formats=["PNG"]) as drawn:
            fitted = _fitted(drawn)
    except (OSError, SyntaxError, ValueError):
        raise UnusableLogo("the SVG could not be drawn") from None
    return _encoded(fitted, "image/png")


def _parsed_svg(content: bytes) -> Element:
    from xml.etree.ElementTree import ParseError

    from defusedxml import DefusedXmlException, EntitiesForbidden, ExternalReferenceForbidden
    from defusedxml.ElementTree import fromstring

    try:
        root = fromstring(content, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    except EntitiesForbidden:
        raise UnusableLogo("SVG logos may not declare entities") from None
    except ExternalReferenceForbidden:
        raise UnusableLogo("SVG logos may not refer to external entities or DTDs") from None
    except (ParseError, DefusedXmlException, ValueError):
        raise UnusableLogo("the body is not a well-formed SVG document") from None
    if root.tag != f"{_SVG_NAMESPACE}svg":
        raise UnusableLogo("the body is XML but not an SVG image (an <svg> root in the SVG namespace)")
    return root


def _check_references_and_depth(root: Element) -> None:
    """Every `href` names a part of the SVG or an embedded image; no nesting deeper than the limit."""
    level: list[tuple[Element, int]] = [(root, 1)]
    while level:
        element, depth = level.pop()
        if depth > MAX_SVG_DEPTH:
            raise UnusableLogo(f"SVG logos may nest elements at most {MAX_SVG_DEPTH} deep")
        for attribute, value in element.attrib.items():
            if attribute.rsplit("}", 1)[-1] != "href":
                continue
            reference = value.strip()
            if not (reference.startswith("#") or reference[:5].lower() == "data:"):
                name = str(element.tag).rsplit("}", 1)[-1]
                raise UnusableLogo(
                    "SVG logos may refer only to their own parts (#id) or to images embedded as data: "
                    f"URLs; <{name}> refers to {reference[:80]!r}"
                )
        level.extend((child, depth + 1) for child in element)


def _drawing_of(svg: str) -> bytes:
    """The PNG resvg draws of `svg`, fitted into the logo box, from a process of its own."""
    spec = importlib.util.find_spec("resvg_py")
    if spec is None or spec.origin is None:
        raise RuntimeError("resvg_py is not installed (shared/requirements.txt)")
    width, height = LOGO_BOX
    command = [
        sys.executable,
        "-I",  # no environment, no user site, not the current directory
        "-S",  # no site packages: resvg's directory is given
        str(_DRAWING_SCRIPT),
        str(SVG_DRAWING_SECONDS),
        str(SVG_DRAWING_MEGABYTES),
        str(Path(spec.origin).parent.parent),
        str(width),
        str(height),
        *(str(FONT_DIRECTORY / file_name) for file_name in PRIMARY_FILES.values()),
    ]
    too_costly = (
        f"the SVG could not be drawn within {SVG_DRAWING_SECONDS} seconds and {SVG_DRAWING_MEGABYTES} MB; "
        "simplify it (filters, nested transparency) or upload a PNG"
    )
    try:
        drawn = subprocess.run(  # noqa: S603 - our own script, with our own arguments
            command, input=svg.encode("utf-8"), capture_output=True, timeout=SVG_DRAWING_SECONDS, check=False
        )
    except subprocess.TimeoutExpired:
        raise UnusableLogo(too_costly) from None
    if drawn.returncode == 2:
        reason = drawn.stderr.decode("utf-8", "replace").strip()
        raise UnusableLogo(f"the SVG could not be drawn: {reason}")
    if drawn.returncode != 0 or not drawn.stdout:
        raise UnusableLogo(too_costly)
    return drawn.stdout
