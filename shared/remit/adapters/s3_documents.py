"""Rendered invoice PDFs in a bucket, under `invoices/<organisation id>/<invoice id>/<revision>.pdf`.

One object per revision (the caller's name for what the PDF shows: status and amount paid), so a
paid or void invoice gets a fresh rendering with its PAID or VOID mark while the earlier one stays
readable. Which rendering is current is the caller's decision.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

PDF_CONTENT_TYPE = "application/pdf"


class S3DocumentStore:
    def __init__(self, client_factory: Callable[[], S3Client], bucket: str) -> None:
        self._client_factory = client_factory
        self._client: S3Client | None = None
        self._bucket = bucket

    @property
    def _s3(self) -> S3Client:
        if self._client is None:
            self._client = self._client_factory()
        return self._client

    def put_pdf(self, organisation_id: str, invoice_id: str, revision: str, content: bytes) -> None:
        self._s3.put_object(
            Bucket=self._bucket,
            Key=pdf_key(organisation_id, invoice_id, revision),
            Body=content,
            ContentType=PDF_CONTENT_TYPE,
        )

    def get_pdf(self, organisation_id: str, invoice_id: str, revision: str) -> bytes | None:
        try:
            response = self._s3.get_object(
                Bucket=self._bucket, Key=pdf_key(organisation_id, invoice_id, revision)
            )
        except ClientError as error:
            if error.response["Error"]["Code"] in {"NoSuchKey", "404"}:
                return None
            raise
        return response["Body"].read()


def pdf_key(organisation_id: str, invoice_id: str, revision: str) -> str:
    return f"invoices/{organisation_id}/{invoice_id}/{revision}.pdf"
