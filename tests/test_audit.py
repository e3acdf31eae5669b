"""The audit: each kind of defect, seeded alone into a small rule base, is reported and nothing
else of severity warning or error is; witnesses reproduce; the real rule base's findings are
pinned in tests/golden/audit.txt; the command line and the HTML report keep their shape."""

from __future__ import annotations

import gc
import html.parser
import itertools
import json
import os
import shutil
import stat
import sys
import textwrap
from datetime import date
from pathlib import Path

import html5lib
import pytest
import yaml
from click.testing import CliRunner
from dd.autoref import BDD
from hypothesis import given
from hypothesis import strategies as st

from cli import main
from engine.answer.assess import Engine
from engine.applicant.facts import parse_applicant
from engine.checks.audit import CATEGORIES, Auditor, audit_directory
from engine.checks.audit_space import bitwise
from engine.errors import KnowledgeBaseError
from engine.evaluate.symbolic import all_of, any_of
from engine.rules.model import KB_DIR
from explain import render_audit, render_audit_html
from tests.conftest import logical_lines
from tests.test_golden import check

PEILDATUM = date(2026, 11, 22)
SRC = "bron: {bestand: 003_453b3a8f2812a451.txt, citaat: Voorwaarden}"
SRC2 = "bron: {bestand: 004_4ee60f9a98cd6659.txt, citaat: Voorwaarden}"


def kb_dir(tmp_path: Path, text: str) -> Path:
    """A rule base from one file: facts, quantities, rules, goals and fees side by side."""
    (tmp_path / "regels").mkdir(parents=True, exist_ok=True)
    (tmp_path / "regels" / "r.yaml").write_text(textwrap.dedent(text), encoding="utf-8")
    return tmp_path


def facts(*names: str) -> str:
    return "feiten:\n" + "".join(f"  {n}: {{type: bool, label: {n}, vraag: {n}?, wijzigbaar: true}}\n" for n in names)


GOAL = "doelen:\n  doel: {label: doel, conclusie: p}\n"
AGE = """
  geboortedatum: {type: datum, niet_na: peildatum, label: geboortedatum, vraag: geboren?, wijzigbaar: false}
grootheden:
  leeftijd: {type: getal, label: leeftijd, functie: volle_jaren_tot_peildatum, invoer: [geboortedatum]}
  peildatum: {type: datum, label: peildatum, functie: peildatum}
"""


def audit(path: Path):
    return audit_directory(path, PEILDATUM)


def problems(report) -> set[str]:
    """Keys of the findings of severity error or warning that the rule base does not explain."""
    return {f.key for f in report.findings if f.severity in ("fout", "waarschuwing") and f.explained is None}


def finding(report, key: str):
    found = [f for f in report.findings if f.key == key]
    assert found, [f.key for f in report.findings]
    return found[0]


def reproduces_with_pyDatalog(path: Path, witness, check) -> None:
    """The witness is an applicant file that `assess` loads, and pyDatalog derives the finding from it."""
    engine = Engine(path)
    applicant = parse_applicant(engine.kb, witness.applicant)
    builder = engine.evaluate(applicant, "doel", PEILDATUM)
    assert check(builder), witness.applicant
    assert witness.verified


# -- one seeded defect per kind ---------------------------------------------------------------------


def test_a_rule_base_without_defects_gives_no_warning_or_error(tmp_path):
    path = kb_dir(
        tmp_path,
        facts("a", "b")
        + GOAL
        + f"""
regels:
  - {{id: C1, label: p, conclusie: p, voorwaarden: {{alle: [a, b]}}, {SRC}}}
  - {{id: C1.x, label: x, uitzondering_op: C1, van_toepassing_als: b, voorwaarden: a, {SRC}}}
""",
    )
    report = audit(path)
    assert problems(report) == set()
    assert not report.failed
    assert report.routes == {"checked": 1, "open_with_everything_known": []}
    assert any(
        n.startswith("Leemten in routes: voor elk doel is gezocht") and "geen gevonden" in n for n in report.notes
    )
    coverage = report.coverage[0]
    assert (coverage.yes_no_atoms, coverage.known_situations, coverage.situations) == (2, 4, 9)
    assert coverage.recomputed == 4 and coverage.recompute_exhaustive


def test_every_assumption_is_listed_with_its_basis_and_the_rules_that_rest_on_it(tmp_path):
    path = kb_dir(
        tmp_path,
        "feiten:"
        + AGE
        + GOAL
        + f"""
regels:
  - {{id: C4, label: p, conclusie: p, voorwaarden: {{niet: minderjarig}}, {SRC}}}
  - id: aanname.minderjarig
    label: minderjarig
    conclusie: minderjarig
    aanname: {{grondslag: art. 1:233 BW, reden: De bronnen zeggen niet wie minderjarig is.}}
    voorwaarden: {{waarde: leeftijd, minder_dan: 18}}
""",
    )
    report = audit(path)
    found = finding(report, "aanname/aanname.minderjarig")
    assert (found.kind, found.category, found.severity) == ("aanname", "aanname", "info")
    assert "art. 1:233 BW" in found.message and "De bronnen zeggen niet wie minderjarig is." in found.message
    # the assumption itself has no quote; the rule that rests on it is listed with its own source
    assert found.rules[0] == {"id": "aanname.minderjarig", "label": "minderjarig", "source": None}
    assert [r["id"] for r in found.rules[1:]] == ["C4"] and found.rules[1]["source"]["quote"] == "Voorwaarden"
    assert problems(report) == set()
    assert "== Aannames (1) ==" in render_audit(report)


def test_two_exceptions_that_say_opposite_things_for_one_situation_are_a_conflict_with_a_witness(tmp_path):
    path = kb_dir(
        tmp_path,
        facts("a", "b")
        + GOAL
        + f"""
regels:
  - {{id: C1, label: p, conclusie: p, voorwaarden: a, {SRC}}}
  - {{id: C1.x, label: x, uitzondering_op: C1, van_toepassing_als: b, voorwaarden: a, {SRC}}}
  - {{id: C1.y, label: y, uitzondering_op: C1, van_toepassing_als: b, voorwaarden: {{niet: a}}, {SRC}}}
""",
    )
    report = audit(path)
    assert problems(report) == {"tegenstrijdig/C1"}
    f = finding(report, "tegenstrijdig/C1")
    assert f.severity == "fout" and report.failed
    assert [r["id"] for r in f.rules] == ["C1", "C1.x", "C1.y"]
    assert f.rules[0]["source"] == {"file": "003_453b3a8f2812a451.txt", "quote": "Voorwaarden"}
    (w,) = f.witnesses
    assert set(w.applicant) == {"a", "b"} and w.applicant["b"] is True  # minimal: both are needed
    reproduces_with_pyDatalog(path, w, lambda b: b.value("p") == "conflict")


def test_a_route_that_is_eligible_and_out_of_scope_for_one_situation_is_a_conflict(tmp_path):
    path = kb_dir(
        tmp_path,
        facts("a", "b")
        + f"""
doelen:
  doel: {{label: doel, conclusie: p, buiten_bereik: q}}
regels:
  - {{id: C1, label: p, conclusie: p, voorwaarden: a, {SRC}}}
  - {{id: C2, label: q, conclusie: q, voorwaarden: b, verwijzing: elders, {SRC}}}
""",
    )
    report = audit(path)
    assert problems(report) == {"tegenstrijdig/buiten_bereik/doel"}
    (w,) = finding(report, "tegenstrijdig/buiten_bereik/doel").witnesses
    assert w.applicant == {"a": True, "b": True}
    reproduces_with_pyDatalog(path, w, lambda b: b.value("p") is True and b.value("q") is True)


FEES = """
formulieren:
  "1234": {label: formulier, bron: {bestand: 001_656115d499998806.txt, citaat: formulier}}
parameters:
  basis: {label: basis, eenheid: eurocent, waarden: [{vanaf: null, waarde: 10000, bron: {bestand: 001_656115d499998806.txt, citaat: honderd}}]}
  laag: {label: laag, eenheid: eurocent, waarden: [{vanaf: null, waarde: 5000, bron: {bestand: 001_656115d499998806.txt, citaat: vijftig}}]}
  nul: {label: nul, eenheid: eurocent, waarden: [{vanaf: null, waarde: 0, bron: {bestand: 001_656115d499998806.txt, citaat: niets}}]}
"""
FEE_SRC = "bron: {bestand: 001_656115d499998806.txt, citaat: leges}"


