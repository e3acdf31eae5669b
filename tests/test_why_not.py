"""Why not, repairs and the interview: the properties issue 5 asks for."""

from __future__ import annotations

import itertools
from datetime import date

from click.testing import CliRunner
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from cli import main
from engine.facts import Applicant, parse_applicant
from engine.interview import _values, assessments, next_question
from engine.proof import failing_conditions
from engine.repairs import find_repairs
from tests.conftest import ROOT
from engine.strategies import aanvragers

PEILDATUM = date(2026, 11, 22)
GOAL = "onbepaalde_tijd_regulier"


@given(aanvragers(PEILDATUM))
def test_why_not_is_empty_exactly_when_the_outcome_is_eligible(engine, facts):
    result = engine.assess(parse_applicant(engine.kb, facts), GOAL, PEILDATUM)
    assert (failing_conditions(result.proof, result.scope) == []) == (result.outcome == "eligible")


@settings(max_examples=25)
@given(aanvragers(PEILDATUM))
def test_every_repair_makes_the_applicant_eligible_and_no_proper_subset_does(engine, facts):
    applicant = parse_applicant(engine.kb, facts)
    answer = find_repairs(engine, applicant, GOAL, PEILDATUM, max_changes=2)
    for repair in answer.repairs:
        day = repair.from_date or PEILDATUM
        changed = dict(applicant.values)
        for change in repair.changes:
            assert engine.kb.facts[change.fact].changeable
            changed[change.fact] = change.value
        assert engine.assess(Applicant(changed), GOAL, day).outcome == "eligible"
        for size in range(len(repair.changes)):
            for subset in itertools.combinations(repair.changes, size):
                partial = dict(applicant.values)
                partial.update({c.fact: c.value for c in subset})
                assert engine.assess(Applicant(partial), GOAL, day).outcome != "eligible", subset


def test_a_person_only_waiting_can_help_is_given_the_date(engine):
    facts = dict(parse_applicant(engine.kb, {}).values)
    from engine.facts import read_applicant_file

    example = read_applicant_file(engine.kb, ROOT / "voorbeelden" / "aanvrager.yaml")
    values = dict(example.values)
    values["uitzondering_vijfjaartermijn_van_toepassing"] = False
    values["verblijfsvergunningen"] = ({"van": date(2016, 9, 1), "verblijfsdoel": "humanitair_niet_tijdelijk",
                                        "niet_tijdelijk": True},)
    answer = find_repairs(engine, Applicant(values), GOAL, date(2020, 11, 22))
    assert facts == {}
    assert [(r.changes, r.from_date) for r in answer.repairs] == [((), date(2021, 9, 1))]
    assert {f["rule_id"] for f in answer.repairs[0].fulfilled_by_time} == {"B4", "C2"}


def _completions(kb, names):
    return itertools.product(*[_values(kb, n) for n in names])


@settings(max_examples=40)
@given(aanvragers(PEILDATUM))
def test_the_interview_never_asks_a_question_whose_answer_cannot_change_the_outcome(engine, facts):
    kb = engine.kb
    question = next_question(engine, facts, [GOAL], PEILDATUM)
    result = assessments(engine, facts, [GOAL], PEILDATUM)[0]
    if question is None:
        return
    assert result.outcome == "undetermined" and question.fact in result.unknown_facts
    others = [n for n in result.unknown_facts if n != question.fact and kb.facts[n].type in ("bool", "keuze")]
    assume(kb.facts[question.fact].type in ("bool", "keuze") and len(others) <= 6)
    # some completion of the other deciding facts lets this answer change the outcome
    for values in _completions(kb, others):
        base = {**facts, **dict(zip(others, values))}
        outcomes = {assessments(engine, {**base, question.fact: v}, [GOAL], PEILDATUM)[0].outcome
                    for v in _values(kb, question.fact)}
        if len(outcomes) > 1:
            return
    raise AssertionError(f"{question.fact} cannot change the outcome")


@settings(max_examples=25)
@given(aanvragers(PEILDATUM))
def test_an_interview_answered_from_a_complete_applicant_reaches_the_outcome_of_assess(engine, facts):
    expected = engine.assess(parse_applicant(engine.kb, facts), GOAL, PEILDATUM).outcome
    answers: dict = {}
    skipped: set[str] = set()
    for _ in range(60):
        question = next_question(engine, answers, [GOAL], PEILDATUM, frozenset(skipped))
        if question is None:
            break
        if question.fact in facts:
            answers[question.fact] = facts[question.fact]
        else:
            skipped.add(question.fact)  # the applicant does not know either
    final = assessments(engine, answers, [GOAL], PEILDATUM)[0].outcome
    assert final == expected


def test_the_interview_in_a_terminal_asks_again_after_a_wrong_answer_and_saves_the_answers(tmp_path):
    answers = tmp_path / "antwoorden.yaml"
    answers.write_text((ROOT / "tests" / "golden" / "hier_geboren_nationale_veiligheid_onbekend.yaml").read_text())
    saved = tmp_path / "aanvrager.yaml"
    result = CliRunner().invoke(
        main, ["interview", "--goal", GOAL, "--answers", str(answers), "--save", str(saved),
               "--peildatum", "2026-11-22"],
        input="misschien\nnee\n",
    )
    assert result.exit_code == 0, result.output
    assert result.output.count("nationale veiligheid? [ja/nee") == 2
    assert "Dat antwoord past niet: antwoord ja of nee" in result.output
    assert "Conclusie: de aanvrager komt in aanmerking" in result.output
    rerun = CliRunner().invoke(main, ["assess", str(saved), "--goal", GOAL, "--peildatum", "2026-11-22",
                                      "--format", "json"])
    assert rerun.exit_code == 0 and '"outcome": "eligible"' in rerun.output


def test_interview_next_prints_the_next_question_as_json(tmp_path):
    import json

    result = CliRunner().invoke(main, ["interview", "--next", "--goal", GOAL, "--answers",
                                       str(ROOT / "tests" / "golden" / "hier_geboren_nationale_veiligheid_onbekend.yaml"),
                                       "--peildatum", "2026-11-22"])
    step = json.loads(result.output)
    assert step["done"] is False
    assert step["question"]["fact"] == "vormt_gevaar_nationale_veiligheid"
    assert step["question"]["allowed"] == [True, False]
