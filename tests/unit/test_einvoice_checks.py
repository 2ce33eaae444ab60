"""What finalizing asks of an e-invoice before a number is taken: a customer without a format is
not checked, a document that breaks a rule is refused naming each rule and the field behind it, a
valid one gets its status, and a validator that cannot be reached is a retryable refusal."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, cast

import pytest

from remit.domain.einvoice_documents import EinvoiceDocument
from remit.domain.einvoices import (
    CustomerEinvoiceDetails,
    EinvoiceFormat,
    FailedRule,
    ValidationReport,
    einvoice_format_named,
)
from remit.domain.errors import DocumentUnavailable, EinvoiceRefused, InvalidInput
from remit.problem_details import problem_document
from remit.services.billing_context import BillingContext
from remit.services.einvoices import EinvoiceService
from tests.unit.builders import NOW, a_customer, an_organisation
from tests.unit.test_invoice_state_machine import a_draft, finalized


class FixedClock:
    def now(self) -> Any:
        return NOW + timedelta(minutes=5)


class EchoWriter:
    def xml(self, document: EinvoiceDocument, einvoice_format: EinvoiceFormat) -> bytes:
        return f"<Invoice><ID>{document.number}</ID></Invoice>".encode()

    def facturx_pdf(self, pdf: bytes, xml: bytes, document: EinvoiceDocument) -> bytes:
        return pdf + xml


class RuleValidator:
    """Fails the rules it is given; or cannot be reached."""

    def __init__(self, *failed: FailedRule, reachable: bool = True) -> None:
        self.failed = list(failed)
        self.reachable = reachable
        self.seen: list[bytes] = []

    def validate(self, einvoice_format: EinvoiceFormat, document: bytes) -> ValidationReport:
        if not self.reachable:
            raise DocumentUnavailable("The e-invoice validator cannot be reached.", retry_after=30)
        self.seen.append(document)
        return ValidationReport(format=einvoice_format, valid=not self.failed, failed_rules=self.failed)


def service(validator: RuleValidator) -> EinvoiceService:
    context = BillingContext(cast(Any, None), cast(Any, None), FixedClock())
    return EinvoiceService(
        context,
        cast(Any, None),
        cast(Any, None),
        EchoWriter,
        lambda: validator,
        invoice_document=lambda invoice, *, organisation, customer: EinvoiceDocument.model_construct(
            number=invoice.number
        ),
        credit_note_document=lambda note, *, invoice, organisation, customer: (
            EinvoiceDocument.model_construct(number=note.number)
        ),
        field_for_rule=lambda rule, location: {"BR-DE-15": "customer.buyer_reference"}.get(rule),
    )


def an_invoice_for(einvoice_format: EinvoiceFormat | None) -> Any:
    return finalized(a_draft()).model_copy(
        update={"customer_einvoice": CustomerEinvoiceDetails(einvoice_format=einvoice_format)}
    )


BR_DE_15 = FailedRule(rule="BR-DE-15", message="Buyer reference (BT-10) must be transmitted.", location="/x")


def test_a_customer_without_a_format_is_not_checked() -> None:
    validator = RuleValidator(BR_DE_15)

    assert service(validator).check(an_invoice_for(None), an_organisation(), a_customer()) is None
    assert validator.seen == []


def test_a_document_that_breaks_rules_is_refused_naming_each_rule_and_its_field() -> None:
    other = FailedRule(rule="BR-CO-15", message="Totals do not add up.")
    validator = RuleValidator(BR_DE_15, other)

    with pytest.raises(EinvoiceRefused) as refused:
        service(validator).check(an_invoice_for("xrechnung_cii"), an_organisation(), a_customer())

    assert isinstance(refused.value, InvalidInput)
    assert [(p.field, p.rule, p.message) for p in refused.value.problems] == [
        ("customer.buyer_reference", "BR-DE-15", "Buyer reference (BT-10) must be transmitted."),
        ("einvoice", "BR-CO-15", "Totals do not add up."),
    ]
    assert refused.value.detail == (
        "The xrechnung_cii e-invoice would break 2 rule(s): BR-DE-15 (customer.buyer_reference), BR-CO-15."
    )
    # validated with the number the invoice is about to take
    assert validator.seen == [b"<Invoice><ID>ACME-00001</ID></Invoice>"]


def test_a_valid_document_gets_its_status_as_of_now() -> None:
    status = service(RuleValidator()).check(an_invoice_for("peppol_ubl"), an_organisation(), a_customer())

    assert status is not None
    assert (status.format, status.valid, status.failed_rules) == ("peppol_ubl", True, [])
    assert status.validated_at == NOW + timedelta(minutes=5)


def test_a_validator_that_cannot_be_reached_is_a_retryable_refusal() -> None:
    with pytest.raises(DocumentUnavailable) as unavailable:
        service(RuleValidator(reachable=False)).check(
            an_invoice_for("facturx"), an_organisation(), a_customer()
        )

    assert unavailable.value.retry_after == 30


def test_a_problem_names_its_rule_only_when_it_has_one() -> None:
    named = BR_DE_15.model_copy(update={"field": "customer.buyer_reference"})
    refused = EinvoiceRefused("xrechnung_ubl", [named, BR_DE_15])
    body = problem_document(422, "invalid-fields", refused.detail, refused.problems)
    plain = problem_document(422, "invalid-fields", "x", InvalidInput.single("email", "is bad").problems)

    assert body["errors"] == [
        {"field": "customer.buyer_reference", "message": BR_DE_15.message, "rule": "BR-DE-15"},
        {"field": "einvoice", "message": BR_DE_15.message, "rule": "BR-DE-15"},
    ]
    assert plain["errors"] == [{"field": "email", "message": "is bad"}]


@pytest.mark.parametrize("value", ["facturx", "xrechnung_cii", "xrechnung_ubl", "peppol_ubl"])
def test_each_format_is_named_by_its_name(value: str) -> None:
    assert einvoice_format_named(value) == value


def test_an_unknown_format_is_refused_naming_format() -> None:
    assert einvoice_format_named(None) is None
    with pytest.raises(InvalidInput) as refused:
        einvoice_format_named("zugferd")
    assert [p.field for p in refused.value.problems] == ["format"]
