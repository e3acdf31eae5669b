"""Benchmark: `verblijfsregels batch` on a generated caseload, every goal and fee.

Prints figures; asserts nothing. The caseload comes from the seeded generator
(`engine.checks.caseload`, half of it variants of the scenario base applicants), written once as JSON
Lines; the batch then runs as a real process, and the peak memory of its whole process tree
(main process plus workers, summed, sampled every 20 ms from /proc) is reported with the wall time.

    python benchmarks/bench_batch.py [--size 100000] [--jobs 2] [--runs 3] [--floor-size 20000]
                                     [--markdown] [--write docs/metingen.md [--section NAME]]

With --markdown the figures are printed as a markdown table (for docs/metingen.md) instead; with
--write that table replaces its own marked section of the file (benchmarks/tabel.py).

The floor: one goal (FLOOR_GOAL) as a hand-written three-valued Python function reading the same
JSON Lines, against the batch path for that goal alone (row decoding, validation, quantities,
evaluation, CSV text), in the same process and alternately; the ratio per applicant is printed,
with the number of applicants on which the two disagree (it must be 0).

Goals (issue 21): 100,000 applicants <= 5 s wall on the 2-core machine, <= 512 MiB peak, memory
flat over the run (the peak per quarter of the run is printed); the batch path of one goal <= 3
times the floor.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PEILDATUM = date(2026, 11, 23)

# The floor's goal: a residence permit for a terminal illness (kb: terminale_ziekte), eligible when
# all four conditions hold, not eligible when one fails, undetermined otherwise (Kleene and).
FLOOR_GOAL = "terminale_ziekte"
FLOOR_FACTS = (
    "is_in_nederland",
    "is_terminaal_ziek",
    "krijgt_alleen_palliatieve_zorg",
    "komt_in_aanmerking_bij_terminale_ziekte",
)


def floor_outcome(data: dict) -> str:
    """The goal by hand, three-valued: what a programmer would write without the engine."""
    values = [data.get(name) for name in FLOOR_FACTS]
    if any(v is False for v in values):
        return "not_eligible"
    if all(v is True for v in values):
        return "eligible"
    return "undetermined"


def floor_run(lines: list[str]) -> tuple[str, list[str]]:
    """The floor over JSON Lines: decode, decide, write a CSV row per applicant."""
    loads = json.loads
    outcomes = [floor_outcome(loads(line)) for line in lines]
    text = "".join(f"{i},,{o}\n" for i, o in enumerate(outcomes, start=1))
    return text, outcomes


def floor_comparison(lines: list[str], rounds: int = 5) -> dict:
    """Per applicant: the floor and the batch path of FLOOR_GOAL, measured alternately (CPU time
    of this process), their medians and the ratio; and the applicants on which they disagree."""
    from engine.answer import batch as batch_module
    from engine.answer.assess import Engine
    from engine.evaluate.setwise import SetwiseEvaluator

    engine = Engine(evaluator=SetwiseEvaluator)
    evaluator = batch_module.CaseloadEvaluator(engine, PEILDATUM, goals=[FLOOR_GOAL], fees=False)
    job = batch_module.Job(lambda: [evaluator], batch_module.RowFormat("csv", (FLOOR_GOAL,), ()), keep_results=True)
    rows = [batch_module.Row(i, None, text=line) for i, line in enumerate(lines, start=1)]
    chunks = [rows[i : i + batch_module.CHUNK] for i in range(0, len(rows), batch_module.CHUNK)]
    batch_module._tune_gc()  # as a batch run does (both sides profit)
    floors, paths = [], []
    results: list[dict] = []
    for _ in range(rounds):
        start = time.process_time()
        _, outcomes = floor_run(lines)
        floors.append((time.process_time() - start) / len(lines))
        start = time.process_time()
        results = []
        for chunk in chunks:
            results += batch_module._finish(job, [evaluator], chunk).results
        paths.append((time.process_time() - start) / len(lines))
    disagree = sum(1 for r, o in zip(results, outcomes) if r["error"] is not None or r["outcomes"][FLOOR_GOAL] != o)
    return {
        "floor": statistics.median(floors),
        "path": statistics.median(paths),
        "ratios": [p / f for p, f in zip(paths, floors)],
        "disagree": disagree,
        "rounds": rounds,
        "outcomes": {o: outcomes.count(o) for o in sorted(set(outcomes))},
    }


def tree_rss(pid: int) -> int:
    """Resident memory of a process and its descendants, in bytes (Linux /proc)."""
    total = 0
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii") as handle:
                ppid = int(handle.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    stack = [pid]
    while stack:
        current = stack.pop()
        stack.extend(children.get(current, []))
        try:
            with open(f"/proc/{current}/status", encoding="ascii") as handle:
                for line in handle:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) * 1024
        except OSError:
            pass
    return total


def timed_run(cmd: list[str]) -> tuple[float, list[tuple[float, int]]]:
    """Wall time and the (seconds since start, RSS of the process tree) samples of one run."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    samples: list[tuple[float, int]] = []
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            samples.append((time.perf_counter() - start, tree_rss(proc.pid)))
            time.sleep(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    rc = proc.wait()
    elapsed = time.perf_counter() - start
    done.set()
    sampler.join()
    if rc not in (0, 1):
        raise SystemExit(f"batch stopped with exit code {rc}")
    return elapsed, samples


def quarter_peaks(elapsed: float, samples: list[tuple[float, int]]) -> list[int]:
    """Peak RSS in each quarter of a run: flat from the second quarter on means no growth per
    applicant (the first quarter holds the start-up of the workers)."""
    peaks = [0, 0, 0, 0]
    for t, rss in samples:
        quarter = min(3, int(4 * t / elapsed))
        peaks[quarter] = max(peaks[quarter], rss)
    return peaks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--floor-size", type=int, default=20_000, help="applicants for the floor (0: none)")
    parser.add_argument("--markdown", action="store_true", help="print a markdown table of the medians")
    parser.add_argument("--write", metavar="FILE", help="put the table in FILE's marked section (implies --markdown)")
    parser.add_argument("--section", default="bench_batch", help="the section --write replaces")
    args = parser.parse_args()
    args.markdown = args.markdown or bool(args.write)

    sys.path.insert(0, str(ROOT))
    from engine.applicant.facts import load_applicant_file
    from engine.checks.caseload import caseload
    from engine.rules.model import load_knowledge_base

    kb = load_knowledge_base()
    bases = tuple(load_applicant_file(p) for p in sorted((ROOT / "tests" / "scenarios" / "basis").glob("*.yaml")))
    script = shutil.which("verblijfsregels") or str(Path(sys.executable).with_name("verblijfsregels"))
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "zaken.jsonl"
        with source.open("w", encoding="utf-8") as handle:
            for data in caseload(kb, args.size, seed=8, peildatum=PEILDATUM, bases=bases):
                handle.write(json.dumps(data) + "\n")
        out = Path(tmp) / "uit.csv"
        cmd = [
            script,
            "batch",
            str(source),
            "--out",
            str(out),
            "--peildatum",
            PEILDATUM.isoformat(),
            "--jobs",
            str(args.jobs),
        ]
        runs = [timed_run(cmd) for _ in range(args.runs)]
        rows = sum(1 for _ in out.open(encoding="utf-8")) - 1
        floor = None
        if args.floor_size:
            with source.open(encoding="utf-8") as handle:
                lines = [line for _, line in zip(range(args.floor_size), handle)]
            floor = floor_comparison(lines)
    walls = [w for w, _ in runs]
    peaks = [max((rss for _, rss in samples), default=0) for _, samples in runs]
    quarters = quarter_peaks(*runs[-1])
    median = statistics.median(walls)
    if args.markdown:
        from tabel import emit, number, spread, table

        rows_md = [
            (
                f"`batch` op {args.size} aanvragers ({len(kb.goals)} doelen, {len(kb.forms)} formulieren, "
                f"`--jobs {args.jobs}`), mediaan van {args.runs}",
                number(median) + " s",
                "<= 5 s" if args.size == 100_000 else "<= 5 s bij 100000",
            ),
            ("per aanvrager", f"{median / args.size * 1e6:.0f} µs", "<= 50 µs"),
            ("spreiding van de runs (hoogste / laagste)", spread(walls), ""),
            (
                "piekgeheugen van de hele procesboom (hoogste van de runs)",
                f"{max(peaks) / 2**20:.0f} MiB",
                "<= 512 MiB",
            ),
            (
                "piekgeheugen per kwart van de laatste run (vlak: geen groei per aanvrager)",
                " / ".join(f"{q / 2**20:.0f}" for q in quarters) + " MiB",
                "vlak",
            ),
        ]
        if floor:
            rows_md += [
                (
                    f"vloer: `{FLOOR_GOAL}` met de hand, per aanvrager ({args.floor_size} aanvragers, "
                    f"mediaan van {floor['rounds']})",
                    number(floor["floor"] * 1e6, 1) + " µs",
                    "",
                ),
                (f"het batchpad voor `{FLOOR_GOAL}` alleen, per aanvrager", number(floor["path"] * 1e6, 1) + " µs", ""),
                (
                    "verhouding batchpad / vloer (mediaan; laagste–hoogste)",
                    f"{number(statistics.median(floor['ratios']))} ({number(min(floor['ratios']))}–"
                    f"{number(max(floor['ratios']))})",
                    "<= 3",
                ),
                ("aanvragers waarop vloer en batch verschillen", str(floor["disagree"]), "0"),
            ]
        emit(table(("meting", "waarde", "doel"), rows_md), args.write, args.section)
        return
    print(
        f"caseload: {args.size} applicants, {len(kb.goals)} goals, {len(kb.forms)} forms; --jobs {args.jobs}; "
        f"{rows} result rows"
    )
    goal = 5.0 * args.size / 100_000  # issue 21: 5 s for 100,000, 50 s for 1,000,000
    print(
        f"batch wall time (median of {args.runs}): {median:.2f} s   (goal <= {goal:.0f} s at {args.size}: "
        f"{median / goal:.2f} of it)"
    )
    print(f"per applicant: {statistics.median(walls) / args.size * 1e6:.0f} us")
    print(f"spread of the runs (highest / lowest): {max(walls) / min(walls):.2f}")
    print(
        f"peak RSS of the process tree (max of runs): {max(peaks) / 2**20:.0f} MiB   (goal <= 512 MiB: "
        f"{max(peaks) / 2**29:.2f} of it)"
    )
    print(f"load average at the end: {' / '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(
        "peak RSS per quarter of the last run (flat = no growth per applicant): "
        + " / ".join(f"{q / 2**20:.0f}" for q in quarters)
        + " MiB"
    )
    if floor:
        ratios = floor["ratios"]
        print(
            f"floor ({FLOOR_GOAL} by hand, {args.floor_size} applicants, median of {floor['rounds']}): "
            f"{floor['floor'] * 1e6:.1f} us per applicant; batch path for that goal {floor['path'] * 1e6:.1f} us"
        )
        print(
            f"ratio batch path / floor: {statistics.median(ratios):.2f} (lowest {min(ratios):.2f}, highest "
            f"{max(ratios):.2f})   (goal <= 3); disagreements: {floor['disagree']}; outcomes {floor['outcomes']}"
        )


if __name__ == "__main__":
    main()
