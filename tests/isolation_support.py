"""What tests/test_isolation.py runs in threads, in worker processes and in a long-running process.

`python -m tests.isolation_support COUNT PROBE OUT` is the long-running process: one engine
assesses COUNT generated applicants (pyDatalog one goal at a time, fees through pyDatalog, and
the setwise overview), then answers the probe applicant through the command line's own code with
that same engine, and writes the outputs to OUT as JSON.
"""

from __future__ import annotations

import json
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

from engine.answer.assess import Engine
from engine.answer.fees import fees_for
from engine.applicant.facts import load_applicant_file, parse_applicant
from engine.checks.caseload import caseload

PEILDATUM = date(2026, 11, 22)
BASES = Path(__file__).resolve().parent / "scenarios" / "basis"
PROBE_GOALS = ("onbepaalde_tijd_regulier", "humanitair_niet_tijdelijk", "huiselijk_geweld", "turks_associatieverdrag")


def bases() -> tuple[dict, ...]:
    """The scenario base applicants: variants of them reach every outcome, not only the commonest."""
    return tuple(load_applicant_file(p) for p in sorted(BASES.glob("*.yaml")))


def applicants(count: int, seed: int) -> list[dict[str, Any]]:
    from engine.rules.model import load_knowledge_base

    return list(caseload(load_knowledge_base(), count, seed, PEILDATUM, bases=bases()))


_references: dict[int, Engine] = {}


def pydatalog(engine: Engine) -> Engine:
    """The same compiled engine answered by pyDatalog, made once per engine."""
    from engine.evaluate.datalog import DatalogEvaluator

    if id(engine) not in _references:
        _references[id(engine)] = engine.with_evaluator(DatalogEvaluator)
    return _references[id(engine)]


def answer(engine: Engine, data: dict[str, Any], goal: str, form: str, datalog_overview: bool = False) -> str:
    """Everything the engine says about one applicant, as one JSON text: one goal and a form's fee
    through pyDatalog, every goal through the setwise evaluator (and through pyDatalog if asked)."""
    kb = engine.kb
    reference = pydatalog(engine)
    applicant = parse_applicant(kb, data)
    out = {
        "assess": reference.assess(applicant, goal, PEILDATUM).to_json(kb),
        "fees": fees_for(reference, applicant, form, PEILDATUM).to_json(),
        "all": [a.to_json(kb) for a in engine.assess_all(applicant, PEILDATUM)],
    }
    if datalog_overview:
        out["all_datalog"] = [a.to_json(kb) for a in reference.assess_all(applicant, PEILDATUM)]
    return json.dumps(out, sort_keys=True, ensure_ascii=False)


# -- worker processes ---------------------------------------------------------------------------

_engine: list[Engine] = []


def init_worker() -> None:
    _engine[:] = [Engine()]


def work(job: tuple[dict[str, Any], str, str, bool]) -> str:
    return answer(_engine[0], *job)


# -- the long-running process -------------------------------------------------------------------


def probe_commands(probe: Path) -> dict[str, list[str]]:
    """The probe's command lines, by name: the overview and several goals, in text and JSON."""
    at = ["--peildatum", PEILDATUM.isoformat()]
    commands = {}
    for fmt in ("text", "json"):
        commands[f"assess {fmt}"] = ["assess", str(probe), *at, "--format", fmt]
        for goal in PROBE_GOALS:
            commands[f"assess --goal {goal} {fmt}"] = ["assess", str(probe), "--goal", goal, *at, "--format", fmt]
    return commands


def long_running(count: int, probe: Path) -> dict[str, Any]:
    from click.testing import CliRunner

    import cli
    from explain import render_assessment, render_overview

    started = time.perf_counter()
    engine = Engine()
    reference = pydatalog(engine)
    kb = engine.kb
    goals = sorted(kb.goals)
    forms = sorted(kb.forms)
    paths = {"datalog": 0, "fees": 0, "setwise": 0}
    for i, data in enumerate(caseload(kb, count, seed=424242, peildatum=PEILDATUM, bases=bases())):
        applicant = parse_applicant(kb, data)
        if i % 5 < 2:  # two in five: pyDatalog, one goal (each goal in turn)
            result = reference.assess(applicant, goals[i % len(goals)], PEILDATUM)
            if i % 50 == 0:
                render_assessment(result, kb)
            paths["datalog"] += 1
        elif i % 10 == 2:  # one in ten: a form's fee through pyDatalog
            fees_for(reference, applicant, forms[i % len(forms)], PEILDATUM)
            paths["fees"] += 1
        else:  # the rest: the setwise evaluation of every node, two goals' assessments from it
            results = engine.assess_all(
                applicant, PEILDATUM, goals=sorted({goals[i % len(goals)], goals[i * 7 % len(goals)]})
            )
            if i % 50 == 3:
                render_overview(results, kb)
            paths["setwise"] += 1
    bulk = time.perf_counter() - started
    cli._engine = lambda: engine  # the command line's own code, with the engine that did the work
    outputs = {}
    for name, args in probe_commands(probe).items():
        result = CliRunner().invoke(cli.main, args)
        assert result.exit_code == 0, (name, result.output)
        outputs[name] = result.stdout
    return {"assessed": sum(paths.values()), "paths": paths, "seconds": round(bulk, 1), "outputs": outputs}


if __name__ == "__main__":
    count, probe, out = int(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
    out.write_text(json.dumps(long_running(count, probe), ensure_ascii=False), encoding="utf-8")
