"""Keeping the emulation's data across restarts, saving only what changed since the last save.

moto holds its state in memory only. Every change to a table item (seen through
`local.moto_patches.on_item_changed`) or to a bucket object (seen by wrapping moto's S3 backend)
marks its key as changed; `save()` writes the items and objects of those keys, as they now are,
to an SQLite database in the data directory, in one SQLite transaction. A save therefore costs
what changed, not what is stored, and the database is never half-written: a process killed at
any moment (even `kill -9` in the middle of a save) leaves the last committed save, which SQLite's
write-ahead log guarantees. SQLite also compacts the log into the database by itself
(checkpoints), so the journal never grows without bound.

Layout of the data directory::

    remit.sqlite3           items(table_name, hash_key, range_key, item) and
                            objects(bucket, key, metadata, body), with SQLite's -wal and -shm files

A data directory written by an earlier version of the stack (`snapshot.json` and `blobs/`) is
imported once, on the first start, and `snapshot.json` is renamed `snapshot.json.imported`.

The emulation runs in this process, so restoring writes straight into moto's models (no stream
records: outbox messages restored as pending are delivered by the notifications sweep).
"""

from __future__ import annotations

import contextlib
import json
import logging
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from local import moto_patches
from local.environment import REGION

logger = logging.getLogger(__name__)

