"""Rule coverage: recorded only when asked for, reported per rule, exception and condition."""

from __future__ import annotations

import json
from datetime import date

from click.testing import CliRunner

from cli import main
from engine import coverage
from engine.facts import parse_applicant
from tests.test_scenarios import FILES, load_scenario

PEILDATUM = date(2026, 11, 22)


def _day(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


def test_nothing_is_recorded_unless_asked_for(engine, monkeypatch):
    monkeypatch.setattr(coverage, "recorder", None)
    engine.evaluate(parse_applicant(engine.kb, {}), sorted(engine.kb.goals)[0], PEILDATUM)
    assert coverage.recorder is None


def _record(engine, tmp_path, monkeypatch, context="tests/test_scenarios.py"):
    recorder = coverage.Recorder(tmp_path / "dekking.json")
    monkeypatch.setattr(coverage, "recorder", recorder)
    monkeypatch.setenv(coverage.CONTEXT_ENV, context)
    for path in FILES:
        spec = load_scenario(path)
        if "doel" in spec:
            # one evaluation of the goal's model per scenario (assess would add one per fee form)
            engine.evaluate(parse_applicant(engine.kb, spec["facts"]), spec["doel"], _day(spec["peildatum"]))
    recorder.flush()
    monkeypatch.setattr(coverage, "recorder", None)
    return recorder.path


def test_every_scenario_evaluation_counts_rules_exceptions_and_conditions(engine, tmp_path, monkeypatch):
    path = _record(engine, tmp_path, monkeypatch)
    rep = coverage.report(engine, coverage.read_data(path))
    rows = {r["id"]: r for r in rep["rules"]}
    assert rep["evaluations"] == sum(1 for p in FILES if "doel" in load_scenario(p))
    # every declaration with conditions has a row; each row's counts add up to its evaluations
    with_conditions = {r.id for r in engine.kb.rules.values() if r.conditions is not None or r.applies_when is not None}
    assert with_conditions <= set(rows)
    assert set(engine.kb.disagreements) <= set(rows)
    for row in rows.values():
        assert row["true"] + row["false"] + row["unknown"] <= rep["evaluations"], row["id"]
    assert set(rep["never_exercised"]) == {r["id"] for r in rows.values() if not r["true"]}
    per_goal: dict[str, int] = {}
    for path in FILES:
        spec = load_scenario(path)
        if "doel" in spec:
            per_goal[spec["doel"]] = per_goal.get(spec["doel"], 0) + 1
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
    assert all(c["position"].startswith(("c", "a", "v")) for r in rows.values() for c in r["conditions"])


def test_recordings_of_several_processes_add_up(engine, tmp_path, monkeypatch):
    path = _record(engine, tmp_path, monkeypatch)
    once = json.loads(path.read_text())
    _record(engine, tmp_path, monkeypatch)
    twice = json.loads(path.read_text())
    for context, data in once["contexts"].items():
        assert twice["contexts"][context]["evaluations"] == 2 * data["evaluations"]
        for name, counts in data["counts"].items():
            assert twice["contexts"][context]["counts"][name] == [2 * c for c in counts]


def test_the_coverage_command_prints_the_table_and_what_was_never_exercised(engine, tmp_path, monkeypatch):
    path = _record(engine, tmp_path, monkeypatch)
    _record(engine, tmp_path, monkeypatch, context="tests/elders.py")
    text = CliRunner().invoke(main, ["coverage", "--data", str(path)])
    assert text.exit_code == 0, text.output
    assert "regels gevuurd" in text.output and "Nooit gevuurd" in text.output
    for rule_id in engine.kb.rules:
        if engine.kb.rules[rule_id].conditions is not None:
            assert f"\n{rule_id} " in text.output
    result = CliRunner().invoke(main, ["coverage", "--data", str(path), "--format", "json",
                                       "--context", "tests/test_scenarios.py"])
    rep = json.loads(result.output)
    assert rep["contexts"] == ["tests/test_scenarios.py"]
    everything = json.loads(CliRunner().invoke(main, ["coverage", "--data", str(path), "--format", "json"]).output)
    assert everything["evaluations"] == 2 * rep["evaluations"]


def test_the_coverage_command_without_data_says_how_to_record(tmp_path):
    result = CliRunner().invoke(main, ["coverage", "--data", str(tmp_path / "geen.json")])
    assert result.exit_code == 2
    assert "--kb-coverage" in result.output


def test_only_the_rule_base_under_test_is_recorded(engine, tmp_path, monkeypatch):
    import shutil

    from engine.assess import Engine
    from engine.model import KB_DIR

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
