"""Why not, repairs and the interview: the properties issue 5 asks for."""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import date

from click.testing import CliRunner
from hypothesis import HealthCheck, event, given, settings, target
from hypothesis import strategies as st

from cli import main
from engine.answer.interview import _values, assessments, next_question
from engine.answer.proof import failing_conditions
from engine.answer.repairs import Condition, changeable_facts, find_repairs
from engine.applicant.facts import Applicant, parse_applicant, read_applicant_file
from engine.checks.strategies import aanvragers, bijna_geschikte_aanvragers
from explain import render_why_not
from tests.conftest import ROOT, flat

PEILDATUM = date(2026, 11, 22)
GOAL = "onbepaalde_tijd_regulier"


@given(aanvragers(PEILDATUM))
def test_why_not_is_empty_exactly_when_the_outcome_is_eligible(engine, facts):
    result = engine.assess(parse_applicant(engine.kb, facts), GOAL, PEILDATUM)
    assert (failing_conditions(result.proof, result.scope) == []) == (result.outcome == "eligible")


REPAIR_GOALS = ["onbepaalde_tijd_regulier", "huiselijk_geweld", "eergerelateerd_geweld"]
LIMIT = 2  # changes per repair in the properties (the brute force below tries every set up to it)


def near_eligible_cases():
    """(goal, applicant, base): an eligible scenario base with one or two changeable facts changed."""
    return st.sampled_from(REPAIR_GOALS).flatmap(
        lambda goal: st.tuples(st.just(goal), bijna_geschikte_aanvragers(goal, PEILDATUM, max_wijzigingen=LIMIT))
    )


def _changed(applicant: Applicant, changes) -> Applicant:
    return Applicant({**applicant.values, **{c.fact: c.value for c in changes}})


def _level(engine, applicant: Applicant, goal: str, day: date) -> str:
    outcome = engine.assess(applicant, goal, day).outcome
    return {"eligible": "sure", "undetermined": "possible"}.get(outcome, "no")


def check_repair(engine, applicant: Applicant, goal: str, repair) -> None:
    """Applied, a repair makes the applicant eligible (a conditional one: undetermined, decided by
    exactly the facts it names); no proper subset of its changes gets as far."""
    day = repair.from_date or PEILDATUM
    assert all(engine.kb.facts[c.fact].changeable for c in repair.changes)
    result = engine.assess(_changed(applicant, repair.changes), goal, day)
    if repair.certain:
        assert result.outcome == "eligible", repair
    else:
        assert result.outcome == "undetermined", repair
        assert [c.fact for c in repair.conditions] == result.unknown_facts
    for size in range(len(repair.changes)):
        for subset in itertools.combinations(repair.changes, size):
            level = _level(engine, _changed(applicant, subset), goal, day)
            assert level != "sure" if repair.certain else level == "no", (repair, subset)


def brute_force(engine, applicant: Applicant, goal: str, limit: int) -> tuple[set, set]:
    """Every minimal sure and conditional set of at most `limit` changes on the peildatum, by trying
    every combination of values of every changeable fact the goal reaches (no value classes, no
    pruning), each assessed with the set-at-a-time evaluator."""
    kb = engine.kb
    facts = changeable_facts(engine, goal)[0]
    levels = {}

    def level(changes: frozenset) -> str:
        if changes not in levels:
            changed = Applicant({**applicant.values, **dict(changes)})
            outcome = engine.assess_all(changed, PEILDATUM, goals=[goal])[0].outcome
            levels[changes] = {"eligible": "sure", "undetermined": "possible"}.get(outcome, "no")
        return levels[changes]

    sure, conditional = set(), set()
    for size in range(1, limit + 1):
        for names in itertools.combinations(facts, size):
            options = [[v for v in _values(kb, n) if v != applicant.values.get(n)] for n in names]
            for values in itertools.product(*options):
                changes = frozenset(zip(names, values))
                smaller = [frozenset(c) for k in range(size) for c in itertools.combinations(changes, k)]
                got = level(changes)
                if got == "sure" and all(level(c) != "sure" for c in smaller):
                    sure.add(changes)
                elif got == "possible" and all(level(c) == "no" for c in smaller):
                    # conditional, as long as each unknown yes/no or choice fact that decides it
                    # has a value that keeps eligibility possible
                    changed = Applicant({**applicant.values, **dict(changes)})
                    unknown = engine.assess(changed, goal, PEILDATUM).unknown_facts
                    if all(
                        kb.facts[u].type not in ("bool", "keuze")
                        or any(level(changes | {(u, v)}) != "no" for v in _values(kb, u))
                        for u in unknown
                    ):
                        conditional.add(changes)
    return sure, conditional


