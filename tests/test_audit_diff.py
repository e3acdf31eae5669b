"""`audit --against`: a planted change in a copy of a rule base is reported as the declarations it
changes, the findings it adds or removes and, for every goal and fee whose answer changes, the
situations where it does with an example applicant that both versions answer as reported; a
change that alters no answer says so."""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import date
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from cli import main
from engine.answer.assess import Engine
from engine.applicant.facts import parse_applicant
from engine.checks.diff import AnswerDiff, compare, declaration_changes
from engine.evaluate.setwise import SetwiseEvaluator
from engine.rules.cache import content_key
from engine.rules.model import KB_DIR
from tests.test_audit import AGE, FEE_SRC, FEES, GOAL, PEILDATUM, SRC, facts, kb_dir

AGED = (
    facts("a")
    + AGE
    + GOAL
    + f"""
regels:
  - {{id: C1, label: oud genoeg, conclusie: p, voorwaarden: {{alle: [a, {{waarde: leeftijd, minstens: 13}}]}}, {SRC}}}
"""
)


def planted(tmp_path: Path, name: str, text: str) -> Path:
    return kb_dir(tmp_path / name, text)


def run(*args: str):
    return CliRunner().invoke(main, ["audit", "--peildatum", PEILDATUM.isoformat(), *args])


def validate(data) -> None:
    """Against the published schema, `schema --kind audit-diff`."""
    import fastjsonschema

    schema = json.loads(CliRunner().invoke(main, ["schema", "--kind", "audit-diff"]).stdout)
    fastjsonschema.compile(schema)(data)


def age_on_peildatum(birth: str) -> int:
    born = date.fromisoformat(birth)
    return PEILDATUM.year - born.year - ((PEILDATUM.month, PEILDATUM.day) < (born.month, born.day))


def test_a_lower_age_threshold_changes_the_goal_for_exactly_that_age_with_an_example_of_it(tmp_path):
    before = planted(tmp_path, "voor", AGED)
    after = planted(tmp_path, "na", AGED.replace("minstens: 13", "minstens: 12"))
    report = compare(before, after, PEILDATUM, "voor", "na")
    assert report.declarations == {
        "added": [],
        "removed": [],
        "changed": [{"kind": "regel", "id": "C1", "fields": ["conditions"]}],
    }
    (change,) = report.changes
    assert (change.kind, change.subject, change.before, change.after) == ("doel", "doel", "not_eligible", "eligible")
    assert change.description["separating"] == ["leeftijd"]
    assert change.description["common"] == {"a": "ja", "leeftijd": "12"}
    example = change.example
    assert age_on_peildatum(example["geboortedatum"]) == 12 and example["a"] is True
    for path, outcome in ((before, "not_eligible"), (after, "eligible")):
        engine = Engine(path)
        assert engine.assess(parse_applicant(engine.kb, example), "doel", PEILDATUM).outcome == outcome


def test_a_change_of_only_a_label_alters_no_answer_and_says_so(tmp_path):
    before = planted(tmp_path, "voor", AGED)
    after = planted(tmp_path, "na", AGED.replace("label: oud genoeg", "label: oud genoeg (nieuw label)"))
    result = run("--kb", str(after), "--against", str(before))
    assert result.exit_code == 0, result.output
    assert "Geen antwoord verandert" in result.stdout
    assert "regel C1 (label)" in result.stdout
    data = json.loads(run("--kb", str(after), "--against", str(before), "--format", "json").stdout)
    validate(data)
    assert data["answers"]["unchanged"] is True and data["answers"]["changes"] == []
    assert data["declarations"]["changed"] == [{"kind": "regel", "id": "C1", "fields": ["label"]}]


