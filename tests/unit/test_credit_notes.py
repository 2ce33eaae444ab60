"""The rules of a credit note: its lines, totals and settlement, worked out from its invoice
(remit.domain.credit_notes)."""

from __future__ import annotations

import itertools
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from remit.domain.changes import build
from remit.domain.credit_notes import (
    CreditExceedsInvoice,
    CreditNote,
    CreditNoteNotVoidable,
    NewCreditNote,
    PricedCreditNote,
    credited_invoice,
    price_credit_note,
    split_gross,
    spread_over_rates,
    uncredited_invoice,
    voided_credit_note,
)
from remit.domain.errors import InvalidInput
from remit.domain.invoice import CreditedLine, InvalidTransition, Invoice, priced_line, rate_key
from remit.domain.money import line_tax
from tests.unit.builders import NOW, problems_of, pure_property


def an_invoice(
    lines: list[tuple[str, int, str]], *, status: str = "open", paid: int = 0, currency: str = "EUR"
) -> Invoice:
    """A finalized invoice of `(quantity, unit_amount, tax_rate)` lines, `paid` of it paid."""
    priced = [
        priced_line(f"li_{n}", f"Line {n}", Decimal(q), unit, Decimal(rate), None)
        for n, (q, unit, rate) in enumerate(lines)
    ]
    draft = Invoice(
        id="inv_1",
        organisation_id="org_test",
        customer_id="cus_test",
        currency=currency,
        due_date=date(2025, 4, 1),
        created_at=NOW,
        updated_at=NOW,
    ).with_lines(priced)
    amount_due = draft.total - paid
    return draft.model_copy(
        update={
            "number": "ACME-00001",
            "issue_date": date(2025, 3, 14),
            "status": status,
            "amount_paid": paid,
            "amount_due": amount_due,
        }
    )


def ask(**fields: Any) -> NewCreditNote:
    return build(NewCreditNote, fields)


_ids = itertools.count()


def new_line_id() -> str:
    return f"cnl_{next(_ids)}"


def issued(invoice: Invoice, priced: PricedCreditNote, n: int = 1) -> CreditNote:
    return CreditNote(
        id=f"cn_{n}",
        organisation_id=invoice.organisation_id,
        invoice_id=invoice.id,
        invoice_number=invoice.number or "",
        invoice_issue_date=invoice.issue_date or date(2025, 3, 14),
        customer_id=invoice.customer_id,
        number=f"ACME-CN-{n:05d}",
        currency=invoice.currency,
        issue_date=date(2025, 3, 15),
        lines=priced.lines,
        subtotal=priced.subtotal,
        tax_total=priced.tax_total,
        total=priced.total,
        tax_breakdown=priced.tax_breakdown,
        reason="other",
        pre_payment_amount=priced.pre_payment_amount,
        refund_amount=priced.refund_amount,
        credit_amount=priced.credit_amount,
        out_of_band_amount=priced.out_of_band_amount,
        created_at=NOW,
    )


def test_a_line_credited_by_quantity_is_taxed_as_the_invoice_taxes_it() -> None:
    invoice = an_invoice([("3", 1000, "19")])

    priced = price_credit_note(
        invoice, ask(lines=[{"invoice_line_id": "li_0", "quantity": "1"}]), new_line_id
    )

    assert (priced.subtotal, priced.tax_total, priced.total) == (1000, 190, 1190)
    assert priced.pre_payment_amount == 1190
    assert (priced.lines[0].unit_amount, priced.lines[0].description) == (1000, "Line 0")


def test_crediting_every_line_in_parts_credits_the_invoice_exactly() -> None:
    # Given a line whose tax does not divide evenly (3 * 333 at 19%: 999 net, 190 tax)
    invoice = an_invoice([("3", 333, "19")])
    notes = []
    for n in range(3):
        priced = price_credit_note(
            invoice, ask(lines=[{"invoice_line_id": "li_0", "quantity": "1"}]), new_line_id
        )
        note = issued(invoice, priced, n)
        invoice = credited_invoice(invoice, note, NOW)
        notes.append(note)

    assert sum(note.total for note in notes) == 1189 == invoice.total
    assert (invoice.amount_due, invoice.status) == (0, "paid")


