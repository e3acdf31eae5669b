"""The vocabulary's constraints (kb/beperkingen.yaml): which situations cannot exist.

Declared once; the loader refuses an applicant that breaks one (CLI, batch, API), the strategies
and the caseload generator never make one, the interview does not ask what one settles, and the
audit searches only situations that break none."""

from __future__ import annotations

import json
import shutil
import textwrap
from datetime import date

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st
from starlette.testclient import TestClient

from cli import main
from engine.answer.interview import assessments, next_question
from engine.applicant.constraints import broken_constraints, check_constraints, forced_values, repaired
from engine.applicant.facts import parse_applicant
from engine.applicant.pipeline import evaluator_inputs
from engine.checks import strategies as kit
from engine.checks.audit import audit_directory
from engine.checks.caseload import caseload
from engine.errors import InputError, KnowledgeBaseError
from engine.rules.model import KB_DIR, load_knowledge_base
from engine.web.app import create_app
from tests.test_audit import GOAL, SRC, facts, kb_dir

PEILDATUM = date(2026, 11, 22)
FAMILY_PERMIT = [{"van": "2024-01-01", "verblijfsdoel": "familie_of_gezinslid", "niet_tijdelijk": False}]


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


# -- the declaration -----------------------------------------------------------------------------


def test_every_constraint_has_an_id_a_label_and_a_dutch_reason(kb):
    assert kb.constraints
    for c in kb.constraints.values():
        assert c.id and c.label and c.reason.endswith(".") and c.file == "kb/beperkingen.yaml"
        assert (c.impossible is None) != (c.period is None)


def test_a_constraint_reads_facts_and_quantities_not_conclusions(tmp_path):
    shutil.copytree(KB_DIR, tmp_path / "kb")
    path = tmp_path / "kb" / "beperkingen.yaml"
    path.write_text(
        path.read_text(encoding="utf-8")
        + "  - {id: kan_niet, label: x, reden: x., onmogelijk: {alle: [onbepaalde_tijd_regulier, is_in_nederland]}}\n",
        encoding="utf-8",
    )
    with pytest.raises(KnowledgeBaseError, match=r"kb/beperkingen.yaml \[kan_niet\]: 'onbepaalde_tijd_regulier'"):
        load_knowledge_base(tmp_path / "kb")


def test_a_constraint_without_a_reason_is_refused(tmp_path):
    shutil.copytree(KB_DIR, tmp_path / "kb")
    path = tmp_path / "kb" / "beperkingen.yaml"
    path.write_text(
        path.read_text(encoding="utf-8") + "  - {id: kan_niet, label: x, onmogelijk: is_in_nederland}\n",
        encoding="utf-8",
    )
    with pytest.raises(KnowledgeBaseError, match="heeft een 'label' en een 'reden'"):
        load_knowledge_base(tmp_path / "kb")


# -- the loader ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data, constraint, named",
    [
        (
            {"verblijft_illegaal_in_nederland": True, "verblijfsvergunningen": FAMILY_PERMIT},
            "illegaal_met_geldige_vergunning",
            ["verblijft_illegaal_in_nederland", "verblijfsvergunningen"],
        ),
        (
            {"verblijft_illegaal_in_nederland": True, "heeft_onrechtmatig_verblijf_gehad": False},
            "illegaal_zonder_onrechtmatig_verblijf",
            ["verblijft_illegaal_in_nederland", "heeft_onrechtmatig_verblijf_gehad"],
        ),
        (
            {"heeft_duitse_nationaliteit": True, "heeft_nationaliteit_eu_lidstaat": False},
            "benelux_of_duits_niet_eu_lidstaat",
            ["heeft_duitse_nationaliteit", "heeft_nationaliteit_eu_lidstaat"],
        ),
        (
            {"verblijfsvergunningen": [{"van": "2020-01-01", "tot": "2020-01-01"}]},
            "vergunning_heeft_duur",
            ["verblijfsvergunningen[0].van", "verblijfsvergunningen[0].tot"],
        ),
    ],
    ids=["illegal with a family permit", "illegal, never unlawful", "German, not EU", "a one-day permit"],
)
def test_an_applicant_breaking_a_constraint_is_refused_naming_the_facts_and_the_constraint(
    kb, tmp_path, data, constraint, named
):
    file = tmp_path / "aanvrager.json"
    file.write_text(json.dumps(data), encoding="utf-8")
    result = run("assess", file, "--goal", "onbepaalde_tijd_regulier", "--peildatum", PEILDATUM.isoformat())
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    line = result.output.strip()
    assert f"beperking {constraint}:" in line and kb.constraints[constraint].reason in line
    assert f"deze feiten kunnen niet samen: {', '.join(named)}" in line


def test_leaving_one_of_the_facts_out_is_always_possible(kb):
    values = parse_applicant(kb, {"verblijft_illegaal_in_nederland": True}).values
    assert broken_constraints(kb, values, PEILDATUM) == []
    evaluator_inputs(kb, {"verblijfsvergunningen": FAMILY_PERMIT, "is_in_nederland": False}, PEILDATUM)


