"""The local stack's journal: saves cost what changed, and a `kill -9` never leaves half a save."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from local.cloudformation import create_tables
from local.journal import Journal, iter_rows

TABLE = "remit-billing"
BUCKET = "remit-logos"
REPOSITORY = Path(__file__).resolve().parents[2]


@pytest.fixture
def emulation() -> Iterator[tuple[Any, Any]]:
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name="eu-west-1")
        create_tables(dynamodb, {"BillingTable": TABLE, "IdempotencyTable": "remit-idempotency"})
        s3 = boto3.client("s3", region_name="eu-west-1")
        s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        yield dynamodb, s3


def item(number: int, generation: int = 1) -> dict[str, Any]:
    return {"PK": {"S": "ORG#1"}, "SK": {"S": f"INVOICE#{number:05d}"}, "generation": {"N": str(generation)}}


def test_a_save_writes_only_what_changed_since_the_last_one(
    emulation: tuple[Any, Any], tmp_path: Path
) -> None:
    dynamodb, s3 = emulation
    journal = Journal(tmp_path, tables=[TABLE], buckets=[BUCKET])
    journal.attach()
    try:
        for number in range(500):
            dynamodb.put_item(TableName=TABLE, Item=item(number))
        s3.put_object(Bucket=BUCKET, Key="logo.png", Body=b"png", ContentType="image/png")
        assert journal.save().items == 500

        dynamodb.put_item(TableName=TABLE, Item=item(7, generation=2))
        dynamodb.delete_item(TableName=TABLE, Key={"PK": {"S": "ORG#1"}, "SK": {"S": "INVOICE#00008"}})
        second = journal.save()
    finally:
        journal.close()

    assert (second.items, second.objects) == (2, 0)
    rows = {row["SK"]["S"]: row for _, row in iter_rows(tmp_path)}
    assert len(rows) == 499
    assert rows["INVOICE#00007"]["generation"] == {"N": "2"}


def test_an_export_is_not_kept_across_restarts(emulation: tuple[Any, Any], tmp_path: Path) -> None:
    _, s3 = emulation
    journal = Journal(tmp_path, tables=[TABLE], buckets=[BUCKET])
    journal.attach()
    try:
        s3.put_object(Bucket=BUCKET, Key="exports/org_1/token/invoices.csv", Body=b"number\r\n")
        s3.put_object(Bucket=BUCKET, Key="logos/org_1/logo.png", Body=b"png")
        saved = journal.save()
    finally:
        journal.close()

    assert saved.objects == 1


def new_emulation() -> tuple[Any, Any]:
    dynamodb = boto3.client("dynamodb", region_name="eu-west-1")
    create_tables(dynamodb, {"BillingTable": TABLE})
    s3 = boto3.client("s3", region_name="eu-west-1")
    s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    return dynamodb, s3


def test_what_was_saved_is_restored_items_indexes_and_objects(tmp_path: Path) -> None:
    saved = item(1) | {
        "GSI1PK": {"S": "INVOICE_DUE#1"},
        "GSI1SK": {"S": "2026-12-01#o#i"},
        "blob": {"B": b"\x00\xff"},
    }
    with mock_aws():
        dynamodb, s3 = new_emulation()
        journal = Journal(tmp_path, tables=[TABLE], buckets=[BUCKET])
        journal.attach()
        dynamodb.put_item(TableName=TABLE, Item=saved)
        s3.put_object(
            Bucket=BUCKET, Key="a/logo.svg", Body=b"<svg/>", ContentType="image/svg+xml", Metadata={"k": "v"}
        )
        journal.save()
        journal.close()

    with mock_aws():
        dynamodb, s3 = new_emulation()
        restored = Journal(tmp_path, tables=[TABLE], buckets=[BUCKET])
        summary = restored.restore()
        found = dynamodb.query(
            TableName=TABLE,
            IndexName="GSI1",
            KeyConditionExpression="GSI1PK = :d",
            ExpressionAttributeValues={":d": {"S": "INVOICE_DUE#1"}},
        )["Items"]
        # The index holds the keys and what it projects: each entry's item is read from the table.
        found = [
            dynamodb.get_item(TableName=TABLE, Key={"PK": entry["PK"], "SK": entry["SK"]})["Item"]
            for entry in found
        ]
        logo = s3.get_object(Bucket=BUCKET, Key="a/logo.svg")
        restored.close()

    assert summary is not None
    assert (summary.items, summary.objects) == (1, 1)
    assert found == [saved]
    assert (logo["Body"].read(), logo["ContentType"], logo["Metadata"]) == (
        b"<svg/>",
        "image/svg+xml",
        {"k": "v"},
    )


# Runs in a child process: saves generation after generation of 2,000 items, each save one
# transaction, and prints each generation once it is committed, until it is killed.
_WRITER = """
import sys, boto3
from pathlib import Path
from moto import mock_aws
from local import moto_patches
from local.cloudformation import create_tables
from local.journal import Journal
moto_patches.install()
with mock_aws():
    dynamodb = boto3.client("dynamodb", region_name="eu-west-1")
    create_tables(dynamodb, {"BillingTable": "remit-billing"})
    journal = Journal(Path(sys.argv[1]), tables=["remit-billing"], buckets=[])
    journal.attach()
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends
    table = dynamodb_backends[DEFAULT_ACCOUNT_ID]["eu-west-1"].get_table("remit-billing")
    generation = 0
    while True:
        generation += 1
        for number in range(2000):
            table.put_item({"PK": {"S": "ORG#1"}, "SK": {"S": f"I#{number:05d}"},
                            "generation": {"N": str(generation)}, "padding": {"S": "x" * 200}})
        journal.save()
        print(generation, flush=True)
