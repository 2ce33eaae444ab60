"""Exports in the documents bucket, under `exports/<organisation id>/<random>/<file name>`.

An export is written to a temporary file first (the CSV's tax columns are known only once every
row was read), then uploaded in parts (`upload_fileobj` switches to a multipart upload above
8 MB), so neither step holds the file in memory. The download is a presigned GET valid for a few
minutes, naming the file for the browser; the random path part keeps one export's address from
being guessed from another's. The bucket's lifecycle rule removes exports a day later.
"""

from __future__ import annotations

import secrets
import tempfile
from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from typing import IO, TYPE_CHECKING

from boto3.s3.transfer import TransferConfig

from remit.adapters.s3_bucket import S3Bucket
from remit.ports.exports import ExportDownload

if TYPE_CHECKING:
    pass

#: How long a download address works: long enough to follow a redirect, short enough to be no
#: lasting way into the organisation's books.
DOWNLOAD_SECONDS = 300

#: Parts of 8 MB, two in flight: boto3's default (ten) could hold 80 MB of a 256 MB function.
UPLOAD = TransferConfig(multipart_chunksize=8 * 1024 * 1024, max_concurrency=2)

#: Rows are kept in memory up to this size before the temporary file goes to disk.
IN_MEMORY_BYTES = 1024 * 1024


class S3ExportFiles(S3Bucket):
    def scratch(self) -> AbstractContextManager[IO[bytes]]:
        return tempfile.SpooledTemporaryFile(max_size=IN_MEMORY_BYTES, mode="w+b")

    def publish(
        self, organisation_id: str, file_name: str, content_type: str, content: IO[bytes], now: datetime
    ) -> ExportDownload:
        key = export_key(organisation_id, secrets.token_urlsafe(16), file_name)
        content.seek(0)
        self._s3.upload_fileobj(
            content,
            self._bucket,
            key,
            ExtraArgs={"ContentType": content_type, "ContentDisposition": _attachment(file_name)},
            Config=UPLOAD,
        )
        url = self._s3.generate_presigned_url(
            "get_object",
            Params={
                "Bucket": self._bucket,
                "Key": key,
                "ResponseContentDisposition": _attachment(file_name),
                "ResponseContentType": content_type,
            },
            ExpiresIn=DOWNLOAD_SECONDS,
        )
        return ExportDownload(url, file_name, now + timedelta(seconds=DOWNLOAD_SECONDS))


def export_key(organisation_id: str, token: str, file_name: str) -> str:
    return f"exports/{organisation_id}/{token}/{file_name}"


def _attachment(file_name: str) -> str:
    # File names are made by Remit from the kind and the dates: plain ASCII, nothing to quote.
    return f'attachment; filename="{file_name}"'