def test_the_json_diff_is_version_2_and_carries_the_rule_base_version_of_each_side(tmp_path):
    """kb_versions: of the before (--against) and of the after (--kb), each as kb_version in any other
    output of that rule base; they differ when the rule bases differ, and are equal when only the
    directory differs."""
    before = planted(tmp_path, "voor", AGED)
    after = planted(tmp_path, "na", AGED.replace("minstens: 13", "minstens: 12"))
    same = planted(tmp_path, "zelfde", AGED)
    data = json.loads(run("--kb", str(after), "--against", str(before), "--format", "json").stdout)
    validate(data)
    assert (data["format"], data["version"]) == ("verblijfsregels/audit-diff", 2)
    assert data["kb_versions"] == {"before": Engine(before).kb.version, "after": Engine(after).kb.version}
    assert data["kb_versions"]["before"] != data["kb_versions"]["after"]
    unchanged = json.loads(run("--kb", str(same), "--against", str(before), "--format", "json").stdout)
    validate(unchanged)
    assert unchanged["kb_versions"]["before"] == unchanged["kb_versions"]["after"] == data["kb_versions"]["before"]
    # a side that does not load still has its version: that of its files
    broken = planted(tmp_path, "kapot", AGED.replace("conclusie: p,", "conclusie: p, onbekend_veld: 1,"))
    failed = json.loads(run("--kb", str(broken), "--against", str(before), "--format", "json").stdout)
    validate(failed)
    assert failed["answers"]["compared"] is False
    assert failed["kb_versions"] == {"before": data["kb_versions"]["before"], "after": content_key(broken)}


def test_a_changed_amount_is_a_fee_change_for_every_situation_of_the_form(tmp_path):
    text = (
        facts("a")
        + FEES
        + f"""
leges:
  - {{id: G1, label: basis, formulier: "1234", bedrag: basis, {FEE_SRC}}}
  - {{id: G1.a, label: a, uitzondering_op: G1, formulier: "1234", bedrag: laag, van_toepassing_als: a, {FEE_SRC}}}
"""
    )
    before = planted(tmp_path, "voor", text)
    after = planted(tmp_path, "na", text.replace("waarde: 10000", "waarde: 12000"))
    report = compare(before, after, PEILDATUM, "voor", "na")
    assert report.declarations["changed"] == [{"kind": "parameter", "id": "basis", "fields": ["values"]}]
    (change,) = report.changes
    assert (change.kind, change.subject, change.before, change.after) == (
        "leges",
        "1234",
        "bedrag:10000",
        "bedrag:12000",
    )
    assert change.description["common"] == {"a": "nee"}
    assert change.example.get("a") is not True  # with `a` unknown the base amount decides: it may be left out
    assert (change.example_before, change.example_after) == ("bedrag:10000", "bedrag:12000")


def test_the_text_and_html_reports_give_the_change_the_example_and_how_to_reproduce_it(tmp_path):
    before = planted(tmp_path, "voor", AGED)
    after = planted(tmp_path, "na", AGED.replace("minstens: 13", "minstens: 12"))
    text = run("--kb", str(after), "--against", str(before)).stdout
    assert "- doel doel: komt niet in aanmerking -> komt in aanmerking" in text
    assert "Wat de versies scheidt: leeftijd" in text
    assert "verblijfsregels assess voorbeeld.yaml --goal doel --peildatum 2026-11-22 --kb VOOR" in text
    page = run("--kb", str(after), "--against", str(before), "--format", "html").stdout
    from tests.test_audit import assert_valid_html

    assert_valid_html(page)
    assert "komt niet in aanmerking → komt in aanmerking" in page


def test_a_git_revision_is_read_from_the_repository_not_from_the_working_tree(tmp_path):
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    repo = tmp_path / "repo"
    kb = planted(repo, "kb", AGED)
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.org"]
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "voor"], check=True)
    rules = kb / "regels" / "r.yaml"
    rules.write_text(rules.read_text(encoding="utf-8").replace("minstens: 13", "minstens: 12"), encoding="utf-8")
    data = json.loads(run("--kb", str(kb), "--against", "HEAD", "--format", "json").stdout)
    validate(data)
    assert data["before"].startswith("git-revisie HEAD (")
    assert data["kb_versions"] == {
        "before": content_key(planted(tmp_path / "HEAD", "kb", AGED)),
        "after": content_key(kb),
    }
    (change,) = data["answers"]["changes"]
    assert (change["before"], change["after"]) == ("not_eligible", "eligible")


