"""Benchmark: `verblijfsregels batch` on a generated caseload, every goal and fee.

Prints figures; asserts nothing. The caseload comes from the seeded generator
(`engine.checks.caseload`, half of it variants of the scenario base applicants), written once as JSON
Lines; the batch then runs as a real process, and the peak memory of its whole process tree
(main process plus workers, summed, sampled every 20 ms from /proc) is reported with the wall time.

    python benchmarks/bench_batch.py [--size 100000] [--jobs 2] [--runs 3] [--markdown]

With --markdown the figures are printed as a markdown table (for docs/metingen.md) instead.

Goals (issue 8): 100,000 applicants <= 20 s wall on the 2-core machine, <= 1 GiB peak, and memory
flat over the run (the peak per quarter of the run is printed).
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
    parser.add_argument("--markdown", action="store_true", help="print a markdown table of the medians")
    args = parser.parse_args()

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
    walls = [w for w, _ in runs]
    peaks = [max((rss for _, rss in samples), default=0) for _, samples in runs]
    quarters = quarter_peaks(*runs[-1])
    if args.markdown:
        from tabel import number, table

        median = statistics.median(walls)
        print(
            table(
                ("meting", "waarde", "doel"),
                [
                    (
                        f"`batch` op {args.size} aanvragers ({len(kb.goals)} doelen, {len(kb.forms)} formulieren, "
                        f"`--jobs {args.jobs}`), mediaan van {args.runs}",
                        number(median) + " s",
                        "<= 20 s bij 100000" if args.size != 100_000 else "<= 20 s",
                    ),
                    ("per aanvrager", f"{median / args.size * 1e6:.0f} µs", "<= 200 µs"),
                    (
                        "piekgeheugen van de hele procesboom (hoogste van de runs)",
                        f"{max(peaks) / 2**20:.0f} MiB",
                        "<= 1024 MiB",
                    ),
                    (
                        "piekgeheugen per kwart van de laatste run (vlak: geen groei per aanvrager)",
                        " / ".join(f"{q / 2**20:.0f}" for q in quarters) + " MiB",
                        "vlak",
                    ),
                ],
            )
        )
        return
    print(
        f"caseload: {args.size} applicants, {len(kb.goals)} goals, {len(kb.forms)} forms; --jobs {args.jobs}; "
        f"{rows} result rows"
    )
    print(f"batch wall time (median of {args.runs}): {statistics.median(walls):.2f} s   (goal <= 20 s)")
    print(f"per applicant: {statistics.median(walls) / args.size * 1e6:.0f} us")
    print(f"peak RSS of the process tree (max of runs): {max(peaks) / 2**20:.0f} MiB   (goal <= 1024 MiB)")
    print(
        "peak RSS per quarter of the last run (flat = no growth per applicant): "
        + " / ".join(f"{q / 2**20:.0f}" for q in quarters)
        + " MiB"
    )


if __name__ == "__main__":
    main()
