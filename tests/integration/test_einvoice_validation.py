"""The offline EN 16931 validator against the official example documents, and against attacks.

Every document goes through the validator the local stack and the tests use: one child process
holding the engine (Saxon-HE with the rules, lxml with the XSD), started once for the module.
The official examples of each rule set must be `valid: true` in their format; a copy tampered so
that one rule breaks must fail with that rule's id; malformed XML, an XXE or an entity bomb is
refused as invalid without reading a file or expanding anything.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from lxml import etree

from remit.adapters.process_einvoice_validator import ProcessEinvoiceValidator
from remit.domain.einvoices import EinvoiceFormat, ValidationReport

EXAMPLES = Path(__file__).resolve().parent.parent / "fixtures" / "einvoices"
NS = {
    "rsm": "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100",
    "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100",
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
}


@pytest.fixture(scope="module")
def validator() -> Iterator[ProcessEinvoiceValidator]:
    process = ProcessEinvoiceValidator()
    yield process
    process.close()


def _examples(folder: str, pattern: str = "*.xml") -> list[Path]:
    found = sorted((EXAMPLES / folder).glob(pattern))
    assert found, f"no example documents in {folder}"
    return found


def _ids(report: ValidationReport) -> set[str]:
    return {rule.rule for rule in report.failed_rules}


def _tampered(path: Path, change: str, ns_path: str, value: str | None = None) -> bytes:
    """`path`'s document with the first element at `ns_path` removed or its text set to `value`."""
    tree = etree.parse(str(path))
    element = tree.xpath(ns_path, namespaces=NS)[0]
    if change == "remove":
        element.getparent().remove(element)
    else:
        element.text = value
    return etree.tostring(tree, xml_declaration=True, encoding="UTF-8")


# -- the official examples pass -------------------------------------------------------------------


@pytest.mark.parametrize("path", _examples("en16931-cii"), ids=lambda path: path.name)
def test_cen_cii_examples_are_valid_factur_x(validator: ProcessEinvoiceValidator, path: Path) -> None:
    report = validator.validate("facturx", path.read_bytes())

    assert report.valid, report.failed_rules
    assert report.failed_rules == []
    assert report.rule_sets == ["XSD CII D16B", "XSD Factur-X 1.09 EN16931", "EN16931-CII 1.3.16"]


@pytest.mark.parametrize("path", _examples("en16931-ubl"), ids=lambda path: path.name)
def test_cen_ubl_examples_break_no_en16931_rule(validator: ProcessEinvoiceValidator, path: Path) -> None:
    # CEN's UBL examples are plain EN 16931 (no Peppol or XRechnung identifiers, which those rule
    # sets then ask for): the XSD and every EN 16931 rule (BR-…) pass.
    report = validator.validate("peppol_ubl", path.read_bytes())

    assert report.rule_sets[1:] == ["EN16931-UBL 1.3.16", "Peppol BIS Billing 3.0.19"]
    assert not [rule for rule in report.failed_rules if rule.rule == "XSD" or rule.rule.startswith("BR-")]


@pytest.mark.parametrize("path", _examples("peppol"), ids=lambda path: path.name)
def test_peppol_examples_are_valid_peppol(validator: ProcessEinvoiceValidator, path: Path) -> None:
    report = validator.validate("peppol_ubl", path.read_bytes())

    assert report.valid, report.failed_rules
    assert report.rule_sets[0] in ("XSD UBL 2.1 Invoice", "XSD UBL 2.1 CreditNote")
    assert report.rule_sets[1:] == ["EN16931-UBL 1.3.16", "Peppol BIS Billing 3.0.19"]


@pytest.mark.parametrize("path", _examples("xrechnung", "*_uncefact.xml"), ids=lambda path: path.name)
def test_xrechnung_cii_examples_are_valid(validator: ProcessEinvoiceValidator, path: Path) -> None:
    report = validator.validate("xrechnung_cii", path.read_bytes())

    assert report.valid, report.failed_rules
    assert report.rule_sets == ["XSD CII D16B", "EN16931-CII 1.3.16", "XRechnung-CII 2.5.0"]