def test_a_line_is_never_credited_beyond_its_quantity_or_net_left() -> None:
    invoice = an_invoice([("2", 1000, "0")])
    invoice = credited_invoice(
        invoice,
        issued(
            invoice,
            price_credit_note(
                invoice, ask(lines=[{"invoice_line_id": "li_0", "quantity": "1.5"}]), new_line_id
            ),
        ),
        NOW,
    )

    with pytest.raises(InvalidInput) as by_quantity:
        price_credit_note(invoice, ask(lines=[{"invoice_line_id": "li_0", "quantity": "1"}]), new_line_id)
    with pytest.raises(InvalidInput) as by_amount:
        price_credit_note(invoice, ask(lines=[{"invoice_line_id": "li_0", "amount": 501}]), new_line_id)

    assert by_quantity.value.problems[0].field == "lines[0].quantity"
    assert by_amount.value.problems[0].field == "lines[0].amount"


def test_an_unknown_invoice_line_is_named_by_its_place_in_the_request() -> None:
    invoice = an_invoice([("1", 1000, "0")])
    lines = [
        {"invoice_line_id": "li_0", "amount": 1},
        {"description": "Goodwill", "amount": 1, "tax_rate": "0"},
    ]
    lines.append({"invoice_line_id": "li_nope", "amount": 1})

    with pytest.raises(InvalidInput) as refused:
        price_credit_note(invoice, ask(lines=lines), new_line_id)

    assert refused.value.problems[0].field == "lines[2].invoice_line_id"


def test_a_request_with_both_lines_and_amount_or_neither_or_a_mixed_line_is_refused() -> None:
    invoice = an_invoice([("1", 1000, "0")])
    mixed = problems_of(NewCreditNote, {"lines": [{"invoice_line_id": "li_0", "amount": 1, "quantity": "1"}]})

    with pytest.raises(InvalidInput) as both:
        price_credit_note(
            invoice, ask(amount=1, lines=[{"invoice_line_id": "li_0", "amount": 1}]), new_line_id
        )
    with pytest.raises(InvalidInput) as neither:
        price_credit_note(invoice, ask(), new_line_id)

    assert list(mixed) == ["lines.0"]
    assert both.value.problems[0].field == "lines"
    assert neither.value.problems[0].field == "amount"


def test_the_reason_defaults_to_other() -> None:
    assert ask(amount=1).reason == "other"


def test_the_part_above_what_is_due_must_be_split_exactly() -> None:
    # Given an invoice of 1190 with 1000 paid: 190 is due
    invoice = an_invoice([("1", 1000, "19")], paid=1000)

    with pytest.raises(InvalidInput) as refused:
        price_credit_note(invoice, ask(amount=1190, refund_amount=900), new_line_id)
    priced = price_credit_note(invoice, ask(amount=1190, refund_amount=900, credit_amount=100), new_line_id)

    fields = {problem.field for problem in refused.value.problems}
    assert fields == {"refund_amount", "credit_amount", "out_of_band_amount"}
    assert "1000" in refused.value.problems[0].message
    assert (priced.pre_payment_amount, priced.refund_amount, priced.credit_amount) == (190, 900, 100)


def test_credit_notes_never_add_up_to_more_than_the_invoice() -> None:
    invoice = an_invoice([("1", 1000, "0")])
    invoice = credited_invoice(
        invoice, issued(invoice, price_credit_note(invoice, ask(amount=600), new_line_id)), NOW
    )

    with pytest.raises(CreditExceedsInvoice) as refused:
        price_credit_note(
            invoice, ask(lines=[{"description": "More", "amount": 401, "tax_rate": "0"}]), new_line_id
        )

    assert refused.value.available == 400


@pytest.mark.parametrize("status", ["draft", "void"])
def test_only_issued_invoices_that_are_not_void_can_be_credited(status: str) -> None:
    with pytest.raises(InvalidTransition):
        price_credit_note(an_invoice([("1", 1000, "0")], status=status), ask(amount=1), new_line_id)


def test_a_single_amount_is_spread_over_the_rates_in_proportion_to_their_gross() -> None:
    # Given 1000 at 20% (gross 1200) and 1000 at 0% (gross 1000)
    invoice = an_invoice([("1", 1000, "20"), ("1", 1000, "0")])

    priced = price_credit_note(invoice, ask(amount=1100), new_line_id)

    assert [(str(line.tax_rate), line.amount, line.tax_amount) for line in priced.lines] == [
        ("0", 500, 0),
        ("20", 500, 100),
    ]
    assert priced.total == 1100


def test_a_credit_note_whose_money_was_paid_back_cannot_be_voided() -> None:
    invoice = an_invoice([("1", 1000, "0")], status="paid", paid=1000)
    note = issued(invoice, price_credit_note(invoice, ask(amount=500, refund_amount=500), new_line_id))

    with pytest.raises(CreditNoteNotVoidable):
        voided_credit_note(note, invoice, NOW)


