"""The customer portal's pages (`/p/{organisation id}`), rendered with Jinja2 from
`templates/portal/` in the customer's language and the organisation's branding.

Like the hosted invoice page they extend, the pages hold no script and work without it; every
value a user typed is autoescaped.
"""

from __future__ import annotations

from remit.adapters.html_rendering import BrandPalette, _JinjaRenderer, _safe_url
from remit.domain.organisation import Organisation

_NEUTRAL_COLOUR = "#374151"


def _(text: str) -> str:
    """Marks a word for extraction (`make messages`); the templates translate it when shown."""
    return text


#: The words the portal's handlers give its pages (titles, notices, labels), in English: each page
#: shows them through `_()` in the customer's language.
PAGE_WORDS = (
    _("Not found"),
    _("Your invoices"),
    _("Your billing details"),
    _("Your saved cards"),
    _("This form has expired"),
    _("This form has expired; please try again."),
    _("Reload the page and try again."),
    _("Enter an email address."),
    _("Too many sign-in links were asked for. Try again in 15 minutes."),
    _("This invoice cannot be paid by card"),
    _("These invoices cannot be paid together"),
    _("These invoices cannot be paid by card"),
    _("Nothing to pay"),
    _("Tick the invoices you want to pay."),
    _("A card cannot be added now"),
    _("Try again in a moment"),
    _("The service is busy."),
    _("Something went wrong"),
    _("Please try again later."),
    _("Thank you: your payment is being processed."),
    _("Your changes were saved."),
    _("Invoices and receipts"),
    _("Updates"),
    _("Legal notices"),
    _("Succeeded"),
    _("Failed"),
    _("Refunded"),
    _("Pending"),
)


class JinjaPortalPages(_JinjaRenderer):
    """`page(...)` renders one portal template for one organisation, in `locale`."""

    def page(self, locale: str, template: str, organisation: Organisation | None, **context: object) -> str:
        """The HTML of `portal/<template>`; without an organisation (an unknown portal), neutral."""
        brand_colour = organisation.branding.brand_colour if organisation else None
        return self._render(
            locale,
            f"portal/{template}",
            organisation=organisation,
            brand=BrandPalette.of(brand_colour or _NEUTRAL_COLOUR),
            logo_url=_safe_url(organisation.branding.logo_url) if organisation else None,
            **context,
        )
