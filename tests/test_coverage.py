"""Rule coverage: recorded only when asked for, reported per rule, exception and condition."""

from __future__ import annotations

import json
import os
from datetime import date

import fastjsonschema
import pytest
from click.testing import CliRunner

from cli import main
from engine.applicant.facts import parse_applicant
from engine.checks import coverage
from tests.test_scenarios import FILES, check_scenario, load_scenario

PEILDATUM = date(2026, 11, 22)


def _day(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


def test_nothing_is_recorded_unless_asked_for(engine, monkeypatch):
    monkeypatch.setattr(coverage, "recorder", None)
    engine.evaluate(parse_applicant(engine.kb, {}), sorted(engine.kb.goals)[0], PEILDATUM)
    assert coverage.recorder is None


def _record(engine, path, context="tests/test_scenarios.py", files=FILES):
    """Record what running `check_scenario` (the scenario tests themselves) exercises, under
    `context`, into `path` (added to what is there)."""
    saved = coverage.recorder, os.environ.get(coverage.CONTEXT_ENV)
    recorder = coverage.recorder = coverage.Recorder(path)
    os.environ[coverage.CONTEXT_ENV] = context
    try:
        for file in files:
            check_scenario(engine, load_scenario(file), file.stem)
        recorder.flush()
    finally:
        coverage.recorder = saved[0]
        if saved[1] is None:
            os.environ.pop(coverage.CONTEXT_ENV, None)
        else:
            os.environ[coverage.CONTEXT_ENV] = saved[1]
    return path


@pytest.fixture(scope="module")
def scenario_coverage(engine, tmp_path_factory):
    """One recording of every scenario test, shared by the tests below (about 2 s)."""
    path = _record(engine, tmp_path_factory.mktemp("dekking") / "dekking.json")
    return path, coverage.report(engine, coverage.read_data(path))


GOAL_FILES = [p for p in FILES if "doel" in load_scenario(p)]
FEW = GOAL_FILES[:12]


def test_every_scenario_evaluation_counts_rules_exceptions_and_conditions(engine, scenario_coverage):
    _, rep = scenario_coverage
    # the report names the rule base whose declarations it counts
    assert rep["format"] == "verblijfsregels/kb-coverage-report" and rep["version"] == 2
    assert rep["kb_version"] == engine.kb.version
    rows = {r["id"]: r for r in rep["rules"]}
    # one evaluation per goal scenario, and at least one per fee scenario (more for the reductions)
    assert rep["evaluations"] >= len(FILES)
    # every declaration has a row, with or without conditions; each row's counts add up
    assert set(engine.kb.rules) - {
        r.id for r in engine.kb.rules.values() if r.kind == "regel" and r.conclusion is None
    } <= set(rows)
    assert set(engine.kb.disagreements) <= set(rows) and set(engine.kb.fee_rules) <= set(rows)
    for row in rows.values():
        assert row["true"] + row["false"] + row["unknown"] <= rep["evaluations"], row["id"]
    assert set(rep["never_exercised"]) == {r["id"] for r in rows.values() if not r["true"]}
    per_goal: dict[str, int] = {}
    for path in GOAL_FILES:
        goal = load_scenario(path)["doel"]
        per_goal[goal] = per_goal.get(goal, 0) + 1
    # the rules concluding a goal are evaluated once per scenario of each goal that reaches them: their
    # own goal's, and that of a goal built on it (humanitair_tijdelijk reads buitenschuld, ...)
    reach = {g: set(engine.program.reachable(coverage.model_roots(engine, g))) for g in per_goal}
    node_of = {n.rule_id: nid for nid, n in engine.program.nodes.items() if n.kind == "rule"}
    for goal in per_goal:
        for rule in engine.kb.rules.values():
            if rule.conclusion == engine.kb.goals[goal].conclusion and rule.id in rows:
                expected = sum(count for g, count in per_goal.items() if node_of[rule.id] in reach[g])
                assert expected >= per_goal[goal]
                assert sum(rows[rule.id][k] for k in ("true", "false", "unknown")) == expected, rule.id
            elif rule.conclusion is None and rule.goals == (goal,) and rule.id in rows:
                # a consequence or term without conditions: once per scenario of its goal
                assert sum(rows[rule.id][k] for k in ("true", "false", "unknown")) == per_goal[goal], rule.id
    assert all(c["position"].startswith(("c", "a", "v")) for r in rows.values() for c in r["conditions"])


def test_declarations_without_conditions_have_a_row_fired_or_not(engine, scenario_coverage):
    """Consequences and terms without conditions and the base amounts of the forms (G1-G7) are
    in the table: a consequence fires whenever its goal is assessed, a term when its start date
    is known, a base amount when none of its exceptions applies (false: one does)."""
    _, rep = scenario_coverage
    rows = {r["id"]: r for r in rep["rules"]}
    kb = engine.kb
    free = [r.id for r in kb.rules.values() if r.conclusion is None and r.kind in ("gevolg", "termijn")]
    bases = [f.id for f in kb.fee_rules.values() if f.applies_when is None and not f.exception_to]
    assert len(free) >= 30 and {"G1", "G2", "G3", "G4", "G5", "G6", "G7"} <= set(bases)
    for rid in free + bases:
        assert rows[rid]["unconditional"] and rows[rid]["conditions"] == [], rid
    consequence = next(r for r in kb.rules.values() if r.conclusion is None and r.kind == "gevolg")
    assert rows[consequence.id]["false"] == rows[consequence.id]["unknown"] == 0
    assert rows["G2"]["true"] and rows["G2"]["false"]  # G2 charged, and set aside by one of its exceptions
    assert "G5" not in rep["never_false"] and "G2" not in rep["never_false"]  # G5 has no exception


# Rules no scenario can exercise, each proven unreachable: an allow-list, nothing else.
UNREACHABLE = {
    # The audit finds that no goal, rule or fee rule reads F4's conclusion
    # (`ongebruikt/doelgroep_geweldsregeling_volgens_001`, explained in kb/audit.yaml): F4 is the
    # pointer of source 001 to the violence route, which E1.bron_001 encodes and the scenarios
    # of the violence goals exercise. No assessment of any goal or form evaluates it.
    "F4": "ongebruikt/doelgroep_geweldsregeling_volgens_001",
}


def not_exercised(rep) -> list[str]:
    rows = {r["id"]: r for r in rep["rules"]}
    return [
        f"{rid} ({rows[rid]['kind']}): {rows[rid]['label']}" for rid in rep["never_exercised"] if rid not in UNREACHABLE
    ]


def test_every_rule_and_exception_is_exercised_by_a_scenario_test(engine, scenario_coverage):
    _, rep = scenario_coverage
    rows = {r["id"]: r for r in rep["rules"]}
    never = not_exercised(rep)
    assert not never, "nooit gevuurd of toegepast in een scenario:\n" + "\n".join(never)
    audit_keys = {key for note in engine.kb.audit_notes for key in note.patterns}
    for rid, finding in UNREACHABLE.items():
        assert rid in rep["never_exercised"], f"{rid} staat ten onrechte op de lijst: een scenario raakt het"
        assert not rows[rid]["read_by_a_goal"], f"{rid}: een doel of formulier leest het wel"
        assert finding in audit_keys, f"{rid}: de auditbevinding {finding} staat niet (meer) in kb/audit.yaml"


def test_recordings_of_several_processes_add_up(engine, tmp_path):
    path = _record(engine, tmp_path / "dekking.json", files=FEW)
    once = json.loads(path.read_text())
    _record(engine, path, files=FEW)
    twice = json.loads(path.read_text())
    for context, data in once["contexts"].items():
        assert twice["contexts"][context]["evaluations"] == 2 * data["evaluations"]
        for name, counts in data["counts"].items():
            assert twice["contexts"][context]["counts"][name] == [2 * c for c in counts]


def test_the_coverage_command_prints_the_table_and_what_was_never_exercised(engine, tmp_path, scenario_coverage):
    path = tmp_path / "dekking.json"
    path.write_bytes(scenario_coverage[0].read_bytes())
    _record(engine, path, context="tests/elders.py", files=FEW)
    text = CliRunner().invoke(main, ["coverage", "--data", str(path)])
    assert text.exit_code == 0, text.output
    assert "regels gevuurd" in text.output and "Nooit gevuurd" in text.output
    for rule_id in engine.kb.rules:
        if engine.kb.rules[rule_id].conditions is not None or engine.kb.rules[rule_id].kind != "regel":
            assert f"\n{rule_id} " in text.output, rule_id
    for fee_id in engine.kb.fee_rules:
        assert f"\n{fee_id} " in text.output, fee_id
    result = CliRunner().invoke(
        main, ["coverage", "--data", str(path), "--format", "json", "--context", "tests/test_scenarios.py"]
    )
    rep = json.loads(result.output)
    assert rep["contexts"] == ["tests/test_scenarios.py"]
    elsewhere = json.loads(
        CliRunner()
        .invoke(main, ["coverage", "--data", str(path), "--format", "json", "--context", "tests/elders.py"])
        .output
    )
    everything = json.loads(CliRunner().invoke(main, ["coverage", "--data", str(path), "--format", "json"]).output)
    assert everything["evaluations"] == rep["evaluations"] + elsewhere["evaluations"]
    assert elsewhere["evaluations"] >= len(FEW)
    # a dozen scenarios of one goal leave most rules unexercised, and the gate above names them
    assert len(not_exercised(elsewhere)) > len(engine.kb.rules) // 2


def test_the_coverage_command_without_data_says_how_to_record(tmp_path):
    result = CliRunner().invoke(main, ["coverage", "--data", str(tmp_path / "geen.json")])
    assert result.exit_code == 2
    assert "--kb-coverage" in result.output


def test_only_the_rule_base_under_test_is_recorded(engine, tmp_path, monkeypatch):
    import shutil

    from engine.answer.assess import Engine
    from engine.rules.model import KB_DIR

    copy = tmp_path / "kb"
    shutil.copytree(KB_DIR, copy, ignore=shutil.ignore_patterns("__pycache__", "*.py"))
    other = Engine(copy)
    recorder = coverage.Recorder(tmp_path / "dekking.json")
    monkeypatch.setattr(coverage, "recorder", recorder)
    goal = sorted(engine.kb.goals)[0]
    other.evaluate(parse_applicant(other.kb, {}), goal, PEILDATUM)
    assert not recorder.evaluations
    engine.evaluate(parse_applicant(engine.kb, {}), goal, PEILDATUM)
    assert sum(recorder.evaluations.values()) == 1


def test_threads_sharing_one_engine_record_every_evaluation_and_a_pause_holds_for_its_own_thread(
    engine, tmp_path, monkeypatch
):
    import sys
    import threading

    goal = sorted(engine.kb.goals)[0]
    applicant = parse_applicant(engine.kb, {"geboortedatum": "2001-02-03", "heeft_geldig_reisdocument": True})
    engine.evaluate(applicant, goal, PEILDATUM)  # the goal's program is built before the threads race

    def recorded(threads: int, per_thread: int, paused_threads: int = 0) -> coverage.Recorder:
        recorder = coverage.Recorder(tmp_path / f"dekking_{threads}.json")
        monkeypatch.setattr(coverage, "recorder", recorder)
        start = threading.Barrier(threads)

        def work(index: int) -> None:
            start.wait(timeout=60)
            if index < paused_threads:
                with coverage.paused():
                    for _ in range(per_thread):
                        engine.evaluate(applicant, goal, PEILDATUM)
            else:
                for _ in range(per_thread):
                    engine.evaluate(applicant, goal, PEILDATUM)

        workers = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(timeout=120)
        return recorder

    one = recorded(1, 8)
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)  # switch threads often, so that a lost update would show
    try:
        eight = recorded(8, 8)
        half_paused = recorded(8, 8, paused_threads=4)
    finally:
        sys.setswitchinterval(interval)
    assert sum(eight.evaluations.values()) == 64
    assert eight.counts == {
        c: {n: [8 * k for k in slot] for n, slot in counts.items()} for c, counts in one.counts.items()
    }
    assert sum(half_paused.evaluations.values()) == 32  # the four paused threads recorded nothing, the others all
    assert half_paused.counts == {
        c: {n: [4 * k for k in slot] for n, slot in counts.items()} for c, counts in one.counts.items()
    }


