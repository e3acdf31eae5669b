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
