"""The emulation's DynamoDB costs what a request touches, and behaves as moto (and DynamoDB) does.

These tests guard `local/moto_patches.py`: they fail when moto's internals move under it
(another version, a renamed attribute, a transaction that copies tables again) and when the
patched transactions, queries, stream trimming or expiry answer differently from moto's own code.
"""

from __future__ import annotations

import inspect
import random
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from local import moto_patches
from local.cloudformation import create_tables

TABLE = "remit-billing"


@pytest.fixture
def dynamodb() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("dynamodb", region_name="eu-west-1")
        create_tables(client, {"BillingTable": TABLE, "IdempotencyTable": "remit-idempotency"})
        yield client


def moto_table(name: str = TABLE) -> Any:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    return dynamodb_backends[DEFAULT_ACCOUNT_ID]["eu-west-1"].get_table(name)


def invoice(number: int, organisation: int = 0, **extra: str) -> dict[str, Any]:
    item = {
        "PK": {"S": f"ORG#{organisation}"},
        "SK": {"S": f"INVOICE#{number:06d}"},
        "status": {"S": "open"},
        "GSI1PK": {"S": f"INVOICE_DUE#{number % 4}"},
        "GSI1SK": {"S": f"2026-{number % 12 + 1:02d}-{number % 28 + 1:02d}#{organisation}#{number}"},
    }
    return item | {name: {"S": value} for name, value in extra.items()}


def load(client: Any, items: list[dict[str, Any]]) -> None:
    for start in range(0, len(items), 25):
        client.batch_write_item(
            RequestItems={TABLE: [{"PutRequest": {"Item": item}} for item in items[start : start + 25]]}
        )


def key(item: dict[str, Any]) -> dict[str, Any]:
    return {"PK": item["PK"], "SK": item["SK"]}


# --- pinned to moto's internals -------------------------------------------------------------


def test_the_patches_are_pinned_to_the_installed_moto_version() -> None:
    import moto

    assert moto.__version__ == moto_patches.MOTO_VERSION


def test_moto_still_backs_up_tables_the_way_the_undo_log_replaces() -> None:
    # The undo log relies on moto's transaction taking `copy.deepcopy(self.tables[...])` as its
    # backup and assigning it back on cancellation: if that changes, the patch must change too.
    from moto.dynamodb import models

    source = inspect.getsource(models)
    assert "original_table_state[table_name] = copy.deepcopy(" in source
    assert "self.tables[table_name] = original_table_state[table_name]" in source
    assert isinstance(models.copy, moto_patches._TablesAreTheirOwnBackup)


def test_moto_still_keeps_partitions_stream_shards_and_indexes_where_the_patches_look(dynamodb: Any) -> None:
    from sortedcontainers import SortedDict

    table = moto_table()
    dynamodb.put_item(TableName=TABLE, Item=invoice(1))
    assert isinstance(table.items[next(iter(table.items))], SortedDict)
    assert table.stream_shard is not None
    assert hasattr(table.stream_shard, "starting_sequence_number")
    assert {index.name for index in table.global_indexes} >= {"GSI1"}
    assert moto_patches.original_query is not None


# --- transactions: an undo log of the touched items -----------------------------------------


