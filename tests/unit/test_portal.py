"""The portal's rules: fixed windows for counting link requests, the session's CSRF check, and
what a customer may change of itself."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from remit.domain.portal import (
    LINK_REQUEST_WINDOW,
    PortalDetailsChanges,
    PortalSession,
    normalised_email,
    window_of,
)


def test_requests_in_one_fifteen_minute_window_share_it_and_the_next_starts_a_new_one() -> None:
    start, end = window_of(datetime(2026, 12, 6, 10, 14, 59, tzinfo=UTC), LINK_REQUEST_WINDOW)
    assert (start, end) == (
        datetime(2026, 12, 6, 10, 0, tzinfo=UTC),
        datetime(2026, 12, 6, 10, 15, tzinfo=UTC),
    )
    assert window_of(datetime(2026, 12, 6, 10, 15, tzinfo=UTC), LINK_REQUEST_WINDOW)[0] == end


def test_a_session_accepts_only_its_own_csrf_token() -> None:
    session = PortalSession("d", "org_1", "cus_1", "token-a", datetime.now(UTC) + timedelta(hours=1))
    assert session.accepts_csrf("token-a")
    assert not session.accepts_csrf("token-b")
    assert not session.accepts_csrf(None)
    assert not session.accepts_csrf("")


def test_emails_are_compared_trimmed_and_in_lower_case() -> None:
    assert normalised_email("  AP@Globex.TEST ") == "ap@globex.test"


def test_a_customer_may_change_only_its_address_tax_id_reminders_and_contacts_preferences() -> None:
    changes = PortalDetailsChanges.model_validate(
        {"address": {"country": "DE"}, "send_reminders": False, "contact_preferences": {"ctc_1": ["billing"]}}
    )
    assert changes.model_fields_set == {"address", "send_reminders", "contact_preferences"}
    with pytest.raises(ValidationError):
        PortalDetailsChanges.model_validate({"name": "Someone else"})
    with pytest.raises(ValidationError):
        PortalDetailsChanges.model_validate({"contact_preferences": {"ctc_1": ["marketing"]}})
    with pytest.raises(ValidationError):
        PortalDetailsChanges.model_validate({"address": {"country": "Germany"}})
