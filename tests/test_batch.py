"""Batch assessment: the set-at-a-time backend against pyDatalog, and the `batch` command."""

from __future__ import annotations

import csv
import io
import json
import os
import pty
import random
import signal
import subprocess
import sys
import threading
import time
from datetime import date
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from cli import main
from engine.answer import batch as batch_module
from engine.answer.assess import Engine, decide
from engine.answer.batch import CaseloadEvaluator, Row, fee_text
from engine.answer.proof import ProofBuilder
from engine.applicant.facts import load_applicant_file, parse_applicant
from engine.applicant.pipeline import evaluator_inputs
from engine.checks.caseload import caseload
from engine.errors import InputError
from engine.evaluate import engine_facts_of
from engine.evaluate.datalog import DatalogEvaluator
from tests import vrije_tekst
from tests.conftest import ROOT

PEILDATUM = date(2026, 11, 23)
DIFFERENTIAL_SIZE = 2000 if os.environ.get("CI") else 600


BASES = Path(__file__).resolve().parent / "scenarios" / "basis"


def bases() -> tuple[dict, ...]:
    """The scenario base applicants: each meets a route, so variants of them reach every outcome."""
    return tuple(load_applicant_file(p) for p in sorted(BASES.glob("*.yaml")))


@pytest.fixture(scope="module")
def generated(engine: Engine):
    return list(caseload(engine.kb, DIFFERENTIAL_SIZE, seed=20261123, peildatum=PEILDATUM, bases=bases()))


@pytest.fixture(scope="module")
def reference(engine: Engine, generated):
    """pyDatalog's value of every derived node for every generated applicant: the reference."""
    derived = engine.derived
    inputs = [engine.inputs(data, PEILDATUM, checked=False)[1] for data in generated]
    values = DatalogEvaluator(engine.program, engine.base_predicates, engine.input_names).run(inputs, derived)
    return derived, inputs, [values.values_of(i) for i in range(len(inputs))]


def test_the_setwise_backend_derives_exactly_what_pydatalog_derives_for_every_node(engine, generated, reference):
    derived, inputs, values = reference
    chunk = CaseloadEvaluator(engine, PEILDATUM).evaluator.run(inputs, derived)
    mismatches = [i for i, v in enumerate(values) if v != chunk.values_of(i, derived)]
    assert mismatches == [], f"{len(mismatches)} of {len(inputs)} applicants differ, first: {generated[mismatches[0]]}"


def test_batch_outcomes_of_every_goal_are_what_pydatalog_decides_for_every_generated_applicant(
    engine, generated, reference
):
    """The whole batch path (reading inputs by value, outcome codes per chunk, several chunks) against
    the reference: the outcome `engine.answer.assess` decides from pyDatalog's values, for every goal."""
    _, inputs, values = reference
    evaluator = CaseloadEvaluator(engine, PEILDATUM)
    rows = [Row(i + 1, data) for i, data in enumerate(generated)]
    results = [r for start in range(0, len(rows), 250) for r in evaluator.evaluate(rows[start : start + 250])]
    mismatches = []
    seen = set()
    for result, value, given in zip(results, values, inputs):
        builder = ProofBuilder(engine.program, value, given)
        for goal, spec in sorted(engine.kb.goals.items()):
            scope = builder.value(spec.out_of_scope) if spec.out_of_scope else False
            expected = decide(builder.value(spec.conclusion), scope)
            seen.add(expected)
            if expected == "not_eligible" and scope is None:
                seen.add("not_eligible beside an open referral")
            if result["outcomes"][goal] != expected:
                mismatches.append((result["row"], goal, expected, result["outcomes"][goal]))
    assert mismatches == [], f"{len(mismatches)} differ, first: {mismatches[:3]}"
    # every outcome is exercised, also a refusal whatever an open referral turns out to be
    assert {"eligible", "not_eligible", "undetermined", "out_of_scope", "not_eligible beside an open referral"} <= seen


def test_batch_input_reading_derives_what_engine_facts_derive_for_every_applicant(engine, generated):
    """Batch runs read input values as they are (dates as dates, grouped by value) instead of
    building engine facts per applicant: the literals must be the same, so the differential test
    above covers batch too."""
    evaluator = CaseloadEvaluator(engine, PEILDATUM).evaluator
    inputs = [engine.inputs(data, PEILDATUM, checked=False)[1] for data in generated]
    facts = [engine_facts_of(i, engine.input_names) for i in inputs]
    # batch reads only the inputs a clause body or a node read back reads: an input fact no rule
    # reads sets a literal nothing looks at
    read = evaluator.program.read_predicates | set(engine.program.reachable(list(engine.derived)))
    derived = {c.head for c in engine.program.clauses}
    expected = {
        k: m for k, m in evaluator.run_facts(facts, engine.derived).masks.items() if m and k[0] in read | derived
    }
    got = {k: m for k, m in evaluator.run(inputs, engine.derived).masks.items() if m}
    assert got == expected
    assert len(expected) > 100  # the caseload sets many literals, not a few


def test_batch_outcomes_and_fees_are_those_of_assess(engine, generated):
    sample = generated[:150]
    results = CaseloadEvaluator(engine, PEILDATUM).evaluate([Row(i + 1, d) for i, d in enumerate(sample)])
    seen_outcomes = set()
    for data, result in zip(sample, results):
        applicant = parse_applicant(engine.kb, data)
        assert result["error"] is None
        for goal in sorted(engine.kb.goals):
            assessment = engine.assess(applicant, goal, PEILDATUM)
            assert result["outcomes"][goal] == assessment.outcome, (goal, data)
            seen_outcomes.add(assessment.outcome)
            expected = [{"form": f.form, "amount": f.amount, "per_source": per_source(f)} for f in assessment.fees]
            got = [{k: fee[k] for k in ("form", "amount", "per_source")} for fee in result["fees"].get(goal, [])]
            assert got == expected, (goal, data)
    assert {"eligible", "not_eligible", "undetermined"} <= seen_outcomes  # the sample exercises real decisions


def per_source(fee) -> dict:
    """Each applicable source's amount, or every amount it states when it does not say which applies."""
    return {s.source_file: s.amount if s.conflict is None else s.stated_amounts for s in fee.applicable}


