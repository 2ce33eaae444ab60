"""The dashboard's invoices: the list, new drafts, an invoice's page and every action on it, through
the same services the API calls (what the API reads is what the pages changed).
"""

from __future__ import annotations

import base64
from decimal import Decimal
from typing import Any

import boto3
import pytest

from tests.integration.conftest import TABLES, SettableClock
from tests.integration.dashboard_browser import Browser, account_with_user, signed_in, text_of

pytestmark = pytest.mark.usefixtures("user_pool")


class Org:
    """A signed-in person's organisation with one customer (Globex, 19 % tax), and shortcuts."""

    def __init__(self, email: str, currency: str = "EUR", sign_in: bool = True) -> None:
        self.email = email
        self.account_id, self.id = account_with_user(email, "Ada Ltd", currency)
        self.customer = self.new_customer("Globex GmbH")
        self.browser: Browser = signed_in(email) if sign_in else Browser()

    def new_customer(self, name: str, **fields: Any) -> str:
        from remit.bootstrap import services
        from remit.domain.customer import NewCustomer

        new = NewCustomer.model_validate(
            {"name": name, "email": "ap@globex.test", "tax_rate": "19", **fields}
        )
        return services().customers.create(self.account_id, self.id, new).id

    @property
    def base(self) -> str:
        return f"/dashboard/organisations/{self.id}/invoices"

    def path(self, invoice_id: str, *rest: str) -> str:
        return "/".join([self.base, invoice_id, *rest])

    def draft(self, unit_amount: int = 1000, customer: str | None = None, **fields: Any) -> str:
        from remit.bootstrap import services
        from remit.domain.invoice import NewInvoice

        new = NewInvoice.model_validate(
            {
                "customer_id": customer or self.customer,
                "line_items": [{"description": "Widget", "quantity": "2", "unit_amount": unit_amount}],
                **fields,
            }
        )
        return services().invoices.create_draft(self.account_id, self.id, new).id

    def finalized(self, unit_amount: int = 1000, **fields: Any) -> str:
        from remit.bootstrap import services

        invoice_id = self.draft(unit_amount, **fields)
        services().invoice_lifecycle.finalize(self.account_id, self.id, invoice_id, "https://api.test")
        return invoice_id

    def get(self, invoice_id: str) -> Any:
        from remit.bootstrap import services

        return services().invoices.get(self.account_id, self.id, invoice_id)

    def payments(self, invoice_id: str) -> list[Any]:
        from remit.bootstrap import services

        return services().payments.list_payments(self.account_id, self.id, 100, None, invoice_id, None).items

    def page(self, path: str) -> dict[str, Any]:
        response = self.browser.request("GET", path)
        assert response["statusCode"] == 200, response["body"]
        return response

    def followed(self, response: dict[str, Any]) -> str:
        """The text of the page a 303 leads to (with its notice)."""
        assert response["statusCode"] == 303, text_of(response["body"])
        return text_of(self.page(response["headers"]["Location"])["body"])


def outbox(org: str) -> list[dict[str, Any]]:
    items = boto3.client("dynamodb").query(
        TableName=TABLES["BillingTable"],
        KeyConditionExpression="PK = :pk AND begins_with(SK, :outbox)",
        ExpressionAttributeValues={":pk": {"S": f"ORG#{org}"}, ":outbox": {"S": "OUTBOX#"}},
    )["Items"]
    return [{"kind": i["kind"]["S"], "invoice_id": i["invoice_id"]["S"]} for i in items]


# The list -----------------------------------------------------------------------------------------