def test_every_repair_of_a_near_eligible_applicant_works_and_the_list_is_complete(engine):
    """Property 4(a), on applicants for whom repairs exist: every repair works and is minimal, the
    undoing of the changes made (or part of it) is among them, and a brute force over every
    changeable fact of the goal finds no minimal set of at most LIMIT changes the answer lacks."""
    seen = Counter()

    @settings(max_examples=30, suppress_health_check=[HealthCheck.too_slow])
    @given(near_eligible_cases())
    def check(case):
        goal, (facts, base) = case
        applicant = parse_applicant(engine.kb, facts)
        answer = find_repairs(engine, applicant, goal, PEILDATUM, max_changes=LIMIT)
        outcome = engine.assess(applicant, goal, PEILDATUM).outcome
        event(f"{goal}: {outcome}")
        target(float(len(answer.repairs)), label="repairs")
        if outcome == "eligible":
            assert answer.repairs == []
            return
        seen["not eligible"] += 1
        assert answer.candidates == changeable_facts(engine, goal)[0]
        for repair in answer.repairs:
            check_repair(engine, applicant, goal, repair)
            seen["repairs checked"] += 1
        undo = {(name, base[name]) for name in facts if facts[name] != base.get(name)}
        assert any(
            {(c.fact, c.value) for c in r.changes} <= undo and r.certain and r.from_date is None for r in answer.repairs
        ), (undo, answer.repairs)
        now = [r for r in answer.repairs if r.from_date is None]
        sure, conditional = brute_force(engine, applicant, goal, LIMIT)
        assert {frozenset((c.fact, c.value) for c in r.changes) for r in now if r.certain} == sure
        assert {frozenset((c.fact, c.value) for c in r.changes) for r in now if not r.certain} == conditional
        assert answer.exhaustive == (not answer.larger_exist and not answer.not_tried)
        seen["complete"] += 1

    check()
    # the loops above ran: near-eligible applicants are not eligible, and have repairs to check
    assert seen["not eligible"] >= 10 and seen["repairs checked"] >= seen["not eligible"]
    assert seen["complete"] == seen["not eligible"]


def test_the_example_without_exam_and_brp_is_offered_every_way_to_eligibility(engine):
    """Issue 1: repairs come from the goal's rule graph, not from the facts the proof shows."""
    values = dict(read_applicant_file(engine.kb, ROOT / "voorbeelden" / "aanvrager.yaml").values)
    values.update(inburgeringsexamen_gehaald_niveau="geen", ingeschreven_in_brp=False)
    applicant = Applicant(values)
    answer = find_repairs(engine, applicant, GOAL, date(2025, 6, 1))
    sure = {frozenset((c.fact, c.value) for c in r.changes) for r in answer.repairs if r.certain}
    assert sure == {
        frozenset({("inburgeringsexamen_gehaald_niveau", level), ("ingeschreven_in_brp", True)})
        for level in ("A2", "B1", "B2", "C1", "C2")
    } | {frozenset({("vrijgesteld_van_inburgeringsexamen", True), ("ingeschreven_in_brp", True)})}
    conditional = [r for r in answer.repairs if not r.certain]
    assert [(r.changes[0].fact, [c.fact for c in r.conditions]) for r in conditional] == [
        # 003 goes before 004 (kb/voorrang.yaml) and names only vrijstelling: an ontheffing, which
        # only 004 accepts, decides nothing and is not named
        ("ingeschreven_in_brp", ["vrijgesteld_van_inburgeringsexamen"])
    ]
    assert answer.exhaustive and not answer.nothing_helps
    assert set(answer.candidates) >= {
        "inburgeringsexamen_gehaald_niveau",
        "ingeschreven_in_brp",
        "vrijgesteld_van_inburgeringsexamen",
        "heeft_zorgverzekering",
    }
    for repair in answer.repairs:
        check_repair(engine, applicant, GOAL, repair)
    # sure before conditional, smallest first
    assert [r.certain for r in answer.repairs] == sorted((r.certain for r in answer.repairs), reverse=True)


