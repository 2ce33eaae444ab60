"""Imported files in the documents bucket, under `imports/<organisation id>/<import id>`.

The bucket's lifecycle rule (template.yaml, `ExpireImportFiles`) removes them some days after
upload: an import's record keeps its report, the file itself is needed only while it runs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from remit.domain.errors import NotFound

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

PREFIX = "imports/"
_CHUNK_BYTES = 64 * 1024


def import_file_key(organisation_id: str, import_id: str) -> str:
    return f"{PREFIX}{organisation_id}/{import_id}"


class S3ImportFiles:
    def __init__(self, client_factory: Callable[[], S3Client], bucket: str) -> None:
        self._client_factory = client_factory
        self._client: S3Client | None = None
        self._bucket = bucket

    @property
    def _s3(self) -> S3Client:
        if self._client is None:
            self._client = self._client_factory()
        return self._client

    def put(self, key: str, content: bytes) -> None:
        self._s3.put_object(
            Bucket=self._bucket, Key=key, Body=content, ContentType="application/octet-stream"
        )

    def chunks(self, key: str) -> Iterator[bytes]:
        try:
            body = self._s3.get_object(Bucket=self._bucket, Key=key)["Body"]
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                raise NotFound("import file", key) from None
            raise
        try:
            yield from body.iter_chunks(_CHUNK_BYTES)
        finally:
            body.close()
