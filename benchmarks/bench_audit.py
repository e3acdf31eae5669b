"""Benchmark: `verblijfsregels audit` of the real rule base, as a real process.

Prints figures; asserts nothing (speed goals are read, not tested). Each figure is the median of
a few runs; the phases (build of the atom space, symbolic evaluation, dated situations, checks
with witnesses, completeness recomputation) are timed once in-process for orientation.

    python benchmarks/bench_audit.py [--runs 3] [--peildatum 2026-11-22] [--markdown]

With --markdown the figures are printed as a markdown table (for docs/metingen.md) instead.

The diff (`audit --against`, issue 19) is timed against a copy of kb/ with C4's age 13 -> 12:
two audits and both programs over one space of situations.

Goal (issues 6 and 19): the full audit, and the audit with the diff, each in at most 60 s on the
2-core machine.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def wall(cmd: list[str], runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        done = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        times.append(time.perf_counter() - start)
        if done.returncode not in (0, 1):
            raise SystemExit(done.stderr.decode())
    return times


def planted_copy(tmp: Path) -> Path:
    """kb/ with C4's minimum age 13 lowered to 12: a change the diff must trace to the goal it alters."""
    copy = tmp / "kb"
    shutil.copytree(ROOT / "kb", copy, ignore=shutil.ignore_patterns("__pycache__", "*.py"))
    path = copy / "regels" / "onbepaalde_tijd_regulier.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("minstens: 13", "minstens: 12", 1), encoding="utf-8")
    return copy


def phases(peildatum: date) -> list[tuple[str, float]]:
    from engine.answer.assess import Engine
    from engine.checks.audit import Auditor

    out = []
    start = time.perf_counter()
    engine = Engine()
    out.append(("kennisbank laden en compileren", time.perf_counter() - start))
    start = time.perf_counter()
    auditor = Auditor(engine, peildatum)
    out.append(("atomen, beslisdiagrammen en gedateerde situaties", time.perf_counter() - start))
    start = time.perf_counter()
    report = auditor.run()
    out.append((f"controles, getuigen en narekenen ({len(report.findings)} bevindingen)", time.perf_counter() - start))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="runs of the command")
    parser.add_argument("--peildatum", default="2026-11-22")
    parser.add_argument("--markdown", action="store_true", help="print a markdown table of the medians")
    parser.add_argument("--write", metavar="FILE", help="put the table in FILE's marked section (implies --markdown)")
    parser.add_argument("--section", default="bench_audit", help="the section --write replaces")
    args = parser.parse_args()
    args.markdown = args.markdown or bool(args.write)
    binary = shutil.which("verblijfsregels") or str(Path(sys.executable).with_name("verblijfsregels"))
    medians = {}
    for fmt in ("text", "html"):
        times = wall([binary, "audit", "--peildatum", args.peildatum, "--format", fmt], args.runs)
        medians[fmt] = (statistics.median(times), times)
        if not args.markdown:
            print(
                f"verblijfsregels audit --format {fmt}: mediaan {statistics.median(times):.2f} s "
                f"over {len(times)} runs ({', '.join(f'{t:.2f}' for t in times)}); doel <= 60 s"
            )
    with tempfile.TemporaryDirectory() as tmp:
        copy = planted_copy(Path(tmp))
        times = wall(
            [binary, "audit", "--peildatum", args.peildatum, "--kb", str(copy), "--against", str(ROOT / "kb")],
            args.runs,
        )
        medians["diff"] = (statistics.median(times), times)
        if not args.markdown:
            print(
                f"verblijfsregels audit --against (C4 13 -> 12): mediaan {statistics.median(times):.2f} s "
                f"over {len(times)} runs ({', '.join(f'{t:.2f}' for t in times)}); doel <= 60 s"
            )
    steps = phases(date.fromisoformat(args.peildatum))
    if args.markdown:
        from tabel import emit, number, table

        rows = [
            (
                f"`verblijfsregels audit --against` (kopie met C4 13 → 12; mediaan van {len(times)})"
                if fmt == "diff"
                else f"`verblijfsregels audit --format {fmt}` (mediaan van {len(times)})",
                number(median) + " s",
                "<= 60 s",
            )
            for fmt, (median, times) in medians.items()
        ]
        rows += [(f"in het proces, één keer: {name}", number(seconds) + " s", "") for name, seconds in steps]
        emit(table(("meting", "tijd", "doel"), rows), args.write, args.section)
        return
    for name, seconds in steps:
        print(f"  {name}: {seconds:.2f} s")


if __name__ == "__main__":
    main()
