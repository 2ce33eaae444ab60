"""Invoice and credit note emails and the hosted invoice page, rendered with Jinja2 from `templates/`.

HTML templates (`.html`) are autoescaped: every name, description and memo comes from a user and is
shown to another. Plain-text bodies (`.txt`) are not escaped, since they are never read as markup.
Jinja2 and babel load on first render only, so importing this module costs a cold start nothing.
"""

from __future__ import annotations

import gettext
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from remit.adapters.document_text import (
    address_lines,
    grouped_iban,
    long_date,
    plain_decimal,
    reason_labels,
    settlement_rows,
)
from remit.adapters.localization import format_locale, text_direction, translations
from remit.domain.documents import (
    DEFAULT_BRAND_COLOUR,
    CreditNoteDocument,
    EmailKind,
    InvoiceDocument,
    RenderedEmail,
)
from remit.domain.payment import Payment
from remit.domain.reminders import ReminderStep

if TYPE_CHECKING:
    from jinja2 import Environment

TEMPLATES_DIR = Path(__file__).parent / "templates"

_HEX_COLOUR = re.compile(r"^#[0-9A-Fa-f]{6}$")
_WHITE = "#FFFFFF"
_NEAR_BLACK = "#111111"
_BLACK = "#000000"
_NEUTRAL_COLOUR = "#374151"
# WCAG 2.x AA for normal text.
MINIMUM_CONTRAST = 4.5

# ---------------------------------------------------------------------------------------------
# Brand colours that stay readable


