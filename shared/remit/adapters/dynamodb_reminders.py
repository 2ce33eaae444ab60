"""Reminders in the billing table: the reminder index, the markers, and each run's summary.

ORG#<org> / INVOICE#<invoice>                 GSI1 (`REMIND#<shard>`, `<date>#<org>#<invoice>`)
                                              on its next reminder step's date (see due_index)
ORG#<org> / REMINDER#<invoice>#<step>         marker: the step was sent for the invoice
ORG#<org> / REMINDERRUN#<date>                what the organisation's run of that date did
ORG#<org> / REMINDERPART#<date>#<part>        marker: a planner's page is counted on that run
ORG#<org> / REMINDERITEM#<date>#<invoice>     marker: the invoice is counted in that run
"""

from __future__ import annotations

from datetime import date

from remit.adapters.due_index import organisations_by_id
from remit.adapters.dynamodb import DynamoTable, Item, Write, put, to_attributes
from remit.adapters.dynamodb_billing import DynamoBillingTransaction
from remit.adapters.items.customers import customer_of
from remit.adapters.items.invoices import invoice_of
from remit.adapters.items.organisations import organisation_of
from remit.adapters.items.recurring import reminder_run_of
from remit.domain.customer import Customer
from remit.domain.errors import AlreadyDone
from remit.domain.invoice import Invoice
from remit.domain.organisation import Organisation
from remit.domain.reminders import ReminderRun


def _pk(organisation_id: str) -> str:
    return f"ORG#{organisation_id}"


class ReminderTransaction:
    """A reminder's one atomic write: what `billing` stages (the invoice moved on, the email in the
    outbox, the timeline's event), with the step's marker and the run's count."""

    def __init__(self, table: DynamoTable, organisation_id: str) -> None:
        self.billing = DynamoBillingTransaction(table, organisation_id)
        self._pk = _pk(organisation_id)

    def commit(self) -> None:
        """Commit everything staged, here and on `billing`, or nothing (see `DynamoBillingTransaction`)."""
        self.billing.commit()

    def _marker(self, sk: str, what: str) -> None:
        item = {"PK": self._pk, "SK": sk, "entity": "marker"}
        self.billing.stage(Write("Put", put(item, "attribute_not_exists(PK)"), lambda: AlreadyDone(what)))

    def claim_reminder(self, invoice_id: str, step: str) -> None:
        """Stage first: a second attempt at the step fails as `AlreadyDone`."""
        self._marker(f"REMINDER#{invoice_id}#{step}", f"Reminder {step} of {invoice_id} was sent.")

    def claim_run_invoice(self, day: date, invoice_id: str) -> None:
        self._marker(f"REMINDERITEM#{day.isoformat()}#{invoice_id}", f"{invoice_id} is counted on {day}.")

    def count_on_run(self, day: date, *, sent: bool, reason: str | None) -> None:
        """One more invoice of the run: sent, or skipped for `reason` (stage with `claim_run_invoice`)."""
        if sent:
            expression, names, values = "ADD #sent :one", {"#sent": "sent"}, {":one": 1}
        else:
            expression = "SET #skipped.#reason = if_not_exists(#skipped.#reason, :zero) + :one"
            names = {"#skipped": "skipped", "#reason": reason or "nothing_due"}
            values = {":one": 1, ":zero": 0}
        self.billing.stage(
            Write(
                "Update",
                {
                    "Key": {"PK": {"S": self._pk}, "SK": {"S": f"REMINDERRUN#{day.isoformat()}"}},
                    "UpdateExpression": expression,
                    "ConditionExpression": "attribute_exists(PK)",
                    "ExpressionAttributeNames": names,
                    "ExpressionAttributeValues": to_attributes(values),
                },
            )
        )


class DynamoReminderStore:
    def __init__(self, table: DynamoTable) -> None:
        self._table = table

    def transaction(self, organisation_id: str) -> ReminderTransaction:
        return ReminderTransaction(self._table, organisation_id)

    def read(
        self, organisation_id: str, invoice_id: str, customer_id: str
    ) -> tuple[Organisation | None, Invoice | None, Customer | None]:
        """The organisation, the invoice and its customer, in one round trip."""
        pk = _pk(organisation_id)
        keys = [(pk, "ORG"), (pk, f"INVOICE#{invoice_id}"), (pk, f"CUSTOMER#{customer_id}")]
        found = {item["SK"]: item for item in self._table.batch_get(keys)}
        organisation, invoice, customer = (found.get(sk) for _, sk in keys)
        return (
            organisation_of(organisation) if organisation else None,
            invoice_of(invoice) if invoice else None,
            customer_of(customer) if customer else None,
        )

    def record_run(self, run: ReminderRun, part: str) -> bool:
        """Add the invoices `part` (a planner's page) found to the organisation's run of its date
        (recorded by the first part), once per part; False when the part was counted already."""
        transaction = self.transaction(run.organisation_id)
        transaction._marker(
            f"REMINDERPART#{run.date.isoformat()}#{part}", f"The part {part} is counted on {run.date}."
        )
        transaction.billing.stage(
            Write(
                "Update",
                {
                    "Key": {
                        "PK": {"S": _pk(run.organisation_id)},
                        "SK": {"S": f"REMINDERRUN#{run.date.isoformat()}"},
                    },
                    "UpdateExpression": (
                        "SET entity = :entity, organisation_id = :org, #date = :date,"
                        " sent = if_not_exists(sent, :zero), skipped = if_not_exists(skipped, :none)"
                        " ADD invoices :n"
                    ),
                    "ExpressionAttributeNames": {"#date": "date"},
                    "ExpressionAttributeValues": to_attributes(
                        {
                            ":entity": "reminder_run",
                            ":org": run.organisation_id,
                            ":date": run.date.isoformat(),
                            ":zero": 0,
                            ":none": {},
                            ":n": run.invoices,
                        }
                    ),
                },
            )
        )
        try:
            transaction.commit()
        except AlreadyDone:
            return False
        return True

    def get_run(self, organisation_id: str, day: date) -> ReminderRun | None:
        item: Item | None = self._table.get(_pk(organisation_id), f"REMINDERRUN#{day.isoformat()}")
        return reminder_run_of(item) if item else None

    def organisations(self, organisation_ids: list[str]) -> dict[str, Organisation]:
        return organisations_by_id(self._table, organisation_ids)


# Present once every open invoice stored before the reminder index has been rescheduled onto it.
_REMINDER_INDEX_DONE = ("SCHEMA#reminder_index", "SCHEMA")


def organisations_before_the_reminder_index(table: DynamoTable) -> list[str] | None:
    """The organisations with open invoices stored before the reminder index (they still carry the
    older `INVOICE_DUE#` keys), for the reminders to reschedule; None once a run has finished (one
    read, no scan). The caller marks it finished with `mark_reminder_index_done`.
    """
    if table.get(*_REMINDER_INDEX_DONE):
        return None
    stale = table.scan(
        "#e = :invoice AND #s = :open AND begins_with(GSI1PK, :old)",
        {"#e": "entity", "#s": "status"},
        {":invoice": "invoice", ":open": "open", ":old": "INVOICE_DUE#"},
    )
    return sorted({str(item["organisation_id"]) for item in stale})


def mark_reminder_index_done(table: DynamoTable) -> None:
    marker = {"PK": _REMINDER_INDEX_DONE[0], "SK": _REMINDER_INDEX_DONE[1], "entity": "schema_marker"}
    table.write([Write("Put", put(marker))])
