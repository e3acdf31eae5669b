"""Every command line that reads applicant data, for the tests that run them all.

tests/test_injection.py, tests/test_privacy.py and tests/test_identical_output.py each need
"every command, every format" for one applicant; listing them once keeps a new command or format
from being tested in one place and forgotten in another.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from cli import main

PEILDATUM = "2026-11-22"


@dataclass(frozen=True)
class Run:
    name: str
    args: tuple[str, ...]
    input: str | None = None  # what is typed at the prompts (the interactive interview)

    def invoke(self):
        return CliRunner().invoke(main, list(self.args), input=self.input)


def file_runs(path: Path, goal: str, form: str) -> list[Run]:
    """assess, why-not and fees on an applicant file, in text and JSON."""
    p = str(path)
    at = ("--peildatum", PEILDATUM)
    return [
        Run("assess --goal, text", ("assess", p, "--goal", goal, *at, "--format", "text")),
        Run("assess --goal --detail, text", ("assess", p, "--goal", goal, *at, "--format", "text", "--detail")),
        Run("assess --goal, json", ("assess", p, "--goal", goal, *at, "--format", "json")),
        Run("assess, text", ("assess", p, *at, "--format", "text")),
        Run("assess, json", ("assess", p, *at, "--format", "json")),
        Run("assess --backend datalog, json", ("assess", p, *at, "--backend", "datalog", "--format", "json")),
        Run("why-not, text", ("why-not", p, "--goal", goal, *at, "--format", "text")),
        Run("why-not --detail, text", ("why-not", p, "--goal", goal, *at, "--format", "text", "--detail")),
        Run("why-not, json", ("why-not", p, "--goal", goal, *at, "--format", "json")),
        Run("fees --goal, text", ("fees", p, "--goal", goal, *at, "--format", "text")),
        Run("fees --goal, json", ("fees", p, "--goal", goal, *at, "--format", "json")),
        Run("fees --form, text", ("fees", p, "--form", form, *at, "--format", "text")),
        Run("fees --form, json", ("fees", p, "--form", form, *at, "--format", "json")),
    ]


def interview_runs(answers: Path, goal: str) -> list[Run]:
    """interview --next on earlier answers, for one goal and for every goal."""
    at = ("--peildatum", PEILDATUM)
    return [
        Run("interview --next --goal", ("interview", "--next", "--answers", str(answers), "--goal", goal, *at)),
        Run("interview --next", ("interview", "--next", "--answers", str(answers), *at)),
    ]


def interactive_run(answers: Path, goal: str, save: Path, typed: str = "?") -> Run:
    """The interview at the prompt: `typed` answers the first question, every later one is skipped."""
    return Run(
        "interview --save",
        ("interview", "--answers", str(answers), "--goal", goal, "--save", str(save), "--peildatum", PEILDATUM),
        input=typed + "\n" + "?\n" * 200,
    )


def batch_runs(csv_input: Path, jsonl_input: Path, out_dir: Path) -> list[Run]:
    """batch from CSV and JSON Lines to both output formats, and a comparison report in text and JSON."""
    at = ("--peildatum", PEILDATUM)
    runs = []
    for source in (csv_input, jsonl_input):
        for suffix in (".csv", ".jsonl"):
            out = out_dir / f"uit-{source.suffix[1:]}{suffix}"
            runs.append(Run(f"batch {source.suffix} -> {suffix}", ("batch", str(source), "--out", str(out), *at)))
    for fmt in ("text", "json"):
        out = out_dir / f"vergelijking-{fmt}.csv"
        runs.append(
            Run(
                f"batch --compare-peildatum, {fmt}",
                ("batch", str(csv_input), "--out", str(out), *at, "--compare-peildatum", "2035-01-01", "--format", fmt),
            )
        )
    return runs


def csv_cell(value: Any) -> str:
    """A value as a batch CSV cell holds it: permit periods as JSON, yes/no as true/false."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False)
    return "" if value is None else str(value)


def write_caseload(
    rows: list[dict[str, Any]], csv_path: Path, jsonl_path: Path, columns: list[str] | None = None
) -> None:
    """The same applicants as a CSV file (columns in the given order) and as JSON Lines."""
    columns = columns or sorted({name for row in rows for name in row})
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([csv_cell(row.get(name)) for name in columns])
    csv_path.write_text(buffer.getvalue(), encoding="utf-8")
    jsonl_path.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), encoding="utf-8")