def test_two_fee_exceptions_of_one_source_with_different_amounts_for_one_situation_are_a_conflict(tmp_path):
    path = kb_dir(
        tmp_path,
        facts("a", "b")
        + FEES
        + f"""
leges:
  - {{id: G1, label: basis, formulier: "1234", bedrag: basis, {FEE_SRC}}}
  - {{id: G1.a, label: a, uitzondering_op: G1, formulier: "1234", bedrag: laag, van_toepassing_als: a, {FEE_SRC}}}
  - {{id: G1.b, label: b, uitzondering_op: G1, formulier: "1234", bedrag: nul, van_toepassing_als: b, {FEE_SRC}}}
""",
    )
    report = audit(path)
    assert problems(report) == {"tegenstrijdig/leges/G1.a/G1.b"}
    (w,) = finding(report, "tegenstrijdig/leges/G1.a/G1.b").witnesses
    assert w.applicant == {"a": True, "b": True} and w.verified
    assert "--form 1234" in w.command


def test_a_form_that_applies_without_any_fee_rule_is_a_gap(tmp_path):
    path = kb_dir(
        tmp_path,
        facts("a")
        + GOAL
        + FEES.split("parameters:")[0]
        + f"""
regels:
  - {{id: C1, label: p, conclusie: p, voorwaarden: a, {SRC}}}
  - {{id: C2, label: aanvragen met formulier 1234, soort: gevolg, formulier: "1234", doelen: [doel], {SRC}}}
""",
    )
    report = audit(path)
    assert problems(report) == {"leemte/leges/1234/C2"}
    f = finding(report, "leemte/leges/1234/C2")
    assert f.severity == "fout"
    assert f.witnesses[0].applicant == {"a": True}


def test_a_form_whose_only_source_speaks_about_another_situation_is_a_gap_there(tmp_path):
    path = kb_dir(
        tmp_path,
        facts("a", "b")
        + GOAL
        + FEES
        + f"""
regels:
  - {{id: C1, label: p, conclusie: p, voorwaarden: a, {SRC}}}
  - {{id: C2, label: aanvragen met formulier 1234, soort: gevolg, formulier: "1234", doelen: [doel], {SRC}}}
leges:
  - {{id: G1, label: alleen bij b, formulier: "1234", bedrag: basis, van_toepassing_als: b, {FEE_SRC}}}
""",
    )
    report = audit(path)
    assert problems(report) == {"leemte/leges/1234/C2", "ongebruikt/parameter/laag", "ongebruikt/parameter/nul"}
    (w,) = finding(report, "leemte/leges/1234/C2").witnesses
    assert w.applicant == {"a": True, "b": False} and w.verified


def test_a_cycle_of_rules_leaves_a_route_open_with_everything_known(tmp_path):
    path = kb_dir(
        tmp_path,
        facts("a")
        + GOAL
        + f"""
regels:
  - {{id: C1, label: p, conclusie: p, voorwaarden: {{alle: [a, q]}}, {SRC}}}
  - {{id: C2, label: q, conclusie: q, voorwaarden: p, {SRC}}}
""",
    )
    report = audit(path)
    # one defect, seen twice: as structure (the cycle) and as the gap it causes
    assert problems(report) == {"kringloop/C1+C2", "leemte/doel"}
    (w,) = finding(report, "leemte/doel").witnesses
    assert w.applicant == {"a": True} and w.verified
    assert report.routes == {"checked": 1, "open_with_everything_known": ["leemte/doel"]}


def test_routes_open_with_everything_known_are_searched_not_inferred_from_cycles(tmp_path, monkeypatch):
    """The search finds the gap by evaluating every situation, also when nothing tells it where to look."""
    path = kb_dir(
        tmp_path,
        facts("a")
        + GOAL
        + f"""
regels:
  - {{id: C1, label: p, conclusie: p, voorwaarden: {{alle: [a, q]}}, {SRC}}}
  - {{id: C2, label: q, conclusie: q, voorwaarden: p, {SRC}}}
""",
    )
    monkeypatch.setattr(Auditor, "cycles", lambda self: [])
    monkeypatch.setattr(Auditor, "ill_typed", lambda self: [])
    report = audit(path)
    f = finding(report, "leemte/doel")
    assert [r["id"] for r in f.rules] == ["C1"]  # the route's own rule: no cycle was named
    (w,) = f.witnesses
    assert w.applicant == {"a": True} and w.verified
    assert any("gevonden bij 1" in n for n in report.notes)


def test_a_rule_whose_conditions_no_situation_satisfies_is_dead(tmp_path):
    path = kb_dir(
        tmp_path,
        "feiten:"
        + AGE
        + GOAL
        + f"""
regels:
  - id: C1
    label: p
    conclusie: p
    {SRC}
    voorwaarden: {{alle: [{{waarde: leeftijd, minder_dan: 13}}, {{waarde: leeftijd, minstens: 18}}]}}
""",
    )
    report = audit(path)
    assert problems(report) == {"dood/C1"}
    assert not report.failed  # dead rules are warnings


AGES = "feiten:" + AGE.replace(
    "grootheden:",
    """  datum_aankomst_nederland: {type: datum, niet_voor: geboortedatum, niet_na: peildatum, label: aankomst, vraag: aankomst?,
                             wijzigbaar: false}
grootheden:
  leeftijd_bij_aankomst: {type: getal, label: leeftijd bij aankomst, functie: volle_jaren_tussen, invoer: [geboortedatum, datum_aankomst_nederland]}""",
)
IMPOSSIBLE_AGES = "{waarde: leeftijd, minder_dan: 3}, {waarde: leeftijd_bij_aankomst, minstens: 5}"


def test_a_rule_needing_ages_that_no_birth_date_gives_is_dead(tmp_path):
    # 'leeftijd' and 'leeftijd_bij_aankomst' are each satisfiable; together they need arrival before birth
    path = kb_dir(
        tmp_path,
        AGES
        + GOAL
        + f"""
regels:
  - {{id: C1, label: p, conclusie: p, {SRC}, voorwaarden: {{alle: [{IMPOSSIBLE_AGES}]}}}}
""",
    )
    report = audit(path)
    assert problems(report) == {"dood/C1"}
    assert "met geen enkele datum" in finding(report, "dood/C1").message


def test_a_goal_whose_date_classes_are_not_all_found_with_real_dates_is_not_called_exhaustive(tmp_path):
    path = kb_dir(
        tmp_path,
        AGES
        + GOAL
        + f"""
regels:
  - {{id: C1, label: p, conclusie: p, {SRC}, voorwaarden: {{een_van: [{IMPOSSIBLE_AGES}]}}}}
""",
    )
    report = audit(path)
    (c,) = report.coverage
    assert (
        not c.exhaustive and c.to_json()["exhaustive"] is False and c.to_json()["examined"] == "all_with_dated_examples"
    )
    (d,) = c.dates
    assert (d["atoms"], d["combinations"], d["with_example"]) == (["leeftijd", "leeftijd_bij_aankomst"], 4, 3)
    assert d["without_example"] == [{"leeftijd": "< 3", "leeftijd_bij_aankomst": ">= 5"}]
    text = "\n".join(logical_lines(render_audit(report).split("\n")))
    assert "4 situaties met alles bekend (9 met onbekend); NIET UITPUTTEND" in text
    assert "3 van de 4 combinaties met echte datums gevonden; zonder voorbeeld" in text
    assert "    - leeftijd: < 3, leeftijd_bij_aankomst: >= 5\n" in text
    assert "uitputtend." not in text.replace("NIET UITPUTTEND", "")
    assert "<strong>niet uitputtend</strong>" in render_audit_html(report)


