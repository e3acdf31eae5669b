"""The same input gives byte-identical why-not, fees, interview and batch output (text and JSON)
across runs, orders of facts, permit periods and CSV columns, PYTHONHASHSEED values, and
processes. (assess is covered by tests/test_cli.py and tests/test_invariants.py.)

Each hash seed runs every command in a fresh process with its own cache, so the knowledge base
is compiled under that seed, and reads the input in its own order; one seed also runs the batch
with two worker processes. Every output must equal the in-process output for the file order.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from cli import main
from tests.applicant_commands import PEILDATUM, batch_runs, interview_runs, write_caseload
from tests.conftest import ROOT
from tests.isolation_support import applicants

SCRIPT = Path(sys.executable).with_name("verblijfsregels")
GOAL = "onbepaalde_tijd_regulier"
EXAMPLE = yaml.safe_load((ROOT / "voorbeelden" / "aanvrager.yaml").read_text(encoding="utf-8"))
# per hash seed, the order in which that run's input lists facts, periods, fields and columns
SEEDS = {"0": "as_is", "1": "reversed", "12345": "shuffled"}


def iso(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: iso(v) for k, v in value.items()}
    if isinstance(value, list):
        return [iso(v) for v in value]
    return value.isoformat() if hasattr(value, "isoformat") else value


def arranged(data: dict[str, Any], order: str, rng: random.Random) -> dict[str, Any]:
    """The same applicant with its facts, permit periods and their fields in another order."""

    def reorder(items: list) -> list:
        items = list(items)
        if order == "reversed":
            items.reverse()
        elif order == "shuffled":
            rng.shuffle(items)
        return items

    out = {}
    for name in reorder(list(data)):
        value = data[name]
        if isinstance(value, list):
            value = [dict(reorder(list(period.items()))) for period in reorder(value)]
        out[name] = value
    return out


def why_not_applicant() -> dict[str, Any]:
    return {**iso(EXAMPLE), "heeft_zorgverzekering": False, "inburgeringsexamen_gehaald_niveau": None}


def fees_applicant() -> dict[str, Any]:
    """Sources give different amounts for this one: the answer lists both."""
    return {
        **iso(EXAMPLE),
        "geboortedatum": "2012-05-01",
        "is_slachtoffer_mensenhandel": False,
        "is_getuige_mensenhandel": False,
        "is_slachtoffer_huiselijk_geweld": True,
        "aanvraag_na_geweld": True,
        "aanvraag_na_achterlating": False,
        "doel_van_de_aanvraag": "slachtoffer_huiselijk_of_eergerelateerd_geweld",
        "verblijfsvergunningen": [
            {"van": "2016-09-01", "tot": "2020-12-31", "verblijfsdoel": "anders", "niet_tijdelijk": False},
            {"van": "2021-01-01", "verblijfsdoel": "familie_of_gezinslid"},
        ],
    }


def interview_answers() -> dict[str, Any]:
    """Half the example's answers, and its permit periods: questions are still open for several goals."""
    example = iso(EXAMPLE)
    answers = {k: v for i, (k, v) in enumerate(example.items()) if i % 2 == 0}
    answers["verblijfsvergunningen"] = example["verblijfsvergunningen"]
    return answers


@pytest.fixture(scope="module")
def caseload() -> list[dict[str, Any]]:
    rows = applicants(40, seed=4)
    rows.insert(7, {"geboortedatum": "2020-02-30"})  # an error row is part of the output too
    return rows


def inputs(directory: Path, order: str, caseload: list[dict[str, Any]]) -> dict[str, Path]:
    """Every input file, with facts, periods, fields and columns in `order`."""
    directory.mkdir()
    rng = random.Random(f"{order}-volgorde")
    paths = {}
    for name, data in (("why_not", why_not_applicant()), ("fees", fees_applicant()), ("answers", interview_answers())):
        paths[name] = directory / f"{name}.yaml"
        paths[name].write_text(
            yaml.safe_dump(arranged(data, order, rng), sort_keys=False, allow_unicode=True), encoding="utf-8"
        )
    columns = arranged({name: None for row in caseload for name in row}, order, rng)
    write_caseload(
        [arranged(row, order, rng) for row in caseload],
        directory / "caseload.csv",
        directory / "caseload.jsonl",
        columns=list(columns),
    )
    return paths


