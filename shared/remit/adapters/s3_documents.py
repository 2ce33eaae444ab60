"""Rendered invoice PDFs in a bucket, under `invoices/<organisation id>/<invoice id>/<revision>.pdf`.

One object per revision (the caller's name for what the PDF shows: status and amount paid), so a
paid or void invoice gets a fresh rendering with its PAID or VOID mark while the earlier one stays
readable. Which rendering is current is the caller's decision.

Beside each, `<revision>.render.json` records the latest render that left no PDF (started, or
failed), so that a failure is remembered rather than tried again by every request.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from remit.adapters.s3_bucket import S3Bucket
from remit.domain.document_renders import RenderAttempt

if TYPE_CHECKING:
    pass

PDF_CONTENT_TYPE = "application/pdf"


class S3DocumentStore(S3Bucket):
    def put_pdf(self, organisation_id: str, invoice_id: str, revision: str, content: bytes) -> None:
        self._s3.put_object(
            Bucket=self._bucket,
            Key=pdf_key(organisation_id, invoice_id, revision),
            Body=content,
            ContentType=PDF_CONTENT_TYPE,
        )

    def get_pdf(self, organisation_id: str, invoice_id: str, revision: str) -> bytes | None:
        return self._read(pdf_key(organisation_id, invoice_id, revision))

    def put_render_attempt(
        self, organisation_id: str, invoice_id: str, revision: str, attempt: RenderAttempt
    ) -> None:
        self._s3.put_object(
            Bucket=self._bucket,
            Key=render_attempt_key(organisation_id, invoice_id, revision),
            Body=attempt.model_dump_json().encode(),
            ContentType="application/json",
        )

    def get_render_attempt(
        self, organisation_id: str, invoice_id: str, revision: str
    ) -> RenderAttempt | None:
        content = self._read(render_attempt_key(organisation_id, invoice_id, revision))
        return None if content is None else RenderAttempt.model_validate_json(content)

    def _read(self, key: str) -> bytes | None:
        try:
            response = self._s3.get_object(Bucket=self._bucket, Key=key)
        except ClientError as error:
            if error.response["Error"]["Code"] in {"NoSuchKey", "404"}:
                return None
            raise
        return response["Body"].read()


def pdf_key(organisation_id: str, invoice_id: str, revision: str) -> str:
    return f"invoices/{organisation_id}/{invoice_id}/{revision}.pdf"


def render_attempt_key(organisation_id: str, invoice_id: str, revision: str) -> str:
    return f"invoices/{organisation_id}/{invoice_id}/{revision}.render.json"
