"""A term (soort: termijn) in an assessment: its date from the start date and the duration."""

from __future__ import annotations

import textwrap
from datetime import date

from engine.answer.assess import Engine
from engine.applicant.facts import parse_applicant


def test_a_term_gives_its_date_once_the_start_date_is_known(tmp_path):
    (tmp_path / "regels").mkdir()
    (tmp_path / "feiten.yaml").write_text(
        textwrap.dedent("""
        feiten:
          a: {type: bool, label: a, vraag: a?, wijzigbaar: true}
          ontvangen: {type: datum, label: ontvangen, vraag: wanneer?, wijzigbaar: false}
    """),
        encoding="utf-8",
    )
    (tmp_path / "doelen.yaml").write_text("doelen:\n  doel: {label: doel, conclusie: p}\n", encoding="utf-8")
    (tmp_path / "regels" / "r.yaml").write_text(
        textwrap.dedent("""
        regels:
          - {id: E8, label: p, conclusie: p, voorwaarden: a, bron: {bestand: 002_b3255643ce0e7bad.txt, citaat: x}}
          - {id: E15, label: beslissing, soort: termijn, vanaf: ontvangen, duur: {dagen: 90}, doelen: [doel],
             bron: {bestand: 002_b3255643ce0e7bad.txt, citaat: x}}
    """),
        encoding="utf-8",
    )
    engine = Engine(tmp_path)
    result = engine.assess(parse_applicant(engine.kb, {"a": True, "ontvangen": "2026-01-01"}), "doel", date(2026, 2, 1))
    assert [(t["rule_id"], t["date"]) for t in result.terms] == [("E15", date(2026, 4, 1))]
    unknown = engine.assess(parse_applicant(engine.kb, {"a": True}), "doel", date(2026, 2, 1))
    assert [(t["rule_id"], t["date"]) for t in unknown.terms] == [("E15", None)]
