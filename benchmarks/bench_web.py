"""Load on `verblijfsregels serve --workers 2` from bounded concurrent clients on localhost.

For /v1/assess (one goal, every goal) and /v1/interview/next: requests per second, p50 and p99
latency, and the errors (anything but 200) over all requests. Goal (issue 20): p99 <= 50 ms for one
goal at 50 concurrent clients on the 2-core machine. The clients run in this process (asyncio), so
they share the two cores with the server: the figures are what one machine serving itself gives.

    python benchmarks/bench_web.py [--requests 10000] [--clients 50] [--workers 2] [--markdown]
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx2 as httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.tabel import emit, number, table  # noqa: E402
from engine.applicant.facts import load_applicant_file  # noqa: E402

GOAL = "onbepaalde_tijd_regulier"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def load(base: str, path: str, body: dict, requests: int, clients: int) -> tuple[list[float], int, float]:
    """Latencies (s) of `requests` POSTs by `clients` concurrent clients, the errors, and the wall time."""
    latencies: list[float] = []
    errors = 0
    queue = iter(range(requests))

    async def client(http: httpx.AsyncClient) -> None:
        nonlocal errors
        for _ in queue:
            start = time.perf_counter()
            try:
                response = await http.post(path, json=body)
                ok = response.status_code == 200
            except httpx.HTTPError:
                ok = False
            latencies.append(time.perf_counter() - start)
            errors += not ok

    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as http:
        start = time.perf_counter()
        await asyncio.gather(*(client(http) for _ in range(clients)))
        return latencies, errors, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=10_000, help="requests for one goal (a fifth for the others)")
    parser.add_argument("--clients", type=int, default=50, help="concurrent clients")
    parser.add_argument("--workers", type=int, default=2, help="server worker processes")
    parser.add_argument("--markdown", action="store_true", help="print a markdown table for docs/metingen.md")
    parser.add_argument("--write", metavar="FILE", help="put the table in FILE's marked section (implies --markdown)")
    parser.add_argument("--section", default="bench_web", help="the section --write replaces")
    args = parser.parse_args()
    args.markdown = args.markdown or bool(args.write)

    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from cli import main; main()",
            "serve",
            "--port",
            str(port),
            "--workers",
            str(args.workers),
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(base + "/healthz").status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        facts = load_applicant_file(ROOT / "voorbeelden" / "aanvrager.yaml")
        day = "2026-11-23"
        runs = [
            ("/v1/assess, één doel", "/v1/assess", {"applicant": facts, "goal": GOAL, "peildatum": day}, args.requests),
            ("/v1/assess, elk doel", "/v1/assess", {"applicant": facts, "peildatum": day}, args.requests // 5),
            (
                "/v1/interview/next",
                "/v1/interview/next",
                {"answers": facts, "goal": GOAL, "peildatum": day},
                args.requests // 5,
            ),
        ]
        rows = []
        for name, path, body, count in runs:
            asyncio.run(load(base, path, body, min(200, count), args.clients))  # warm every worker
            latencies, errors, wall = asyncio.run(load(base, path, body, count, args.clients))
            cuts = statistics.quantiles(latencies, n=100)
            rows.append(
                (
                    name,
                    str(count),
                    str(args.clients),
                    number(count / wall, 0),
                    number(statistics.median(latencies) * 1000, 1),
                    number(cuts[98] * 1000, 1),
                    str(errors),
                )
            )
    finally:
        server.terminate()
        server.wait(timeout=30)
    columns = ("route", "verzoeken", "clients", "verzoeken/s", "p50 (ms)", "p99 (ms)", "fouten")
    if args.markdown:
        emit(table(columns, rows), args.write, args.section)
    else:
        for row in rows:
            print("  ".join(f"{c}: {v}" for c, v in zip(columns, row)))


if __name__ == "__main__":
    main()
