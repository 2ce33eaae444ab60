"""Exports of an organisation's books: accounting CSVs for a period, and everything as JSON Lines.

Memory does not grow with the organisation: documents are read a page (100) at a time, as the file
is written, and each line goes to a temporary file that spills to disk (`ExportFiles.scratch`);
the finished file is uploaded in parts and downloaded from a short-lived address. A CSV is written
in two passes over its own rows: the first keeps each row (and the set of tax rates met) in a
scratch file, the second writes the header, whose per-rate tax columns are known only then, and
the rows.

Which date puts a document in a period (in the organisation's time zone): an invoice's and a
credit note's `issue_date`, a payment's `received_on`, a customer's `created_at`. Invoices, credit
notes and payments are read through the store's date index: only the period's, a page of keys
and a batch of items at a time, so time grows with the rows exported, not with the organisation.
Customers are read whole (a page at a time) and kept when created in the period. Draft invoices
have no number nor issue date and are never exported; void invoices and credit notes are, with
their status, since their numbers belong to the series an accountant checks for gaps. Failed
payments are left out: no money arrived.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any, Protocol

from pydantic import BaseModel

from remit.domain import answers
from remit.domain.export_rows import COLUMNS, credit_note_row, customer_row, invoice_row, payment_row
from remit.domain.exports import (
    UTF8_BOM,
    AccountingKind,
    ExportPeriod,
    ExportRow,
    RateColumns,
    csv_line,
)
from remit.domain.organisation import Organisation
from remit.domain.pagination import Page
from remit.ports.clock import Clock
from remit.ports.exports import ExportDownload, ExportFiles

#: Documents read per page; the most a list read answers.
PAGE = 100

#: Customer names and invoice numbers remembered while payments are exported (a payment names
#: both): enough for a month's payments to cost a read per customer, bounded whatever the month.
REMEMBERED = 1000

CSV_CONTENT_TYPE = "text/csv; charset=utf-8"
JSONL_CONTENT_TYPE = "application/x-ndjson; charset=utf-8"


class _Services(Protocol):
    """The services an export reads through, each checking the caller's access as it does."""

    @property
    def organisations(self) -> Any: ...
    @property
    def customers(self) -> Any: ...
    @property
    def charges(self) -> Any: ...
    @property
    def invoices(self) -> Any: ...
    @property
    def payments(self) -> Any: ...
    @property
    def credit_notes(self) -> Any: ...
    @property
    def subscriptions(self) -> Any: ...
    @property
    def billing_runs(self) -> Any: ...
    @property
    def webhook_endpoints(self) -> Any: ...


def pages[ItemT](read: Callable[[str | None], Page[ItemT]]) -> Iterator[ItemT]:
    """Every item `read` answers, a page at a time: the next page is read only when the items of
    the one before have all been taken."""
    cursor: str | None = None
    while True:
        page = read(cursor)
        yield from page.items
        if page.next_cursor is None:
            return
        cursor = page.next_cursor


class _Remembered:
    """A bounded memory of looked-up values: the oldest is forgotten first."""

    def __init__(self, look_up: Callable[[str], str | None]) -> None:
        self._look_up = look_up
        self._values: OrderedDict[str, str | None] = OrderedDict()

    def __call__(self, key: str) -> str | None:
        if key in self._values:
            self._values.move_to_end(key)
            return self._values[key]
        value = self._values[key] = self._look_up(key)
        if len(self._values) > REMEMBERED:
            self._values.popitem(last=False)
        return value


