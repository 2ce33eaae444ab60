"""What every HTTP function checks of a request body before anything reads it.

A body is untrusted bytes: it may lie about being base64, hold bytes that are not UTF-8, be larger
than any Remit body, or nest JSON so deep that a recursive parser (Python's `json`, the Stripe
SDK, pydantic) runs out of stack: `RecursionError`, and API Gateway's bare 502. Each check here
refuses such a body with the HTTP status and RFC 9457 problem the caller answers (`UnreadableBody`),
without recursion and in time linear in the body's size, so that the parsers after it only ever
see bodies they can read.

No Remit JSON body nests deeper than a handful of levels (a customer's `metadata` inside the
customer, a line inside an invoice); `MAX_JSON_DEPTH` leaves ample room above that.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any

# A JSON body of the API, the webhooks or the local stack's dev routes (the logo upload, an image,
# has its own limit: `Settings.max_logo_bytes`).
MAX_JSON_BYTES = 1024 * 1024
# Arrays and objects inside one another.
MAX_JSON_DEPTH = 32
# A form: the dashboard's logo form carries an image of up to 1 MB with its fields.
MAX_FORM_BYTES = 2 * 1024 * 1024
# Parts of a multipart form that may name a multipart or message type (the standard library's MIME
# parser recurses into each); no form of the dashboard has one.
MAX_NESTED_PART_TYPES = 8

# A JSON string: from a quote to the next unescaped quote, or to the end of the text when it is
# never closed. It never fails once started, so no part of the text is ever scanned twice.
_STRING = re.compile(r'"[^"\\]*+(?:\\[\s\S]?[^"\\]*+)*+(?:"|\Z)')
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_INNERMOST_PAIR = re.compile(r"\[\]|\{\}")
# Whatever spacing or quoting surrounds them, these words are how a part names a type with parts.
_NESTED_PART_TYPE = re.compile(rb"multipart|message", re.IGNORECASE)


class UnreadableBody(Exception):
    """A body refused before it is read: the HTTP status and problem (slug, detail) to answer."""

    def __init__(self, status: int, slug: str, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.slug = slug
        self.detail = detail


def body_bytes(body: str | None, *, base64_encoded: bool) -> bytes:
    """The bytes of an API Gateway proxy event's `body`, decoded as its `isBase64Encoded` says.

    Raises `UnreadableBody` (400) for a body flagged base64 that is not, and for text that cannot
    be UTF-8 (a lone surrogate).
    """
    if not body:
        return b""
    if base64_encoded:
        try:
            return base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            raise UnreadableBody(400, "malformed-body", "The body is marked as base64 but is not.") from None
    try:
        return body.encode("utf-8")
    except UnicodeEncodeError:
        raise UnreadableBody(400, "malformed-body", "The body is not UTF-8 text.") from None


def json_depth(text: str, limit: int = MAX_JSON_DEPTH) -> int:
    """How deep arrays and objects nest in `text`, without recursion; brackets in strings do not count.

    Raises `UnreadableBody` (400) beyond `limit` levels, and for brackets that do not pair up (no
    JSON text has them). Each pass removes the innermost pairs, so the cost is at most `limit + 1`
    passes of the regular-expression engine over the text.
    """
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    for depth in range(limit + 1):
        if not brackets:
            return depth
        fewer = _INNERMOST_PAIR.sub("", brackets)
        if fewer == brackets:
            raise UnreadableBody(400, "malformed-body", "The request body is not valid JSON.")
        brackets = fewer
    raise UnreadableBody(
        400, "body-too-deep", f"The JSON body nests arrays and objects more than {limit} levels deep."
    )


def read_json(raw: bytes, *, max_bytes: int = MAX_JSON_BYTES, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """The JSON document in `raw`, once its size, encoding and depth are known to be safe to parse.

    Raises `UnreadableBody`: 413 over `max_bytes`; 400 for bytes that are not UTF-8, nesting beyond
    `max_depth`, or text that is not JSON.
    """
    check_size(raw, max_bytes, "JSON body")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise UnreadableBody(400, "malformed-body", "The body is not UTF-8 text.") from None
    json_depth(text, max_depth)
    try:
        return json.loads(text)
    except ValueError:
        raise UnreadableBody(400, "malformed-body", "The request body is not valid JSON.") from None


def check_form(raw: bytes, media_type: str, *, max_bytes: int = MAX_FORM_BYTES) -> None:
    """Refuse a form body no form can be, before a form parser reads it.

    Raises `UnreadableBody`: 413 over `max_bytes`; 400 for a URL-encoded form that is not UTF-8, and
    for a multipart form whose parts nest multipart or message parts (the parser would recurse).
    """
    check_size(raw, max_bytes, "form")
    if media_type == "multipart/form-data":
        if len(_NESTED_PART_TYPE.findall(raw)) > MAX_NESTED_PART_TYPES:
            raise UnreadableBody(400, "malformed-body", "The form's parts cannot themselves hold parts.")
        return
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        raise UnreadableBody(400, "malformed-body", "The form is not UTF-8 text.") from None


def check_size(raw: bytes, max_bytes: int, what: str) -> None:
    """Raises `UnreadableBody` (413) when `raw` is larger than `max_bytes`."""
    if len(raw) > max_bytes:
        raise UnreadableBody(
            413,
            "payload-too-large",
            f"The {what} is {len(raw)} bytes; at most {max_bytes} bytes are accepted.",
        )