def test_a_cancelled_transaction_on_5000_items_restores_exactly_the_touched_items(dynamodb: Any) -> None:
    # Given a table of 5,000 items
    stored = [invoice(number) for number in range(5000)]
    load(dynamodb, stored)
    before = moto_patches.UndoStatistics(**vars(moto_patches.STATISTICS))
    stream_before = len(moto_table().stream_shard.items)

    # When a transaction changes two items, adds one and deletes one, then fails its last condition
    with pytest.raises(ClientError) as cancelled:
        dynamodb.transact_write_items(
            TransactItems=[
                {
                    "Update": {
                        "TableName": TABLE,
                        "Key": key(stored[10]),
                        "UpdateExpression": "SET #s = :paid REMOVE GSI1PK",
                        "ExpressionAttributeNames": {"#s": "status"},
                        "ExpressionAttributeValues": {":paid": {"S": "paid"}},
                    }
                },
                {"Put": {"TableName": TABLE, "Item": invoice(20, status="void")}},
                {"Put": {"TableName": TABLE, "Item": invoice(99999)}},
                {"Delete": {"TableName": TABLE, "Key": key(stored[30])}},
                {
                    "ConditionCheck": {
                        "TableName": TABLE,
                        "Key": key(stored[40]),
                        "ConditionExpression": "attribute_not_exists(PK)",
                    }
                },
            ]
        )

    # Then it is cancelled with moto's reasons, every item is as it was, and so are the indexes
    reasons = [reason["Code"] for reason in cancelled.value.response["CancellationReasons"]]
    assert reasons == ["None", "None", "None", "None", "ConditionalCheckFailed"]
    scanned = [
        item for page in dynamodb.get_paginator("scan").paginate(TableName=TABLE) for item in page["Items"]
    ]
    assert sorted(scanned, key=lambda item: item["SK"]["S"]) == stored
    due = dynamodb.query(
        TableName=TABLE,
        IndexName="GSI1",
        KeyConditionExpression="GSI1PK = :due",
        ExpressionAttributeValues={":due": stored[10]["GSI1PK"]},
    )["Items"]
    # (the index holds the keys and what it projects: the item is the table's)
    assert key(stored[10]) in [key(entry) for entry in due]
    assert dynamodb.get_item(TableName=TABLE, Key=key(stored[10]))["Item"] == stored[10]
    assert len(due) == 1250
    # And only the four touched items were copied, never a table; the stream shows no trace of it
    after = moto_patches.STATISTICS
    assert after.items_saved - before.items_saved == 4
    assert after.items_restored - before.items_restored == 4
    assert after.tables_copied == before.tables_copied
    assert len(moto_table().stream_shard.items) == stream_before


def test_a_committed_transaction_copies_only_what_it_touches(dynamodb: Any) -> None:
    load(dynamodb, [invoice(number) for number in range(2000)])
    before = moto_patches.STATISTICS.items_saved

    dynamodb.transact_write_items(
        TransactItems=[
            {
                "Put": {
                    "TableName": TABLE,
                    "Item": invoice(5000),
                    "ConditionExpression": "attribute_not_exists(PK)",
                }
            },
            {"Delete": {"TableName": TABLE, "Key": key(invoice(7))}},
        ]
    )

    assert moto_patches.STATISTICS.items_saved - before == 2
    assert "Item" in dynamodb.get_item(TableName=TABLE, Key=key(invoice(5000)))
    assert "Item" not in dynamodb.get_item(TableName=TABLE, Key=key(invoice(7)))


# --- queries: the key range asked for, answered as moto answers it --------------------------

QUERIES: list[dict[str, Any]] = [
    {"KeyConditionExpression": "PK = :p", "ExpressionAttributeValues": {":p": {"S": "ORG#1"}}},
    {
        "KeyConditionExpression": "PK = :p AND begins_with(SK, :s)",
        "ExpressionAttributeValues": {":p": {"S": "ORG#2"}, ":s": {"S": "INVOICE#0001"}},
    },
    {
        "KeyConditionExpression": "PK = :p AND SK BETWEEN :a AND :b",
        "ExpressionAttributeValues": {
            ":p": {"S": "ORG#0"},
            ":a": {"S": "INVOICE#000100"},
            ":b": {"S": "INVOICE#000400"},
        },
    },
    {
        "KeyConditionExpression": "PK = :p AND SK > :a",
        "ExpressionAttributeValues": {":p": {"S": "ORG#1"}, ":a": {"S": "INVOICE#000500"}},
    },
    {
        "KeyConditionExpression": "PK = :p AND SK <= :a",
        "ExpressionAttributeValues": {":p": {"S": "ORG#1"}, ":a": {"S": "INVOICE#000301"}},
    },
    {
        "KeyConditionExpression": "PK = :p AND SK < :a",
        "ExpressionAttributeValues": {":p": {"S": "ORG#2"}, ":a": {"S": "INVOICE#000302"}},
        "FilterExpression": "#s = :open",
        "ExpressionAttributeNames": {"#s": "status"},
    },
    {
        "IndexName": "GSI1",
        "KeyConditionExpression": "GSI1PK = :d AND GSI1SK <= :s",
        "ExpressionAttributeValues": {":d": {"S": "INVOICE_DUE#1"}, ":s": {"S": "2026-06-30"}},
    },
    {
        "IndexName": "GSI1",
        "KeyConditionExpression": "GSI1PK = :d AND begins_with(GSI1SK, :s)",
        "ExpressionAttributeValues": {":d": {"S": "INVOICE_DUE#2"}, ":s": {"S": "2026-03"}},
    },
    {
        "IndexName": "GSI1",
        "KeyConditionExpression": "GSI1PK = :d",
        "ExpressionAttributeValues": {":d": {"S": "X"}},
    },
]


