"""The portal words each problem a service finds itself (`portal.messages`): by field and code,
falling back to a generic sentence of its kind, never to the service's English."""

from __future__ import annotations

from portal import messages
from remit.adapters.portal_pages import JinjaPortalPages
from remit.domain.errors import Conflict, FieldProblem


def test_a_known_field_with_a_code_never_seen_gets_that_fields_sentence() -> None:
    shown = messages.of_problems([FieldProblem("tax_id", "'X' is not a valid tax id", code="brand_new_kind")])

    assert shown == {"tax_id": messages.FIELD_PROBLEMS[("tax_id", None)]}


def test_a_problem_with_a_field_the_form_has_not_gets_the_forms_generic_sentence() -> None:
    shown = messages.of_problems(
        [FieldProblem("vat_id", "is not a VAT number"), FieldProblem("body", "is invalid", code="x")]
    )

    assert shown == {messages.FORM: messages.FORM_PROBLEM}


def test_each_contacts_problem_is_shown_with_the_contacts() -> None:
    shown = messages.field_problems([("contacts.0.preferences.1", "literal_error")])

    assert shown == {"contacts": messages.FIELD_PROBLEMS[("contacts", None)]}


def test_a_refusal_without_a_known_code_gets_the_generic_sentence() -> None:
    assert messages.of_conflict(Conflict("Some new English reason.")) == messages.REFUSAL
    assert messages.of_conflict(Conflict("Another.", code="brand_new")) == messages.REFUSAL
    assert messages.of_invalid_payment([]) == messages.REFUSAL
    assert (
        messages.of_conflict(Conflict("Invoice INV-1 is paid.", code="invoice_not_open"))
        == (messages.REFUSALS["invoice_not_open"])
    )


def test_no_sentence_has_a_placeholder_for_anything_typed_or_stored() -> None:
    assert [sentence for sentence in messages.SENTENCES if "%" in sentence or "{" in sentence] == []


def test_the_generic_refusal_is_shown_in_the_customers_language_and_escaped() -> None:
    html = JinjaPortalPages().page(
        "ar",
        "refused.html",
        None,
        base="",
        page_title="This invoice cannot be paid by card",
        cards_link=False,
        message=messages.refusal("brand_new"),
        back="",
    )

    assert "لا يمكن إتمام ذلك حاليًا." in html
    assert messages.REFUSAL not in html