def _published(kind: str):
    out = CliRunner().invoke(main, ["schema", "--kind", kind])
    assert out.exit_code == 0, out.output
    return fastjsonschema.compile(json.loads(out.stdout))


def test_a_recorded_data_file_and_its_report_validate_against_their_published_schemas(engine, scenario_coverage):
    """`schema --kind kb-coverage` and `--kind kb-coverage-report`: the data file a recording wrote
    and the report `coverage --format json` makes of it validate, and both carry the version of
    the rule base recorded; a count that is not [true, false, unknown] is refused."""
    path, _ = scenario_coverage
    data = json.loads(path.read_text(encoding="utf-8"))
    validate_data = _published("kb-coverage")
    validate_data(data)
    assert (data["format"], data["version"], data["kb_version"]) == (coverage.DATA_FORMAT, 2, engine.kb.version)
    assert data["contexts"]["tests/test_scenarios.py"]["counts"], "the recording counted something"
    result = CliRunner().invoke(main, ["coverage", "--data", str(path), "--format", "json"])
    assert result.exit_code == 0 and "let op" not in result.output, result.output
    rep = json.loads(result.stdout)
    _published("kb-coverage-report")(rep)
    assert (rep["format"], rep["version"], rep["kb_version"]) == (coverage.REPORT_FORMAT, 2, engine.kb.version)
    assert rep["rules"] and any(r["conditions"] for r in rep["rules"])
    broken = json.loads(json.dumps(data))
    name = next(iter(broken["contexts"]["tests/test_scenarios.py"]["counts"]))
    broken["contexts"]["tests/test_scenarios.py"]["counts"][name] = [1, 2]
    with pytest.raises(fastjsonschema.JsonSchemaValueException):
        validate_data(broken)


