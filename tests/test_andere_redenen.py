"""Andere redenen (001): what the page itself decides, and what it only points to."""

from __future__ import annotations

from datetime import date

from engine.rules.model import expr_names
from engine.tijd import huidig_verblijfsdoel


def test_f4_only_points_to_the_violence_goals_and_assesses_nothing_itself(kb):
    f4 = kb.rules["F4"]
    assert "eergerelateerd_geweld" in f4.reference and "huiselijk_geweld" in f4.reference
    # no goal of this knowledge base rests on the pointer: the violence route is assessed once, under E
    for goal in kb.goals.values():
        for rule in kb.rules.values():
            if kb.conclusion_of(rule) == goal.conclusion:
                assert f4.conclusion not in {n for n, _ in expr_names(rule.conditions)}, goal.id


def test_f4_audience_is_no_permit_or_a_permit_to_stay_with_family(kb):
    names = {n for n, _ in expr_names(kb.rules["F4"].conditions)}
    assert names == {"huidig_verblijfsdoel"}
    peil = date(2026, 11, 22)
    assert huidig_verblijfsdoel(peil, []) == "geen"
    family = [{"van": date(2024, 1, 1), "verblijfsdoel": "familie_of_gezinslid"}]
    assert huidig_verblijfsdoel(peil, family) == "familie_of_gezinslid"


def test_every_andere_redenen_goal_has_a_scenario_for_each_answer_it_can_give():
    from tests.test_scenarios import FILES, load_scenario

    goals = {
        "eu_langdurig_ingezetene_ander_eu_land",
        "wedertoelating",
        "medische_behandeling",
        "slachtoffer_mensenhandel",
        "artikel_8_evrm",
        "haags_kinderbeschermingsverdrag_tijdelijk",
        "haags_kinderbeschermingsverdrag_tot_meerderjarigheid",
        "ondertoezichtstelling_kind",
        "ondertoezichtstelling_ouder_of_broer_zus",
        "einde_ouderlijk_gezag",
        "buitenschuld",
        "terminale_ziekte",
        "buitenlandse_investeerder",
    }
    outcomes: dict[str, set[str]] = {g: set() for g in goals}
    for path in FILES:
        spec = load_scenario(path)
        if spec.get("doel") in goals:
            outcomes[spec["doel"]].add(spec["verwacht"]["uitkomst"])
    for goal, seen in outcomes.items():
        assert {"eligible", "not_eligible", "undetermined"} <= seen, (goal, seen)
    assert "out_of_scope" in outcomes["artikel_8_evrm"]
