"""Humanitair niet-tijdelijk (000, 001): terms with concrete dates, and both lists kept apart."""

from __future__ import annotations

from datetime import date

import yaml

from engine.answer.assess import ALL
from engine.applicant.facts import parse_applicant
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
    # D10.termijn does not: the family permit since 1 March 2019 already counts (below)
    assert dates == {
        "A10": date(2031, 12, 1),
        "D6": date(2027, 3, 1),
        "D9": date(2031, 12, 1),
        "D10.termijn": date(2024, 3, 1),
    }


def test_the_permanent_permit_term_counts_the_years_the_applicant_already_had_a_permit(engine):
    """D10 (000): 'Hebt u 5 jaar een verblijfsvergunning gehad?'. The family permit since 1 March 2019
    counts; the date is not five years after the new permit arrives (it was 1 December 2031)."""
    result = _assess(engine, datum_ontvangst_vergunning="2026-12-01")
    term = {t["rule_id"]: t for t in result.terms}["D10.termijn"]
    assert (term["start_date"], term["date"]) == (date(2019, 3, 1), date(2024, 3, 1))
    assert term["start"] == "begin_ononderbroken_vergunning_vanaf_8"


def test_the_permanent_permit_term_agrees_with_the_five_years_c2_counts(engine):
    """On the date D10.termijn gives, C2 (003: 5 years in a row, from age 8) holds; a day earlier not."""
    from engine.applicant.facts import parse_applicant as parse

    facts = {
        "geboortedatum": "1990-05-01",
        "verblijfsvergunningen": [
            {"van": "2012-01-01", "tot": "2016-12-31", "verblijfsdoel": "anders", "niet_tijdelijk": False},
            {"van": "2019-03-01", "verblijfsdoel": "familie_of_gezinslid", "niet_tijdelijk": False},
        ],
        "uitzondering_vijfjaartermijn_van_toepassing": False,
    }  # 003 names none; here none applies
    day = {
        t["rule_id"]: t["date"] for t in _assess(engine, verblijfsvergunningen=facts["verblijfsvergunningen"]).terms
    }["D10.termijn"]
    # the gap in 2017-2019 breaks the run: only the years since 1 March 2019 certainly count
    assert day == date(2024, 3, 1)
    for peil, holds in ((day, True), (date(2024, 2, 29), False)):
        builder = engine.evaluate(parse(engine.kb, facts), "onbepaalde_tijd_regulier", peil)
        assert builder.value("c2_vijf_jaar_achter_elkaar") is holds, peil


def test_a_child_counts_the_permanent_permit_term_from_its_eighth_birthday(engine):
    # 003 (C3, C4): only the years from age 8 count; a child with a permit since birth reaches 5 at 13
    result = _assess(
        engine,
        geboortedatum="2015-06-10",
        verblijfsvergunningen=[{"van": "2015-06-10", "verblijfsdoel": "familie_of_gezinslid", "niet_tijdelijk": False}],
    )
    term = {t["rule_id"]: t for t in result.terms}["D10.termijn"]
    assert (term["start_date"], term["date"]) == (date(2023, 6, 10), date(2028, 6, 10))


def test_without_a_permit_on_the_peildatum_the_permanent_permit_term_has_no_date(engine):
    # which earlier, interrupted years count, the sources leave open (D10 does not say 'achter
    # elkaar', C2 does): the term is given in words, never as a date that may be wrong
    ended = [
        {"van": "2019-03-01", "tot": "2026-10-31", "verblijfsdoel": "familie_of_gezinslid", "niet_tijdelijk": False}
    ]
    term = {t["rule_id"]: t for t in _assess(engine, verblijfsvergunningen=ended).terms}["D10.termijn"]
    assert term["date"] is None and term["start_date"] is None


def test_three_months_from_the_last_day_of_a_month_end_on_the_last_day_of_the_month(engine):
    result = _assess(engine, datum_ontvangst_vergunning="2026-11-30", heeft_tbc_onderzoek_aangegeven_bij_aanvraag=True)
    assert {t["rule_id"]: t["date"] for t in result.terms}["D6"] == date(2027, 2, 28)


def test_no_ggd_term_without_a_tbc_examination_on_the_application(engine):
    result = _assess(engine, datum_ontvangst_vergunning="2026-12-01", heeft_tbc_onderzoek_aangegeven_bij_aanvraag=False)
    assert [t["rule_id"] for t in result.terms] == ["A10", "D9", "D10.termijn"]


def test_terms_without_a_date_of_receipt_are_given_in_words(engine):
    result = _assess(engine, datum_ontvangst_vergunning=None)
    from_receipt = [t for t in result.terms if t["start"] == "datum_ontvangst_vergunning"]
    assert from_receipt and all(t["date"] is None for t in from_receipt)


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


def test_000_counts_a_stay_as_spouse_as_a_stay_as_family_member_and_001_lists_it_apart(engine):
    """000 puts 'langer dan 5 jaar in Nederland verblijf gehad als echtgenoot of partner' under
    'Voortgezet verblijf na verblijf als familie- of gezinslid'; 001 lists a permit as spouse or
    partner separately, with 'klemmende redenen van humanitaire aard'. The knowledge base declares
    the disagreement with both quotes and does not choose."""
    kb = engine.kb
    dis = kb.disagreements["D2+D5"]
    by_source = {kb.rules[r].source.file[:3]: kb.rules[r] for r in dis.rule_ids}
    assert sorted(by_source) == ["000", "001"]
    assert "als echtgenoot of partner" in by_source["000"].source.quote
    assert "klemmende redenen van humanitaire aard" in by_source["001"].source.quote
    spouse = [{"van": "2019-03-01", "verblijfsdoel": "echtgenoot_of_partner", "niet_tijdelijk": False}]
    family = [{"van": "2019-03-01", "verblijfsdoel": "familie_of_gezinslid", "niet_tijdelijk": False}]
    for permits, expected in ((spouse, None), (family, True)):
        builder = engine.evaluate(
            parse_applicant(kb, {"geboortedatum": "1985-03-01", "verblijfsvergunningen": permits}), ALL, PEIL
        )
        assert builder.value(dis.conclusion) is expected, permits
        assert builder.value("familieverblijf_volgens_000") is True
        assert builder.value("familieverblijf_volgens_001") is (permits is family)