def test_batch_fees_of_a_violence_goal_are_those_of_assess_for_an_application_after_violence(engine):
    """Asked for a violence goal, the application is one after violence (E12.aanvraag_na_geweld):
    batch fills that fact where the applicant left it open, as `fees --goal` does."""
    data = load_applicant_file(
        Path(__file__).resolve().parent / "golden" / "slachtoffer_huiselijk_geweld_zonder_opgave_over_de_aanvraag.yaml"
    )
    (result,) = CaseloadEvaluator(engine, PEILDATUM).evaluate([Row(1, data)])
    assessment = engine.assess(parse_applicant(engine.kb, data), "huiselijk_geweld", PEILDATUM)
    expected = [{"form": f.form, "amount": f.amount, "per_source": per_source(f)} for f in assessment.fees]
    assert sorted(expected[0]["per_source"].values()) == [17400, 20700]  # 001 € 174 and 002 € 207
    assert [
        {k: fee[k] for k in ("form", "amount", "per_source")} for fee in result["fees"]["huiselijk_geweld"]
    ] == expected


@pytest.mark.parametrize("backend", ["setwise", "datalog"])
def test_one_evaluation_of_every_goal_gives_the_assessments_of_one_evaluation_per_goal(engine, generated, backend):
    from engine.evaluate import evaluator_named

    overview = engine.with_evaluator(evaluator_named(backend))
    reference = engine.with_evaluator(DatalogEvaluator)  # one goal at a time, by the reference
    for data in generated[:60]:
        applicant = parse_applicant(engine.kb, data)
        together = [a.to_json(engine.kb) for a in overview.assess_all(applicant, PEILDATUM)]
        apart = [reference.assess(applicant, goal, PEILDATUM).to_json(engine.kb) for goal in sorted(engine.kb.goals)]
        assert together == apart


def test_the_evaluator_keeps_no_date_of_an_applicant_so_memory_stays_flat_over_a_long_caseload(engine, generated):
    """Nearly every date in a caseload is new: what the evaluator remembers between chunks (the
    engine keys of a fact value, a form's fee per situation) may only hold values of which there
    are few, or it grows with every applicant."""
    evaluator = CaseloadEvaluator(engine, PEILDATUM)
    rows = [Row(i + 1, d) for i, d in enumerate(generated)]
    for start in range(0, len(rows), 200):
        evaluator.evaluate(rows[start : start + 200])
    remembered = evaluator.evaluator.program._input_keys_of
    assert remembered, "the cache of fact values is in use"
    assert [fact for fact in remembered if isinstance(fact[1], date)] == []
    kinds = {type(value).__name__ for _, value in remembered}
    assert kinds <= {"bool", "str", "int"}, kinds


def test_the_same_row_gives_the_same_result_at_any_position_in_a_chunk(engine, generated):
    rows = [Row(i + 1, d) for i, d in enumerate(generated[:200])]
    evaluator = CaseloadEvaluator(engine, PEILDATUM)
    forward = evaluator.evaluate(rows)
    shuffled = rows[:]
    random.Random(7).shuffle(shuffled)
    backward = {r["row"]: r for r in evaluator.evaluate(shuffled)}
    assert forward == [backward[r["row"]] for r in forward]


# --- the command ---------------------------------------------------------------------------------


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def write_jsonl(path: Path, rows: list[dict]) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


def test_every_input_row_gets_one_result_row_in_order_and_bad_rows_name_row_and_field(tmp_path, engine, generated):
    rows = generated[:30]
    rows[4] = {**rows[4], "geboortedatum": "2020-02-30"}
    rows[9] = {**rows[9], "heeft_zorgverzekering": "ja"}
    rows[11] = {**rows[11], "geboortedatm": "2000-01-01"}
    source = tmp_path / "zaken.jsonl"
    write_jsonl(source, rows)
    before = source.read_bytes()
    out = tmp_path / "uit.jsonl"
    result = run("batch", source, "--out", out, "--peildatum", PEILDATUM.isoformat())
    assert result.exit_code == 1, result.output
    assert source.read_bytes() == before
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [line["row"] for line in lines] == list(range(1, 31))
    errors = {line["row"]: line["error"] for line in lines if line["error"]}
    assert set(errors) == {5, 10, 12}
    assert "rij 5" in errors[5] and "geboortedatum" in errors[5] and "JJJJ-MM-DD" in errors[5]
    assert "rij 10" in errors[10] and "heeft_zorgverzekering" in errors[10]
    assert "rij 12" in errors[12] and "bedoelt u 'geboortedatum'?" in errors[12]
    assert all(set(line["outcomes"]) == set(engine.kb.goals) for line in lines if not line["error"])


def test_a_clean_caseload_exits_0_and_csv_input_gives_the_same_outcomes_as_json_lines(tmp_path, engine, generated):
    rows = generated[:40]
    jsonl = tmp_path / "zaken.jsonl"
    write_jsonl(jsonl, rows)
    names = sorted({k for r in rows for k in r})
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(names)
    for r in rows:
        writer.writerow(
            [
                ""
                if k not in r
                else json.dumps(r[k])
                if isinstance(r[k], list)
                else ("ja" if r[k] is True else "nee" if r[k] is False else r[k])
                for k in names
            ]
        )
    table = tmp_path / "zaken.csv"
    table.write_text(buffer.getvalue(), encoding="utf-8")
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    assert run("batch", jsonl, "--out", a, "--peildatum", PEILDATUM.isoformat()).exit_code == 0
    assert run("batch", table, "--out", b, "--peildatum", PEILDATUM.isoformat()).exit_code == 0
    assert a.read_bytes() == b.read_bytes()
    header = a.read_text(encoding="utf-8").splitlines()[0].split(",")
    assert header[:2] == ["row", "error"] and set(engine.kb.goals) <= set(header)


