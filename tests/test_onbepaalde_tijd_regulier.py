"""Onbepaalde tijd regulier (003): each pointer elsewhere with its own line, and the document's term."""

from __future__ import annotations

from datetime import date

import yaml

from engine.applicant.facts import parse_applicant
from engine.rules.model import Atom
from tests.test_scenarios import HERE

GOAL = "onbepaalde_tijd_regulier"
PEIL = date(2026, 11, 22)
ASIEL = "Hebt u een asielvergunning? Ga naar de pagina Asiel onbepaalde tijd \u00a0in Nederland aanvragen."
EX_GEPRIVILEGIEERDE = (
    "Bent u (ex-) geprivilegieerde? Ga naar de pagina Verblijfsvergunning onbepaalde tijd voor "
    "(ex-)geprivilegieerde en familieleden."
)


def _assess(engine, **changes):
    facts = yaml.safe_load((HERE / "basis" / "voldoet_aan_alles.yaml").read_text(encoding="utf-8"))
    facts.update(changes)
    return engine.assess(parse_applicant(engine.kb, facts), GOAL, PEIL)


def test_each_pointer_of_003_is_its_own_declaration_with_its_own_line(kb):
    asiel, geprivilegieerd = kb.rules["C15.asiel"], kb.rules["C15.ex_geprivilegieerde"]
    assert (asiel.source.file, asiel.source.quote) == ("003_453b3a8f2812a451.txt", ASIEL)
    assert asiel.conditions == Atom("heeft_asielvergunning")
    assert (geprivilegieerd.source.file, geprivilegieerd.source.quote) == (
        "003_453b3a8f2812a451.txt",
        EX_GEPRIVILEGIEERDE,
    )
    assert geprivilegieerd.conditions == Atom("is_ex_geprivilegieerde")
    assert asiel.conclusion == geprivilegieerd.conclusion == kb.goals[GOAL].out_of_scope
    assert "C15" not in kb.rules


def test_an_asylum_permit_holder_is_sent_away_with_the_asylum_line(engine):
    result = _assess(engine, heeft_asielvergunning=True)
    assert result.outcome == "out_of_scope"
    cited = {(n.rule_id, n.source["quote"]) for n in result.scope.walk() if n.source and n.value is True}
    assert cited == {("C15.asiel", ASIEL)}
    # two rules conclude the pointer: the proof names the goal, and the reference of the one that holds
    assert result.scope.kind == "conclusion" and "onbepaalde tijd regulier" in result.scope.label
    assert (
        result.scope.detail["reference"] == "Met een asielvergunning: 'Asiel onbepaalde tijd in Nederland aanvragen'."
    )


def test_an_ex_privileged_person_is_sent_away_with_the_ex_privileged_line(engine):
    result = _assess(engine, is_ex_geprivilegieerde=True)
    cited = {(n.rule_id, n.source["quote"]) for n in result.scope.walk() if n.source and n.value is True}
    assert result.outcome == "out_of_scope" and cited == {("C15.ex_geprivilegieerde", EX_GEPRIVILEGIEERDE)}


def test_the_residence_document_is_valid_five_years_from_receiving_it(engine):
    result = _assess(engine, datum_ontvangst_vergunning=date(2026, 12, 1))
    assert result.outcome == "eligible"
    term = {t["rule_id"]: t for t in result.terms}["C17.verblijfsdocument"]
    assert (term["start"], term["duration"], term["date"]) == (
        "datum_ontvangst_vergunning",
        {"jaren": 5},
        date(2031, 12, 1),
    )
    assert term["source"] == {
        "file": "003_453b3a8f2812a451.txt",
        "quote": "Het verblijfsdocument is 5 jaar geldig en kunt u elke 5 jaar vernieuwen.",
    }
    # the permit itself has no end date: that stays a consequence
    assert "C17" in [c["rule_id"] for c in result.consequences]


def test_without_a_date_of_receipt_the_document_term_is_given_in_words(engine):
    result = _assess(engine)
    term = {t["rule_id"]: t for t in result.terms}["C17.verblijfsdocument"]
    assert term["date"] is None and term["start_date"] is None