def command_lines(paths: dict[str, Path], directory: Path, jobs: int = 1) -> dict[str, tuple[list[str], Path | None]]:
    """name -> (arguments, the file it writes or None); the outputs are stdout and that file."""
    at = ["--peildatum", PEILDATUM]
    out: dict[str, tuple[list[str], Path | None]] = {}
    for fmt in ("text", "json"):
        out[f"why-not {fmt}"] = (["why-not", str(paths["why_not"]), "--goal", GOAL, *at, "--format", fmt], None)
        out[f"fees --form {fmt}"] = (["fees", str(paths["fees"]), "--form", "7027", *at, "--format", fmt], None)
        out[f"fees --goal --voorrang {fmt}"] = (
            ["fees", str(paths["fees"]), "--goal", "huiselijk_geweld", "--voorrang", "002,001", *at, "--format", fmt],
            None,
        )
    for run in interview_runs(paths["answers"], GOAL):
        out[run.name] = (list(run.args), None)
    for run in batch_runs(directory / "caseload.csv", directory / "caseload.jsonl", directory):
        args = list(run.args)
        out[run.name] = (args + ["--jobs", str(jobs)], Path(args[args.index("--out") + 1]))
    return out


def outputs_in_process(paths: dict[str, Path], directory: Path) -> dict[str, bytes]:
    found = {}
    for name, (args, written) in command_lines(paths, directory).items():
        result = CliRunner().invoke(main, args)
        assert result.exit_code in (0, 1), (name, result.output)  # 1: the batch's error row
        found[name] = result.stdout_bytes
        if written is not None:
            found[f"{name}: {written.suffix}"] = written.read_bytes()
    return found


def outputs_in_processes(
    seed: str, paths: dict[str, Path], directory: Path, cache: Path, jobs: int
) -> dict[str, bytes]:
    env = {**os.environ, "PYTHONHASHSEED": seed, "VERBLIJFSREGELS_CACHE": str(cache)}
    env.pop("VERBLIJFSREGELS_NO_CACHE", None)
    found = {}
    for name, (args, written) in command_lines(paths, directory, jobs).items():
        proc = subprocess.run([str(SCRIPT), *args], capture_output=True, env=env, timeout=120)
        assert proc.returncode in (0, 1), (name, proc.stderr)
        found[name] = proc.stdout
        if written is not None:
            found[f"{name}: {written.suffix}"] = written.read_bytes()
    return found


def test_the_outputs_compared_are_real_answers(tmp_path, caseload):
    found = outputs_in_process(inputs(tmp_path / "in", "as_is", caseload), tmp_path / "in")
    assert b"U komt in aanmerking als" in found["why-not text"]  # repairs, so their order is tested too
    assert b"bron 002" in found["fees --form text"] and b"bron 001" in found["fees --form text"]
    assert b'"done": false' in found["interview --next"]
    assert found["batch .csv -> .csv: .csv"].count(b"\n") == len(caseload) + 1
    assert b"veranderd" in found["batch --compare-peildatum, text"]  # outcomes that change, with example rows


def test_why_not_fees_interview_and_batch_are_byte_identical_across_orders_in_process(tmp_path, caseload):
    results = {
        order: outputs_in_process(inputs(tmp_path / order, order, caseload), tmp_path / order)
        for order in ("as_is", "reversed", "shuffled")
    }
    for name in ("why_not.yaml", "fees.yaml", "answers.yaml", "caseload.csv", "caseload.jsonl"):
        texts = {(tmp_path / order / name).read_text(encoding="utf-8") for order in results}
        assert len(texts) == 3, name  # three different inputs ...
    reference = results["as_is"]  # ... and one output
    for order, found in results.items():
        for name in reference:
            assert found[name] == reference[name], (order, name)


def test_why_not_fees_interview_and_batch_are_byte_identical_across_hash_seeds_in_real_processes(tmp_path, caseload):
    reference = outputs_in_process(inputs(tmp_path / "in-process", "as_is", caseload), tmp_path / "in-process")
    for seed, order in SEEDS.items():
        directory = tmp_path / f"seed-{seed}"
        paths = inputs(directory, order, caseload)
        jobs = 2 if seed == "12345" else 1  # worker processes do not change a byte either
        found = outputs_in_processes(seed, paths, directory, tmp_path / f"cache-{seed}", jobs)
        assert found.keys() == reference.keys()
        for name in reference:
            assert found[name] == reference[name], (seed, order, name)