@pytest.mark.parametrize("against", ["geen-revisie-of-map", "--bogus=1"])
def test_an_against_that_names_nothing_is_one_line_and_exit_code_2(tmp_path, against):
    kb = planted(tmp_path, "kb", AGED)
    result = CliRunner().invoke(main, ["audit", "--kb", str(kb), f"--against={against}"])
    assert result.exit_code == 2 and result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith("fout: --against")


def test_lowering_c4s_age_in_a_copy_of_the_real_rule_base_changes_onbepaalde_tijd_for_a_child_of_12(tmp_path):
    copy = tmp_path / "kb"
    shutil.copytree(KB_DIR, copy, ignore=shutil.ignore_patterns("__pycache__", "*.py"))
    path = copy / "regels" / "onbepaalde_tijd_regulier.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    (c4,) = [r for r in data["regels"] if r["id"] == "C4"]
    text = path.read_text(encoding="utf-8")
    assert text.count("minstens: 13") == 1 and "leeftijd" in json.dumps(c4["voorwaarden"])
    path.write_text(text.replace("minstens: 13", "minstens: 12"), encoding="utf-8")
    before = Engine(KB_DIR, evaluator=SetwiseEvaluator)
    after = Engine(copy, evaluator=SetwiseEvaluator)
    changes = AnswerDiff(before, after, PEILDATUM, declaration_changes(before.kb, after.kb)).changes()
    assert {(c.subject, c.before, c.after) for c in changes} == {
        ("onbepaalde_tijd_regulier", "not_eligible", "eligible")
    }
    (change,) = changes
    assert change.description["common"]["leeftijd"] == "12" and "leeftijd" in change.description["separating"]
    assert age_on_peildatum(change.example["geboortedatum"]) == 12
    for engine, outcome in ((before, "not_eligible"), (after, "eligible")):
        applicant = parse_applicant(engine.kb, change.example)
        assert engine.assess(applicant, "onbepaalde_tijd_regulier", PEILDATUM).outcome == outcome


def test_a_command_too_long_for_a_line_is_broken_before_an_option_and_still_pastes_as_one():
    from explain import command_lines

    command = "verblijfsregels assess voorbeeld.yaml --goal onbepaalde_tijd_regulier --peildatum 2026-12-07 --kb VOOR"
    lines = command_lines(command, 4).split("\n")
    assert len(lines) == 2 and all(len(line) <= 100 for line in lines)
    assert lines[0].endswith(" \\") and lines[1].lstrip().startswith("--kb VOOR")
    joined = " ".join(line.strip().removesuffix("\\").strip() for line in lines)
    assert joined == command
    assert command_lines("verblijfsregels assess a.yaml --kb VOOR", 4) == "    verblijfsregels assess a.yaml --kb VOOR"


def test_an_example_whose_permit_would_run_past_the_width_lists_every_permit_in_blocks():
    from engine.checks.audit import Witness, witness_yaml

    short = {"van": "2022-12-07", "verblijfsdoel": "studie", "niet_tijdelijk": True}
    long = {"van": "2039-12-07", "tot": "2049-12-08", "verblijfsdoel": "familie_of_gezinslid", "niet_tijdelijk": False}
    for permits in ([short], [short, long]):
        applicant = {"geboortedatum": "2014-12-07", "verblijfsvergunningen": permits}
        text = witness_yaml(Witness("", applicant, "", True))
        assert all(len(" " * 6 + line) <= 100 for line in text.splitlines())
        read = yaml.safe_load(text)
        assert [
            {k: str(v) if isinstance(v, date) else v for k, v in p.items()} for p in read["verblijfsvergunningen"]
        ] == (permits)
        flow = [line for line in text.splitlines() if line.startswith("- {")]
        assert len(flow) == (len(permits) if permits == [short] else 0)
