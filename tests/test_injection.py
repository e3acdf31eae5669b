"""Applicant values written as code load as plain data: nothing they say is executed or written.

Every value of tests/injection_corpus.yaml (Python, pyDatalog, attribute chains, format strings,
Jinja, HTML, shell) goes into every place applicant text can go: a free-text fact, a choice, a
date, each field of a permit period, a fact name, a CSV or JSON Lines cell and column, an
interview answer (from --answers and typed at the prompt). Every command that reads applicant
data runs on it. Each value names a file inside the test's tmp_path; the tests prove that the
file never appears, that no string handed to eval/exec/compile, to pyDatalog's text API or to
Jinja's compiler holds that path, that no process is started and nothing is opened for writing
but --out, --save and the cache, and that free text comes out verbatim in text and JSON. Only
the audit writes HTML, and it shows no applicant data; its template escapes every value anyway.
"""

from __future__ import annotations

import builtins
import csv
import io
import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
import pytest
import yaml
from click.testing import CliRunner
from markupsafe import escape
from pyDatalog import pyDatalog, pyParser

import cli
from engine.answer.assess import Engine
from tests import vrije_tekst
from tests.applicant_commands import batch_runs, csv_cell, file_runs, interactive_run, interview_runs, write_caseload
from tests.vrije_tekst import FACT, FORM, GOAL

CORPUS_FILE = Path(__file__).resolve().parent / "injection_corpus.yaml"
CORPUS: dict[str, list[str]] = yaml.safe_load(CORPUS_FILE.read_text(encoding="utf-8"))
SENTINEL = "@SENTINEL@"
PAYLOADS = [
    pytest.param(category, value, id=f"{category}-{i}")
    for category, values in CORPUS.items()
    for i, value in enumerate(values, 1)
]
PERIOD = {"van": "2020-01-01"}

# Where applicant text can go: place -> the applicant data with `v` there. Only free text is
# valid; everything else must be refused as bad input (exit code 2) without being run.
PLACES = {
    "tekst": lambda v: {FACT: v, "heeft_zorgverzekering": True},
    "keuze": lambda v: {"inburgeringsexamen_gehaald_niveau": v},
    "datum": lambda v: {"geboortedatum": v},
    "ja/nee": lambda v: {"heeft_zorgverzekering": v},
    "feitnaam": lambda v: {v: True},
    "vergunning.van": lambda v: {"verblijfsvergunningen": [{"van": v}]},
    "vergunning.tot": lambda v: {"verblijfsvergunningen": [{**PERIOD, "tot": v}]},
    "vergunning.verblijfsdoel": lambda v: {"verblijfsvergunningen": [{**PERIOD, "verblijfsdoel": v}]},
    "vergunning.niet_tijdelijk": lambda v: {"verblijfsvergunningen": [{**PERIOD, "niet_tijdelijk": v}]},
    "vergunning.veldnaam": lambda v: {"verblijfsvergunningen": [{**PERIOD, v: "anders"}]},
}


def test_the_corpus_covers_every_kind_of_code_the_issue_names():
    assert {"python", "pydatalog", "attribute_chains", "format_strings", "jinja", "html", "shell"} <= set(CORPUS)
    for category, values in CORPUS.items():
        assert values, category
        for value in values:
            assert SENTINEL in value, (category, value)


# -- recording what gets evaluated ----------------------------------------------------------------


@dataclass
class Recorder:
    evaluated: list[str] = field(default_factory=list)  # strings handed to something that runs them
    datalog_text: list[str] = field(default_factory=list)  # calls of pyDatalog's text API
    processes: list[Any] = field(default_factory=list)
    written: list[str] = field(default_factory=list)  # paths opened for writing
    on: bool = False  # the test's own setup is not recorded

    def holding(self, marker: str) -> list[str]:
        return [s for s in self.evaluated + self.datalog_text if marker in s]


def _text(source: Any) -> str | None:
    if isinstance(source, str):
        return source
    if isinstance(source, (bytes, bytearray)):
        return bytes(source).decode("utf-8", "replace")
    return None