def test_a_combination_the_sources_leave_open_stays_possible(kb):
    """A newborn with an mvv and means of subsistence (those of whom the child stays with), a
    child as victim of domestic violence, two nationalities: none is ruled out."""
    evaluator_inputs(
        kb,
        {
            "geboortedatum": "2026-11-21",
            "heeft_geldige_mvv_voor_verblijfsdoel": True,
            "beschikt_over_voldoende_middelen_van_bestaan": True,
            "is_slachtoffer_huiselijk_geweld": True,
            "heeft_turkse_nationaliteit": True,
            "heeft_duitse_nationaliteit": True,
        },
        PEILDATUM,
    )


def test_the_check_is_one_function_over_parsed_values_another_reader_can_call(kb):
    values = {"verblijft_illegaal_in_nederland": True, "verblijfsvergunningen": ({"van": date(2024, 1, 1)},)}
    check_constraints(kb, values)  # without a peildatum: only what reads no quantity
    with pytest.raises(InputError, match="illegaal_met_geldige_vergunning"):
        check_constraints(kb, values, PEILDATUM)
    # the permit ended before the peildatum: possible
    check_constraints(
        kb, {**values, "verblijfsvergunningen": ({"van": date(2020, 1, 1), "tot": date(2021, 1, 1)},)}, PEILDATUM
    )


def test_batch_gives_an_error_row_naming_the_constraint(tmp_path):
    source = tmp_path / "zaken.jsonl"
    rows = [{"heeft_zorgverzekering": True}, {"verblijft_illegaal_in_nederland": True, "is_in_nederland": False}]
    source.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    out = tmp_path / "uit.jsonl"
    result = run("batch", source, "--out", out, "--peildatum", PEILDATUM.isoformat())
    assert result.exit_code == 1, result.output
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert lines[0]["error"] is None
    assert "rij 2" in lines[1]["error"] and "beperking illegaal_niet_in_nederland" in lines[1]["error"]
    assert "Traceback" not in result.output


def test_the_api_answers_422_with_the_message_the_cli_gives(engine, tmp_path):
    data = {"verblijft_illegaal_in_nederland": True, "verblijfsvergunningen": FAMILY_PERMIT}
    file = tmp_path / "aanvrager.json"
    file.write_text(json.dumps(data), encoding="utf-8")
    cli = run("assess", file, "--goal", "onbepaalde_tijd_regulier", "--peildatum", PEILDATUM.isoformat())
    with TestClient(create_app(engine), raise_server_exceptions=False) as client:
        body = {"applicant": data, "goal": "onbepaalde_tijd_regulier", "peildatum": PEILDATUM.isoformat()}
        response = client.post("/v1/assess", json=body)
    assert response.status_code == 422
    assert response.json()["error"] in cli.output and "illegaal_met_geldige_vergunning" in response.json()["error"]


# -- generators ------------------------------------------------------------------------------------


def _possible(kb, data) -> None:
    applicant, _ = evaluator_inputs(kb, data, PEILDATUM)  # refuses what breaks a constraint
    assert broken_constraints(kb, applicant.values, PEILDATUM) == []


@given(st.data())
def test_no_strategy_yields_an_applicant_that_breaks_a_constraint(kb, data):
    _possible(kb, data.draw(kit.aanvragers(PEILDATUM)))
    for name, route in sorted(kit.routes().items()):
        _possible(kb, data.draw(route(PEILDATUM), label=name))
    _possible(kb, kit.buiten_bereik_uitgesloten(kb, data.draw(kit.aanvragers(PEILDATUM)), peildatum=PEILDATUM))
    _possible(kb, data.draw(kit.aanvragers_voor_doel("onbepaalde_tijd_regulier", PEILDATUM, max_wijzigingen=6)))


@given(st.data())
def test_a_fixed_fact_is_kept_and_another_is_left_out(kb, data):
    facts = data.draw(kit.aanvragers(PEILDATUM, verblijft_illegaal_in_nederland=True, heeft_asielvergunning=True))
    assert facts["verblijft_illegaal_in_nederland"] is True and facts["heeft_asielvergunning"] is True
    facts = data.draw(kit.aanvragers(PEILDATUM, verblijft_illegaal_in_nederland=True))
    _possible(kb, facts)


def test_the_caseload_generator_never_makes_an_impossible_applicant(kb):
    bases = tuple(kit._bases().values())
    rows = list(caseload(kb, 400, 7, PEILDATUM, bases=bases))
    for row in rows:
        _possible(kb, row)
    # what it repairs: a broken constraint loses its last yes/no fact, a one-day period gets a length
    raw = {"verblijft_illegaal_in_nederland": True, "verblijfsvergunningen": FAMILY_PERMIT}
    assert repaired(kb, raw, PEILDATUM) == {"verblijfsvergunningen": FAMILY_PERMIT}
    one_day = {"verblijfsvergunningen": [{"van": "2020-01-01", "tot": "2020-01-01"}]}
    assert repaired(kb, one_day, PEILDATUM) == {"verblijfsvergunningen": [{"van": "2020-01-01", "tot": "2020-01-02"}]}


# -- the interview -----------------------------------------------------------------------------------


