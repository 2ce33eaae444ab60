"""Customer imports: a file or JSON rows recorded, then imported in the background, a part at a time.

The request reads the whole upload once (bounded by `max_file_bytes`): a file that cannot be read
(not text, no header, a malformed quote, too large) is refused there, before anything is stored.
Otherwise the file is kept (`ImportFiles`), the import recorded as `pending`, and one message
queued. Each message asks for the rows after one row number: the worker imports up to
`part_rows` of them, saves the counts with the last row done (conditioned on the record being as
read), then queues the next part. A message for rows already done is a redelivery: it changes
nothing (it only queues the next part if that was never queued). So a part that fails midway is
done again whole and counted once (`RowImporter` derives created customers' ids from their rows),
no invocation holds more than a part, and a file of any length never meets the function's timeout.
"""

from __future__ import annotations

import json
from contextlib import suppress
from typing import Any

from remit.domain.errors import ConcurrentUpdate, FieldProblem, InvalidInput, NotFound, TooLarge
from remit.domain.ids import new_id
from remit.domain.import_files import csv_rows, detect_layout, exported_customer, json_file_rows
from remit.domain.import_mapping import (
    Preset,
    checked_mapping,
    is_target,
    suggest_mapping,
)
from remit.domain.imports import CustomerImport, ImportProblem, ImportRequest, RowOutcome
from remit.domain.pagination import Page
from remit.ports.clock import Clock
from remit.ports.imports import ImportFiles, ImportRecords
from remit.ports.queues import WorkQueue
from remit.services.import_reading import rows_after
from remit.services.import_rows import RowImporter
from remit.services.organisations import OrganisationService

MESSAGE_KIND = "import_customers"
# What a part did, row by row (named here: `ImportService.list` hides the builtin in its class).
PartOutcomes = list[RowOutcome]


def _needs_name_and_email(mapping: dict[str, str]) -> None:
    filled = set(mapping.values())
    problems = []
    if "email" not in filled:
        problems.append(FieldProblem("mapping", "no column is mapped to email, which every customer needs"))
    if not filled & {"name", "first_name", "last_name"}:
        problems.append(FieldProblem("mapping", "no column is mapped to name (or first_name and last_name)"))
    if problems:
        raise InvalidInput(problems)