def test_the_output_is_byte_identical_with_two_processes_and_with_facts_in_another_order(tmp_path, generated):
    rows = generated[:300]
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    write_jsonl(first, rows)
    write_jsonl(second, [dict(sorted(r.items(), reverse=True)) for r in rows])
    one, two = tmp_path / "een.jsonl", tmp_path / "twee.jsonl"
    assert run("batch", first, "--out", one, "--peildatum", PEILDATUM.isoformat()).exit_code == 0
    assert run("batch", second, "--out", two, "--peildatum", PEILDATUM.isoformat(), "--jobs", "2").exit_code == 0
    assert one.read_bytes() == two.read_bytes()


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_two_processes_taking_many_small_chunks_write_every_row_in_input_order(engine, generated, fmt):
    """The CLI's chunks hold 2000 rows, so a small caseload is one chunk for one worker: with chunks
    of 7 rows, two workers take turns and their chunks come back in any order."""
    rows = [Row(i + 1, None, text=json.dumps(data)) for i, data in enumerate(generated[:150])]
    rows[40] = Row(41, None, text="{kapot")  # an error row in the middle keeps its place too
    row_format = batch_module.RowFormat(
        fmt, tuple(sorted(engine.kb.goals)), tuple(batch_module.goals_with_fees(engine.kb))
    )
    job = batch_module.Job(batch_module.Evaluators(((None, PEILDATUM),)), row_format)
    texts = {}
    for jobs in (1, 2):
        done: list = []
        batch_module.run_batch(iter(rows), job, jobs, done.append, chunk_size=7)
        texts[jobs] = "".join(d.text for d in done)
        assert [d.rows for d in done] == [7] * 21 + [3] and sum(d.failed for d in done) == 1
    assert texts[1] == texts[2]
    numbers = (
        [json.loads(line)["row"] for line in texts[2].splitlines()]
        if fmt == "jsonl"
        else [int(line.split(",", 1)[0]) for line in texts[2].splitlines()]
    )
    assert numbers == list(range(1, 151))


def test_compare_reports_changed_outcomes_with_example_rows(tmp_path):
    # Five years of permit reached between the two peildata: C2's term is met only at the second.
    row = {
        **load_applicant_file(BASES / "voldoet_aan_alles.yaml"),
        "datum_aankomst_nederland": "2022-01-01",
        "uitzondering_vijfjaartermijn_van_toepassing": False,
        "verblijfsvergunningen": [{"van": "2022-01-01", "verblijfsdoel": "echtgenoot_of_partner"}],
    }
    source = tmp_path / "zaken.jsonl"
    write_jsonl(source, [row, row])
    out = tmp_path / "uit.csv"
    result = run(
        "batch",
        source,
        "--out",
        out,
        "--peildatum",
        "2026-11-23",
        "--compare-peildatum",
        "2027-06-01",
        "--format",
        "json",
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["rows"] == 2 and report["error_rows"] == 0
    changes = {(c["from"], c["to"]): c for c in report["outcomes"]["onbepaalde_tijd_regulier"]}
    assert any(f != t and c["example_rows"] == [1, 2] for (f, t), c in changes.items()), changes
    header = out.read_text(encoding="utf-8").splitlines()[0].split(",")
    assert "onbepaalde_tijd_regulier_a" in header and "onbepaalde_tijd_regulier_b" in header
    text = run("batch", source, "--out", out, "--peildatum", "2026-11-23", "--compare-peildatum", "2027-06-01")
    assert "Vergelijking van 2 aanvrager(s)" in text.output and "(bijvoorbeeld rij 1, 2)" in text.output


def test_compare_takes_a_peildatum_or_a_rule_base_directory_and_says_so_when_it_is_neither(tmp_path):
    """`batch --compare` (the option the issue names) is --compare-peildatum for a date and
    --compare-kb for a directory; the report is the same as through the explicit option."""
    source = tmp_path / "zaken.jsonl"
    write_jsonl(source, [SMALL, {**SMALL, "geboortedatum": "2010-01-01"}])
    out = tmp_path / "uit.csv"
    common = ("batch", source, "--out", out, "--peildatum", PEILDATUM.isoformat(), "--format", "json")
    by_date = run(*common, "--compare", "2030-01-01")
    assert by_date.exit_code == 0, by_date.output
    assert by_date.output == run(*common, "--compare-peildatum", "2030-01-01").output
    assert json.loads(by_date.output)["b"] == "peildatum 2030-01-01"
    kb = ROOT / "kb"
    by_kb = run(*common, "--compare", kb)
    assert by_kb.exit_code == 0, by_kb.output
    assert by_kb.output == run(*common, "--compare-kb", kb).output
    for value, expected in [
        ("nergens", "fout: --compare: kreeg 'nergens'; verwacht een peildatum (JJJJ-MM-DD) of een map"),
        ("2030-02-30", "fout: --compare: kreeg '2030-02-30'; geen bestaande datum"),
    ]:
        refused = run(*common, "--compare", value)
        assert refused.exit_code == 2 and refused.stderr.startswith(expected), refused.output
    both = run(*common, "--compare", "2030-01-01", "--compare-kb", kb)
    assert both.exit_code == 2 and "kies er één" in both.stderr


def test_a_json_report_is_only_asked_of_a_comparison(tmp_path):
    source = tmp_path / "zaken.jsonl"
    write_jsonl(source, [SMALL])
    result = run("batch", source, "--out", tmp_path / "uit.csv", "--format", "json")
    assert result.exit_code == 2 and result.stderr.startswith(
        "fout: --format json: alleen voor het rapport van een vergelijking"
    )
    assert not (tmp_path / "uit.csv").exists()


def test_compare_reports_a_row_that_only_the_second_peildatum_refuses_as_an_error_of_run_b(tmp_path):
    # born between the two peildata: a valid applicant at the first, an impossible one at the second
    source = tmp_path / "zaken.jsonl"
    write_jsonl(source, [{"geboortedatum": "2026-12-01"}, {"geboortedatum": "2000-01-01"}])
    out = tmp_path / "uit.jsonl"
    result = run(
        "batch",
        source,
        "--out",
        out,
        "--peildatum",
        "2027-01-01",
        "--compare-peildatum",
        "2026-11-23",
        "--format",
        "json",
    )
    assert result.exit_code == 1, result.output
    assert json.loads(result.stdout)["error_rows"] == 1
    first, second = (json.loads(line) for line in out.read_text(encoding="utf-8").splitlines())
    assert first["error"].startswith("run B: ") and "geboortedatum" in first["error"]
    assert not second["error"]


@pytest.mark.parametrize(
    "header,expected",
    [
        ("geboortedatm\n2000-01-01\n", "bedoelt u 'geboortedatum'?"),
        ("geboortedatum,geboortedatum\n2000-01-01,2000-01-01\n", "twee keer"),
    ],
)
def test_a_bad_csv_header_stops_before_writing_with_one_line_and_exit_code_2(tmp_path, header, expected):
    source = tmp_path / "zaken.csv"
    source.write_text(header, encoding="utf-8")
    out = tmp_path / "uit.csv"
    result = run("batch", source, "--out", out)
    assert result.exit_code == 2
    assert result.output.startswith("fout:") and expected in result.output and len(result.output.splitlines()) == 1
    assert not out.exists()


def test_a_csv_cell_that_is_not_a_yes_or_no_names_row_field_and_allowed_values(tmp_path):
    source = tmp_path / "zaken.csv"
    source.write_text("heeft_zorgverzekering\nja\nmisschien\n\n", encoding="utf-8")
    out = tmp_path / "uit.csv"
    assert run("batch", source, "--out", out).exit_code == 1
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert [r["row"] for r in rows] == ["1", "2"]  # the blank line at the end holds no applicant
    assert rows[0]["error"] == ""
    assert "rij 2" in rows[1]["error"] and "heeft_zorgverzekering" in rows[1]["error"] and "ja, nee" in rows[1]["error"]


def test_fee_text_shows_disagreeing_sources_each_with_its_amount():
    fees = [
        {"form": "7027", "amount": None, "per_source": {"002_b.txt": 20700, "001_a.txt": 105700}},
        {"form": "7026", "amount": 0, "per_source": {"001_a.txt": 0}},
    ]
    assert fee_text(fees) == "7027=001_a.txt:105700|002_b.txt:20700;7026=0"


def test_a_source_that_states_two_amounts_and_not_which_is_written_with_both(engine):
    """001 gives a trafficking victim after a family stay both € 391 and € 174 and does not say
    which applies (scenario 'volwassen slachtoffer mensenhandel na familieverblijf'): batch names
    both instead of 'onbekend'."""
    data = {
        "geboortedatum": "1990-01-01",
        "is_slachtoffer_mensenhandel": True,
        "aanvraag_na_geweld": False,
        "aanvraag_na_achterlating": False,
        "doel_van_de_aanvraag": "slachtoffer_of_getuige_mensenhandel",
        "verblijfsvergunningen": [{"van": "2020-01-01", "verblijfsdoel": "familie_of_gezinslid"}],
    }
    (result,) = CaseloadEvaluator(engine, PEILDATUM).evaluate([Row(1, data)])
    texts = {fee_text(fees) for fees in result["fees"].values()}
    assert any("001_656115d499998806.txt:17400/39100" in text for text in texts), texts


def test_blank_lines_in_a_csv_caseload_are_no_applicants_and_rows_keep_their_numbers(tmp_path):
    """A spreadsheet's export ending in an empty line (\r\n\r\n) once gave a phantom applicant
    with every fact unknown; a row's number stays the record after the header, blank ones counted."""
    source = tmp_path / "zaken.csv"
    source.write_bytes(b"heeft_zorgverzekering,geboortedatum\r\nja,1991-03-14\r\n\r\nmisschien,\r\n\r\n")
    out = tmp_path / "uit.jsonl"
    assert run("batch", source, "--out", out, "--peildatum", PEILDATUM.isoformat()).exit_code == 1
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["row"] for r in rows] == [1, 3]
    assert rows[0]["error"] is None and rows[1]["error"].startswith("rij 3, veld 'heeft_zorgverzekering'")
    # one column: an applicant with that fact unknown is written as "" (as csv.writer does), not as a blank line
    source.write_text('heeft_zorgverzekering\n""\n\n', encoding="utf-8")
    assert run("batch", source, "--out", out, "--peildatum", PEILDATUM.isoformat()).exit_code == 0
    assert [json.loads(line)["row"] for line in out.read_text(encoding="utf-8").splitlines()] == [1]


