"""An export of many documents is written as it is read: a page at a time, never the whole list
first, so its memory does not grow with the organisation."""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import IO, Any

import boto3

from remit.adapters.s3_exports import S3ExportFiles
from remit.domain.exports import ExportPeriod
from remit.domain.organisation import NewOrganisation
from remit.ports.exports import ExportDownload
from remit.services.exports import ExportService
from tests.clocks import SettableClock
from tests.integration.conftest import LOGO_BUCKET
from tests.integration.exports_helpers import csv_rows

CUSTOMERS = 2000


class CountedCustomers:
    """The customers service, counting the pages read."""

    def __init__(self, customers: Any) -> None:
        self._customers = customers
        self.pages_read = 0

    def list(self, *args: Any, **kwargs: Any) -> Any:
        self.pages_read += 1
        return self._customers.list(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._customers, name)


class WatchedFiles:
    """S3's export files, noting how many pages had been read when the first row was written."""

    def __init__(self, customers: CountedCustomers) -> None:
        self._files = S3ExportFiles(lambda: boto3.client("s3"), LOGO_BUCKET)
        self._customers = customers
        self.pages_read_at_first_row: int | None = None
        self.published: bytes = b""

    @contextmanager
    def scratch(self) -> Iterator[IO[bytes]]:
        with self._files.scratch() as file:
            watched = self

            class Watched:
                def write(self, data: bytes) -> int:
                    if watched.pages_read_at_first_row is None:
                        watched.pages_read_at_first_row = watched._customers.pages_read
                    return file.write(data)

                def __iter__(self) -> Iterator[bytes]:
                    return iter(file)

                def __getattr__(self, name: str) -> Any:
                    return getattr(file, name)

            # Only the first scratch file (the rows as read) is watched.
            yield Watched() if self.pages_read_at_first_row is None else file  # type: ignore[misc]

    def publish(
        self, organisation_id: str, file_name: str, content_type: str, content: IO[bytes], now: Any
    ) -> ExportDownload:
        content.seek(0)
        self.published = content.read()
        return self._files.publish(organisation_id, file_name, content_type, io.BytesIO(self.published), now)


def test_two_thousand_customers_are_exported_a_page_at_a_time(aws: None) -> None:
    from remit.bootstrap import services
    from remit.domain.customer import NewCustomer

    # Given an organisation with 2,000 customers
    everything = services()
    account_id = everything.accounts.create_account("Many Ltd's account").account_id
    organisation = everything.organisations.create(
        account_id, NewOrganisation(name="Many Ltd", default_currency="EUR")
    )
    for number in range(CUSTOMERS):
        everything.customers.create(
            account_id,
            organisation.id,
            NewCustomer(name=f"Customer {number:04}", email=f"c{number}@many.test"),
        )
    counted = CountedCustomers(everything.customers)

    class Reading:
        def __getattr__(self, name: str) -> Any:
            return counted if name == "customers" else getattr(everything, name)

    files = WatchedFiles(counted)
    exports = ExportService(lambda: Reading(), files, SettableClock())  # type: ignore[arg-type]

    # When they are exported
    period = ExportPeriod(date(2000, 1, 1), date(2100, 1, 1))
    exports.accounting_csv(account_id, organisation.id, "customers", period)

    # Then the first row was written after one page was read, every page was read once, and the
    # file holds every customer once
    assert files.pages_read_at_first_row == 1
    assert counted.pages_read == CUSTOMERS // 100
    rows = csv_rows(files.published)
    assert len(rows) == CUSTOMERS
    assert len({row["customer_id"] for row in rows}) == CUSTOMERS