@pytest.fixture
def recorder(monkeypatch) -> Recorder:
    """Records, without changing what happens, every string that Python, pyDatalog or Jinja is
    asked to run, every process started and every file opened for writing."""
    rec = Recorder()

    def note(source: Any) -> None:
        text = _text(source) if rec.on else None
        if text is not None:
            rec.evaluated.append(text)

    real_eval, real_exec, real_compile = builtins.eval, builtins.exec, builtins.compile

    def recording_eval(source, globals=None, locals=None, /):
        note(source)
        if globals is None:  # as the caller would have run it: in the caller's namespace
            frame = sys._getframe(1)
            globals, locals = frame.f_globals, frame.f_locals if locals is None else locals
        return real_eval(source, globals, locals)

    def recording_exec(source, globals=None, locals=None, /, **kwargs):
        note(source)
        if globals is None:
            frame = sys._getframe(1)
            globals, locals = frame.f_globals, frame.f_locals if locals is None else locals
        return real_exec(source, globals, locals, **kwargs)

    def recording_compile(source, *args, **kwargs):
        note(source)
        return real_compile(source, *args, **kwargs)

    monkeypatch.setattr(builtins, "eval", recording_eval)
    monkeypatch.setattr(builtins, "exec", recording_exec)
    monkeypatch.setattr(builtins, "compile", recording_compile)

    def text_api(module: Any, name: str) -> None:
        real = getattr(module, name)

        def recording(*args, **kwargs):
            if rec.on:
                rec.datalog_text.append(repr((name, args, kwargs)))
            return real(*args, **kwargs)

        monkeypatch.setattr(module, name, recording)

    for name in ("load", "ask", "create_terms"):
        text_api(pyDatalog, name)
    for name in ("load", "ask", "add_symbols"):
        if hasattr(pyParser, name):
            text_api(pyParser, name)

    for name in ("from_string", "compile", "_parse"):
        real = getattr(jinja2.Environment, name)

        def recording_jinja(self, source, *args, _real=real, **kwargs):
            note(source)
            return _real(self, source, *args, **kwargs)

        monkeypatch.setattr(jinja2.Environment, name, recording_jinja)

    real_popen_init = subprocess.Popen.__init__

    def recording_popen(self, *args, **kwargs):
        if rec.on:
            rec.processes.append(args)
        return real_popen_init(self, *args, **kwargs)

    monkeypatch.setattr(subprocess.Popen, "__init__", recording_popen)
    for name in ("system", "popen", "posix_spawn", "posix_spawnp", "execv", "execve", "execvp"):
        if hasattr(os, name):
            real_call = getattr(os, name)

            def recording_call(*args, _real=real_call, _name=name, **kwargs):
                if rec.on:
                    rec.processes.append((_name, args))
                return _real(*args, **kwargs)

            monkeypatch.setattr(os, name, recording_call)

    real_open = io.open

    def recording_open(file, mode="r", *args, **kwargs):
        if rec.on and any(c in mode for c in "wax+") and not isinstance(file, int):
            rec.written.append(os.fspath(file))
        return real_open(file, mode, *args, **kwargs)

    monkeypatch.setattr(io, "open", recording_open)
    monkeypatch.setattr(builtins, "open", recording_open)
    return rec


def test_the_recorder_sees_a_value_handed_to_pydatalogs_text_api_or_to_eval_or_jinja(recorder, tmp_path):
    # the assertions below could fail: a value formatted into code is seen wherever it is run
    marker = str(tmp_path / "merk")
    recorder.on = True
    pyDatalog.load(f"+ proef_merk('{marker}')")
    eval(f"'{marker}'")
    jinja2.Environment().from_string("{{ x }}" + marker)
    assert len(recorder.holding(marker)) >= 3
    pyDatalog.clear()


# -- the knowledge base with a free-text fact -----------------------------------------------------


@pytest.fixture(scope="module")
def tekst_engine(tmp_path_factory) -> Engine:
    return Engine(vrije_tekst.write_kb(tmp_path_factory.mktemp("vrije-tekst") / "kb"))


@pytest.fixture
def with_tekst_kb(monkeypatch, tekst_engine, tmp_path):
    """Commands run against the knowledge base with the free-text fact; the cache in tmp_path."""
    import engine.rules.declarations
    import engine.rules.model

    monkeypatch.setenv("VERBLIJFSREGELS_CACHE", str(tmp_path / "cache"))
    # batch builds its own engine from it; the commands read it from engine.rules.declarations
    monkeypatch.setattr(engine.rules.declarations, "KB_DIR", tekst_engine.kb_dir)
    monkeypatch.setattr(engine.rules.model, "KB_DIR", tekst_engine.kb_dir)
    monkeypatch.setattr(cli, "_engine", lambda: tekst_engine)
    return tekst_engine


def _fact_values(node: dict) -> list[Any]:
    found = [node["value"]] if node.get("node") == FACT else []
    for child in node.get("children", ()):
        found += _fact_values(child)
    return found


def _allowed_writes(paths: list[str], allowed: list[Path]) -> list[str]:
    roots = [str(p) for p in allowed]
    return [p for p in paths if not any(p == r or p.startswith(r + os.sep) for r in roots)]


