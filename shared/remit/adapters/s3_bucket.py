"""One bucket of S3, its client made on first use (a cold start that never touches S3 pays nothing
for it, and tests start their mock before any client exists)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


class S3Bucket:
    def __init__(self, client_factory: Callable[[], S3Client], bucket: str) -> None:
        self._client_factory = client_factory
        self._client: S3Client | None = None
        self._bucket = bucket

    @property
    def _s3(self) -> S3Client:
        if self._client is None:
            self._client = self._client_factory()
        return self._client
