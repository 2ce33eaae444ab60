"""The dashboard's credit notes: issuing one from an invoice's page (the form, the service's preview,
the confirmation), the lists (on the invoice, on the customer's profile, the organisation's), a
credit note's page with its refunds and void, and the refunds on an invoice's payments, through
the same services the API calls.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.dashboard_browser import text_of
from tests.integration.roles import account_with_roles
from tests.integration.test_dashboard_invoices import Org
from tests.integration.test_refunds import RefundingShop, shop  # noqa: F401 - fixtures

pytestmark = pytest.mark.usefixtures("user_pool")

# Org.finalized(): 2 x 10.00 € at 19 % = 23.80 € (one line; one unit is 11.90 € with its tax).


def credit_notes_of(org: Org, invoice_id: str) -> list[Any]:
    from remit.bootstrap import services

    return services().credit_notes.of_invoice(org.account_id, org.id, invoice_id, 100, None).items


def issue(org: Org, invoice_id: str, body: dict[str, Any]) -> Any:
    from remit.bootstrap import services
    from remit.domain.credit_notes import NewCreditNote

    new = NewCreditNote.model_validate(body)
    return services().credit_notes.issue(org.account_id, org.id, invoice_id, new)


def paid(org: Org) -> str:
    """A finalized invoice paid in full by bank transfer."""
    from remit.bootstrap import services
    from remit.domain.payment import NewOfflinePayment

    invoice_id = org.finalized()
    payment = NewOfflinePayment.model_validate({"amount": 2380, "method": "bank_transfer"})
    services().payments.record_offline_payment(org.account_id, org.id, invoice_id, payment)
    return invoice_id


def new_form(org: Org, invoice_id: str, query: str = "") -> str:
    return org.page(org.path(invoice_id, "credit-notes", "new") + query)["body"]


def request_key(form: str) -> str:
    return form.split('name="request_key" value="', 1)[1].split('"', 1)[0]


def line_id(org: Org, invoice_id: str) -> str:
    return str(org.get(invoice_id).line_items[0].id)


# Issuing ------------------------------------------------------------------------------------------


def test_an_open_invoice_is_credited_through_the_form_its_preview_and_the_confirmation() -> None:
    org = Org("cn-ann@example.com")
    invoice_id = org.finalized()

    invoice_page = org.page(org.path(invoice_id))["body"]
    form = new_form(org, invoice_id)
    fields = {"lines.0.quantity": "1", "reason": "product_unsatisfactory", "request_key": request_key(form)}
    preview = org.browser.post(org.path(invoice_id, "credit-notes"), fields, confirmed=False)
    nothing_yet = credit_notes_of(org, invoice_id)
    issued = org.browser.post(org.path(invoice_id, "credit-notes"), fields)

    assert f'href="{org.path(invoice_id, "credit-notes", "new")}"' in invoice_page
    assert "Issue credit note" in invoice_page
    # The form: the invoice's line with what is left of it, and the split explained in words.
    shown = text_of(form)
    assert "Line 1: Widget" in shown
    assert "Left to credit: 2 (quantity), €20.00 before tax" in shown
    assert "Still due on the invoice €23.80" in shown
    assert "first takes up to €23.80 off what is still due" in shown
    assert '<label for="f-lines-0-quantity">' in form
    # The preview: the service's figures, nothing stored.
    assert preview["statusCode"] == 200
    previewed = text_of(preview["body"])
    assert "Preview: nothing is issued yet" in previewed
    assert "Total credited €11.90" in previewed
    assert "Tax 19 % on €10.00 €1.90" in previewed
    assert "€23.80 now, €11.90 after it" in previewed
    assert "Taken off the amount due €11.90" in previewed
    assert nothing_yet == []
    # Confirmed: issued, numbered, and the invoice lowered.
    (note,) = credit_notes_of(org, invoice_id)
    assert issued["headers"]["Location"].endswith(f"/credit-notes/{note.id}")
    notice = org.followed(issued)
    assert f"Credit note {note.number} of €11.90 issued on invoice {org.get(invoice_id).number}." in notice
    assert note.total == 1190
    assert note.reason == "product_unsatisfactory"
    assert org.get(invoice_id).amount_due == 1190


def test_the_preview_page_carries_the_form_and_change_shows_it_again_filled_in() -> None:
    org = Org("cn-bea@example.com")
    invoice_id = org.finalized()
    fields = {"lines.0.quantity": "1", "memo": "Returned", "request_key": "k1"}

    preview = org.browser.post(org.path(invoice_id, "credit-notes"), fields, confirmed=False)
    changed = org.browser.post(
        org.path(invoice_id, "credit-notes"), {**fields, "edit": "yes"}, confirmed=False
    )

    assert '<input type="hidden" name="lines.0.quantity" value="1">' in preview["body"]
    assert '<input type="hidden" name="request_key" value="k1">' in preview["body"]
    assert 'name="confirmed" value="yes"' in preview["body"]
    assert changed["statusCode"] == 200
    assert 'id="f-lines-0-quantity" name="lines.0.quantity" type="text" value="1"' in changed["body"]
    assert ">Returned</textarea>" in changed["body"]
    assert credit_notes_of(org, invoice_id) == []


def test_fill_all_prefills_every_quantity_left_and_credits_the_whole_invoice() -> None:
    org = Org("cn-cal@example.com")
    invoice_id = org.finalized()
    issue(org, invoice_id, {"lines": [{"invoice_line_id": line_id(org, invoice_id), "quantity": "1"}]})

    form = new_form(org, invoice_id, "?fill=all")
    response = org.browser.post(org.path(invoice_id, "credit-notes"), {"lines.0.quantity": "1"})

    assert 'name="lines.0.quantity" type="text" value="1"' in form
    assert response["statusCode"] == 303
    invoice = org.get(invoice_id)
    assert (invoice.status, invoice.amount_due, invoice.credited_amount) == ("paid", 0, 2380)
    assert "Fully credited." in text_of(org.page(org.path(invoice_id, "credit-notes", "new"))["body"])
    assert "Issue credit note" not in org.page(org.path(invoice_id))["body"]  # nothing left to credit


def test_a_paid_invoice_refunds_its_payment_and_the_payment_shows_the_refund() -> None:
    org = Org("cn-dot@example.com")
    invoice_id = paid(org)
    fields = {"amount": "11.90", "reason": "order_change", "refund_amount": "11.90"}

    preview = text_of(org.browser.post(org.path(invoice_id, "credit-notes"), fields, confirmed=False)["body"])
    issued = org.browser.post(org.path(invoice_id, "credit-notes"), fields)

    assert "Refunded from the invoice's payments" in preview
    assert "bank transfer (recorded as paid back) €23.80 €11.90" in preview
    assert issued["statusCode"] == 303
    (payment,) = org.payments(invoice_id)
    assert (payment.amount_refunded, payment.status) == (1190, "partially_refunded")
    invoice_page = text_of(org.page(org.path(invoice_id))["body"])
    assert "€23.80 bank transfer €11.90 partially refunded" in invoice_page
    assert "Refund of €11.90" in invoice_page
    assert "Succeeded" in invoice_page
    (note,) = credit_notes_of(org, invoice_id)
    note_page = text_of(org.page(f"/dashboard/organisations/{org.id}/credit-notes/{note.id}")["body"])
    assert "Refunded €11.90" in note_page
    assert "bank transfer €11.90 Succeeded" in note_page
    # Money left through it: the page says why it cannot be voided, and offers no button.
    assert "It cannot be voided: €11.90 of it was paid back to the customer" in note_page
    assert "Void credit note" not in note_page


def test_a_payment_refunded_in_full_shows_refunded() -> None:
    org = Org("cn-eli@example.com")
    invoice_id = paid(org)

    org.browser.post(org.path(invoice_id, "credit-notes"), {"amount": "23.80", "refund_amount": "23.80"})

    (payment,) = org.payments(invoice_id)
    assert payment.status == "refunded"
    assert "€23.80 bank transfer €23.80 refunded" in text_of(org.page(org.path(invoice_id))["body"])


@pytest.mark.parametrize("status", ["open", "paid", "uncollectible"])
def test_the_form_is_offered_on_open_paid_and_uncollectible_invoices(status: str) -> None:
    from remit.bootstrap import services

    org = Org(f"cn-fin-{status}@example.com")
    invoice_id = paid(org) if status == "paid" else org.finalized()
    if status == "uncollectible":
        services().invoice_lifecycle.mark_uncollectible(org.account_id, org.id, invoice_id)

    assert "Issue credit note" in org.page(org.path(invoice_id))["body"]
    assert org.browser.request("GET", org.path(invoice_id, "credit-notes", "new"))["statusCode"] == 200


@pytest.mark.parametrize("status", ["draft", "void"])
def test_a_draft_or_void_invoice_offers_no_credit_note_and_refuses_one(status: str) -> None:
    from remit.bootstrap import services

    org = Org(f"cn-gil-{status}@example.com")
    invoice_id = org.draft() if status == "draft" else org.finalized()
    if status == "void":
        services().invoice_lifecycle.void(org.account_id, org.id, invoice_id)

    page = org.page(org.path(invoice_id))["body"]
    form = org.browser.request("GET", org.path(invoice_id, "credit-notes", "new"))
    posted = org.browser.post(org.path(invoice_id, "credit-notes"), {"amount": "1"})

    assert "Issue credit note" not in page
    assert form["statusCode"] == posted["statusCode"] == 409
    expected = f"it is {status}, and only open or paid or uncollectible invoices can be credited"
    assert expected in text_of(form["body"])
    assert expected in text_of(posted["body"])
    assert credit_notes_of(org, invoice_id) == []


# The form's errors --------------------------------------------------------------------------------


def test_a_quantity_beyond_what_is_left_is_refused_next_to_its_line_and_issues_nothing() -> None:
    org = Org("cn-hue@example.com")
    invoice_id = org.finalized()

    response = org.browser.post(org.path(invoice_id, "credit-notes"), {"lines.0.quantity": "3"})

    assert response["statusCode"] == 422
    assert 'id="f-lines-0-quantity-error"' in response["body"]
    assert "at most 2 of this line can still be credited" in text_of(response["body"])
    assert (
        'name="lines.0.quantity" type="text" value="3" inputmode="decimal" aria-invalid="true"'
        in (response["body"])
    )
    assert credit_notes_of(org, invoice_id) == []
    assert org.get(invoice_id).amount_due == 2380


def test_a_split_that_does_not_add_up_is_refused_next_to_the_three_amounts() -> None:
    org = Org("cn-ida@example.com")
    invoice_id = paid(org)

    response = org.browser.post(org.path(invoice_id, "credit-notes"), {"amount": "10", "refund_amount": "5"})

    assert response["statusCode"] == 422
    for name in ("refund_amount", "credit_amount", "out_of_band_amount"):
        assert f'id="f-{name}-error"' in response["body"]
    assert "must add up to 1000" in text_of(response["body"])
    assert credit_notes_of(org, invoice_id) == []
    assert org.payments(invoice_id)[0].amount_refunded == 0


def test_a_refund_beyond_what_the_payments_hold_is_refused_next_to_the_refund() -> None:
    from remit.bootstrap import services
    from remit.domain.payment import NewBalanceTransaction, NewOfflinePayment

    org = Org("cn-jon@example.com")
    services().payments.adjust_balance(
        org.account_id, org.id, org.customer, NewBalanceTransaction.model_validate({"amount": 1000})
    )
    invoice_id = org.finalized()  # 10.00 of it paid by the customer's credit, 13.80 due
    payment = NewOfflinePayment.model_validate({"amount": 1380, "method": "cash"})
    services().payments.record_offline_payment(org.account_id, org.id, invoice_id, payment)

    response = org.browser.post(org.path(invoice_id, "credit-notes"), {"amount": "20", "refund_amount": "20"})

    assert response["statusCode"] == 409
    assert 'id="f-refund_amount-error"' in response["body"]
    assert "at most 1380 can be refunded" in text_of(response["body"])
    assert credit_notes_of(org, invoice_id) == []
    assert org.payments(invoice_id)[0].amount_refunded == 0


def test_more_than_is_left_on_the_invoice_is_refused_and_says_how_much_is_left() -> None:
    org = Org("cn-kit@example.com")
    invoice_id = org.finalized()

    response = org.browser.post(org.path(invoice_id, "credit-notes"), {"amount": "30"})

    assert response["statusCode"] == 409
    assert 'id="f-amount-error"' in response["body"]
    assert "at most 2380 can still be credited" in text_of(response["body"])
    assert credit_notes_of(org, invoice_id) == []


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"amount": "12.345"}, "amount", "at most 2 decimals"),
        ({"lines.0.amount": "ten"}, "lines-0-amount", "write an amount"),
        ({"lines.0.quantity": "a lot"}, "lines-0-quantity", "write a number"),
        ({"free.description": "Goodwill", "free.amount": "5", "free.tax_rate": "x"}, "free-tax_rate", ""),
        ({"reason": "because"}, "reason", ""),
    ],
)
def test_an_unreadable_field_is_refused_next_to_it(fields: dict[str, str], field: str, message: str) -> None:
    org = Org(f"cn-lou-{field}@example.com")
    invoice_id = org.finalized()

    response = org.browser.post(org.path(invoice_id, "credit-notes"), {"lines.0.quantity": "1", **fields})

    assert response["statusCode"] == 422, text_of(response["body"])
    assert f'id="f-{field}-error"' in response["body"]
    assert message in text_of(response["body"])
    assert credit_notes_of(org, invoice_id) == []


def test_nothing_to_credit_or_both_lines_and_an_amount_is_refused() -> None:
    org = Org("cn-max@example.com")
    invoice_id = org.finalized()

    empty = org.browser.post(org.path(invoice_id, "credit-notes"), {"reason": "other"})
    both = org.browser.post(org.path(invoice_id, "credit-notes"), {"lines.0.quantity": "1", "amount": "1"})

    assert empty["statusCode"] == 422
    assert "Say what to credit" in text_of(empty["body"])
    assert both["statusCode"] == 422
    assert "give `lines` or a single `amount`, one of them" in text_of(both["body"])
    assert credit_notes_of(org, invoice_id) == []


def test_a_free_line_and_a_memo_are_issued_and_shown_escaped() -> None:
    org = Org("cn-ned@example.com")
    invoice_id = org.finalized()
    fields = {"free.description": "<b>Goodwill</b>", "free.amount": "5", "free.tax_rate": "19"}

    org.browser.post(org.path(invoice_id, "credit-notes"), {**fields, "memo": "<script>alert(1)</script>"})

    (note,) = credit_notes_of(org, invoice_id)
    assert (note.lines[0].description, note.total) == ("<b>Goodwill</b>", 595)
    page = org.page(f"/dashboard/organisations/{org.id}/credit-notes/{note.id}")["body"]
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;b&gt;Goodwill&lt;/b&gt;" in page


def test_a_free_line_takes_a_vat_category_exemption_reason_and_unit_code() -> None:
    org = Org("cn-vat@example.com")
    invoice_id = org.finalized()
    fields = {
        "free.description": "Training",
        "free.amount": "5",
        "free.tax_rate": "0",
        "free.vat_category": "E",
        "free.exemption_reason": "Art. 132 (1)(i)",
        "free.unit_code": "HUR",
    }

    org.browser.post(org.path(invoice_id, "credit-notes"), fields)

    (note,) = credit_notes_of(org, invoice_id)
    line = note.lines[0]
    assert (line.vat_category, line.exemption_reason, line.unit_code) == ("E", "Art. 132 (1)(i)", "HUR")


def test_a_free_lines_category_its_rate_refuses_is_shown_next_to_it_and_issues_nothing() -> None:
    org = Org("cn-vcx@example.com")
    invoice_id = org.finalized()
    fields = {
        "free.description": "Training",
        "free.amount": "5",
        "free.tax_rate": "19",
        "free.vat_category": "E",
    }

    response = org.browser.post(org.path(invoice_id, "credit-notes"), fields)

    assert response["statusCode"] == 422
    assert 'id="f-free-vat_category-error"' in response["body"]
    assert "VAT category E" in text_of(response["body"])
    assert credit_notes_of(org, invoice_id) == []


# Twice, CSRF, another organisation, roles ---------------------------------------------------------


def test_the_confirmation_posted_twice_issues_one_credit_note() -> None:
    org = Org("cn-oli@example.com")
    invoice_id = org.finalized()
    fields = {"lines.0.quantity": "1", "request_key": request_key(new_form(org, invoice_id))}

    first = org.browser.post(org.path(invoice_id, "credit-notes"), fields)
    again = org.browser.post(org.path(invoice_id, "credit-notes"), fields)

    (note,) = credit_notes_of(org, invoice_id)
    assert first["statusCode"] == again["statusCode"] == 303
    assert first["headers"]["Location"] == again["headers"]["Location"]
    assert first["headers"]["Location"].endswith(note.id)
    assert org.get(invoice_id).amount_due == 1190


def test_issuing_or_voiding_without_the_csrf_token_changes_nothing() -> None:
    org = Org("cn-pam@example.com")
    invoice_id = org.finalized()
    note = issue(org, invoice_id, {"amount": 100})

    issued = org.browser.request(
        "POST", org.path(invoice_id, "credit-notes"), {"amount": "1", "confirmed": "yes"}
    )
    voided = org.browser.request(
        "POST", f"/dashboard/organisations/{org.id}/credit-notes/{note.id}/void", {"confirmed": "yes"}
    )

    assert issued["statusCode"] == voided["statusCode"] == 403
    assert [n.status for n in credit_notes_of(org, invoice_id)] == ["issued"]
    assert org.get(invoice_id).amount_due == 2280


def test_another_organisations_credit_note_and_invoice_are_not_found() -> None:
    mine = Org("cn-quin@example.com")
    theirs = Org("cn-ray@example.com")
    their_invoice = theirs.finalized()
    their_note = issue(theirs, their_invoice, {"amount": 100})
    base = f"/dashboard/organisations/{mine.id}/credit-notes"

    assert mine.browser.request("GET", f"{base}/{their_note.id}")["statusCode"] == 404
    assert mine.browser.post(f"{base}/{their_note.id}/void")["statusCode"] == 404
    assert mine.browser.request("GET", mine.path(their_invoice, "credit-notes", "new"))["statusCode"] == 404
    assert mine.browser.post(mine.path(their_invoice, "credit-notes"), {"amount": "1"})["statusCode"] == 404
    their_path = f"/dashboard/organisations/{theirs.id}/credit-notes/{their_note.id}"
    assert mine.browser.request("GET", their_path)["statusCode"] == 404
    assert their_note.number not in mine.page(base)["body"]
    assert [n.status for n in credit_notes_of(theirs, their_invoice)] == ["issued"]
    assert theirs.get(their_invoice).amount_due == 2280


def test_a_viewer_is_offered_neither_issuing_nor_voiding_and_is_refused_both() -> None:
    from remit.bootstrap import services
    from remit.domain.credit_notes import NewCreditNote
    from remit.domain.customer import NewCustomer
    from remit.domain.invoice import NewInvoice

    people = account_with_roles(("owner", "viewer"))
    account_id, organisation_id = people.account_id, people.organisation_id
    customer = services().customers.create(
        account_id, organisation_id, NewCustomer(name="Globex", email="ap@globex.test")
    )
    draft = services().invoices.create_draft(
        account_id,
        organisation_id,
        NewInvoice.model_validate(
            {"customer_id": customer.id, "line_items": [{"description": "Work", "unit_amount": 10000}]}
        ),
    )
    services().invoice_lifecycle.finalize(account_id, organisation_id, draft.id, "https://remit.test")
    note = services().credit_notes.issue(
        account_id, organisation_id, draft.id, NewCreditNote.model_validate({"amount": 100})
    )
    viewer = people.browsers["viewer"]
    invoice_path = f"/dashboard/organisations/{organisation_id}/invoices/{draft.id}"
    note_path = f"/dashboard/organisations/{organisation_id}/credit-notes/{note.id}"

    invoice_page = viewer.request("GET", invoice_path)
    note_page = viewer.request("GET", note_path)
    issued = viewer.post(f"{invoice_path}/credit-notes", {"amount": "1"})
    voided = viewer.post(f"{note_path}/void")

    assert invoice_page["statusCode"] == note_page["statusCode"] == 200
    assert "Issue credit note" not in invoice_page["body"]
    assert note.number in invoice_page["body"]
    assert "may read this credit note but not act on it" in text_of(note_page["body"])
    assert issued["statusCode"] == voided["statusCode"] == 403
    notes = services().credit_notes.of_invoice(account_id, organisation_id, draft.id, 10, None).items
    assert [(n.id, n.status) for n in notes] == [(note.id, "issued")]


# Lists and a credit note's page -------------------------------------------------------------------


def test_the_invoice_the_customer_and_the_list_show_the_credit_note() -> None:
    org = Org("cn-sue@example.com")
    invoice_id = org.finalized()
    note = issue(org, invoice_id, {"amount": 500, "reason": "duplicate"})
    note_path = f"/dashboard/organisations/{org.id}/credit-notes/{note.id}"

    pages = {
        "invoice": org.page(org.path(invoice_id))["body"],
        "customer": org.page(f"/dashboard/organisations/{org.id}/customers/{org.customer}")["body"],
        "list": org.page(f"/dashboard/organisations/{org.id}/credit-notes")["body"],
    }

    for name, body in pages.items():
        assert f'href="{note_path}">{note.number}</a>' in body, name
        assert "€5.00" in text_of(body), name
        assert "Issued" in text_of(body), name
    assert "Credited by credit notes €5.00" in text_of(pages["invoice"])
    shown = text_of(org.page(note_path)["body"])
    assert f"Credit note {note.number}" in shown
    assert f"Corrects invoice {org.get(invoice_id).number}" in shown
    assert "Reason Duplicate" in shown
    assert "Total credited €5.00" in shown


def test_the_pdf_link_answers_the_credit_notes_pdf_and_another_organisations_is_not_found() -> None:
    import base64

    from tests.integration.test_credit_note_documents import pdf_text

    org = Org("cn-pdf@example.com")
    invoice_id = org.finalized()
    note = issue(org, invoice_id, {"amount": 500})
    other = Org("cn-pdf2@example.com")
    path = f"/dashboard/organisations/{org.id}/credit-notes/{note.id}"

    page = org.page(path)["body"]
    response = org.browser.request("GET", f"{path}/pdf")
    theirs = other.browser.request("GET", f"/dashboard/organisations/{other.id}/credit-notes/{note.id}/pdf")

    assert f'href="{path}/pdf"' in page
    assert f'href="{path}/pdf"' in org.page(org.path(invoice_id))["body"]
    assert response["statusCode"] == 200
    assert response["headers"]["Content-Type"] == "application/pdf"
    assert f'filename="{note.number}.pdf"' in response["headers"]["Content-Disposition"]
    content = base64.b64decode(response["body"])
    assert content.startswith(b"%PDF")
    assert note.number in pdf_text(content)
    assert theirs["statusCode"] == 404


def test_the_list_filters_by_customer_and_invoice_and_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    from dashboard.pages import credit_notes

    org = Org("cn-tia@example.com")
    first = org.finalized()
    second = org.finalized()
    other_customer = org.new_customer("Initech")
    of_other = org.draft(customer=other_customer)
    from remit.bootstrap import services

    services().invoice_lifecycle.finalize(org.account_id, org.id, of_other, "https://api.test")
    a = issue(org, first, {"amount": 100})
    b = issue(org, second, {"amount": 200})
    c = issue(org, of_other, {"amount": 300})
    base = f"/dashboard/organisations/{org.id}/credit-notes"

    of_globex = org.page(f"{base}?customer_id={org.customer}")["body"]
    of_second = org.page(f"{base}?invoice_id={second}")["body"]
    monkeypatch.setattr(credit_notes, "PAGE_SIZE", 2)
    page_one = org.page(base)["body"]
    next_link = page_one.split('rel="next"', 1)[0].rsplit('href="', 1)[1].split('"', 1)[0]
    page_two = org.page(next_link.replace("&amp;", "&"))["body"]

    assert a.number in of_globex
    assert b.number in of_globex
    assert c.number not in of_globex
    assert b.number in of_second
    assert a.number not in of_second
    assert c.number not in of_second
    assert "Show those of every invoice" in of_second
    assert a.number in page_one
    assert b.number in page_one
    assert c.number not in page_one
    assert c.number in page_two
    assert a.number not in page_two


def test_voiding_is_confirmed_first_then_restores_the_invoice_and_the_page_shows_it_void() -> None:
    org = Org("cn-una@example.com")
    invoice_id = org.finalized()
    note = issue(org, invoice_id, {"amount": 500})
    path = f"/dashboard/organisations/{org.id}/credit-notes/{note.id}"

    before = org.page(path)["body"]
    asked = org.browser.post(f"{path}/void", confirmed=False)
    unchanged = org.get(invoice_id).amount_due
    done = org.browser.post(f"{path}/void")

    assert f'action="{path}/void"' in before
    assert asked["statusCode"] == 200
    assert f"Void credit note {note.number}?" in text_of(asked["body"])
    assert unchanged == 1880
    assert f"Credit note {note.number} voided; its number stays used." in org.followed(done)
    assert org.get(invoice_id).amount_due == 2380
    after = text_of(org.page(path)["body"])
    assert "Void" in after
    assert "It is void; its number stays used." in after
    assert f'action="{path}/void"' not in org.page(path)["body"]


def test_a_credit_note_whose_credit_was_spent_offers_no_void_and_a_forced_void_is_refused() -> None:
    from remit.bootstrap import services

    org = Org("cn-val@example.com")
    invoice_id = paid(org)
    note = issue(org, invoice_id, {"amount": 1000, "credit_amount": 1000})
    org.finalized()  # the next invoice takes the customer's credit
    assert services().customers.get(org.account_id, org.id, org.customer).balance == 0
    path = f"/dashboard/organisations/{org.id}/credit-notes/{note.id}"

    page = text_of(org.page(path)["body"])
    forced = org.browser.post(f"{path}/void")

    assert "It cannot be voided: the customer has spent the €10.00 of credit it gave" in page
    assert forced["statusCode"] == 409
    assert "Not done" in text_of(forced["body"])
    assert "has spent" in text_of(forced["body"])
    assert [n.status for n in credit_notes_of(org, invoice_id)] == ["issued"]


# Card refunds: pending, then confirmed or failed by the provider ----------------------------------


def test_a_card_refund_shows_pending_then_failed_on_the_payment_and_the_credit_note(
    shop: RefundingShop,  # noqa: F811 - the fixture imported above
) -> None:
    from remit.bootstrap import services
    from tests.integration.dashboard_browser import PASSWORD, signed_in

    invoice = shop.paid_by_card()
    shop.credit(invoice["id"], {"amount": 1000, "refund_amount": 1000})
    (refund,) = shop.refunds()
    account_id = services().accounts.account_for_key(shop.billing.api.api_key)
    assert account_id is not None
    services().users.create_user("cn-card@example.com", account_id, PASSWORD)
    browser = signed_in("cn-card@example.com")
    invoice_path = f"/dashboard/organisations/{shop.org}/invoices/{invoice['id']}"
    note_path = f"/dashboard/organisations/{shop.org}/credit-notes/{refund['credit_note_id']}"

    pending_invoice = text_of(browser.request("GET", invoice_path)["body"])
    pending_note = text_of(browser.request("GET", note_path)["body"])
    shop.deliver(
        shop.refund_event(
            "evt_refund_failed", invoice["id"], refund, "failed", failure_reason="expired_or_canceled_card"
        )
    )
    failed_invoice = text_of(browser.request("GET", invoice_path)["body"])
    failed_note = text_of(browser.request("GET", note_path)["body"])

    assert "€23.80 card €10.00 partially refunded" in pending_invoice
    assert "Refund of €10.00" in pending_invoice
    assert "Pending" in pending_invoice
    assert "card €10.00 Pending" in pending_note
    assert "cannot be voided" in pending_note
    assert "€23.80 card €0.00 succeeded" in failed_invoice
    assert "Failed (expired_or_canceled_card)" in failed_invoice
    assert "card €10.00 Failed (expired_or_canceled_card)" in failed_note
