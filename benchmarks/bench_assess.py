"""Benchmark: cold start of `verblijfsregels assess` and in-process assess + explanation.

Prints figures; asserts nothing (speed goals are read, not tested). Machines are noisy, so each
figure is a median over repeated runs, and the cold start is a ratio to the baseline measured
in the same run: `python -c "import pyDatalog, click, jinja2"`.

    python benchmarks/bench_assess.py [--runs 15] [--loops 200]

Goals (issues 2 and 8): cold ratio <= 2; in-process median <= 10 ms for one goal, and for every goal
with the overview and each goal's explanation.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "voorbeelden" / "aanvrager.yaml"
PEILDATUM = "2026-11-22"


def wall(cmd: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="cold-start runs per command")
    parser.add_argument("--loops", type=int, default=200, help="in-process assessments")
    args = parser.parse_args()

    script = shutil.which("verblijfsregels") or str(Path(sys.executable).with_name("verblijfsregels"))
    assess_cmd = [script, "assess", str(EXAMPLE), "--peildatum", PEILDATUM]
    goal_cmd = assess_cmd + ["--goal", "onbepaalde_tijd_regulier"]
    baseline_cmd = [sys.executable, "-c", "import pyDatalog, click, jinja2"]
    wall(assess_cmd, 2)  # warm the OS file cache and the per-user KB cache
    wall(baseline_cmd, 2)
    # interleave so that drift in machine load hits both alike
    cold, cold_goal, base = [], [], []
    for _ in range(args.runs):
        cold.append(wall(assess_cmd, 1))
        cold_goal.append(wall(goal_cmd, 1))
        base.append(wall(baseline_cmd, 1))
    cold_median, base_median = statistics.median(cold), statistics.median(base)
    goal_median = statistics.median(cold_goal)

    sys.path.insert(0, str(ROOT))
    from engine.assess import Engine
    from engine.facts import read_applicant_file
    from explain import render_assessment, render_overview

    engine = Engine()
    applicant = read_applicant_file(engine.kb, EXAMPLE)
    peildatum = date.fromisoformat(PEILDATUM)
    render_assessment(engine.assess(applicant, "onbepaalde_tijd_regulier", peildatum), engine.kb)
    assess_times, total_times = [], []
    for _ in range(args.loops):
        start = time.perf_counter()
        result = engine.assess(applicant, "onbepaalde_tijd_regulier", peildatum)
        middle = time.perf_counter()
        render_assessment(result, engine.kb)
        end = time.perf_counter()
        assess_times.append(middle - start)
        total_times.append(end - start)

    all_times = []
    for _ in range(max(20, args.loops // 4)):
        start = time.perf_counter()
        results = engine.assess_all(applicant, peildatum)
        render_overview(results, engine.kb)
        for result in results:
            render_assessment(result, engine.kb)
        all_times.append(time.perf_counter() - start)

    print(f"cold `verblijfsregels assess` (every goal) median {cold_median * 1000:6.1f} ms  ({args.runs} runs)")
    print(f"cold `verblijfsregels assess --goal` median {goal_median * 1000:12.1f} ms  (ratio {goal_median / base_median:.2f})")
    print(f"cold baseline (import pyDatalog, click, jinja2) {base_median * 1000:4.1f} ms")
    print(f"cold ratio                                 {cold_median / base_median:8.2f}    (goal <= 2)")
    print(f"in-process assess median                   {statistics.median(assess_times) * 1000:8.2f} ms  ({args.loops} loops)")
    print(f"in-process assess + explanation median     {statistics.median(total_times) * 1000:8.2f} ms  (goal <= 10 ms)")
    print(f"in-process every goal ({len(engine.kb.goals)}) + overview + every explanation median "
          f"{statistics.median(all_times) * 1000:6.2f} ms  (goal <= 10 ms)")


if __name__ == "__main__":
    main()