def test_why_not_shows_the_failing_exam_level_under_an_open_either_or(engine):
    """Issue 1: under a `een van` whose outcome is open, the alternatives that fail show too."""
    values = dict(read_applicant_file(engine.kb, ROOT / "voorbeelden" / "aanvrager.yaml").values)
    values.update(inburgeringsexamen_gehaald_niveau="geen", ingeschreven_in_brp=False)
    result = engine.assess(Applicant(values), GOAL, date(2025, 6, 1), every_failure=True)
    b6 = next(n for n in result.proof.walk() if n.rule_id == "B6")
    shown = [n for n in b6.walk() if n.kind == "fact"]
    assert ("inburgeringsexamen_gehaald_niveau", "geen") in [(n.node, n.value) for n in shown]
    # assess keeps its shorter proof, and both name the same deciding facts
    plain = engine.assess(Applicant(values), GOAL, date(2025, 6, 1))
    assert "inburgeringsexamen_gehaald_niveau" not in [n.node for n in plain.proof.walk()]
    assert plain.unknown_facts == result.unknown_facts


def test_every_failing_condition_of_every_route_shows_in_why_not(engine):
    """Every alternative of an `een van` (or route of a goal) that is not met, every condition of an
    `alle` that is not met and every exception of a rule that does not hold: in the why-not proof,
    whatever the outcome, nested down to the facts."""
    program = engine.program

    @settings(max_examples=20)
    @given(aanvragers(PEILDATUM))
    def check(facts):
        applicant = parse_applicant(engine.kb, facts)
        for goal in ("huiselijk_geweld", GOAL, "humanitair_niet_tijdelijk"):
            result = engine.assess(applicant, goal, PEILDATUM, every_failure=True)
            value = engine.evaluate(applicant, goal, PEILDATUM).value

            def walk(node):
                if node.detail.get("shown_above"):
                    return
                shown = {c.node for c in node.children}
                children = program.nodes[node.node].children
                if node.value is not True and node.kind in ("any", "conclusion"):
                    assert shown >= set(children), node.node
                elif node.value is not True and node.kind == "all":
                    assert shown >= {c for c in children if value(c) is not True}, node.node
                elif node.value is not True and node.kind == "rule" and not node.detail.get("overridden"):
                    base = program.nodes[children[0]]
                    conditions = base.children if base.kind == "all" else [base.id]
                    assert shown >= {c for c in conditions if value(c) is not True} | set(children[1:]), node.node
                if node.kind == "fact":
                    assert not node.children
                for child in node.children:
                    walk(child)

            walk(result.proof)

    check()


def test_a_person_nothing_can_help_is_told_so(engine):
    """A danger to public order fails a condition no applicant can change, on every route."""
    values = dict(read_applicant_file(engine.kb, ROOT / "voorbeelden" / "aanvrager.yaml").values)
    values["vormt_gevaar_openbare_orde"] = True
    answer = find_repairs(engine, Applicant(values), GOAL, PEILDATUM)
    assert answer.repairs == [] and answer.exhaustive and answer.nothing_helps
    text = render_why_not(engine.assess(Applicant(values), GOAL, PEILDATUM, every_failure=True), engine.kb, answer)
    assert "Niets wat u zelf kunt veranderen helpt" in text


