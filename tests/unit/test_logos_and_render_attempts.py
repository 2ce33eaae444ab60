"""Pure rules: which logo a URL names and an invoice shows, and when a failed render is tried again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from remit.domain.document_renders import FAILURE_HELD_FOR, RENDER_DEADLINE, RenderAttempt
from remit.domain.invoice import Invoice
from remit.domain.logos import fits_the_upload_limit, logo_key_of
from tests.unit.test_invoice_state_machine import a_draft

START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("url", "key"),
    [
        ("https://api.remit.test/assets/logos/org_1/abc.png", "logos/org_1/abc.png"),
        ("http://127.0.0.1:3000/assets/logos/org_1/abc.jpg", "logos/org_1/abc.jpg"),
        ("https://api.remit.test/assets/invoices/org_1/inv_1/open-0.pdf", None),
        ("https://elsewhere.test/logo.png", None),
        (None, None),
        ("", None),
    ],
)
def test_a_logo_url_names_a_stored_logo_only_under_the_assets_logos_path(
    url: str | None, key: str | None
) -> None:
    assert logo_key_of(url) == key


@pytest.mark.parametrize(
    ("width", "height", "fits"),
    [(2000, 2000, True), (2001, 2000, False), (4_000_000, 1, True), (4_000_001, 1, False), (0, 10, False)],
)
def test_an_upload_fits_when_it_has_at_most_four_million_pixels(width: int, height: int, fits: bool) -> None:
    assert fits_the_upload_limit(width, height) is fits


def test_a_render_that_may_still_be_running_goes_ahead_and_one_past_the_deadline_is_dead() -> None:
    started = RenderAttempt(started_at=START)

    assert started.verdict(START + RENDER_DEADLINE) == "render"
    assert started.verdict(START + RENDER_DEADLINE + timedelta(seconds=1)) == "died"


def test_a_failure_is_held_for_an_hour_then_tried_again() -> None:
    failed = RenderAttempt(started_at=START).failed(START + timedelta(seconds=2), "MemoryError")

    assert failed.verdict(START + timedelta(minutes=59)) == "failed"
    assert failed.retry_after(START + timedelta(minutes=10)) == int(
        (FAILURE_HELD_FOR - timedelta(minutes=10) + timedelta(seconds=2)).total_seconds()
    )
    assert failed.verdict(START + FAILURE_HELD_FOR + timedelta(seconds=2)) == "render"


def test_a_refusal_is_no_failure_and_is_answered_again() -> None:
    refused = RenderAttempt(started_at=START).refused(START)

    assert refused.verdict(START + timedelta(hours=5)) == "render"


def test_an_invoice_shows_the_logo_it_was_finalized_with_whatever_the_organisation_has_now() -> None:
    draft = a_draft()

    def finalized_with(logo_key: str | None) -> Invoice:
        return draft.finalize(
            number="ACME-00001",
            sequence=1,
            issue_date=START.date(),
            hosted_token="token",
            hosted_url="https://pay.test/i/token",
            customer_name="Globex",
            customer_email="ap@globex.test",
            customer_address=None,
            customer_tax_id=None,
            recipients=["ap@globex.test"],
            credit_balances={},
            now=START,
            logo_key=logo_key,
        )

    assert (
        finalized_with("logos/org_test/red.png").logo_shown("logos/org_test/blue.png")
        == "logos/org_test/red.png"
    )
    assert finalized_with(None).logo_shown("logos/org_test/blue.png") is None
    # An invoice finalized before logos were recorded (no key at all) shows the current one.
    legacy = finalized_with(None).model_copy(update={"logo_key": None})
    assert legacy.logo_shown("logos/org_test/blue.png") == "logos/org_test/blue.png"