def test_the_list_shows_each_invoice_and_filters_by_status_and_customer() -> None:
    org = Org("lia@example.com")
    other = org.new_customer("Initech")
    draft = org.draft(1999)
    finalized = org.finalized(5000)
    of_other = org.draft(700, customer=other)

    everything = org.page(org.base)["body"]
    drafts = text_of(org.page(f"{org.base}?status=draft")["body"])
    opened = org.page(f"{org.base}?status=open")["body"]
    of_initech = text_of(org.page(f"{org.base}?customer_id={other}")["body"])

    for invoice_id in (draft, finalized, of_other):
        assert f'href="{org.path(invoice_id)}"' in everything
    number = org.get(finalized).number
    row = text_of(everything)
    assert "Globex GmbH" in row
    assert "Initech" in row
    assert "€47.58" in row  # 2 x 19.99 + 19 % tax, in the organisation's locale
    assert '<th scope="col" class="num">Amount due</th>' in everything
    assert number not in drafts
    assert "Draft" in drafts
    assert number in text_of(opened)
    assert f'href="{org.path(draft)}"' not in opened
    assert 'aria-current="page">Open</a>' in opened
    assert "Initech" in of_initech
    assert "Globex GmbH" not in of_initech.split("Status", 1)[1]
    assert f'href="{org.base}/new?customer_id={other}"' in org.page(f"{org.base}?customer_id={other}")["body"]


def test_the_list_reads_one_page_and_links_to_the_next(monkeypatch: pytest.MonkeyPatch) -> None:
    from dashboard.pages import invoices

    monkeypatch.setattr(invoices, "PAGE_SIZE", 2)
    org = Org("mo@example.com")
    ids = [org.draft(100 * (n + 1)) for n in range(3)]

    first = org.page(org.base)["body"]
    assert sum(f'href="{org.path(i)}"' in first for i in ids) == 2
    start = first.index('rel="next"') if 'rel="next"' in first else -1
    assert start > 0
    link = first[
        first.rindex('href="', 0, start) + 6 : first.index('"', first.rindex('href="', 0, start) + 6)
    ]
    second = org.page(link.replace("&amp;", "&"))["body"]
    assert f'href="{org.path(ids[2])}"' in second
    assert 'rel="next"' not in second


def test_an_overdue_invoice_is_marked_in_words(clock: SettableClock) -> None:
    org = Org("nia@example.com", sign_in=False)
    late = org.finalized(days_until_due=10)
    on_time = org.finalized(days_until_due=30)
    clock.advance(days=11)
    org.browser = signed_in("nia@example.com")

    listed = org.page(f"{org.base}?status=open")["body"]
    detail = text_of(org.page(org.path(late))["body"])

    late_row = listed.split(f'href="{org.path(late)}"', 1)[1].split("</tr>", 1)[0]
    on_time_row = listed.split(f'href="{org.path(on_time)}"', 1)[1].split("</tr>", 1)[0]
    assert '<span class="status overdue">Overdue</span>' in late_row
    assert "Overdue" not in on_time_row
    assert "Overdue" in detail
    assert org.get(late).overdue


# New drafts ---------------------------------------------------------------------------------------


def test_a_new_draft_takes_amounts_in_major_units_and_stores_minor_units() -> None:
    org = Org("ola@example.com")

    form = org.page(f"{org.base}/new?customer_id={org.customer}")["body"]
    assert f'<option value="{org.customer}" selected>' in form
    for name in (
        "line_items.0.description",
        "line_items.0.unit_amount",
        "due_date",
        "days_until_due",
        "memo",
    ):
        assert f'name="{name}"' in form
    # Empty rows may be left empty: the browser must not insist on them.
    description = form.split('name="line_items.1.description"', 1)[1].split(">", 1)[0]
    assert "required" not in description
    assert '<textarea id="f-memo" name="memo"' in form
    response = org.browser.post(
        org.base,
        {
            "customer_id": org.customer,
            "line_items.0.description": "Design work",
            "line_items.0.quantity": "3",
            "line_items.0.unit_amount": "19.99",
            "line_items.1.description": "Hosting",
            "line_items.1.unit_amount": "5",
            "line_items.1.tax_rate": "7",
            # The empty rows a browser posts too: skipped.
            "line_items.2.description": "",
            "line_items.2.quantity": "",
            "line_items.2.unit_amount": "",
            "line_items.2.tax_rate": "",
            "charge_ids": "",
            "include_open_charges": "false",
            "due_date": "",
            "days_until_due": "14",
            "currency": "",
            "memo": "Thank you.",
            "footer": "",
        },
        confirmed=False,
    )

    page = org.followed(response)
    invoice_id = response["headers"]["Location"].rsplit("/", 1)[1]
    invoice = org.get(invoice_id)
    assert [(line.unit_amount, line.quantity, line.tax_rate) for line in invoice.line_items] == [
        (1999, Decimal(3), Decimal(19)),  # the customer's tax rate
        (500, Decimal(1), Decimal(7)),
    ]
    assert (invoice.status, invoice.memo) == ("draft", "Thank you.")
    assert "Draft created" in page
    assert "Design work" in page
    assert "€19.99" in page


