"""How pages write amounts, dates and moments: in the organisation's locale and time zone, with the
same Babel formatting as the documents (`remit.adapters.localization`, `remit.adapters.money_format`).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from babel.dates import format_date

from dashboard.forms import major_units
from remit.adapters.localization import format_locale
from remit.adapters.money_format import format_money
from remit.domain.values import currency_exponent

if TYPE_CHECKING:
    from remit.domain.organisation import Organisation


def babel_locale(organisation: Organisation | None) -> str:
    """The Babel locale the organisation's pages are written in."""
    return format_locale(organisation.locale if organisation else "en")


def money(amount: int | None, currency: str, organisation: Organisation | None = None) -> str:
    """Minor units as the organisation's locale writes amounts of `currency` ("1.234,56 €")."""
    return format_money(amount or 0, currency, babel_locale(organisation))


def major(amount: int | None, currency: str) -> str:
    """Minor units as a form shows them, in the major unit ("19.99")."""
    return major_units(amount or 0, currency_exponent(currency))


def local_time(moment: datetime | None, organisation: Organisation | None = None) -> str:
    """A moment in the organisation's time zone, with the zone's abbreviation."""
    if moment is None:
        return ""
    zone = ZoneInfo(organisation.timezone if organisation else "UTC")
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")


def local_date(day: date | datetime | None, organisation: Organisation | None = None) -> str:
    """A date in the organisation's locale (a moment first moved to its time zone)."""
    if day is None:
        return ""
    if isinstance(day, datetime):
        day = day.astimezone(ZoneInfo(organisation.timezone if organisation else "UTC")).date()
    return str(format_date(day, format="medium", locale=babel_locale(organisation)))