def test_a_goal_whose_date_classes_are_all_found_is_exhaustive_and_the_report_counts_hidden_findings(tmp_path):
    path = kb_dir(
        tmp_path,
        "feiten:"
        + AGE
        + GOAL
        + f"""
regels:
  - {{id: C1, label: p, conclusie: p, voorwaarden: {{waarde: leeftijd, minstens: 18}}, {SRC}}}
""",
    )
    report = audit(path)
    (c,) = report.coverage
    assert c.exhaustive and c.dates[0]["with_example"] == c.dates[0]["combinations"] == 2
    assert "2 van de 2 combinaties met echte datums gevonden (alle)." in render_audit(report)
    assert report.unrealised == []
    assert any(
        n.startswith("Bevindingen die alleen bij een combinatie") and n.endswith("zonder getuige): geen.")
        for n in report.notes
    )


def test_a_conflict_only_dates_that_no_one_has_would_give_is_counted_not_reported(tmp_path):
    impossible = f"{{alle: [{IMPOSSIBLE_AGES}]}}"
    path = kb_dir(
        tmp_path,
        AGES
        + GOAL
        + f"""
regels:
  - {{id: C1, label: p, conclusie: p, voorwaarden: {{waarde: leeftijd, minstens: 3}}, {SRC}}}
  - {{id: C1.x, label: x, uitzondering_op: C1, van_toepassing_als: {impossible}, voorwaarden: {{waarde: leeftijd, minstens: 3}}, {SRC}}}
  - {{id: C1.y, label: y, uitzondering_op: C1, van_toepassing_als: {impossible}, voorwaarden: {{waarde: leeftijd, minder_dan: 3}}, {SRC}}}
""",
    )
    report = audit(path)
    assert "tegenstrijdig/C1" not in problems(report)
    assert report.unrealised == ["tegenstrijdig/C1"]
    assert any(n.endswith("zonder getuige): 1: tegenstrijdig/C1.") for n in report.notes)
    assert "met geen enkele datum kon maken" in finding(report, "nooit_van_toepassing/C1.x").message


def test_an_exception_that_never_applies_is_reported(tmp_path):
    path = kb_dir(
        tmp_path,
        facts("a", "b")
        + GOAL
        + f"""
regels:
  - {{id: C1, label: p, conclusie: p, voorwaarden: a, {SRC}}}
  - {{id: C1.x, label: x, uitzondering_op: C1, van_toepassing_als: {{alle: [b, {{niet: b}}]}}, {SRC}}}
""",
    )
    assert problems(audit(path)) == {"nooit_van_toepassing/C1.x"}


def test_a_rule_that_an_exception_always_overrides_is_reported(tmp_path):
    path = kb_dir(
        tmp_path,
        facts("a", "b")
        + GOAL
        + f"""
regels:
  - {{id: C1, label: p, conclusie: p, voorwaarden: a, {SRC}}}
  - {{id: C1.x, label: x, uitzondering_op: C1, van_toepassing_als: {{een_van: [b, {{niet: b}}]}}, voorwaarden: b, {SRC}}}
""",
    )
    assert problems(audit(path)) == {"altijd_opzij/C1"}


def test_a_fee_exception_that_a_declared_precedence_always_sets_aside_is_reported(tmp_path):
    """The order of declaration decides nothing (both exceptions are followed); a `gaat_voor` that
    always sets an exception aside leaves it never deciding."""
    same = FEES.replace("waarde: 0, bron", "waarde: 5000, bron")  # one amount: no conflict, only the shadow
    rules = f"""
leges:
  - {{id: G1, label: basis, formulier: "1234", bedrag: basis, {FEE_SRC}}}
  - {{id: G1.a, label: a, uitzondering_op: G1, formulier: "1234", bedrag: laag, van_toepassing_als: a, {FEE_SRC}GAAT_VOOR}}
  - {{id: G1.b, label: b, uitzondering_op: G1, formulier: "1234", bedrag: nul, van_toepassing_als: {{alle: [a, b]}}, {FEE_SRC}}}
"""
    unordered = kb_dir(tmp_path / "zonder", facts("a", "b") + same + rules.replace("GAAT_VOOR", ""))
    assert problems(audit(unordered)) == set()
    declared = kb_dir(
        tmp_path / "met",
        facts("a", "b")
        + same
        + rules.replace(
            "GAAT_VOOR",
            ", gaat_voor: {regels: [G1.b], reden: omdat, bron: {bestand: 001_656115d499998806.txt, citaat: leges}}",
        ),
    )
    assert problems(audit(declared)) == {"overschaduwd/G1.b"}


def test_a_rule_subsumed_by_another_with_the_same_conclusion_is_redundant(tmp_path):
    path = kb_dir(
        tmp_path,
        facts("a", "b")
        + GOAL
        + f"""
regels:
  - {{id: C1, label: p, conclusie: p, voorwaarden: a, {SRC}}}
  - {{id: C2, label: p, conclusie: p, voorwaarden: {{alle: [a, b]}}, {SRC}}}
""",
    )
    report = audit(path)
    assert problems(report) == {"overbodig/C2/C1"}
    assert [r["id"] for r in finding(report, "overbodig/C2/C1").rules] == ["C2", "C1"]


def test_a_source_disagreement_is_information_with_a_witness_each_way(tmp_path):
    path = kb_dir(
        tmp_path,
        facts("a", "b")
        + GOAL
        + f"""
regels:
  - {{id: C1, label: volgens 003, conclusie: p1, voorwaarden: a, {SRC}}}
  - {{id: B1, label: volgens 004, conclusie: p2, voorwaarden: {{alle: [a, b]}}, {SRC2}}}
bronverschillen:
  - {{id: B1+C1, label: onderwerp, conclusie: p, regels: [B1, C1], toelichting: 003 en 004 verschillen}}
""",
    )
    report = audit(path)
    assert problems(report) == set()
    f = finding(report, "bronverschil/B1+C1")
    # no precedence orders 003 and 004 in this seeded rule base: the finding says the answer stays open
    assert f.severity == "info" and f.message == (
        "003 en 004 verschillen. Er is geen voorrang vastgelegd (kb/voorrang.yaml): waar zij verschillen, "
        "blijft het antwoord onbepaald."
    )
    (w,) = f.witnesses  # B1 never holds where C1 does not
    assert w.applicant == {"a": True, "b": False} and w.label == "volgens C1 wel, volgens B1 niet"
    reproduces_with_pyDatalog(path, w, lambda b: b.value("p1") is True and b.value("p2") is False)


def test_a_source_disagreement_whose_rules_never_differ_is_a_warning(tmp_path):
    path = kb_dir(
        tmp_path,
        facts("a")
        + GOAL
        + f"""
regels:
  - {{id: C1, label: volgens 003, conclusie: p1, voorwaarden: a, {SRC}}}
  - {{id: B1, label: volgens 004, conclusie: p2, voorwaarden: a, {SRC2}}}
bronverschillen:
  - {{id: B1+C1, label: onderwerp, conclusie: p, regels: [B1, C1]}}
""",
    )
    assert problems(audit(path)) == {"bronverschil/B1+C1"}


def test_two_sources_concluding_one_predicate_differently_without_a_source_disagreement_are_reported(tmp_path):
    path = kb_dir(
        tmp_path,
        facts("a", "b")
        + GOAL
        + f"""
regels:
  - {{id: C1, label: volgens 003, conclusie: p, voorwaarden: a, {SRC}}}
  - {{id: C1.b, label: volgens 004, conclusie: p, voorwaarden: b, {SRC2}}}
""",
    )
    report = audit(path)
    assert problems(report) == {"bronverschil/ongedeclareerd/C1/C1.b"}
    f = finding(report, "bronverschil/ongedeclareerd/C1/C1.b")
    assert f.severity == "waarschuwing" and [r["id"] for r in f.rules] == ["C1", "C1.b"]
    assert [(w.label, w.applicant) for w in f.witnesses] == [
        ("volgens C1 (bron 003) wel, volgens C1.b (bron 004) niet", {"a": True, "b": False}),
        ("volgens C1.b (bron 004) wel, volgens C1 (bron 003) niet", {"a": False, "b": True}),
    ]
    reproduces_with_pyDatalog(
        path, f.witnesses[0], lambda b: b.value("rule_C1") is True and b.value("rule_C1_b") is False
    )
    reproduces_with_pyDatalog(
        path, f.witnesses[1], lambda b: b.value("rule_C1_b") is True and b.value("rule_C1") is False
    )


