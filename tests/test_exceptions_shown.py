"""An exception that applies is never hidden (issue 18, item 5).

004 (A9): 'U mag niet onrechtmatig in Nederland hebben verbleven.' 'Deze afwijzingsgrond geldt
onder andere niet ... of slachtoffer is van mensenhandel.' Whether the outcome is decided or still
open, an advisor sees every exception that set a rule aside, with its source and verbatim quote, in
the text and the JSON of `assess` and `why-not`.
"""

from __future__ import annotations

import json
from datetime import date

from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from cli import main
from engine.applicant.facts import parse_applicant
from engine.checks.strategies import aanvragers
from explain import render_assessment, render_why_not
from tests.conftest import ROOT, SEEDS, flat

PEILDATUM = date(2026, 11, 23)
TRAFFICKED = ROOT / "tests" / "golden" / "slachtoffer_mensenhandel_onrechtmatig_verblijf.yaml"


def _cli(*args) -> dict:
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert result.exit_code in (0, 1, 2, 3), result.output
    return json.loads(result.output)


def _check_a9_set_aside(data: dict) -> None:
    assert data["outcome"] == "undetermined"
    (a9,) = [e for e in data["exceptions_applied"] if e["rule_id"] == "A9.mensenhandel"]
    assert a9["kind"] == "exception"
    assert a9["detail"]["exception_to"] == "A9"
    assert a9["detail"]["exception_to_label"] == "niet onrechtmatig in Nederland verbleven"
    assert a9["source"]["file"].startswith("004_")
    assert a9["source"]["quote"] == "of slachtoffer is van mensenhandel"
    # the quote the knowledge base declares (tests/test_sources.py: verbatim in the source file)
    assert a9["source"]["quote"] in (SEEDS / a9["source"]["file"]).read_text(encoding="utf-8")
    # why it applies: the applicant is a victim of trafficking
    (applies,) = a9["children"]
    assert applies["node"] == "is_slachtoffer_mensenhandel" and applies["value"] is True


def test_assess_json_names_the_set_aside_illegal_stay_ground_while_the_goal_is_open():
    data = _cli("assess", TRAFFICKED, "--goal", "huiselijk_geweld", "--peildatum", PEILDATUM, "--format", "json")
    _check_a9_set_aside(data)


def test_why_not_json_names_the_set_aside_illegal_stay_ground_while_the_goal_is_open():
    data = _cli("why-not", TRAFFICKED, "--goal", "huiselijk_geweld", "--peildatum", PEILDATUM, "--format", "json")
    _check_a9_set_aside(data["assessment"])
    # a ground set aside is not a failure: why-not does not list A9 as not met
    assert "A9" not in [f["rule_id"] for f in data["failing"]]


def test_without_the_exception_the_illegal_stay_ground_is_not_set_aside(tmp_path):
    """The same victim who is no victim of trafficking: nothing sets A9 aside, so none is shown
    as applied (whether another, unnamed exception applies stays open: 'onder andere')."""
    path = tmp_path / "aanvrager.yaml"
    path.write_text(
        TRAFFICKED.read_text(encoding="utf-8").replace(
            "is_slachtoffer_mensenhandel: true", "is_slachtoffer_mensenhandel: false"
        ),
        encoding="utf-8",
    )
    data = _cli("assess", path, "--goal", "huiselijk_geweld", "--peildatum", PEILDATUM, "--format", "json")
    assert data["outcome"] == "undetermined"
    assert data["exceptions_applied"] == []


@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_every_exception_that_applies_appears_with_its_quote_in_assess_and_why_not(engine, data):
    """Whatever the outcome, each declared exception on the way to the goal whose 'van toepassing
    als' holds is named in the text of assess and why-not with its verbatim quote."""
    facts = data.draw(aanvragers(PEILDATUM))
    goal = data.draw(st.sampled_from(sorted(engine.kb.goals)))
    applicant = parse_applicant(engine.kb, facts)
    builder = engine.evaluate(applicant, goal, PEILDATUM)
    spec = engine.kb.goals[goal]
    roots = [spec.conclusion] + ([spec.out_of_scope] if spec.out_of_scope else [])
    expected = [
        engine.program.nodes[n]
        for n in engine.program.reachable(roots)
        if engine.program.nodes[n].kind == "exception"
        and builder.value(engine.program.nodes[n].detail["applies"]) is True
    ]
    result = engine.assess(applicant, goal, PEILDATUM)
    assert sorted(e.rule_id for e in result.exceptions_applied) == sorted(n.rule_id for n in expected)
    texts = [
        render_assessment(result, engine.kb),
        render_why_not(engine.assess(applicant, goal, PEILDATUM, every_failure=True), engine.kb),
    ]
    for node in expected:
        for text in texts:
            assert f"Uitzondering {node.rule_id} op {node.detail['exception_to']}" in flat(text)
            assert f"“{node.source.quote}”" in flat(text)


def test_why_not_of_an_eligible_applicant_still_names_the_exception_with_its_quote():
    """Why-not shows no routes when nothing is missing; the exception that set A9 aside is then
    worked out in its own section, not pointed 'hierboven' to a proof that is not shown."""
    result = CliRunner().invoke(
        main, ["why-not", str(TRAFFICKED), "--goal", "algemene_voorwaarden", "--peildatum", str(PEILDATUM), "--detail"]
    )
    assert "Er ontbreekt niets" in result.output
    assert "Uitzondering A9.mensenhandel op A9" in result.output and "(zie hierboven)" not in result.output
    assert "Bron 004: “of slachtoffer is van mensenhandel”" in result.output
