"""Filtered lists read what they return (docs/access-patterns.md, docs/development.md).

Items read are counted from DynamoDB's own answers (`ScannedCount` of each Query, the items of each
GetItem and BatchGetItem) by a botocore `after-call` hook registered on the session the app's
clients are made from: nothing of Remit is patched.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any
from unittest.mock import patch

import boto3
import pytest

from tests.integration.api_client import ApiClient
from tests.integration.billing import Billing
from tests.integration.conftest import SAMPLE_KEY, TABLES, new_account, reset_remit

STORED_INVOICES = 10_000
LIMIT = 20


class ItemsRead:
    """What DynamoDB answered to read, per operation, since the last `reset`."""

    def __init__(self) -> None:
        self.items: Counter[str] = Counter()
        self.calls: Counter[str] = Counter()

    def __call__(self, parsed: dict[str, Any], model: Any, **_: Any) -> None:
        operation = model.name
        if operation in ("Query", "Scan"):
            read = int(parsed.get("ScannedCount", 0))
        elif operation == "GetItem":
            read = 1 if "Item" in parsed else 0
        elif operation == "BatchGetItem":
            read = sum(len(items) for items in parsed.get("Responses", {}).values())
        else:
            return
        self.calls[operation] += 1
        self.items[operation] += read

    def reset(self) -> None:
        self.items.clear()
        self.calls.clear()

    @property
    def total(self) -> int:
        return sum(self.items.values())


@pytest.fixture
def reads(aws: None) -> Iterator[ItemsRead]:
    """Counts the items every DynamoDB client made from here on reads (the app's included)."""
    session = boto3.DEFAULT_SESSION
    assert session is not None  # the `aws` fixture made clients from it
    counter = ItemsRead()
    session.events.register("after-call.dynamodb", counter, unique_id="test-items-read")
    reset_remit()  # the app's clients are made after the hook, so they carry it
    yield counter
    session.events.unregister("after-call.dynamodb", unique_id="test-items-read")


@pytest.fixture
def acme(reads: ItemsRead) -> Billing:
    return Billing(new_account("Acme account", api_key=SAMPLE_KEY))


# --- storing many items fast: the adapter's own mapping, written in batches ---------------------


def _ids(prefix: str, count: int, start: datetime) -> list[str]:
    from remit.domain.ids import new_id

    return [new_id(prefix, start + timedelta(milliseconds=n)) for n in range(count)]


def _store(items: list[dict[str, Any]]) -> None:
    """Put the items straight into moto's table (the in-process mock of the `aws` fixture).

    The items are exactly what the adapter writes (its own mapping). Skipped, to load 10,000 items
    in seconds rather than minutes: the request/response serialisation of the PutRequests, and
    moto 5.2's item-size check, which re-sums the whole item for each attribute it adds (quadratic
    in the attributes; these items are a few KB, far from the 400 KB it guards). Reads, the thing
    measured, go through the API, botocore and moto unchanged.
    """
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends
    from moto.dynamodb.models.dynamo_type import LimitedSizeDict

    from remit.adapters.dynamodb import to_attributes

    table = dynamodb_backends[DEFAULT_ACCOUNT_ID]["eu-west-1"].get_table(TABLES["BillingTable"])
    with patch.object(LimitedSizeDict, "__setitem__", dict.__setitem__):
        for item in items:
            table.put_item(to_attributes(item))


def _stored_invoice(acme: Billing, invoice_id: str) -> Any:
    from remit.adapters.dynamodb import DynamoTable
    from remit.adapters.dynamodb_billing import DynamoBillingStore

    store = DynamoBillingStore(DynamoTable(lambda: boto3.client("dynamodb"), TABLES["BillingTable"]))
    invoice = store.get_invoice(acme.org, invoice_id)
    assert invoice is not None
    return invoice


def _pages(api: ApiClient, path: str, reads: ItemsRead) -> tuple[list[str], list[Counter[str]]]:
    """Every id of a list, following its cursors, and the items read for each page by operation."""
    ids: list[str] = []
    read_per_page: list[Counter[str]] = []
    cursor: str | None = None
    while True:
        reads.reset()
        separator = "&" if "?" in path else "?"
        url = f"{path}{separator}limit={LIMIT}" + (f"&cursor={cursor}" if cursor else "")
        response = api.get(url)
        assert response.status == 200, response.body
        read_per_page.append(reads.items.copy())
        body = response.json()
        ids += [entry["id"] for entry in body["data"]]
        cursor = body["next_cursor"]
        if cursor is None:
            return ids, read_per_page


def test_filtered_lists_read_about_one_page_with_10000_invoices_stored(
    acme: Billing, reads: ItemsRead
) -> None:
    from remit.adapters.dynamodb_billing import charge_item, invoice_item, payment_item
    from remit.domain.charge import Charge
    from remit.domain.payment import Payment

    # Given an organisation with two customers, one real draft and one real paid invoice ...
    globex, initech = acme.customer, acme.new_customer(name="Initech")
    model = _stored_invoice(acme, acme.draft()["id"])
    paid_for_real = acme.finalized()
    assert acme.pay(paid_for_real["id"], paid_for_real["amount_due"]).status == 201
    real_payment = acme.api.get(f"{acme.base}/payments?invoice_id={paid_for_real['id']}").json()["data"][0]

    # ... and 10,000 invoices in all: every 100th open, every 80th Globex's, the rest Initech's drafts
    # and paid invoices; 500 payments and 500 charges besides.
    start = datetime.now(UTC) + timedelta(seconds=1)  # after the real ones, in id order
    invoice_ids = _ids("inv", STORED_INVOICES - 2, start)
    expected: dict[str, set[str]] = {"open": set(), "globex": set(), "globex_open": set()}
    items = []
    for n, invoice_id in enumerate(invoice_ids):
        status = "open" if n % 100 == 0 else ("paid" if n % 2 else "draft")
        customer = globex if n % 80 == 0 else initech
        items.append(
            invoice_item(
                model.model_copy(update={"id": invoice_id, "status": status, "customer_id": customer})
            )
        )
        if status == "open":
            expected["open"].add(invoice_id)
        if customer == globex:
            expected["globex"].add(invoice_id)
            if status == "open":
                expected["globex_open"].add(invoice_id)
    target = invoice_ids[1]  # a paid invoice of Initech's with 30 payments
    payments = []
    for n, payment_id in enumerate(_ids("pay", 500, start)):
        on_target = n % 20 == 0 or n < 5
        payment = Payment(
            id=payment_id,
            invoice_id=target if on_target else invoice_ids[n % 500 * 2 + 3],
            customer_id=initech,
            amount=100,
            currency="EUR",
            method="bank_transfer",
            received_on=date(2026, 11, 1),
            created_at=start,
        )
        payments.append(payment)
    expected["target_payments"] = {p.id for p in payments if p.invoice_id == target}
    charges = [
        Charge(
            id=charge_id,
            customer_id=globex if n % 10 == 0 else initech,
            description="Consulting",
            quantity="1",
            unit_amount=1000,
            currency="EUR",
            tax_rate="19",
            status="open" if n % 20 == 0 else "invoiced",
            created_at=start,
        )
        for n, charge_id in enumerate(_ids("chg", 500, start))
    ]
    expected["globex_charges"] = {c.id for c in charges if c.customer_id == globex}
    expected["globex_open_charges"] = {
        c.id for c in charges if c.customer_id == globex and c.status == "open"
    }
    _store(
        items
        + [payment_item(acme.org, payment) for payment in payments]
        + [charge_item(acme.org, charge) for charge in charges]
    )
    expected["globex"] |= {model.id, paid_for_real["id"]}

    lists: dict[str, tuple[str, set[str]]] = {
        "invoices?status=open": (f"{acme.base}/invoices?status=open", expected["open"]),
        "invoices?customer_id": (f"{acme.base}/invoices?customer_id={globex}", expected["globex"]),
        "invoices?status=open&customer_id": (
            f"{acme.base}/invoices?status=open&customer_id={globex}",
            expected["globex_open"],
        ),
        "payments?invoice_id": (f"{acme.base}/payments?invoice_id={target}", expected["target_payments"]),
        "payments?invoice_id (another's)": (
            f"{acme.base}/payments?invoice_id={paid_for_real['id']}",
            {real_payment["id"]},
        ),
        "customer's charges": (f"{acme.base}/customers/{globex}/charges", expected["globex_charges"]),
        "customer's open charges": (
            f"{acme.base}/customers/{globex}/charges?status=open",
            expected["globex_open_charges"],
        ),
    }
    measured: dict[str, list[Counter[str]]] = {}
    for name, (path, wanted) in lists.items():
        # When the list is read page by page
        ids, read_per_page = _pages(acme.api, path, reads)

        # Then it holds every matching item once, oldest first, and each page read about a page
        assert sorted(ids) == ids, name
        assert set(ids) == wanted, name
        assert len(ids) == len(wanted), name
        # (the list's Query reads at most the page and one more item to know whether more follow; the
        # charges routes also read the organisation and the customer, one item each)
        assert max(page["Query"] for page in read_per_page) <= LIMIT + 1, (name, read_per_page)
        assert max(page.total() for page in read_per_page) <= LIMIT + 3, (name, read_per_page)
        measured[name] = read_per_page
    for name, pages in measured.items():  # shown with `pytest -s`
        print(f"{name}: {len(pages)} pages, items read per page {[page.total() for page in pages]}")

    # For contrast, the first page as it was read before the list indexes: a FilterExpression over
    # the organisation's invoices, read until 21 matched.
    from remit.adapters.dynamodb import DynamoTable

    reads.reset()
    table = DynamoTable(lambda: boto3.client("dynamodb"), TABLES["BillingTable"])
    table.query_prefix(f"ORG#{acme.org}", "INVOICE#", LIMIT, None, {"status": "open"})
    print(f"status=open, first page by FilterExpression: {reads.items['Query']} items read")
    assert reads.items["Query"] > 50 * LIMIT


# --- the portal's sign-in finds an email's customers by the email index -----------------------------

STORED_CUSTOMERS = 2_000


def test_a_portal_sign_in_reads_the_customers_of_the_email_not_the_organisations(
    acme: Billing, reads: ItemsRead
) -> None:
    from remit.adapters.dynamodb import DynamoTable
    from remit.adapters.dynamodb_customers import DynamoCustomerRepository, customer_item
    from remit.domain.customer import Contact
    from tests.integration.portal_browser import PortalBrowser, sign_in_links

    # Given 2,000 customers stored before (each with a billing contact of its own) ...
    repository = DynamoCustomerRepository(
        DynamoTable(lambda: boto3.client("dynamodb"), TABLES["BillingTable"])
    )
    model = repository.get(acme.org, acme.customer)
    assert model is not None
    start = datetime.now(UTC) - timedelta(hours=1)
    _store(
        [
            customer_item(
                model.model_copy(
                    update={
                        "id": customer_id,
                        "email": f"ap@customer{n}.test",
                        "contacts": [
                            Contact(id=f"con_{n}", email=f"ar@customer{n}.test", preferences=["billing"])
                        ],
                    }
                )
            )
            for n, customer_id in enumerate(_ids("cus", STORED_CUSTOMERS, start))
        ]
    )
    # ... and, newest of all, one whose billing contact is the email that will ask
    target = acme.new_customer(name="Target")
    contacts = [{"name": "AR", "email": "ar@target.test", "preferences": ["billing"]}]
    assert acme.api.patch(f"{acme.base}/customers/{target}", {"contacts": contacts}).status == 200

    # When that contact asks the portal for a link
    browser = PortalBrowser()
    browser.get(f"/p/{acme.org}")
    reads.reset()
    assert browser.post(f"/p/{acme.org}/sign_in", {"email": "AR@target.test"}).status == 200
    items, calls = reads.items.copy(), reads.calls.copy()
    print(f"sign-in by a contact's email among {STORED_CUSTOMERS} customers: {dict(items)} {dict(calls)}")

    # Then it is owed its link, and the request read the email's one lookup item (two queries of the
    # email index: the customers' own emails, their contacts'), that one customer, and the
    # organisation twice (the page's and the service's read, three items each: it and its two number
    # series); never a page of the organisation's customers
    assert [(m["to"], m["customer_id"]) for m in sign_in_links(acme.org)] == [(["ar@target.test"], target)]
    assert calls["Query"] == 2
    assert items["Query"] == 1
    assert items["BatchGetItem"] == 2 * 3 + 1, (dict(items), dict(calls))
    assert items.total() == 8


# --- status changes move invoices between lists ---------------------------------------------------


def _listed(acme: Billing, query: str) -> list[str]:
    response = acme.api.get(f"{acme.base}/invoices?{query}&limit=100")
    assert response.status == 200, response.body
    return [invoice["id"] for invoice in response.json()["data"]]


def _lists_holding(acme: Billing, invoice_id: str) -> set[str]:
    """The status lists (org-wide and the customer's) and the customer's list that show the invoice."""
    holding = set()
    for status in ("draft", "open", "paid", "void", "uncollectible"):
        if invoice_id in _listed(acme, f"status={status}"):
            holding.add(status)
        if invoice_id in _listed(acme, f"status={status}&customer_id={acme.customer}"):
            holding.add(f"customer:{status}")
    if invoice_id in _listed(acme, f"customer_id={acme.customer}"):
        holding.add("customer")
    return holding


def _post(acme: Billing, invoice_id: str, action: str) -> None:
    response = acme.api.post(f"{acme.invoice(invoice_id)}/{action}")
    assert response.status == 200, response.body


def test_a_draft_moves_to_open_then_paid_in_every_status_list(acme: Billing) -> None:
    invoice = acme.draft()
    assert _lists_holding(acme, invoice["id"]) == {"draft", "customer:draft", "customer"}

    _post(acme, invoice["id"], "finalize")
    assert _lists_holding(acme, invoice["id"]) == {"open", "customer:open", "customer"}

    assert acme.pay(invoice["id"], acme.get(invoice["id"])["amount_due"]).status == 201
    assert _lists_holding(acme, invoice["id"]) == {"paid", "customer:paid", "customer"}


def test_voiding_or_marking_uncollectible_moves_an_open_invoice(acme: Billing) -> None:
    voided, uncollectible = acme.finalized(), acme.finalized()

    _post(acme, voided["id"], "void")
    _post(acme, uncollectible["id"], "mark_uncollectible")

    assert _lists_holding(acme, voided["id"]) == {"void", "customer:void", "customer"}
    assert _lists_holding(acme, uncollectible["id"]) == {
        "uncollectible",
        "customer:uncollectible",
        "customer",
    }
    _post(acme, uncollectible["id"], "void")
    assert _lists_holding(acme, uncollectible["id"]) == {"void", "customer:void", "customer"}


def test_a_deleted_draft_leaves_every_list(acme: Billing) -> None:
    kept, deleted = acme.draft(), acme.draft()

    assert acme.api.delete(acme.invoice(deleted["id"])).status == 204

    assert _lists_holding(acme, deleted["id"]) == set()
    assert _lists_holding(acme, kept["id"]) == {"draft", "customer:draft", "customer"}


def test_a_charge_moves_between_its_customers_status_lists(acme: Billing) -> None:
    charge = acme.charge()
    path = f"{acme.base}/customers/{acme.customer}/charges"

    def listed(status: str) -> list[str]:
        return [c["id"] for c in acme.api.get(f"{path}?status={status}").json()["data"]]

    assert (listed("open"), listed("invoiced")) == ([charge["id"]], [])
    draft = acme.draft(charge_ids=[charge["id"]], line_items=[])
    assert (listed("open"), listed("invoiced")) == ([], [charge["id"]])
    assert acme.api.delete(acme.invoice(draft["id"])).status == 204
    assert (listed("open"), listed("invoiced")) == ([charge["id"]], [])


# --- data stored before the list indexes ----------------------------------------------------------


def test_the_backfill_puts_older_items_back_in_their_lists_once(acme: Billing) -> None:
    from remit.admin import backfill_list_indexes

    # Given an invoice, its payment and a charge stored without the list keys (as before them)
    charge = acme.charge()
    invoice = acme.finalized()
    assert acme.pay(invoice["id"], 500).status == 201
    client = boto3.client("dynamodb")
    items = client.scan(TableName=TABLES["BillingTable"])["Items"]
    # (events carry an object's list key from the first: they were never stored without it)
    older = [item for item in items if "GSI2PK" in item and item["entity"]["S"] != "event"]
    for item in older:
        client.update_item(
            TableName=TABLES["BillingTable"],
            Key={"PK": item["PK"], "SK": item["SK"]},
            UpdateExpression="REMOVE GSI2PK, GSI2SK, GSI3PK, GSI3SK, GSI4PK, GSI4SK",
        )
    payments = f"{acme.base}/payments?invoice_id={invoice['id']}"
    charges = f"{acme.base}/customers/{acme.customer}/charges?status=open"
    assert _listed(acme, "status=open") == []
    assert acme.api.get(payments).json()["data"] == []

    # When the backfill runs (twice)
    first, second = (
        backfill_list_indexes(TABLES["BillingTable"]),
        backfill_list_indexes(TABLES["BillingTable"]),
    )

    # Then they are listed again, and the second run found nothing to do
    assert first == len(older) == 3
    assert second is None
    assert _listed(acme, "status=open") == [invoice["id"]]
    assert _listed(acme, f"status=open&customer_id={acme.customer}") == [invoice["id"]]
    assert [p["invoice_id"] for p in acme.api.get(payments).json()["data"]] == [invoice["id"]]
    assert [c["id"] for c in acme.api.get(charges).json()["data"]] == [charge["id"]]
