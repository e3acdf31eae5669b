"""Benchmark: `verblijfsregels batch --scheduler` on a local Dask cluster, rows per second per worker.

Prints figures; asserts nothing. The caseload comes from the seeded generator (`engine.checks.caseload`,
half of it variants of the scenario base applicants), written once as JSON Lines. For each number
of workers a `distributed.LocalCluster` of that many single-threaded worker processes is started on
this machine; `batch --scheduler` then runs as a real process, on the single file (the client
reads and sends every row) and on the same caseload in `--partitions` files (the workers read
them), each once to warm the workers up (each builds its evaluators on its first chunk) and then
`--runs` times. The local run (`--jobs N`, the same number of processes) is timed beside it, and
the outputs are compared byte for byte. How fast the client alone reads and serialises rows is
printed too: it bounds a cluster that does not read the partitions itself.

    python benchmarks/bench_cluster.py [--size 20000] [--workers 1,2] [--runs 3] [--partitions 8] [--markdown]

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


def command_for(script: str, inp: Path, out: Path, *extra: str) -> list[str]:
    return [script, "batch", str(inp), "--out", str(out), "--peildatum", PEILDATUM.isoformat(), *extra]


def read_rate(kb, source: Path) -> float:
    """Rows per second the client reads and serialises for sending (what bounds a cluster whose
    workers do not read the input themselves), in this process."""
    import pickle

    from engine.answer.batch import read_rows
    from engine.answer.cluster import Chunk, chunks_of_file

    start = time.perf_counter()
    rows = 0
    for _, chunk in chunks_of_file(read_rows(kb, source, "jsonl")):
        rows += len(chunk)
        pickle.dumps(Chunk(1, chunk), protocol=pickle.HIGHEST_PROTOCOL)
    return rows / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=20_000)
    parser.add_argument("--workers", default="1,2", help="numbers of worker processes, comma-separated")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--partitions", type=int, default=8, help="partitions of the caseload the workers read")
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
    figures = []  # (workers, local median, client-reads median, workers-read median, identical)
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "zaken.jsonl"
        parts = Path(tmp) / "delen"
        parts.mkdir()
        lines = [json.dumps(d) + "\n" for d in caseload(kb, args.size, seed=8, peildatum=PEILDATUM, bases=bases)]
        source.write_text("".join(lines), encoding="utf-8")
        per_part = -(-args.size // args.partitions)
        for k in range(args.partitions):
            (parts / f"deel-{k:03d}.jsonl").write_text("".join(lines[k * per_part : (k + 1) * per_part]), "utf-8")
        client_rate = read_rate(kb, source)
        for n in counts:
            local_out = Path(tmp) / f"lokaal-{n}.csv"
            outs = [Path(tmp) / f"cluster-{n}.csv", Path(tmp) / f"delen-{n}.csv"]
            local = [timed(command_for(script, source, local_out, "--jobs", str(n))) for _ in range(args.runs)]
            medians = []
            with LocalCluster(n_workers=n, processes=True, threads_per_worker=1, dashboard_address=None) as cluster:
                for inp, out in zip((source, parts), outs):
                    command = command_for(script, inp, out, "--scheduler", cluster.scheduler_address)
                    timed(command)  # warm-up: every worker builds its evaluators once
                    medians.append(statistics.median(timed(command) for _ in range(args.runs)))
            same = all(out.read_bytes() == local_out.read_bytes() for out in outs)
            figures.append((n, statistics.median(local), *medians, same))
    if args.markdown:
        sys.path.insert(0, str(ROOT / "benchmarks"))
        from tabel import number, table

        rows = []
        for n, local, remote, parted, same in figures:
            rows.append(
                (
                    str(n),
                    f"{args.size / remote / n:.0f}",
                    f"{args.size / parted / n:.0f}",
                    f"{args.size / local / n:.0f}",
                    f"{number(remote)} s / {number(parted)} s / {number(local)} s",
                    "ja" if same else "NEE",
                )
            )
        print(
            table(
                (
                    "workers",
                    "rijen/s per worker, client leest",
                    f"rijen/s per worker, workers lezen {args.partitions} partities",
                    "rijen/s per proces, lokaal `--jobs`",
                    f"tijd voor {args.size} rijen (mediaan van {args.runs}): client leest / workers lezen / lokaal",
                    "uitvoer gelijk",
                ),
                rows,
            )
        )
        print()
        print(f"De client leest en serialiseert {client_rate:.0f} rijen/s (JSON Lines, in één proces).")
        return
    print(f"caseload: {args.size} applicants, {len(kb.goals)} goals, {len(kb.forms)} forms; medians of {args.runs}")
    print(f"client reads and serialises {client_rate:.0f} rows/s")
    for n, local, remote, parted, same in figures:
        print(
            f"{n} worker(s): client reads {args.size / remote / n:.0f} rows/s per worker ({remote:.2f} s); "
            f"workers read {args.partitions} partitions {args.size / parted / n:.0f} rows/s per worker "
            f"({parted:.2f} s); local --jobs {n} {args.size / local / n:.0f} rows/s per process ({local:.2f} s); "
            f"output identical: {same}"
        )


if __name__ == "__main__":
    main()