@pytest.mark.parametrize("path", _examples("xrechnung", "*_ubl.xml"), ids=lambda path: path.name)
def test_xrechnung_ubl_examples_are_valid(validator: ProcessEinvoiceValidator, path: Path) -> None:
    report = validator.validate("xrechnung_ubl", path.read_bytes())

    assert report.valid, report.failed_rules
    assert report.rule_sets == ["XSD UBL 2.1 Invoice", "EN16931-UBL 1.3.16", "XRechnung-UBL 2.5.0"]


def test_warnings_are_reported_and_leave_the_document_valid(validator: ProcessEinvoiceValidator) -> None:
    report = validator.validate(
        "xrechnung_cii", (EXAMPLES / "xrechnung" / "01.01a-INVOICE_uncefact.xml").read_bytes()
    )

    assert report.valid
    assert report.warnings
    assert all(rule.severity == "warning" for rule in report.warnings)
    assert all(rule.rule and rule.message and rule.location for rule in report.warnings)


# -- tampered copies fail with the right rule ------------------------------------------------------


def test_a_changed_cii_line_amount_breaks_br_co_10(validator: ProcessEinvoiceValidator) -> None:
    document = _tampered(
        EXAMPLES / "en16931-cii" / "CII_example1.xml",
        "set",
        "//ram:IncludedSupplyChainTradeLineItem[1]//ram:SpecifiedTradeSettlementLineMonetarySummation/ram:LineTotalAmount",
        "9999.99",
    )

    report = validator.validate("facturx", document)

    assert not report.valid
    assert "BR-CO-10" in _ids(report)
    broken = next(rule for rule in report.failed_rules if rule.rule == "BR-CO-10")
    assert broken.severity == "fatal"
    assert "BR-CO-10" in broken.message
    assert broken.location


def test_a_changed_ubl_line_amount_breaks_br_co_10(validator: ProcessEinvoiceValidator) -> None:
    document = _tampered(
        EXAMPLES / "peppol" / "base-example.xml",
        "set",
        "//cac:InvoiceLine[1]/cbc:LineExtensionAmount",
        "9999.99",
    )

    report = validator.validate("peppol_ubl", document)

    assert not report.valid
    assert "BR-CO-10" in _ids(report)


@pytest.mark.parametrize(
    ("einvoice_format", "example", "buyer_reference"),
    [
        (
            "xrechnung_cii",
            "01.01a-INVOICE_uncefact.xml",
            "//ram:ApplicableHeaderTradeAgreement/ram:BuyerReference",
        ),
        ("xrechnung_ubl", "01.01a-INVOICE_ubl.xml", "/*/cbc:BuyerReference"),
    ],
)
def test_xrechnung_without_buyer_reference_breaks_br_de_15(
    validator: ProcessEinvoiceValidator, einvoice_format: EinvoiceFormat, example: str, buyer_reference: str
) -> None:
    document = _tampered(EXAMPLES / "xrechnung" / example, "remove", buyer_reference)

    report = validator.validate(einvoice_format, document)

    assert not report.valid
    assert "BR-DE-15" in _ids(report)


def test_the_same_document_is_valid_en16931_but_not_xrechnung(validator: ProcessEinvoiceValidator) -> None:
    # CEN's example has no buyer reference: EN 16931 (Factur-X) accepts it, XRechnung does not.
    document = (EXAMPLES / "en16931-cii" / "CII_example4.xml").read_bytes()

    assert validator.validate("facturx", document).valid
    xrechnung = validator.validate("xrechnung_cii", document)
    assert not xrechnung.valid
    assert "BR-DE-15" in _ids(xrechnung)


def test_an_xsd_failure_stops_before_the_rules(validator: ProcessEinvoiceValidator) -> None:
    tree = etree.parse(str(EXAMPLES / "xrechnung" / "01.01a-INVOICE_ubl.xml"))
    root = tree.getroot()
    stray = etree.SubElement(root, f"{{{NS['cbc']}}}NoSuchElement")
    stray.text = "x"

    report = validator.validate("xrechnung_ubl", etree.tostring(tree))

    assert not report.valid
    assert _ids(report) == {"XSD"}
    assert report.rule_sets == ["XSD UBL 2.1 Invoice"]
    assert any("NoSuchElement" in rule.message for rule in report.failed_rules)


