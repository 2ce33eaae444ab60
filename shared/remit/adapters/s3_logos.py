"""Organisation logos in the logo bucket, under `logos/<organisation id>/<content hash>.<ext>`."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

_EXTENSIONS = {"image/png": "png", "image/jpeg": "jpg", "image/svg+xml": "svg"}


class S3LogoStore:
    def __init__(self, client_factory: Callable[[], S3Client], bucket: str) -> None:
        self._client_factory = client_factory
        self._client: S3Client | None = None
        self._bucket = bucket

    @property
    def _s3(self) -> S3Client:
        if self._client is None:
            self._client = self._client_factory()
        return self._client

    def put_logo(self, organisation_id: str, content: bytes, content_type: str) -> str:
        digest = hashlib.sha256(content).hexdigest()[:24]
        key = f"logos/{organisation_id}/{digest}.{_EXTENSIONS[content_type]}"
        self._s3.put_object(
            Bucket=self._bucket,
            Key=key,
            Body=content,
            ContentType=content_type,
            CacheControl="public, max-age=31536000, immutable",
        )
        return key

    def get_logo(self, key: str) -> tuple[bytes, str] | None:
        try:
            response = self._s3.get_object(Bucket=self._bucket, Key=key)
        except ClientError as error:
            if error.response["Error"]["Code"] in {"NoSuchKey", "404"}:
                return None
            raise
        return response["Body"].read(), response.get("ContentType", "application/octet-stream")