@pytest.mark.parametrize(
    "broken,problem",
    [
        ('ja,"1991-03-14', "aanhalingsteken gaat open en sluit niet op deze regel"),
        ('"ja"x,1991-03-14', "tekst na het sluitende aanhalingsteken"),
    ],
    ids=["quote-left-open", "text-after-the-quote"],
)
def test_a_broken_quote_in_a_csv_line_spoils_that_line_only_and_every_later_applicant_keeps_its_row(
    tmp_path, broken, problem
):
    """One stray quote once swallowed the applicants of the lines after it (the csv module reads on
    until the quote closes): no result row for them, and every later row number shifted."""
    source = tmp_path / "zaken.csv"
    good = "ja,1991-03-14"
    source.write_text(
        "\n".join(["heeft_zorgverzekering,geboortedatum", good, good, broken, good, good, "misschien,1991-03-14"])
        + "\n",
        encoding="utf-8",
    )
    out = tmp_path / "uit.jsonl"
    assert run("batch", source, "--out", out, "--peildatum", PEILDATUM.isoformat()).exit_code == 1
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["row"] for r in rows] == [1, 2, 3, 4, 5, 6]
    assert rows[2]["error"].startswith("rij 3: ") and problem in rows[2]["error"]
    assert [r["error"] for r in rows[:2] + rows[3:5]] == [None] * 4
    assert rows[0]["outcomes"] == rows[1]["outcomes"] == rows[3]["outcomes"] == rows[4]["outcomes"]
    assert rows[5]["error"].startswith("rij 6, veld 'heeft_zorgverzekering'")  # the last line is still its own row


def test_two_stray_quotes_in_one_column_do_not_make_the_lines_between_them_one_applicant(tmp_path):
    """Read as CSV, the quote on line 3 closes on line 5 and the record has as many cells as the
    header: still no applicant is swallowed, since only free text may run over several lines."""
    source = tmp_path / "zaken.csv"
    source.write_text(
        'heeft_zorgverzekering,geboortedatum\nja,1991-03-14\nja,"1991-03-14\nja,1991-03-14\n'
        'ja,1991-03-14"\nja,1991-03-14\n',
        encoding="utf-8",
    )
    out = tmp_path / "uit.jsonl"
    assert run("batch", source, "--out", out, "--peildatum", PEILDATUM.isoformat()).exit_code == 1
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["row"] for r in rows] == [1, 2, 3, 4, 5]
    assert "aanhalingsteken gaat open" in rows[1]["error"] and rows[3]["error"].startswith(
        "rij 4, veld 'geboortedatum'"
    )
    assert [rows[i]["error"] for i in (0, 2, 4)] == [None] * 3


