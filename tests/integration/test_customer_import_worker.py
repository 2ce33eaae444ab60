"""The import worker: parts of a file a message at a time, exact counts whatever the redeliveries,
crashes midway or a part saved but its successor never queued."""

from __future__ import annotations

import pytest

from tests.integration.api_client import ApiClient
from tests.integration.billing_queue import BillingQueue
from tests.integration.conftest import reset_remit
from tests.integration.customer_imports import customers_of, upload
from tests.integration.faults import crash_after

ROWS = 7
CONTENT = (
    "Name,Email,Customer ID\n" + "".join(f"Customer {n},c{n}@shop.test,ext-{n}\n" for n in range(ROWS))
).encode()


@pytest.fixture(autouse=True)
def parts_of_two_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REMIT_IMPORT_PART_ROWS", "2")
    reset_remit()


@pytest.fixture
def organisation_id(api: ApiClient) -> str:
    return str(api.post("/v1/organisations", {"name": "Acme Ltd", "default_currency": "EUR"}).json()["id"])


def report(api: ApiClient, organisation_id: str, import_id: str) -> dict[str, object]:
    answer: dict[str, object] = api.get(f"/v1/organisations/{organisation_id}/imports/{import_id}").json()
    return answer


def test_a_file_is_imported_a_part_at_a_time_each_part_queueing_the_next(
    api: ApiClient, organisation_id: str
) -> None:
    # Given an import of 7 rows, parts of 2 rows
    started = upload(api, organisation_id, CONTENT).json()
    queue = BillingQueue()

    # When the worker takes the first message only
    queue.deliver()

    # Then two rows are done, the import runs, and the next part waits on the queue
    progress = report(api, organisation_id, started["id"])
    assert (progress["status"], progress["created"]) == ("running", 2)
    assert [body["after"] for body in queue.bodies()] == [3]  # rows are numbered from 2 (the header is 1)

    # And once the queue is drained, every row is in, once
    queue.drain()
    done = report(api, organisation_id, started["id"])
    assert (done["status"], done["rows"], done["created"], done["failed"]) == ("completed", ROWS, ROWS, 0)
    assert done["completed_at"] is not None
    assert len(customers_of(api, organisation_id)) == ROWS


def test_every_message_delivered_twice_counts_each_row_once(api: ApiClient, organisation_id: str) -> None:
    started = upload(api, organisation_id, CONTENT).json()
    queue = BillingQueue()

    for _ in range(20):
        if not queue.visible():
            break
        queue.deliver(times=2)

    done = report(api, organisation_id, started["id"])
    assert (done["status"], done["created"], done["updated"], done["unchanged"]) == ("completed", ROWS, 0, 0)
    assert len(customers_of(api, organisation_id)) == ROWS


def test_a_crash_midway_through_a_part_is_done_again_and_counted_once(
    api: ApiClient, organisation_id: str
) -> None:
    # Given an import whose worker dies right after creating the second customer of its first part
    started = upload(api, organisation_id, CONTENT).json()
    queue = BillingQueue()
    with crash_after("TransactWriteItems", nth=2):
        failed = queue.deliver()
    assert failed  # the message is left for SQS to deliver again

    # When SQS delivers it again, and the rest
    queue.drain()

    # Then every customer exists once and the counts say so
    done = report(api, organisation_id, started["id"])
    assert (done["created"], done["updated"], done["unchanged"], done["failed"]) == (ROWS, 0, 0, 0)
    assert sorted(c["external_ids"][0] for c in customers_of(api, organisation_id)) == [
        f"ext-{n}" for n in range(ROWS)
    ]


def test_a_part_saved_whose_next_part_was_never_queued_is_queued_by_its_redelivery(
    api: ApiClient, organisation_id: str
) -> None:
    # Given a worker that dies right after saving the first part's progress (before queueing the next)
    started = upload(api, organisation_id, CONTENT).json()
    queue = BillingQueue()
    with crash_after("PutItem", nth=2):  # the first marks the part begun, the second saves it
        assert queue.deliver()
    assert report(api, organisation_id, started["id"])["created"] == 2

    # When its message is delivered again, and the rest
    queue.drain()

    # Then the import completes with every row counted once
    done = report(api, organisation_id, started["id"])
    assert (done["status"], done["created"]) == ("completed", ROWS)


def test_the_rows_of_a_second_run_are_unchanged_or_updated_never_created(
    api: ApiClient, organisation_id: str
) -> None:
    upload(api, organisation_id, CONTENT)
    BillingQueue().drain()

    again = upload(api, organisation_id, CONTENT.replace(b"Customer 3,", b"Customer Three,")).json()
    BillingQueue().drain()

    done = report(api, organisation_id, again["id"])
    assert (done["created"], done["updated"], done["unchanged"]) == (0, 1, ROWS - 1)
    assert len(customers_of(api, organisation_id)) == ROWS


def test_an_import_of_an_unreachable_file_fails_with_its_reason(api: ApiClient, organisation_id: str) -> None:
    import boto3

    started = upload(api, organisation_id, CONTENT).json()
    s3 = boto3.client("s3")
    for version in s3.list_object_versions(Bucket="remit-logos", Prefix="imports/").get("Versions", []):
        s3.delete_object(Bucket="remit-logos", Key=version["Key"], VersionId=version["VersionId"])

    BillingQueue().drain()

    done = report(api, organisation_id, started["id"])
    assert done["status"] == "failed"
    assert done["failure"] == "The import's file is no longer stored; upload it again."