def _jinja_cache() -> list[Path]:
    from explain import _ENV

    cache = _ENV.bytecode_cache
    return [Path(cache.directory)] if cache is not None else []


def _csv_expected(rows: list[dict], columns: list[str]) -> list[bool]:
    """Per result row of the CSV caseload, whether it is an error row. Only free text may run over
    several lines in a CSV record (engine/answer/batch.py, _csv_records): a line break in any other value
    makes each non-blank line of that record an error row of its own, and a blank one no row."""
    expected = []
    for place, row in zip(PLACES, rows):
        text = io.StringIO()
        csv.writer(text, lineterminator="\n").writerow([csv_cell(row.get(name)) for name in columns])
        lines = re.split(r"\r\n|\r|\n", text.getvalue())[:-1]  # how the reader splits lines
        if place == "tekst" or len(lines) == 1:
            expected.append(place not in ("tekst", "feitnaam"))  # the fact-name row has only empty cells
        else:
            expected += [True for line in lines if line.strip()]
    return expected


@pytest.mark.parametrize("category,template", PAYLOADS)
def test_code_in_any_applicant_value_is_never_run_and_free_text_comes_out_verbatim(
    category, template, tmp_path, with_tekst_kb, recorder
):
    sentinel = tmp_path / "gemaakt-door-de-aanvrager"
    value = template.replace(SENTINEL, str(sentinel))
    files = tmp_path / "invoer"
    files.mkdir()
    runs = []
    for i, (place, make) in enumerate(PLACES.items()):
        data = make(value)
        # YAML and JSON files both: the two loaders are different code
        path = files / (f"{i}.yaml" if i % 2 == 0 else f"{i}.json")
        if path.suffix == ".yaml":
            path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
        else:
            path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        runs += [(place, run) for run in file_runs(path, GOAL, FORM) + interview_runs(path, GOAL)]
    # typed at the prompt: the free-text question is the one left open (a typed answer is one line)
    earlier = files / "antwoorden.yaml"
    earlier.write_text("heeft_zorgverzekering: true\n", encoding="utf-8")
    save = tmp_path / "opgeslagen.yaml"
    runs.append(("tekst", interactive_run(earlier, GOAL, save, value.replace("\n", " "))))
    rows = [make(value) for make in PLACES.values()]
    columns = [
        FACT,
        "heeft_zorgverzekering",
        "inburgeringsexamen_gehaald_niveau",
        "geboortedatum",
        "verblijfsvergunningen",
    ]
    write_caseload(rows, files / "caseload.csv", files / "caseload.jsonl", columns=columns)
    header = io.StringIO()
    csv.writer(header, lineterminator="\n").writerows([["heeft_zorgverzekering", value], ["true", "ja"]])
    (files / "kop.csv").write_text(header.getvalue(), encoding="utf-8")
    out = tmp_path / "uit"
    out.mkdir()
    # each input format once (the output format cannot run a value), and a comparison report
    batches = [
        run
        for run in batch_runs(files / "caseload.csv", files / "caseload.jsonl", out)
        if run.name in ("batch .csv -> .csv", "batch .jsonl -> .jsonl", "batch --compare-peildatum, text")
    ]
    recorder.on = True

    for place, run in runs:
        result = run.invoke()
        assert result.exception is None or isinstance(result.exception, SystemExit), (place, run.name, result.exception)
        if place != "tekst":
            assert result.exit_code == 2, (place, run.name, result.output)
            continue
        assert result.exit_code == 0, (run.name, result.output)
        if run.name in ("assess --goal --detail, text", "why-not --detail, text"):
            assert value in result.stdout, run.name  # verbatim: not escaped, not formatted, not trimmed
        elif run.name == "assess --goal, json":
            assert _fact_values(json.loads(result.stdout)["proof"]) == [value]
        elif run.name == "why-not, json":
            assert _fact_values(json.loads(result.stdout)["assessment"]["proof"]) == [value]
        elif run.name == "interview --save":
            saved = yaml.safe_load(save.read_text(encoding="utf-8"))
            assert saved == {"heeft_zorgverzekering": True, FACT: value.replace("\n", " ").strip()}
    for run in batches:
        result = run.invoke()
        assert result.exit_code == 1, (run.name, result.output)  # the rows with a refused value
        assert result.exception is None or isinstance(result.exception, SystemExit), (run.name, result.exception)
    written = sorted(out.glob("uit-*"))
    assert len(written) == 2
    for path in written:
        text = path.read_text(encoding="utf-8")
        results = (
            [json.loads(line) for line in text.splitlines()]
            if path.suffix == ".jsonl"
            else list(csv.DictReader(io.StringIO(text)))
        )
        # only free text is valid; in CSV the fact-name row is empty (its column is refused above)
        expected = [place != "tekst" and not (place == "feitnaam" and "-csv" in path.name) for place in PLACES]
        if path.suffix == ".csv":
            expected = _csv_expected(rows, columns)
        assert [bool(r["error"]) for r in results] == expected, path.name
    refused = CliRunner().invoke(cli.main, ["batch", str(files / "kop.csv"), "--out", str(out / "kop-uit.csv")])
    assert refused.exit_code == 2, refused.output  # the value as a column name

    assert not sentinel.exists()
    assert recorder.holding(str(sentinel)) == []
    assert recorder.datalog_text == []  # the engine never uses pyDatalog's text API at all
    assert recorder.processes == []
    assert _allowed_writes(recorder.written, [out, save, tmp_path / "cache", *_jinja_cache()]) == []
    assert {p.name for p in tmp_path.iterdir()} <= {"invoer", "uit", "cache", "opgeslagen.yaml"}


