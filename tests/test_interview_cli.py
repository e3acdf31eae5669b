"""The interview a person types answers into (issue 22): Dutch dates, numbered choices, how many
questions may still follow, going back, and a review of every answer before the outcome."""

from __future__ import annotations

import json
import re

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings

from cli import main
from engine.answer.interview import AnswerError, date_text, next_question, questions_left
from tests.conftest import ROOT, flat
from tests.test_why_not import PEILDATUM, interview_cases

GOAL = "onbepaalde_tijd_regulier"
EXAMPLE = yaml.safe_load((ROOT / "voorbeelden" / "aanvrager.yaml").read_text(encoding="utf-8"))
# born here: only a danger to public order or national security can refuse (C13)
BORN_HERE = yaml.safe_load(
    (ROOT / "tests" / "golden" / "hier_geboren_nationale_veiligheid_onbekend.yaml").read_text(encoding="utf-8")
)
BORN_HERE.pop("vormt_gevaar_openbare_orde")


def interview(tmp_path, answers: dict, typed: list[str], *options: str):
    path = tmp_path / "antwoorden.yaml"
    path.write_text(yaml.safe_dump(answers, allow_unicode=True), encoding="utf-8")
    saved = tmp_path / "opgeslagen.yaml"
    args = ["interview", "--goal", GOAL, "--answers", str(path), "--save", str(saved), "--peildatum", "2026-11-22"]
    result = CliRunner().invoke(main, [*args, *options], input="".join(f"{t}\n" for t in typed))
    assert result.exit_code == 0, result.output
    return result.output, yaml.safe_load(saved.read_text(encoding="utf-8"))


def without(*names: str) -> dict:
    return {k: v for k, v in EXAMPLE.items() if k not in names}


@pytest.mark.parametrize(
    "typed,iso",
    [
        ("14-03-1991", "1991-03-14"),
        ("14-3-1991", "1991-03-14"),
        ("4/3/1991", "1991-03-04"),
        ("14.03.1991", "1991-03-14"),
        ("14 maart 1991", "1991-03-14"),
        ("14 Mrt 1991", "1991-03-14"),
        ("1 okt. 2016", "2016-10-01"),
        ("1991-03-14", "1991-03-14"),
    ],
)
def test_a_date_is_read_as_it_is_written_in_dutch(typed, iso):
    assert date_text(typed) == iso


@pytest.mark.parametrize("typed", ["31-02-1990", "14 brumaire 1990", "gisteren", "14-03-90", "1990"])
def test_a_date_that_is_no_date_says_how_to_write_one_without_repeating_it(typed):
    with pytest.raises(AnswerError) as caught:
        date_text(typed)
    assert "bijvoorbeeld 14-03-1991 of 14 maart 1991 (of JJJJ-MM-DD)" in str(caught.value)
    assert typed not in str(caught.value)


def test_a_bad_date_is_asked_again_and_a_dutch_date_is_saved_as_iso(tmp_path):
    output, saved = interview(tmp_path, without("geboortedatum"), ["31-02-1991", "14-03-1991"])
    assert output.count("Wat is uw geboortedatum? [datum, bijvoorbeeld 14-03-1991") == 2
    assert "Dat antwoord past niet: die datum bestaat niet; geef een datum, bijvoorbeeld" in output
    assert saved["geboortedatum"] == "1991-03-14"
    assert "1. geboortedatum: 14 maart 1991" in output
    # the example meets every condition: the interview ends with the short answer saying so
    assert "\nAntwoord: ja, de aanvrager komt in aanmerking.\n" in output
    assert "\nDit beslist het: de aanvrager voldoet aan elke voorwaarde.\n" in output


@pytest.mark.parametrize("typed", ["3", "A2", "a2"])
def test_a_choice_is_offered_numbered_and_taken_by_number_or_name(tmp_path, typed):
    output, saved = interview(tmp_path, without("inburgeringsexamen_gehaald_niveau"), [typed])
    levels = ["geen", "A1", "A2", "B1", "B2", "C1", "C2"]
    assert "\n".join(f"  {n}. {v}" for n, v in enumerate(levels, start=1)) in output
    assert "[nummer of naam, ? als u het niet weet" in output
    assert saved["inburgeringsexamen_gehaald_niveau"] == "A2"


def test_a_choice_out_of_range_is_asked_again(tmp_path):
    output, saved = interview(tmp_path, without("inburgeringsexamen_gehaald_niveau"), ["9", "3"])
    assert "Dat antwoord past niet: kies een nummer van 1 tot en met 7, of een naam." in output
    assert saved["inburgeringsexamen_gehaald_niveau"] == "A2"


def test_a_permit_purpose_is_chosen_by_number_from_its_labels(tmp_path, engine):
    purposes = list(engine.kb.period_fields["verblijfsdoel"]["waarden"])
    periods = [{k: v for k, v in p.items() if k in ("van", "tot")} for p in EXAMPLE["verblijfsvergunningen"]]
    first, second = (purposes.index(p) + 1 for p in ("echtgenoot_of_partner", "humanitair_niet_tijdelijk"))
    output, saved = interview(tmp_path, EXAMPLE | {"verblijfsvergunningen": periods}, [first, "nee", second, "ja"])
    assert f"    {second}. humanitair niet tijdelijk" in output
    assert "humanitair_niet_tijdelijk" not in output.split("Uw antwoorden:")[0]
    assert [p["verblijfsdoel"] for p in saved["verblijfsvergunningen"]] == [
        "echtgenoot_of_partner",
        "humanitair_niet_tijdelijk",
    ]


