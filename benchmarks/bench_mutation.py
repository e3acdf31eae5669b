"""Mutation testing speed: every mutant of the knowledge base against the scenarios and properties.

    python benchmarks/bench_mutation.py [--jobs 2] [--backend setwise|datalog|both] [--limit N] [--markdown]

Prints the number of mutants, the total time, the time per mutant that had to be run, and the
score, for the set-at-a-time evaluator (the default of `verblijfsregels mutate`) and pyDatalog.
`--limit N` runs only the first N mutants (a short measurement; the score is then of those).
With --markdown the figures are printed as a markdown table (for docs/metingen.md) instead.
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
    parser.add_argument("--limit", type=int, default=None, help="only the first N mutants")
    parser.add_argument("--markdown", action="store_true", help="print a markdown table of the times and the ratio")
    parser.add_argument("--write", metavar="FILE", help="put the table in FILE's marked section (implies --markdown)")
    parser.add_argument("--section", default="bench_mutation", help="the section --write replaces")
    args = parser.parse_args()
    args.markdown = args.markdown or bool(args.write)
    start = time.perf_counter()
    mutants = enumerate_mutants()
    enumerated = time.perf_counter() - start
    if not args.markdown:
        print(f"{len(mutants)} mutanten opgesomd in {1000 * enumerated:.0f} ms")
    tests = checks()
    results = {}
    for backend in ["setwise", "datalog"] if args.backend == "both" else [args.backend]:
        report = run_mutation(
            tests,
            jobs=args.jobs,
            examples=args.examples,
            differential=0,
            evaluator=evaluator_named(backend),
            limit=args.limit,
        )
        data = report.to_json()
        results[backend] = data
        if args.markdown:
            continue
        print(
            f"{backend:>8}: {data['seconds']:.1f} s met {args.jobs} proces(sen), "
            f"{1000 * (data['seconds_per_mutant'] or 0):.0f} ms per gedraaide mutant, "
            f"score {data['score']}% ({data['killed']} gedood, {data['survived']} overleefd, "
            f"{data['equivalent']} equivalent, {data['unreachable']} onbereikbaar)"
        )
    if args.markdown:
        from tabel import emit, number, table

        count = len(mutants) if args.limit is None else min(args.limit, len(mutants))
        rows = [
            (
                f"{backend}: {count} van {len(mutants)} mutanten, {args.jobs} proces(sen)",
                number(data["seconds"], 1) + " s",
                f"{1000 * (data['seconds_per_mutant'] or 0):.0f} ms",
                f"{'n.v.t.' if data['score'] is None else number(data['score'], 1) + ' %'} ({data['killed']} gedood, {data['survived']} overleefd, "
                f"{data['equivalent']} equivalent, {data['unreachable']} onbereikbaar)",
            )
            for backend, data in results.items()
        ]
        if "setwise" in results and "datalog" in results and results["setwise"]["seconds"]:
            ratio = results["datalog"]["seconds"] / results["setwise"]["seconds"]
            rows.append(("verhouding pyDatalog / setwise", number(ratio) + " ×", "", ""))
        text = table(("meting", "tijd", "per gedraaide mutant", "score"), rows)
        emit(f"{text}\n\nMutanten opgesomd in {number(1000 * enumerated, 0)} ms.", args.write, args.section)


if __name__ == "__main__":
    main()
