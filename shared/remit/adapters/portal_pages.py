"""The customer portal's pages (`/p/{organisation id}`), rendered with Jinja2 from
`templates/portal/` in the customer's language and the organisation's branding.

Like the hosted invoice page they extend, the pages hold no script and work without it; every
value a user typed is autoescaped.
"""

from __future__ import annotations

from remit.adapters.html_rendering import BrandPalette, _JinjaRenderer, _safe_url
from remit.domain.organisation import Organisation

_NEUTRAL_COLOUR = "#374151"


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