def test_unknown_facts_that_still_decide_make_a_conditional_repair_not_nothing_helps(engine):
    """Issue 2: BRP not registered and public order unknown: registering may help."""
    values = dict(read_applicant_file(engine.kb, ROOT / "voorbeelden" / "aanvrager.yaml").values)
    values["ingeschreven_in_brp"] = False
    del values["vormt_gevaar_openbare_orde"]
    applicant = Applicant(values)
    answer = find_repairs(engine, applicant, GOAL, date(2025, 6, 1))
    assert not answer.nothing_helps
    assert [(r.certain, [(c.fact, c.value) for c in r.changes], r.conditions) for r in answer.repairs] == [
        (False, [("ingeschreven_in_brp", True)], (Condition("vormt_gevaar_openbare_orde", (False,)),))
    ]
    text = render_why_not(engine.assess(applicant, GOAL, date(2025, 6, 1), every_failure=True), engine.kb, answer)
    assert (
        "U komt mogelijk in aanmerking als ‘staat ingeschreven in de Basisregistratie Personen (BRP)’ ja wordt "
        "(nu: nee), en als blijkt dat ‘vormt een gevaar voor de openbare orde’ nee is."
    ) in flat(text)
    assert "Niets wat u zelf kunt veranderen" not in text and "Geen combinatie" not in text


def test_a_larger_repair_than_asked_for_is_said_to_exist(engine):
    values = dict(read_applicant_file(engine.kb, ROOT / "voorbeelden" / "aanvrager.yaml").values)
    values.update(inburgeringsexamen_gehaald_niveau="geen", ingeschreven_in_brp=False)
    answer = find_repairs(engine, Applicant(values), GOAL, date(2025, 6, 1), max_changes=1)
    assert answer.larger_exist and not answer.exhaustive and not answer.nothing_helps
    assert all(len(r.changes) <= 1 for r in answer.repairs)


def test_a_person_only_waiting_can_help_is_given_the_date(engine):
    facts = dict(parse_applicant(engine.kb, {}).values)
    from engine.applicant.facts import read_applicant_file

    example = read_applicant_file(engine.kb, ROOT / "voorbeelden" / "aanvrager.yaml")
    values = dict(example.values)
    values["uitzondering_vijfjaartermijn_van_toepassing"] = False
    values["verblijfsvergunningen"] = (
        {"van": date(2016, 9, 1), "verblijfsdoel": "humanitair_niet_tijdelijk", "niet_tijdelijk": True},
    )
    answer = find_repairs(engine, Applicant(values), GOAL, date(2020, 11, 22))
    assert facts == {}
    assert [(r.changes, r.from_date) for r in answer.repairs] == [((), date(2021, 9, 1))]
    assert {f["rule_id"] for f in answer.repairs[0].fulfilled_by_time} == {"B4", "C2"}


INTERVIEW_GOALS = [
    GOAL,
    "huiselijk_geweld",
    "eergerelateerd_geweld",
    "humanitair_niet_tijdelijk",
    "turks_associatieverdrag",
    "slachtoffer_mensenhandel",
]


def interview_cases():
    """(goal, applicant) for several goals: any applicant, or (where scenario bases are eligible) a
    near-eligible one, whose interviews go deep."""

    def cases(goal):
        applicants = aanvragers(PEILDATUM)
        if goal in REPAIR_GOALS:
            applicants = st.one_of(applicants, bijna_geschikte_aanvragers(goal, PEILDATUM).map(lambda pair: pair[0]))
        return st.tuples(st.just(goal), applicants)

    return st.sampled_from(INTERVIEW_GOALS).flatmap(cases)


def _plain(value):
    return [dict(p) for p in value] if isinstance(value, tuple) else value


