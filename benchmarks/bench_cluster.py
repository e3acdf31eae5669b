"""Benchmark: `verblijfsregels batch --scheduler` on a local Dask cluster, rows per second per worker.

Prints figures; asserts nothing. The caseload comes from the seeded generator (`engine.checks.caseload`,
half of it variants of the scenario base applicants), written once as JSON Lines. For each number
of workers a `distributed.LocalCluster` of that many single-threaded worker processes is started on
this machine; `batch --scheduler` then runs as a real process (the client: reading, sending,
writing), once to warm the workers up (each builds its evaluators on its first chunk) and then
`--runs` times. The local run (`--jobs N`, the same number of processes) is timed beside it, and
both outputs are compared byte for byte.

    python benchmarks/bench_cluster.py [--size 20000] [--workers 1,2] [--runs 3] [--markdown]

With --markdown the figures are printed as a markdown table (for docs/cluster.md) instead.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PEILDATUM = date(2026, 11, 23)


def timed(cmd: list[str]) -> float:
    start = time.perf_counter()
    rc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode
    elapsed = time.perf_counter() - start
    if rc not in (0, 1):
        raise SystemExit(f"batch stopped with exit code {rc}: {' '.join(cmd)}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=20_000)
    parser.add_argument("--workers", default="1,2", help="numbers of worker processes, comma-separated")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--markdown", action="store_true", help="print a markdown table of the medians")
    args = parser.parse_args()
    counts = [int(n) for n in args.workers.split(",")]

    sys.path.insert(0, str(ROOT))
    from distributed import LocalCluster

    from engine.applicant.facts import load_applicant_file
    from engine.checks.caseload import caseload
    from engine.rules.model import load_knowledge_base

    kb = load_knowledge_base()
    bases = tuple(load_applicant_file(p) for p in sorted((ROOT / "tests" / "scenarios" / "basis").glob("*.yaml")))
    script = shutil.which("verblijfsregels") or str(Path(sys.executable).with_name("verblijfsregels"))
    figures = []  # (workers, local median, cluster median, identical)
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "zaken.jsonl"
        with source.open("w", encoding="utf-8") as handle:
            for data in caseload(kb, args.size, seed=8, peildatum=PEILDATUM, bases=bases):
                handle.write(json.dumps(data) + "\n")
        base = [script, "batch", str(source), "--peildatum", PEILDATUM.isoformat()]
        for n in counts:
            local_out, cluster_out = Path(tmp) / f"lokaal-{n}.csv", Path(tmp) / f"cluster-{n}.csv"
            local = [timed([*base, "--out", str(local_out), "--jobs", str(n)]) for _ in range(args.runs)]
            with LocalCluster(n_workers=n, processes=True, threads_per_worker=1, dashboard_address=None) as cluster:
                command = [*base, "--out", str(cluster_out), "--scheduler", cluster.scheduler_address]
                timed(command)  # warm-up: every worker builds its evaluators once
                remote = [timed(command) for _ in range(args.runs)]
            figures.append(
                (
                    n,
                    statistics.median(local),
                    statistics.median(remote),
                    local_out.read_bytes() == cluster_out.read_bytes(),
                )
            )
    if args.markdown:
        sys.path.insert(0, str(ROOT / "benchmarks"))
        from tabel import number, table

        rows = []
        for n, local, remote, same in figures:
            rows.append(
                (
                    str(n),
                    f"{args.size / remote:.0f}",
                    f"{args.size / remote / n:.0f}",
                    number(remote) + " s",
                    number(local) + " s",
                    number(remote / local),
                    "ja" if same else "NEE",
                )
            )
        print(
            table(
                (
                    "workers",
                    "rijen/s",
                    "rijen/s per worker",
                    f"cluster, {args.size} rijen (mediaan van {args.runs})",
                    "lokaal `--jobs` gelijk",
                    "cluster / lokaal",
                    "uitvoer gelijk",
                ),
                rows,
            )
        )
        return
    print(f"caseload: {args.size} applicants, {len(kb.goals)} goals, {len(kb.forms)} forms; medians of {args.runs}")
    for n, local, remote, same in figures:
        print(
            f"{n} worker(s): cluster {remote:.2f} s = {args.size / remote:.0f} rows/s, "
            f"{args.size / remote / n:.0f} rows/s per worker; local --jobs {n} {local:.2f} s "
            f"(ratio {remote / local:.2f}); output identical: {same}"
        )


if __name__ == "__main__":
    main()