def test_spaces_around_csv_cells_are_layout_for_every_kind_of_fact(tmp_path):
    source = tmp_path / "zaken.csv"
    source.write_text(
        "heeft_zorgverzekering,geboortedatum,inburgeringsexamen_gehaald_niveau\n"
        "ja,1991-03-14,A2\n  JA , 1991-03-14 , A2 \n",
        encoding="utf-8",
    )
    out = tmp_path / "uit.jsonl"
    assert run("batch", source, "--out", out, "--peildatum", PEILDATUM.isoformat()).exit_code == 0
    plain, padded = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert padded["error"] is None and padded["outcomes"] == plain["outcomes"] and padded["fees"] == plain["fees"]


def test_the_progress_bar_counts_every_row_the_run_writes_an_over_long_line_too(tmp_path):
    source = tmp_path / "zaken.jsonl"
    source.write_text(
        json.dumps(SMALL) + "\n" + "x" * (batch_module.ROW_LIMIT + 10) + "\n\n" + json.dumps(SMALL) + "\n",
        encoding="utf-8",
    )
    out = tmp_path / "uit.jsonl"
    assert run("batch", source, "--out", out, "--peildatum", PEILDATUM.isoformat()).exit_code == 1
    written = out.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["row"] for line in written] == [1, 2, 4]
    assert batch_module.count_rows(None, source, "jsonl") == len(written)


# --- operator situations: pipes, links, full disks, Ctrl-C ----------------------------------------

# A real process running this checkout's cli.py (the console script may belong to another).
CLI = [sys.executable, str(ROOT / "cli.py")]
SMALL = {"geboortedatum": "1991-03-14", "heeft_zorgverzekering": True}


def one_line_error(stderr: str) -> str:
    assert "Traceback" not in stderr and "Exception ignored" not in stderr, stderr[-2000:]
    lines = stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("fout: "), lines[:5]
    return lines[0]


def test_a_caseload_read_from_a_fifo_is_assessed_whole_with_a_progress_bar_on_a_terminal(tmp_path):
    """Counting the rows for the bar read the pipe once more and so took rows away from the run."""
    fifo = tmp_path / "zaken.jsonl"
    os.mkfifo(fifo)
    count = 3000  # more than a pipe holds, so the writer is still writing when the run starts
    text = "".join(json.dumps({**SMALL, "heeft_zorgverzekering": i % 2 == 0}) + "\n" for i in range(count))

    def feed():
        with open(fifo, "w", encoding="utf-8") as handle:
            handle.write(text)

    threading.Thread(target=feed, daemon=True).start()
    out = tmp_path / "uit.jsonl"
    terminal, child_side = pty.openpty()
    shown: list[bytes] = []

    def drain():
        while True:
            try:
                chunk = os.read(terminal, 4096)
            except OSError:  # the child closed the terminal
                return
            if not chunk:
                return
            shown.append(chunk)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    proc = subprocess.run(
        [*CLI, "batch", str(fifo), "--out", str(out), "--peildatum", PEILDATUM.isoformat()],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=child_side,
        timeout=120,
    )
    os.close(child_side)
    reader.join(5)
    os.close(terminal)
    assert proc.returncode == 0
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["row"] for r in rows] == list(range(1, count + 1))
    assert b"beoordelen" in b"".join(shown)  # the bar was there: the terminal path was taken


def test_out_may_not_be_the_input_through_a_hard_link_and_the_input_stays_whole(tmp_path):
    source = tmp_path / "zaken.jsonl"
    write_jsonl(source, [SMALL, SMALL])
    before = source.read_bytes()
    link = tmp_path / "uit.jsonl"
    os.link(source, link)
    result = run("batch", source, "--out", link, "--peildatum", PEILDATUM.isoformat())
    assert result.exit_code == 2 and "--out: mag niet het invoerbestand zijn" in result.output, result.output
    assert source.read_bytes() == before


@pytest.mark.parametrize(
    "failure,code,expected",
    [
        (KeyboardInterrupt, 130, "fout: onderbroken; "),
        (lambda: InputError("INPUT", "kan zaken.jsonl niet verder lezen: Input/output error"), 2, "fout: veld 'INPUT'"),
    ],
    ids=["ctrl-c", "read-error"],
)
def test_a_run_that_stops_halfway_leaves_the_earlier_out_file_as_it_was(tmp_path, monkeypatch, failure, code, expected):
    source = tmp_path / "zaken.jsonl"
    write_jsonl(source, [SMALL] * 3)
    out = tmp_path / "uit.jsonl"
    out.write_text("de vorige uitvoer\n", encoding="utf-8")
    written = []

    def write_then_fail(self, done):
        real_write(self, done)
        written.append(done.rows)
        raise failure()

    real_write = batch_module.Writer.write
    monkeypatch.setattr(batch_module.Writer, "write", write_then_fail)
    result = run("batch", source, "--out", out, "--peildatum", PEILDATUM.isoformat())
    assert written == [3]  # results were written (to the temporary file) before the run stopped
    assert result.exit_code == code, result.output
    assert result.stdout == "" and one_line_error(result.stderr).startswith(expected)
    assert out.read_text(encoding="utf-8") == "de vorige uitvoer\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["uit.jsonl", "zaken.jsonl"]  # no temporary file left