def run_interview(engine, goal: str, facts: dict, on_question=None) -> dict:
    """The answers an interview for `goal` gets from `facts` (what they lack is skipped);
    `on_question(answers, skipped, question)` sees each question before it is answered."""
    answers: dict = {}
    skipped: set[str] = set()
    for _ in range(80):
        question = next_question(engine, answers, [goal], PEILDATUM, frozenset(skipped))
        if question is None:
            break
        if on_question is not None:
            on_question(answers, skipped, question)
        if question.fact in facts and question.fact not in answers:
            answers[question.fact] = facts[question.fact]
        else:
            skipped.add(question.fact)  # the applicant does not know, or cannot say more
    return answers


def test_the_interview_never_asks_a_question_whose_answer_cannot_change_the_outcome(engine):
    """Property 4(b), for every question along a whole interview, for several goals, without
    discarding examples: a question comes with a witness (answers to other open questions, and
    an answer to it) under which its answer changes the outcome, and the reference evaluator
    (pyDatalog, through `assessments`) confirms that the outcome changes."""
    seen = Counter()

    @settings(max_examples=40, suppress_health_check=[HealthCheck.too_slow])
    @given(interview_cases())
    def check(case):
        goal, facts = case

        def confirm(answers, skipped, question):
            result = assessments(engine, answers, [goal], PEILDATUM)[0]
            # an open outcome, or a refusal beside a referral that may still send the applicant elsewhere
            referrals = {n for r in result.elsewhere_if for n in r["unknown_facts"]}
            assert (result.outcome == "undetermined" and question.fact in result.unknown_facts) or (
                result.outcome == "not_eligible" and question.fact in referrals
            ), (result.outcome, question.fact)
            assert question.witness is not None, question.fact
            given_answers = {name: _plain(value) for name, value in question.witness}
            answer = given_answers.pop(question.fact)
            assert not set(given_answers) & (set(answers) | skipped)
            before = assessments(engine, {**answers, **given_answers}, [goal], PEILDATUM)[0].outcome
            after = assessments(engine, {**answers, **given_answers, question.fact: answer}, [goal], PEILDATUM)[
                0
            ].outcome
            assert before != after, (question.fact, given_answers, answer)
            seen[question.type] += 1
            event(f"{goal}: {question.type}")

        run_interview(engine, goal, facts, confirm)
        seen["interviews"] += 1

    check()
    assert seen["bool"] >= 20 and seen["datum"] + seen["vergunningen"] >= 2, seen


@settings(max_examples=25)
@given(interview_cases())
def test_an_interview_answered_from_a_complete_applicant_reaches_the_outcome_of_assess(engine, case):
    goal, facts = case
    expected = engine.assess(parse_applicant(engine.kb, facts), goal, PEILDATUM).outcome
    final = assessments(engine, run_interview(engine, goal, facts), [goal], PEILDATUM)[0].outcome
    assert final == expected


def test_the_interview_in_a_terminal_asks_again_after_a_wrong_answer_and_saves_the_answers(tmp_path):
    answers = tmp_path / "antwoorden.yaml"
    answers.write_text((ROOT / "tests" / "golden" / "hier_geboren_nationale_veiligheid_onbekend.yaml").read_text())
    saved = tmp_path / "aanvrager.yaml"
    result = CliRunner().invoke(
        main,
        ["interview", "--goal", GOAL, "--answers", str(answers), "--save", str(saved), "--peildatum", "2026-11-22"],
        input="misschien\nnee\n",
    )
    assert result.exit_code == 0, result.output
    assert result.output.count("nationale veiligheid? [ja/nee") == 2
    assert "Dat antwoord past niet: antwoord ja of nee" in result.output
    # born here and no danger to national security: C13 leaves nothing that refuses
    assert "\nAntwoord: ja, de aanvrager komt in aanmerking.\n" in result.output
    rerun = CliRunner().invoke(
        main, ["assess", str(saved), "--goal", GOAL, "--peildatum", "2026-11-22", "--format", "json"]
    )
    assert rerun.exit_code == 0 and '"outcome": "eligible"' in rerun.output