def test_a_credit_note_whose_credit_the_customer_spent_cannot_be_voided() -> None:
    # Given a credit note that put 500 on the customer's balance of a paid invoice
    invoice = an_invoice([("1", 1000, "0")], status="paid", paid=1000)
    note = issued(invoice, price_credit_note(invoice, ask(amount=500, credit_amount=500), new_line_id))

    # When the customer holds only 499 of it, it cannot be voided; with all of it, it can
    with pytest.raises(CreditNoteNotVoidable, match="spent the 500"):
        voided_credit_note(note, invoice, NOW, credit_held=499)
    assert voided_credit_note(note, invoice, NOW, credit_held=500).status == "void"


def test_voiding_a_credit_note_restores_what_was_due_and_reopens_the_invoice() -> None:
    invoice = an_invoice([("2", 1000, "0")])
    note = issued(
        invoice,
        price_credit_note(invoice, ask(lines=[{"invoice_line_id": "li_0", "quantity": "2"}]), new_line_id),
    )
    credited = credited_invoice(invoice, note, NOW)

    restored = uncredited_invoice(credited, voided_credit_note(note, credited, NOW), NOW)

    assert credited.status == "paid"
    assert (restored.status, restored.amount_due, restored.credited_amount, restored.credited_lines) == (
        "open",
        2000,
        0,
        {},
    )


@pure_property
@given(
    amount=st.integers(min_value=1, max_value=10**9),
    grosses=st.lists(st.integers(min_value=0, max_value=10**9), min_size=1, max_size=6),
)
def test_spreading_never_loses_or_adds_a_minor_unit(amount: int, grosses: list[int]) -> None:
    rates = [(Decimal(n), gross) for n, gross in enumerate(grosses)]
    if sum(grosses) == 0:
        return
    shares = spread_over_rates(amount, rates)
    assert sum(share for _, share in shares) == amount
    for rate, share in shares:
        net, tax = split_gross(share, rate)
        assert net + tax == share


rates = st.sampled_from(["0", "5.5", "7", "19", "20", "21"])
invoice_lines = st.lists(
    st.tuples(st.sampled_from(["1", "2", "3", "0.5", "1.25"]), st.integers(1, 100_000), rates),
    min_size=1,
    max_size=5,
)


@pure_property
@given(lines=invoice_lines, asks=st.lists(st.tuples(st.integers(0, 4), st.integers(1, 50_000)), max_size=8))
def test_credit_notes_add_up_and_never_exceed_the_invoice(
    lines: list[tuple[str, int, str]], asks: list[tuple[int, int]]
) -> None:
    invoice = an_invoice(lines, paid=0)
    for n, (index, amount) in enumerate(asks):
        request = (
            ask(lines=[{"invoice_line_id": f"li_{index}", "amount": amount}])
            if index < len(lines)
            else ask(amount=amount)
        )
        try:
            priced = price_credit_note(invoice, request, new_line_id)
        except (InvalidInput, CreditExceedsInvoice):
            continue
        assert priced.subtotal + priced.tax_total == priced.total
        assert priced.total == sum(line.amount + line.tax_amount for line in priced.lines)
        invoice = credited_invoice(invoice, issued(invoice, priced, n), NOW)
        # Always: total = credit applied + paid + credited before payment + due
        assert invoice.total == (
            invoice.credit_applied
            + invoice.amount_paid
            + invoice.credited_before_payment
            + invoice.amount_due
        )
        assert 0 <= invoice.credited_amount <= invoice.total
        for line in invoice.line_items:
            credited = invoice.credited_lines.get(line.id)
            if credited is not None:
                assert credited.amount <= line.amount
        # The tax is the invoice's per rate (rounded once): no rate is credited more of it.
        for group in invoice.tax_breakdown:
            assert 0 <= invoice.credited_taxes.get(rate_key(group.tax_rate), 0) <= group.tax_amount


operations = st.lists(
    st.one_of(
        st.tuples(st.just("pay"), st.integers(1, 3000)),
        st.tuples(st.just("credit"), st.integers(1, 3000)),
        st.tuples(st.just("void"), st.integers(0, 5)),
    ),
    max_size=12,
)