DATABASE_NAME = "remit.sqlite3"
LEGACY_SNAPSHOT = "snapshot.json"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS items (
    table_name TEXT NOT NULL,
    hash_key TEXT NOT NULL,
    range_key TEXT NOT NULL,
    item TEXT NOT NULL,
    PRIMARY KEY (table_name, hash_key, range_key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS objects (
    bucket TEXT NOT NULL,
    key TEXT NOT NULL,
    metadata TEXT NOT NULL,
    body BLOB NOT NULL,
    PRIMARY KEY (bucket, key)
);
"""


#: Objects not kept across restarts.
TRANSIENT_PREFIXES = ("exports/",)


class JournalError(RuntimeError):
    """The data directory holds data this stack cannot read; it is left untouched."""


@dataclass(frozen=True)
class SaveSummary:
    """How many items and objects a save wrote or deleted, or a restore loaded."""

    items: int
    objects: int


class Journal:
    """The emulation's tables and buckets, kept in `data_dir/remit.sqlite3`.

    `attach()` starts watching changes (before anything writes to the emulation); `restore()`
    loads the saved data; `save()` writes what changed since the previous save.
    """

    def __init__(self, data_dir: Path, tables: Sequence[str], buckets: Sequence[str]) -> None:
        self._data_dir = data_dir
        self._tables = tuple(tables)
        self._buckets = tuple(buckets)
        self._lock = threading.Lock()
        self._changed_items: set[tuple[str, Any, Any]] = set()
        self._changed_objects: set[tuple[str, str]] = set()
        self._detach: list[Callable[[], None]] = []
        self._connection: sqlite3.Connection | None = None

    # --- watching --------------------------------------------------------------------------

    def attach(self) -> None:
        """Start noting every change to the stack's tables and buckets."""
        self._detach.append(moto_patches.on_item_changed(self._item_changed))
        self._detach.append(_watch_objects(self._object_changed))

    def close(self) -> None:
        """Stop watching and close the database (after the final save)."""
        for detach in self._detach:
            detach()
        self._detach.clear()
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def _item_changed(self, table_name: str, hash_key: Any, range_key: Any) -> None:
        if table_name in self._tables:
            with self._lock:
                self._changed_items.add((table_name, hash_key, range_key))

    def _object_changed(self, bucket: str, key: str) -> None:
        # An export is downloaded within minutes of being made and never read again (AWS's
        # lifecycle rule removes it after a day): it is not kept across restarts.
        if bucket in self._buckets and not key.startswith(TRANSIENT_PREFIXES):
            with self._lock:
                self._changed_objects.add((bucket, key))

    @property
    def pending(self) -> int:
        """How many changed items and objects the next save will write."""
        with self._lock:
            return len(self._changed_items) + len(self._changed_objects)

    # --- saving ----------------------------------------------------------------------------

    def save(self) -> SaveSummary:
        """Write every item and object changed since the last save, as it now is, in one transaction.

        The caller keeps writers out while this runs, so that no request is half in the save. On
        failure the changes stay noted and the next save writes them.
        """
        with self._lock:
            items, self._changed_items = self._changed_items, set()
            objects, self._changed_objects = self._changed_objects, set()
        try:
            connection = self._database()
            with connection:  # one SQLite transaction: all of it, or none of it
                for table_name, hash_key, range_key in items:
                    self._save_item(connection, table_name, hash_key, range_key)
                for bucket, key in objects:
                    self._save_object(connection, bucket, key)
        except BaseException:
            with self._lock:
                self._changed_items |= items
                self._changed_objects |= objects
            raise
        return SaveSummary(items=len(items), objects=len(objects))

    def _save_item(
        self, connection: sqlite3.Connection, table_name: str, hash_key: Any, range_key: Any
    ) -> None:
        row_key = (table_name, _key_text(hash_key), _key_text(range_key))
        item = moto_patches.current_item(_table(table_name), hash_key, range_key)
        if item is None:
            connection.execute(
                "DELETE FROM items WHERE table_name = ? AND hash_key = ? AND range_key = ?", row_key
            )
        else:
            connection.execute(
                "INSERT OR REPLACE INTO items VALUES (?, ?, ?, ?)",
                (*row_key, moto_patches.encode_attributes(item.to_json()["Attributes"])),
            )

    def _save_object(self, connection: sqlite3.Connection, bucket: str, key: str) -> None:
        stored = _s3().get_bucket(bucket).keys.get(key)
        if stored is None:
            connection.execute("DELETE FROM objects WHERE bucket = ? AND key = ?", (bucket, key))
        else:
            connection.execute(
                "INSERT OR REPLACE INTO objects VALUES (?, ?, ?, ?)",
                (bucket, key, json.dumps(dict(stored.metadata)), stored.value),
            )

    # --- restoring -------------------------------------------------------------------------

    def restore(self) -> SaveSummary | None:
        """Load the saved data into the (empty) emulation; None when there is none yet.

        Raises `JournalError` when the saved data cannot be read, rather than start empty and
        overwrite it.
        """
        legacy = self._data_dir / LEGACY_SNAPSHOT
        database = self._data_dir / DATABASE_NAME
        if not database.exists() and legacy.exists():
            return self._import_legacy(legacy)
        if not database.exists():
            return None
        try:
            connection = self._database()
            items = objects = 0
            for table_name, encoded in connection.execute("SELECT table_name, item FROM items"):
                if table_name in self._tables:
                    moto_patches.load_item(
                        _table(table_name), moto_patches.binary_as_bytes(json.loads(encoded))
                    )
                    items += 1
            for bucket, key, metadata, body in connection.execute(
                "SELECT bucket, key, metadata, body FROM objects"
            ):
                if bucket in self._buckets:
                    _put_object(bucket, key, json.loads(metadata), body)
                    objects += 1
        except (sqlite3.Error, ValueError) as error:
            raise JournalError(f"cannot read {database}: {error}") from error
        with self._lock:  # loading wrote nothing new
            self._changed_items.clear()
            self._changed_objects.clear()
        return SaveSummary(items=items, objects=objects)

    def _import_legacy(self, legacy: Path) -> SaveSummary:
        """Load a snapshot of the earlier format, save it in the database, and set the old file aside."""
        try:
            document = json.loads(legacy.read_bytes())
        except (OSError, ValueError) as error:
            raise JournalError(f"cannot read {legacy}: {error}") from error
        if not isinstance(document, dict) or document.get("format") != 1:
            raise JournalError(f"{legacy} is not a snapshot this stack can read")
        items = objects = 0
        for table_name, encoded_items in document.get("tables", {}).items():
            if table_name in self._tables:
                for encoded in map(moto_patches.binary_as_bytes, encoded_items):
                    moto_patches.load_item(_table(table_name), encoded)
                    hash_key, range_key = _keys_of(_table(table_name), encoded)
                    self._changed_items.add((table_name, hash_key, range_key))
                    items += 1
        for bucket, entries in document.get("buckets", {}).items():
            if bucket not in self._buckets:
                continue
            for entry in entries:
                with contextlib.suppress(FileNotFoundError):
                    body = (self._data_dir / "blobs" / entry["blob"]).read_bytes()
                    metadata = {"Content-Type": entry["content_type"]} | {
                        f"x-amz-meta-{name}": value for name, value in entry.get("metadata", {}).items()
                    }
                    _put_object(bucket, entry["key"], metadata, body)
                    self._changed_objects.add((bucket, entry["key"]))
                    objects += 1
        self.save()
        legacy.rename(legacy.with_name(LEGACY_SNAPSHOT + ".imported"))
        logger.info("imported %s into %s", legacy, DATABASE_NAME)
        return SaveSummary(items=items, objects=objects)

    def _database(self) -> sqlite3.Connection:
        if self._connection is None:
            self._data_dir.mkdir(parents=True, exist_ok=True)
            # Used from the autosave thread and at shutdown, never at the same time.
            connection = sqlite3.connect(self._data_dir / DATABASE_NAME, check_same_thread=False)
            # WAL: a commit is one append to the log, and a crash mid-write leaves the last commit.
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")
            connection.executescript(_SCHEMA)
            self._connection = connection
        return self._connection


def _key_text(key: Any) -> str:
    return "" if key is None else json.dumps(key.to_json(), separators=(",", ":"))


def _keys_of(table: Any, attributes: dict[str, Any]) -> tuple[Any, Any]:
    from moto.dynamodb.models.dynamo_type import DynamoType

    hash_key = DynamoType(attributes[table.hash_key_attr])
    range_key = DynamoType(attributes[table.range_key_attr]) if table.range_key_attr else None
    return hash_key, range_key


def _table(name: str) -> Any:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    return dynamodb_backends[DEFAULT_ACCOUNT_ID][REGION].get_table(name)


def _s3() -> Any:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.s3.models import s3_backends

    return s3_backends[DEFAULT_ACCOUNT_ID]["global"]


def _put_object(bucket: str, key: str, metadata: dict[str, str], body: bytes) -> None:
    stored = _s3().put_object(bucket, key, body)
    stored.set_metadata(metadata)


def _watch_objects(on_change: Callable[[str, str], None]) -> Callable[[], None]:
    """Call `on_change(bucket, key)` whenever moto's S3 writes or deletes an object; returns the undo."""
    from moto.s3.models import S3Backend

    originals = {
        name: getattr(S3Backend, name)
        for name in ("put_object", "delete_object", "delete_objects", "copy_object")
    }

    def put_object(self: Any, bucket_name: str, key_name: str, *args: Any, **kwargs: Any) -> Any:
        try:
            return originals["put_object"](self, bucket_name, key_name, *args, **kwargs)
        finally:
            on_change(bucket_name, key_name)

    def delete_object(self: Any, bucket_name: str, key_name: str, *args: Any, **kwargs: Any) -> Any:
        try:
            return originals["delete_object"](self, bucket_name, key_name, *args, **kwargs)
        finally:
            on_change(bucket_name, key_name)

    def delete_objects(
        self: Any, bucket_name: str, objects: list[dict[str, Any]], *args: Any, **kwargs: Any
    ) -> Any:
        try:
            return originals["delete_objects"](self, bucket_name, objects, *args, **kwargs)
        finally:
            for entry in objects:
                on_change(bucket_name, entry["Key"])

    def copy_object(
        self: Any, src_key: Any, dest_bucket_name: str, dest_key_name: str, *args: Any, **kwargs: Any
    ) -> Any:
        try:
            return originals["copy_object"](self, src_key, dest_bucket_name, dest_key_name, *args, **kwargs)
        finally:
            on_change(dest_bucket_name, dest_key_name)

    S3Backend.put_object = put_object  # type: ignore[method-assign]
    S3Backend.delete_object = delete_object  # type: ignore[method-assign]
    S3Backend.delete_objects = delete_objects  # type: ignore[method-assign]
    S3Backend.copy_object = copy_object  # type: ignore[method-assign]

    def detach() -> None:
        for name, original in originals.items():
            setattr(S3Backend, name, original)

    return detach


def iter_rows(data_dir: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every saved item as (table name, DynamoDB JSON, binary in base64): for tests and tools."""
    connection = sqlite3.connect(f"file:{data_dir / DATABASE_NAME}?mode=ro", uri=True)
    try:
        for table_name, encoded in connection.execute("SELECT table_name, item FROM items"):
            yield table_name, json.loads(encoded)
    finally:
        connection.close()
