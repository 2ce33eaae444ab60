"""Imported files in the documents bucket, under `imports/<organisation id>/<import id>`.

The bucket's lifecycle rule (template.yaml, `ExpireImportFiles`) removes them some days after
upload: an import's record keeps its report, the file itself is needed only while it runs.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from remit.adapters.s3_bucket import S3Bucket
from remit.domain.errors import NotFound

if TYPE_CHECKING:
    pass

PREFIX = "imports/"
_CHUNK_BYTES = 64 * 1024


def import_file_key(organisation_id: str, import_id: str) -> str:
    return f"{PREFIX}{organisation_id}/{import_id}"


class S3ImportFiles(S3Bucket):
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
