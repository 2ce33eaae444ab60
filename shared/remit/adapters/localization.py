"""The language and formats of a customer's documents: gettext catalogs and Babel's locale data.

Catalogs are the `.po` files under `locales/<language>/LC_MESSAGES/remit.po`, written by people and
extracted from the code and templates with Babel (`make messages`). They are compiled by Babel's
own compiler (`read_po` + `write_mo`) in memory, the first time a language is needed in a process:
there is no build step and no generated file to forget, and compiling one catalog costs a few
milliseconds once per Lambda container.

A locale is a BCP 47 tag as stored ("de-DE", "ja-JP", "ar"). Its labels come from the catalog of
its exact form ("pt-BR"), else of its language ("pt"), else none (English, the msgids). Its dates
and amounts always follow the locale itself, shipped catalog or not.
"""

from __future__ import annotations

import gettext
import io
from functools import cache
from pathlib import Path

LOCALES_DIRECTORY = Path(__file__).parent / "locales"
DOMAIN = "remit"
# Languages with a complete, reviewed catalog (a test keeps them complete).
SHIPPED_LANGUAGES = ("en", "de", "fr", "es", "it", "nl", "pt", "ja", "ar")
# Remit's English documents have always read "22 November 2026": a bare "en" keeps British
# formats; "en-US" asks for "November 22, 2026".
_FORMAT_ALIASES = {"en": "en_GB"}


def format_locale(tag: str) -> str:
    """The Babel identifier whose dates and amounts a document in `tag` uses ("de-DE" -> "de_DE")."""
    from babel import Locale, UnknownLocaleError

    try:
        identifier = str(Locale.parse(tag, sep="-"))
    except (UnknownLocaleError, ValueError, TypeError):
        identifier = "en"
    return _FORMAT_ALIASES.get(identifier, identifier)


def text_direction(tag: str) -> str:
    """ "rtl" for right-to-left scripts (Arabic, Hebrew, Persian, Urdu), else "ltr"."""
    from babel import Locale, UnknownLocaleError

    try:
        return "rtl" if Locale.parse(tag, sep="-").text_direction == "rtl" else "ltr"
    except (UnknownLocaleError, ValueError, TypeError):
        return "ltr"


def catalog_path(language: str) -> Path:
    return LOCALES_DIRECTORY / language / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def translations(tag: str) -> gettext.NullTranslations:
    """The compiled catalog for `tag` (exact form first, then its language); none: the English msgids."""
    from babel import Locale, UnknownLocaleError

    try:
        locale = Locale.parse(tag, sep="-")
    except (UnknownLocaleError, ValueError, TypeError):
        return gettext.NullTranslations()
    for candidate in dict.fromkeys((str(locale), locale.language)):
        path = catalog_path(candidate)
        if path.is_file():
            return _compiled(path, candidate)
    return gettext.NullTranslations()


def _compiled(path: Path, language: str) -> gettext.GNUTranslations:
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with path.open("rb") as source:
        catalog = read_po(source, locale=language, domain=DOMAIN)
    compiled = io.BytesIO()
    # A fuzzy entry is a guess awaiting review: never shown (the English msgid is).
    write_mo(compiled, catalog, use_fuzzy=False)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)
