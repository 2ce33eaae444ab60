"""Organisation logos in the logo bucket, under `logos/<organisation id>/<content hash>.<ext>`.

Objects are never deleted or overwritten with other content (the key is the content's hash): an
issued invoice keeps showing the logo it was issued with. Which logo is current is the
organisation's `branding.logo_url`, and only that one is served at its public URL.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from remit.adapters.s3_bucket import S3Bucket
from remit.domain.logos import LOGO_KEY_PREFIX, PreparedLogo

if TYPE_CHECKING:
    pass

_EXTENSIONS = {"image/png": "png", "image/jpeg": "jpg"}
# The headers of the object itself, for anything that ever reads it from the bucket: a logo may be
# replaced at any time, so no cache keeps it long.
CACHE_CONTROL = "public, max-age=300"


class S3LogoStore(S3Bucket):
    def put_logo(self, organisation_id: str, logo: PreparedLogo) -> str:
        digest = hashlib.sha256(logo.content).hexdigest()[:24]
        key = f"{LOGO_KEY_PREFIX}{organisation_id}/{digest}.{_EXTENSIONS[logo.content_type]}"
        self._s3.put_object(
            Bucket=self._bucket,
            Key=key,
            Body=logo.content,
            ContentType=logo.content_type,
            ContentDisposition="inline",
            CacheControl=CACHE_CONTROL,
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
