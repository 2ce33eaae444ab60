"""Reading a rule set's SVRL report: which findings break the document and which only warn."""

from __future__ import annotations

from remit.adapters.einvoice_rules import parse_svrl

SVRL = """<?xml version="1.0"?>
<svrl:schematron-output xmlns:svrl="http://purl.oclc.org/dsdl/svrl">
  <svrl:active-pattern id="model"/>
  <svrl:fired-rule context="/Invoice"/>
  <svrl:failed-assert id="BR-CO-10" flag="fatal" test="x" location="/*:Invoice[1]">
    <svrl:text>[BR-CO-10]-Sum of Invoice line net amount
      = sum of line amounts.</svrl:text>
  </svrl:failed-assert>
  <svrl:failed-assert id="BR-DE-15" test="y" location="/*:Invoice[1]">
    <svrl:text>[BR-DE-15] Das Element "Buyer reference" (BT-10) muss übermittelt werden.</svrl:text>
  </svrl:failed-assert>
  <svrl:failed-assert id="PEPPOL-EN16931-R005" flag="warning" test="z" location="/*:Invoice[1]/*:Note[1]">
    <svrl:text>Only one note</svrl:text>
  </svrl:failed-assert>
  <svrl:successful-report id="BR-DE-21" flag="information" test="w" location="/*:Invoice[1]">
    <svrl:text>Specification identifier</svrl:text>
  </svrl:successful-report>
  <svrl:successful-report id="R-REPORTED" test="v" location="/*:Invoice[1]">
    <svrl:text>A report that fires is a finding too</svrl:text>
  </svrl:successful-report>
</svrl:schematron-output>""".encode()


def test_failed_asserts_and_fired_reports_are_findings_by_their_flag() -> None:
    fatal, warnings = parse_svrl(SVRL)

    assert [rule.rule for rule in fatal] == ["BR-CO-10", "BR-DE-15", "R-REPORTED"]
    assert [rule.rule for rule in warnings] == ["PEPPOL-EN16931-R005", "BR-DE-21"]
    assert {rule.severity for rule in fatal} == {"fatal"}
    assert {rule.severity for rule in warnings} == {"warning"}


def test_a_finding_keeps_its_message_in_one_line_and_its_location() -> None:
    fatal, _ = parse_svrl(SVRL)

    assert fatal[0].message == "[BR-CO-10]-Sum of Invoice line net amount = sum of line amounts."
    assert fatal[0].location == "/*:Invoice[1]"
    assert "übermittelt" in fatal[1].message


def test_a_clean_report_has_no_finding() -> None:
    clean = (
        b'<svrl:schematron-output xmlns:svrl="http://purl.oclc.org/dsdl/svrl">'
        b'<svrl:fired-rule context="/"/></svrl:schematron-output>'
    )

    assert parse_svrl(clean) == ([], [])