def test_a_finished_run_replaces_the_out_file_whole_and_keeps_its_permissions(tmp_path):
    source = tmp_path / "zaken.jsonl"
    write_jsonl(source, [SMALL] * 2)
    out = tmp_path / "uit.jsonl"
    out.write_text("oud\n" * 1000, encoding="utf-8")
    out.chmod(0o640)
    assert run("batch", source, "--out", out, "--peildatum", PEILDATUM.isoformat()).exit_code == 0
    assert [json.loads(line)["row"] for line in out.read_text(encoding="utf-8").splitlines()] == [1, 2]
    assert out.stat().st_mode & 0o777 == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["uit.jsonl", "zaken.jsonl"]


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_an_out_file_on_a_full_disk_gives_one_line_without_a_traceback(tmp_path):
    source = tmp_path / "zaken.jsonl"
    write_jsonl(source, [SMALL] * 3)
    proc = subprocess.run(
        [
            *CLI,
            "batch",
            str(source),
            "--out",
            "/dev/full",
            "--out-format",
            "jsonl",
            "--peildatum",
            PEILDATUM.isoformat(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 74 and proc.stdout == ""  # EX_IOERR: not bad input (2)
    line = one_line_error(proc.stderr)
    assert line.startswith("fout: --out: kan /dev/full niet schrijven") and "1991" not in line


def test_ctrl_c_during_a_run_with_two_processes_says_so_in_one_line_exits_130_and_writes_nothing(tmp_path):
    source = tmp_path / "zaken.jsonl"
    source.write_text((json.dumps(SMALL) + "\n") * 60_000, encoding="utf-8")
    out = tmp_path / "uit.jsonl"
    out.write_text("de vorige uitvoer\n", encoding="utf-8")
    proc = subprocess.Popen(
        [*CLI, "batch", str(source), "--out", str(out), "--jobs", "2", "--peildatum", PEILDATUM.isoformat()],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )  # its own process group, as a terminal's job is
    try:
        deadline = time.monotonic() + 60
        earlier = out.stat().st_size
        while time.monotonic() < deadline and proc.poll() is None:  # until results are being written
            if any(p.stat().st_size not in (0, earlier) for p in tmp_path.iterdir() if p != source):
                break
            time.sleep(0.02)
        assert proc.poll() is None, "the run ended before it could be interrupted"
        os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C does: every process of the group gets it
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 130, stderr.decode()[-2000:]
    assert stdout == b""
    line = one_line_error(stderr.decode())
    assert line.startswith("fout: onderbroken; ") and "niet geschreven" in line
    assert out.read_text(encoding="utf-8") == "de vorige uitvoer\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["uit.jsonl", "zaken.jsonl"]


# --- comparing two rule bases --------------------------------------------------------------------


def test_compare_kb_refuses_a_directory_that_is_no_rule_base_in_one_line_naming_the_option(tmp_path):
    source = tmp_path / "zaken.jsonl"
    write_jsonl(source, [SMALL])
    empty = tmp_path / "leeg"
    empty.mkdir()
    out = tmp_path / "uit.jsonl"
    result = run("batch", source, "--out", out, "--compare-kb", empty)
    assert result.exit_code == 2 and result.stdout == ""
    line = one_line_error(result.stderr)
    assert line.startswith("fout: --compare-kb: ") and "geen kennisbank" in line
    assert not out.exists()


def test_compare_kb_reports_a_goal_that_only_the_second_rule_base_has(tmp_path):
    other = vrije_tekst.write_kb(tmp_path / "kb")
    source = tmp_path / "zaken.jsonl"
    write_jsonl(source, [SMALL, SMALL])
    out = tmp_path / "uit.csv"
    result = run(
        "batch", source, "--out", out, "--compare-kb", other, "--peildatum", PEILDATUM.isoformat(), "--format", "json"
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert list(report["outcomes"]) == sorted(report["outcomes"])
    (change,) = report["outcomes"][vrije_tekst.GOAL]
    assert change["from"] == "" and change["to"] and change["count"] == 2 and change["example_rows"] == [1, 2]
    header = out.read_text(encoding="utf-8").splitlines()[0].split(",")
    assert f"{vrije_tekst.GOAL}_b" in header and f"{vrije_tekst.GOAL}_a" in header
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert rows[0][f"{vrije_tekst.GOAL}_a"] == "" and rows[0][f"{vrije_tekst.GOAL}_b"] == change["to"]
    text = run("batch", source, "--out", out, "--compare-kb", other, "--peildatum", PEILDATUM.isoformat())
    assert f"- {vrije_tekst.GOAL}: 2 veranderd" in text.output and "geen doel in deze kennisbank ->" in text.output


# --- fees that depend on unknown facts, and fee changes per form ---------------------------------

EXAMPLE = ROOT / "voorbeelden" / "aanvrager.yaml"  # the applicant of tests/golden/overzicht_voorbeeld.txt
EXAMPLE_DAY = date(2026, 11, 22)
VIOLENCE = (
    Path(__file__).resolve().parent / "golden" / "slachtoffer_huiselijk_geweld_zonder_opgave_over_de_aanvraag.yaml"
)
# the example applicant with every fact answered that decides an exception to the fee of form 7027;
# its first permit, as spouse, is one for medical treatment here: after a stay as spouse 000 and 001
# differ on the reduced fee after a stay with a family member (bronverschil D2+D5)
SETTLED_7027 = {
    "is_slachtoffer_mensenhandel": False,
    "is_getuige_mensenhandel": False,
    "is_slachtoffer_huiselijk_geweld": False,
    "aanvraag_na_geweld": False,
    "aanvraag_na_achterlating": False,
    "doel_van_de_aanvraag": "humanitair_niet_tijdelijk",
    "verblijfsvergunningen": [
        {"van": "2016-09-01", "tot": "2021-08-31", "verblijfsdoel": "medische_behandeling", "niet_tijdelijk": False},
        {"van": "2021-09-01", "verblijfsdoel": "humanitair_niet_tijdelijk", "niet_tijdelijk": True},
    ],
}


def applicant_data(path: Path) -> dict:
    return load_applicant_file(path)


def json_ready(data: dict) -> dict:
    """An applicant as a JSON Lines row: dates as text."""

    def plain(value):
        if isinstance(value, list):
            return [plain(v) for v in value]
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        return value.isoformat() if isinstance(value, date) else value

    return plain(data)


def other_amounts_assess_shows(fee) -> list:
    """What `assess` shows after "kan anders zijn": the amount of every exception of an applicable
    source whose applicability is still unknown, once each."""
    return sorted({alternative["amount"] for source in fee.applicable for alternative in source.alternatives})


@pytest.mark.parametrize(
    "path, day", [(EXAMPLE, EXAMPLE_DAY), (VIOLENCE, PEILDATUM)], ids=["voorbeeld", "huiselijk_geweld"]
)
def test_a_fee_that_depends_on_unknown_facts_names_in_batch_the_other_amounts_assess_names(engine, path, day):
    """`assess` says "€ 1.057,00 (kan anders zijn, …: € 391,00 of € 174,00)": an analyst
    reading the batch row must see the same uncertainty, not a settled € 1.057."""
    data = applicant_data(path)
    (result,) = CaseloadEvaluator(engine, day).evaluate([Row(1, data)])
    applicant = parse_applicant(engine.kb, data)
    seen = []
    for goal, fees in result["fees"].items():
        expected = {f.form: other_amounts_assess_shows(f) for f in engine.assess(applicant, goal, day).fees}
        assert {fee["form"]: fee["alternative_amounts"] for fee in fees} == expected, goal
        seen += [fee["alternative_amounts"] for fee in fees]
    assert any(seen), "the applicant has a fee that depends on unknown facts"
    if path == EXAMPLE:  # golden overzicht_voorbeeld.txt: € 1.057 for 7027, or € 391 or € 174
        # (not € 168: voortgezet verblijf is no application for the regeling langdurig verblijvende
        # kinderen, F11.doel_van_de_aanvraag)
        (fee,) = [f for f in result["fees"]["humanitair_niet_tijdelijk"] if f["form"] == "7027"]
        assert (fee["amount"], fee["alternative_amounts"]) == (105700, [17400, 39100])
        assert fee_text([fee]) == "7027=105700~17400~39100"


def test_a_settled_fee_names_no_other_amount_and_keeps_its_plain_csv_text(engine):
    data = {**applicant_data(EXAMPLE), **SETTLED_7027}
    (result,) = CaseloadEvaluator(engine, EXAMPLE_DAY).evaluate([Row(1, data)])
    (fee,) = result["fees"]["humanitair_niet_tijdelijk"]
    (answer,) = engine.assess(parse_applicant(engine.kb, data), "humanitair_niet_tijdelijk", EXAMPLE_DAY).fees
    assert other_amounts_assess_shows(answer) == []  # assess: € 1.057,00, no "kan anders zijn"
    assert fee["alternative_amounts"] == [] and fee_text([fee]) == "7027=105700"


def parse_fee_cell(cell: str) -> list[dict]:
    """A `fees_<goal>` cell as README describes it: forms joined by ';', each 'form=amount'; the amount
    is cents, 'onbekend', or per source 'file:cents' joined by '|' (a source that states several and
    not which: 'cents/cents'); each '~cents' after it is an amount the fee may turn out to be instead."""

    def cents(word):
        return None if word == "onbekend" else int(word)

    fees = []
    for part in cell.split(";"):
        form, amount = part.split("=")
        amount, *possible = amount.split("~")
        per_source = None
        if ":" in amount:
            per_source = {}
            for piece in amount.split("|"):
                source, stated = piece.split(":")
                per_source[source] = [cents(w) for w in stated.split("/")] if "/" in stated else cents(stated)
            amount = "onbekend"
        fees.append(
            {
                "form": form,
                "amount": cents(amount),
                "per_source": per_source,
                "alternative_amounts": [cents(w) for w in possible],
            }
        )
    return fees


def test_the_csv_fee_cell_reads_back_to_the_amounts_and_other_possible_amounts_of_the_json_lines_row(tmp_path):
    trafficking = {
        "geboortedatum": "1990-01-01",
        "is_slachtoffer_mensenhandel": True,
        "aanvraag_na_geweld": False,
        "aanvraag_na_achterlating": False,
        "doel_van_de_aanvraag": "slachtoffer_of_getuige_mensenhandel",
        "verblijfsvergunningen": [{"van": "2020-01-01", "verblijfsdoel": "familie_of_gezinslid"}],
    }
    rows = [
        json_ready(applicant_data(EXAMPLE)),
        json_ready({**applicant_data(EXAMPLE), **SETTLED_7027}),
        json_ready(applicant_data(VIOLENCE)),
        trafficking,
    ]
    source = tmp_path / "zaken.jsonl"
    write_jsonl(source, rows)
    as_csv, as_jsonl = tmp_path / "uit.csv", tmp_path / "uit.jsonl"
    for out in (as_csv, as_jsonl):
        assert run("batch", source, "--out", out, "--peildatum", PEILDATUM.isoformat()).exit_code == 0
    lines = [json.loads(line) for line in as_jsonl.read_text(encoding="utf-8").splitlines()]
    assert {(line["format"], line["version"]) for line in lines} == {("verblijfsregels/batch-row", 6)}
    cells = list(csv.DictReader(as_csv.open(encoding="utf-8")))
    notations = set()
    for line, cell in zip(lines, cells):
        for goal, fees in line["fees"].items():
            expected = [
                {
                    "form": f["form"],
                    "amount": f["amount"],
                    "alternative_amounts": f["alternative_amounts"],
                    "per_source": f["per_source"] if f["amount"] is None else None,
                }
                for f in fees
            ]
            assert parse_fee_cell(cell[f"fees_{goal}"]) == expected, (goal, cell[f"fees_{goal}"])
            notations |= {mark for mark in "|/~" if mark in cell[f"fees_{goal}"]}
    assert notations == {"|", "/", "~"}  # the rows exercise every notation, also together


def write_kb_with_another_7027_base_amount(directory: Path) -> Path:
    """kb/ copied, with the base fee of form 7027 (G4) set to another amount (that of 7024, € 1.379)."""
    import shutil

    shutil.copytree(ROOT / "kb", directory)
    fees = directory / "regels" / "leges.yaml"
    text = fees.read_text(encoding="utf-8")
    assert text.count("\n    bedrag: leges_7027\n") == 1
    fees.write_text(text.replace("\n    bedrag: leges_7027\n", "\n    bedrag: leges_7024\n"), encoding="utf-8")
    return directory


def test_compare_kb_counts_fee_changes_per_route_and_form_and_leaves_the_other_forms_unchanged(tmp_path):
    """Only 7027's base amount differs: per route, 7027 changes once per (before, after), whatever
    the applicants' 7018 fees are; 7018 and every other form stay unchanged."""
    other = write_kb_with_another_7027_base_amount(tmp_path / "kb")
    example = applicant_data(EXAMPLE)
    rows = [example, example, {**example, "heeft_turkse_nationaliteit": True}, {**example, **SETTLED_7027}]
    source = tmp_path / "zaken.jsonl"
    write_jsonl(source, [json_ready(r) for r in rows])
    out = tmp_path / "uit.csv"
    args = ["batch", source, "--out", out, "--compare-kb", other, "--peildatum", EXAMPLE_DAY.isoformat()]
    result = run(*args, "--format", "json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["format"], report["version"]) == ("verblijfsregels/batch-compare", 3)
    cells = list(csv.DictReader(out.open(encoding="utf-8")))
    assert len({c["fees_artikel_8_evrm_a"].split(";")[0] for c in cells}) == 2  # two different 7018 fees
    uncertain = {
        "from": "105700~17400~39100",
        "to": "137900~17400~39100",
        "count": 3,
        "example_rows": [1, 2, 3],
    }
    settled = {"from": "105700", "to": "137900", "count": 1, "example_rows": [4]}
    assert report["fees"]["artikel_8_evrm"] == {"7018": [], "7027": [settled, uncertain]}
    assert report["fees"]["humanitair_niet_tijdelijk"] == {"7027": [settled, uncertain]}
    changed = {(goal, form) for goal, forms in report["fees"].items() for form, changes in forms.items() if changes}
    assert {form for _, form in changed} == {"7027"}
    assert report["outcomes"] and all(c["from"] == c["to"] for cs in report["outcomes"].values() for c in cs)
    text = run(*args).output
    section = text[text.index("- artikel_8_evrm:\n", text.index("Leges")) :]
    assert section.startswith(
        "- artikel_8_evrm:\n"
        "    formulier 7018: geen verandering\n"
        "    formulier 7027: 4 veranderd\n"
        "        105700 -> 137900: 1 (bijvoorbeeld rij 4)\n"
        "        105700~17400~39100 -> 137900~17400~39100: 3 (bijvoorbeeld rij 1, 2, 3)\n"
    )
    assert "~ gaat vooraf aan een bedrag dat het ook kan zijn" in text


def test_compare_says_a_fee_is_missing_because_the_route_is_not_open_in_that_run_and_sees_other_amounts_change(
    tmp_path,
):
    """A child placed until majority (scenario 'een kind dat morgen achttien wordt …') turns 18 between
    the two peildata: the route closes, so its fees are gone, and the reduced fee for a minor
    (€ 58) is no longer among the amounts the violence routes' fee may turn out to be."""
    row = {
        "geboortedatum": "2008-11-23",
        "centrale_autoriteit_nederland_heeft_vooraf_ingestemd": True,
        "centrale_autoriteit_land_van_herkomst_heeft_vooraf_ingestemd": True,
        "gezag_geregeld_door_autoriteiten_land_van_herkomst": True,
        "duur_plaatsing_haags_kinderbeschermingsverdrag": "tot_meerderjarigheid",
        # and the general conditions of 004 for a permit for bepaalde tijd (A1-A9)
        **yaml.safe_load(
            (ROOT / "tests" / "scenarios" / "basis" / "voldoet_aan_de_algemene_voorwaarden.yaml").read_text()
        ),
    }
    source = tmp_path / "zaken.jsonl"
    write_jsonl(source, [row])
    args = [
        "batch",
        source,
        "--out",
        tmp_path / "uit.csv",
        "--peildatum",
        "2026-11-22",
        "--compare-peildatum",
        "2026-11-23",
    ]
    report = json.loads(run(*args, "--format", "json").stdout)
    goal = "haags_kinderbeschermingsverdrag_tot_meerderjarigheid"
    assert [(c["from"], c["to"]) for c in report["outcomes"][goal]] == [("eligible", "not_eligible")]
    fees = report["fees"][goal]
    assert set(fees) == {"7027", "7055"}
    assert all(change["to"] == "-" and change["example_rows"] == [1] for (change,) in fees.values())
    (change,) = report["fees"]["huiselijk_geweld"]["7027"]
    assert (change["from"], change["to"]) == ("17400~5800~39100", "17400~39100")
    text = run(*args).output
    assert f"        {fees['7055'][0]['from']} -> -: 1 (bijvoorbeeld rij 1)" in text
    assert text.count("- = geen leges: de route staat in die run niet open") == 1


SPOILED_VALUES = (
    1,
    0.5,
    "ja",
    "",
    "2020-1-1",
    "2020-02-30",
    "2020-01-01\n",
    "١٩٩٠-01-01",
    [],
    {},
    None,
    True,
    [{"van": "2020-01-01", "extra": 1}],
    [{"tot": "2020-01-01"}],
    [{"van": "2020-01-01", "tot": "2019-01-01"}],
    [{"van": "2020-01-01", "verblijfsdoel": "onbekend_doel"}],
    [{"van": "2020-01-01", "niet_tijdelijk": None}],
)


class _GeneralPath(CaseloadEvaluator):
    """Batch as it was before its short cuts: every row through the schema validator, every
    quantity worked out."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.quantities = None

    def parse(self, row):
        if row.error is not None:
            return row.error
        try:
            return evaluator_inputs(self.kb, row.data, self.peildatum, json_values=True)
        except InputError as exc:
            return batch_module.row_error(row.number, exc)


def test_batch_short_cuts_give_the_rows_of_the_general_path(engine, generated):
    """The plain check of a row (engine.applicant.rows) and working out only the quantities read
    change nothing: over generated applicants, and over copies with one value spoiled (a wrong
    type, a date that is none, a bad permit period), every result and error row is the same."""
    rng = random.Random(21)
    data = list(generated[:300])
    for applicant in generated[:300]:
        spoiled = dict(applicant)
        name = rng.choice(sorted(spoiled) + ["geen_feit"])
        spoiled[name] = rng.choice(SPOILED_VALUES)
        data.append(spoiled)
    rows = [Row(i + 1, None, text=json.dumps(d)) for i, d in enumerate(data)]
    fast = CaseloadEvaluator(engine, PEILDATUM).evaluate(rows)
    general = _GeneralPath(engine, PEILDATUM).evaluate(rows)
    assert fast == general
    errors = [r["error"] for r in fast if r["error"]]
    assert len(errors) > 100 and len(errors) < len(data) - 250  # both kinds of row are exercised


def test_plain_check_accepts_only_what_the_schema_accepts(engine, generated):
    from engine.applicant.facts import _plain_checker, _validator

    check, validate = _plain_checker(engine.kb), _validator(engine.kb)
    accepted = 0
    for applicant in generated[:200]:
        for value in SPOILED_VALUES:
            for name in (sorted(applicant) + ["geen_feit"])[:: max(1, len(applicant) // 8)]:
                spoiled = {**applicant, name: value}
                if check(spoiled):
                    accepted += 1
                    validate(spoiled)  # raises if the schema refuses what the plain check let through
    assert accepted > 100
