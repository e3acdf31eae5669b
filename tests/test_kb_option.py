"""Every command that reads a rule base takes `--kb DIR` and reads that one, not kb/."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from cli import main
from tests.test_audit import GOAL, SRC, facts, kb_dir

TINY = facts("a") + GOAL + f"regels:\n  - {{id: C1, label: eigen regel, conclusie: p, voorwaarden: a, {SRC}}}\n"


@pytest.mark.parametrize("command", sorted(main.commands))
def test_every_command_takes_kb_and_refuses_a_directory_that_does_not_exist(command, tmp_path):
    assert "--kb" in {o for p in main.commands[command].params for o in p.opts}
    result = CliRunner().invoke(main, [command, "--kb", str(tmp_path / "bestaat-niet")])
    assert result.exit_code == 2 and result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith("fout: --kb:") and "geen map" in line


def test_the_commands_read_the_rule_base_kb_names(tmp_path):
    kb = kb_dir(tmp_path / "kb", TINY)
    applicant = tmp_path / "aanvrager.yaml"
    applicant.write_text("a: true\n", encoding="utf-8")
    runner = CliRunner()
    rules = json.loads(runner.invoke(main, ["rules", "--kb", str(kb), "--format", "json"]).stdout)
    items = rules["rules"] if isinstance(rules, dict) else rules  # a list today; an object once it is versioned
    assert [r["id"] for r in items] == ["C1"]
    assessed = json.loads(
        runner.invoke(main, ["assess", "--kb", str(kb), str(applicant), "--goal", "doel", "--format", "json"]).stdout
    )
    assert assessed["outcome"] == "eligible"
    schema = json.loads(runner.invoke(main, ["schema", "--kb", str(kb)]).stdout)
    assert set(schema["properties"]) == {"a"}
    audit = json.loads(runner.invoke(main, ["audit", "--kb", str(kb), "--format", "json"]).stdout)
    assert [g["goal"] for g in audit["coverage"]["goals"]] == ["doel"]


def test_serve_hands_its_kb_to_the_application_its_workers_build(tmp_path, monkeypatch):
    from starlette.testclient import TestClient

    from cli import SERVE_KB
    from engine.web.app import create_app

    kb = kb_dir(tmp_path / "kb", TINY)
    monkeypatch.setenv(SERVE_KB, str(kb))
    with TestClient(create_app()) as client:
        got = client.get("/v1/rules").json()
    items = got["rules"] if isinstance(got, dict) else got
    assert [r["id"] for r in items] == ["C1"]


def test_lang_en_reads_the_english_text_beside_the_rule_base_kb_names(tmp_path):
    """`--lang en --kb DIR` reads DIR/en.yaml, not kb/en.yaml: a label and an explanation changed in
    a copy are what the English answer says."""
    import shutil

    import yaml

    from engine.rules.model import KB_DIR, load_knowledge_base
    from explain.lang import localized
    from tests.conftest import ROOT, flat

    copy = tmp_path / "kb"
    shutil.copytree(KB_DIR, copy)
    english = yaml.safe_load((copy / "en.yaml").read_text(encoding="utf-8"))
    shipped = english["regels"]["C1"]["label"]
    english["regels"]["C1"]["label"] = "meets the general conditions, as this copy words it"
    english["regels"]["C1"]["toelichting"] = "This copy explains C1 in its own words."
    (copy / "en.yaml").write_text(yaml.safe_dump(english, allow_unicode=True, sort_keys=False), encoding="utf-8")
    applicant = ROOT / "voorbeelden" / "aanvrager.yaml"
    args = ["--lang", "en", "assess", str(applicant), "--goal", "onbepaalde_tijd_regulier", "--peildatum", "2026-11-22"]
    runner = CliRunner()
    short = runner.invoke(main, [*args, "--kb", str(copy)])
    assert short.exit_code == 0, short.output
    assert "- meets the general conditions, as this copy words it (source 003)" in flat(short.stdout)
    assert shipped not in short.stdout
    detail = runner.invoke(main, [*args, "--kb", str(copy), "--detail"]).stdout
    assert "C1: meets the general conditions, as this copy words it — met" in detail
    assert "Explanation: This copy explains C1 in its own words." in detail
    # without --kb the shipped English text, as before
    assert f"- {shipped} (source 003)" in flat(runner.invoke(main, args).stdout)
    # the knowledge base knows where it was read from, and so does its English copy
    kb = load_knowledge_base(copy)
    assert kb.directory == copy
    assert localized(kb, "en").rules["C1"].label == "meets the general conditions, as this copy words it"
    assert localized(load_knowledge_base(), "en").rules["C1"].label == shipped


def test_lang_en_with_a_rule_base_without_english_text_is_refused_in_one_line(tmp_path):
    kb = kb_dir(tmp_path / "kb", TINY)  # no en.yaml beside it
    runner = CliRunner()
    for args in (["--lang", "en", "rules", "--kb", str(kb)], ["rules", "--kb", str(kb), "--lang", "en"]):
        result = runner.invoke(main, args)
        assert result.exit_code == 2 and result.stdout == "", args
        (line,) = result.stderr.splitlines()
        assert line == (
            f"fout: --lang en: de kennisbank in {kb} heeft geen en.yaml met de Engelse teksten; "
            "voeg die toe (zoals kb/en.yaml) of kies --lang nl"
        )
    # in Dutch, and as JSON (which is the same in both languages), the rule base answers as before
    assert "C1" in runner.invoke(main, ["rules", "--kb", str(kb)]).stdout
    json_rules = runner.invoke(main, ["--lang", "en", "rules", "--kb", str(kb), "--format", "json"])
    assert json_rules.exit_code == 0 and "eigen regel" in json_rules.stdout
    step = runner.invoke(main, ["--lang", "en", "interview", "--kb", str(kb), "--goal", "doel", "--next"])
    assert step.exit_code == 0 and json.loads(step.stdout), step.output  # the next question, as JSON
