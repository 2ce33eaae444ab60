"""The domain's errors. The API maps each kind to one HTTP status (see functions/api/problems.py)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from remit.domain.einvoices import EinvoiceFormat, FailedRule


@dataclass(frozen=True)
class FieldProblem:
    """One invalid input field, named by its dotted path (`address.country`); `rule` names the
    official rule it breaks when the problem is an e-invoice's (`BR-DE-15`). `code` names its kind
    in a stable word (`string_too_long`, `value_error`, `invoice_not_open`) for a reader that words
    it itself (the portal, in the customer's language); the API shows `message`, never `code`."""

    field: str
    message: str
    rule: str | None = None
    code: str | None = dataclass_field(default=None, compare=False)


class DomainError(Exception):
    """Base of every error a service raises on purpose."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class Unauthenticated(DomainError):
    """No API key, or one that belongs to no account."""


class NotFound(DomainError):
    """The resource does not exist, or belongs to another account (existence is not revealed)."""

    def __init__(self, resource: str, resource_id: str) -> None:
        super().__init__(f"No {resource} with id '{resource_id}'.")
        self.resource = resource
        self.resource_id = resource_id


class InvalidInput(DomainError):
    """One or more fields are invalid; nothing was changed."""

    def __init__(self, problems: list[FieldProblem], detail: str | None = None) -> None:
        summary = "; ".join(f"{p.field}: {p.message}" for p in problems)
        super().__init__(detail or f"Invalid fields: {summary}")
        self.problems = problems

    @classmethod
    def single(cls, field_name: str, message: str, code: str | None = None) -> InvalidInput:
        return cls([FieldProblem(field_name, message, code=code)], detail=f"{field_name}: {message}")


class TooLarge(InvalidInput):
    """A body or file larger than Remit takes (413); nothing was read further or changed."""


class EinvoiceRefused(InvalidInput):
    """The e-invoice a finalization or credit note would produce breaks rules of its format (422):
    nothing was locked or numbered. Each failed rule is a problem naming the Remit field that causes
    it when known (else `einvoice`), with the rule's id.
    """

    def __init__(self, einvoice_format: EinvoiceFormat, failed_rules: Sequence[FailedRule]) -> None:
        rules = ", ".join(f"{rule.rule} ({rule.field})" if rule.field else rule.rule for rule in failed_rules)
        super().__init__(
            [FieldProblem(rule.field or "einvoice", rule.message, rule.rule) for rule in failed_rules],
            detail=f"The {einvoice_format} e-invoice would break {len(failed_rules)} rule(s): {rules}.",
        )
        self.einvoice_format = einvoice_format
        self.failed_rules = list(failed_rules)


class Conflict(DomainError):
    """The action is not allowed in the resource's current state, or clashes with another resource.

    `code` names the refusal in a stable word (`invoice_not_open`, `no_card_provider`) where a
    reader words it itself (the portal, in the customer's language); the API shows `detail`.
    """

    def __init__(
        self, detail: str, problems: list[FieldProblem] | None = None, *, code: str | None = None
    ) -> None:
        super().__init__(detail)
        self.problems = problems or []
        self.code = code


class AlreadyDone(Conflict):
    """A marker exists: the period, monthly invoice or run item was done by an earlier attempt."""


class ConcurrentUpdate(DomainError):
    """Another writer changed the item between our read and our conditional write; retry from the read."""

    def __init__(self, detail: str = "The resource was changed by another request; try again.") -> None:
        super().__init__(detail)


class InvalidSignature(DomainError):
    """A webhook whose signature is missing, wrong or too old, or that nothing could verify (no such
    organisation, no card provider): refused (400), nothing changes. Unless a verified body proves
    the sender holds the secret, the detail is always the same, so that a stranger learns nothing.
    """

    UNVERIFIED = "The Stripe-Signature header is missing, wrong or too old."

    def __init__(self, detail: str = UNVERIFIED) -> None:
        super().__init__(detail)


class UnrenderableText(DomainError):
    """Text that no font of the invoice PDF can draw: the PDF is refused (422), never drawn with gaps.

    Each problem names a field and the characters (as `U+1F600`) that it holds and no font has.
    """

    def __init__(self, problems: list[FieldProblem]) -> None:
        summary = "; ".join(f"{p.field}: {p.message}" for p in problems)
        super().__init__(f"The invoice PDF cannot draw some characters, so none was made: {summary}")
        self.problems = problems


class DocumentUnavailable(DomainError):
    """A document that could not be produced: its failure is remembered, and no request tries again
    until `retry_after` seconds have passed (answered 503 with `Retry-After`).
    """

    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


class NotPermitted(DomainError):
    """The caller's role (or read-only API key) does not allow the action; nothing was changed.

    Answered `403`: the caller already reaches the resource (another account's things are still
    `NotFound`), it is the action that is refused.
    """
