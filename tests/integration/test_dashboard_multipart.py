"""`multipart/form-data` posts (the logo upload): text fields in `PageRequest.form`, the CSRF token
included, files with their exact bytes in `PageRequest.files`.
"""

from __future__ import annotations

import base64

from dashboard.page_request import PageRequest as Request
from dashboard.page_request import parse_multipart

BINARY = bytes(range(256)) * 3 + b"\r\n--not-the-boundary\r\n\r\n" + b"\x00\xff\r\n"


def multipart(boundary: str) -> bytes:
    return (
        (
            f"--{boundary}\r\n"
            'Content-Disposition: form-data; name="csrf_token"\r\n\r\n'
            f"token-123\r\n"
            f"--{boundary}\r\n"
            'Content-Disposition: form-data; name="note"\r\n\r\n'
            "Grüße\r\n"
            f"--{boundary}\r\n"
            'Content-Disposition: form-data; name="logo"; filename="logo.png"\r\n'
            "Content-Type: image/png\r\n\r\n"
        ).encode()
        + BINARY
        + f"\r\n--{boundary}--\r\n".encode()
    )


def test_a_multipart_body_gives_its_text_fields_and_its_files_byte_for_byte() -> None:
    content_type = "multipart/form-data; boundary=----x42"
    event = {
        "headers": {"content-type": content_type},
        "body": base64.b64encode(multipart("----x42")).decode(),
        "isBase64Encoded": True,
    }

    request = Request(event, {})

    assert request.form == {"csrf_token": ["token-123"], "note": ["Grüße"]}
    assert request.field("csrf_token") == "token-123"
    (upload,) = request.files["logo"]
    assert (upload.filename, upload.content_type, upload.content) == ("logo.png", "image/png", BINARY)


def test_an_urlencoded_body_has_no_files_and_a_broken_multipart_body_no_fields() -> None:
    urlencoded = Request({"headers": {}, "body": "a=1&csrf_token=t"}, {})
    broken = Request({"headers": {"Content-Type": "multipart/form-data; boundary=zz"}, "body": "garbage"}, {})

    assert urlencoded.form == {"a": ["1"], "csrf_token": ["t"]}
    assert urlencoded.files == {}
    assert broken.form == {}
    assert broken.files == {}
    assert parse_multipart("multipart/form-data", b"") == ({}, {})


def test_the_local_api_gateway_passes_a_multipart_body_base64_encoded_as_the_template_says() -> None:
    from pathlib import Path

    from local.api_gateway import BINARY_MEDIA_TYPES, proxy_event
    from local.http_messages import HttpRequest

    template = (Path(__file__).resolve().parents[2] / "template.yaml").read_text()
    assert "- multipart~1form-data" in template
    assert "multipart/form-data" in BINARY_MEDIA_TYPES
    body = multipart("b0undary")
    request = HttpRequest(
        method="POST",
        path="/dashboard/organisations/org_1/settings/logo",
        query="",
        headers=[("Content-Type", "multipart/form-data; boundary=b0undary")],
        body=body,
        source_ip="127.0.0.1",
    )

    event = proxy_event(request, "request-1", "127.0.0.1:3000")

    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == body
    assert Request(event, {}).files["logo"][0].content == BINARY