def test_rules_of_two_inventory_rows_concluding_one_predicate_are_two_routes_not_a_source_disagreement(tmp_path):
    """E13 (002) and F10 (001) both lead to humanitair tijdelijk: separate routes, each its own row."""
    path = kb_dir(
        tmp_path,
        facts("a", "b")
        + GOAL
        + f"""
regels:
  - {{id: C1, label: volgens 003, conclusie: p, voorwaarden: a, {SRC}}}
  - {{id: B1, label: volgens 004, conclusie: p, voorwaarden: b, {SRC2}}}
""",
    )
    assert not [f for f in audit(path).findings if f.key.startswith("bronverschil/ongedeclareerd/")]


@pytest.mark.parametrize(
    "second, joined, expected",
    [
        ("{alle: [a, b]}", False, {"bronverschil/ongedeclareerd/C1/C1.b"}),  # one row, one fact, another answer
        ("b", False, set()),  # one row, separate cases: nothing read in common
        ("{alle: [a, {een_van: [b, {niet: b}]}]}", False, set()),  # two sources, the same answer everywhere
        ("{alle: [a, b]}", True, set()),  # declared: the proof shows the difference
    ],
)
def test_two_sources_coding_one_inventory_row_differently_are_reported_unless_declared(
    tmp_path, second, joined, expected
):
    path = kb_dir(
        tmp_path,
        facts("a", "b")
        + GOAL
        + f"""
regels:
  - {{id: C1, label: volgens 003, conclusie: p1, voorwaarden: a, {SRC}}}
  - {{id: C1.b, label: volgens 004, conclusie: p2, voorwaarden: {second}, {SRC2}}}
"""
        + (
            """bronverschillen:
  - {id: C1+C1.b, label: onderwerp, conclusie: p, regels: [C1, C1.b]}
"""
            if joined
            else f"""  - {{id: C2, label: p, conclusie: p, voorwaarden: {{een_van: [p1, p2]}}, {SRC}}}
"""
        ),
    )
    report = audit(path)
    assert problems(report) == expected
    if expected:
        (w,) = finding(report, "bronverschil/ongedeclareerd/C1/C1.b").witnesses
        assert w.applicant == {"a": True, "b": False} and w.verified


def test_two_sources_with_different_fees_for_one_situation_are_information(tmp_path):
    path = kb_dir(
        tmp_path,
        facts("a")
        + FEES.replace(
            "vijftig}}]}",
            "vijftig}}]}\n  ander: {label: ander, eenheid: eurocent, waarden: [{vanaf: null, waarde: 0, bron: {bestand: 002_b3255643ce0e7bad.txt, citaat: niets}}]}",
        ).replace(
            "  nul: {label: nul, eenheid: eurocent, waarden: [{vanaf: null, waarde: 0, bron: {bestand: 001_656115d499998806.txt, citaat: niets}}]}\n",
            "",
        )
        + f"""
leges:
  - {{id: G1, label: basis, formulier: "1234", bedrag: basis, {FEE_SRC}}}
  - {{id: G1.a, label: a, uitzondering_op: G1, formulier: "1234", bedrag: laag, van_toepassing_als: a, {FEE_SRC}}}
  - {{id: E1, label: volgens 002, formulier: "1234", bedrag: ander, van_toepassing_als: a, bron: {{bestand: 002_b3255643ce0e7bad.txt, citaat: leges}}}}
""",
    )
    report = audit(path)
    # undeclared, a warning: the rule base says which differences the sources really have
    assert problems(report) == {"bronverschil/leges/1234/001/002"}
    f = finding(report, "bronverschil/leges/1234/001/002")
    assert f.severity == "waarschuwing" and [w.applicant for w in f.witnesses] == [{"a": True}]
    (path / "bronverschillen.yaml").write_text(
        "erkende_bronverschillen:\n  - id: verschil\n    label: verschil\n"
        "    bevindingen: [bronverschil/leges/1234/001/002]\n"
        '    citaten: [{bestand: 001_656115d499998806.txt, citaat: "€ 174"}, '
        '{bestand: 002_b3255643ce0e7bad.txt, citaat: "€ 207"}]\n'
        "    toelichting: de bronnen verschillen\n",
        encoding="utf-8",
    )
    report = audit(path)
    assert problems(report) == set() and finding(report, "bronverschil/leges/1234/001/002").severity == "info"


def test_a_rule_whose_period_has_ended_at_the_peildatum_is_reported_under_time(tmp_path):
    path = kb_dir(
        tmp_path,
        "feiten:\n  a: {type: bool, label: a, vraag: a?, wijzigbaar: true}\n"
        "grootheden:\n  peildatum: {type: datum, label: peildatum, functie: peildatum}\n"
        + GOAL
        + f"""
regels:
  - {{id: C1, label: p, conclusie: p, voorwaarden: a, geldig_van: 2016-04-01, geldig_tot: 2021-04-01, {SRC}}}
""",
    )
    report = audit(path)
    assert problems(report) == {"vervallen/C1"}
    assert audit_directory(path, date(2020, 1, 1)).findings == []


def test_fee_amounts_that_start_on_the_same_day_overlap(tmp_path):
    path = kb_dir(
        tmp_path,
        FEES.replace(
            "[{vanaf: null, waarde: 10000, bron: {bestand: 001_656115d499998806.txt, citaat: honderd}}]",
            "[{vanaf: null, waarde: 10000, bron: {bestand: 001_656115d499998806.txt, citaat: honderd}},"
            " {vanaf: null, waarde: 12000, bron: {bestand: 002_b3255643ce0e7bad.txt, citaat: meer}}]",
        )
        + f"""
leges:
  - {{id: G1, label: basis, formulier: "1234", bedrag: basis, {FEE_SRC}}}
  - {{id: G1.a, label: a, uitzondering_op: G1, formulier: "1234", bedrag: laag, van_toepassing_als: a, {FEE_SRC}}}
  - {{id: G1.b, label: b, uitzondering_op: G1.a, formulier: "1234", bedrag: nul, van_toepassing_als: b, {FEE_SRC}}}
"""
        + facts("a", "b"),
    )
    assert problems(audit(path)) == {"parameter_overlap/basis/ongedateerd"}


def test_fee_amounts_known_only_from_a_date_leave_a_hole_before_it(tmp_path):
    path = kb_dir(
        tmp_path,
        FEES.replace("vanaf: null, waarde: 10000", "vanaf: 2027-01-01, waarde: 10000")
        + f"""
leges:
  - {{id: G1, label: basis, formulier: "1234", bedrag: basis, {FEE_SRC}}}
  - {{id: G1.a, label: a, uitzondering_op: G1, formulier: "1234", bedrag: laag, van_toepassing_als: a, {FEE_SRC}}}
  - {{id: G1.b, label: b, uitzondering_op: G1.a, formulier: "1234", bedrag: nul, van_toepassing_als: b, {FEE_SRC}}}
"""
        + facts("a", "b"),
    )
    report = audit(path)
    assert problems(report) == {"parameter_gat/basis"}
    assert "ook niet op de peildatum" in finding(report, "parameter_gat/basis").message


def test_a_fact_no_rule_reads_is_unused(tmp_path):
    path = kb_dir(
        tmp_path,
        facts("a", "b")
        + GOAL
        + f"""
regels:
  - {{id: C1, label: p, conclusie: p, voorwaarden: a, {SRC}}}
""",
    )
    assert problems(audit(path)) == {"ongebruikt/b"}


def test_a_conclusion_nothing_reads_is_unused(tmp_path):
    path = kb_dir(
        tmp_path,
        facts("a", "b")
        + GOAL
        + f"""
regels:
  - {{id: C1, label: p, conclusie: p, voorwaarden: a, {SRC}}}
  - {{id: C2, label: q, conclusie: q, voorwaarden: b, {SRC}}}
""",
    )
    report = audit(path)
    assert problems(report) == {"ongebruikt/q"}
    assert [r["id"] for r in finding(report, "ongebruikt/q").rules] == ["C2"]


