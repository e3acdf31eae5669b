"""Disagreements across inventory rows and forms, each planted alone in a tiny rule base: the
finding, its kind and severity, both rules with their quotes, and a witness that reproduces; a
declared one (`erkende_bronverschillen`, with a quote from each source) is information."""

from __future__ import annotations

from datetime import date

from engine.checks.audit import audit_directory
from tests.test_audit import FEES, GOAL, SRC, SRC2, facts, finding, kb_dir, problems

PEILDATUM = date(2026, 11, 22)
S001 = "bron: {bestand: 001_656115d499998806.txt, citaat: leges}"
S002 = "bron: {bestand: 002_b3255643ce0e7bad.txt, citaat: leges}"

TWO_FORMS = (
    facts("a")
    + FEES.replace(
        '  "1234": {label: formulier, bron: {bestand: 001_656115d499998806.txt, citaat: formulier}}\n',
        '  "1234": {label: formulier, bron: {bestand: 001_656115d499998806.txt, citaat: formulier}}\n'
        '  "5678": {label: ander formulier, bron: {bestand: 002_b3255643ce0e7bad.txt, citaat: formulier}}\n',
    )
    + f"""
leges:
  - {{id: G1, label: basis, formulier: "1234", bedrag: basis, {S001}}}
  - {{id: G1.a, label: a volgens 001, uitzondering_op: G1, formulier: "1234", bedrag: laag, van_toepassing_als: a, {S001}}}
  - {{id: E1, label: a volgens 002, formulier: "5678", bedrag: nul, van_toepassing_als: a, {S002}}}
"""
)

ACK = """
erkende_bronverschillen:
  - id: het_verschil
    label: het verschil
    bevindingen: [KEY]
    citaten:
      - {bestand: 001_656115d499998806.txt, citaat: "Deze aanvraag kost € 174."}
      - {bestand: 002_b3255643ce0e7bad.txt, citaat: "Deze aanvraag kost € 207."}
    toelichting: de bronnen verschillen echt
"""


def test_fee_rules_of_two_sources_and_forms_for_the_same_applicant_with_other_amounts_are_a_disagreement(tmp_path):
    path = kb_dir(tmp_path, TWO_FORMS)
    report = audit_directory(path, PEILDATUM)
    key = "bronverschil/formulieren/E1/G1.a"
    assert problems(report) == {key}
    f = finding(report, key)
    assert f.kind == "bronverschil" and f.severity == "waarschuwing"
    assert [r["id"] for r in f.rules] == ["E1", "G1.a"] and all(r["source"]["quote"] for r in f.rules)
    (w,) = f.witnesses
    assert w.applicant == {"a": True} and w.verified and "€ 50,00" in f.message and "€ 0,00" in f.message


def test_a_declared_disagreement_with_both_quotes_is_information(tmp_path):
    path = kb_dir(tmp_path, TWO_FORMS + ACK.replace("KEY", "bronverschil/formulieren/E1/G1.a"))
    report = audit_directory(path, PEILDATUM)
    f = finding(report, "bronverschil/formulieren/E1/G1.a")
    assert f.severity == "info" and problems(report) == set()
    assert "Gedeclareerd als bronverschil het_verschil" in f.message and "€ 207" in f.message


def test_a_declared_disagreement_the_audit_does_not_find_is_reported(tmp_path):
    path = kb_dir(tmp_path, TWO_FORMS + ACK.replace("KEY", "bronverschil/formulieren/E1/G9"))
    report = audit_directory(path, PEILDATUM)
    assert "verklaring_zonder_bevinding/bronverschil/formulieren/E1/G9" in problems(report)


def test_rules_of_two_sources_and_rows_concluding_one_thing_from_a_shared_fact_differently_are_reported(tmp_path):
    path = kb_dir(
        tmp_path,
        facts("a", "b")
        + GOAL
        + f"""
regels:
  - {{id: C1, label: p volgens 003, conclusie: p, voorwaarden: {{alle: [a, b]}}, {SRC}}}
  - {{id: B1, label: p volgens 004, conclusie: p, voorwaarden: a, {SRC2}}}
""",
    )
    report = audit_directory(path, PEILDATUM)
    key = "bronverschil/rijen/B1/C1"
    f = finding(report, key)
    assert f.kind == "bronverschil" and f.severity == "waarschuwing" and key in problems(report)
    (w,) = f.witnesses  # only 004 says yes without b; 003 never says yes where 004 says no
    assert w.applicant == {"a": True, "b": False} and w.verified and "volgens B1 (bron 004) wel" in w.label


def test_two_sources_naming_other_forms_for_one_goal_in_one_situation_are_reported(tmp_path):
    path = kb_dir(
        tmp_path,
        facts("a", "b")
        + GOAL
        + FEES.split("parameters:")[0]
        + '  "5678": {label: ander, bron: {bestand: 002_b3255643ce0e7bad.txt, citaat: formulier}}\n'
        + f"""
regels:
  - {{id: C1, label: p, conclusie: p, voorwaarden: a, {SRC}}}
  - {{id: C2, label: formulier 1234, soort: gevolg, formulier: "1234", conclusie: c2, voorwaarden: a, doelen: [doel], {SRC}}}
  - {{id: B2, label: formulier 5678, soort: gevolg, formulier: "5678", conclusie: b2, voorwaarden: b, doelen: [doel], {SRC2}}}
""",
    )
    report = audit_directory(path, PEILDATUM)
    f = finding(report, "bronverschil/gevolgen/B2/C2")
    assert f.severity == "waarschuwing" and "formulier 5678" in f.message and "formulier 1234" in f.message
    (w,) = f.witnesses
    assert w.applicant == {"a": True, "b": True} and w.verified


def test_a_rule_of_one_source_about_a_route_another_source_governs_is_compared_with_its_rules(tmp_path):
    path = kb_dir(
        tmp_path,
        facts("a", "b")
        + GOAL
        + f"""
regels:
  - {{id: C1, label: p volgens 003, conclusie: p, voorwaarden: {{alle: [a, b]}}, {SRC}}}
  - {{id: B1, label: wie a is hoort bij het doel, conclusie: q, voorwaarden: a, verwijzing: zie het doel 'doel', {SRC2}}}
""",
    )
    report = audit_directory(path, PEILDATUM)
    f = finding(report, "bronverschil/andere_bron/B1/C1")
    assert f.severity == "waarschuwing" and "dat bron 003 regelt" in f.message
    (w,) = f.witnesses
    assert w.applicant == {"a": True, "b": False} and w.verified
