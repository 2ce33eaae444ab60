"""A customer import: a file (or JSON rows) brought into an organisation's customers, row by row,
in the background, with its progress and its report."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from remit.domain.import_mapping import TARGET_PATTERN, Preset
from remit.domain.values import Model, Strict

ImportStatus = Literal["pending", "running", "completed", "failed"]
ImportKind = Literal["customers"]
ImportSource = Literal["csv", "json"]
# The problems a report keeps, at most: a record stays well inside DynamoDB's item size whatever
# the file; `failed` counts every row that failed all the same.
MAX_REPORTED_PROBLEMS = 1000
# The rows of JSON one request may send (the body's size limit applies too).
MAX_JSON_ROWS = 10_000


class ImportProblem(Model):
    """A problem of one row: its number (a spreadsheet's: the header is row 1; for JSON rows, the
    row's position from 1), the field and the API's own message."""

    row: int
    field: str
    message: str


class RowOutcome(BaseModel):
    """What importing one row did (or, in a dry run, would do)."""

    outcome: Literal["created", "updated", "unchanged", "failed"]
    problems: list[ImportProblem] = Field(default_factory=list)


class CustomerImport(Model):
    """An import's record: what was asked, how far it got and what it did."""

    id: str
    organisation_id: str
    kind: ImportKind = "customers"
    status: ImportStatus = "pending"
    dry_run: bool = False
    preset: Preset | None = None
    source: ImportSource = Field(default="csv")
    rows: int = Field(description="Customer rows in the file (blank rows aside).")
    created: int = Field(default=0, description="Customers created (in a dry run: that would be).")
    updated: int = Field(default=0, description="Customers updated (in a dry run: that would be).")
    unchanged: int = Field(
        default=0, description="Rows matching a customer that holds their values already (nothing written)."
    )
    failed: int = Field(default=0, description="Rows not imported, each with its problems in `errors`.")
    errors: list[ImportProblem] = Field(
        default_factory=list,
        description=f"Every failed row's problems, in row order (the first {MAX_REPORTED_PROBLEMS}).",
    )
    mapping: dict[str, str] = Field(default_factory=dict, description="Column → customer field used.")
    suggested_mapping: dict[str, str] = Field(
        default_factory=dict, description="Column → customer field suggested from the header's names."
    )
    columns: list[str] = Field(default_factory=list, description="The header row's columns, in order.")
    failure: str | None = Field(default=None, description="Why a `failed` import stopped.")
    created_at: datetime
    completed_at: datetime | None = None
    # Internal: whose import it is, where the rows are, how they are written, the last row done and
    # the row after which the next part of the work was queued.
    account_id: str = ""
    file_key: str = Field(default="")
    encoding: str = Field(default="utf-8")
    delimiter: str = Field(default=",")
    done_through: int = Field(default=0)
    queued_after: int = Field(default=0)
    # The part begun last (the row it begins after): a part begun before is being done again.
    begun_after: int = Field(default=-1)
    version: int = Field(default=0)

    @property
    def finished(self) -> bool:
        return self.status in ("completed", "failed")

    def with_rows_done(
        self, through: int, outcomes: list[RowOutcome], *, last: bool, now: datetime
    ) -> CustomerImport:
        """The record once the rows up to `through` are done with `outcomes`; completed if `last`."""
        problems = [problem for outcome in outcomes for problem in outcome.problems]
        room = max(0, MAX_REPORTED_PROBLEMS - len(self.errors))
        return self.model_copy(
            update={
                "status": "completed" if last else "running",
                "done_through": through,
                "created": self.created + sum(o.outcome == "created" for o in outcomes),
                "updated": self.updated + sum(o.outcome == "updated" for o in outcomes),
                "unchanged": self.unchanged + sum(o.outcome == "unchanged" for o in outcomes),
                "failed": self.failed + sum(o.outcome == "failed" for o in outcomes),
                "errors": [*self.errors, *problems[:room]],
                "completed_at": now if last else None,
            }
        )

    def stopped(self, reason: str, now: datetime) -> CustomerImport:
        """The record of an import that cannot go on (its file became unreadable midway)."""
        return self.model_copy(update={"status": "failed", "failure": reason, "completed_at": now})


class ImportRequest(Strict):
    """An import of JSON rows: each row a customer in the API's shape, or any flat object with a
    `mapping` of its keys."""

    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        json_schema_extra={
            "examples": [
                {
                    "kind": "customers",
                    "rows": [{"name": "Globex GmbH", "email": "ap@globex.test", "country": "DE"}],
                    "dry_run": True,
                }
            ]
        },
    )

    kind: ImportKind
    rows: Annotated[list[dict[str, Any]], Field(min_length=1, max_length=MAX_JSON_ROWS)]
    mapping: dict[str, Annotated[str, Field(pattern=TARGET_PATTERN)]] | None = Field(
        default=None,
        description="Row key → customer field; without it, each row is a customer as the API shows it.",
    )
    dry_run: bool = False
    preset: Preset | None = None