def test_a_comparison_of_a_number_with_text_is_a_structure_error(tmp_path):
    path = kb_dir(
        tmp_path,
        "feiten:"
        + AGE
        + GOAL
        + f"""
regels:
  - {{id: C1, label: p, conclusie: p, voorwaarden: {{niet: {{waarde: leeftijd, is: achttien}}}}, {SRC}}}
""",
    )
    report = audit(path)
    assert problems(report) == {"vergelijking/C1/leeftijd"}
    assert report.failed


def test_recursion_through_negation_names_nothing_to_leave_out_so_the_load_error_is_the_only_finding(tmp_path):
    rules = f"""
  - {{id: C1, label: p, conclusie: p, voorwaarden: {{alle: [a, {{niet: q}}]}}, {SRC}}}
  - {{id: C2, label: q, conclusie: q, voorwaarden: p, {SRC}}}"""
    path = kb_dir(tmp_path, facts("a") + GOAL + "regels:" + rules + "\n")
    report = audit(path)
    (f,) = report.findings
    assert f.key == "laadfout" and f.severity == "fout" and "recursie via negatie" in f.message
    assert report.failed and any("alleen de laadfouten" in n for n in report.notes)


def test_every_load_error_is_reported_and_what_does_not_depend_on_them_is_still_audited(tmp_path):
    """Two broken files: a rule reading an undeclared fact, and a file that is no YAML. Both are
    reported; the rule base without them is audited, and its own defect (a dead rule) is found."""
    path = kb_dir(
        tmp_path,
        facts("a")
        + GOAL
        + f"""
regels:
  - {{id: C1, label: p, conclusie: p, voorwaarden: a, {SRC}}}
  - {{id: C2, label: dood, conclusie: p, voorwaarden: {{alle: [a, {{niet: a}}]}}, {SRC}}}
""",
    )
    (path / "regels" / "s.yaml").write_text(
        f"regels:\n  - {{id: C3, label: q, conclusie: q, voorwaarden: onbekend_feit, {SRC}}}\n", encoding="utf-8"
    )
    (path / "regels" / "t.yaml").write_text("regels: [\n  - {id: C4\n", encoding="utf-8")
    report = audit(path)
    errors = [f for f in report.findings if f.kind == "laadfout"]
    assert [f.key for f in errors] == ["laadfout/1", "laadfout/2"]
    text = " ".join(f.message for f in errors)
    assert "'onbekend_feit' is niet gedeclareerd" in text and "geen geldige YAML" in text
    assert "C3 (regels/s.yaml)" in text and "het bestand regels/t.yaml" in text
    assert "dood/C2" in {f.key for f in report.findings}
    assert report.failed and report.coverage and report.notes[0].startswith("De kennisbank laadt niet: 2 laadfouten")
    assert (path / "regels" / "s.yaml").exists() and (path / "regels" / "t.yaml").exists()  # the copy was changed


# -- explanations -------------------------------------------------------------------------------------

DEAD = (
    facts("a")
    + GOAL
    + f"""
regels:
  - id: C1
    label: p
    conclusie: p
    {SRC}
    voorwaarden: {{alle: [a, {{niet: a}}]}}
"""
)


NOTE_SRC = "bron: {bestand: 003_453b3a8f2812a451.txt, citaat: Voorwaarden}, datum: 2026-12-07"


def fingerprint_of(path: Path, key: str, peildatum: date = PEILDATUM) -> str:
    """The fingerprint the audit prints beside a finding: what an explanation is written for."""
    return finding(audit_directory(path, peildatum), key).fingerprint


def test_a_rule_may_declare_the_finding_it_is_known_to_give(tmp_path):
    path = kb_dir(tmp_path, DEAD)
    fp = fingerprint_of(path, "dood/C1")
    note = f"    audit: {{verwacht: dood, reden: zo bedoeld, datum: 2026-12-07, vingerafdruk: '{fp}'}}\n"
    kb_dir(tmp_path, DEAD.replace("    voorwaarden:", note + "    voorwaarden:"))
    report = audit(path)
    f = finding(report, "dood/C1")
    assert f.explained == "zo bedoeld" and problems(report) == set()


def test_an_explanation_names_exactly_one_finding_and_one_without_finding_is_reported(tmp_path):
    path = kb_dir(tmp_path, DEAD)
    fp = fingerprint_of(path, "dood/C1")
    (path / "audit.yaml").write_text(
        f"audit:\n  - {{sleutel: dood/C1, vingerafdruk: '{fp}', reden: ontbreekt in de bron, {NOTE_SRC}}}\n"
        f"  - {{sleutel: tegenstrijdig/C9, vingerafdruk: '{fp}', reden: verouderd, {NOTE_SRC}}}\n",
        encoding="utf-8",
    )
    report = audit(path)
    assert finding(report, "dood/C1").explained == "ontbreekt in de bron"
    assert problems(report) == {"verklaring_zonder_bevinding/tegenstrijdig/C9"}


@pytest.mark.parametrize(
    "entry, message",
    [
        ("{sleutel: 'dood/C*', reden: r, BRON}", "precies één bevinding"),
        ("{sleutel: [dood/C1, dood/C2], reden: r, BRON}", "precies één bevinding"),
        ("{sleutel: dood/C1, reden: r, datum: 2026-12-07}", "'bron'"),
        ("{sleutel: dood/C1, reden: r, bron: {bestand: 003_453b3a8f2812a451.txt, citaat: x}}", "'datum'"),
        ("{sleutel: dood/C1, reden: r, BRON, vingerafdruk: abc}", "vingerafdruk"),
    ],
)
def test_an_explanation_with_a_pattern_or_without_quote_date_or_a_proper_fingerprint_is_refused(
    tmp_path, entry, message
):
    path = kb_dir(tmp_path, DEAD)
    (path / "audit.yaml").write_text("audit:\n  - " + entry.replace("BRON", NOTE_SRC) + "\n", encoding="utf-8")
    with pytest.raises(KnowledgeBaseError, match=message):
        Engine(path)


def test_an_explanation_stops_explaining_when_the_declarations_change_and_shows_the_old_reason(tmp_path):
    """A goal-level key cannot absorb a new defect: the reason was written for other rules."""
    path = kb_dir(tmp_path, DEAD)
    fp = fingerprint_of(path, "dood/C1")
    (path / "audit.yaml").write_text(
        f"audit:\n  - {{sleutel: dood/C1, vingerafdruk: '{fp}', reden: de bron spreekt zich tegen, {NOTE_SRC}}}\n",
        encoding="utf-8",
    )
    assert finding(audit(path), "dood/C1").explained is not None
    # the same finding, from a changed rule: another contradiction under the same key
    kb_dir(tmp_path, DEAD.replace("label: p\n", "label: p, anders gelezen\n"))
    report = audit(path)
    f = finding(report, "dood/C1")
    assert f.explained is None and "dood/C1" in problems(report)
    assert (
        f.stale
        == {
            "reason": "de bron spreekt zich tegen",
            "where": "kb/audit.yaml [dood/C1]".replace("kb/", f"{path.name}/"),
            "date": "2026-12-07",
            "fingerprint": fp,
            "now": f.fingerprint,
        }
        and f.fingerprint != fp
    )
    text = render_audit(report)
    assert "Verklaring vervallen" in text and "de bron spreekt zich tegen" in text and fp in text
    # moving the rule to another file is no change of content
    moved = kb_dir(tmp_path / "verplaatst", DEAD)
    (moved / "regels" / "r.yaml").rename(moved / "regels" / "ander.yaml")
    assert fingerprint_of(moved, "dood/C1") == fp


