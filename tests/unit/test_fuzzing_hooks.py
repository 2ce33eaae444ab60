"""The fuzzing run accepts only the documented deviations, and only when nothing else is wrong."""

from __future__ import annotations

from tests.e2e.fuzzing_hooks import is_deliberate


def problem(*errors: tuple[str, str]) -> dict[str, object]:
    return {"status": 422, "errors": [{"field": field, "message": message} for field, message in errors]}


def test_an_opaque_cursor_refused_is_a_deliberate_deviation() -> None:
    assert is_deliberate(422, problem(("cursor", "is not a cursor from a previous page of this list")), None)


def test_a_float_amount_is_deliberate_only_when_a_float_was_sent() -> None:
    refusal = problem(("amount", "must be a whole number of the currency's minor unit (1999 for 19.99 EUR)"))

    assert is_deliberate(422, refusal, {"amount": 296.0})
    assert not is_deliberate(422, refusal, {"amount": "296"})


def test_a_deviation_mixed_with_another_problem_still_fails() -> None:
    refusal = problem(
        ("cursor", "is not a cursor from a previous page of this list"), ("limit", "must be at most 100")
    )

    assert not is_deliberate(422, refusal, None)


def test_any_other_refusal_or_status_fails() -> None:
    assert not is_deliberate(422, problem(("email", "is not an email address")), None)
    assert not is_deliberate(422, {"status": 422, "errors": []}, None)
    assert not is_deliberate(
        400, problem(("cursor", "is not a cursor from a previous page of this list")), None
    )


def test_the_vat_rules_the_document_cannot_say_are_deliberate() -> None:
    for field, message in (
        ("legal.vat_id", "'DE1' is not a VAT number: it must start with its country code (e.g. DE, FR, EL)"),
        ("vat_id", "'DE136695975' is not a valid EU VAT number (The number's checksum is invalid.)"),
        (
            "tax_treatment",
            "reverse_charge needs the customer's VAT id: give vat_id (or a VAT number as tax_id)",
        ),
        ("line_items.3.vat_category", "a line in VAT category Z must have a tax_rate of 0, not 19"),
        ("line_items.0.tax_rate", "must be 0: the customer's tax_treatment is exempt, which carries no VAT"),
        ("lines[1].exemption_reason", "only a line in VAT category AE, E, G, K, O has an exemption reason"),
        ("vat_category", "a line in VAT category S (standard rate) must have a tax_rate above 0"),
        (
            "charge_ids",
            "charge chg_1: must be 0: the customer's tax_treatment is export, which carries no VAT",
        ),
    ):
        assert is_deliberate(422, problem((field, message)), None), field


def test_a_vat_rule_named_on_another_field_still_fails() -> None:
    assert not is_deliberate(
        422, problem(("name", "a line in VAT category Z must have a tax_rate of 0")), None
    )
    assert not is_deliberate(422, problem(("vat_id", "must be a string")), None)


def test_an_einvoice_refused_by_an_official_rule_is_deliberate_only_with_its_rule() -> None:
    refused = {
        "status": 422,
        "errors": [
            {"field": "customer.buyer_reference", "rule": "BR-DE-15", "message": "Buyer reference missing"},
            {"field": "einvoice", "rule": "PEPPOL-EN16931-R010", "message": "Buyer electronic address"},
        ],
    }
    without_rule = {"status": 422, "errors": [{"field": "customer.buyer_reference", "message": "missing"}]}

    assert is_deliberate(422, refused, None)
    assert not is_deliberate(422, without_rule, None)
    assert not is_deliberate(
        422, {"status": 422, "errors": [{"field": "x", "rule": "", "message": "m"}]}, None
    )
    assert is_deliberate(
        422, problem(("format", "is required: the customer takes no e-invoice format")), None
    )


def test_webhook_destinations_and_patterns_refused_by_stored_or_resolved_data_are_deliberate() -> None:
    assert is_deliberate(422, problem(("url", "names a host that could not be resolved (example.com)")), None)
    assert is_deliberate(
        422, problem(("enabled_events.0", "must be `*`, one of `invoice.*` or an event type")), None
    )
    assert is_deliberate(422, problem(("created_lt", "must be later than created_gte")), None)
    assert not is_deliberate(422, problem(("url", "is too long")), None)


def test_an_export_period_ending_before_it_starts_is_deliberate_only_for_to() -> None:
    assert is_deliberate(422, problem(("to", "Must be on or after `from`.")), None)
    assert not is_deliberate(422, problem(("from", "Must be on or after `from`.")), None)
    assert not is_deliberate(422, problem(("to", "Field required")), None)


def test_an_unreadable_import_file_or_its_mapping_is_deliberate_and_nothing_else_of_an_import() -> None:
    for field, message in (
        ("file", "it is not a text file (it holds NUL bytes); upload a CSV file"),
        ("file", "its first row holds an email address; the first row must name the columns"),
        ("mapping", "no column is mapped to email, which every customer needs"),
        ("mapping.Mail", "is not a column of the file's header row"),
        ("mapping", "must be a JSON object of column names to customer fields"),
    ):
        assert is_deliberate(422, problem((field, message)), None), message

    assert not is_deliberate(422, problem(("file", "is larger than 4194304 bytes")), None)
    assert not is_deliberate(422, problem(("rows", "List should have at least 1 item")), None)
