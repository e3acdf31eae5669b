"""What a cold `assess --goal` loads (issue 21): once the cache holds the compiled rule base, a new
process answers from it without the YAML rule reader and its checks (engine.rules.model), without
pyDatalog and without the tools that check the rule base, and says exactly what the run that built
the cache said. Checked in fresh processes through sys.modules; how fast that is, is for
benchmarks/bench_assess.py to measure, not for a test.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.conftest import ROOT

EXAMPLE = ROOT / "voorbeelden" / "aanvrager.yaml"
ARGS = ["assess", str(EXAMPLE), "--goal", "onbepaalde_tijd_regulier", "--peildatum", "2026-11-22"]
# the command in a fresh interpreter; afterwards the names of the modules it imported go to the
# file named first
PROBE = """
import json, sys
from cli import main
try:
    main(sys.argv[2:])
finally:
    with open(sys.argv[1], "w") as handle:
        json.dump(sorted(sys.modules), handle)
"""


def _run(tmp_path, name: str) -> tuple[subprocess.CompletedProcess, set[str]]:
    modules = tmp_path / f"{name}.json"
    env = {**os.environ, "VERBLIJFSREGELS_CACHE": str(tmp_path / "cache")}
    env.pop("VERBLIJFSREGELS_NO_CACHE", None)
    env.pop("VERBLIJFSREGELS_COVERAGE", None)  # recording rule coverage loads the checking tools
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, str(modules), *ARGS],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return proc, set(json.loads(modules.read_text()))


def test_assess_goal_on_a_warm_cache_reads_no_rule_yaml_loads_no_pydatalog_and_answers_alike(tmp_path):
    building, built_with = _run(tmp_path, "building")
    warm, loaded = _run(tmp_path, "warm")
    assert building.returncode == 0 and warm.returncode == 0, building.stderr + warm.stderr
    assert "engine.rules.model" in built_with  # the first run read and checked kb/ ...
    assert warm.stdout == building.stdout and warm.stderr == building.stderr == ""  # ... the second answers alike
    assert warm.stdout.startswith("Verblijfsvergunning voor onbepaalde tijd regulier")
    assert "engine.rules.model" not in loaded  # the declarations came from the cache
    assert "engine.rules.declarations" in loaded
    assert "pyDatalog" not in loaded  # the set-at-a-time evaluator answers
    assert not {m for m in loaded if m.startswith("engine.checks")}
