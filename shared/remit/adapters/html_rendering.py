"""Invoice emails and the hosted invoice page, rendered with Jinja2 from `templates/`.

HTML templates (`.html`) are autoescaped: every name, description and memo comes from a user and is
shown to another. Plain-text bodies (`.txt`) are not escaped, since they are never read as markup.
Jinja2 and babel load on first render only, so importing this module costs a cold start nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from remit.adapters.document_text import address_lines, grouped_iban, long_date, plain_decimal
from remit.domain.documents import DEFAULT_BRAND_COLOUR, EmailKind, InvoiceDocument, RenderedEmail
from remit.domain.payment import Payment
from remit.domain.reminders import ReminderStep

if TYPE_CHECKING:
    from jinja2 import Environment

TEMPLATES_DIR = Path(__file__).parent / "templates"
LOCALE = "en_GB"

_HEX_COLOUR = re.compile(r"^#[0-9A-Fa-f]{6}$")
_WHITE = "#FFFFFF"
_NEAR_BLACK = "#111111"
_BLACK = "#000000"
_NEUTRAL_COLOUR = "#374151"
# WCAG 2.x AA for normal text.
MINIMUM_CONTRAST = 4.5

STATUS_LABELS = {
    "draft": "Draft",
    "open": "Open",
    "paid": "Paid",
    "void": "Void",
    "uncollectible": "Uncollectible",
}
PAYMENT_METHOD_LABELS = {
    "card": "Card",
    "bank_transfer": "Bank transfer",
    "cheque": "Cheque",
    "cash": "Cash",
    "other": "Other",
}


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
# Filters: how amounts, dates and numbers read


def _money(amount: int, currency: str) -> str:
    from remit.adapters.money_format import format_money

    return format_money(amount, currency, locale=LOCALE)


def _safe_url(url: str | None) -> str | None:
    """Only web addresses become links or images (never `javascript:` or `data:`)."""
    if url and url.lower().startswith(("https://", "http://")):
        return url
    return None


def _environment() -> Environment:
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    environment = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=True, default=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    environment.filters.update(
        money=_money,
        long_date=long_date,
        plain_number=plain_decimal,
        grouped=grouped_iban,
        address_lines=address_lines,
    )
    environment.globals.update(
        status_labels=STATUS_LABELS,
        payment_method_labels=PAYMENT_METHOD_LABELS,
    )
    return environment


class _JinjaRenderer:
    def __init__(self) -> None:
        self._environment: Environment | None = None

    def _render(self, template_name: str, **context: object) -> str:
        if self._environment is None:
            self._environment = _environment()
        return self._environment.get_template(template_name).render(**context)


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
    }


def _one_line(text: str) -> str:
    """A subject is one header line: names with line breaks must not add headers."""
    return " ".join(text.split())


# ---------------------------------------------------------------------------------------------
# The adapters


class JinjaEmailRenderer(_JinjaRenderer):
    """Branded HTML and plain-text emails about an invoice (`remit.ports.EmailRenderer`)."""

    def render(
        self,
        kind: EmailKind,
        document: InvoiceDocument,
        payment: Payment | None = None,
        reminder: ReminderStep | None = None,
    ) -> RenderedEmail:
        """Subject and bodies of `kind`; a payment receipt needs the `payment` and a reminder its
        step (`ValueError` without).
        """
        context = _document_context(document)
        seller = document.seller.name
        if kind == "invoice":
            subject = f"Invoice {document.number} from {seller}"
        elif kind == "void_notice":
            subject = f"Invoice {document.number} from {seller} has been voided"
        elif kind == "payment_receipt":
            if payment is None:
                raise ValueError("a payment receipt needs the payment it acknowledges")
            subject = f"Payment received for invoice {document.number}"
            context["payment"] = payment
        elif kind == "reminder":
            if reminder is None:
                raise ValueError("a reminder needs the step it reminds of")
            subject = f"Reminder: invoice {document.number} from {seller} is {reminder.describe()}"
            context["reminder"] = reminder
        else:
            raise ValueError(f"unknown email kind {kind!r}")
        context["subject"] = _one_line(subject)
        return RenderedEmail(
            subject=_one_line(subject),
            html=self._render(f"email/{kind}.html", **context),
            text=self._render(f"email/{kind}.txt", **context),
        )


class JinjaHostedPageRenderer(_JinjaRenderer):
    """The public invoice page behind `/i/{token}` (`remit.ports.HostedPageRenderer`)."""

    def invoice_page(self, document: InvoiceDocument, notice: str | None = None) -> str:
        return self._render("hosted/invoice.html", notice=notice, **_document_context(document))

    def not_found_page(self) -> str:
        # No organisation is known (and none may be revealed): a neutral palette.
        return self._render("hosted/not_found.html", brand=BrandPalette.of(_NEUTRAL_COLOUR))
