"""A referral elsewhere that is still open (issue 18, item 1).

The sources send some applicants to another regime: an asylum permit holder or an
(ex-)privileged person away from onbepaalde tijd regulier (C15, 003), an EU/EEA/Swiss citizen or
family member away from the violence routes (E2, 002), a Turkish citizen or family member for
whom other rules apply away from humanitair niet-tijdelijk (D4, 000). Almost every applicant
leaves those facts unsaid. A route that fails is a refusal whatever they turn out to be; routes
that hold give "in aanmerking, tenzij"; repairs are those of a person in scope.
"""

from __future__ import annotations

import json
from datetime import date

import fastjsonschema
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cli import main
from engine.answer.interview import next_question
from engine.answer.repairs import find_repairs
from engine.applicant.facts import Applicant, parse_applicant, read_applicant_file
from engine.checks.strategies import bijna_geschikte_aanvragers
from explain import render_assessment, render_why_not
from tests.conftest import ROOT, flat
from tests.test_invariants import scope_facts

GOAL = "onbepaalde_tijd_regulier"
DAY = date(2025, 6, 1)
PEILDATUM = date(2026, 11, 22)
GOLDEN = ROOT / "tests" / "golden"
ONLY_EXAM = GOLDEN / "alleen_examen_reikwijdte_onbekend.yaml"  # fails only the exam; C15 unsaid
MEETS_ALL = GOLDEN / "voldoet_reikwijdte_onbekend.yaml"  # meets every condition; C15 unsaid
C15 = ["C15.asiel", "C15.ex_geprivilegieerde"]


def _read(engine, path) -> Applicant:
    return read_applicant_file(engine.kb, path)


def test_who_only_lacks_the_exam_is_refused_with_the_referrals_of_003_beside_it(engine):
    result = engine.assess(_read(engine, ONLY_EXAM), GOAL, DAY)
    assert result.outcome == "not_eligible" and result.unknown_facts == []
    assert [r["rule_id"] for r in result.elsewhere_if] == C15
    text = render_assessment(result, engine.kb)
    assert "Conclusie: de aanvrager komt niet in aanmerking" in text
    assert "nog niet te bepalen" not in text
    for rule_id in C15:  # each referral with its source, as 003 words it
        quote = engine.kb.rules[rule_id].source.quote
        assert flat(f"- {rule_id}: {engine.kb.rules[rule_id].label}\n  Bron 003: “{quote}”") in flat(text)


def test_who_only_lacks_the_exam_is_told_the_exam_helps_as_a_person_in_scope(engine):
    applicant = _read(engine, ONLY_EXAM)
    answer = find_repairs(engine, applicant, GOAL, DAY)
    assert answer.assumed_in_scope == C15 and not answer.nothing_helps and not answer.needs_no_change
    sure = {tuple((c.fact, c.value) for c in r.changes) for r in answer.repairs if r.certain}
    assert (("inburgeringsexamen_gehaald_niveau", "A2"),) in sure
    assert (("vrijgesteld_van_inburgeringsexamen", True),) in sure
    for repair in answer.repairs:  # a sure repair: eligible unless a referral applies, and nothing open but that
        changed = Applicant({**applicant.values, **{c.fact: c.value for c in repair.changes}})
        again = engine.assess(changed, GOAL, DAY)
        if repair.certain:
            assert again.outcome == "undetermined" and again.proof.value is True
            assert set(again.unknown_facts) == {"heeft_asielvergunning", "is_ex_geprivilegieerde"}
    text = render_why_not(engine.assess(applicant, GOAL, DAY, every_failure=True), engine.kb, answer)
    assert "Gezocht zoals voor iemand die de bronnen niet naar een andere regeling sturen" in text
    assert "- U komt in aanmerking als ‘hoogste niveau waarop het inburgeringsexamen is gehaald’ A2" in text


def test_who_meets_every_condition_is_eligible_unless_a_referral_applies_and_is_asked_only_that(engine):
    applicant = _read(engine, MEETS_ALL)
    result = engine.assess(applicant, GOAL, DAY)
    assert result.outcome == "undetermined" and result.proof.value is True
    assert sorted(result.unknown_facts) == ["heeft_asielvergunning", "is_ex_geprivilegieerde"]
    text = render_assessment(result, engine.kb)
    assert (
        "Conclusie: de aanvrager komt in aanmerking voor een verblijfsvergunning voor onbepaalde tijd regulier, "
        "tenzij een van deze regels de aanvrager naar een andere regeling verwijst"
    ) in flat(text)
    answer = find_repairs(engine, applicant, GOAL, DAY)
    assert answer.repairs == [] and answer.needs_no_change and not answer.nothing_helps
    asked = []
    answers = {k: v for k, v in applicant.values.items()}
    while (question := next_question(engine, answers, [GOAL], DAY)) is not None:
        asked.append(question.fact)
        answers[question.fact] = False
    assert asked and set(asked) <= {"heeft_asielvergunning", "is_ex_geprivilegieerde"}
    assert engine.assess(parse_applicant(engine.kb, answers), GOAL, DAY).outcome == "eligible"


