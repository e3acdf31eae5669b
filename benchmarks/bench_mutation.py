"""Mutation testing speed: every mutant of the knowledge base against the scenarios and properties.

    python benchmarks/bench_mutation.py [--jobs 2] [--backend setwise|datalog]

Prints the number of mutants, the total time, the time per mutant that had to be run, and the
score, for the set-at-a-time evaluator (the default of `verblijfsregels mutate`) and pyDatalog.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine.checks.mutation import enumerate_mutants, run_mutation  # noqa: E402
from engine.evaluate import evaluator_named  # noqa: E402
from tests.mutation_checks import checks  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--backend", choices=["setwise", "datalog", "both"], default="both")
    parser.add_argument("--examples", type=int, default=20)
    args = parser.parse_args()
    start = time.perf_counter()
    mutants = enumerate_mutants()
    print(f"{len(mutants)} mutanten opgesomd in {1000 * (time.perf_counter() - start):.0f} ms")
    tests = checks()
    for backend in (["setwise", "datalog"] if args.backend == "both" else [args.backend]):
        report = run_mutation(tests, jobs=args.jobs, examples=args.examples, differential=0,
                              evaluator=evaluator_named(backend))
        data = report.to_json()
        print(f"{backend:>8}: {data['seconds']:.1f} s met {args.jobs} proces(sen), "
              f"{1000 * (data['seconds_per_mutant'] or 0):.0f} ms per gedraaide mutant, "
              f"score {data['score']}% ({data['killed']} gedood, {data['survived']} overleefd, "
              f"{data['equivalent']} equivalent, {data['unreachable']} onbereikbaar)")


if __name__ == "__main__":
    main()
