"""The events API: every change of an organisation's money writes one event in the change's own
transaction, with the object as the API shows it and a sequence that grows with each change."""

from __future__ import annotations

import json
import os
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import boto3
import pytest

from tests.integration.api_client import ApiClient
from tests.integration.billing import Billing
from tests.integration.faults import FAULTS, Calls, Fault, fail_before, injected
from tests.integration.test_fault_injection import assert_retryable_or_done, post_until_answered


@pytest.fixture
def acme(api: ApiClient) -> Billing:
    return Billing(api)


def events(acme: Billing, query: str = "") -> list[dict[str, Any]]:
    response = acme.api.get(f"{acme.base}/events?limit=100{query}")
    assert response.status == 200, response.body
    return list(response.json()["data"])


def of_object(acme: Billing, object_id: str) -> list[tuple[str, int]]:
    return [(e["type"], e["object"]["sequence"]) for e in events(acme, f"&object_id={object_id}")]


def test_an_invoice_s_life_writes_one_event_per_change_with_its_state_and_a_growing_sequence(
    acme: Billing,
) -> None:
    # Given a draft, finalized, partly paid, then paid in full
    draft = acme.draft(unit_amount=10000, quantity="1")  # 119.00 EUR
    finalized = acme.api.post(f"{acme.invoice(draft['id'])}/finalize").json()
    first = acme.pay(draft["id"], 5000).json()
    second = acme.pay(draft["id"], 6900).json()
    paid = acme.get(draft["id"])

    # Then the invoice's events say each change once, in order, each carrying the invoice as answered
    invoice_events = events(acme, f"&object_id={draft['id']}")
    assert [(e["type"], e["object"]["sequence"]) for e in invoice_events] == [
        ("invoice.created", 1),
        ("invoice.finalized", 2),
        ("invoice.updated", 3),  # partly paid: a change without a type of its own
        ("invoice.paid", 4),
    ]
    assert invoice_events[0]["data"] == draft
    assert invoice_events[1]["data"] == finalized
    assert invoice_events[2]["data"]["amount_paid"] == 5000
    assert invoice_events[3]["data"] == paid
    assert all(
        e["object"] == {"type": "invoice", "id": draft["id"], "sequence": e["object"]["sequence"]}
        for e in invoice_events
    )
    # And each payment is one `payment.succeeded` with the payment as answered
    payments = events(acme, "&type=payment.succeeded")
    assert [e["data"] for e in payments] == [first, second]
    assert [e["object"]["sequence"] for e in payments] == [1, 1]
    # And the whole log is oldest first, ids growing
    everything = events(acme)
    assert [e["id"] for e in everything] == sorted(e["id"] for e in everything)
    assert [e["type"] for e in everything] == [
        "customer.created",  # the fixture's customer
        "invoice.created",
        "invoice.finalized",
        "payment.succeeded",
        "invoice.updated",
        "payment.succeeded",
        "invoice.paid",
    ]
    # And one event is read by its id
    one = acme.api.get(f"{acme.base}/events/{everything[1]['id']}")
    assert one.status == 200
    assert one.json() == everything[1]


def test_void_and_uncollectible_and_credit_notes_write_their_events(acme: Billing) -> None:
    lost = acme.finalized()
    voided = acme.finalized()

    uncollectible = acme.api.post(f"{acme.invoice(lost['id'])}/mark_uncollectible").json()
    void = acme.api.post(f"{acme.invoice(voided['id'])}/void").json()
    credited = acme.finalized(unit_amount=10000, quantity="1")
    note = acme.api.post(f"{acme.invoice(credited['id'])}/credit_notes", {"amount": 1000})
    assert note.status == 201, note.body
    note_voided = acme.api.post(f"{acme.base}/credit_notes/{note.json()['id']}/void")
    assert note_voided.status == 200, note_voided.body

    assert of_object(acme, lost["id"])[-1] == ("invoice.marked_uncollectible", 3)
    assert events(acme, f"&object_id={lost['id']}")[-1]["data"] == uncollectible
    assert of_object(acme, voided["id"])[-1] == ("invoice.voided", 3)
    assert events(acme, f"&object_id={voided['id']}")[-1]["data"] == void
    notes = events(acme, "&type=credit_note.*")
    assert [(e["type"], e["object"]["sequence"]) for e in notes] == [
        ("credit_note.issued", 1),
        ("credit_note.voided", 2),
    ]
    assert notes[0]["data"] == note.json()
    assert notes[1]["data"] == note_voided.json()
    assert {e["object"]["id"] for e in notes} == {note.json()["id"]}