def test_what_the_constraints_settle_is_read_as_answered(kb):
    assert forced_values(kb, {"heeft_belgische_nationaliteit": True}) == {
        "heeft_nationaliteit_eu_eer_of_zwitserland": True,
        "heeft_nationaliteit_eu_lidstaat": True,
    }
    assert forced_values(kb, {"verblijft_illegaal_in_nederland": True}) == {
        "heeft_asielvergunning": False,
        "heeft_onrechtmatig_verblijf_gehad": True,
        "is_in_nederland": True,
    }


def _asked(engine, answers: dict, goal: str, limit: int = 60) -> list[str]:
    """The facts the interview asks, answering each yes/no question against its witness (so that
    the outcome stays open as long as it can) and the others with a plain value."""
    answers = dict(answers)
    asked = []
    for _ in range(limit):
        question = next_question(engine, answers, [goal], PEILDATUM)
        if question is None:
            break
        asked.append(question.fact)
        if question.type == "bool":
            answers[question.fact] = (not question.witness[-1][1]) if question.witness else True
        elif question.type == "keuze":
            answers[question.fact] = question.values[0]
        elif question.type == "datum":
            answers[question.fact] = "1990-01-01"
        elif question.type == "vergunningen":
            answers[question.fact] = []
        else:
            answers[question.fact] = "tekst"
    return asked


def test_the_interview_never_asks_what_a_constraint_settles(engine):
    goal = "algemene_voorwaarden"
    # the fact is asked when nothing settles it ...
    assert "heeft_onrechtmatig_verblijf_gehad" in _asked(engine, {}, goal)
    # ... and not once the applicant says to stay here illegally, which settles it (and the outcome
    # reads it as answered)
    answers = {"verblijft_illegaal_in_nederland": True}
    asked = _asked(engine, answers, goal)
    assert not {"heeft_onrechtmatig_verblijf_gehad", "is_in_nederland", "heeft_asielvergunning"} & set(asked)
    settled = assessments(engine, answers, [goal], PEILDATUM)[0]
    assert "heeft_onrechtmatig_verblijf_gehad" not in settled.unknown_facts


def test_an_answer_that_breaks_a_constraint_is_refused(engine):
    with pytest.raises(InputError, match="illegaal_zonder_onrechtmatig_verblijf"):
        assessments(
            engine,
            {"verblijft_illegaal_in_nederland": True, "heeft_onrechtmatig_verblijf_gehad": False},
            ["algemene_voorwaarden"],
            PEILDATUM,
        )


# -- the audit -----------------------------------------------------------------------------------------


def test_the_audit_searches_only_situations_a_constraint_allows(tmp_path):
    rules = f"""
regels:
  - {{id: C1, label: p, conclusie: p, voorwaarden: a, {SRC}}}
  - {{id: C1.x, label: x, uitzondering_op: C1, van_toepassing_als: b, voorwaarden: a, {SRC}}}
  - {{id: C1.y, label: y, uitzondering_op: C1, van_toepassing_als: b, voorwaarden: {{niet: a}}, {SRC}}}
"""
    free = kb_dir(tmp_path / "vrij", facts("a", "b") + GOAL + rules)
    assert "tegenstrijdig/C1" in {f.key for f in audit_directory(free, PEILDATUM).findings}
    bound = kb_dir(tmp_path / "gebonden", facts("a", "b") + GOAL + rules)
    (bound / "beperkingen.yaml").write_text(
        textwrap.dedent("""
        beperkingen:
          - id: nooit_b
            label: b
            onmogelijk: b
            reden: Voor de test.
        """),
        encoding="utf-8",
    )
    report = audit_directory(bound, PEILDATUM)
    assert "tegenstrijdig/C1" not in {f.key for f in report.findings}
    assert all(not w.applicant.get("b") for f in report.findings for w in f.witnesses)


def test_every_witness_in_the_audit_json_of_the_real_rule_base_loads(kb):
    result = run("audit", "--peildatum", PEILDATUM.isoformat(), "--format", "json")
    assert result.exit_code == 0, result.output[-500:]
    data = json.loads(result.output)
    witnesses = [w for f in data["findings"] for w in f["witnesses"]]
    assert witnesses
    for w in witnesses:
        applicant, _ = evaluator_inputs(kb, w["applicant"], PEILDATUM, json_values=True)
        assert broken_constraints(kb, applicant.values, PEILDATUM) == [], w["label"]


def _truth_values() -> st.SearchStrategy:
    return st.sampled_from([True, False, None])


@given(st.data())
def test_the_generated_constraint_test_reads_each_constraint_as_kleene_does(data):
    """`any_broken` runs one generated expression per constraint: true exactly where Kleene's
    reading of `onmogelijk` is true, for every mix of known and unknown facts."""
    from engine.applicant.constraints import _broken_test, kleene, names_of

    kb = load_knowledge_base()
    names = sorted({n for c in kb.constraints.values() for n in names_of(c)})
    values = {n: v for n in names if (v := data.draw(_truth_values(), label=n)) is not None}
    want = any(c.impossible is not None and kleene(c.impossible, values) is True for c in kb.constraints.values())
    assert _broken_test(kb)(values, values) is want