def test_a_yen_amount_has_no_decimals_for_a_yen_customer_of_a_euro_organisation() -> None:
    from remit.bootstrap import services

    org = Org("pam@example.com")
    tanaka = org.new_customer("Tanaka KK", currency="JPY")
    fields = {"customer_id": tanaka, "line_items.0.description": "Tea", "line_items.0.unit_amount": "1500"}

    created = org.browser.post(org.base, fields, confirmed=False)
    refused = org.browser.post(org.base, {**fields, "line_items.0.unit_amount": "15.5"}, confirmed=False)

    invoice = org.get(created["headers"]["Location"].rsplit("/", 1)[1])
    assert invoice.line_items[0].unit_amount == 1500
    assert invoice.currency == "JPY"
    assert refused["statusCode"] == 422
    assert 'id="f-line_items-0-unit_amount-error"' in refused["body"]
    assert 'value="15.5"' in refused["body"]
    assert "(in JPY, e.g. 19.99)" in text_of(refused["body"])
    assert len(services().invoices.list_invoices(org.account_id, org.id, 10, None, None, None).items) == 1


def test_a_refused_line_is_marked_on_the_row_it_was_typed_in() -> None:
    org = Org("pat@example.com")

    response = org.browser.post(
        org.base,
        {
            "customer_id": org.customer,
            "line_items.0.description": "",
            "line_items.0.unit_amount": "",
            "line_items.1.description": "Widget",
            "line_items.1.unit_amount": "abc",
        },
        confirmed=False,
    )

    assert response["statusCode"] == 422
    assert 'id="f-line_items-1-unit_amount-error"' in response["body"]
    assert 'id="f-line_items-0-unit_amount-error"' not in response["body"]


def test_a_refused_draft_shows_the_apis_message_next_to_its_field_and_creates_nothing() -> None:
    from remit.bootstrap import services

    org = Org("quy@example.com")

    response = org.browser.post(
        org.base,
        {"customer_id": "cus_nobody", "line_items.0.description": "X", "line_items.0.unit_amount": "1"},
        confirmed=False,
    )

    assert response["statusCode"] == 422
    assert 'id="f-customer_id-error"' in response["body"]
    assert services().invoices.list_invoices(org.account_id, org.id, 10, None, None, None).items == []


# An invoice's page ------------------------------------------------------------------------------


def test_an_invoices_page_shows_its_lines_totals_payments_timeline_and_pdf_link() -> None:
    from remit.bootstrap import services
    from remit.domain.payment import NewOfflinePayment

    org = Org("rex@example.com")
    invoice_id = org.finalized(1999)
    services().payments.record_offline_payment(
        org.account_id, org.id, invoice_id, NewOfflinePayment(amount=1000, method="cash", reference="Till 3")
    )
    invoice = org.get(invoice_id)

    body = org.page(org.path(invoice_id))["body"]
    text = text_of(body)

    assert f"Invoice {invoice.number}" in text
    assert f'href="/dashboard/organisations/{org.id}/customers/{org.customer}"' in body
    assert "Widget" in text
    assert "€19.99" in text
    assert "€39.98" in text
    assert "Tax 19 % on €39.98 €7.60" in text
    assert "Total €47.58" in text
    assert "Amount paid €10.00" in text
    assert "Amount due €37.58" in text
    assert "Till 3" in text
    assert "cash" in text
    assert "invoice.created" in text
    assert "invoice.finalized" in text
    assert "invoice.payment_recorded" in text
    assert f'href="{org.path(invoice_id, "pdf")}"' in body
    assert f'href="{invoice.hosted_url}"' in body
    assert body.count("<h1>") == 1
    assert 'action="' + org.path(invoice_id, "void") + '"' in body  # open: void offered
    assert 'action="' + org.path(invoice_id, "finalize") + '"' not in body  # not a draft