def test_an_explanation_for_some_peildata_explains_there_and_is_not_missed_at_other_peildata(tmp_path):
    path = kb_dir(
        tmp_path,
        "feiten:\n  a: {type: bool, label: a, vraag: a?, wijzigbaar: true}\n"
        "grootheden:\n  peildatum: {type: datum, label: peildatum, functie: peildatum}\n"
        + GOAL
        + f"""
regels:
  - {{id: C1, label: p, conclusie: p, voorwaarden: a, geldig_van: 2016-04-01, geldig_tot: 2021-04-01, {SRC}}}
""",
    )
    ended = fingerprint_of(path, "vervallen/C1")
    begins = fingerprint_of(path, "nog_niet_geldig/C1", date(2015, 1, 1))
    (path / "audit.yaml").write_text(
        f"audit:\n  - {{sleutel: vervallen/C1, vingerafdruk: '{ended}', peildata: {{vanaf: 2021-04-01}}, "
        f"reden: de pilot is afgelopen, {NOTE_SRC}}}\n"
        f"  - {{sleutel: nog_niet_geldig/C1, vingerafdruk: '{begins}', peildata: {{tot: 2016-04-01}}, "
        f"reden: de pilot begint later, {NOTE_SRC}}}\n",
        encoding="utf-8",
    )
    for peildatum, explained in [
        (date(2026, 11, 22), "vervallen/C1"),
        (date(2021, 4, 1), "vervallen/C1"),
        (date(2015, 1, 1), "nog_niet_geldig/C1"),
        (date(2016, 3, 31), "nog_niet_geldig/C1"),
    ]:
        report = audit_directory(path, peildatum)
        assert [(f.key, f.explained is not None) for f in report.findings] == [(explained, True)], peildatum
    assert audit_directory(path, date(2018, 1, 1)).findings == []
    for wrong in ("{vanaf: 2021-04-01, tot: 2016-04-01}", "{van: 2021-04-01}", "{vanaf: morgen}"):
        (path / "audit.yaml").write_text(
            f"audit:\n  - {{sleutel: vervallen/C1, peildata: {wrong}, reden: r, {NOTE_SRC}}}\n", encoding="utf-8"
        )
        with pytest.raises(KnowledgeBaseError, match="peildata"):
            Engine(path)


def test_an_explained_error_does_not_fail_strict(tmp_path):
    text = (
        facts("a", "b")
        + GOAL
        + f"""
regels:
  - {{id: C1, label: p, conclusie: p, voorwaarden: a, {SRC}}}
  - {{id: C1.x, label: x, uitzondering_op: C1, van_toepassing_als: b, voorwaarden: a, {SRC}}}
  - {{id: C1.y, label: y, uitzondering_op: C1, van_toepassing_als: b, voorwaarden: {{niet: a}}, {SRC}}}
"""
    )
    path = kb_dir(tmp_path, text)
    fp = fingerprint_of(path, "tegenstrijdig/C1")
    kb_dir(
        tmp_path,
        text
        + f"""audit:
  - {{sleutel: tegenstrijdig/C1, vingerafdruk: '{fp}', reden: de bronnen laten dit open, {NOTE_SRC}}}
""",
    )
    report = audit(path)
    assert not report.failed and report.counts()["explained"] == 1


# -- the command line ---------------------------------------------------------------------------------


def run(path: Path | None, *args: str, monkeypatch=None):
    kb = ["--kb", str(path)] if path is not None else []
    return CliRunner().invoke(main, ["audit", *kb, "--peildatum", PEILDATUM.isoformat(), *args])


def test_strict_exits_non_zero_on_an_unexplained_error_and_zero_on_warnings(tmp_path, monkeypatch):
    conflict = kb_dir(
        tmp_path / "c",
        facts("a", "b")
        + GOAL
        + f"""
regels:
  - {{id: C1, label: p, conclusie: p, voorwaarden: a, {SRC}}}
  - {{id: C1.x, label: x, uitzondering_op: C1, van_toepassing_als: b, voorwaarden: a, {SRC}}}
  - {{id: C1.y, label: y, uitzondering_op: C1, van_toepassing_als: b, voorwaarden: {{niet: a}}, {SRC}}}
""",
    )
    assert run(conflict, monkeypatch=monkeypatch).exit_code == 0
    strict = run(conflict, "--strict", monkeypatch=monkeypatch)
    assert strict.exit_code == 1 and "tegenstrijdig/C1" in strict.stdout
    dead = kb_dir(tmp_path / "d", DEAD)
    assert run(dead, "--strict", monkeypatch=monkeypatch).exit_code == 0


@pytest.mark.parametrize(
    "args, expected",
    [
        (["--format", "xml"], "--format"),
        (["--bogus"], "--bogus"),
        (["--peildatum", "2026-02-30"], "--peildatum"),
    ],
)
def test_bad_options_give_one_line_and_exit_code_2(args, expected):
    result = CliRunner().invoke(main, ["audit", *args])
    assert result.exit_code == 2 and result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith("fout:") and expected in line


def test_json_is_versioned_and_lists_findings_with_witnesses(tmp_path, monkeypatch):
    path = kb_dir(
        tmp_path,
        facts("a", "b")
        + f"""
doelen:
  doel: {{label: doel, conclusie: p, buiten_bereik: q}}
regels:
  - {{id: C1, label: p, conclusie: p, voorwaarden: a, {SRC}}}
  - {{id: C2, label: q, conclusie: q, voorwaarden: b, verwijzing: elders, {SRC}}}
""",
    )
    data = json.loads(run(path, "--format", "json", monkeypatch=monkeypatch).stdout)
    assert (data["format"], data["version"], data["peildatum"]) == ("verblijfsregels/audit", 4, "2026-11-22")
    assert len(data["kb_version"]) == 32  # which rule base the findings are about
    (f,) = data["findings"]
    assert f["key"] == "tegenstrijdig/buiten_bereik/doel" and f["severity"] == "fout"
    assert f["witnesses"][0]["applicant"] == {"a": True, "b": True}
    assert data["coverage"]["goals"][0]["exhaustive"] is True


def test_graph_prints_dot_with_every_rule_and_goal(tmp_path, monkeypatch):
    path = kb_dir(
        tmp_path,
        facts("a", "b")
        + GOAL
        + f"""
regels:
  - {{id: C1, label: "p \\"met\\" aanhalingstekens", conclusie: p, voorwaarden: {{alle: [a, {{niet: b}}]}}, {SRC}}}
""",
    )
    out = run(path, "--graph", monkeypatch=monkeypatch).stdout
    assert out.startswith("digraph regels {") and out.rstrip().endswith("}")
    assert "r_C1 [" in out and "doel_doel -> r_C1" in out and "r_C1 -> f_b [style=dashed" in out
    assert '\\"met\\"' in out
    if shutil.which("dot"):
        import subprocess

        subprocess.run(["dot", "-Tsvg"], input=out.encode(), check=True, capture_output=True)


