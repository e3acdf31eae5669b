"""Benchmark: cold start of `verblijfsregels assess` and in-process assess + explanation.

Prints figures; asserts nothing (speed goals are read, not tested). Machines are noisy, so each
figure is a median over repeated runs, and the cold start is a ratio to the baseline measured
in the same run: `python -c "import pyDatalog, click, jinja2"`. Each `--goal` run is paired with
the baseline run after it; the ratio is the median over the pairs, and the highest pair is shown
too, with the load average (other work on the machine makes single pairs noisy).

The cold start is measured twice. First as on a default Python, which caches each module's
bytecode on its first import (pip precompiles the baseline's libraries the same way); the runs
use a fresh PYTHONPYCACHEPREFIX so the checkout is not touched. Then with
PYTHONDONTWRITEBYTECODE=1 and no prefix, as on this machine, which forbids writing bytecode on
import: the runs read the bytecode the README's install command compiled
(`python -m compileall -q cli.py engine explain`). Without it every run would compile this
project's modules from source again (about 60 ms); the benchmark says when it is missing or stale.

    python benchmarks/bench_assess.py [--runs 21] [--loops 200] [--markdown] [--write docs/metingen.md [--section NAME]]

With --markdown the figures are printed as a markdown table (for docs/metingen.md) instead; with
--write that table replaces its own marked section of the file (benchmarks/tabel.py).

Goals (issues 2, 8 and 21): cold ratio <= 1.5 on the median and <= 2 for every pair; in-process median <= 10 ms for one goal with its
explanation, and for every goal with the Dutch overview `assess` prints. Rendering each goal's
full explanation as well is printed for information.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "voorbeelden" / "aanvrager.yaml"
PEILDATUM = "2026-11-22"


def wall(cmd: list[str], runs: int, env: dict[str, str]) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def cold_start(
    assess_cmd: list[str], goal_cmd: list[str], baseline_cmd: list[str], runs: int, env: dict[str, str]
) -> dict[str, float]:
    """Medians of the cold `assess` (every goal), `assess --goal` and the baseline, and of each
    `--goal` run divided by the baseline run beside it (a pair): the median and the highest of
    those ratios, with the load average before and after."""
    wall(assess_cmd, 2, env)  # warm the OS file cache, the per-user KB cache and any bytecode cache
    wall(goal_cmd, 1, env)
    wall(baseline_cmd, 2, env)
    load_before = _load()
    # interleave so that drift in machine load hits all three alike
    cold, cold_goal, base = [], [], []
    for _ in range(runs):
        cold.append(wall(assess_cmd, 1, env))
        cold_goal.append(wall(goal_cmd, 1, env))
        base.append(wall(baseline_cmd, 1, env))
    pairs = [g / b for g, b in zip(cold_goal, base)]
    return {
        "cold": statistics.median(cold),
        "goal": statistics.median(cold_goal),
        "base": statistics.median(base),
        "pair_median": statistics.median(pairs),
        "pair_max": max(pairs),
        "load_before": load_before,
        "load_after": _load(),
    }


def _load() -> float:
    try:
        return os.getloadavg()[0]
    except OSError:
        return float("nan")


def stale_bytecode() -> list[str]:
    """The project's modules without current bytecode beside them (what compileall writes)."""
    import importlib.util

    sources = [ROOT / "cli.py", *sorted((ROOT / "engine").rglob("*.py")), *sorted((ROOT / "explain").rglob("*.py"))]
    stale = []
    for source in sources:
        compiled = Path(importlib.util.cache_from_source(str(source)))
        if not compiled.exists() or compiled.stat().st_mtime < source.stat().st_mtime:
            stale.append(str(source.relative_to(ROOT)))
    return stale


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21, help="cold-start pairs (runs per command)")
    parser.add_argument("--loops", type=int, default=200, help="in-process assessments")
    parser.add_argument("--markdown", action="store_true", help="print a markdown table of the medians and ratios")
    parser.add_argument("--write", metavar="FILE", help="put the table in FILE's marked section (implies --markdown)")
    parser.add_argument("--section", default="bench_assess", help="the section --write replaces")
    args = parser.parse_args()
    args.markdown = args.markdown or bool(args.write)

    script = shutil.which("verblijfsregels") or str(Path(sys.executable).with_name("verblijfsregels"))
    assess_cmd = [script, "assess", str(EXAMPLE), "--peildatum", PEILDATUM]
    goal_cmd = assess_cmd + ["--goal", "onbepaalde_tijd_regulier"]
    baseline_cmd = [sys.executable, "-c", "import pyDatalog, click, jinja2"]
    plain = {k: v for k, v in os.environ.items() if k not in ("PYTHONDONTWRITEBYTECODE", "PYTHONPYCACHEPREFIX")}
    with tempfile.TemporaryDirectory(prefix="bench-pycache-") as prefix:
        cached = cold_start(assess_cmd, goal_cmd, baseline_cmd, args.runs, {**plain, "PYTHONPYCACHEPREFIX": prefix})
    no_bytecode = cold_start(assess_cmd, goal_cmd, baseline_cmd, args.runs, {**plain, "PYTHONDONTWRITEBYTECODE": "1"})

    sys.path.insert(0, str(ROOT))
    from engine.answer.assess import Engine
    from engine.applicant.facts import read_applicant_file
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

    overview_times, all_times = [], []
    for _ in range(max(20, args.loops // 4)):
        start = time.perf_counter()
        results = engine.assess_all(applicant, peildatum)
        render_overview(results, engine.kb)
        middle = time.perf_counter()
        for result in results:
            render_assessment(result, engine.kb)
        end = time.perf_counter()
        overview_times.append(middle - start)
        all_times.append(end - start)

    stale = stale_bytecode()
    if args.markdown:
        from tabel import emit, number, table

        ms = lambda seconds: number(seconds * 1000, 1) + " ms"  # noqa: E731
        bytecode = "zonder actuele bytecode van het project" if stale else "met de bytecode van de installatieopdracht"
        text = table(
            ("meting", "mediaan", "doel"),
            [
                ("koude `verblijfsregels assess` op het voorbeeld (alle doelen)", ms(cached["cold"]), ""),
                ("koude `verblijfsregels assess --goal onbepaalde_tijd_regulier`", ms(cached["goal"]), ""),
                ('`python -c "import pyDatalog, click, jinja2"` (basislijn)', ms(cached["base"]), ""),
                ("verhouding `--goal` / basislijn, mediaan van de paren", number(cached["pair_median"]), "<= 1,5"),
                ("idem, hoogste verhouding van één paar", number(cached["pair_max"]), "<= 2"),
                ("verhouding alle doelen / basislijn (medianen)", number(cached["cold"] / cached["base"]), ""),
                (
                    f"met `PYTHONDONTWRITEBYTECODE=1`, {bytecode}: `--goal` / basislijn, mediaan van de paren",
                    number(no_bytecode["pair_median"]),
                    "<= 1,5",
                ),
                ("idem, hoogste verhouding van één paar", number(no_bytecode["pair_max"]), "<= 2"),
                (
                    "idem, alle doelen / basislijn (medianen)",
                    number(no_bytecode["cold"] / no_bytecode["base"]),
                    "",
                ),
                ("één doel in het proces", number(statistics.median(assess_times) * 1000) + " ms", ""),
                (
                    "één doel + Nederlandse motivering in het proces",
                    number(statistics.median(total_times) * 1000) + " ms",
                    "<= 10 ms",
                ),
                (
                    f"alle doelen ({len(engine.kb.goals)}) + het Nederlandse overzicht dat `assess` toont",
                    number(statistics.median(overview_times) * 1000) + " ms",
                    "<= 10 ms",
                ),
                (
                    "alle doelen + overzicht + de volledige motivering van elk doel",
                    number(statistics.median(all_times) * 1000) + " ms",
                    "",
                ),
            ],
        )
        text += (
            f"\n\n{args.runs} paren (koude run van elke opdracht afwisselend met de basislijn), load "
            f"{number(cached['load_before'], 1)} tot {number(no_bytecode['load_after'], 1)}; "
            f"{args.loops} runs in het proces."
        )
        emit(text, args.write, args.section)
        return
    for title, m in (
        ("cold start, bytecode cached as a default Python does:", cached),
        (
            f"cold start, PYTHONDONTWRITEBYTECODE=1, WITHOUT current project bytecode ({len(stale)} modules, "
            f"e.g. {stale[0]}; `python -m compileall -q cli.py engine explain` writes it): compiled from source every run:"
            if stale
            else "cold start, PYTHONDONTWRITEBYTECODE=1 (as on this machine), reading the bytecode the install command compiled:",
            no_bytecode,
        ),
    ):
        print(title)
        print(
            f"  `verblijfsregels assess` (every goal) median {m['cold'] * 1000:6.1f} ms  (ratio {m['cold'] / m['base']:.2f})"
        )
        print(f"  `verblijfsregels assess --goal` median {m['goal'] * 1000:12.1f} ms")
        print(f"  baseline (import pyDatalog, click, jinja2) {m['base'] * 1000:8.1f} ms")
        print(f"  --goal / baseline, median of {args.runs} pairs {m['pair_median']:6.2f}    (goal <= 1.5)")
        print(f"  highest ratio of one pair                {m['pair_max']:8.2f}    (goal <= 2)")
        print(f"  load average before / after              {m['load_before']:5.1f} / {m['load_after']:.1f}")
    print(
        f"in-process assess median                   {statistics.median(assess_times) * 1000:8.2f} ms  ({args.loops} loops)"
    )
    print(
        f"in-process assess + explanation median     {statistics.median(total_times) * 1000:8.2f} ms  (goal <= 10 ms)"
    )
    print(
        f"in-process every goal ({len(engine.kb.goals)}) + Dutch overview (what `assess` prints) median "
        f"{statistics.median(overview_times) * 1000:6.2f} ms  (goal <= 10 ms)"
    )
    print(
        f"in-process every goal + overview + each goal's full explanation median "
        f"{statistics.median(all_times) * 1000:6.2f} ms"
    )


if __name__ == "__main__":
    main()
