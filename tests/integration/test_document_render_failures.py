"""A PDF whose render fails is remembered: answered at once with a clear 503, alarmed, and not
rendered again by every request; after an hour one request tries again.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import pytest

from remit.domain.documents import InvoiceDocument
from tests.integration.api_client import ApiClient, ApiResponse
from tests.integration.billing import Billing
from tests.integration.conftest import SettableClock


class ProcessDied(BaseException):
    """What a render looks like from outside when its process runs out of memory: it never returns."""


class FlakyRenderer:
    """Draws a small PDF, or fails the way it is told to; counts the renders it was asked for."""

    def __init__(self) -> None:
        self.failure: BaseException | None = None
        self.calls = 0

    def render(self, document: InvoiceDocument, logo: tuple[bytes, str] | None) -> bytes:
        self.calls += 1
        if self.failure is not None:
            raise self.failure
        return b"%PDF-1.7 " + document.number.encode()


@pytest.fixture
def renderer(aws: None, clock: SettableClock) -> Iterator[FlakyRenderer]:
    from remit import bootstrap

    flaky = FlakyRenderer()
    bootstrap.use_pdf_renderer(flaky)
    yield flaky
    bootstrap.use_pdf_renderer(None)


def hosted_pdf(api: ApiClient, invoice: dict[str, Any]) -> ApiResponse:
    return api.get(invoice["hosted_url"].removeprefix("https://api.remit.test") + "/pdf", api_key=None)


def logged(logs: io.StringIO, message: str) -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in logs.getvalue().splitlines() if line.startswith("{")]
    return [line for line in lines if line.get("message") == message]


def test_a_failed_render_is_answered_503_at_once_until_an_hour_has_passed(
    api: ApiClient, renderer: FlakyRenderer, clock: SettableClock, captured_logs: io.StringIO
) -> None:
    # Given a finalized invoice whose PDF fails to render
    billing = Billing(api)
    invoice = billing.finalized()
    renderer.failure = MemoryError("out of memory drawing the logo")

    # When its PDF is asked for, by the hosted page's link and then by the API, again and again
    first = hosted_pdf(api, invoice)
    clock.advance(minutes=10)
    again = [hosted_pdf(api, invoice), api.get(f"{billing.invoice(invoice['id'])}/pdf")]

    # Then the render ran once; every answer is a 503 problem saying when to come back
    assert renderer.calls == 1
    for response, retry_after in ((first, 3600), (again[0], 3000), (again[1], 3000)):
        assert response.status == 503
        assert response.json()["type"].endswith("/document-unavailable")
        assert invoice["number"] in response.json()["detail"]
        assert response.headers["Retry-After"] == str(retry_after)
    # ...and the failure was logged once, with its cause, for the alarm's metric
    [failure] = logged(captured_logs, "Invoice PDF could not be rendered")
    assert failure["invoice_id"] == invoice["id"]
    assert "MemoryError: out of memory drawing the logo" in failure["error"]

    # When an hour has passed since the failure, and the cause is gone
    renderer.failure = None
    clock.advance(minutes=51)
    later = hosted_pdf(api, invoice)

    # Then one request renders again, and the PDF is served (and kept)
    assert (later.status, renderer.calls) == (200, 2)
    assert hosted_pdf(api, invoice).status == 200
    assert renderer.calls == 2


def test_a_render_whose_process_died_is_known_dead_once_no_render_could_still_be_running(
    api: ApiClient, renderer: FlakyRenderer, clock: SettableClock, captured_logs: io.StringIO
) -> None:
    # Given a finalized invoice whose render kills its process (it never returns, nothing is caught)
    billing = Billing(api)
    invoice = billing.finalized()
    renderer.failure = ProcessDied()
    with pytest.raises(ProcessDied):
        hosted_pdf(api, invoice)

    # When another request comes while that render could still be running, it renders too
    clock.advance(minutes=1)
    with pytest.raises(ProcessDied):
        hosted_pdf(api, invoice)
    assert renderer.calls == 2

    # When one comes after the longest a render may take (from the first start)
    clock.advance(minutes=2, seconds=1)
    dead = hosted_pdf(api, invoice)

    # Then the render is known dead: the failure is recorded and answered, without rendering again
    assert dead.status == 503
    assert dead.headers["Retry-After"] == "3600"
    assert renderer.calls == 2
    [failure] = logged(captured_logs, "Invoice PDF could not be rendered")
    assert "did not finish" in failure["error"]
    clock.advance(minutes=30)
    assert hosted_pdf(api, invoice).status == 503
    assert renderer.calls == 2


def test_a_new_revision_of_the_pdf_is_rendered_whatever_the_last_one_did(
    api: ApiClient, renderer: FlakyRenderer
) -> None:
    # Given an open invoice whose PDF failed to render
    billing = Billing(api)
    invoice = billing.finalized()
    renderer.failure = RuntimeError("broken")
    assert hosted_pdf(api, invoice).status == 503

    # When it is paid (the PDF now shows PAID: another revision) and the cause is gone
    renderer.failure = None
    assert billing.pay(invoice["id"], invoice["amount_due"]).status == 201

    # Then its PDF renders
    assert hosted_pdf(api, invoice).status == 200
    assert renderer.calls == 2


def test_each_failed_render_is_counted_for_the_alarm(api: ApiClient, renderer: FlakyRenderer) -> None:
    from remit.bootstrap import services
    from remit.domain.errors import DocumentUnavailable
    from remit.observability import metrics

    # Given an invoice whose PDF fails to render
    invoice = Billing(api).finalized()
    renderer.failure = RuntimeError("broken")
    metrics.clear_metrics()

    # When its PDF is asked for twice
    for _ in range(2):
        with pytest.raises(DocumentUnavailable):
            services().documents.hosted_pdf(invoice["hosted_url"].rsplit("/", 1)[1])

    # Then one failure is counted (`DocumentRenderFailures`, which `DocumentRenderFailuresAlarm` watches)
    assert metrics.metric_set["DocumentRenderFailures"]["Value"] == [1.0]
