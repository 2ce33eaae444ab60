"""Keeping the emulation's data across restarts: snapshots of every table item and bucket object.

moto holds its state in memory only, so the stack copies it to the data directory and back,
through the same AWS APIs a client uses (Scan, BatchWriteItem, GetObject, PutObject).

Layout of the data directory::

    snapshot.json        every table's items and every bucket's object index, in one file
    blobs/<sha256>       object bodies, named by content (written once, never changed)

`snapshot.json` is replaced atomically, and blobs are written before the index that names them
and deleted only after an index that no longer names them is in place, so whatever moment the
process dies at, the data directory holds one complete snapshot.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import logging
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from local.atomic_files import write_atomically

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_s3.client import S3Client

logger = logging.getLogger(__name__)

SNAPSHOT_FORMAT = 1
_BATCH_WRITE_LIMIT = 25  # DynamoDB's maximum number of requests in one BatchWriteItem


class SnapshotError(RuntimeError):
    """The data directory holds a snapshot this stack cannot read; it is left untouched."""


@dataclass(frozen=True)
class SnapshotSummary:
    """How much a snapshot held."""

    items: int
    objects: int


class SnapshotStore:
    """Saves the named tables and buckets to `data_dir` and restores them into a fresh emulation."""

    def __init__(
        self,
        data_dir: Path,
        dynamodb: DynamoDBClient,
        s3: S3Client,
        tables: Sequence[str],
        buckets: Sequence[str],
    ) -> None:
        self._index_path = data_dir / "snapshot.json"
        self._blobs = data_dir / "blobs"
        self._dynamodb = dynamodb
        self._s3 = s3
        self._tables = tuple(tables)
        self._buckets = tuple(buckets)
        # The object index of the last snapshot saved or restored, so unchanged objects are not re-read.
        self._known_objects: dict[tuple[str, str], dict[str, Any]] = {}

    def save(self) -> SnapshotSummary:
        """Write a snapshot of every item and object now in the emulation, replacing the previous one.

        The caller keeps writers out while this runs, so that no request is half in the snapshot.
        """
        tables = {table: [_encode_item(item) for item in self._scan(table)] for table in self._tables}
        buckets = {bucket: self._save_objects(bucket) for bucket in self._buckets}
        document = {
            "format": SNAPSHOT_FORMAT,
            "taken_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "tables": tables,
            "buckets": buckets,
        }
        write_atomically(self._index_path, json.dumps(document, separators=(",", ":")).encode())
        self._known_objects = {
            (bucket, entry["key"]): entry for bucket, entries in buckets.items() for entry in entries
        }
        self._delete_unreferenced_blobs()
        return SnapshotSummary(items=sum(map(len, tables.values())), objects=sum(map(len, buckets.values())))

    def restore(self) -> SnapshotSummary | None:
        """Load the saved snapshot into the (empty) emulation; None when there is none yet.

        Raises `SnapshotError` when the snapshot cannot be read, rather than start empty and
        overwrite it at the next save.
        """
        try:
            document = json.loads(self._index_path.read_bytes())
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as error:
            raise SnapshotError(f"cannot read {self._index_path}: {error}") from error
        if not isinstance(document, dict) or document.get("format") != SNAPSHOT_FORMAT:
            raise SnapshotError(f"{self._index_path} is not a format {SNAPSHOT_FORMAT} snapshot")

        items = 0
        for table, encoded_items in document.get("tables", {}).items():
            if table not in self._tables:
                logger.warning("snapshot names table %s, which this stack no longer has; skipped", table)
                continue
            self._batch_write(table, [_decode_item(item) for item in encoded_items])
            items += len(encoded_items)

        objects = 0
        for bucket, entries in document.get("buckets", {}).items():
            if bucket not in self._buckets:
                logger.warning("snapshot names bucket %s, which this stack no longer has; skipped", bucket)
                continue
            for entry in entries:
                if self._restore_object(bucket, entry):
                    self._known_objects[(bucket, entry["key"])] = entry
                    objects += 1
        return SnapshotSummary(items=items, objects=objects)

    def _scan(self, table: str) -> Iterator[dict[str, Any]]:
        for page in self._dynamodb.get_paginator("scan").paginate(TableName=table, ConsistentRead=True):
            yield from page.get("Items", [])

    def _batch_write(self, table: str, items: list[dict[str, Any]]) -> None:
        for start in range(0, len(items), _BATCH_WRITE_LIMIT):
            batch = items[start : start + _BATCH_WRITE_LIMIT]
            pending: Any = {table: [{"PutRequest": {"Item": item}} for item in batch]}
            for attempt in range(10):
                pending = self._dynamodb.batch_write_item(RequestItems=pending).get("UnprocessedItems")
                if not pending:
                    break
                time.sleep(0.05 * 2**attempt)
            else:
                raise SnapshotError(f"DynamoDB kept refusing items of {table} while restoring")

    def _save_objects(self, bucket: str) -> list[dict[str, Any]]:
        entries = []
        for page in self._s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            for listed in page.get("Contents", []):
                key, etag = listed["Key"], listed["ETag"]
                known = self._known_objects.get((bucket, key))
                if known and known["etag"] == etag and (self._blobs / known["blob"]).exists():
                    entries.append(known)
                    continue
                with contextlib.suppress(self._s3.exceptions.NoSuchKey):  # deleted since the listing
                    entries.append(self._save_object(bucket, key))
        return entries

    def _save_object(self, bucket: str, key: str) -> dict[str, Any]:
        fetched = self._s3.get_object(Bucket=bucket, Key=key)
        body = fetched["Body"].read()
        blob = hashlib.sha256(body).hexdigest()
        if not (self._blobs / blob).exists():
            write_atomically(self._blobs / blob, body)
        return {
            "key": key,
            "blob": blob,
            "etag": fetched["ETag"],
            "content_type": fetched.get("ContentType", "binary/octet-stream"),
            "metadata": fetched.get("Metadata", {}),
        }

    def _restore_object(self, bucket: str, entry: dict[str, Any]) -> bool:
        try:
            body = (self._blobs / entry["blob"]).read_bytes()
        except FileNotFoundError:
            logger.warning("object s3://%s/%s has lost its content; skipped", bucket, entry["key"])
            return False
        put = self._s3.put_object(
            Bucket=bucket,
            Key=entry["key"],
            Body=body,
            ContentType=entry["content_type"],
            Metadata=entry["metadata"],
        )
        entry["etag"] = put["ETag"]
        return True

    def _delete_unreferenced_blobs(self) -> None:
        referenced = {entry["blob"] for entry in self._known_objects.values()}
        if not self._blobs.is_dir():
            return
        for blob in self._blobs.iterdir():
            if blob.name not in referenced:
                blob.unlink(missing_ok=True)


def _encode_item(item: dict[str, Any]) -> dict[str, Any]:
    """An item in DynamoDB's typed JSON, with binary values as base64 text so it fits in JSON."""
    return {name: _encode_value(value) for name, value in item.items()}


def _encode_value(value: dict[str, Any]) -> dict[str, Any]:
    ((kind, content),) = value.items()
    if kind == "B":
        return {"B": base64.b64encode(content).decode()}
    if kind == "BS":
        return {"BS": [base64.b64encode(member).decode() for member in content]}
    if kind == "M":
        return {"M": _encode_item(content)}
    if kind == "L":
        return {"L": [_encode_value(member) for member in content]}
    return value


def _decode_item(item: dict[str, Any]) -> dict[str, Any]:
    return {name: _decode_value(value) for name, value in item.items()}


def _decode_value(value: dict[str, Any]) -> dict[str, Any]:
    ((kind, content),) = value.items()
    if kind == "B":
        return {"B": base64.b64decode(content)}
    if kind == "BS":
        return {"BS": [base64.b64decode(member) for member in content]}
    if kind == "M":
        return {"M": _decode_item(content)}
    if kind == "L":
        return {"L": [_decode_value(member) for member in content]}
    return value
