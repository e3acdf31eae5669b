"""Every JSON output names its format and version, carries the rule-base version that produced it,
and validates against the schema `verblijfsregels schema --kind …` publishes."""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path

import fastjsonschema
import pytest
from click.testing import CliRunner

from cli import main
from engine.answer import payloads
from engine.applicant.facts import read_applicant_file
from engine.rules.cache import content_key
from tests.conftest import flat

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = str(ROOT / "voorbeelden" / "aanvrager.yaml")
DAY = "2026-11-22"
FORMATS = {"date": r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"}


def _schema(kind: str):
    out = CliRunner().invoke(main, ["schema", "--kind", kind])
    assert out.exit_code == 0, out.output
    return fastjsonschema.compile(json.loads(out.stdout), formats=FORMATS)


def _json(*args: str):
    out = CliRunner().invoke(main, [*args, "--format", "json"])
    assert out.exit_code == 0, out.output
    return json.loads(out.stdout)


CASES = [
    ("assessment", ("assess", EXAMPLE, "--goal", "onbepaalde_tijd_regulier", "--peildatum", DAY)),
    ("overview", ("assess", EXAMPLE, "--peildatum", DAY)),
    ("fees", ("fees", EXAMPLE, "--goal", "onbepaalde_tijd_regulier", "--peildatum", DAY)),
    ("fees", ("fees", EXAMPLE, "--goal", "humanitair_niet_tijdelijk", "--peildatum", DAY)),
    ("fees", ("fees", EXAMPLE, "--form", "7027", "--peildatum", DAY)),
    ("why-not", ("why-not", EXAMPLE, "--goal", "onbepaalde_tijd_regulier", "--peildatum", "2020-11-22")),
    ("rules", ("rules",)),
    ("inventory", ("rules", "--inventory")),
]


@pytest.mark.parametrize("kind, args", CASES, ids=[" ".join(c[1][:1] + c[1][2:4]) for c in CASES])
def test_each_json_output_validates_against_its_schema_and_carries_the_kb_version(engine, kind, args):
    data = _json(*args)
    _schema(kind)(data)
    assert data["kb_version"] == content_key(engine.kb_dir) == engine.kb.version
    assert isinstance(data["version"], int) and data["format"].startswith("verblijfsregels/")


def test_the_interview_step_validates_and_carries_the_kb_version(engine):
    step = payloads.interview_step(engine, {}, ["onbepaalde_tijd_regulier"], date(2026, 11, 22))
    _schema("interview-step")(step)
    assert step["kb_version"] == engine.kb.version


def test_fees_for_a_goal_whose_sources_name_no_form_is_an_answer_not_an_error():
    out = CliRunner().invoke(main, ["fees", EXAMPLE, "--goal", "onbepaalde_tijd_regulier", "--peildatum", DAY])
    assert out.exit_code == 0 and "noemen geen aanvraagformulier" in flat(out.stdout)
    data = _json("fees", EXAMPLE, "--goal", "onbepaalde_tijd_regulier", "--peildatum", DAY)
    assert data["forms"] == [] and "geen aanvraagformulier" in data["no_form"]


def test_every_batch_row_validates_against_the_batch_row_schema(engine, tmp_path):
    source = tmp_path / "in.csv"
    source.write_text("geboortedatum,heeft_asielvergunning\n1991-03-14,false\nniet-een-datum,true\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    result = CliRunner().invoke(main, ["batch", str(source), "--out", str(out), "--peildatum", DAY])
    assert result.exit_code == 1  # the second row is refused, with an error row
    validate = _schema("batch-row")
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 2 and rows[1]["error"] and rows[0]["error"] is None
    for row in rows:
        validate(row)
        assert (row["format"], row["version"], row["kb_version"]) == ("verblijfsregels/batch-row", 6, engine.kb.version)
    assert rows[0]["fees"], "the first applicant has an open route with a fee"
    for row in rows:
        keys = _batch_row_machinery_keys(row)
        assert keys and keys & DUTCH_MACHINERY_KEYS == set(), keys & DUTCH_MACHINERY_KEYS
    assert _batch_row_machinery_keys(rows[0]) >= {"row", "error", "outcomes", "fees", "form", "amount", "per_source"}


# The Dutch keys batch-row had up to version 4, and other Dutch words a machinery key could take.
DUTCH_MACHINERY_KEYS = frozenset(
    {"rij", "fout", "uitkomst", "uitkomsten", "leges", "formulier", "bedrag", "bronnen_eens", "per_bron"}
    | {"voorrang", "mogelijk_ook", "doel", "doelen", "bron", "bronnen", "regel", "regels", "kennisbank"}
    | {"voor", "na", "versie", "kennisbankversie", "rijen", "fouten", "voorbeelden"}
)


def _batch_row_machinery_keys(row: dict) -> set[str]:
    """The keys of a batch row that are machinery: all but the goal ids that key `outcomes` and
    `fees` (domain ids), at the top, in each run and in each fee."""
    keys = set(row)
    for part in [row, *row.get("runs", ())]:
        keys |= set(part) if part is not row else set()
        for fees in part.get("fees", {}).values():
            for fee in fees:
                keys |= set(fee)
    return keys


def test_json_keys_are_english_machinery_with_dutch_domain_terms_only(engine):
    """docs/json.md: machinery keys are English; `peildatum` is the one domain term among the keys."""
    data = payloads.assessment(
        engine, read_applicant_file(engine.kb, Path(EXAMPLE)), "onbepaalde_tijd_regulier", date(2026, 11, 22), []
    )
    keys = set(data)
    assert keys & {"doel", "uitkomst", "leges", "bron", "bronnen"} == set()
    assert "peildatum" in keys and "goal" in keys and "outcome" in keys


def test_the_batch_comparison_validates_against_the_batch_compare_schema(engine, tmp_path):
    """`batch --compare-peildatum … --format json`: the report of what changes between two runs."""
    from engine.applicant.facts import load_applicant_file

    row = load_applicant_file(Path(EXAMPLE))
    source = tmp_path / "zaken.jsonl"
    source.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in (row, row)), encoding="utf-8")
    # in 2020 the example has not had its permit five years yet; in 2026 it has
    args = ("batch", str(source), "--out", str(tmp_path / "uit.csv"), "--peildatum", "2020-11-22")
    report = _json(*args, "--compare-peildatum", DAY)
    validate = _schema("batch-compare")
    validate(report)
    assert (report["format"], report["version"]) == ("verblijfsregels/batch-compare", 3)
    assert report["kb_versions"] == {"a": engine.kb.version, "b": engine.kb.version}  # one rule base, two dates
    assert report["rows"] == 2 and report["error_rows"] == 0
    changed = [c for c in report["outcomes"]["onbepaalde_tijd_regulier"] if c["from"] != c["to"]]
    assert changed and changed[0]["example_rows"] == [1, 2]
    # a change counted for no one is no change: the schema refuses it
    broken = json.loads(json.dumps(report))
    broken["outcomes"]["onbepaalde_tijd_regulier"][0]["count"] = 0
    with pytest.raises(fastjsonschema.JsonSchemaValueException):
        validate(broken)


