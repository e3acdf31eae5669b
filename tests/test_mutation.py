"""Mutation testing of the knowledge base: the machinery, on small selections of mutants.

The full run is `verblijfsregels mutate` (README); `pytest --kb-mutation` adds it to the suite
as a gate (mutation score at least 95 %).
"""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
import sys
from datetime import date
from importlib.metadata import EntryPoint

import pytest
import yaml

from engine.applicant.facts import parse_applicant
from engine.checks import mutation
from engine.rules.model import KB_DIR
from tests.conftest import ROOT
from tests.test_scenarios import FILES, load_scenario


def _day(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


@pytest.fixture(scope="module")
def mutants():
    return mutation.enumerate_mutants()


_parsed: dict = {}


def _data(mutant):
    if mutant.file not in _parsed:
        _parsed[mutant.file] = yaml.safe_load((KB_DIR / mutant.file).read_text(encoding="utf-8"))
    return copy.deepcopy(_parsed[mutant.file])


def test_every_mutant_is_one_named_change_to_one_declaration(mutants):
    assert len({m.id for m in mutants}) == len(mutants)
    operators = {m.id.rsplit(":", 1)[1].split("[")[0].split(":")[0] for m in mutants}
    assert {"weglaten", "negeren", "uitzondering_weg"} <= operators
    assert any(op.startswith("drempel") for op in operators)
    for m in mutants:
        original = _data(m)
        changed = copy.deepcopy(original)
        m.apply(changed)
        assert changed != original, m.id
        assert m.description and m.id.startswith(m.target), m.id


def test_the_setwise_engine_of_the_mutants_answers_every_scenario_as_the_pydatalog_engine(engine):
    from engine.evaluate.datalog import DatalogEvaluator

    fast = mutation.mutant_engine(KB_DIR)
    reference = engine.with_evaluator(DatalogEvaluator)
    for path in FILES:
        spec = load_scenario(path)
        if "doel" not in spec:
            continue
        applicant = parse_applicant(engine.kb, spec["facts"])
        day = _day(spec["peildatum"])
        assert fast.assess(applicant, spec["doel"], day).to_json(fast.kb) == reference.assess(
            applicant, spec["doel"], day
        ).to_json(engine.kb), path.stem


# The gate in the normal suite: a fixed sample of mutants spread over the kinds of change (one or
# two of each: a condition dropped or negated, a `niet` removed, a threshold or choice list moved,
# an exception dropped, an amount swapped, a source dropped from a disagreement, a quantity's
# parameter moved) must all be noticed. The full run stays opt-in (`pytest --kb-mutation`).
GATE_SEED = 20261122
GATE_SIZE = 36


@pytest.fixture(scope="module")
def gate(mutants, mutation_checks):
    """One mutation run for the tests below: the gate's sample, every mutant of C13 and every
    listed equivalent (one baseline, one set of checks; about 25 s on the 2-core machine)."""
    sample = mutation.sample_mutants(mutants, GATE_SIZE, GATE_SEED)
    c13 = [m.id for m in mutants if m.target == "C13"]
    listed = sorted(mutation.load_equivalents(mutation_checks.equivalents))
    report = mutation.run_mutation(
        mutation_checks, ids=[m.id for m in sample] + c13 + listed, examples=5, differential=0
    )
    assert report.baseline_failure is None
    return report, [m.id for m in sample], c13, listed


def test_the_gate_sample_is_fixed_and_spread_over_every_kind_of_change(mutants):
    sample = mutation.sample_mutants(mutants, GATE_SIZE, GATE_SEED)
    assert [m.id for m in sample] == [m.id for m in mutation.sample_mutants(mutants, GATE_SIZE, GATE_SEED)]
    assert len(sample) == GATE_SIZE
    kinds = {mutation.change_kind(m) for m in mutants}
    assert {mutation.change_kind(m) for m in sample} == kinds, "elke soort wijziging komt in de steekproef"


def test_every_mutant_of_the_gate_sample_is_killed_or_a_listed_equivalent(gate):
    report, sample, _, _ = gate
    results = {r.mutant.id: r for r in report.results}
    missed = [
        f"{m}: {results[m].status} ({results[m].mutant.description})"
        for m in sample
        if results[m].status not in (mutation.KILLED, mutation.EQUIVALENT, mutation.UNREACHABLE)
    ]
    assert not missed, "niet opgemerkt door de tests:\n" + "\n".join(missed)


def test_the_report_names_the_rule_base_it_mutated_and_validates_against_its_schema(gate, engine):
    import fastjsonschema
    from click.testing import CliRunner

    from cli import main

    report, _, _, _ = gate
    data = json.loads(json.dumps(report.to_json()))
    validate = fastjsonschema.compile(
        json.loads(CliRunner().invoke(main, ["schema", "--kind", "mutation-report"]).stdout)
    )
    validate(data)
    assert data["format"] == "verblijfsregels/mutation-report" and data["version"] == 2
    assert data["kb_version"] == engine.kb.version
    with pytest.raises(fastjsonschema.JsonSchemaValueException):  # a status the report never has
        validate({**data, "results": [{**data["results"][0], "status": "half dood"}]})


def test_changing_c13_is_noticed_by_the_tests(gate):
    report, _, c13, _ = gate
    results = [r for r in report.results if r.mutant.id in c13]
    assert len(results) == len(c13) > 10
    assert all(r.status in (mutation.KILLED, mutation.EQUIVALENT) for r in results)
    assert {r.killed_by.split(" ")[0] for r in results if r.killed_by} <= {"scenario", "eigenschap"}


def test_every_listed_equivalent_mutant_exists_and_survives_the_tests(mutants, gate):
    report, _, _, listed = gate
    assert set(listed) <= {m.id for m in mutants}, "verouderde regels in tests/mutation_equivalents.yaml"
    assert {r.mutant.id: r.status for r in report.results if r.mutant.id in listed} == {
        m: mutation.EQUIVALENT for m in listed
    }
    assert report.stale_equivalents == []


def test_the_fee_properties_check_the_mutants_of_fees_and_amounts(mutation_checks):
    """The fee properties run for mutants of fee rules and amounts (and only for those): without
    the scenarios and the other properties, an amount that is not yet in force on the peildatum
    is still noticed (form 7031 without an amount)."""

    def later(data):
        data["parameters"]["leges_7031"]["waarden"][0]["vanaf"] = date(2030, 1, 1)

    checks = mutation.Checks(mutation_checks, 5)
    checks.scenarios, checks.properties = [], []
    assert {p.name for p in checks.fee_properties} == {
        "leges_een_bedrag_per_bron",
        "leges_minderjarige_betaalt_niet_meer",
        "leges_verlagingen_kloppen",
    }
    worker = mutation._Worker(KB_DIR, mutation_checks, 5)
    worker.checks = checks
    try:
        as_fee = worker.run(
            mutation.Mutant("leges_7031:later", "regels/leges.yaml", "leges_7031", "parameter", "later", later)
        )
        as_rule = worker.run(
            mutation.Mutant("leges_7031:later", "regels/leges.yaml", "leges_7031", "regel", "later", later)
        )
    finally:
        worker.close()
    assert as_fee.status == mutation.KILLED and as_fee.killed_by == "eigenschap leges_een_bedrag_per_bron"
    assert as_rule.status == mutation.SURVIVED  # the fee properties are not run for other mutants


def test_a_survivor_comes_with_the_simplest_applicant_whose_answer_it_changes(mutants, mutation_checks, tmp_path):
    # C15.asiel turned round: whoever has no asylum permit is sent elsewhere
    mutant = next(m for m in mutants if m.id == "C15.asiel:voorwaarden:negeren")
    copy_dir = tmp_path / "kb"
    shutil.copytree(KB_DIR, copy_dir, ignore=shutil.ignore_patterns("__pycache__", "*.py"))
    data = yaml.safe_load((copy_dir / mutant.file).read_text(encoding="utf-8"))
    mutant.apply(data)
    (copy_dir / mutant.file).write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    diff = mutation.Differential(600, date(2026, 11, 22), mutation_checks)
    diff.set_reference(mutation.mutant_engine(KB_DIR))
    assert diff.witness(mutation.mutant_engine(KB_DIR)) is None  # the original against itself
    witness, changed = diff.witness(mutation.mutant_engine(copy_dir))
    assert changed["onbepaalde_tijd_regulier"] == {"origineel": "eligible", "mutant": "out_of_scope"}
    # the simplest: a base applicant of the scenarios as it is, nothing changed
    assert witness["wijzig"] == {} and witness["basis"] in {
        "voldoet_aan_alles",
        "kind_van_dertien_dat_aan_alles_voldoet",
    }


def test_a_mutant_the_knowledge_base_refuses_is_reported_as_invalid(mutants, mutation_checks):
    def point_c13_at_an_unknown_rule(data):
        next(r for r in data["regels"] if r["id"] == "C13")["uitzondering_op"] = "C99"

    file = next(m for m in mutants if m.id == "C13:uitzondering_weg").file
    broken = mutation.Mutant(
        "C13:kapot", file, "C13", "regel", "C13 wijst naar een onbekende regel", point_c13_at_an_unknown_rule
    )
    worker = mutation._Worker(KB_DIR, mutation_checks, 3)
    try:
        result = worker.run(broken)
    finally:
        worker.close()
    assert result.status == mutation.INVALID and "C99" in result.reason


@pytest.mark.skipif("not config.getoption('--kb-mutation')", reason="alleen met pytest --kb-mutation (duurt langer)")
def test_the_mutation_score_of_the_knowledge_base_is_at_least_95_percent(mutation_checks):
    report = mutation.run_mutation(mutation_checks, jobs=2, examples=10, differential=0)
    survivors = [f"{r.mutant.id}: {r.mutant.description}" for r in report.results if r.status == mutation.SURVIVED]
    assert report.baseline_failure is None
    assert report.score is not None and report.score >= 95, "\n".join(survivors)
    assert report.stale_equivalents == []


def test_the_quantity_a_term_runs_from_is_reachable_and_its_mutants_are_killed(mutants, mutation_checks):
    from engine.checks.mutation import mutant_engine, reachable_targets

    assert "begin_ononderbroken_vergunning_vanaf_8" in reachable_targets(mutant_engine(KB_DIR))
    report = mutation.run_mutation(
        mutation_checks, only=["begin_ononderbroken_vergunning_vanaf_8"], examples=3, differential=0
    )
    assert report.results and {r.status for r in report.results} == {mutation.KILLED}


# -- the product finds the tests' checks, and does without them ---------------------------------------


def test_mutate_without_the_tests_says_in_one_line_what_it_needs(monkeypatch):
    """An installed wheel registers no checks, or names a tests module it does not ship."""
    from click.testing import CliRunner

    from cli import main
    from tests.test_cli import assert_one_line_error

    monkeypatch.setattr(mutation, "entry_points", lambda group: [])
    assert_one_line_error(CliRunner().invoke(main, ["mutate"]), "mutate heeft", "pip install -e")
    absent = EntryPoint("tests", "tests_die_er_niet_zijn.mutation_checks:checks", mutation.CHECKS_GROUP)
    monkeypatch.setattr(mutation, "entry_points", lambda group: [absent])
    assert_one_line_error(CliRunner().invoke(main, ["mutate"]), "pip install -e", "ontbreekt: tests_die_er_niet_zijn")


def test_the_checks_are_found_through_the_entry_point_from_any_directory(mutation_checks, tmp_path):
    """An editable install maps engine/ but not tests/; the lookup still finds them, outside the checkout."""
    code = (
        "from engine.checks.mutation import find_checks; c = find_checks(); print(len(c.scenarios), len(c.properties))"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == [str(len(mutation_checks.scenarios)), str(len(mutation_checks.properties))]


def test_the_mutation_module_imports_neither_the_tests_nor_the_cli():
    code = (
        "import sys, engine.checks.mutation; "
        "print(sorted(m for m in sys.modules if m == 'cli' or m.split('.')[0] == 'tests'))"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


def test_python_m_engine_mutation_is_the_mutate_command():
    proc = subprocess.run(
        [sys.executable, "-m", "engine.checks.mutation", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "--min-score" in proc.stdout and "--equivalents" in proc.stdout
