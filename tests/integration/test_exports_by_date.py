"""An accounting CSV reads only the documents of its period (the date index, `GSI6`), however many
months of documents the organisation has: its cost grows with the rows it answers. Documents
stored before the index get their keys from the backfill."""

from __future__ import annotations

from datetime import date
from typing import Any

import boto3
import pytest

from remit.domain.invoice import Invoice
from tests.clocks import SettableClock
from tests.integration.api_client import ApiClient
from tests.integration.billing import Billing
from tests.integration.conftest import TABLES
from tests.integration.exports_helpers import csv_rows, downloaded
from tests.integration.faults import counting_reads

OCTOBER = "from=2026-10-01&to=2026-10-31"
NOVEMBER = "from=2026-11-01&to=2026-11-30"


def export(billing: Billing, kind: str, period: str) -> list[dict[str, str]]:
    content, _ = downloaded(billing.api, f"{billing.base}/exports/{kind}.csv?{period}")
    return csv_rows(content)


def stored(org: str, sk: str) -> dict[str, Any]:
    key = {"PK": {"S": f"ORG#{org}"}, "SK": {"S": sk}}
    item = boto3.client("dynamodb").get_item(TableName=TABLES["BillingTable"], Key=key, ConsistentRead=True)[
        "Item"
    ]
    return {name: value.get("S") for name, value in item.items() if name.startswith("GSI6")}


def model_invoice(billing: Billing) -> Invoice:
    from remit.adapters.dynamodb import DynamoTable
    from remit.adapters.dynamodb_billing import DynamoBillingStore

    store = DynamoBillingStore(DynamoTable(lambda: boto3.client("dynamodb"), TABLES["BillingTable"]))
    model = store.get_invoice(billing.org, billing.finalized()["id"])
    assert model is not None
    return model


def test_a_months_export_reads_that_months_documents_not_the_organisations_two_years(
    api: ApiClient, clock: SettableClock
) -> None:
    from tests.integration import stored_books

    # Given an organisation with two years of invoices (1,200, about 50 a month) and their payments
    clock.set("2026-12-05T10:00:00Z")
    acme = Billing(api)
    books = stored_books.older_books(model_invoice(acme), 1200, through=date(2026, 11, 30))
    stored_books.store(TABLES["BillingTable"], acme.org, books, counted=False)
    in_october = [i for i in books.invoices if str(i.issue_date).startswith("2026-10")]
    received = [p for p in books.payments if p.received_on.isoformat().startswith("2026-10")]
    assert 40 < len(in_october) < 100
    assert 30 < len(received) < 100
    with counting_reads() as empty:
        assert export(acme, "invoices", "from=2001-01-01&to=2001-01-31") == []
    assert empty["items"] <= 5, empty  # the caller's key, the organisation and its number series

    # When October's invoices and payments are exported
    with counting_reads() as invoices_read:
        invoices = export(acme, "invoices", OCTOBER)
    with counting_reads() as payments_read:
        payments = export(acme, "payments", OCTOBER)

    # Then each holds October's documents, oldest first, and reading them cost what they are: each
    # one's key in the index and its item (a payment also its invoice's number, its customer's
    # name once), one query and one batch read more than an empty month, and no scan
    assert [row["invoice_id"] for row in invoices] == [invoice.id for invoice in in_october]
    assert [row["payment_id"] for row in payments] == [payment.id for payment in received]
    assert invoices_read["items"] <= empty["items"] + 2 * len(in_october), invoices_read
    assert invoices_read["calls"] <= empty["calls"] + 1, invoices_read
    assert payments_read["items"] <= empty["items"] + 3 * len(received) + 1, payments_read
    assert invoices_read["scans"] == payments_read["scans"] == 0