@pure_property
@given(lines=invoice_lines, steps=operations)
def test_payments_credit_notes_and_voids_in_any_order_keep_the_invoice_adding_up(
    lines: list[tuple[str, int, str]], steps: list[tuple[str, int]]
) -> None:
    invoice = an_invoice(lines)
    issued_notes: list[CreditNote] = []
    for n, (step, value) in enumerate(steps):
        if step == "pay" and invoice.status == "open":
            invoice, _ = invoice.record_payment(value, NOW)
        elif step == "credit":
            available = invoice.total - invoice.credited_amount
            if available <= 0:
                continue
            amount = min(value, available)
            rest = amount - min(amount, invoice.amount_due)
            priced = price_credit_note(invoice, ask(amount=amount, credit_amount=rest), new_line_id)
            note = issued(invoice, priced, n)
            invoice = credited_invoice(invoice, note, NOW)
            issued_notes.append(note)
        elif step == "void" and value < len(issued_notes) and issued_notes[value].status == "issued":
            note = issued_notes[value]
            issued_notes[value] = voided_credit_note(note, invoice, NOW)
            invoice = uncredited_invoice(invoice, note, NOW)
        # Always: total = credit applied + paid + credited before payment + due, nothing negative
        assert invoice.total == (
            invoice.credit_applied
            + invoice.amount_paid
            + invoice.credited_before_payment
            + invoice.amount_due
        )
        assert 0 <= invoice.credited_amount <= invoice.total
        assert invoice.amount_due >= 0
        assert invoice.credited_amount == sum(n.total for n in issued_notes if n.status == "issued")
        assert (invoice.status == "paid") == (invoice.amount_due == 0)


# --- each rate's tax rounded once -----------------------------------------------------------------


def credit(invoice: Invoice, n: int, **request: Any) -> tuple[Invoice, CreditNote]:
    note = issued(invoice, price_credit_note(invoice, ask(**request), new_line_id), n)
    return credited_invoice(invoice, note, NOW), note


def test_a_note_of_several_lines_at_one_rate_rounds_its_tax_once() -> None:
    # Two lines of ¥105 and one of three ¥35 at 10 %: the invoice's tax is 31.5 → 32 once (11, 11,
    # 10 on its lines).
    invoice = an_invoice([("1", 105, "10"), ("1", 105, "10"), ("3", 35, "10")], currency="JPY")
    assert (invoice.tax_total, [line.tax_amount for line in invoice.line_items]) == (32, [11, 11, 10])

    invoice, note = credit(
        invoice,
        1,
        lines=[{"invoice_line_id": "li_0", "quantity": "1"}, {"invoice_line_id": "li_2", "quantity": "1"}],
    )

    # 140 at 10 % is 14, not 11 + 4 (3.5 alone rounds to 4): 11 + 3.
    assert (note.subtotal, note.tax_total, [line.tax_amount for line in note.lines]) == (140, 14, [11, 3])
    assert invoice.credited_taxes == {"10": 14}


def test_crediting_two_yen_lines_one_by_one_credits_the_invoices_tax_exactly() -> None:
    # Two lines of ¥105 at 10 %: tax 21 once (11 + 10). Each note alone rounds 10.5 → 11; the second takes the
    # last of the rate, so it takes the 10 left: 21 in all, never 22.
    invoice = an_invoice([("1", 105, "10"), ("1", 105, "10")], currency="JPY")
    invoice, first = credit(invoice, 1, lines=[{"invoice_line_id": "li_1", "quantity": "1"}])
    invoice, second = credit(invoice, 2, lines=[{"invoice_line_id": "li_0", "quantity": "1"}])

    assert (first.tax_total, second.tax_total) == (11, 10)
    assert first.tax_total == line_tax(first.subtotal, Decimal(10))
    assert (invoice.credited_amount, invoice.amount_due, invoice.credited_taxes) == (231, 0, {"10": 21})


def test_a_voided_note_gives_its_tax_back_to_its_rate() -> None:
    invoice = an_invoice([("2", 105, "10")], currency="JPY")
    credited, note = credit(invoice, 1, lines=[{"invoice_line_id": "li_0", "quantity": "1"}])
    assert credited.credited_taxes == {"10": 11}

    restored = uncredited_invoice(credited, note, NOW)

    assert (restored.credited_taxes, restored.credited_lines) == ({}, {})


def test_a_line_credited_in_small_parts_credits_one_rounding_of_what_was_credited() -> None:
    # ¥200 at 10 % (tax 20). ¥5 alone is taxed 0.5 → 1, but 40 such notes taxed 1 each would credit
    # 40. Each note takes what rounding the net credited so far once adds: 1, 0, 1, 0, … (¥5 → 1,
    # ¥10 → 1, ¥15 → 2, …), each within one yen of its exact ¥0.5, 20 in all.
    invoice = an_invoice([("1", 200, "10")], currency="JPY")
    notes = []
    for n in range(40):
        invoice, note = credit(invoice, n, lines=[{"invoice_line_id": "li_0", "amount": 5}])
        notes.append(note)
        assert invoice.credited_taxes.get("10", 0) == line_tax(invoice.credited_nets["10"], Decimal(10))

    assert [note.tax_total for note in notes] == [1, 0] * 20
    assert (invoice.credited_taxes, invoice.credited_nets, invoice.credited_amount) == (
        {"10": 20},
        {"10": 200},
        220,
    )