def test_the_pdf_route_answers_the_pdf() -> None:
    org = Org("sue@example.com")
    invoice_id = org.finalized()

    response = org.browser.request("GET", org.path(invoice_id, "pdf"))

    assert response["statusCode"] == 200
    assert response["headers"]["Content-Type"] == "application/pdf"
    assert response["isBase64Encoded"] is True
    assert base64.b64decode(response["body"]).startswith(b"%PDF")
    assert f'filename="{org.get(invoice_id).number}.pdf"' in response["headers"]["Content-Disposition"]
    assert response["headers"]["Content-Disposition"].startswith("inline;")
    assert response["headers"]["Cache-Control"] == "private, no-store"
    assert response["headers"]["X-Content-Type-Options"] == "nosniff"


def test_a_pdf_no_font_can_draw_shows_the_apis_message() -> None:
    org = Org("tia@example.com")
    invoice_id = org.finalized(memo="Thanks \ue000")

    response = org.browser.request("GET", org.path(invoice_id, "pdf"))

    assert response["statusCode"] == 422
    assert response["headers"]["Content-Type"].startswith("text/html")
    assert "memo: no font can draw U+E000" in text_of(response["body"])


def test_a_draft_has_no_pdf_and_says_so() -> None:
    org = Org("tom@example.com")
    draft = org.draft()

    response = org.browser.request("GET", org.path(draft, "pdf"))

    assert response["statusCode"] == 409
    assert "finalize the invoice first" in text_of(response["body"])


# Drafts: edit, delete, finalize, send --------------------------------------------------------------


def test_editing_a_draft_keeps_unchanged_lines_and_replaces_changed_ones() -> None:
    from remit.bootstrap import services
    from remit.domain.invoice import InvoiceChanges

    org = Org("uma@example.com")
    draft = org.draft(1000)
    services().invoices.update_draft(
        org.account_id,
        org.id,
        draft,
        InvoiceChanges.model_validate(
            {
                "line_items": [
                    {"id": org.get(draft).line_items[0].id},
                    {"description": "Support", "unit_amount": 250},
                ]
            }
        ),
    )
    before = org.get(draft).line_items

    form = org.page(org.path(draft, "edit"))["body"]
    assert f'name="line_items.0.id" value="{before[0].id}"' in form
    assert 'name="line_items.0.unit_amount" value="10.00"' in form or 'value="10"' in form
    response = org.browser.post(
        org.path(draft, "edit"),
        {
            "line_items.0.id": before[0].id,
            "line_items.0.description": "Widget",
            "line_items.0.quantity": "2",
            "line_items.0.unit_amount": "10.00",
            "line_items.0.tax_rate": "19.00",
            "line_items.1.id": before[1].id,
            "line_items.1.description": "Support, extended",
            "line_items.1.quantity": "1",
            "line_items.1.unit_amount": "2.50",
            "line_items.1.tax_rate": "19.00",
            "due_date": "2031-01-31",
            "days_until_due": "",
            "memo": "Edited",
            "footer": "",
        },
        confirmed=False,
    )

    page = org.followed(response)
    after = org.get(draft)
    assert after.line_items[0].id == before[0].id  # kept
    assert after.line_items[1].id != before[1].id
    assert after.line_items[1].description == "Support, extended"
    assert (after.memo, after.due_date.isoformat()) == ("Edited", "2031-01-31")
    assert "Draft saved: 2 line(s)" in page


def test_the_line_forms_offer_the_vat_category_exemption_reason_and_unit_code() -> None:
    org = Org("vat@example.com")

    form = org.page(f"{org.base}/new?customer_id={org.customer}")["body"]
    for name in (
        "line_items.0.vat_category",
        "line_items.0.exemption_reason",
        "line_items.0.unit_code",
        "delivery_date",
    ):
        assert f'name="{name}"' in form, name
    assert '<option value="AE">' in form
    response = org.browser.post(
        org.base,
        {
            "customer_id": org.customer,
            "line_items.0.description": "Medical care",
            "line_items.0.unit_amount": "100",
            "line_items.0.tax_rate": "0",
            "line_items.0.vat_category": "E",
            "line_items.0.exemption_reason": "Art. 132 (1)(c) 2006/112/EC",
            "line_items.0.unit_code": "HUR",
            "line_items.1.description": "",
            "line_items.1.unit_amount": "",
            "line_items.1.vat_category": "",
            "line_items.1.unit_code": "",
            "delivery_date": "2031-01-15",
            "days_until_due": "14",
        },
        confirmed=False,
    )

    page = org.followed(response)
    invoice = org.get(response["headers"]["Location"].rsplit("/", 1)[1])
    assert "Art. 132 (1)(c) 2006/112/EC" in page
    assert "Delivered" in page
    (line,) = invoice.line_items
    assert (line.vat_category, line.exemption_reason, line.unit_code) == (
        "E",
        "Art. 132 (1)(c) 2006/112/EC",
        "HUR",
    )
    assert invoice.delivery_date.isoformat() == "2031-01-15"


