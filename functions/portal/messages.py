"""What the portal tells a customer about a problem a service found, in the customer's language.

The services word their refusals and invalid fields in English for the API, whose contract those
sentences are. The portal shows none of them: it words each problem itself, from the problem's
field and stable `code` (`FieldProblem.code`, `Conflict.code`), with one of the sentences below.
Each is a msgid of the gettext catalogs (`make messages` extracts them from here), which the page
translates when it shows it; a problem not listed here gets the generic sentence of its kind, so a
new service message never reaches the customer in English. No sentence interpolates anything: not
what the customer typed, not another invoice's number.
"""

from __future__ import annotations

from collections.abc import Iterable

from remit.domain.errors import Conflict, FieldProblem


def _(text: str) -> str:
    """Marks a sentence for extraction (`make messages`); the page translates it when shown."""
    return text


#: The billing-details fields a problem is shown next to; any other problem shows above the form.
FORM_FIELDS = (
    "address.line1",
    "address.line2",
    "address.postal_code",
    "address.city",
    "address.state",
    "address.country",
    "address",
    "tax_id",
    "contacts",
)
#: Where the details form shows a problem that names none of its fields.
FORM = "form"

#: A billing-details problem by (field, code); (field, None) words any other code of that field.
FIELD_PROBLEMS: dict[tuple[str, str | None], str] = {
    ("address.line1", None): _("Enter a shorter address line."),
    ("address.line2", None): _("Enter a shorter address line."),
    ("address.postal_code", None): _("Enter a valid postal code."),
    ("address.city", None): _("Enter a shorter city name."),
    ("address.state", None): _("Enter a shorter state or region."),
    ("address.country", None): _("Enter the country as its two-letter code, such as DE or FR."),
    ("address", None): _("Check the billing address."),
    ("tax_id", None): _("Enter a valid tax ID or VAT number for the country of your billing address."),
    ("contacts", None): _("Choose only the kinds of email offered for each contact."),
}
#: A problem with a field the form has, but a code not listed above.
FIELD_PROBLEM = _("Check this field and try again.")
#: A problem with nothing the form shows.
FORM_PROBLEM = _("Some of these details cannot be saved. Check them and try again.")

#: A refusal to start paying one invoice, or several, or to add a card, by its code.
REFUSALS: dict[str, str] = {
    "invoice_not_open": _("This invoice is no longer open: there is nothing to pay."),
    "nothing_due": _("Nothing is left to pay on this invoice."),
    "no_card_provider": _("Card payments are not available at the moment."),
    "provider_refused": _("The card provider declined the request. Try again later."),
    "invoice_count": _("Choose fewer invoices to pay at once."),
    "repeated_invoice": _("Choose each invoice only once."),
    "unknown_invoice": _("One of the chosen invoices is no longer open."),
    "mixed_currencies": _("Choose invoices in one currency only: pay each currency separately."),
}
#: A refusal with no code, or one not listed above.
REFUSAL = _("This cannot be done at the moment. Try again later or contact the organisation that billed you.")

#: The 503 page of a document that could not be made now (`DocumentUnavailable`).
DOCUMENT_UNAVAILABLE = _("This document cannot be made at the moment. Try again in a few minutes.")

#: Every sentence above: each has a reviewed translation in every shipped language (tests).
SENTENCES = (
    *dict.fromkeys(FIELD_PROBLEMS.values()),
    FIELD_PROBLEM,
    FORM_PROBLEM,
    *REFUSALS.values(),
    REFUSAL,
    DOCUMENT_UNAVAILABLE,
)


def field_problems(problems: Iterable[tuple[str, str | None]]) -> dict[str, str]:
    """The sentence for each problem (field, code), keyed by the form field it is shown next to
    (`FORM` for any other); the first problem of a field wins."""
    shown: dict[str, str] = {}
    for named, code in problems:
        field = "contacts" if named.split(".")[0] in ("contacts", "contact_preferences") else named
        if field in FORM_FIELDS:
            sentence = FIELD_PROBLEMS.get((field, code)) or FIELD_PROBLEMS.get((field, None)) or FIELD_PROBLEM
            shown.setdefault(field, sentence)
        else:
            shown.setdefault(FORM, FORM_PROBLEM)
    return shown


def of_problems(problems: Iterable[FieldProblem]) -> dict[str, str]:
    """`field_problems` of a service's `InvalidInput` problems."""
    return field_problems((problem.field, problem.code) for problem in problems)


def refusal(code: str | None) -> str:
    """The sentence for a refusal's code; the generic one for any other."""
    return REFUSALS.get(code or "", REFUSAL)


def of_conflict(error: Conflict) -> str:
    return refusal(error.code)


def of_invalid_payment(problems: Iterable[FieldProblem]) -> str:
    """The sentence for the first problem of paying several invoices (`InvalidInput`)."""
    return next((refusal(problem.code) for problem in problems), REFUSAL)