def test_interview_next_prints_the_next_question_as_json(tmp_path):
    import json

    result = CliRunner().invoke(
        main,
        [
            "interview",
            "--next",
            "--goal",
            GOAL,
            "--answers",
            str(ROOT / "tests" / "golden" / "hier_geboren_nationale_veiligheid_onbekend.yaml"),
            "--peildatum",
            "2026-11-22",
        ],
    )
    step = json.loads(result.output)
    assert step["done"] is False
    assert step["question"]["fact"] == "vormt_gevaar_nationale_veiligheid"
    assert step["question"]["allowed"] == [True, False]


def _example_with_permits_without_details(tmp_path):
    import yaml

    data = yaml.safe_load((ROOT / "voorbeelden" / "aanvrager.yaml").read_text(encoding="utf-8"))
    data["verblijfsvergunningen"] = [
        {k: v for k, v in p.items() if k in ("van", "tot")} for p in data["verblijfsvergunningen"]
    ]
    path = tmp_path / "antwoorden.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_interview_next_gives_a_front_end_the_fields_of_a_permit_period(engine, tmp_path):
    """Issue 5: a permit question says what one period holds, with types and allowed purposes."""
    import json

    answers = tmp_path / "antwoorden.json"
    answers.write_text(
        json.dumps(
            {
                "heeft_asielvergunning": False,
                "is_ex_geprivilegieerde": False,
                "vormt_gevaar_openbare_orde": False,
                "heeft_zorgverzekering": True,
                "heeft_geldig_reisdocument": True,
            }
        ),
        encoding="utf-8",
    )
    result = CliRunner().invoke(
        main, ["interview", "--next", "--goal", GOAL, "--answers", str(answers), "--peildatum", "2025-06-01"]
    )
    question = json.loads(result.output)["question"]
    assert question["fact"] == "verblijfsvergunningen" and question["type"] == "vergunningen"
    fields = {f["name"]: f for f in question["fields"]}
    assert list(fields) == ["van", "tot", "verblijfsdoel", "niet_tijdelijk"]
    assert fields["van"] == {"name": "van", "label": "begindatum", "type": "datum", "required": True}
    assert fields["tot"]["type"] == "datum" and fields["tot"]["required"] is False
    assert fields["verblijfsdoel"]["type"] == "keuze"
    assert fields["verblijfsdoel"]["allowed"] == list(engine.kb.period_fields["verblijfsdoel"]["waarden"])
    assert "humanitair_niet_tijdelijk" in fields["verblijfsdoel"]["allowed"]
    assert fields["niet_tijdelijk"] == {
        "name": "niet_tijdelijk",
        "label": "het verblijfsdoel is niet-tijdelijk",
        "type": "bool",
        "required": False,
        "allowed": [True, False],
    }
    assert question["incomplete"] == []


def test_a_permit_given_without_its_purpose_is_asked_about_again_while_it_decides(tmp_path):
    """Issue 5: the purpose of a permit already entered still decides the outcome, so it is asked."""
    import json

    path = _example_with_permits_without_details(tmp_path)
    result = CliRunner().invoke(
        main, ["interview", "--next", "--goal", GOAL, "--answers", str(path), "--peildatum", "2026-11-22"]
    )
    step = json.loads(result.output)
    assert step["done"] is False and step["outcomes"] == {GOAL: "undetermined"}
    assert step["question"]["fact"] == "verblijfsvergunningen"
    assert step["question"]["incomplete"] == [
        {"index": 0, "missing": ["verblijfsdoel", "niet_tijdelijk"]},
        {"index": 1, "missing": ["verblijfsdoel", "niet_tijdelijk"]},
    ]
    # in a terminal the missing details are asked per period, the rest of the period is kept
    saved = tmp_path / "aanvrager.yaml"
    result = CliRunner().invoke(
        main,
        ["interview", "--goal", GOAL, "--answers", str(path), "--save", str(saved), "--peildatum", "2026-11-22"],
        input="echtgenoot_of_partner\nnee\nhumanitair_niet_tijdelijk\nja\n",
    )
    assert result.exit_code == 0, result.output
    assert "Vergunning 1 september 2016 tot en met 31 augustus 2021:" in result.output
    # a non-temporary purpose now (humanitarian, non-temporary) is what the example lacked
    assert "\nAntwoord: ja, de aanvrager komt in aanmerking.\n" in result.output
    import yaml

    periods = yaml.safe_load(saved.read_text(encoding="utf-8"))["verblijfsvergunningen"]
    assert [(p["van"], p.get("tot"), p["verblijfsdoel"], p["niet_tijdelijk"]) for p in periods] == [
        ("2016-09-01", "2021-08-31", "echtgenoot_of_partner", False),
        ("2021-09-01", None, "humanitair_niet_tijdelijk", True),
    ]