def test_a_period_holds_its_first_and_last_day_in_the_organisations_time_zone(
    api: ApiClient, clock: SettableClock
) -> None:
    # Given an organisation in Auckland (UTC+13 in November) with invoices, credit notes and
    # payments dated just outside and just inside November there, and a draft made in November
    acme = Billing(api, timezone="Pacific/Auckland", invoice_numbering={"prefix": "ACME-"})
    issued: dict[str, dict[str, Any]] = {}
    notes: dict[str, str] = {}
    for name, moment in (
        ("31 October", "2026-10-31T10:30:00Z"),  # 23:30 on 31 October in Auckland
        ("1 November", "2026-10-31T11:30:00Z"),  # 00:30 on 1 November
        ("30 November", "2026-11-30T10:30:00Z"),  # 23:30 on 30 November
        ("1 December", "2026-11-30T11:30:00Z"),  # 00:30 on 1 December
    ):
        clock.set(moment)
        issued[name] = acme.finalized()
        line = issued[name]["line_items"][0]["id"]
        response = api.post(
            f"{acme.invoice(issued[name]['id'])}/credit_notes",
            {"lines": [{"invoice_line_id": line, "amount": 100}], "reason": "other"},
        )
        assert response.status == 201, response.body
        notes[name] = response.json()["id"]
    for received_on in ("2026-10-31", "2026-11-01", "2026-11-30", "2026-12-01"):
        assert acme.pay(issued["1 November"]["id"], 10, received_on=received_on).status == 201
    clock.set("2026-11-15T10:00:00Z")
    acme.draft()

    # When November is exported
    invoices = export(acme, "invoices", NOVEMBER)
    credit_notes = export(acme, "credit_notes", NOVEMBER)
    payments = export(acme, "payments", NOVEMBER)

    # Then each holds the documents of 1 and 30 November, both days included, and never the draft
    assert [row["invoice_id"] for row in invoices] == [
        issued["1 November"]["id"],
        issued["30 November"]["id"],
    ]
    assert [row["issue_date"] for row in invoices] == ["2026-11-01", "2026-11-30"]
    assert [row["credit_note_id"] for row in credit_notes] == [notes["1 November"], notes["30 November"]]
    assert [row["received_on"] for row in payments] == ["2026-11-01", "2026-11-30"]
    # and a one-day period holds that day alone
    assert [row["issue_date"] for row in export(acme, "invoices", "from=2026-11-30&to=2026-11-30")] == [
        "2026-11-30"
    ]


def test_another_organisations_documents_of_the_same_days_never_appear(
    api: ApiClient, clock: SettableClock
) -> None:
    # Given two organisations of one account, each with an invoice and a payment in November
    clock.set("2026-11-10T10:00:00Z")
    acme, globex = Billing(api), Billing(api)
    ours, theirs = acme.finalized(), globex.finalized()
    assert acme.pay(ours["id"], 100).status == 201
    assert globex.pay(theirs["id"], 100).status == 201

    # When each exports November
    # Then each file holds its own organisation's documents alone
    assert [row["invoice_id"] for row in export(acme, "invoices", NOVEMBER)] == [ours["id"]]
    assert [row["invoice_id"] for row in export(globex, "invoices", NOVEMBER)] == [theirs["id"]]
    assert [row["invoice_id"] for row in export(acme, "payments", NOVEMBER)] == [ours["id"]]


