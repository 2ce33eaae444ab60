"""The offline EN 16931 validator's engine: the XSD of the syntax, then the rules, run here.

One `EinvoiceRules` loads the schemas (lxml) and compiles the rule stylesheets (Saxon-HE, XSLT 2.0)
once, then checks documents, in order, stopping after the XSD when it fails:

1. the XSD: UN/CEFACT CII D16B as EN 16931 ships it for `facturx` and `xrechnung_cii` (for
   `facturx` also the Factur-X 1.09 EN16931 profile's XSD); OASIS UBL 2.1 Invoice or CreditNote
   for `xrechnung_ubl` and `peppol_ubl`;
2. EN 16931's own rules (CEN's validation artefacts 1.3.16, CII or UBL);
3. the format's rules: XRechnung's CIUS (KoSIT Schematron 2.5.0, CII or UBL) or Peppol BIS
   Billing 3.0.19. `facturx` has none beyond EN 16931 here.

Each rule stylesheet reports in SVRL; every failed assert (or fired report) becomes a `FailedRule`
named by the assert's id, and those flagged `warning` (or `information`) are warnings that leave
the document valid.

Saxon is not fork- or thread-safe: one engine belongs to one process and one thread (the
validator's child process locally, `EinvoiceValidatorFunction` on AWS). The rules live in
`einvoice_rules/` at the repository root (the rules layer's `/opt/python` on AWS; the variable
`REMIT_EINVOICE_RULES_DIR` names another place); the Schematron-sourced stylesheets are compiled
into its `build/` by `make einvoice-rules`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lxml import etree

from remit.domain.einvoices import SYNTAX, EinvoiceFormat, FailedRule, ValidationReport

if TYPE_CHECKING:
    from collections.abc import Iterable

# A document larger than this is refused before it is parsed (an invoice is tens of kilobytes); in
# base64 it still fits the 6 MB of a synchronous Lambda invocation.
MAX_DOCUMENT_BYTES = 4 * 1024 * 1024
# XSD errors reported at most (a document in the wrong syntax can break thousands of them).
MAX_XSD_ERRORS = 50

EN16931_VERSION = "1.3.16"
XRECHNUNG_VERSION = "2.5.0"
PEPPOL_VERSION = "3.0.19"

CII_NS = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
UBL_INVOICE_NS = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
UBL_CREDIT_NOTE_NS = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"
SVRL_NS = "http://purl.oclc.org/dsdl/svrl"

DEFAULT_RULES_DIR = Path(__file__).resolve().parents[3] / "einvoice_rules"


def rules_directory() -> Path:
    """Where the rules are: `REMIT_EINVOICE_RULES_DIR`, else the repository's `einvoice_rules/`."""
    configured = os.environ.get("REMIT_EINVOICE_RULES_DIR")
    return Path(configured) if configured else DEFAULT_RULES_DIR


@dataclass(frozen=True)
class _Schema:
    name: str
    path: str


@dataclass(frozen=True)
class _RuleSet:
    name: str
    path: str


# The root element each syntax accepts, as `{namespace}local-name`, and its XSD.
_CII_SCHEMA = _Schema(
    "XSD CII D16B", "en16931/cii/schema/uncefact/data/standard/CrossIndustryInvoice_100pD16B.xsd"
)
_FACTURX_SCHEMA = _Schema("XSD Factur-X 1.09 EN16931", "facturx/Factur-X_EN16931.xsd")
_UBL_SCHEMAS = {
    f"{{{UBL_INVOICE_NS}}}Invoice": _Schema("XSD UBL 2.1 Invoice", "ubl-2.1/maindoc/UBL-Invoice-2.1.xsd"),
    f"{{{UBL_CREDIT_NOTE_NS}}}CreditNote": _Schema(
        "XSD UBL 2.1 CreditNote", "ubl-2.1/maindoc/UBL-CreditNote-2.1.xsd"
    ),
}