def test_a_comparison_of_two_rule_bases_carries_the_version_of_each_and_they_differ(engine, tmp_path):
    """`batch --compare-kb`: kb_versions names the rule base of run a (kb/) and of run b (the other
    one), each as kb_version in any other output of it; a changed amount makes another version."""
    from engine.answer.assess import Engine
    from tests.test_batch import write_kb_with_another_7027_base_amount

    other = write_kb_with_another_7027_base_amount(tmp_path / "kb")
    source = tmp_path / "zaken.jsonl"
    source.write_text("{}\n", encoding="utf-8")  # one applicant who says nothing yet
    args = ("batch", str(source), "--out", str(tmp_path / "uit.jsonl"), "--peildatum", DAY, "--compare-kb", str(other))
    report = _json(*args)
    _schema("batch-compare")(report)
    assert report["kb_versions"] == {"a": engine.kb.version, "b": Engine(other).kb.version}
    assert report["kb_versions"]["b"] == content_key(other) != report["kb_versions"]["a"]
    # the rows: both runs in `runs`, each with the version of its own rule base, and the row's
    # kb_version that of run a
    validate = _schema("batch-row")
    rows = [json.loads(line) for line in (tmp_path / "uit.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 1
    for row in rows:
        validate(row)
        assert row["kb_version"] == engine.kb.version and len(row["runs"]) == 2
        assert [r["kb_version"] for r in row["runs"]] == [report["kb_versions"]["a"], report["kb_versions"]["b"]]
        assert _batch_row_machinery_keys(row) & DUTCH_MACHINERY_KEYS == set()
    # as CSV, a column per run, last
    _json(*args[:3], str(tmp_path / "uit.csv"), *args[4:])
    with (tmp_path / "uit.csv").open(encoding="utf-8", newline="") as handle:
        table = list(csv.reader(handle))
    assert table[0][-2:] == ["kb_version_a", "kb_version_b"]
    assert table[1][-2:] == [report["kb_versions"]["a"], report["kb_versions"]["b"]]


SCHEMA_FILES = sorted((ROOT / "engine").rglob("*.schema.json"))


def _property_names(schema) -> set[str]:
    """Every key a schema declares: the names under each `properties` and each `required`."""
    names: set[str] = set()
    if isinstance(schema, dict):
        if isinstance(schema.get("properties"), dict):
            names |= set(schema["properties"])
        if isinstance(schema.get("required"), list):
            names |= set(schema["required"])
        for value in schema.values():
            names |= _property_names(value)
    elif isinstance(schema, list):
        for value in schema:
            names |= _property_names(value)
    return names


def _consts(schema, key: str) -> set:
    found = set()
    if isinstance(schema, dict):
        prop = schema.get("properties", {}).get(key) if isinstance(schema.get("properties"), dict) else None
        if isinstance(prop, dict) and "const" in prop:
            found.add(prop["const"])
        for value in schema.values():
            found |= _consts(value, key)
    elif isinstance(schema, list):
        for value in schema:
            found |= _consts(value, key)
    return found


@pytest.mark.parametrize("path", SCHEMA_FILES, ids=[p.stem for p in SCHEMA_FILES])
def test_every_schema_is_published_under_its_format_with_its_version_in_id_and_title(path):
    """`schema --kind K` gives the file's bytes, K is the format's name, and `$id` and `title` name
    the version the schema's `version` allows, so a consumer can tell versions apart."""
    kind = path.name.removesuffix(".schema.json").replace("_", "-")
    out = CliRunner().invoke(main, ["schema", "--kind", kind])
    assert out.exit_code == 0, out.output
    assert out.stdout == path.read_text(encoding="utf-8")
    schema = json.loads(out.stdout)
    top = schema.get("properties", {}).get("format", {}).get("const")
    assert (top or _consts(schema, "format")) in (f"verblijfsregels/{kind}", {f"verblijfsregels/{kind}"})
    top_version = schema.get("properties", {}).get("version", {}).get("const")
    (version,) = {top_version} if top_version is not None else _consts(schema, "version")
    assert schema["$id"] == f"https://verblijfsregels.nl/schema/{kind}-{version}.json"
    assert schema["title"] == f"verblijfsregels/{kind}, version {version}"
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"


@pytest.mark.parametrize("path", SCHEMA_FILES, ids=[p.stem for p in SCHEMA_FILES])
def test_no_schema_declares_a_dutch_machinery_key(path):
    """docs/json.md: machinery keys are English; the Dutch keys are terms of the domain only (the
    peildatum, the units of a term such as {"dagen": 90})."""
    names = _property_names(json.loads(path.read_text(encoding="utf-8")))
    assert names, path.name
    dutch = names & (DUTCH_MACHINERY_KEYS | {"waarschuwing", "ernst", "soort", "bestand", "regelnummer"})
    assert dutch == set(), (path.name, dutch)
