"""The gettext catalogs are complete: every word a customer can be shown has a reviewed translation
in every shipped language, and the template (`remit.pot`) is what Babel extracts today.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from portal.messages import SENTENCES
from remit.adapters.localization import LOCALES_DIRECTORY, SHIPPED_LANGUAGES, catalog_path, translations

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = LOCALES_DIRECTORY / "remit.pot"


def msgids(path: Path) -> set[str | tuple[str, ...]]:
    with path.open("rb") as source:
        return {message.id for message in read_po(source) if message.id}


def test_the_template_holds_exactly_what_babel_extracts_from_the_code_and_templates() -> None:
    with (ROOT / "babel.cfg").open() as config:
        method_map, options_map = parse_mapping_cfg(config)
    extracted = {message[2] for message in extract_from_dir(str(ROOT), method_map, options_map)}

    assert extracted == msgids(TEMPLATE), "run `make messages` and translate the new words"


@pytest.mark.parametrize("language", SHIPPED_LANGUAGES)
def test_every_word_has_a_reviewed_translation(language: str) -> None:
    with catalog_path(language).open("rb") as source:
        catalog = read_po(source, locale=language)

    assert {message.id for message in catalog if message.id} == msgids(TEMPLATE)
    for message in catalog:
        if not message.id:
            continue
        forms = message.string if isinstance(message.string, tuple) else (message.string,)
        assert not message.fuzzy, f"{language}: {message.id!r} is fuzzy (awaiting review)"
        assert len(forms) == catalog.num_plurals or not isinstance(message.id, tuple), message.id
        assert all(form.strip() for form in forms), f"{language}: {message.id!r} is not translated"
        assert not list(message.check(catalog)), f"{language}: {message.id!r}: placeholders differ"


@pytest.mark.parametrize("language", [language for language in SHIPPED_LANGUAGES if language != "en"])
def test_every_sentence_the_portal_words_for_a_service_is_translated_not_copied(language: str) -> None:
    # The portal shows its own sentence for each problem a service finds (`portal.messages`):
    # a customer reading another language never meets the English one.
    catalog = translations(language)
    assert [sentence for sentence in SENTENCES if catalog.gettext(sentence) == sentence] == []