def test_a_documents_date_keys_are_set_when_it_gets_its_date_and_never_change_after(
    api: ApiClient, clock: SettableClock
) -> None:
    # Given a draft
    clock.set("2026-11-10T10:00:00Z")
    acme = Billing(api)
    draft = acme.draft()
    assert stored(acme.org, f"INVOICE#{draft['id']}") == {}

    # When it is finalized, paid, credited and voided (with its credit note)
    finalized = acme.api.post(f"{acme.invoice(draft['id'])}/finalize").json()
    keys = {
        "GSI6PK": f"ORG#{acme.org}#INVOICES#BY_DATE",
        "GSI6SK": f"2026-11-10#{draft['id']}",
    }
    assert stored(acme.org, f"INVOICE#{draft['id']}") == keys
    clock.set("2026-11-12T10:00:00Z")
    payment = acme.pay(draft["id"], 500, received_on="2026-11-11").json()
    line = finalized["line_items"][0]["id"]
    note = api.post(
        f"{acme.invoice(draft['id'])}/credit_notes",
        {"lines": [{"invoice_line_id": line, "amount": 100}], "reason": "other"},
    ).json()
    clock.set("2026-11-20T10:00:00Z")
    assert api.post(f"{acme.base}/credit_notes/{note['id']}/void").status == 200

    # Then the invoice keeps its keys through every write, and the payment and credit note have theirs
    assert stored(acme.org, f"INVOICE#{draft['id']}") == keys
    assert stored(acme.org, f"PAYMENT#{payment['id']}") == {
        "GSI6PK": f"ORG#{acme.org}#PAYMENTS#BY_DATE",
        "GSI6SK": f"2026-11-11#{payment['id']}",
    }
    assert stored(acme.org, f"CREDITNOTE#{note['id']}") == {
        "GSI6PK": f"ORG#{acme.org}#CREDITNOTES#BY_DATE",
        "GSI6SK": f"2026-11-12#{note['id']}",
    }


def test_the_backfill_gives_documents_stored_before_the_index_their_keys_once(
    api: ApiClient, clock: SettableClock
) -> None:
    from remit.adapters.dynamodb import DynamoTable
    from remit.adapters.dynamodb_billing import invoice_item, payment_item
    from remit.adapters.dynamodb_dated import backfill_date_keys
    from tests.integration import stored_books

    # Given invoices and payments stored by a version before the date index (no GSI6 keys), a
    # draft among them, and a credit note written since
    clock.set("2026-12-05T10:00:00Z")
    acme = Billing(api)
    model = model_invoice(acme)
    books = stored_books.older_books(model, 60, through=date(2026, 11, 30))
    draft = model.model_copy(
        update={"id": "inv_0draft", "status": "draft", "issue_date": None, "number": None}
    )
    older = [invoice_item(invoice) for invoice in [*books.invoices, draft]]
    older += [payment_item(acme.org, payment) for payment in books.payments]
    stored_books.put_items(TABLES["BillingTable"], [_without_date_keys(item) for item in older])
    in_november = [i.id for i in books.invoices if i.issue_date and i.issue_date >= date(2026, 11, 1)]
    assert in_november
    assert export(acme, "invoices", NOVEMBER) == []

    # When the backfill runs, then again
    table = DynamoTable(lambda: boto3.client("dynamodb"), TABLES["BillingTable"])
    first = backfill_date_keys(table)
    again = backfill_date_keys(table)

    # Then every stored invoice and payment was given its keys once, the draft none, and the
    # month's export holds the older invoices
    assert first == len(books.invoices) + len(books.payments)
    assert again is None
    assert stored(acme.org, "INVOICE#inv_0draft") == {}
    assert [row["invoice_id"] for row in export(acme, "invoices", NOVEMBER)] == in_november


def _without_date_keys(item: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in item.items() if not name.startswith("GSI6")}


@pytest.mark.parametrize("after", [None, "INVOICE#inv_1", "2026-12-01#inv_1"])
def test_a_cursor_this_read_did_not_issue_is_refused(aws: None, after: str | None) -> None:
    from remit.adapters.dynamodb import DynamoTable, encode_cursor
    from remit.adapters.dynamodb_dated import read_dated
    from remit.domain.errors import InvalidInput

    # Given a cursor that is not one, one of a list by id, and one past November's last day
    cursor = "not-a-cursor" if after is None else encode_cursor(after)
    table = DynamoTable(lambda: boto3.client("dynamodb"), TABLES["BillingTable"])

    # When November's invoices are read from it, then it is refused, naming the cursor
    with pytest.raises(InvalidInput) as refused:
        read_dated(table, "org_1", "invoice", date(2026, 11, 1), date(2026, 11, 30), 100, cursor)
    assert [problem.field for problem in refused.value.problems] == ["cursor"]