def relative_luminance(colour: str) -> float:
    """WCAG relative luminance of a `#RRGGBB` colour: 0 for black, 1 for white."""
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast_ratio(first: str, second: str) -> float:
    """WCAG contrast ratio of two `#RRGGBB` colours, from 1 (same) to 21 (black on white)."""
    lighter, darker = sorted((relative_luminance(first), relative_luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def text_colour_on(background: str) -> str:
    """White or near-black, whichever reads better on `background`, always at least 4.5:1.

    Near-black is softer than black, but on a few mid-tones (around #767676) only pure black still
    reaches 4.5:1, so it is the fallback.
    """
    best = max((_WHITE, _NEAR_BLACK), key=lambda text: contrast_ratio(text, background))
    if contrast_ratio(best, background) >= MINIMUM_CONTRAST:
        return best
    return _BLACK


def ink_on_white(colour: str) -> str:
    """`colour`, darkened just enough to be readable as text and outlines on a white page."""
    red, green, blue = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    for step in range(21):
        keep = 1 - step / 20
        candidate = f"#{round(red * keep):02X}{round(green * keep):02X}{round(blue * keep):02X}"
        if contrast_ratio(candidate, _WHITE) >= MINIMUM_CONTRAST:
            return candidate
    return _BLACK


@dataclass(frozen=True)
class BrandPalette:
    """The colours a rendering uses: the brand colour, the text on it, and brand-tinted text on white."""

    colour: str
    on_colour: str
    ink: str

    @classmethod
    def of(cls, brand_colour: str) -> BrandPalette:
        # The domain validates the colour; this guard keeps anything else out of a style attribute.
        colour = brand_colour.upper() if _HEX_COLOUR.match(brand_colour) else DEFAULT_BRAND_COLOUR
        return cls(colour=colour, on_colour=text_colour_on(colour), ink=ink_on_white(colour))


# ---------------------------------------------------------------------------------------------
# Labels, amounts and dates in the reader's language


def status_labels(gettext: Callable[[str], str]) -> dict[str, str]:
    return {
        "draft": gettext("Draft"),
        "open": gettext("Open"),
        "paid": gettext("Paid"),
        "void": gettext("Void"),
        "uncollectible": gettext("Uncollectible"),
    }


def credit_note_status_labels(gettext: Callable[[str], str]) -> dict[str, str]:
    return {"issued": gettext("Issued"), "void": gettext("Void")}


def payment_method_labels(gettext: Callable[[str], str]) -> dict[str, str]:
    return {
        "card": gettext("Card"),
        "bank_transfer": gettext("Bank transfer"),
        "cheque": gettext("Cheque"),
        "cash": gettext("Cash"),
        "other": gettext("Other"),
    }


def _safe_url(url: str | None) -> str | None:
    """Only web addresses become links or images (never `javascript:` or `data:`)."""
    if url and url.lower().startswith(("https://", "http://")):
        return url
    return None


def _environment(locale: str) -> Environment:
    """An environment whose gettext, amounts and dates are `locale`'s (one per locale and process)."""
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    from remit.adapters.money_format import format_money

    environment = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=True, default=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        extensions=["jinja2.ext.i18n"],
    )
    # `{% trans %}` blocks are extracted with `trimmed = true` (babel.cfg): their msgids are one line.
    environment.policies["ext.i18n.trimmed"] = True
    catalog = translations(locale)
    # New-style gettext: `_("Invoice %(number)s", number=…)` formats, and escapes the values in HTML.
    environment.install_gettext_translations(catalog, newstyle=True)  # type: ignore[attr-defined]
    formats = format_locale(locale)
    environment.filters.update(
        money=lambda amount, currency: format_money(amount, currency, locale=formats),
        long_date=lambda day: long_date(day, formats),
        plain_number=plain_decimal,
        grouped=grouped_iban,
        address_lines=lambda address: address_lines(address, formats),
    )
    environment.globals.update(
        language=locale,
        direction=text_direction(locale),
        status_labels=status_labels(catalog.gettext),
        credit_note_status_labels=credit_note_status_labels(catalog.gettext),
        reason_labels=reason_labels(catalog.gettext),
        payment_method_labels=payment_method_labels(catalog.gettext),
    )
    return environment


class _JinjaRenderer:
    def __init__(self) -> None:
        self._environments: dict[str, Environment] = {}

    def _render(self, locale: str, template_name: str, **context: object) -> str:
        environment = self._environments.get(locale)
        if environment is None:
            environment = self._environments[locale] = _environment(locale)
        return environment.get_template(template_name).render(**context)


def _document_context(document: InvoiceDocument) -> dict[str, object]:
    payable = document.status in {"open", "uncollectible"} and document.amount_due > 0
    return {
        "document": document,
        "brand": BrandPalette.of(document.brand_colour),
        "logo_url": _safe_url(document.logo_url),
        "hosted_url": _safe_url(document.hosted_url),
        "pdf_url": _safe_url(document.pdf_url),
        "payable": payable,
        # How to pay offline is only useful while something is left to pay.
        "bank_transfer": document.bank_transfer if payable else None,
        "cheque": document.cheque if payable else None,
        "credit_notes": [(note, _safe_url(note.pdf_url)) for note in document.credit_notes],
    }


def _one_line(text: str) -> str:
    """A subject is one header line: names with line breaks must not add headers."""
    return " ".join(text.split())


# ---------------------------------------------------------------------------------------------
# The adapters


def reminder_phrase(reminder: ReminderStep, catalog: gettext.NullTranslations) -> str:
    """As the email says it: "due in 3 days", "15 days overdue" (in the catalog's language)."""
    if reminder.when == "before":
        phrase = catalog.ngettext("due in %(num)d day", "due in %(num)d days", reminder.days)
    else:
        phrase = catalog.ngettext("%(num)d day overdue", "%(num)d days overdue", reminder.days)
    return phrase % {"num": reminder.days}


class JinjaEmailRenderer(_JinjaRenderer):
    """Branded HTML and plain-text emails about an invoice (`remit.ports.mail.EmailRenderer`), in the
    document's locale.
    """

    def render(
        self,
        kind: EmailKind,
        document: InvoiceDocument,
        payment: Payment | None = None,
        reminder: ReminderStep | None = None,
        credit_note: CreditNoteDocument | None = None,
    ) -> RenderedEmail:
        """Subject and bodies of `kind`; a payment receipt needs the `payment`, a reminder its step and
        a credit note email the `credit_note` (`ValueError` without).
        """
        catalog = translations(document.locale)
        _ = catalog.gettext
        context = _document_context(document)
        names = {"number": document.number, "seller": document.seller.name}
        if kind == "invoice":
            subject = _("Invoice %(number)s from %(seller)s") % names
        elif kind == "void_notice":
            subject = _("Invoice %(number)s from %(seller)s has been voided") % names
        elif kind == "payment_receipt":
            if payment is None:
                raise ValueError("a payment receipt needs the payment it acknowledges")
            subject = _("Payment received for invoice %(number)s") % names
            context["payment"] = payment
        elif kind == "reminder":
            if reminder is None:
                raise ValueError("a reminder needs the step it reminds of")
            when = reminder_phrase(reminder, catalog)
            subject = _("Reminder: invoice %(number)s from %(seller)s is %(when)s") % {**names, "when": when}
            context["reminder"] = reminder
            context["reminder_phrase"] = when
        elif kind == "credit_note":
            if credit_note is None:
                raise ValueError("a credit note email needs the credit note")
            subject = _("Credit note %(number)s from %(seller)s") % {**names, "number": credit_note.number}
            context["credit_note"] = credit_note
            context["settlement"] = settlement_rows(credit_note, _)
            context["credit_note_pdf_url"] = _safe_url(credit_note.pdf_url)
        else:
            raise ValueError(f"unknown email kind {kind!r}")
        context["subject"] = _one_line(subject)
        return RenderedEmail(
            subject=_one_line(subject),
            html=self._render(document.locale, f"email/{kind}.html", **context),
            text=self._render(document.locale, f"email/{kind}.txt", **context),
        )

    def render_portal_sign_in(
        self, locale: str, seller: str, brand_colour: str | None, link: str, minutes: int
    ) -> RenderedEmail:
        """The email that carries a customer's one-time portal sign-in link, in `locale`."""
        _ = translations(locale).gettext
        subject = _one_line(_("Sign in to %(seller)s's billing portal") % {"seller": seller})
        context = {
            "subject": subject,
            "seller": seller,
            "brand": BrandPalette.of(brand_colour or _NEUTRAL_COLOUR),
            "link": link,
            "minutes": minutes,
        }
        return RenderedEmail(
            subject=subject,
            html=self._render(locale, "email/portal_sign_in.html", **context),
            text=self._render(locale, "email/portal_sign_in.txt", **context),
        )


class JinjaHostedPageRenderer(_JinjaRenderer):
    """The public invoice page behind `/i/{token}` (`remit.ports.documents.HostedPageRenderer`), in the
    document's locale.
    """

    def invoice_page(self, document: InvoiceDocument, notice: str | None = None) -> str:
        return self._render(
            document.locale, "hosted/invoice.html", notice=notice, **_document_context(document)
        )

    def not_found_page(self) -> str:
        # No organisation is known (and none may be revealed): a neutral palette, in English.
        return self._render("en", "hosted/not_found.html", brand=BrandPalette.of(_NEUTRAL_COLOUR))
