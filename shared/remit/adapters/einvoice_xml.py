"""What the CII and UBL writers share: how amounts, prices, quantities and rates are written.

EN 16931 allows at most two decimals in an amount (BT-106 … BT-131); a price (BT-146) and a quantity
(BT-129) may have more. Every number is written in plain notation (never `1E+3`), and an amount with
more than two decimals is refused rather than rounded: the document's sums were decided when it was
built, and a writer that rounded would break them silently.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from lxml import etree

from remit.domain.einvoice_documents import EinvoiceDocument, PostalAddress


class UnwritableAmount(ValueError):
    """An amount the standard cannot carry (more than two decimals)."""


def amount_text(value: Decimal) -> str:
    """An amount with two decimals, as every EN 16931 example writes it ("100.00", "-5.10")."""
    exponent = value.normalize().as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2:
        raise UnwritableAmount(f"The amount {value} has more than two decimals; EN 16931 allows two.")
    return f"{value:.2f}"


def number_text(value: Decimal) -> str:
    """A price, quantity or rate in plain notation, without trailing zeros beyond what it needs."""
    text = format(value.normalize(), "f")
    return text


def date_text(value: date) -> str:
    return value.isoformat()


def address_has_street(address: PostalAddress) -> bool:
    return bool(address.line1 or address.line2)


def serialize(root: etree._Element) -> bytes:
    """The tree as UTF-8 XML with its declaration; lxml escapes every text and attribute."""
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))


def text_element(parent: etree._Element, tag: str, value: str | None, **attributes: str) -> None:
    """`<tag>value</tag>` under `parent`, or nothing when the value is empty (Peppol forbids empty
    elements, PEPPOL-EN16931-R008)."""
    if value is None or value == "":
        return
    element = etree.SubElement(parent, tag, attributes)
    element.text = value


def unique_notes(document: EinvoiceDocument) -> list[str]:
    return [note for note in document.notes if note.strip()]