@pytest.mark.parametrize(
    "text",
    [
        "{FACT}: !!python/object/apply:os.system ['touch {sentinel}']\n",
        "{FACT}: !!python/object/new:subprocess.Popen [['touch', '{sentinel}']]\n",
        "{FACT}: !!python/name:os.system\n",
        "!!python/object/apply:os.system ['touch {sentinel}']: ja\n",
        "{FACT}: &a !!python/object/apply:builtins.open ['{sentinel}', 'w']\nheeft_zorgverzekering: *a\n",
    ],
    ids=["apply", "new", "name", "in-a-key", "anchored"],
)
def test_yaml_tags_that_would_build_python_objects_are_refused_without_running(text, tmp_path, with_tekst_kb, recorder):
    sentinel = tmp_path / "gemaakt-door-yaml"
    path = tmp_path / "aanvrager.yaml"
    path.write_text(text.format(FACT=FACT, sentinel=sentinel), encoding="utf-8")
    recorder.on = True
    for run in file_runs(path, GOAL, FORM) + interview_runs(path, GOAL):
        result = run.invoke()
        assert result.exit_code == 2, (run.name, result.output)
    assert not sentinel.exists()
    assert recorder.processes == []
    assert recorder.holding(str(sentinel)) == []


# -- HTML ----------------------------------------------------------------------------------------


def test_the_html_template_escapes_every_value_it_shows():
    # Only `audit --format html` writes HTML, and it shows the rule base and witnesses the audit
    # makes itself, never an applicant file. Should applicant text ever reach it, the template
    # environment escapes it: here every field the page prints holds each HTML and Jinja value.
    from explain import _ENV

    assert _ENV.autoescape("audit.html.j2") is True
    assert _ENV.autoescape("assessment.txt.j2") is False  # plain text: escaping would garble it
    values = [v.replace(SENTINEL, "/tmp/x") for v in CORPUS["html"] + CORPUS["jinja"]]
    for value in values:
        finding = {
            "severity": "fout",
            "explained": {"reason": value, "where": value, "location": {"file": value, "line": 1}},
            "title": value,
            "key": value,
            "message": value,
            "locations": [{"id": value, "file": value, "line": 1}],
            "rows": [value],
            "rules": [{"id": value, "label": value, "source": {"file": value, "quote": value}}],
            "witnesses": [{"label": value, "verified": False, "yaml": value, "command": value}],
        }
        page = _ENV.get_template("audit.html.j2").render(
            peildatum="2026-11-22",
            summary={"errors": 1, "warnings": 0, "info": 0, "explained": 1},
            strict_fails=True,
            categories=[{"id": "tegenstrijdig", "heading": value, "findings": [finding]}],
            coverage=[
                {
                    "goal": value,
                    "yes_no_atoms": 1,
                    "compared": [{"name": value, "classes": [value]}],
                    "situations_known": 1,
                    "situations_with_unknown": 1,
                    "recomputed_concretely": 1,
                    "recompute_exhaustive": True,
                    "exhaustive": False,
                    "date_combinations": [{"with_example": 1, "combinations": 2, "without_example": [{value: value}]}],
                }
            ],
            notes=[value],
            graphs=[{"goal": value, "label": value, "dot": value, "svg": None}],
        )
        escaped = str(escape(value))
        assert page.count(escaped) >= 15, value  # printed as text: a Jinja value is not run either
        if escaped != value:
            assert value not in page, value
