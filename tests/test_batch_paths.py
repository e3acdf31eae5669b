"""The short cuts of the batch path against the ways they stand in for.

A chunk's bitmasks are built in whichever of two ways is quicker for the number of indices, both
giving the plain sum of powers of two.

Filling implied facts into a chunk's input literals (`SetwiseEvaluator.run_filled`) derives what
running the filled-in inputs derives, for any selection of applicants and any of them leaving a
fact open; and a batch run with those short cuts gives the results of one applicant at a time.
CSV rows written once per situation are those the csv module writes cell by cell.
"""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.answer.assess import Engine
from engine.answer.batch import CaseloadEvaluator, Row, RowFormat, fee_text
from engine.applicant.facts import load_applicant_file
from engine.checks.caseload import caseload
from engine.evaluate.setwise import SetwiseEvaluator, bitmask

PEILDATUM = date(2026, 11, 23)
BASES = Path(__file__).resolve().parent / "scenarios" / "basis"

ENGINE = Engine(evaluator=SetwiseEvaluator)
EVALUATOR = CaseloadEvaluator(ENGINE, PEILDATUM)
GENERATED = list(
    caseload(
        ENGINE.kb,
        120,
        seed=20261207,
        peildatum=PEILDATUM,
        bases=tuple(load_applicant_file(p) for p in sorted(BASES.glob("*.yaml"))),
    )
)
INPUTS = [EVALUATOR.parse(Row(i + 1, data))[1] for i, data in enumerate(GENERATED)]
GROUPS = sorted(EVALUATOR.implied_groups)


@given(data=st.data(), size=st.integers(0, 3000))
def test_a_bitmask_of_indices_is_the_sum_of_their_powers_of_two_however_many_and_however_passed(data, size):
    indices = sorted(data.draw(st.sets(st.integers(0, size - 1))) if size else set())
    expected = sum(1 << i for i in indices)
    assert bitmask(indices, size) == bitmask(iter(indices), size) == expected


def nonzero(masks: dict) -> dict:
    return {key: mask for key, mask in masks.items() if mask}


def test_every_implied_group_is_filled_in_from_the_chunk_run():
    """The rule base has goals that imply facts, and none of them a fact a quantity reads: so
    every group takes the short cut, and each reads only inputs the chunk's run read."""
    assert GROUPS
    values = EVALUATOR.evaluator.run(INPUTS[:5], EVALUATOR.needed)
    for facts in GROUPS:
        assert EVALUATOR.quantity_inputs.isdisjoint(f for f, _ in facts)
        assert EVALUATOR.implied_evaluators[facts].run_filled(values, [], EVALUATOR.implied_roots[facts]) is not None


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    picked=st.lists(st.integers(0, len(INPUTS) - 1), min_size=1, max_size=40),
    group=st.sampled_from(GROUPS),
    dropped=st.sets(st.integers(0, len(INPUTS) - 1)),
)
def test_filling_implied_facts_derives_what_running_the_filled_inputs_derives(picked, group, dropped):
    # some applicants leave open a fact they gave, so that both kinds are in most chunks
    chunk = [
        {k: v for k, v in INPUTS[i].items() if not (n in dropped and k in dict(group))} for n, i in enumerate(picked)
    ]
    roots = EVALUATOR.implied_roots[group]
    restricted = EVALUATOR.implied_evaluators[group]
    values = EVALUATOR.evaluator.run(chunk, EVALUATOR.needed)
    filled = [(fact, value, sum(1 << k for k, x in enumerate(chunk) if fact not in x)) for fact, value in group]
    got = restricted.run_filled(values, filled, roots)
    expected = restricted.run([{**x, **{f: v for f, v in group if f not in x}} for x in chunk], roots)
    assert nonzero(got.masks) == nonzero(expected.masks)


@pytest.mark.parametrize("size", [1, 7, 120])
def test_a_chunk_gives_every_applicant_the_result_it_gets_alone(size):
    rows = [Row(i + 1, data) for i, data in enumerate(GENERATED)]
    together = [r for start in range(0, len(rows), size) for r in EVALUATOR.evaluate(rows[start : start + size])]
    alone = [EVALUATOR.evaluate([row])[0] for row in rows]
    assert together == alone
    assert any(r["fees"] for r in alone)


def test_fees_read_from_the_filled_chunk_are_those_of_evaluating_each_applicant_with_its_implied_facts():
    """Against the way round the short cut: an evaluator that takes every implied fact for one a
    quantity reads works each applicant's filled-in inputs out again and evaluates only those."""
    rows = [Row(i + 1, data) for i, data in enumerate(GENERATED)]
    the_long_way = CaseloadEvaluator(ENGINE, PEILDATUM)
    the_long_way.quantity_inputs = set(ENGINE.kb.facts)
    assert EVALUATOR.evaluate(rows) == the_long_way.evaluate(rows)


def reference_csv(row_format: RowFormat, results: list[dict]) -> str:
    """The CSV rows written cell by cell, each row by the csv module at once."""
    rows = []
    for result in results:
        row = [result["row"], result["error"] or ""]
        runs = result["runs"] if "runs" in result else [result]
        for run in runs:
            row += [run["outcomes"].get(g, "") for g in row_format.goals]
            row += [fee_text(run["fees"][g]) if g in run["fees"] else "" for g in row_format.fee_goals]
        # the version of each run's rule base, one column a run (one in all without a comparison)
        versions = list(row_format.run_kb_versions) if "runs" in result else []
        rows.append(row + (versions or [row_format.kb_version] * len(runs)))
    buffer = io.StringIO(newline="")
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue()


TEXT = st.text(alphabet=st.sampled_from(list('ab ,"\n\r;=~|')), max_size=6)
FEE = st.fixed_dictionaries(
    {
        "form": TEXT,
        "amount": st.none() | st.integers(0, 10**6),
        "per_source": st.dictionaries(TEXT, st.none() | st.integers(0, 999), max_size=2),
        "alternative_amounts": st.lists(st.none() | st.integers(0, 999), max_size=2),
    }
)


@settings(max_examples=150, deadline=None)
@given(
    goals=st.lists(TEXT, min_size=1, max_size=3),
    fee_goals=st.lists(TEXT, max_size=2),
    kb_version=TEXT,
    shared=st.lists(
        st.tuples(
            st.dictionaries(TEXT, TEXT, max_size=3), st.dictionaries(TEXT, st.lists(FEE, max_size=2), max_size=3)
        ),
        min_size=1,
        max_size=3,
    ),
    picks=st.lists(st.tuples(st.integers(0, 2), st.none() | TEXT), max_size=8),
    runs=st.integers(1, 2),
)
def test_csv_rows_written_once_per_situation_are_the_rows_the_csv_module_writes_cell_by_cell(
    goals, fee_goals, kb_version, shared, picks, runs
):
    """Rows share their outcomes and fees objects (as a chunk's rows do); cells of any text, an
    error or none, one run or a comparison of two."""
    results = []
    for number, (pick, error) in enumerate(picks, start=1):
        parts = [shared[(pick + r) % len(shared)] for r in range(runs)]
        if runs == 1:
            results.append({"row": number, "error": error, "outcomes": parts[0][0], "fees": parts[0][1]})
        else:
            results.append({"row": number, "error": error, "runs": [{"outcomes": o, "fees": f} for o, f in parts]})
    versions = (kb_version, kb_version[::-1])[:runs] if runs > 1 else ()
    row_format = RowFormat(
        "csv", tuple(goals), tuple(fee_goals), ("",) * runs, kb_version=kb_version, run_kb_versions=versions
    )
    assert row_format.text(results) == reference_csv(row_format, results)