def test_a_line_whose_category_its_rate_refuses_is_marked_on_its_row_and_creates_nothing() -> None:
    org = Org("vcx@example.com")

    response = org.browser.post(
        org.base,
        {
            "customer_id": org.customer,
            "line_items.0.description": "Widget",
            "line_items.0.unit_amount": "10",
            "line_items.0.vat_category": "AE",
        },
        confirmed=False,
    )

    assert response["statusCode"] == 422
    assert 'id="f-line_items-0-vat_category-error"' in response["body"]
    assert "VAT category AE" in text_of(response["body"])
    assert org.page(org.base)["statusCode"] == 200
    assert "Widget" not in text_of(org.page(org.base)["body"])


def test_editing_a_lines_unit_code_replaces_it_and_the_delivery_date_is_saved() -> None:
    org = Org("vce@example.com")
    draft = org.draft(1000)
    before = org.get(draft).line_items[0]

    form = org.page(org.path(draft, "edit"))["body"]
    assert 'name="line_items.0.unit_code" value="C62"' in form
    response = org.browser.post(
        org.path(draft, "edit"),
        {
            "line_items.0.id": before.id,
            "line_items.0.description": before.description,
            "line_items.0.quantity": str(before.quantity),
            "line_items.0.unit_amount": "10.00",
            "line_items.0.tax_rate": str(before.tax_rate),
            "line_items.0.vat_category": "S",
            "line_items.0.unit_code": "DAY",
            "delivery_date": "2031-02-01",
            "days_until_due": "14",
        },
        confirmed=False,
    )

    org.followed(response)
    after = org.get(draft)
    assert after.line_items[0].id != before.id
    assert (after.line_items[0].unit_code, after.line_items[0].vat_category) == ("DAY", "S")
    assert after.delivery_date.isoformat() == "2031-02-01"
    assert 'value="2031-02-01"' in org.page(org.path(draft, "edit"))["body"]


def test_a_refused_edit_shows_the_apis_message_next_to_the_field_and_changes_nothing() -> None:
    org = Org("vic@example.com")
    draft = org.draft(1000)
    before = org.get(draft)

    response = org.browser.post(
        org.path(draft, "edit"),
        {
            "line_items.0.description": "Widget",
            "line_items.0.unit_amount": "ten",
            "due_date": "",
            "days_until_due": "",
            "memo": "Changed",
        },
        confirmed=False,
    )

    assert response["statusCode"] == 422
    assert 'id="f-line_items-0-unit_amount-error"' in response["body"]
    assert 'value="ten"' in response["body"]
    assert org.get(draft) == before


def test_deleting_a_draft_is_confirmed_first_then_done() -> None:
    from remit.domain.errors import NotFound

    org = Org("wes@example.com")
    draft = org.draft()

    asked = org.browser.post(org.path(draft, "delete"), {}, confirmed=False)
    assert asked["statusCode"] == 200
    assert "Delete this draft" in text_of(asked["body"])
    assert org.get(draft).status == "draft"

    page = org.followed(org.browser.post(org.path(draft, "delete"), {}))
    assert "deleted" in page
    with pytest.raises(NotFound):
        org.get(draft)


def test_finalizing_assigns_the_number_and_locks_the_invoice() -> None:
    org = Org("xia@example.com")
    draft = org.draft()

    page = org.followed(org.browser.post(org.path(draft, "finalize"), {}))

    invoice = org.get(draft)
    assert invoice.status == "open"
    assert invoice.number
    assert f"Invoice {invoice.number} finalized" in page
    assert invoice.hosted_url == f"https://api.remit.test/i/{invoice.hosted_token}"  # the configured URL