def test_a_refused_change_writes_no_event(acme: Billing) -> None:
    invoice = acme.finalized()
    before = events(acme)

    assert acme.api.post(f"{acme.invoice(invoice['id'])}/finalize").status == 409
    assert acme.pay(invoice["id"], 0).status == 422
    assert acme.api.post(f"{acme.invoice(invoice['id'])}/credit_notes", {"amount": 10**9}).status in (
        409,
        422,
    )

    assert events(acme) == before


@pytest.mark.parametrize("fault", FAULTS)
def test_a_fault_on_the_transaction_leaves_the_change_and_its_event_together(
    acme: Billing, fault: Fault
) -> None:
    # Given a draft finalized under a fault on its transaction, then retried as the client is told
    draft = acme.draft()
    path, key = f"{acme.invoice(draft['id'])}/finalize", str(uuid.uuid4())
    with injected(fault, Calls("TransactWriteItems")) as seen:
        response = acme.api.post(path, headers={"Idempotency-Key": key})
    assert seen["hit"] == 1
    assert_retryable_or_done(response, 200)
    answered = post_until_answered(acme.api, path, None, key, response)

    # Then the invoice is finalized once and has exactly one `invoice.finalized`, with its final state
    assert answered.status == 200, answered.body
    finalized = [e for e in events(acme) if e["type"] == "invoice.finalized"]
    assert len(finalized) == 1
    assert finalized[0]["data"] == answered.json()


def test_a_failed_transaction_writes_neither_the_change_nor_its_event(acme: Billing) -> None:
    draft = acme.draft()
    before = events(acme)

    with fail_before("TransactWriteItems"):
        response = acme.api.post(f"{acme.invoice(draft['id'])}/finalize")

    assert response.status == 500  # the process died before its transaction reached DynamoDB

    assert acme.get(draft["id"])["status"] == "draft"
    assert events(acme) == before


def test_another_organisation_s_events_are_never_visible(acme: Billing, other_api: ApiClient) -> None:
    invoice = acme.finalized()
    mine = events(acme)
    theirs = Billing(other_api)
    theirs.finalized()

    # Another account: 404 on the organisation's events and on each event
    assert other_api.get(f"{acme.base}/events").status == 404
    assert other_api.get(f"{acme.base}/events/{mine[0]['id']}").status == 404
    # An organisation of the same account sees only its own, and not the other's by id
    sister = Billing(acme.api)
    assert [e["type"] for e in events(sister)] == ["customer.created"]
    assert {e["organisation_id"] for e in events(sister)} == {sister.org}
    assert acme.api.get(f"{sister.base}/events/{mine[0]['id']}").status == 404
    assert events(sister, f"&object_id={invoice['id']}") == []
    assert events(acme) == mine


