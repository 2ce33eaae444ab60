"""Which fonts draw an invoice PDF's text, and the refusal of text that no font can draw.

DejaVu Sans (vendored in `fonts/`) draws Latin, Greek and Cyrillic, and every label. A character it
lacks falls back, in this order, to Noto Sans, Noto Sans Arabic, Hebrew, Thai, Devanagari and Noto
Sans CJK (Japanese, Chinese, Korean), which `make fonts` copies from Debian's packages into
`fonts/noto/` (docs/documents.md). A fallback is registered only when the document's text needs it,
so a Latin invoice never opens the 19 MB CJK collection and draws exactly as before. Arabic and Hebrew
are kept off DejaVu Sans, which has some of their letters: one font per script joins and orders them.

A character that no font of the chain has is never drawn as an empty box: `UnrenderableText` names it.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from remit.domain.errors import FieldProblem, UnrenderableText

if TYPE_CHECKING:
    from fpdf import FPDF

FONT_DIRECTORY = Path(__file__).parent / "fonts"
NOTO_DIRECTORY = FONT_DIRECTORY / "noto"
PRIMARY = "DejaVuSans"
PRIMARY_FILES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf"}

# Characters that lay text out rather than being drawn: fpdf2 breaks lines on them.
_LAYOUT_CHARACTERS = frozenset("\n\r\t")

# Arabic (with its supplements and presentation forms) and Hebrew: right to left, drawn in Noto.
_RIGHT_TO_LEFT = ((0x0590, 0x08FF), (0xFB1D, 0xFDFF), (0xFE70, 0xFEFF))
# Scripts whose letters change shape or order with their neighbours: shaped with HarfBuzz.
_SHAPED = (*_RIGHT_TO_LEFT, (0x0900, 0x097F), (0xA8E0, 0xA8FF), (0x0E00, 0x0E7F))
_KANA = ((0x3040, 0x30FF), (0x31F0, 0x31FF), (0xFF66, 0xFF9F))
_HANGUL = ((0x1100, 0x11FF), (0x3130, 0x318F), (0xAC00, 0xD7AF))


@dataclass(frozen=True)
class Fallback:
    """A Noto family; `bold` None means its regular weight also draws bold text."""

    family: str
    regular: str
    bold: str | None = None
    # The face of a collection (.ttc) to draw with, by the text's script; see `_cjk_face`.
    collection: bool = False


FALLBACKS: tuple[Fallback, ...] = (
    Fallback("NotoSans", "NotoSans-Regular.ttf", "NotoSans-Bold.ttf"),
    Fallback("NotoSansArabic", "NotoSansArabic-Regular.ttf", "NotoSansArabic-Bold.ttf"),
    Fallback("NotoSansHebrew", "NotoSansHebrew-Regular.ttf", "NotoSansHebrew-Bold.ttf"),
    Fallback("NotoSansThai", "NotoSansThai-Regular.ttf", "NotoSansThai-Bold.ttf"),
    Fallback("NotoSansDevanagari", "NotoSansDevanagari-Regular.ttf", "NotoSansDevanagari-Bold.ttf"),
    # One collection covers the three languages; only the regular weight ships (docs/documents.md).
    Fallback("NotoSansCJK", "NotoSansCJK-Regular.ttc", collection=True),
)
# Faces of NotoSansCJK-Regular.ttc: the same characters, each drawn in its language's forms.
CJK_JAPANESE, CJK_KOREAN, CJK_SIMPLIFIED_CHINESE = 0, 1, 2


def _within(code_point: int, ranges: Iterable[tuple[int, int]]) -> bool:
    return any(low <= code_point <= high for low, high in ranges)


def _cjk_face(text: str) -> int:
    """Kana make the text Japanese, Hangul Korean; Han characters alone are drawn in Chinese forms."""
    code_points = [ord(char) for char in text]
    if any(_within(code_point, _KANA) for code_point in code_points):
        return CJK_JAPANESE
    if any(_within(code_point, _HANGUL) for code_point in code_points):
        return CJK_KOREAN
    return CJK_SIMPLIFIED_CHINESE


@cache
def _cmap(path: Path, face: int = 0) -> frozenset[int]:
    """The code points a font file has glyphs for (read once per process: only the cmap table)."""
    from fontTools.ttLib import TTFont

    with TTFont(str(path), fontNumber=face, lazy=True) as font:
        return frozenset(font.getBestCmap())


def _primary_cmap() -> frozenset[int]:
    return _cmap(FONT_DIRECTORY / PRIMARY_FILES[""])


@dataclass
class FontChain:
    """The fonts one document draws with: DejaVu Sans first, then the fallbacks its text needs."""

    fallbacks: list[Fallback] = field(default_factory=list)
    right_to_left: bool = False
    shaped: bool = False
    cjk_face: int = CJK_JAPANESE

    def covers(self, code_point: int) -> bool:
        if code_point in _primary_cmap() and not (self.right_to_left and _within(code_point, _RIGHT_TO_LEFT)):
            return True
        return any(code_point in self._cmap_of(fallback) for fallback in self.fallbacks)

    def _cmap_of(self, fallback: Fallback) -> frozenset[int]:
        return _cmap(NOTO_DIRECTORY / fallback.regular, self.cjk_face if fallback.collection else 0)

    def fallback_for(self, code_point: int) -> Fallback | None:
        """The first fallback of the whole chain that has the character (registered or not)."""
        return next((fallback for fallback in FALLBACKS if code_point in self._cmap_of(fallback)), None)


def font_chain(texts: dict[str, str], *, right_to_left: bool = False) -> FontChain:
    """The fonts that draw every text of a document, by field name; `UnrenderableText` if none can.

    The refusal names, per field, every character that no font of the chain has. `right_to_left`: the
    document's language is written right to left, so its labels are Arabic or Hebrew, drawn in Noto
    like any other text of their script even when the document's own texts have none.
    """
    everything = "".join(texts.values())
    right_to_left = right_to_left or any(_within(ord(char), _RIGHT_TO_LEFT) for char in everything)
    chain = FontChain(
        right_to_left=right_to_left,
        shaped=right_to_left or any(_within(ord(char), _SHAPED) for char in everything),
        cjk_face=_cjk_face(everything),
    )
    missing: dict[str, list[int]] = {}
    for name, text in texts.items():
        for code_point in sorted({ord(char) for char in text if char not in _LAYOUT_CHARACTERS}):
            if chain.covers(code_point):
                continue
            fallback = chain.fallback_for(code_point)
            if fallback is None:
                missing.setdefault(name, []).append(code_point)
            else:
                chain.fallbacks.append(fallback)
    if missing:
        raise UnrenderableText(
            [FieldProblem(name, f"no font can draw {_named(points)}") for name, points in missing.items()]
        )
    chain.fallbacks.sort(key=FALLBACKS.index)
    return chain


def _named(code_points: list[int]) -> str:
    return ", ".join(
        f"U+{code_point:04X} ({unicodedata.name(chr(code_point), 'unnamed')})" for code_point in code_points
    )


def register(pdf: FPDF, chain: FontChain) -> None:
    """Adds the chain's fonts to `pdf`, sets them as fallbacks and turns shaping on if a script needs it."""
    if chain.right_to_left:
        # DejaVu Sans stays off Arabic and Hebrew: their letters fall back to Noto.
        kept = [point for point in _primary_cmap() if not _within(point, _RIGHT_TO_LEFT)]
        for style, file_name in PRIMARY_FILES.items():
            pdf.add_font(PRIMARY, style, str(FONT_DIRECTORY / file_name), unicode_range=kept)
    else:
        for style, file_name in PRIMARY_FILES.items():
            pdf.add_font(PRIMARY, style, str(FONT_DIRECTORY / file_name))
    add_fallbacks(pdf, chain, chain.fallbacks)


