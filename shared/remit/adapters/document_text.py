"""How every rendering (PDF, emails, hosted page) writes dates, numbers, IBANs and addresses, so
the customer reads the same facts the same way everywhere. babel is imported on first use.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal

from remit.adapters.money_format import DEFAULT_LOCALE
from remit.domain.credit_notes import CreditNoteReason
from remit.domain.documents import CreditNoteDocument
from remit.domain.values import Address

# Countries that write "City, ST 12345", and those that give the postcode a line of its own;
# everywhere else writes "12345 City".
POSTCODE_AFTER_CITY = {"US", "CA", "AU"}
POSTCODE_OWN_LINE = {"GB", "IE"}


def long_date(day: date, locale: str = DEFAULT_LOCALE) -> str:
    """ "22 November 2026" (en_GB), "22. November 2026" (de_DE), "2026年11月22日" (ja_JP)."""
    from babel.dates import format_date

    return str(format_date(day, format="long", locale=locale))


def plain_decimal(value: Decimal) -> str:
    """A quantity or rate as a person writes it: "2", "2.5", "1,000", never "2.500" or "1E+3"."""
    return f"{value.normalize():,f}"


def grouped_iban(iban: str) -> str:
    """The IBAN in groups of four, as printed on paper (ISO 13616)."""
    compact = iban.replace(" ", "")
    return " ".join(compact[index : index + 4] for index in range(0, len(compact), 4))


def country_name(code: str, locale: str = DEFAULT_LOCALE) -> str:
    from babel import Locale

    return str(Locale.parse(locale).territories.get(code, code))


def address_lines(address: Address | None, locale: str = DEFAULT_LOCALE) -> list[str]:
    """The address as its country writes it on an envelope, ending with the country's name (in
    `locale`'s language: the reader's).
    """
    if address is None:
        return []
    lines = [line for line in (address.line1, address.line2) if line]
    city, state, postcode = address.city or "", address.state or "", address.postal_code or ""
    if address.country in POSTCODE_AFTER_CITY:
        lines.append(", ".join(part for part in (city, f"{state} {postcode}".strip()) if part))
    elif address.country in POSTCODE_OWN_LINE:
        lines.extend(part for part in (city, state, postcode) if part)
    else:
        lines.extend(part for part in (f"{postcode} {city}".strip(), state) if part)
    if address.country:
        lines.append(country_name(address.country, locale))
    return [line for line in lines if line]


def reason_labels(gettext: Callable[[str], str]) -> dict[CreditNoteReason, str]:
    """Why a credit note was issued, as its documents say it."""
    return {
        "duplicate": gettext("Duplicate invoice"),
        "fraudulent": gettext("Fraudulent charge"),
        "order_change": gettext("Change to the order"),
        "product_unsatisfactory": gettext("Product or service unsatisfactory"),
        "other": gettext("Other correction"),
    }


def settlement_rows(document: CreditNoteDocument, gettext: Callable[[str], str]) -> list[tuple[str, int]]:
    """How the credited total is settled, as (wording, amount): only the ways that carry an amount."""
    rows = [
        (
            gettext("Taken off the amount due on invoice %(number)s") % {"number": document.invoice_number},
            document.pre_payment_amount,
        ),
        (gettext("Refunded"), document.refund_amount),
        (gettext("Added to your credit balance"), document.credit_amount),
        (gettext("Settled separately"), document.out_of_band_amount),
    ]
    return [(wording, amount) for wording, amount in rows if amount]