def test_the_filters_and_pages(acme: Billing) -> None:
    first = acme.finalized()
    second = acme.finalized()
    acme.pay(second["id"], second["amount_due"])
    everything = events(acme)
    assert len(everything) == 7  # the fixture's customer, then the invoices and the payment

    # type: exact and wildcard
    assert [e["type"] for e in events(acme, "&type=invoice.finalized")] == ["invoice.finalized"] * 2
    assert [e["type"] for e in events(acme, "&type=payment.*")] == ["payment.succeeded"]
    assert len(events(acme, "&type=invoice.*")) == 5
    assert events(acme, "&type=*") == everything
    # object_id, with a type
    assert [e["type"] for e in events(acme, f"&object_id={first['id']}")] == [
        "invoice.created",
        "invoice.finalized",
    ]
    assert [e["type"] for e in events(acme, f"&object_id={second['id']}&type=invoice.paid")] == [
        "invoice.paid"
    ]
    assert [e["type"] for e in events(acme, f"&object_id={second['id']}&type=invoice.*")] == [
        "invoice.created",
        "invoice.finalized",
        "invoice.paid",
    ]
    # created_gte / created_lt
    middle = everything[3]["created_at"]
    later = [e for e in everything if e["created_at"] >= middle]
    assert events(acme, f"&created_gte={middle}") == later
    assert events(acme, f"&created_lt={middle}") == [e for e in everything if e["created_at"] < middle]
    future = (datetime.now(UTC) + timedelta(days=1)).isoformat().replace("+00:00", "Z")
    assert events(acme, f"&created_gte={future}") == []
    # pages of 2 add up to the whole, in order
    seen, cursor = [], None
    while True:
        page = acme.api.get(f"{acme.base}/events?limit=2" + (f"&cursor={cursor}" if cursor else "")).json()
        seen += page["data"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == everything
    # a type filter that names nothing is a 422 naming `type`
    bad = acme.api.get(f"{acme.base}/events?type=invoice.nonsense")
    assert bad.status == 422
    assert "type" in [e["field"] for e in bad.json()["errors"]]
    assert acme.api.get(f"{acme.base}/events/evt_nope").status == 404


def test_an_invoice_changed_without_a_type_of_its_own_writes_invoice_updated(acme: Billing) -> None:
    # Given a draft edited, then an invoice credited
    draft = acme.draft()
    edited = acme.api.patch(acme.invoice(draft["id"]), {"memo": "Thanks!"})
    assert edited.status == 200, edited.body
    credited = acme.finalized(unit_amount=10000, quantity="1")
    note = acme.api.post(f"{acme.invoice(credited['id'])}/credit_notes", {"amount": 1000})
    assert note.status == 201, note.body

    # Then each change is an `invoice.updated` with the invoice as it is now, the sequence one more
    assert of_object(acme, draft["id"]) == [("invoice.created", 1), ("invoice.updated", 2)]
    assert events(acme, f"&object_id={draft['id']}")[-1]["data"] == edited.json()
    assert of_object(acme, credited["id"]) == [
        ("invoice.created", 1),
        ("invoice.finalized", 2),
        ("invoice.updated", 3),
    ]
    assert events(acme, f"&object_id={credited['id']}")[-1]["data"] == acme.get(credited["id"])


def test_a_customer_s_creation_edits_and_deletion_write_its_events(acme: Billing) -> None:
    created = acme.api.post(f"{acme.base}/customers", {"name": "Initech", "email": "ap@initech.test"}).json()
    path = f"{acme.base}/customers/{created['id']}"
    edited = acme.api.patch(path, {"name": "Initech SA"}).json()
    assert acme.api.patch(path, {"email": "not an email"}).status == 422
    assert acme.api.delete(path).status == 204

    customer_events = events(acme, f"&object_id={created['id']}")
    assert [(e["type"], e["object"]["sequence"]) for e in customer_events] == [
        ("customer.created", 1),
        ("customer.updated", 2),
        ("customer.deleted", 3),
    ]
    assert [e["data"] for e in customer_events] == [created, edited, edited]
    assert [e["type"] for e in events(acme, "&type=customer.*")][-3:] == [e["type"] for e in customer_events]


def test_a_subscription_s_actions_write_their_events_and_refused_ones_none(acme: Billing) -> None:
    created = acme.api.post(
        f"{acme.base}/subscriptions",
        {"customer_id": acme.customer, "line_items": [{"description": "Pro plan", "unit_amount": 4900}]},
    ).json()
    path = f"{acme.base}/subscriptions/{created['id']}"
    answers = [created]
    assert acme.api.post(f"{path}/pause").status == 409  # a draft: refused, no event
    for action, body in (("activate", None), ("pause", None), ("resume", None)):
        response = acme.api.post(f"{path}/{action}", body)
        assert response.status == 200, response.body
        answers.append(response.json())
    edited = acme.api.patch(path, {"memo": "Thanks"})
    assert edited.status == 200, edited.body
    answers.append(edited.json())
    cancelled = acme.api.post(f"{path}/cancel", {"at_period_end": False})
    answers.append(cancelled.json())
    assert acme.api.post(f"{path}/cancel").status == 409

    subscription_events = events(acme, f"&object_id={created['id']}")
    assert [(e["type"], e["object"]["sequence"]) for e in subscription_events] == [
        ("subscription.created", 1),
        ("subscription.activated", 2),
        ("subscription.paused", 3),
        ("subscription.resumed", 4),
        ("subscription.updated", 5),
        ("subscription.canceled", 6),
    ]
    assert [e["data"] for e in subscription_events] == answers


def test_a_billing_run_writes_its_invoices_events_then_billing_run_completed_once(acme: Billing) -> None:
    from tests.integration.billing_queue import BillingQueue

    other = acme.new_customer(name="Member", email="m@club.test")
    response = acme.api.post(
        f"{acme.base}/billing",
        {
            "customer_ids": [acme.customer, other],
            "line_items": [{"description": "Membership", "unit_amount": 12000}],
            "currency": "EUR",
            "send": True,
        },
    )
    assert response.status == 202, response.body

    BillingQueue().drain()
    BillingQueue().drain()  # delivered again: nothing more happens

    run = acme.api.get(f"{acme.base}/billing_runs/{response.json()['id']}").json()
    completed = events(acme, "&type=billing_run.*")
    assert [(e["type"], e["object"]["id"]) for e in completed] == [("billing_run.completed", run["id"])]
    assert completed[0]["data"] == run
    for invoice_id in run["invoice_ids"]:
        assert [kind for kind, _ in of_object(acme, invoice_id)] == [
            "invoice.created",
            "invoice.finalized",
            "invoice.sent",
        ]


def test_a_balance_moved_by_billing_writes_customer_updated_with_the_customer_as_answered(
    acme: Billing,
) -> None:
    # Given an invoice paid twice over: the excess goes to the customer's credit balance
    invoice = acme.finalized(unit_amount=10000, quantity="1")  # 119.00 EUR
    assert acme.pay(invoice["id"], 15000).status == 201
    # And a second invoice finalized against that credit, which takes it back
    acme.finalized(unit_amount=1000, quantity="1")
    customer = acme.api.get(f"{acme.base}/customers/{acme.customer}").json()

    # Then each balance move is a customer.updated whose data is the customer as then answered
    customer_events = events(acme, f"&object_id={acme.customer}")
    kinds = [(e["type"], e["data"]["balance"]) for e in customer_events]
    assert kinds == [("customer.created", 0), ("customer.updated", 3100), ("customer.updated", 1910)]
    sequences = [e["object"]["sequence"] for e in customer_events]
    assert sequences == sorted(set(sequences))
    assert customer_events[-1]["data"] == customer


def test_an_event_stored_before_its_data_was_compressed_is_answered_the_same(acme: Billing) -> None:
    # Given a draft's `invoice.created`, as the API answers it in a list, in its object's list and alone
    draft = acme.draft(unit_amount=10000, quantity="1")
    (created,) = events(acme, f"&object_id={draft['id']}")
    alone = acme.api.get(f"{acme.base}/events/{created['id']}").json()
    # And its item as it was stored before `data` was compressed: the object as a map
    table = boto3.resource("dynamodb").Table(os.environ["REMIT_BILLING_TABLE"])
    key = {"PK": f"ORG#{acme.org}", "SK": f"EVENT_LOG#{created['id']}"}
    item = table.get_item(Key=key)["Item"]
    assert "data_zlib" in item  # what is written now
    assert "data" not in item
    old = {name: value for name, value in item.items() if name != "data_zlib"}
    table.put_item(Item={**old, "data": json.loads(json.dumps(created["data"]), parse_float=Decimal)})

    # When it is read again
    # Then every read answers it exactly as before
    assert events(acme, f"&object_id={draft['id']}") == [created]
    assert [e for e in events(acme) if e["id"] == created["id"]] == [created]
    assert acme.api.get(f"{acme.base}/events/{created['id']}").json() == alone == created