def test_terug_undoes_the_previous_answer_and_asks_that_question_again(tmp_path, engine):
    output, saved = interview(tmp_path, BORN_HERE, ["nee", "terug", "ja"])
    assert output.count("Vormt u volgens de IND een gevaar voor de openbare orde? [ja/nee") == 2
    assert output.count("een gevaar voor de nationale veiligheid? [ja/nee") == 1
    # the second answer decides: a danger to public order ends the interview
    assert saved["vormt_gevaar_openbare_orde"] is True and "vormt_gevaar_nationale_veiligheid" not in saved
    # C13 (source 003) sets the conditions aside for someone born here: only a danger to public
    # order or national security refuses, and the short answer names it with the answer it read
    assert "\nAntwoord: nee, de aanvrager komt niet in aanmerking.\n" in output
    decisive = flat(output.split("Dit beslist het: deze voorwaarde is niet vervuld.")[1].split("Uitzonderingen")[0])
    assert decisive.strip() == (
        f"- {engine.kb.rules['C13'].label} (bron 003) {engine.kb.facts['vormt_gevaar_openbare_orde'].label}: ja"
    )


def test_the_first_question_offers_no_way_back(tmp_path):
    output, saved = interview(tmp_path, without("heeft_zorgverzekering"), ["terug", "ja"])
    assert "terug voor de vorige vraag" not in output.split("Uw antwoorden:")[0]
    assert "Dat antwoord past niet: antwoord ja of nee" in output
    assert saved["heeft_zorgverzekering"] is True


def test_the_review_lists_every_answer_and_a_number_changes_one_before_the_outcome(tmp_path, engine):
    data = without("heeft_zorgverzekering")
    order = sorted([*data, "heeft_zorgverzekering"], key=list(engine.kb.facts).index)
    number = order.index("heeft_zorgverzekering") + 1
    output, saved = interview(tmp_path, data, ["ja", str(number), "nee", ""])
    reviews = output.split("Uw antwoorden:")[1:]
    assert len(reviews) == 2
    label = engine.kb.facts["heeft_zorgverzekering"].label
    assert f"  {number}. {label}: ja" in reviews[0] and f"  {number}. {label}: nee" in reviews[1]
    assert f"  1. {engine.kb.facts[order[0]].label}: " in reviews[0]
    assert saved["heeft_zorgverzekering"] is False
    # without health insurance a general condition (source 004) is not met: the short answer names it
    assert "\nAntwoord: nee, de aanvrager komt niet in aanmerking.\n" in reviews[1]
    rule = engine.kb.rules_for["voorwaarde_zorgverzekering"][0]
    assert f"\n- {engine.kb.rules[rule].label} (bron 004)\n    {label}: nee\n" in reviews[1]


def test_terug_at_the_review_asks_the_last_question_again(tmp_path):
    output, saved = interview(tmp_path, without("heeft_zorgverzekering"), ["ja", "terug", "nee"])
    assert output.count("Hebt u een ziektekostenverzekering (zorgverzekering)? [ja/nee") == 2
    assert saved["heeft_zorgverzekering"] is False


def test_every_question_says_how_many_may_follow_and_the_interview_ends_as_assess_does(tmp_path):
    output, saved = interview(tmp_path, BORN_HERE, ["nee", "nee"])
    progress = re.findall(r"^Vraag (\d+) \((.*)\)$", output, re.M)
    assert progress == [("1", "hierna nog hoogstens 1"), ("2", "de laatste")]
    path = tmp_path / "opgeslagen.yaml"
    assess = CliRunner().invoke(main, ["assess", str(path), "--goal", GOAL, "--peildatum", "2026-11-22"])
    assert output.endswith("\n\n" + assess.output)
    # every goal: the applicant knows nothing more ("?"), and the overview follows
    overview = CliRunner().invoke(
        main, ["interview", "--answers", str(path), "--peildatum", "2026-11-22"], input="?\n" * 120
    )
    assert overview.exit_code == 0, overview.output[-300:]
    assert overview.output.endswith(CliRunner().invoke(main, ["assess", str(path), "--peildatum", "2026-11-22"]).output)


def test_next_json_is_unchanged_by_the_dialogue(tmp_path):
    path = tmp_path / "antwoorden.yaml"
    path.write_text(yaml.safe_dump(without("inburgeringsexamen_gehaald_niveau")), encoding="utf-8")
    result = CliRunner().invoke(
        main, ["interview", "--next", "--goal", GOAL, "--answers", str(path), "--peildatum", "2026-11-22"]
    )
    step = json.loads(result.output)
    assert step["question"]["fact"] == "inburgeringsexamen_gehaald_niveau"
    assert step["question"]["allowed"] == ["geen", "A1", "A2", "B1", "B2", "C1", "C2"]


def test_the_number_of_questions_left_is_never_exceeded_along_a_whole_interview(engine):
    """The progress line promises "at most N more": along whole interviews, for several goals,
    no more questions follow than the bound said."""

    @settings(max_examples=25, suppress_health_check=[HealthCheck.too_slow], deadline=None)
    @given(interview_cases())
    def check(case):
        goal, facts = case
        answers: dict = {}
        skipped: set[str] = set()
        bounds: list[int] = []
        for _ in range(80):
            question = next_question(engine, answers, [goal], PEILDATUM, frozenset(skipped))
            if question is None:
                break
            bounds.append(questions_left(engine, answers, [goal], PEILDATUM, frozenset(skipped)))
            if question.fact in facts and question.fact not in answers:
                answers[question.fact] = facts[question.fact]
            else:
                skipped.add(question.fact)
        for asked, bound in enumerate(bounds):
            assert len(bounds) - asked <= bound, (goal, bounds)
        assert questions_left(engine, answers, [goal], PEILDATUM, frozenset(skipped)) >= 0

    check()