class ExportService:
    def __init__(self, services: Callable[[], _Services], files: ExportFiles, clock: Clock) -> None:
        # The services are built with this one (bootstrap): they are reached once all exist.
        self._services_of = services
        self._files = files
        self._clock = clock

    @property
    def _services(self) -> _Services:
        return self._services_of()

    def accounting_csv(
        self, account_id: str, organisation_id: str, kind: AccountingKind, period: ExportPeriod
    ) -> ExportDownload:
        """The organisation's documents of `kind` dated in `period` as a CSV for spreadsheets (UTF-8
        with a byte order mark, CRLF, RFC 4180 quoting, a header row, formulas in text cells
        defused), stored and answered as a short-lived download. Reads only; memory stays bounded
        whatever the number of documents.

        Raises `NotFound` for an organisation the account does not have (nothing is written).
        """
        organisation = self._services.organisations.get(account_id, organisation_id)
        rows = self._rows(account_id, organisation, kind, period)
        columns = RateColumns()
        with self._files.scratch() as kept, self._files.scratch() as finished:
            for row in rows:
                columns.add(row)
                kept.write(json.dumps(row.as_record(), ensure_ascii=False).encode() + b"\n")
            finished.write(UTF8_BOM.encode())
            finished.write(csv_line(columns.header(COLUMNS[kind])).encode())
            kept.seek(0)
            for line in kept:
                row = ExportRow.of_record(json.loads(line))
                finished.write(csv_line(columns.cells(row)).encode())
            return self._files.publish(
                organisation_id, period.file_name(kind), CSV_CONTENT_TYPE, finished, self._clock.now()
            )

    def organisation_jsonl(self, account_id: str, organisation_id: str) -> ExportDownload:
        """Everything the organisation owns as JSON Lines, one `{"type": …, "data": …}` a line with
        `data` exactly as the API answers it: the organisation first, then its customers (each
        followed by its charges and credit-balance entries), invoices, credit notes, payments,
        refunds, subscriptions, billing templates, billing runs and webhook endpoints. Never a
        secret (API keys, webhook signing secrets, card-provider credentials are not answers of
        these reads), never another organisation's item. Reads only; memory stays bounded.

        Raises `NotFound` for an organisation the account does not have (nothing is written).
        """
        organisation = self._services.organisations.get(account_id, organisation_id)
        with self._files.scratch() as file:
            for kind, answer in self._everything(account_id, organisation):
                line = {"type": kind, "data": answer.model_dump(mode="json")}
                file.write(json.dumps(line, ensure_ascii=False, separators=(",", ":")).encode() + b"\n")
            name = f"organisation_{organisation_id}_{self._clock.now().date().isoformat()}.jsonl"
            return self._files.publish(organisation_id, name, JSONL_CONTENT_TYPE, file, self._clock.now())

    def _rows(
        self, account_id: str, organisation: Organisation, kind: AccountingKind, period: ExportPeriod
    ) -> Iterator[ExportRow]:
        services, org = self._services, organisation.id
        first, last = period.first, period.last
        if kind == "invoices":
            for invoice in pages(
                lambda cursor: services.invoices.list_issued(account_id, org, first, last, PAGE, cursor)
            ):
                if invoice.status != "draft" and invoice.issue_date and period.holds(invoice.issue_date):
                    yield invoice_row(invoice)
        elif kind == "credit_notes":
            for note in pages(
                lambda cursor: services.credit_notes.list_issued(account_id, org, first, last, PAGE, cursor)
            ):
                if period.holds(note.issue_date):
                    yield credit_note_row(note)
        elif kind == "payments":
            invoice_number = _Remembered(lambda i: services.invoices.get(account_id, org, i).number)
            customer_name = _Remembered(lambda c: services.customers.get(account_id, org, c).name)
            for payment in pages(
                lambda cursor: services.payments.list_received(account_id, org, first, last, PAGE, cursor)
            ):
                if payment.status != "failed" and period.holds(payment.received_on):
                    yield payment_row(
                        payment, invoice_number(payment.invoice_id), customer_name(payment.customer_id)
                    )
        else:
            for customer in pages(
                lambda cursor: services.customers.list(account_id, org, PAGE, cursor, None)
            ):
                if period.holds_moment(customer.created_at, organisation.timezone):
                    yield customer_row(customer)

    def _everything(self, account_id: str, organisation: Organisation) -> Iterator[tuple[str, BaseModel]]:
        services, org = self._services, organisation.id

        def charges_of(customer_id: str, cursor: str | None) -> Page[Any]:
            return services.charges.list_charges(account_id, org, customer_id, PAGE, cursor, None)  # type: ignore[no-any-return]

        def balance_of(customer_id: str, cursor: str | None) -> Page[Any]:
            return services.payments.balance_transactions(account_id, org, customer_id, PAGE, cursor)  # type: ignore[no-any-return]

        yield "organisation", answers.Organisation.of(organisation)
        for customer in pages(lambda cursor: services.customers.list(account_id, org, PAGE, cursor, None)):
            yield "customer", answers.Customer.of(customer)
            yield from (("charge", charge) for charge in pages(partial(charges_of, customer.id)))
            yield from (("balance_transaction", entry) for entry in pages(partial(balance_of, customer.id)))
        for invoice in pages(
            lambda cursor: services.invoices.list_invoices(account_id, org, PAGE, cursor, None, None)
        ):
            yield "invoice", answers.Invoice.of(invoice)
        for note in pages(
            lambda cursor: services.credit_notes.list_credit_notes(account_id, org, PAGE, cursor)
        ):
            yield "credit_note", answers.CreditNote.of(note)
        for payment in pages(
            lambda cursor: services.payments.list_payments(account_id, org, PAGE, cursor, None, None)
        ):
            yield "payment", answers.Payment.of(payment)
        for refund in pages(lambda cursor: services.credit_notes.list_refunds(account_id, org, PAGE, cursor)):
            yield "refund", refund
        for subscription in pages(lambda cursor: services.subscriptions.list(account_id, org, PAGE, cursor)):
            yield "subscription", answers.Subscription.of(subscription)
        for template in pages(
            lambda cursor: services.billing_runs.list_templates(account_id, org, PAGE, cursor)
        ):
            yield "billing_template", answers.BillingTemplate.of(template)
        for run in pages(lambda cursor: services.billing_runs.list_runs(account_id, org, PAGE, cursor)):
            yield "billing_run", answers.BillingRun.of(run)
        for endpoint in services.webhook_endpoints.list(account_id, org):
            yield "webhook_endpoint", answers.WebhookEndpoint.of(endpoint)
