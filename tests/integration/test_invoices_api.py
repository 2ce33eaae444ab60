"""Invoices through the API: drafts, exact totals, charges, finalization, the lock and the state machine."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from tests.integration.api_client import ApiClient
from tests.integration.billing import Billing
from tests.integration.conftest import TABLES, SettableClock


@pytest.fixture
def acme(api: ApiClient) -> Billing:
    return Billing(api, timezone="Europe/Paris")


def test_a_draft_from_lines_has_exact_totals_and_a_breakdown(acme: Billing) -> None:
    response = acme.api.post(
        f"{acme.base}/invoices",
        {
            "customer_id": acme.customer,
            "line_items": [
                {"description": "Widget", "quantity": "2", "unit_amount": 1000},
                {"description": "Book", "quantity": 3, "unit_amount": 333, "tax_rate": "7"},
                {"description": "Half hour", "quantity": "0.5", "unit_amount": 2501, "tax_rate": "19.00"},
            ],
            "memo": "Thanks!",
        },
    )

    assert response.status == 201
    invoice = response.json()
    assert invoice["status"] == "draft"
    assert invoice["number"] is None
    assert [line["amount"] for line in invoice["line_items"]] == [2000, 999, 1251]
    assert [line["tax_amount"] for line in invoice["line_items"]] == [380, 70, 238]
    assert (invoice["subtotal"], invoice["tax_total"], invoice["total"]) == (4250, 688, 4938)
    assert invoice["tax_breakdown"] == [
        {"tax_rate": "7", "taxable_amount": 999, "tax_amount": 70},
        {"tax_rate": "19", "taxable_amount": 3251, "tax_amount": 618},
    ]
    assert invoice["amount_due"] == 4938
    assert invoice["currency"] == "EUR"
    assert invoice["due_date"]  # the customer's payment terms from today
    assert acme.get(invoice["id"]) == invoice


def test_a_yen_invoice_has_no_minor_unit_to_round_to(api: ApiClient) -> None:
    yen = Billing(api, currency="JPY")

    invoice = yen.draft(unit_amount=333, quantity="1.5")

    assert invoice["currency"] == "JPY"
    assert (invoice["subtotal"], invoice["tax_total"], invoice["total"]) == (500, 95, 595)


def test_each_rates_tax_is_rounded_once_on_a_draft_and_its_edits_and_credit_notes_never_exceed_it(
    api: ApiClient,
) -> None:
    yen = Billing(api, currency="JPY")
    onigiri = {"description": "Onigiri", "unit_amount": 105, "tax_rate": "10"}
    response = yen.api.post(
        f"{yen.base}/invoices", {"customer_id": yen.customer, "line_items": [onigiri] * 2}
    )
    assert response.status == 201, response.body
    draft = response.json()

    # 210 at 10 % is 21 once, 11 + 10 on the lines (per line it would be 11 + 11 = 22).
    assert (draft["subtotal"], draft["tax_total"], draft["total"]) == (210, 21, 231)
    assert [line["tax_amount"] for line in draft["line_items"]] == [11, 10]
    assert draft["tax_breakdown"] == [{"tax_rate": "10", "taxable_amount": 210, "tax_amount": 21}]

    # An edit prices the draft again: 315 at 10 % is 31.5 → 32; 19 % apart: 100 → 19.
    kept = [{"id": line["id"]} for line in draft["line_items"]]
    tea = {"description": "Tea", "unit_amount": 100, "tax_rate": "19"}
    response = yen.api.patch(yen.invoice(draft["id"]), {"line_items": [*kept, onigiri, tea]})
    assert response.status == 200, response.body
    edited = response.json()
    assert [line["tax_amount"] for line in edited["line_items"]] == [11, 11, 10, 19]
    assert (edited["tax_total"], edited["total"]) == (51, 415 + 51)

    # Back to the two lines, finalized; credited one line at a time, the second note takes what is
    # left of the rate's tax (10), not its own rounding (11): never more than the invoice's 21.
    yen.api.patch(yen.invoice(draft["id"]), {"line_items": kept})
    invoice = yen.api.post(f"{yen.invoice(draft['id'])}/finalize").json()
    assert invoice["tax_total"] == 21
    notes = []
    for line in reversed(invoice["line_items"]):
        response = yen.api.post(
            f"{yen.invoice(invoice['id'])}/credit_notes",
            {"lines": [{"invoice_line_id": line["id"], "quantity": "1"}]},
        )
        assert response.status == 201, response.body
        notes.append(response.json())
    assert [note["tax_total"] for note in notes] == [11, 10]
    after = yen.get(invoice["id"])
    assert (after["credited_amount"], after["amount_due"], after["status"]) == (231, 0, "paid")

    # Nothing is left to credit: a further note is refused and changes nothing.
    response = yen.api.post(
        f"{yen.invoice(invoice['id'])}/credit_notes",
        {"lines": [{"invoice_line_id": kept[0]["id"], "amount": 1}]},
    )
    assert response.status == 422, response.body
    assert yen.get(invoice["id"]) == after


@pytest.mark.parametrize(
    ("line", "field"),
    [
        ({"description": "x", "unit_amount": 19.99}, "line_items.0.unit_amount"),
        ({"description": "x", "unit_amount": "1999"}, "line_items.0.unit_amount"),
        ({"description": "x", "unit_amount": 100, "quantity": 0}, "line_items.0.quantity"),
        ({"description": "x", "unit_amount": 100, "quantity": "1.00001"}, "line_items.0.quantity"),
        ({"description": "x", "unit_amount": 100, "tax_rate": 7.5}, "line_items.0.tax_rate"),
        ({"unit_amount": 100}, "line_items.0.description"),
        ({"description": "x"}, "line_items.0.unit_amount"),
    ],
)
def test_a_bad_line_is_a_422_naming_it_and_creates_nothing(
    acme: Billing, line: dict[str, Any], field: str
) -> None:
    response = acme.api.post(f"{acme.base}/invoices", {"customer_id": acme.customer, "line_items": [line]})

    assert response.status == 422
    assert field in [error["field"] for error in response.json()["errors"]]
    assert acme.api.get(f"{acme.base}/invoices").json()["data"] == []


def test_an_unknown_customer_or_a_foreign_currency_is_a_422(acme: Billing) -> None:
    unknown = acme.api.post(f"{acme.base}/invoices", {"customer_id": "cus_nope", "line_items": []})
    currency = acme.api.post(f"{acme.base}/invoices", {"customer_id": acme.customer, "currency": "USD"})

    assert unknown.status == 422
    assert unknown.json()["errors"][0]["field"] == "customer_id"
    assert currency.status == 422
    assert currency.json()["errors"][0]["field"] == "currency"


def test_a_draft_takes_selected_or_all_open_charges_and_marks_them_invoiced(acme: Billing) -> None:
    first, second, third = (
        acme.charge(),
        acme.charge(description="Support"),
        acme.charge(description="Travel"),
    )

    selected = acme.api.post(
        f"{acme.base}/invoices", {"customer_id": acme.customer, "charge_ids": [first["id"]]}
    ).json()
    rest = acme.api.post(
        f"{acme.base}/invoices", {"customer_id": acme.customer, "include_open_charges": True}
    ).json()

    assert [line["charge_id"] for line in selected["line_items"]] == [first["id"]]
    assert {line["charge_id"] for line in rest["line_items"]} == {second["id"], third["id"]}
    charges = acme.api.get(f"{acme.base}/customers/{acme.customer}/charges").json()["data"]
    assert {c["status"] for c in charges} == {"invoiced"}
    assert {c["invoice_id"] for c in charges} == {selected["id"], rest["id"]}


def test_a_charge_cannot_join_two_invoices(acme: Billing) -> None:
    charge = acme.charge()
    acme.api.post(f"{acme.base}/invoices", {"customer_id": acme.customer, "charge_ids": [charge["id"]]})

    again = acme.api.post(
        f"{acme.base}/invoices", {"customer_id": acme.customer, "charge_ids": [charge["id"]]}
    )

    assert again.status == 409
    assert len(acme.api.get(f"{acme.base}/invoices").json()["data"]) == 1


def test_an_unknown_charge_is_a_422_naming_it(acme: Billing) -> None:
    response = acme.api.post(
        f"{acme.base}/invoices", {"customer_id": acme.customer, "charge_ids": ["chg_nope"]}
    )

    assert response.status == 422
    assert response.json()["errors"][0]["field"] == "charge_ids.0"


def test_deleting_a_draft_returns_its_charges_to_open(acme: Billing) -> None:
    charge = acme.charge()
    draft = acme.api.post(
        f"{acme.base}/invoices", {"customer_id": acme.customer, "include_open_charges": True}
    )

    deleted = acme.api.delete(acme.invoice(draft.json()["id"]))

    assert deleted.status == 204
    assert acme.api.get(acme.invoice(draft.json()["id"])).status == 404
    reopened = acme.api.get(f"{acme.base}/customers/{acme.customer}/charges").json()["data"]
    assert [(c["id"], c["status"], c["invoice_id"]) for c in reopened] == [(charge["id"], "open", None)]


def test_patching_a_draft_replaces_lines_and_releases_dropped_charges(acme: Billing) -> None:
    kept, dropped = acme.charge(), acme.charge(description="Dropped")
    draft = acme.api.post(
        f"{acme.base}/invoices", {"customer_id": acme.customer, "include_open_charges": True}
    )
    lines = {line["charge_id"]: line["id"] for line in draft.json()["line_items"]}

    response = acme.api.patch(
        acme.invoice(draft.json()["id"]),
        {
            "line_items": [{"id": lines[kept["id"]]}, {"description": "Extra", "unit_amount": 500}],
            "memo": "Updated",
            "due_date": "2027-01-31",
        },
    )

    assert response.status == 200
    invoice = response.json()
    assert [line["description"] for line in invoice["line_items"]] == ["Consulting", "Extra"]
    assert invoice["subtotal"] == 45000 + 500
    assert (invoice["memo"], invoice["due_date"]) == ("Updated", "2027-01-31")
    statuses = {
        c["id"]: c["status"]
        for c in acme.api.get(f"{acme.base}/customers/{acme.customer}/charges").json()["data"]
    }
    assert statuses == {kept["id"]: "invoiced", dropped["id"]: "open"}


def test_finalizing_numbers_dates_snapshots_and_locks(acme: Billing, clock: SettableClock) -> None:
    clock.set("2026-11-30T23:30:00+00:00")  # already December 1st in Paris
    draft = acme.draft(days_until_due=14)

    response = acme.api.post(f"{acme.invoice(draft['id'])}/finalize")

    assert response.status == 200
    invoice = response.json()
    assert invoice["status"] == "open"
    assert invoice["number"] == "ACME-00001"
    assert invoice["issue_date"] == "2026-12-01"
    assert invoice["due_date"] == "2026-12-15"
    assert invoice["customer_name"] == "Globex GmbH"
    assert invoice["hosted_url"].startswith("https://api.remit.test/i/")
    assert len(invoice["hosted_url"].rsplit("/", 1)[1]) >= 40
    assert invoice["finalized_at"] == "2026-11-30T23:30:00Z"
    assert acme.api.get(acme.base).json()["invoice_numbering"]["next_number"] == 2
    acme.api.patch(f"{acme.base}/customers/{acme.customer}", {"name": "Renamed AG"})
    assert acme.get(draft["id"])["customer_name"] == "Globex GmbH"


def test_numbers_follow_the_prefix_padding_and_next_number(acme: Billing) -> None:
    acme.api.patch(acme.base, {"invoice_numbering": {"prefix": "INV/2026/", "padding": 3, "next_number": 41}})

    numbers = [acme.finalized()["number"] for _ in range(2)]

    assert numbers == ["INV/2026/041", "INV/2026/042"]


def test_the_next_number_cannot_be_lowered_over_a_used_number(acme: Billing) -> None:
    acme.finalized()
    acme.finalized()

    lowered = acme.api.patch(acme.base, {"invoice_numbering": {"next_number": 2}})
    raised = acme.api.patch(acme.base, {"invoice_numbering": {"next_number": 10}})

    assert lowered.status == 422
    assert lowered.json()["errors"][0]["field"] == "invoice_numbering.next_number"
    assert raised.json()["invoice_numbering"]["next_number"] == 10
    assert acme.finalized()["number"] == "ACME-00010"


@pytest.mark.parametrize(
    ("method", "suffix", "body"),
    [
        ("PATCH", "", {"memo": "changed"}),
        ("PATCH", "", {"line_items": [{"description": "More", "unit_amount": 1}]}),
        ("DELETE", "", None),
        ("POST", "/finalize", None),
    ],
)
def test_a_finalized_invoice_is_locked(acme: Billing, method: str, suffix: str, body: Any) -> None:
    invoice = acme.finalized()

    response = acme.api.request(method, f"{acme.invoice(invoice['id'])}{suffix}", body)

    assert response.status == 409
    assert response.content_type == "application/problem+json"
    assert "open" in response.json()["detail"]
    assert acme.get(invoice["id"]) == invoice


def test_every_illegal_transition_is_a_409_and_changes_nothing(acme: Billing) -> None:
    draft = acme.draft()
    paid = acme.finalized()
    acme.pay(paid["id"], paid["amount_due"])
    voided = acme.finalized()
    acme.api.post(f"{acme.invoice(voided['id'])}/void")
    uncollectible = acme.finalized()
    acme.api.post(f"{acme.invoice(uncollectible['id'])}/mark_uncollectible")
    illegal = [
        (draft["id"], "/void"),
        (draft["id"], "/mark_uncollectible"),
        (paid["id"], "/void"),
        (paid["id"], "/mark_uncollectible"),
        (paid["id"], "/finalize"),
        (voided["id"], "/void"),
        (voided["id"], "/mark_uncollectible"),
        (voided["id"], "/finalize"),
        (uncollectible["id"], "/mark_uncollectible"),
        (uncollectible["id"], "/finalize"),
    ]
    before = {invoice_id: acme.get(invoice_id) for invoice_id, _ in illegal}

    answers = [acme.api.post(f"{acme.invoice(invoice_id)}{action}") for invoice_id, action in illegal]
    payments = [
        acme.pay(invoice_id, 100)
        for invoice_id in (draft["id"], paid["id"], voided["id"], uncollectible["id"])
    ]

    assert [a.status for a in answers + payments] == [409] * (len(illegal) + 4)
    assert all(a.json()["detail"] for a in answers)
    assert {invoice_id: acme.get(invoice_id) for invoice_id, _ in illegal} == before


def test_an_uncollectible_invoice_can_be_voided(acme: Billing) -> None:
    invoice = acme.finalized()
    acme.api.post(f"{acme.invoice(invoice['id'])}/mark_uncollectible")

    voided = acme.api.post(f"{acme.invoice(invoice['id'])}/void")

    assert voided.status == 200
    assert voided.json()["status"] == "void"
    assert voided.json()["voided_at"]


def test_an_empty_draft_cannot_be_finalized(acme: Billing) -> None:
    draft = acme.api.post(f"{acme.base}/invoices", {"customer_id": acme.customer}).json()

    response = acme.api.post(f"{acme.invoice(draft['id'])}/finalize")

    assert response.status == 409
    assert acme.api.get(acme.base).json()["invoice_numbering"]["next_number"] == 1


def test_the_timeline_records_every_status_change(acme: Billing) -> None:
    invoice = acme.finalized()
    acme.pay(invoice["id"], 1000)
    acme.api.post(f"{acme.invoice(invoice['id'])}/void")

    events = acme.api.get(f"{acme.invoice(invoice['id'])}/events").json()["data"]

    assert [event["type"] for event in events] == [
        "invoice.created",
        "invoice.finalized",
        "invoice.payment_recorded",
        "invoice.voided",
    ]
    assert all(event["created_at"].endswith("Z") for event in events)
    assert events[1]["data"]["number"] == "ACME-00001"


def test_events_of_one_change_list_in_the_order_they_happened(acme: Billing) -> None:
    # With the test clock standing still, every event shares one millisecond.
    for _ in range(5):
        invoice = acme.finalized()
        acme.pay(invoice["id"], acme.get(invoice["id"])["amount_due"])

        events = acme.api.get(f"{acme.invoice(invoice['id'])}/events").json()["data"]

        assert [event["type"] for event in events][-2:] == ["invoice.payment_recorded", "invoice.paid"]


def test_overdue_is_true_while_open_after_the_due_date(acme: Billing, clock: SettableClock) -> None:
    invoice = acme.finalized(days_until_due=10)
    clock.advance(days=10)
    on_due_date = acme.get(invoice["id"])["overdue"]

    clock.advance(days=1)
    after = acme.get(invoice["id"])
    listed = acme.api.get(f"{acme.base}/invoices?status=open").json()["data"]
    acme.pay(invoice["id"], invoice["amount_due"])

    assert (on_due_date, after["overdue"], listed[0]["overdue"]) == (False, True, True)
    assert acme.get(invoice["id"])["overdue"] is False


def reminder_index_entries() -> list[dict[str, Any]]:
    client = boto3.client("dynamodb")
    items = client.scan(TableName=TABLES["BillingTable"], IndexName="GSI1")["Items"]
    return [item for item in items if item["GSI1PK"]["S"].startswith("REMIND#")]


def test_only_open_invoices_are_in_the_reminder_index_on_the_day_they_become_overdue(acme: Billing) -> None:
    acme.draft()
    # The default reminder is 15 days after; the day after the due date comes first (invoice.overdue)
    stays_open = acme.finalized(due_date="2027-03-01")
    paid = acme.finalized(due_date="2027-03-01")

    entries_before_payment = len(reminder_index_entries())
    acme.pay(paid["id"], paid["amount_due"])

    entries = reminder_index_entries()
    assert entries_before_payment == 2
    assert [e["GSI1SK"]["S"] for e in entries] == [f"2027-03-02#{acme.org}#{stays_open['id']}"]


def test_invoices_can_be_listed_by_status_and_customer(acme: Billing) -> None:
    other = acme.new_customer(name="Initech")
    draft = acme.draft()
    open_invoice = acme.finalized()
    acme.customer, mine = other, acme.customer
    theirs = acme.draft()
    acme.customer = mine

    drafts = acme.api.get(f"{acme.base}/invoices?status=draft").json()["data"]
    opened = acme.api.get(f"{acme.base}/invoices?status=open").json()["data"]
    initech = acme.api.get(f"{acme.base}/invoices?customer_id={other}").json()["data"]
    bad = acme.api.get(f"{acme.base}/invoices?status=overdue")

    assert [i["id"] for i in drafts] == [draft["id"], theirs["id"]]
    assert [i["id"] for i in opened] == [open_invoice["id"]]
    assert [i["id"] for i in initech] == [theirs["id"]]
    assert bad.status == 422


def test_a_customer_with_a_finalized_invoice_cannot_be_deleted(acme: Billing) -> None:
    acme.finalized()

    response = acme.api.delete(f"{acme.base}/customers/{acme.customer}")

    assert response.status == 409
    assert acme.api.get(f"{acme.base}/customers/{acme.customer}").status == 200


def test_an_open_charge_can_be_deleted_but_not_an_invoiced_one(acme: Billing) -> None:
    loose, taken = acme.charge(), acme.charge()
    acme.api.post(f"{acme.base}/invoices", {"customer_id": acme.customer, "charge_ids": [taken["id"]]})
    path = f"{acme.base}/customers/{acme.customer}/charges"

    assert acme.api.delete(f"{path}/{loose['id']}").status == 204
    assert acme.api.delete(f"{path}/{taken['id']}").status == 409
    assert [c["id"] for c in acme.api.get(path).json()["data"]] == [taken["id"]]