def test_a_document_in_the_other_syntax_fails_the_xsd(validator: ProcessEinvoiceValidator) -> None:
    ubl = (EXAMPLES / "xrechnung" / "01.01a-INVOICE_ubl.xml").read_bytes()

    report = validator.validate("xrechnung_cii", ubl)

    assert not report.valid
    assert _ids(report) == {"XSD"}
    assert "CrossIndustryInvoice" in report.failed_rules[0].message


def test_the_facturx_profile_xsd_is_checked_too(validator: ProcessEinvoiceValidator) -> None:
    # A CII element the D16B schema allows but Factur-X's EN16931 profile does not.
    tree = etree.parse(str(EXAMPLES / "en16931-cii" / "CII_example1.xml"))
    document_header = tree.xpath("/rsm:CrossIndustryInvoice/rsm:ExchangedDocument", namespaces=NS)[0]
    name = etree.Element(f"{{{NS['ram']}}}Name")
    name.text = "Rechnung"
    document_header.insert(1, name)  # after ram:ID, where D16B allows a document name
    document = etree.tostring(tree)

    xrechnung = validator.validate("xrechnung_cii", document)
    facturx = validator.validate("facturx", document)

    assert "XSD" not in _ids(xrechnung)
    assert not facturx.valid
    assert _ids(facturx) == {"XSD"}
    assert facturx.rule_sets == ["XSD CII D16B", "XSD Factur-X 1.09 EN16931"]


# -- malformed and hostile documents ---------------------------------------------------------------


@pytest.mark.parametrize("document", [b"", b"<Invoice", b"not xml at all", b"<a></b>"])
def test_malformed_xml_is_invalid(validator: ProcessEinvoiceValidator, document: bytes) -> None:
    report = validator.validate("peppol_ubl", document)

    assert not report.valid
    assert _ids(report) == {"XML"}
    assert report.rule_sets == []


def test_an_external_entity_is_neither_read_nor_fetched(
    validator: ProcessEinvoiceValidator, tmp_path: Path
) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("CANARY-7f3a9e")
    invoice = (EXAMPLES / "peppol" / "base-example.xml").read_text(encoding="utf-8")
    body = invoice[invoice.index("<Invoice") :].replace("<cbc:Note>", "<cbc:Note>&xxe;", 1)
    document = (
        '<?xml version="1.0"?>\n'
        f'<!DOCTYPE Invoice [<!ENTITY xxe SYSTEM "file://{secret}">'
        '<!ENTITY net SYSTEM "http://169.254.169.254/latest/meta-data/">]>\n' + body
    ).encode()

    report = validator.validate("peppol_ubl", document)

    assert not report.valid
    assert _ids(report) == {"XML"}
    assert "DOCTYPE" in report.failed_rules[0].message
    assert "CANARY" not in report.model_dump_json()


def test_an_entity_bomb_is_refused_without_expanding(validator: ProcessEinvoiceValidator) -> None:
    entities = ['<!ENTITY lol0 "lollollollollollollollollollol">']
    entities += [f'<!ENTITY lol{n} "{f"&lol{n - 1};" * 10}">' for n in range(1, 10)]
    document = (
        '<?xml version="1.0"?>\n<!DOCTYPE Invoice [' + "".join(entities) + "]>\n"
        '<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2">&lol9;</Invoice>'
    ).encode()
    started = time.monotonic()

    report = validator.validate("peppol_ubl", document)

    assert time.monotonic() - started < 5
    assert not report.valid
    assert _ids(report) == {"XML"}
    assert len(report.model_dump_json()) < 10_000


def test_an_external_dtd_is_refused(validator: ProcessEinvoiceValidator) -> None:
    document = (
        b'<?xml version="1.0"?>\n<!DOCTYPE Invoice SYSTEM "http://127.0.0.1:9/evil.dtd">\n'
        b'<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"/>'
    )

    report = validator.validate("peppol_ubl", document)

    assert not report.valid
    assert _ids(report) == {"XML"}


def test_an_oversized_document_is_not_read(validator: ProcessEinvoiceValidator) -> None:
    document = b'<Invoice xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2">' + b" " * (5 << 20)

    report = validator.validate("peppol_ubl", document + b"</Invoice>")

    assert not report.valid
    assert _ids(report) == {"XML"}
    assert "larger than" in report.failed_rules[0].message