def all_pages(client: Any, request: dict[str, Any]) -> Iterator[tuple[list[Any], int]]:
    while True:
        page = client.query(TableName=TABLE, **request)
        yield page["Items"], page["ScannedCount"]
        if "LastEvaluatedKey" not in page:
            return
        request = request | {"ExclusiveStartKey": page["LastEvaluatedKey"]}


def test_key_range_queries_answer_as_moto_does(dynamodb: Any) -> None:
    # Given items spread over partitions and index shards, some changed and deleted since
    rng = random.Random(8)
    stored = [invoice(number, organisation=rng.randrange(3)) for number in range(900)]
    load(dynamodb, stored)
    for item in rng.sample(stored, 60):
        dynamodb.delete_item(TableName=TABLE, Key=key(item))
    for item in rng.sample(stored, 60):
        dynamodb.update_item(
            TableName=TABLE,
            Key=key(item),
            UpdateExpression="SET #s = :paid, GSI1SK = :later",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":paid": {"S": "paid"}, ":later": {"S": "2026-07-01#x"}},
        )
    table_class = type(moto_table())
    patched_query = table_class.query
    left_to_moto = moto_patches.STATISTICS.queries_left_to_moto
    for number, query in enumerate(QUERIES):
        if "FilterExpression" in query:
            query["ExpressionAttributeValues"][":open"] = {"S": "open"}
        for forward in (True, False):
            for limit in (None, 7):
                request = query | {"ScanIndexForward": forward} | ({"Limit": limit} if limit else {})

                # When the same query runs patched (served by the patch, not left to moto) and with
                # moto's own code
                patched = list(all_pages(dynamodb, request))
                assert moto_patches.STATISTICS.queries_left_to_moto == left_to_moto, f"query {number}"
                table_class.query = moto_patches.original_query
                try:
                    stock = list(all_pages(dynamodb, request))
                finally:
                    table_class.query = patched_query

                # Then the same items come in the same order, in pages of the same sizes (moto may end
                # with one more, empty page: it looks one item past the key range, DynamoDB may too)
                assert [page for page in patched if page[0]] == [page for page in stock if page[0]], (
                    f"query {number}, forward={forward}, limit={limit}"
                )
                if limit:
                    assert all(scanned <= limit for _, scanned in patched)


def test_a_page_reads_only_its_items_however_large_the_partition(dynamodb: Any) -> None:
    load(dynamodb, [invoice(number) for number in range(3000)])
    table = moto_table()
    touched = 0
    original_size = type(next(iter(next(iter(table.items.values())).values()))).size

    def counting_size(item: Any) -> int:
        nonlocal touched
        touched += 1
        return original_size(item)

    item_class = type(next(iter(next(iter(table.items.values())).values())))
    item_class.size = counting_size
    try:
        page = dynamodb.query(
            TableName=TABLE,
            KeyConditionExpression="PK = :p AND begins_with(SK, :s)",
            ExpressionAttributeValues={":p": {"S": "ORG#0"}, ":s": {"S": "INVOICE#"}},
            Limit=20,
        )
    finally:
        item_class.size = original_size

    assert page["Count"] == 20
    assert touched <= 2 * 21  # each item looked at once or twice (size check, size sum)


# --- streams and time to live ---------------------------------------------------------------


def test_trimming_a_stream_keeps_sequence_numbers_and_later_records_readable(dynamodb: Any) -> None:
    streams = boto3.client("dynamodbstreams", region_name="eu-west-1")
    load(dynamodb, [invoice(number) for number in range(10)])
    arn = dynamodb.describe_table(TableName=TABLE)["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    records = streams.get_records(ShardIterator=iterator["ShardIterator"])["Records"]
    sixth = int(records[5]["dynamodb"]["SequenceNumber"])

    assert moto_patches.trim_stream(moto_table(), sixth) == 6
    dynamodb.put_item(TableName=TABLE, Item=invoice(10))

    iterator = streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard, ShardIteratorType="AFTER_SEQUENCE_NUMBER", SequenceNumber=str(sixth)
    )
    later = streams.get_records(ShardIterator=iterator["ShardIterator"])["Records"]
    assert [int(record["dynamodb"]["SequenceNumber"]) for record in later] == list(
        range(sixth + 1, sixth + 6)
    )
    assert len(moto_table().stream_shard.items) == 5


