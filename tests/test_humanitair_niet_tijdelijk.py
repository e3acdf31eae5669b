"""Humanitair niet-tijdelijk (000, 001): terms with concrete dates, and both lists kept apart."""

from __future__ import annotations

from datetime import date

import yaml

from engine.facts import parse_applicant
from tests.test_scenarios import FILES, HERE, load_scenario

GOAL = "humanitair_niet_tijdelijk"
PEIL = date(2026, 11, 22)


def _assess(engine, **changes):
    basis = yaml.safe_load((HERE / "basis" / "voortgezet_verblijf_na_familie.yaml").read_text(encoding="utf-8"))
    facts = {**basis, "voldoet_aan_voorwaarden_voortgezet_verblijf_na_familie": True}
    for name, value in changes.items():
        if value is None:
            facts.pop(name, None)
        else:
            facts[name] = value
    return engine.assess(parse_applicant(engine.kb, facts), GOAL, PEIL)


def test_terms_count_from_receiving_the_permit(engine):
    result = _assess(engine, datum_ontvangst_vergunning="2026-12-01", heeft_tbc_onderzoek_aangegeven_bij_aanvraag=True)
    assert result.outcome == "eligible"
    dates = {t["rule_id"]: t["date"] for t in result.terms}
    # A10 (004): a permit for bepaalde tijd is valid at most five years; D9 (000) says five years too
    assert dates == {"A10": date(2031, 12, 1), "D6": date(2027, 3, 1), "D9": date(2031, 12, 1), "D10.termijn": date(2031, 12, 1)}


def test_three_months_from_the_last_day_of_a_month_end_on_the_last_day_of_the_month(engine):
    result = _assess(engine, datum_ontvangst_vergunning="2026-11-30", heeft_tbc_onderzoek_aangegeven_bij_aanvraag=True)
    assert {t["rule_id"]: t["date"] for t in result.terms}["D6"] == date(2027, 2, 28)


def test_no_ggd_term_without_a_tbc_examination_on_the_application(engine):
    result = _assess(engine, datum_ontvangst_vergunning="2026-12-01", heeft_tbc_onderzoek_aangegeven_bij_aanvraag=False)
    assert [t["rule_id"] for t in result.terms] == ["A10", "D9", "D10.termijn"]


def test_terms_without_a_date_of_receipt_are_given_in_words(engine):
    result = _assess(engine, datum_ontvangst_vergunning=None)
    assert result.terms and all(t["date"] is None for t in result.terms)


def test_the_7027_fee_is_shown_beside_the_route(engine):
    result = _assess(engine)
    assert [f.form for f in result.fees] == ["7027"]


def test_each_list_has_its_own_source_and_the_goal_rests_on_the_disagreement(kb):
    dis = kb.disagreements["D1+F11"]
    assert dis.rule_ids == ("D1", "F11")
    assert kb.rules["D1"].source.file.startswith("000_") and kb.rules["F11"].source.file.startswith("001_")
    assert kb.goals[GOAL].conclusion == dis.conclusion
    # 001 only: spouse or partner, and the criminal case that still runs
    assert kb.rules["D2.echtgenoot_of_partner"].source.file.startswith("001_")
    assert kb.rules["D2.mensenhandel"].source.file.startswith("001_")


def test_every_answer_the_goal_can_give_has_a_scenario():
    seen = {load_scenario(p)["verwacht"]["uitkomst"] for p in FILES if p.parent.name == GOAL}
    assert seen == {"eligible", "not_eligible", "undetermined", "out_of_scope"}
