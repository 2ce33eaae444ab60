"""Logos: how large an upload may be, the box every stored logo fits in, and where a logo is found.

A logo is untrusted content (docs/documents.md, "Logos"): what is stored is never the upload itself
but pixels drawn from it, PNG or JPEG, fitted into `LOGO_BOX`.
"""

from __future__ import annotations

from typing import Literal

from remit.domain.errors import DomainError
from remit.domain.values import Model

# An upload of more pixels is refused before it is decoded (an image's header states its size).
MAX_UPLOAD_PIXELS = 4_000_000
# Every stored logo fits in this box (pixels), its aspect kept: what the documents need. The PDF
# draws a logo in at most 60 x 20 mm, 709 x 236 pixels at 300 dpi; the hosted page and the emails
# show it at most 48 px high and 200 px wide, 144 x 600 pixels on a 3x screen.
LOGO_BOX = (720, 240)
# A logo's public URL is `<base URL>/assets/<key>`, its key `logos/<organisation id>/<file>`.
ASSETS_PATH = "/assets/"
LOGO_KEY_PREFIX = "logos/"

# What an upload may be: an SVG is drawn into a PNG, never stored as it was sent.
LOGO_TYPES = ("image/png", "image/jpeg", "image/svg+xml")
LogoContentType = Literal["image/png", "image/jpeg"]


class UnusableLogo(DomainError):
    """The upload cannot become a logo; the detail says why, for the person who sent it."""


class PreparedLogo(Model):
    """A logo as it is stored: pixels drawn from the upload, never the upload's own bytes."""

    content: bytes
    content_type: LogoContentType
    width: int
    height: int


def logo_key_of(logo_url: str | None) -> str | None:
    """The stored key of the logo at `logo_url` (`…/assets/logos/<org>/<file>`), or None."""
    if not logo_url or ASSETS_PATH not in logo_url:
        return None
    key = logo_url.split(ASSETS_PATH, 1)[1]
    return key if key.startswith(LOGO_KEY_PREFIX) else None


def fits_the_upload_limit(width: int, height: int) -> bool:
    return width > 0 and height > 0 and width * height <= MAX_UPLOAD_PIXELS