def test_a_permit_detail_the_applicant_does_not_know_ends_the_questions_about_it(tmp_path, engine):
    path = _example_with_permits_without_details(tmp_path)
    result = CliRunner().invoke(
        main, ["interview", "--goal", GOAL, "--answers", str(path), "--peildatum", "2026-11-22"], input="\n\n\n\n"
    )
    assert result.exit_code == 0, result.output
    assert result.output.count("Van deze vergunning(en) ontbreekt nog iets") == 1
    # without the purposes of stay it stays open whether the purpose is non-temporary (B5, C8), and
    # the short answer says the permits are the question that decides it
    assert "\nAntwoord: nog niet te bepalen; het hangt af van feiten die nog onbekend zijn.\n" in result.output
    short = flat(result.output.split("Antwoord: nog niet te bepalen")[1])
    assert f"Nog open: - {engine.kb.rules['B5'].label} (bron 004) - {engine.kb.rules['C8'].label} (bron 003)" in short
    assert f"Deze vragen beslissen het: - {flat(engine.kb.facts['verblijfsvergunningen'].question)}" in short


def test_why_not_and_interview_step_json_match_their_published_schemas(engine, tmp_path):
    import json

    import fastjsonschema

    runner = CliRunner()
    why_not = fastjsonschema.compile(json.loads(runner.invoke(main, ["schema", "--kind", "why-not"]).output))
    assessment = fastjsonschema.compile(json.loads(runner.invoke(main, ["schema", "--kind", "assessment"]).output))
    step = fastjsonschema.compile(json.loads(runner.invoke(main, ["schema", "--kind", "interview-step"]).output))
    example = read_applicant_file(engine.kb, ROOT / "voorbeelden" / "aanvrager.yaml")
    cases = {
        "ex1": dict(inburgeringsexamen_gehaald_niveau="geen", ingeschreven_in_brp=False),
        "mixed": dict(ingeschreven_in_brp=False, vormt_gevaar_openbare_orde=None),
        "danger": dict(vormt_gevaar_openbare_orde=True),
        "as_is": {},
    }
    import yaml

    from engine.answer.interview import applicant_file

    for name, change in cases.items():
        values = {**example.values, **change}
        path = tmp_path / f"{name}.yaml"
        path.write_text(
            yaml.safe_dump(applicant_file({k: v for k, v in values.items() if v is not None})), encoding="utf-8"
        )
        for peildatum in ("2020-11-22", "2025-06-01"):
            data = json.loads(
                runner.invoke(
                    main, ["why-not", str(path), "--goal", GOAL, "--peildatum", peildatum, "--format", "json"]
                ).output
            )
            why_not(data)
            assessment(data["assessment"])
        data = json.loads(
            runner.invoke(
                main, ["interview", "--next", "--goal", GOAL, "--answers", str(path), "--peildatum", "2025-06-01"]
            ).output
        )
        step(data)
    step(
        json.loads(
            runner.invoke(
                main,
                [
                    "interview",
                    "--next",
                    "--goal",
                    GOAL,
                    "--answers",
                    str(_example_with_permits_without_details(tmp_path)),
                    "--peildatum",
                    "2026-11-22",
                ],
            ).output
        )
    )