class ImportService:
    def __init__(
        self,
        records: ImportRecords,
        files: ImportFiles,
        rows: RowImporter,
        access: OrganisationService,
        queue: WorkQueue,
        clock: Clock,
        *,
        max_file_bytes: int,
        part_rows: int,
    ) -> None:
        self._records = records
        self._files = files
        self._rows = rows
        self._access = access
        self._queue = queue
        self._clock = clock
        self._max_file_bytes = max_file_bytes
        self._part_rows = part_rows

    def import_file(
        self,
        account_id: str,
        organisation_id: str,
        content: bytes,
        *,
        mapping: dict[str, str] | None,
        dry_run: bool,
        preset: Preset | None,
    ) -> CustomerImport:
        """Record an import of a CSV file (or of a JSON array or JSON Lines file of customers, an
        organisation's export included) and queue it; answers the `pending` record.

        Nothing is stored when it raises: `NotFound` (organisation), `TooLarge` (over the limit),
        `InvalidInput` naming `file` (unreadable, no header) or `mapping.<column>` (a column the
        header lacks, a field no import fills, no column for email or name).
        """
        self._access.require_access(account_id, organisation_id)
        if len(content) > self._max_file_bytes:
            raise TooLarge(
                [FieldProblem("file", f"is larger than {self._max_file_bytes} bytes")],
                f"The file is larger than an import takes ({self._max_file_bytes} bytes); split it into "
                "several files.",
            )
        if content.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] in (b"[", b"{"):
            try:
                rows = json_file_rows(content)
            except (ValueError, RecursionError) as error:
                raise InvalidInput.single("file", f"is not JSON Lines or a JSON array ({error})") from None
            return self._start_json(
                account_id, organisation_id, rows, mapping, dry_run=dry_run, preset=preset
            )
        layout = detect_layout(content)
        suggested = suggest_mapping(layout.header, preset)
        used = checked_mapping(mapping, layout.header) if mapping is not None else suggested
        _needs_name_and_email(used)
        count = sum(1 for _ in csv_rows([content], layout))
        now = self._clock.now()
        record = CustomerImport(
            id=new_id("imp", now),
            organisation_id=organisation_id,
            account_id=account_id,
            dry_run=dry_run,
            preset=preset,
            source="csv",
            rows=count,
            mapping=used,
            suggested_mapping=suggested,
            columns=list(layout.header),
            created_at=now,
            encoding=layout.encoding,
            delimiter=layout.delimiter,
        )
        return self._start(record, content)

    def import_rows(self, account_id: str, organisation_id: str, request: ImportRequest) -> CustomerImport:
        """Record an import of JSON rows (customers in the API's shape, an export's `data` included,
        or flat objects with a `mapping`) and queue it; answers the `pending` record.

        Raises `NotFound` (organisation) or `InvalidInput` (`mapping.<key>` naming a field no import
        fills); nothing is stored then.
        """
        self._access.require_access(account_id, organisation_id)
        rows = [exported_customer(row) for row in request.rows]
        return self._start_json(
            account_id, organisation_id, rows, request.mapping, dry_run=request.dry_run, preset=request.preset
        )

    def import_again(
        self,
        account_id: str,
        organisation_id: str,
        import_id: str,
        *,
        mapping: dict[str, str] | None,
        dry_run: bool,
    ) -> CustomerImport:
        """A new import of an earlier import's file (kept some days), with `mapping` (None: the
        earlier one's): how the dashboard runs for real what it previewed with a dry run. Answers
        the new `pending` record.

        Raises `NotFound` (the import, or its organisation), `InvalidInput` as `import_file` does
        for a mapping; nothing is stored then.
        """
        earlier = self.get(account_id, organisation_id, import_id)
        used = earlier.mapping if mapping is None else mapping
        if earlier.source == "csv":
            used = checked_mapping(used, earlier.columns)
            _needs_name_and_email(used)
        now = self._clock.now()
        record = earlier.model_copy(
            update={
                "id": new_id("imp", now),
                "account_id": account_id,
                "status": "pending",
                "dry_run": dry_run,
                "mapping": used,
                "created": 0,
                "updated": 0,
                "unchanged": 0,
                "failed": 0,
                "errors": [],
                "failure": None,
                "created_at": now,
                "completed_at": None,
                "done_through": 0,
                "queued_after": 0,
                "begun_after": -1,
                "version": 0,
            }
        )
        self._records.add(record)
        self._queue.send([self._message(record, 0)])
        return record

    def _start_json(
        self,
        account_id: str,
        organisation_id: str,
        rows: list[Any],
        mapping: dict[str, str] | None,
        *,
        dry_run: bool,
        preset: Preset | None,
    ) -> CustomerImport:
        if not rows:
            raise InvalidInput.single("file", "holds no customer")
        if mapping:
            bad = [FieldProblem(f"mapping.{key}", f"'{field}' is not a customer field an import fills")
                   for key, field in mapping.items() if not is_target(field)]  # fmt: skip
            if bad:
                raise InvalidInput(bad)
        now = self._clock.now()
        record = CustomerImport(
            id=new_id("imp", now),
            organisation_id=organisation_id,
            account_id=account_id,
            dry_run=dry_run,
            preset=preset,
            source="json",
            rows=len(rows),
            mapping=mapping or {},
            created_at=now,
            encoding="utf-8",
        )
        lines = "".join(json.dumps(row, separators=(",", ":"), ensure_ascii=False) + "\n" for row in rows)
        return self._start(record, lines.encode())

    def _start(self, record: CustomerImport, content: bytes) -> CustomerImport:
        key = f"imports/{record.organisation_id}/{record.id}"
        record = record.model_copy(update={"file_key": key})
        self._files.put(key, content)
        self._records.add(record)
        self._queue.send([self._message(record, 0)])
        return record

    def get(self, account_id: str, organisation_id: str, import_id: str) -> CustomerImport:
        """The import's record as it now is; `NotFound` if it or its organisation is not the account's."""
        self._access.require_access(account_id, organisation_id)
        record = self._records.get(organisation_id, import_id)
        if record is None:
            raise NotFound("import", import_id)
        return record

    def list(
        self, account_id: str, organisation_id: str, limit: int, cursor: str | None
    ) -> Page[CustomerImport]:
        """The organisation's imports, newest first; `NotFound` for another account's organisation."""
        self._access.require_access(account_id, organisation_id)
        return self._records.list(organisation_id, limit, cursor)

    @staticmethod
    def _message(record: CustomerImport, after: int) -> dict[str, Any]:
        return {
            "kind": MESSAGE_KIND,
            "organisation_id": record.organisation_id,
            "import_id": record.id,
            "after": after,
        }

    def process(self, message: dict[str, Any]) -> None:
        """Import the part of an import a message asks for (the rows after `after`), save its counts
        and queue the next part; the last part completes the import.

        Idempotent: a message for a part already done changes nothing (it queues the next part
        only if that never was); a part done twice at once is saved once (the other's save is
        refused and changes nothing). Raises what the table or the queue raise: the message is then
        delivered again, and the part done again from its start, counted once.
        """
        record = self._records.get(str(message["organisation_id"]), str(message["import_id"]))
        if record is None or record.finished:
            return
        after = int(message["after"])
        if after < record.done_through:
            if record.queued_after < record.done_through:
                self._queue_next(record)
            return
        if after > record.done_through:
            return  # never queued by this service
        again = record.begun_after == after
        if not again:
            try:
                record = self._records.save(record.model_copy(update={"begun_after": after}))
            except ConcurrentUpdate:
                # Another delivery has begun the part: this one does it too (it may be the one that
                # lives), looking for what the other created; only one saves the counts.
                current = self._records.get(record.organisation_id, record.id)
                if current is None or current.done_through != after:
                    return
                record, again = current, True
        try:
            outcomes, through, last = self._import_part(record, again=again)
        except InvalidInput as unreadable:
            self._save_quietly(record.stopped(unreadable.detail, self._clock.now()))
            return
        except NotFound as missing:
            if missing.resource != "import file":
                raise  # a customer deleted meanwhile: the part is done again
            reason = "The import's file is no longer stored; upload it again."
            self._save_quietly(record.stopped(reason, self._clock.now()))
            return
        try:
            record = self._records.save(
                record.with_rows_done(through, outcomes, last=last, now=self._clock.now())
            )
        except ConcurrentUpdate:
            return  # another delivery of this message saved the part first
        if not last:
            self._queue_next(record)

    def _queue_next(self, record: CustomerImport) -> None:
        self._queue.send([self._message(record, record.done_through)])
        self._save_quietly(record.model_copy(update={"queued_after": record.done_through}))

    def _save_quietly(self, record: CustomerImport) -> None:
        # Refused only when a later part's save came first: it is further along already.
        with suppress(ConcurrentUpdate):
            self._records.save(record)

    def _import_part(self, record: CustomerImport, *, again: bool) -> tuple[PartOutcomes, int, bool]:
        """The part's rows imported; a part begun before (`again`) first looks for the customers its
        rows may have created then."""
        outcomes: PartOutcomes = []
        through = record.done_through
        rows = rows_after(record, self._files.chunks(record.file_key), record.done_through)
        for row in rows:
            if len(outcomes) == self._part_rows:
                return outcomes, through, False
            if row.problem is not None:
                outcomes.append(
                    RowOutcome(
                        outcome="failed",
                        problems=[
                            ImportProblem(
                                row=row.number, field=row.problem.field, message=row.problem.message
                            )
                        ],
                    )
                )
            else:
                outcomes.append(
                    self._rows.import_row(
                        record, record.account_id, row.number, row.fields, dry_run=record.dry_run, again=again
                    )
                )
            through = row.number
        return outcomes, through, True