def test_a_recording_into_a_file_of_other_rules_starts_it_afresh_and_the_report_warns_of_such_a_file(engine, tmp_path):
    """Counts are only added to counts of the same rules: a data file recorded with another
    rule-base version (or a version 1 file, without kb_version) is replaced, not added to; and
    `coverage` says when the file it reports on was recorded with other rules."""
    path = _record(engine, tmp_path / "dekking.json", files=FEW)
    fresh = json.loads(path.read_text(encoding="utf-8"))
    stale = {**fresh, "kb_version": "0" * 32}
    stale["contexts"] = {**fresh["contexts"], "tests/oud.py": {"evaluations": 7, "counts": {"regel:X": [7, 0, 0]}}}
    path.write_text(json.dumps(stale), encoding="utf-8")
    warned = CliRunner().invoke(main, ["coverage", "--data", str(path), "--format", "json"])
    assert warned.exit_code == 0 and "0" * 32 in warned.stderr and "andere versie van de regels" in warned.stderr
    _record(engine, path, files=FEW)
    assert json.loads(path.read_text(encoding="utf-8")) == fresh  # the stale counts are gone, none doubled
    version_1 = {k: v for k, v in fresh.items() if k != "kb_version"} | {"version": 1}
    path.write_text(json.dumps(version_1), encoding="utf-8")
    _record(engine, path, files=FEW)
    assert json.loads(path.read_text(encoding="utf-8")) == fresh


def test_a_recording_never_overwrites_a_file_that_holds_no_coverage_data(engine, tmp_path):
    path = tmp_path / "iets.json"
    path.write_text('{"format": "iets anders"}\n', encoding="utf-8")
    with pytest.raises(ValueError, match="geen bestand met dekkingsgegevens"):
        _record(engine, path, files=FEW[:1])
    assert path.read_text(encoding="utf-8") == '{"format": "iets anders"}\n'