def add_fallbacks(pdf: FPDF, chain: FontChain, fallbacks: Iterable[Fallback]) -> None:
    """Registers `fallbacks` (any not yet in `pdf`) and makes the whole chain `pdf`'s fallback fonts."""
    for fallback in fallbacks:
        if fallback.family.lower() in pdf.fonts:
            continue
        face = chain.cjk_face if fallback.collection else 0
        pdf.add_font(fallback.family, "", str(NOTO_DIRECTORY / fallback.regular), collection_font_number=face)
        if fallback.bold:
            pdf.add_font(fallback.family, "B", str(NOTO_DIRECTORY / fallback.bold))
        if fallback not in chain.fallbacks:
            chain.fallbacks.append(fallback)
    chain.fallbacks.sort(key=FALLBACKS.index)
    if chain.fallbacks:
        # A regular weight draws bold text where a family has no bold (CJK).
        pdf.set_fallback_fonts([fallback.family for fallback in chain.fallbacks], exact_match=False)
    if chain.shaped and not pdf.text_shaping:
        pdf.set_text_shaping(True)


def texts_of(value: Any, name: str = "") -> Iterator[tuple[str, str]]:
    """Every string in a dumped model, named by its dotted path (`lines.0.description`)."""
    if isinstance(value, str):
        yield name, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from texts_of(item, f"{name}.{key}" if name else str(key))
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from texts_of(item, f"{name}.{index}" if name else str(index))


def cover(pdf: FPDF, chain: FontChain, text: str) -> None:
    """Makes sure `pdf` can draw `text`: adds the fallbacks it needs, shapes it if its script wants it.

    For text the document check could not see (labels, formatted figures); `UnrenderableText` if no
    font has one of its characters.
    """
    if not pdf.text_shaping and any(ord(char) >= 0x0590 and _within(ord(char), _SHAPED) for char in text):
        chain.shaped = True
        pdf.set_text_shaping(True)
    uncovered = {char for char in text if char not in _LAYOUT_CHARACTERS and not chain.covers(ord(char))}
    if uncovered:
        needed = font_chain({"PDF text": "".join(sorted(uncovered))})
        add_fallbacks(pdf, chain, needed.fallbacks)