"""


@pytest.mark.parametrize("delay", [0.0, 0.013, 0.031, 0.057], ids=["at-once", "13ms", "31ms", "57ms"])
def test_kill_9_in_the_middle_of_a_save_leaves_the_last_complete_save(tmp_path: Path, delay: float) -> None:
    # Given a process saving generation after generation of the same 2,000 items
    environment = os.environ | {
        "PYTHONPATH": str(REPOSITORY),
        "AWS_ACCESS_KEY_ID": "x",
        "AWS_SECRET_ACCESS_KEY": "x",
    }
    writer = subprocess.Popen(
        [sys.executable, "-c", _WRITER, str(tmp_path)], stdout=subprocess.PIPE, text=True, env=environment
    )
    assert writer.stdout is not None
    committed = 0
    try:
        while committed < 2:
            line = writer.stdout.readline()
            assert line, "the writer stopped before saving twice"
            committed = int(line)
        # When it is killed at some moment of a later save
        time.sleep(delay)
        writer.send_signal(signal.SIGKILL)
    finally:
        writer.kill()
        writer.wait()

    # Then the database holds one whole generation, at least the last one reported committed
    generations = {int(row["generation"]["N"]) for _, row in iter_rows(tmp_path)}
    rows = list(iter_rows(tmp_path))
    assert len(rows) == 2000
    assert len(generations) == 1
    assert generations.pop() >= committed


def test_a_data_directory_of_the_earlier_format_is_imported_once(tmp_path: Path) -> None:
    # Given a snapshot as the earlier stack saved it: items in DynamoDB JSON, objects by content
    import hashlib
    import json

    body = b"<svg/>"
    blob = hashlib.sha256(body).hexdigest()
    (tmp_path / "blobs").mkdir()
    (tmp_path / "blobs" / blob).write_bytes(body)
    saved = item(1) | {"blob": {"B": "AP8="}}
    (tmp_path / "snapshot.json").write_text(
        json.dumps(
            {
                "format": 1,
                "tables": {TABLE: [saved]},
                "buckets": {
                    BUCKET: [
                        {
                            "key": "logo.svg",
                            "blob": blob,
                            "etag": "x",
                            "content_type": "image/svg+xml",
                            "metadata": {},
                        }
                    ]
                },
            }
        )
    )

    # When the stack starts on it
    with mock_aws():
        dynamodb, s3 = new_emulation()
        journal = Journal(tmp_path, tables=[TABLE], buckets=[BUCKET])
        journal.attach()
        summary = journal.restore()
        found = dynamodb.get_item(TableName=TABLE, Key={"PK": saved["PK"], "SK": saved["SK"]})["Item"]
        logo = s3.get_object(Bucket=BUCKET, Key="logo.svg")["Body"].read()
        journal.close()

    # Then its data is served and saved in the new format, and the old file is set aside
    assert summary is not None
    assert (summary.items, summary.objects) == (1, 1)
    assert found["blob"] == {"B": b"\x00\xff"}
    assert logo == body
    assert [row["SK"] for _, row in iter_rows(tmp_path)] == [saved["SK"]]
    assert not (tmp_path / "snapshot.json").exists()
    assert (tmp_path / "snapshot.json.imported").exists()