class _Structure(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.h2: list[str] = []
        self.sections: dict[str, dict[str, int]] = {}
        self.section: str | None = None
        self.text: list[str] = []
        self.svg = 0
        self._in_h2 = False

    def handle_starttag(self, tag, attrs):
        if tag == "section":
            self.section = dict(attrs)["id"]
            self.sections[self.section] = {}
        if self.section:
            self.sections[self.section][tag] = self.sections[self.section].get(tag, 0) + 1
        self._in_h2 = tag == "h2"
        self.svg += tag == "svg"

    def handle_endtag(self, tag):
        if tag == "section":
            self.section = None
        self._in_h2 = False

    def handle_data(self, data):
        if self._in_h2:
            self.h2.append(data.strip())
        self.text.append(data)


VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class _Written(html.parser.HTMLParser):
    """Each element with its parent, as the markup writes them; an end tag must close the open element."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.pairs: list[tuple[str, str | None]] = []

    def handle_starttag(self, tag, attrs):
        self.pairs.append((tag, self.stack[-1] if self.stack else None))
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):  # <path/> in an inline SVG
        self.pairs.append((tag, self.stack[-1] if self.stack else None))

    def handle_endtag(self, tag):
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes <{self.stack[-1] if self.stack else ''}>"
        self.stack.pop()


def assert_valid_html(page: str) -> None:
    """A strict HTML5 parse (html5lib, the browsers' algorithm) reports no error, and builds exactly
    the nesting the markup writes: a <blockquote> written inside a <p> would close the paragraph,
    and the browser would show another tree than the template meant."""
    parser = html5lib.HTMLParser(namespaceHTMLElements=False)
    tree = parser.parse(page)
    lines = page.splitlines()
    assert not parser.errors, [
        (err, lines[line - 1][max(0, col - 60) : col + 20]) for (line, col), err, _ in parser.errors[:3]
    ]
    parsed: list[tuple[str, str | None]] = []
    stack = [(tree, None)]
    while stack:
        element, parent = stack.pop()
        if not isinstance(element.tag, str):
            continue  # a comment
        name = element.tag.rsplit("}", 1)[-1].lower()
        parsed.append((name, parent))
        stack.extend((child, name) for child in reversed(list(element)))
    written = _Written()
    written.feed(page)
    written.close()
    assert not written.stack, f"not closed: {written.stack}"
    assert written.pairs == parsed, next((w, p) for w, p in zip(written.pairs, parsed) if w != p)


def test_the_html_report_has_a_heading_and_a_table_per_kind_of_finding_and_escapes_text(tmp_path, monkeypatch):
    path = kb_dir(
        tmp_path,
        facts("a", "b")
        + GOAL
        + f"""
regels:
  - {{id: C1, label: "p <script>alert(1)</script> & meer", conclusie: p, voorwaarden: a, {SRC}}}
  - {{id: C1.x, label: x, uitzondering_op: C1, van_toepassing_als: b, voorwaarden: a, {SRC}}}
  - {{id: C1.y, label: y, uitzondering_op: C1, van_toepassing_als: b, voorwaarden: {{niet: a}}, {SRC}}}
""",
    )
    monkeypatch.setattr(shutil, "which", lambda name: None)
    page = run(path, "--format", "html", monkeypatch=monkeypatch).stdout
    assert_valid_html(page)
    parser = _Structure()
    parser.feed(page)
    for category, heading in CATEGORIES:
        assert parser.sections[category].get("h2") == 1 and parser.sections[category].get("table") == 1
        assert any(h.startswith(heading) for h in parser.h2)
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; meer" in page
    assert "p <script>alert(1)</script> & meer" in "".join(parser.text)  # it reads as written
    assert "Graphviz is niet geïnstalleerd" in page and parser.svg == 0
    assert "digraph regels" in "".join(parser.text)
    assert page.count('<tr class="fout">') == 1


def test_the_html_report_draws_the_graph_inline_when_dot_is_installed(tmp_path, monkeypatch):
    fake = tmp_path / "bin" / "dot"
    fake.parent.mkdir()
    fake.write_text(
        "#!/bin/sh\ncat > /dev/null\n"
        'printf \'<?xml version="1.0"?>\\n<svg xmlns="http://www.w3.org/2000/svg"><text>graaf</text></svg>\\n\'\n'
    )
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{fake.parent}{os.pathsep}{os.environ['PATH']}")
    path = kb_dir(
        tmp_path / "kb",
        facts("a")
        + GOAL
        + f"""
regels:
  - {{id: C1, label: p, conclusie: p, voorwaarden: a, {SRC}}}
""",
    )
    page = run(path, "--format", "html", monkeypatch=monkeypatch).stdout
    assert_valid_html(page)
    parser = _Structure()
    parser.feed(page)
    assert parser.svg == 1 and "Graphviz is niet" not in page and "<?xml" not in page


# -- the real rule base -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def real_report():
    return audit_directory(KB_DIR, PEILDATUM)


def test_the_audit_of_the_real_rule_base_matches_the_golden_file(real_report):
    check("audit.txt", render_audit(real_report))


def test_every_finding_on_the_real_rule_base_of_severity_warning_or_error_is_explained_in_kb(real_report):
    assert problems(real_report) == set()
    assert not real_report.failed


def test_every_witness_on_the_real_rule_base_loads_and_reproduces_with_pyDatalog(real_report, kb):
    witnesses = [w for f in real_report.findings for w in f.witnesses]
    assert witnesses
    for w in witnesses:
        parse_applicant(kb, yaml.safe_load(yaml.safe_dump(w.applicant)))
        assert w.verified, w.label


def test_every_goal_of_the_real_rule_base_says_truly_whether_its_search_was_exhaustive(real_report, kb):
    assert [c.goal for c in real_report.coverage] == sorted(kb.goals)
    text = render_audit(real_report)
    for c in real_report.coverage:
        assert c.known_situations >= 1 and c.recomputed == min(c.known_situations, 4096)
        # exhaustive exactly when every combination of its date classes was found with real dates
        assert c.exhaustive == all(d["with_example"] == d["combinations"] for d in c.dates)
        assert c.to_json()["exhaustive"] is c.exhaustive
        assert all(len(d["without_example"]) >= 1 for d in c.dates if d["with_example"] < d["combinations"])
        entry = text.split(f"\n- {c.goal}: ", 1)[1].split("\n\n")[0]
        line = next(line for line in entry.split("\n") if "situaties met alles bekend" in line)
        assert line.endswith("alle onderzocht, uitputtend.") == c.exhaustive, line
    assert any(c.exhaustive and c.dates for c in real_report.coverage)
    assert any(not c.exhaustive for c in real_report.coverage)  # the dates of permits: not all combinations found


def test_the_real_html_report_is_valid_html5_with_the_nesting_it_writes(real_report):
    page = render_audit_html(real_report)
    assert_valid_html(page)
    parser = _Structure()
    parser.feed(page)
    assert [s for s in parser.sections] == [c for c, _ in CATEGORIES] + ["volledigheid", "graaf"]


# -- the decision diagrams ----------------------------------------------------------------------------
# The diagrams come from the dd library; what is tested here is the audit's use of them: the folds,
# the walk that evaluates a diagram for many situations at once (through dd's negated edges), and
# the assignment `pick` returns, which the witnesses are built from.

NAMES = ["a", "b>=1", "b>=2", "c"]

formulas = st.recursive(
    st.sampled_from(NAMES).map(lambda v: ("var", v)),
    lambda sub: st.one_of(
        st.tuples(st.just("not"), sub), st.tuples(st.just("and"), sub, sub), st.tuples(st.just("or"), sub, sub)
    ),
    max_leaves=12,
)


def _build(bdd: BDD, f):
    if f[0] == "var":
        return bdd.var(f[1])
    if f[0] == "not":
        return ~_build(bdd, f[1])
    parts = [_build(bdd, f[1]), _build(bdd, f[2])]
    return all_of(bdd, parts) if f[0] == "and" else any_of(bdd, parts)


def _truth(f, env):
    if f[0] == "var":
        return env[f[1]]
    if f[0] == "not":
        return not _truth(f[1], env)
    a, b = _truth(f[1], env), _truth(f[2], env)
    return (a and b) if f[0] == "and" else (a or b)


@given(formulas)
def test_the_audits_reading_of_a_decision_diagram_agrees_with_the_truth_table(f):
    bdd = BDD()
    bdd.configure(reordering=False)
    bdd.declare(*NAMES)
    node = _build(bdd, f)
    rows = [dict(zip(NAMES, bits)) for bits in itertools.product([False, True], repeat=len(NAMES))]
    truth = [_truth(f, r) for r in rows]
    columns = {v: sum(1 << i for i, r in enumerate(rows) if r[v]) for v in NAMES}
    full = (1 << len(rows)) - 1
    got = bitwise(bdd, [node, ~node], columns, full)
    assert got[node] == sum(1 << i for i, t in enumerate(truth) if t)
    assert got[~node] == full ^ got[node]
    assert (node == bdd.false) == (not any(truth))
    assert (node == bdd.true) == all(truth)
    # rows run in variable order, false before true: the first true one is the least, and the
    # witness is that one (variables off pick's path are read as false)
    one = bdd.pick(node)
    first = next((r for r, t in zip(rows, truth) if t), None)
    assert (one is None) == (first is None)
    if one is not None:
        assert {v: one.get(v, False) for v in NAMES} == first


def test_an_audit_leaves_no_decision_diagram_in_a_reference_cycle(tmp_path, monkeypatch):
    """dd's manager, freed by the cycle collector together with diagrams still alive, prints an
    error from its finalizer; the audit keeps its diagrams out of reference cycles."""
    path = kb_dir(
        tmp_path,
        facts("a", "b")
        + GOAL
        + FEES
        + f"""
regels:
  - {{id: C1, label: p, conclusie: p, voorwaarden: a, {SRC}}}
leges:
  - {{id: G1, label: basis, formulier: "1234", bedrag: basis, {FEE_SRC}}}
  - {{id: G1.a, label: a, uitzondering_op: G1, formulier: "1234", bedrag: laag, van_toepassing_als: a, {FEE_SRC}}}
  - {{id: G1.b, label: b, uitzondering_op: G1.a, formulier: "1234", bedrag: nul, van_toepassing_als: b, {FEE_SRC}}}
""",
    )
    gc.collect()
    unraisable = []
    monkeypatch.setattr(sys, "unraisablehook", unraisable.append)
    gc.disable()  # every cycle made during the audit is still there when the audit is gone
    try:
        report = audit(path)
        gc.collect()
    finally:
        gc.enable()
    assert report.coverage and not unraisable, [u.exc_value for u in unraisable]


# -- findings to review: places, schema, SARIF, JUnit ---------------------------------------------------

CONFLICT = (
    facts("a", "b")
    + GOAL
    + f"""
regels:
  - {{id: C1, label: p, conclusie: p, voorwaarden: a, {SRC}}}
  - {{id: C1.x, label: x, uitzondering_op: C1, van_toepassing_als: b, voorwaarden: a, {SRC}}}
  - {{id: C1.y, label: y, uitzondering_op: C1, van_toepassing_als: b, voorwaarden: {{niet: a}}, {SRC}}}
"""
)


def test_each_finding_names_its_declarations_inventory_rows_and_the_line_where_each_is_declared(tmp_path):
    path = kb_dir(tmp_path, CONFLICT)
    f = finding(audit(path), "tegenstrijdig/C1")
    assert f.declarations == ["C1", "C1.x", "C1.y"] and f.rows == ["C1"]
    lines = (path / "regels" / "r.yaml").read_text(encoding="utf-8").splitlines()
    for loc in f.locations:
        assert loc["file"] == f"{path.name}/regels/r.yaml"
        assert lines[loc["line"] - 1].lstrip().startswith(f"- {{id: {loc['id']},")
    assert [loc["id"] for loc in f.locations] == ["C1", "C1.x", "C1.y"]


def test_a_fact_nothing_reads_is_located_at_its_declaration(tmp_path):
    path = kb_dir(
        tmp_path,
        facts("a", "ongelezen") + GOAL + f"regels:\n  - {{id: C1, label: p, conclusie: p, voorwaarden: a, {SRC}}}\n",
    )
    f = finding(audit(path), "ongebruikt/ongelezen")
    (loc,) = f.locations
    line = (path / "regels" / "r.yaml").read_text(encoding="utf-8").splitlines()[loc["line"] - 1]
    assert line.lstrip().startswith("ongelezen:") and f.declarations == ["ongelezen"]


def test_the_real_audit_json_is_valid_against_the_published_schema(real_report, engine):
    import fastjsonschema

    schema = json.loads(CliRunner().invoke(main, ["schema", "--kind", "audit"]).stdout)
    data = json.loads(json.dumps(real_report.to_json()))
    fastjsonschema.compile(schema)(data)
    assert data["kb_version"] == engine.kb.version  # the findings are about this rule base
    assert all(f["locations"] for f in data["findings"] if f["declarations"])
    broken = dict(data, findings=[{**data["findings"][0], "severity": "rood"}])
    with pytest.raises(fastjsonschema.JsonSchemaValueException):
        fastjsonschema.compile(schema)(broken)


# The SARIF 2.1.0 specification's required properties (OASIS, sections 3.13 to 3.33): what a
# review tool needs to read a log. The full schema is not shipped by any package this project uses.
SARIF_REQUIRED = {
    "type": "object",
    "required": ["version", "runs"],
    "properties": {
        "version": {"const": "2.1.0"},
        "$schema": {"type": "string"},
        "runs": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["tool"],
                "properties": {
                    "tool": {
                        "type": "object",
                        "required": ["driver"],
                        "properties": {
                            "driver": {
                                "type": "object",
                                "required": ["name"],
                                "properties": {
                                    "name": {"type": "string"},
                                    "rules": {
                                        "type": "array",
                                        "items": {"type": "object", "required": ["id"]},
                                    },
                                },
                            }
                        },
                    },
                    "results": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["message"],
                            "properties": {
                                "message": {"type": "object", "required": ["text"]},
                                "level": {"enum": ["none", "note", "warning", "error"]},
                                "ruleId": {"type": "string"},
                                "ruleIndex": {"type": "integer", "minimum": -1},
                                "locations": {
                                    "type": "array",
                                    "items": {
                                        "type": "object",
                                        "properties": {
                                            "physicalLocation": {
                                                "type": "object",
                                                "required": ["artifactLocation"],
                                                "properties": {
                                                    "artifactLocation": {
                                                        "type": "object",
                                                        "required": ["uri"],
                                                    },
                                                    "region": {
                                                        "type": "object",
                                                        "properties": {"startLine": {"type": "integer", "minimum": 1}},
                                                    },
                                                },
                                            }
                                        },
                                    },
                                },
                                "suppressions": {
                                    "type": "array",
                                    "items": {
                                        "type": "object",
                                        "required": ["kind"],
                                        "properties": {
                                            "kind": {"enum": ["inSource", "external"]},
                                            "status": {"enum": ["accepted", "underReview", "rejected"]},
                                        },
                                    },
                                },
                            },
                        },
                    },
                },
            },
        },
    },
}


def test_sarif_has_the_required_structure_a_result_per_finding_and_explained_ones_suppressed(real_report):
    import fastjsonschema

    from engine.checks.report_formats import sarif

    data = json.loads(json.dumps(sarif(real_report)))
    fastjsonschema.compile(SARIF_REQUIRED)(data)
    (run_,) = data["runs"]
    rules = run_["tool"]["driver"]["rules"]
    assert len(run_["results"]) == len(real_report.findings)
    for result, f in zip(run_["results"], real_report.findings):
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"] == f.kind
        assert result["partialFingerprints"]["verblijfsregels/key"] == f.key
        assert ("suppressions" in result) == (f.explained is not None)


def test_sarif_and_junit_from_the_command_line_mark_an_unexplained_error(tmp_path):
    import xml.etree.ElementTree as ET

    path = kb_dir(tmp_path, CONFLICT)
    data = json.loads(run(path, "--format", "sarif").stdout)
    (error,) = [r for r in data["runs"][0]["results"] if r["level"] == "error"]
    assert error["ruleId"] == "tegenstrijdig" and "suppressions" not in error
    assert error["locations"][0]["physicalLocation"]["region"]["startLine"] > 0
    tree = ET.fromstring(run(path, "--format", "junit").stdout)
    cases = tree.findall(".//testcase")
    failed = [c for c in cases if c.find("failure") is not None]
    assert [c.get("name") for c in failed] == ["tegenstrijdig/C1"] and tree.get("failures") == "1"
    report = audit(path)
    assert {c.get("name") for c in cases} >= {f.key for f in report.findings}


def test_graph_of_one_goal_has_only_what_that_goal_reads(tmp_path):
    path = kb_dir(
        tmp_path,
        facts("a", "b")
        + "doelen:\n  doel: {label: doel, conclusie: p}\n  ander: {label: ander, conclusie: q}\n"
        + f"""
regels:
  - {{id: C1, label: p, conclusie: p, voorwaarden: a, {SRC}}}
  - {{id: C2, label: q, conclusie: q, voorwaarden: b, {SRC}}}
""",
    )
    out = run(path, "--graph", "--goal", "doel").stdout
    assert "r_C1 [" in out and "f_a [" in out and "doel_doel -> r_C1" in out
    assert "r_C2" not in out and "f_b" not in out and "doel_ander" not in out
    bad = run(path, "--graph", "--goal", "geen")
    assert bad.exit_code == 2 and "--goal" in bad.stderr
    assert run(path, "--goal", "doel").exit_code == 2


def test_an_explained_error_is_styled_as_explained_in_the_html_report(tmp_path):
    path = kb_dir(tmp_path, CONFLICT)
    fp = fingerprint_of(path, "tegenstrijdig/C1")
    kb_dir(
        tmp_path,
        CONFLICT + f"audit:\n  - {{sleutel: tegenstrijdig/C1, vingerafdruk: '{fp}', reden: bekend, {NOTE_SRC}}}\n",
    )
    page = run(path, "--format", "html").stdout
    assert_valid_html(page)
    assert '<tr class="fout verklaard">' in page and '<span class="ernst-verklaard">verklaard</span>' in page
    assert "tr.verklaard td:first-child { background: #e2efdf; }" in page