_EN16931_CII = _RuleSet(f"EN16931-CII {EN16931_VERSION}", "en16931/cii/xslt/EN16931-CII-validation.xslt")
_EN16931_UBL = _RuleSet(f"EN16931-UBL {EN16931_VERSION}", "en16931/ubl/xslt/EN16931-UBL-validation.xslt")
_XRECHNUNG_CII = _RuleSet(f"XRechnung-CII {XRECHNUNG_VERSION}", "build/xrechnung-cii.xsl")
_XRECHNUNG_UBL = _RuleSet(f"XRechnung-UBL {XRECHNUNG_VERSION}", "build/xrechnung-ubl.xsl")
_PEPPOL_UBL = _RuleSet(f"Peppol BIS Billing {PEPPOL_VERSION}", "build/peppol-ubl.xsl")

RULE_SETS: dict[EinvoiceFormat, tuple[_RuleSet, ...]] = {
    "facturx": (_EN16931_CII,),
    "xrechnung_cii": (_EN16931_CII, _XRECHNUNG_CII),
    "xrechnung_ubl": (_EN16931_UBL, _XRECHNUNG_UBL),
    "peppol_ubl": (_EN16931_UBL, _PEPPOL_UBL),
}

# SVRL flags that do not make a document invalid.
_WARNING_FLAGS = frozenset({"warning", "information", "info"})


def _safe_parser() -> etree.XMLParser:
    """A parser that reads no DTD, expands no entity and fetches nothing (XXE, billion laughs)."""
    return etree.XMLParser(
        resolve_entities=False,
        load_dtd=False,
        dtd_validation=False,
        no_network=True,
        huge_tree=False,
        remove_comments=False,
    )


