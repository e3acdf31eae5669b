"""Verdragen, ex-geprivilegieerden, Brunssum en de Akense pilot (001, F14-F22)."""

from __future__ import annotations

from datetime import date

import pytest

from engine.applicant.facts import parse_applicant
from engine.rules.model import All, Any_, Compare, Not
from engine.tijd import add_years
from explain import render_assessment

GOALS = {
    "turks_associatieverdrag",
    "nederlands_amerikaans_vriendschapsverdrag",
    "nederlands_japans_handelsverdrag",
    "nederlands_duits_vestigingsverdrag",
    "onbepaalde_tijd_benelux",
    "ex_geprivilegieerde",
    "gezinslid_ex_geprivilegieerde",
    "gezinslid_militair_jfc_brunssum",
    "studenten_aken_pilot",
}
STUDENT = {
    "studeert_in_aken": True,
    "woont_in_kerkrade_of_heerlen": True,
    "heeft_nationaliteit_eu_eer_of_zwitserland": False,
    "voldoet_aan_voorwaarden_pilot_akense_studenten": True,
}


def test_every_goal_has_a_scenario_for_each_answer_it_can_give():
    from tests.test_scenarios import FILES, load_scenario

    outcomes: dict[str, set[str]] = {g: set() for g in GOALS}
    for path in FILES:
        spec = load_scenario(path)
        if spec.get("doel") in GOALS:
            outcomes[spec["doel"]].add(spec["verwacht"]["uitkomst"])
    for goal, seen in outcomes.items():
        assert {"eligible", "not_eligible", "undetermined"} <= seen, (goal, seen)
    assert "out_of_scope" in outcomes["nederlands_duits_vestigingsverdrag"]


def test_the_pilot_runs_five_years_from_1_april_2016_with_an_exclusive_end(kb):
    rule = kb.rules["F22"]
    assert rule.valid_from == date(2016, 4, 1)
    assert rule.valid_until == add_years(rule.valid_from, 5) == date(2021, 4, 1)


@pytest.mark.parametrize(
    "peildatum, outcome, sentence",
    [
        (date(2016, 3, 31), "not_eligible", "Deze regel geldt pas vanaf 1 april 2016."),
        (date(2016, 4, 1), "eligible", None),
        (date(2021, 3, 31), "eligible", None),
        (date(2021, 4, 1), "not_eligible", "Deze regel is vervallen sinds 1 april 2021."),
        (date(2026, 11, 23), "not_eligible", "Deze regel is vervallen sinds 1 april 2021."),
    ],
)
def test_the_justification_says_since_when_the_pilot_lapsed(engine, peildatum, outcome, sentence):
    result = engine.assess(parse_applicant(engine.kb, STUDENT), "studenten_aken_pilot", peildatum)
    assert result.outcome == outcome
    text = render_assessment(result, engine.kb)
    assert "Geldigheid: vanaf 1 april 2016 tot 1 april 2021." in text
    if sentence:
        assert sentence in text
    else:
        assert "Deze regel is vervallen" not in text and "Deze regel geldt pas" not in text


def test_whoever_qualifies_as_ex_privileged_is_outside_permanent_regular_residence(engine):
    """C15 and F19 read the same fact: no applicant is both an ex-privileged and a regular case."""
    ex_diplomaat = parse_applicant(
        engine.kb,
        {
            "is_ex_geprivilegieerde": True,
            "werkgever_tijdens_geprivilegieerde_status": "diplomatieke_zending_of_consulaire_post",
            "arbeidscontract_geprivilegieerde_beeindigd": True,
            "begin_geprivilegieerde_status": "2010-01-01",
            "einde_geprivilegieerde_status": "2019-12-31",
            "voldoet_aan_voorwaarden_ex_geprivilegieerde": True,
        },
    )
    peil = date(2026, 11, 23)
    assert engine.assess(ex_diplomaat, "ex_geprivilegieerde", peil).outcome == "eligible"
    assert engine.assess(ex_diplomaat, "onbepaalde_tijd_regulier", peil).outcome == "out_of_scope"


def test_years_with_privileged_status_come_from_dates_never_from_a_typed_number(kb):
    for name in ("jaren_geprivilegieerde_status", "jaren_internationale_organisatie_gevestigd_in_nederland"):
        assert {kb.facts[i].type for i in kb.quantities[name].inputs} == {"datum"}, name

    def numeric_comparisons(expr):
        if isinstance(expr, Compare):
            return [expr.name] if isinstance(expr.value, int) else []
        if isinstance(expr, Not):
            return numeric_comparisons(expr.operand)
        if isinstance(expr, (All, Any_)):
            return [n for op in expr.operands for n in numeric_comparisons(op)]
        return []

    compared = [
        n
        for rid in ("F19.termijn", "F19.internationale_organisatie")
        for e in (kb.rules[rid].conditions, kb.rules[rid].applies_when)
        for n in numeric_comparisons(e)
    ]
    assert sorted(set(compared)) == [
        "jaren_geprivilegieerde_status",
        "jaren_internationale_organisatie_gevestigd_in_nederland",
    ]
    assert all(n in kb.quantities for n in compared)