def test_items_past_their_time_to_live_expire_and_the_others_stay(dynamodb: Any) -> None:
    table = "remit-idempotency"
    for number, expiration in enumerate([100, 200, 300, 400]):
        dynamodb.put_item(
            TableName=table, Item={"id": {"S": f"key-{number}"}, "expiration": {"N": str(expiration)}}
        )
    # A record renewed since it was first written expires at its new time, not the old one
    dynamodb.put_item(TableName=table, Item={"id": {"S": "key-0"}, "expiration": {"N": "1000"}})

    assert moto_patches.expire_items(moto_table(table), now=250) == 1

    left = {item["id"]["S"] for item in dynamodb.scan(TableName=table)["Items"]}
    assert left == {"key-0", "key-2", "key-3"}


# --- responses and item storage -------------------------------------------------------------


def test_item_operations_answer_exactly_as_moto_serializer_would(dynamodb: Any) -> None:
    from moto.dynamodb.responses import DynamoResult

    nested = invoice(1) | {
        "lines": {"L": [{"M": {"amount": {"N": "1999"}, "note": {"NULL": True}}}]},
        "blob": {"B": b"\x00\xff"},
        "tags": {"SS": ["a", "b"]},
        "flag": {"BOOL": False},
    }

    def scenario() -> list[Any]:
        dynamodb.delete_item(TableName=TABLE, Key=key(nested))
        answers = [
            dynamodb.put_item(TableName=TABLE, Item=nested, ReturnValues="NONE"),
            dynamodb.put_item(TableName=TABLE, Item=nested, ReturnValues="ALL_OLD"),
            dynamodb.get_item(TableName=TABLE, Key=key(nested)),
            dynamodb.get_item(TableName=TABLE, Key=key(invoice(404))),
            dynamodb.update_item(
                TableName=TABLE,
                Key=key(nested),
                UpdateExpression="SET flag = :t",
                ExpressionAttributeValues={":t": {"BOOL": True}},
                ReturnValues="ALL_NEW",
            ),
            dynamodb.query(
                TableName=TABLE,
                KeyConditionExpression="PK = :p",
                ExpressionAttributeValues={":p": nested["PK"]},
                Limit=1,
            ),
            dynamodb.batch_get_item(RequestItems={TABLE: {"Keys": [key(nested), key(invoice(404))]}}),
            dynamodb.transact_write_items(
                TransactItems=[
                    {
                        "ConditionCheck": {
                            "TableName": TABLE,
                            "Key": key(nested),
                            "ConditionExpression": "attribute_exists(PK)",
                        }
                    }
                ]
            ),
            dynamodb.delete_item(TableName=TABLE, Key=key(nested), ReturnValues="ALL_OLD"),
        ]
        for answer in answers:
            answer.pop("ResponseMetadata")
        return answers

    fast = scenario()
    patched = DynamoResult.execute_result
    DynamoResult.execute_result = moto_patches._serialize_with_moto  # type: ignore[assignment]
    try:
        serialized = scenario()
    finally:
        DynamoResult.execute_result = patched
    assert fast == serialized


def test_stored_items_are_compact_and_read_back_whole(dynamodb: Any) -> None:
    import pickle

    nested = invoice(3) | {"lines": {"L": [{"M": {"description": {"S": "Consulting " * 20}}}] * 5}}
    dynamodb.put_item(TableName=TABLE, Item=nested)

    partition = moto_table().items[next(iter(moto_table().items))]
    stored = dict.__getitem__(partition, next(iter(partition.keys())))
    assert isinstance(stored, bytes)
    assert len(stored) < len(pickle.dumps(partition[next(iter(partition.keys()))])) / 3
    assert dynamodb.get_item(TableName=TABLE, Key=key(nested))["Item"] == nested


def test_an_item_over_the_size_limit_is_refused(dynamodb: Any) -> None:
    big = invoice(4) | {"padding": {"S": "x" * 410_000}}
    with pytest.raises(ClientError) as refused:
        dynamodb.put_item(TableName=TABLE, Item=big)
    assert refused.value.response["Error"]["Code"] == "ValidationException"


def test_moto_keeps_no_list_of_every_item_it_ever_created(dynamodb: Any) -> None:
    from moto.dynamodb.models.dynamo_type import Item
    from moto.dynamodb.models.table import StreamRecord

    for number in range(50):
        dynamodb.put_item(TableName=TABLE, Item=invoice(number))
        dynamodb.get_item(TableName=TABLE, Key=key(invoice(number)))

    assert Item.instances_tracked == []
    assert StreamRecord.instances_tracked == []