def test_the_interview_asks_a_refused_applicant_only_the_facts_of_the_open_referrals(engine):
    applicant = _read(engine, ONLY_EXAM)
    question = next_question(engine, dict(applicant.values), [GOAL], DAY)
    assert question is not None and question.fact in ("heeft_asielvergunning", "is_ex_geprivilegieerde")
    answers = {**applicant.values, "heeft_asielvergunning": True}
    assert engine.assess(parse_applicant(engine.kb, answers), GOAL, DAY).outcome == "out_of_scope"


def test_nothing_helps_beside_an_open_referral_only_when_nothing_helps_a_person_in_scope(engine):
    """A danger to public order fails B1 (004) on every route; C15 unsaid changes nothing."""
    values = dict(_read(engine, ONLY_EXAM).values)
    values.update(inburgeringsexamen_gehaald_niveau="A2", vormt_gevaar_openbare_orde=True)
    answer = find_repairs(engine, Applicant(values), GOAL, DAY)
    assert answer.repairs == [] and answer.exhaustive and answer.nothing_helps
    assert answer.assumed_in_scope == C15


def test_why_not_json_names_the_open_referrals_and_matches_the_schemas(tmp_path):
    runner = CliRunner()
    args = ["--goal", GOAL, "--peildatum", DAY.isoformat(), "--format", "json"]
    data = json.loads(runner.invoke(main, ["why-not", str(ONLY_EXAM), *args]).stdout)
    fastjsonschema.compile(json.loads(runner.invoke(main, ["schema", "--kind", "why-not"]).stdout))(data)
    fastjsonschema.compile(json.loads(runner.invoke(main, ["schema", "--kind", "assessment"]).stdout))(
        data["assessment"]
    )
    assert data["assessment"]["outcome"] == "not_eligible"
    assert [r["rule_id"] for r in data["assessment"]["elsewhere_if"]] == C15
    assert data["repairs"]["assumed_in_scope"] == C15 and data["repairs"]["nothing_helps"] is False
    assessed = json.loads(runner.invoke(main, ["assess", str(MEETS_ALL), *args]).stdout)
    assert assessed["outcome"] == "undetermined" and assessed["proof"]["value"] is True
    assert sorted(f["fact"] for f in assessed["unknown_facts"]) == ["heeft_asielvergunning", "is_ex_geprivilegieerde"]
    assert {f["fact"] for r in assessed["elsewhere_if"] for f in r["unknown_facts"]} == {
        "heeft_asielvergunning",
        "is_ex_geprivilegieerde",
    }


REPAIR_GOALS = ["onbepaalde_tijd_regulier", "huiselijk_geweld", "eergerelateerd_geweld"]


def _comparable(answer) -> dict:
    data = answer.to_json()
    data.pop("assumed_in_scope")
    return data


def test_repairs_beside_an_open_referral_are_those_of_the_same_person_in_scope(engine):
    """Property: a near-eligible applicant (a scenario base, in scope, with one or two changeable
    facts changed) gets the same repairs, the same completeness and the same `nothing_helps`
    when the facts the goal's referrals read are forgotten; the answer then names the referrals
    it took not to apply. Only goals whose routes do not read those facts."""
    program = engine.program
    goals = [
        g
        for g in REPAIR_GOALS
        if not set(scope_facts(engine.kb, g)) & set(program.reachable([engine.kb.goals[g].conclusion]))
    ]
    assert goals

    @settings(max_examples=10, suppress_health_check=[HealthCheck.too_slow])
    @given(st.sampled_from(goals).flatmap(lambda g: st.tuples(st.just(g), bijna_geschikte_aanvragers(g, PEILDATUM))))
    def check(case):
        goal, (facts, _) = case
        forgotten = {k: v for k, v in facts.items() if k not in scope_facts(engine.kb, goal)}
        inside, open_ = parse_applicant(engine.kb, facts), parse_applicant(engine.kb, forgotten)
        named = [r["rule_id"] for r in engine.assess(open_, goal, PEILDATUM).elsewhere_if]
        if engine.assess(inside, goal, PEILDATUM).scope.value is not False:
            return  # the base is not in scope for this goal
        assert named
        expected = find_repairs(engine, inside, goal, PEILDATUM, max_changes=2)
        got = find_repairs(engine, open_, goal, PEILDATUM, max_changes=2)
        assert got.assumed_in_scope == named and expected.assumed_in_scope == []
        assert _comparable(got) == _comparable(expected)

    check()