class EinvoiceRules:
    """The XSDs and the compiled rule stylesheets, loaded once; `validate` checks one document."""

    def __init__(self, rules_dir: Path | None = None) -> None:
        from saxonche import PySaxonProcessor  # ~100 MB, loaded by the validator's process only

        self.rules_dir = rules_dir or rules_directory()
        missing = [
            rule_set.path
            for rule_set in self._all_rule_sets()
            if not (self.rules_dir / rule_set.path).exists()
        ]
        if missing:
            raise FileNotFoundError(
                f"e-invoice rules missing under {self.rules_dir}: {', '.join(missing)} "
                "(run `make einvoice-rules`)"
            )
        self._schemas: dict[str, etree.XMLSchema] = {}
        for schema in (_CII_SCHEMA, _FACTURX_SCHEMA, *_UBL_SCHEMAS.values()):
            document = etree.parse(str(self.rules_dir / schema.path), _safe_parser())
            self._schemas[schema.name] = etree.XMLSchema(document)
        self._saxon: Any = PySaxonProcessor(license=False)
        compiler = self._saxon.new_xslt30_processor()
        self._stylesheets: dict[str, Any] = {}
        for rule_set in self._all_rule_sets():
            executable = compiler.compile_stylesheet(stylesheet_file=str(self.rules_dir / rule_set.path))
            if executable is None:
                raise RuntimeError(f"Saxon could not compile {rule_set.path}")
            self._stylesheets[rule_set.name] = executable

    @staticmethod
    def _all_rule_sets() -> Iterable[_RuleSet]:
        seen: dict[str, _RuleSet] = {}
        for rule_sets in RULE_SETS.values():
            for rule_set in rule_sets:
                seen.setdefault(rule_set.name, rule_set)
        return seen.values()

    def validate(self, einvoice_format: EinvoiceFormat, document: bytes) -> ValidationReport:
        """The report for `document` in `einvoice_format`; a broken document is `valid: false`."""
        checked: list[str] = []
        root, problem = self._parse(document)
        if root is None:
            return self._report(einvoice_format, [problem] if problem else [], [], checked)
        schemas = self._schemas_for(einvoice_format, root)
        if isinstance(schemas, FailedRule):
            return self._report(einvoice_format, [schemas], [], ["XSD"])
        errors: list[FailedRule] = []
        for name in schemas:
            checked.append(name)
            errors.extend(self._xsd_errors(name, root))
        if errors:
            return self._report(einvoice_format, errors, [], checked)
        warnings: list[FailedRule] = []
        # Saxon reads the document lxml parsed, re-serialised: no DOCTYPE or entity ever reaches it.
        node = self._saxon.parse_xml(xml_text=etree.tostring(root, encoding="unicode"))
        for rule_set in RULE_SETS[einvoice_format]:
            checked.append(rule_set.name)
            fatal, mild = self._run_rules(rule_set, node)
            errors.extend(fatal)
            warnings.extend(mild)
        return self._report(einvoice_format, errors, warnings, checked)

    @staticmethod
    def _report(
        einvoice_format: EinvoiceFormat,
        errors: list[FailedRule],
        warnings: list[FailedRule],
        checked: list[str],
    ) -> ValidationReport:
        return ValidationReport(
            format=einvoice_format,
            valid=not errors,
            failed_rules=errors,
            warnings=warnings,
            rule_sets=checked,
        )

    @staticmethod
    def _parse(document: bytes) -> tuple[Any, FailedRule | None]:
        if len(document) > MAX_DOCUMENT_BYTES:
            return None, FailedRule(
                rule="XML",
                message=f"The document is larger than {MAX_DOCUMENT_BYTES} bytes and was not read.",
            )
        try:
            tree = etree.ElementTree(etree.fromstring(document, _safe_parser()))
        except etree.XMLSyntaxError as error:
            return None, FailedRule(rule="XML", message=f"The document is not well-formed XML: {error}")
        docinfo = tree.docinfo
        if docinfo.doctype or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
            return None, FailedRule(
                rule="XML",
                message="The document declares a DOCTYPE; e-invoices must not (no DTD or entity is read).",
            )
        return tree.getroot(), None

    def _schemas_for(self, einvoice_format: EinvoiceFormat, root: Any) -> list[str] | FailedRule:
        tag = root.tag if isinstance(root.tag, str) else ""
        if SYNTAX[einvoice_format] == "cii":
            if tag != f"{{{CII_NS}}}CrossIndustryInvoice":
                return FailedRule(
                    rule="XSD",
                    message=f"The root element is {tag or 'not an element'}; {einvoice_format} is a CII "
                    f"rsm:CrossIndustryInvoice ({CII_NS}).",
                    location="/*",
                )
            names = [_CII_SCHEMA.name]
            if einvoice_format == "facturx":
                names.append(_FACTURX_SCHEMA.name)
            return names
        schema = _UBL_SCHEMAS.get(tag)
        if schema is None:
            return FailedRule(
                rule="XSD",
                message=f"The root element is {tag or 'not an element'}; {einvoice_format} is a UBL 2.1 "
                "Invoice or CreditNote.",
                location="/*",
            )
        return [schema.name]

    def _xsd_errors(self, name: str, root: Any) -> list[FailedRule]:
        schema = self._schemas[name]
        if schema.validate(root):
            return []
        errors = []
        for entry in list(schema.error_log)[:MAX_XSD_ERRORS]:
            errors.append(
                FailedRule(
                    rule="XSD",
                    message=f"{name}: {entry.message} (line {entry.line})",
                    location=entry.path or None,
                )
            )
        return errors

    def _run_rules(self, rule_set: _RuleSet, node: Any) -> tuple[list[FailedRule], list[FailedRule]]:
        executable = self._stylesheets[rule_set.name]
        try:
            executable.set_global_context_item(xdm_item=node)
            svrl = executable.transform_to_string(xdm_node=node)
        except Exception as error:  # Saxon raises PySaxonApiError for a dynamic error
            return [FailedRule(rule=rule_set.name, message=f"The rules could not be evaluated: {error}")], []
        if not svrl:
            return [FailedRule(rule=rule_set.name, message="The rules produced no report.")], []
        return parse_svrl(svrl.encode("utf-8"))


def parse_svrl(svrl: bytes) -> tuple[list[FailedRule], list[FailedRule]]:
    """Every failed assert and fired report of an SVRL document: (fatal ones, warnings)."""
    report = etree.fromstring(svrl, _safe_parser())
    fatal: list[FailedRule] = []
    warnings: list[FailedRule] = []
    for finding in report.iter(f"{{{SVRL_NS}}}failed-assert", f"{{{SVRL_NS}}}successful-report"):
        flag = (finding.get("flag") or "fatal").strip().lower()
        text = finding.find(f"{{{SVRL_NS}}}text")
        message = " ".join((text.xpath("string()") if text is not None else "").split())
        rule = FailedRule(
            rule=finding.get("id") or "unnamed",
            message=message or "(no message)",
            location=finding.get("location"),
            severity="warning" if flag in _WARNING_FLAGS else "fatal",
        )
        (warnings if rule.severity == "warning" else fatal).append(rule)
    return fatal, warnings