def test_without_a_configured_public_url_the_hosted_link_is_on_the_host_and_stage_of_the_request(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tests.integration.conftest import reset_remit

    monkeypatch.setenv("REMIT_PUBLIC_BASE_URL", "")
    reset_remit()
    org = Org("xavi@example.com")
    draft = org.draft()

    org.browser.post(org.path(draft, "send"), {})

    hosted_url = org.get(draft).hosted_url
    assert (
        hosted_url == f"https://abc123.execute-api.eu-west-1.amazonaws.com/v1/i/{org.get(draft).hosted_token}"
    )


def test_sending_owes_the_invoice_email() -> None:
    org = Org("yan@example.com")
    invoice_id = org.finalized()

    page = org.followed(org.browser.post(org.path(invoice_id, "send"), {}))

    assert outbox(org.id) == [{"kind": "invoice", "invoice_id": invoice_id}]
    assert org.get(invoice_id).sent_at is not None
    assert "sent to the customer&#39;s billing recipients" in page


def test_voiding_and_marking_uncollectible() -> None:
    org = Org("zoe@example.com")
    to_void = org.finalized()
    to_write_off = org.finalized()

    voided = org.followed(org.browser.post(org.path(to_void, "void"), {}))
    written_off = org.followed(org.browser.post(org.path(to_write_off, "mark-uncollectible"), {}))

    assert org.get(to_void).status == "void"
    assert "voided" in voided
    assert org.get(to_write_off).status == "uncollectible"
    assert "marked uncollectible" in written_off


def test_a_refused_transition_shows_the_apis_message_and_changes_nothing() -> None:
    org = Org("abe@example.com")
    draft = org.draft()
    before = org.get(draft)

    response = org.browser.post(org.path(draft, "void"), {})

    assert response["statusCode"] == 409
    assert "only open or uncollectible invoices can be voided" in text_of(response["body"])
    assert org.get(draft) == before


def test_attempt_card_without_a_provider_shows_the_apis_message() -> None:
    org = Org("bea@example.com")
    invoice_id = org.finalized()
    before = org.get(invoice_id)

    response = org.browser.post(org.path(invoice_id, "charge"), {})

    assert response["statusCode"] == 409
    assert "Not done" in text_of(response["body"])
    assert org.get(invoice_id) == before


# Payments -----------------------------------------------------------------------------------------


def test_a_partial_then_a_full_payment_make_the_invoice_paid() -> None:
    org = Org("cal@example.com")
    invoice_id = org.finalized(1999)  # 47.58 € with tax

    form = org.page(org.path(invoice_id, "payments", "new"))["body"]
    assert 'name="amount" value="47.58"' in form
    asked = org.browser.post(
        org.path(invoice_id, "payments"), {"amount": "20", "method": "bank_transfer"}, confirmed=False
    )
    assert "Record a payment of €20.00" in text_of(asked["body"])
    assert org.payments(invoice_id) == []

    partial = org.followed(
        org.browser.post(
            org.path(invoice_id, "payments"),
            {"amount": "20", "method": "bank_transfer", "reference": "SEPA 1", "received_on": "2026-11-30"},
        )
    )
    assert "€27.58 is still due" in partial
    assert org.get(invoice_id).status == "open"
    full = org.followed(
        org.browser.post(org.path(invoice_id, "payments"), {"amount": "27.58", "method": "cheque"})
    )

    invoice = org.get(invoice_id)
    assert (invoice.status, invoice.amount_paid, invoice.amount_due) == ("paid", 4758, 0)
    assert "it is paid" in full
    assert [(p.amount, p.method, p.reference) for p in org.payments(invoice_id)] == [
        (2000, "bank_transfer", "SEPA 1"),
        (2758, "cheque", None),
    ]


def test_a_payment_form_posted_twice_records_one_payment() -> None:
    org = Org("cyd@example.com")
    invoice_id = org.finalized()
    form = org.page(org.path(invoice_id, "payments", "new"))["body"]
    key = form.split('name="request_key" value="', 1)[1].split('"', 1)[0]
    fields = {"amount": "5", "method": "cash", "request_key": key}

    first = org.browser.post(org.path(invoice_id, "payments"), fields)
    again = org.browser.post(org.path(invoice_id, "payments"), fields)

    assert first["statusCode"] == again["statusCode"] == 303
    assert [p.amount for p in org.payments(invoice_id)] == [500]
    assert org.get(invoice_id).amount_paid == 500


@pytest.mark.parametrize("amount", ["12.345", "0", "-5", "twelve"])
def test_a_bad_payment_amount_is_refused_next_to_the_field(amount: str) -> None:
    org = Org(f"dan{amount.replace('.', '').replace('-', 'm')}@example.com")
    invoice_id = org.finalized()

    response = org.browser.post(org.path(invoice_id, "payments"), {"amount": amount, "method": "cash"})

    assert response["statusCode"] == 422
    assert 'id="f-amount-error"' in response["body"]
    assert org.payments(invoice_id) == []
    assert org.get(invoice_id).amount_paid == 0


def test_a_payment_above_the_amount_due_is_confirmed_as_credit_as_the_api_takes_it() -> None:
    org = Org("eve@example.com")
    invoice_id = org.finalized()  # 23.80 € due

    asked = org.browser.post(
        org.path(invoice_id, "payments"), {"amount": "30", "method": "cash"}, confirmed=False
    )

    assert "€6.20 more than the amount due" in text_of(asked["body"])
    assert org.payments(invoice_id) == []


def test_a_payment_on_a_paid_invoice_shows_the_apis_message() -> None:
    org = Org("fay@example.com")
    invoice_id = org.finalized()
    org.browser.post(org.path(invoice_id, "payments"), {"amount": "23.80", "method": "cash"})

    response = org.browser.post(org.path(invoice_id, "payments"), {"amount": "1", "method": "cash"})

    assert response["statusCode"] == 409
    assert "only open invoices can be paid" in text_of(response["body"])
    assert len(org.payments(invoice_id)) == 1


# Isolation and CSRF -------------------------------------------------------------------------------


def test_another_organisations_invoice_is_not_found() -> None:
    from remit.bootstrap import services
    from remit.domain.customer import NewCustomer
    from remit.domain.invoice import NewInvoice
    from remit.domain.organisation import NewOrganisation

    mine = Org("gus@example.com")
    theirs = Org("hal@example.com")
    their_invoice = theirs.finalized()
    # An organisation of the same account too: its invoice's id in my organisation's path is not found.
    sibling = services().organisations.create(
        mine.account_id, NewOrganisation(name="Sibling", default_currency="EUR")
    )
    sibling_customer = services().customers.create(
        mine.account_id, sibling.id, NewCustomer.model_validate({"name": "S", "email": "s@example.com"})
    )
    sibling_invoice = (
        services()
        .invoices.create_draft(
            mine.account_id,
            sibling.id,
            NewInvoice.model_validate(
                {"customer_id": sibling_customer.id, "line_items": [{"description": "X", "unit_amount": 1}]}
            ),
        )
        .id
    )

    for invoice_id in (their_invoice, sibling_invoice):
        for path in (
            mine.path(invoice_id),
            mine.path(invoice_id, "pdf"),
            mine.path(invoice_id, "edit"),
            mine.path(invoice_id, "payments", "new"),
        ):
            assert mine.browser.request("GET", path)["statusCode"] == 404, path
        for action in ("void", "delete", "finalize", "send", "mark-uncollectible", "charge", "edit"):
            assert mine.browser.post(mine.path(invoice_id, action), {"memo": "x"})["statusCode"] == 404
        payment = {"amount": "1", "method": "cash"}
        assert mine.browser.post(mine.path(invoice_id, "payments"), payment)["statusCode"] == 404
    assert mine.browser.request("GET", theirs.path(their_invoice))["statusCode"] == 404
    assert theirs.get(their_invoice).status == "open"


def test_an_action_posted_without_its_csrf_token_changes_nothing() -> None:
    org = Org("ivy@example.com")
    invoice_id = org.finalized()

    response = org.browser.request("POST", org.path(invoice_id, "void"), {"confirmed": "yes"})

    assert response["statusCode"] == 403
    assert org.get(invoice_id).status == "open"
