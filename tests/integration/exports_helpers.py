"""Reading an export as its user would: follow the API's redirect and open the file."""

from __future__ import annotations

import csv
import io
import json
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

import boto3

from tests.integration.api_client import ApiClient


def downloaded(api: ApiClient, path: str) -> tuple[bytes, dict[str, str]]:
    """The file the export at `path` redirects to (303), and how the download names and types it."""
    response = api.get(path)
    assert response.status == 303, response.body
    location = urlparse(response.headers["Location"])
    query = parse_qs(location.query)
    # Virtual-hosted (`bucket.s3…/key`) or path-style (`…/bucket/key`) addresses name the same object.
    host_bucket = location.netloc.split(".s3")[0] if ".s3" in location.netloc else None
    parts = unquote(location.path).lstrip("/").split("/", 1)
    bucket, key = (host_bucket, "/".join(parts)) if host_bucket else (parts[0], parts[1])
    content = boto3.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
    return content, {
        "disposition": query["response-content-disposition"][0],
        "type": query["response-content-type"][0],
        "expires": query.get("X-Amz-Expires", [""])[0],
    }


def csv_rows(content: bytes) -> list[dict[str, str]]:
    """The CSV as a spreadsheet reads it: UTF-8 after its byte order mark, a header, CRLF lines."""
    assert content.startswith(b"\xef\xbb\xbf"), content[:20]
    text = content.decode("utf-8-sig")
    assert all(line.endswith("\r") for line in text.split("\n")[:-1])
    return list(csv.DictReader(io.StringIO(text, newline="")))


def jsonl_lines(content: bytes) -> list[dict[str, Any]]:
    return [json.loads(line) for line in content.decode().splitlines()]
