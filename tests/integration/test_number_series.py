"""The invoice number series in an item of its own: read through from organisations stored with the
counter on their own item, and never colliding with edits of the organisation."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import pytest

from remit.domain.errors import InvalidInput
from remit.domain.organisation import OrganisationChanges
from tests.integration.api_client import ApiClient
from tests.integration.billing import Billing
from tests.integration.conftest import TABLES
from tests.integration.test_billing_concurrency import organisation_with_drafts, race


def stored_as_before_series(organisation_id: str, next_number: int, last_number_used: int) -> None:
    """Make the organisation's items what an organisation stored with its counter on its `ORG` item
    looks like: no series item, the counter in `invoice_numbering` and `last_number_used`."""
    client = boto3.client("dynamodb")
    key = {"PK": {"S": f"ORG#{organisation_id}"}}
    client.delete_item(TableName=TABLES["BillingTable"], Key={**key, "SK": {"S": "SERIES#invoice"}})
    client.update_item(
        TableName=TABLES["BillingTable"],
        Key={**key, "SK": {"S": "ORG"}},
        UpdateExpression="SET invoice_numbering.next_number = :next, last_number_used = :last",
        ExpressionAttributeValues={":next": {"N": str(next_number)}, ":last": {"N": str(last_number_used)}},
    )


def series_item(organisation_id: str) -> dict[str, Any] | None:
    item = boto3.client("dynamodb").get_item(
        TableName=TABLES["BillingTable"],
        Key={"PK": {"S": f"ORG#{organisation_id}"}, "SK": {"S": "SERIES#invoice"}},
        ConsistentRead=True,
    )
    return item.get("Item")


def test_a_new_organisation_has_its_series_in_an_item_of_its_own(api: ApiClient) -> None:
    acme = Billing(api, invoice_numbering={"prefix": "A-", "next_number": 7})

    item = series_item(acme.org)

    assert item is not None
    assert (item["next_number"]["N"], item["last_number_used"]["N"]) == ("7", "0")


def test_an_organisation_stored_with_its_counter_on_its_item_continues_from_it(api: ApiClient) -> None:
    # Given an organisation stored before series had items of their own: 41 numbers used
    acme = Billing(api)
    stored_as_before_series(acme.org, next_number=42, last_number_used=41)

    # Then it shows its next number, refuses to go back over used ones, and numbers from there
    assert api.get(acme.base).json()["invoice_numbering"]["next_number"] == 42
    refused = api.patch(acme.base, {"invoice_numbering": {"next_number": 41}})
    assert refused.status == 422
    assert [e["field"] for e in refused.json()["errors"]] == ["invoice_numbering.next_number"]
    assert series_item(acme.org) is None  # a refused change wrote nothing
    assert acme.finalized()["number"] == "ACME-00042"
    item = series_item(acme.org)
    assert item is not None
    assert (item["next_number"]["N"], item["last_number_used"]["N"]) == ("43", "42")
    assert api.get(acme.base).json()["invoice_numbering"]["next_number"] == 43


def test_an_edit_of_an_organisation_stored_with_its_counter_stores_its_series_first(api: ApiClient) -> None:
    # Given an organisation stored before series had items of their own, renumbered forward once
    acme = Billing(api)
    stored_as_before_series(acme.org, next_number=100, last_number_used=41)

    # When its name changes (its item is written whole)
    assert api.patch(acme.base, {"name": "Acme Holdings"}).status == 200

    # Then the series was stored with it, so the last number used is not lost
    item = series_item(acme.org)
    assert item is not None
    assert (item["next_number"]["N"], item["last_number_used"]["N"]) == ("100", "41")
    assert api.patch(acme.base, {"invoice_numbering": {"next_number": 42}}).status == 200
    assert api.patch(acme.base, {"invoice_numbering": {"next_number": 41}}).status == 422


@pytest.mark.concurrency
def test_edits_of_the_organisation_racing_finalizations_neither_collide_nor_lose_a_number(
    served_aws: None,
) -> None:
    from remit.bootstrap import services

    account = services().accounts.create_account("Racing").account_id
    organisation, drafts = organisation_with_drafts(account, "Acme Ltd", 20)
    # A few edits: what is raced here is edits against finalizations. Many edits of the one item
    # racing each other on 2 loaded cores can outlast the service's retries (a 409 to the caller).
    edits = 3

    def work(n: int) -> Any:
        if n < edits:
            changes = OrganisationChanges.model_validate({"name": f"Acme {n}", "payment_terms_days": n})
            return services().organisations.update(account, organisation, changes)
        return services().invoice_lifecycle.finalize(
            account, organisation, drafts[n - edits], "https://x.test"
        )

    results = race(edits + len(drafts), work)

    numbers = sorted(invoice.number for invoice in results[edits:])
    assert numbers == [f"ACME-{n:05d}" for n in range(1, 21)]
    _, series = services().organisations.invoice_series(account, organisation)
    assert (series.next_number, series.last_number_used) == (21, 20)
    # Every edit was applied once: the organisation's version counts them.
    assert services().organisations.get(account, organisation).version == edits


@pytest.mark.concurrency
def test_renumbering_racing_finalizations_never_gives_a_number_twice(served_aws: None) -> None:
    from remit.bootstrap import services

    account = services().accounts.create_account("Racing").account_id
    organisation, drafts = organisation_with_drafts(account, "Acme Ltd", 12)
    targets = [500, 3, 600, 4]
    start = threading.Barrier(len(targets) + len(drafts))

    def renumber(target: int) -> bool:
        start.wait()
        changes = OrganisationChanges.model_validate({"invoice_numbering": {"next_number": target}})
        try:
            services().organisations.update(account, organisation, changes)
        except InvalidInput:
            return False
        return True

    def finalize(draft: str) -> str:
        start.wait()
        return (
            services().invoice_lifecycle.finalize(account, organisation, draft, "https://x.test").number or ""
        )

    with ThreadPoolExecutor(len(targets) + len(drafts)) as pool:
        renumbered = [pool.submit(renumber, target) for target in targets]
        finalized = [pool.submit(finalize, draft) for draft in drafts]
        numbers = [future.result() for future in finalized]
        [future.result() for future in renumbered]

    assert len(set(numbers)) == len(drafts)
    sequences = [int(number.removeprefix("ACME-")) for number in numbers]
    _, series = services().organisations.invoice_series(account, organisation)
    assert series.last_number_used == max(sequences)
    assert series.next_number > series.last_number_used


def test_a_page_of_a_hundred_organisations_reads_each_with_its_series(api: ApiClient) -> None:
    # Given an account with more organisations than one batch read holds with their series (2 keys each)
    created = [
        api.post("/v1/organisations", {"name": f"Brand {n}", "default_currency": "EUR"}).json()["id"]
        for n in range(60)
    ]

    # When a page of a hundred is listed
    response = api.get("/v1/organisations?limit=100")

    # Then every organisation is there, with its next number
    assert response.status == 200, response.body
    listed = response.json()["data"]
    assert sorted(organisation["id"] for organisation in listed) == sorted(created)
    assert {organisation["invoice_numbering"]["next_number"] for organisation in listed} == {1}