def test_small_amounts_credited_again_and_again_credit_the_invoices_tax_exactly() -> None:
    # ¥210 at 10 % (tax 21). ¥6 alone splits into 5 + 1 (5 is taxed 0.5 → 1): 38 such credits would
    # credit 38 of tax. Each split takes the net whose tax makes rounding the credited net once add
    # up: 5 + 1, then 6 + 0 (¥11 → 1), then 5 + 1 (¥16 → 2), then 6 + 0 (¥22 → 2), …
    invoice = an_invoice([("2", 105, "10")], currency="JPY")
    notes = []
    for n in range(38):
        invoice, note = credit(invoice, n, amount=6)
        notes.append(note)
        # A gross no net reaches (¥6 after ¥49 net and ¥5 tax: 5 + 5.4 → 5, 6 + 5.5 → 6) leaves
        # the credited tax a unit off one rounding of the credited net, until a later split makes it up.
        assert abs(invoice.credited_taxes["10"] - line_tax(invoice.credited_nets["10"], Decimal(10))) <= 1
        assert abs(note.tax_total - Decimal(note.subtotal) / 10) < 1
    invoice, last = credit(invoice, 99, amount=3)
    notes.append(last)

    assert [note.tax_total for note in notes[:4]] == [1, 0, 1, 0]
    assert sum(note.tax_total for note in notes) == 21 == invoice.credited_taxes["10"]
    assert sum(note.total for note in notes) == 231 == invoice.credited_amount


@pure_property
@given(net=st.integers(min_value=0, max_value=10**10), rate=st.decimals(0, 100, places=4))
def test_a_gross_is_split_into_the_net_whose_own_tax_makes_up_the_rest(net: int, rate: Decimal) -> None:
    gross = net + line_tax(net, rate)

    assert split_gross(gross, rate) == (net, line_tax(net, rate))


def test_a_gross_no_net_reaches_is_split_half_up() -> None:
    # ¥115 at 10 %: 104 + 10 = 114 and 105 + 11 = 116; 115 / 1.1 = 104.5… → 105, tax the rest.
    assert split_gross(115, Decimal(10)) == (105, 10)
    assert split_gross(116, Decimal(10)) == (105, 11)


jpy_lines = st.lists(
    st.tuples(st.sampled_from(["1", "2", "3", "0.5", "1.25"]), st.integers(1, 2_000), rates),
    min_size=1,
    max_size=8,
)


@pure_property
@given(lines=jpy_lines, data=st.data())
def test_crediting_everything_line_by_line_credits_each_rates_tax_exactly_and_never_more(
    lines: list[tuple[str, int, str]], data: st.DataObject
) -> None:
    invoice = an_invoice(lines, currency="JPY")
    taxes = {rate_key(group.tax_rate): group.tax_amount for group in invoice.tax_breakdown}
    n = 0
    while invoice.credited_amount < invoice.total:
        # A note of a few lines' parts (by net amount), or of everything left.
        left = {
            line.id: line.amount - invoice.credited_lines.get(line.id, CreditedLine()).amount
            for line in invoice.line_items
        }
        open_lines = [line_id for line_id, amount in left.items() if amount > 0]
        picked = data.draw(st.lists(st.sampled_from(open_lines), min_size=1, max_size=3, unique=True))
        asked = [
            {"invoice_line_id": line_id, "amount": data.draw(st.integers(1, left[line_id]))}
            for line_id in picked
        ]
        n += 1
        invoice, note = credit(invoice, n, lines=asked, refund_amount=0, credit_amount=0)
        for group in note.tax_breakdown:
            key = rate_key(group.tax_rate)
            # The notes at a rate add up to one rounding of the net they credited, never above the
            # invoice's; each note within one unit of its exact tax, as EN 16931 (BR-S-09) wants.
            assert invoice.credited_taxes.get(key, 0) == min(
                line_tax(invoice.credited_nets.get(key, 0), group.tax_rate), taxes[key]
            )
            assert abs(group.tax_amount - group.taxable_amount * group.tax_rate / 100) < 1
        assert sum(line.tax_amount for line in note.lines) == note.tax_total
    assert invoice.credited_taxes == {key: tax for key, tax in taxes.items() if tax}
    assert invoice.credited_amount == invoice.total
