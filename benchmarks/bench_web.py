"""Load on `verblijfsregels serve --workers 2` from bounded concurrent clients on localhost.

For /v1/assess (one goal, every goal) and /v1/interview/next: requests per second, p50 and p99
latency, and the errors over all requests; on standard error, each worker's CPU time during each
run (how evenly the kernel spread the connections over the workers). Goal (issue 20): p99 <= 50
ms for one goal at 50 concurrent clients on the 2-core machine.

The clients run on the same machine, so every CPU cycle they take is one the server does not get.
They are built to cost little and to stay honest: each of the `--clients` clients is a coroutine
with its own keep-alive connection (raw asyncio streams, uvloop when installed) that writes one
pre-encoded HTTP/1.1 request, waits for the whole response and only then sends the next (a closed
loop: at most `--clients` requests are in flight). Every response is counted; it is an error unless
its status is 200 and its body is byte for byte the JSON the engine computes in this process for
the same input (the bytes `verblijfsregels assess --format json` / `interview --next` print). A
connection that fails counts as an error and is opened anew. The client's own CPU time (user +
system of this process) and the server's (its processes, from /proc) are measured during each run
and printed per request: on a machine shared with other work they say more than the latencies.

    python benchmarks/bench_web.py [--requests 10000] [--clients 50] [--workers 2] [--markdown]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.tabel import emit, number, table  # noqa: E402
from engine.answer import payloads  # noqa: E402
from engine.answer.assess import Engine  # noqa: E402
from engine.applicant.facts import load_applicant_file, parse_applicant  # noqa: E402

GOAL = "onbepaalde_tijd_regulier"
DAY = "2026-11-23"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def request_bytes(port: int, path: str, body: dict) -> bytes:
    """One keep-alive POST with its JSON body, encoded once and sent as is by every client."""
    data = json.dumps(body, ensure_ascii=False).encode("utf-8")
    head = (
        f"POST {path} HTTP/1.1\r\nhost: 127.0.0.1:{port}\r\ncontent-type: application/json\r\n"
        f"content-length: {len(data)}\r\n\r\n"
    )
    return head.encode("ascii") + data


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    """The status and body of one HTTP/1.1 response (the server gives a content-length)."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    length = None
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    if length is None:
        raise ValueError("response without content-length")
    return status, await reader.readexactly(length)


async def load(port: int, request: bytes, expected: bytes, requests: int, clients: int) -> tuple[list[float], int, int]:
    """Latencies (s) of `requests` requests by `clients` concurrent clients, the errors, and the responses counted."""
    latencies: list[float] = []
    counts = {"errors": 0, "responses": 0}
    queue = iter(range(requests))
    clock = time.perf_counter

    async def client() -> None:
        reader = writer = None
        for _ in queue:
            start = clock()
            ok = False
            try:
                if writer is None:
                    reader, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.write(request)
                status, body = await read_response(reader)
                counts["responses"] += 1
                ok = status == 200 and body == expected
            except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
                if writer is not None:
                    writer.close()
                reader = writer = None
            latencies.append(clock() - start)
            counts["errors"] += not ok
        if writer is not None:
            writer.close()

    await asyncio.gather(*(client() for _ in range(clients)))
    return latencies, counts["errors"], counts["responses"]


def run(coroutine):
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coroutine)
    return uvloop.run(coroutine)


def process_seconds(pid: int) -> dict[int, float]:
    """User + system CPU time of a process and of each of its children (the workers), from /proc
    (Linux; else empty)."""
    out: dict[int, float] = {}
    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        for p in [pid, *map(int, children)]:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            out[p] = (int(fields[11]) + int(fields[12])) / tick
    except OSError:
        return {}
    return out


def helper_process(pid: int) -> bool:
    """multiprocessing's resource tracker, a child of the server that serves nothing."""
    try:
        return b"resource_tracker" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its children (the workers)."""
    return sum(process_seconds(pid).values())


def wait_until_up(port: int, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


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

    # what the command line prints for the same input: every response is compared with it
    eng = Engine()
    facts = load_applicant_file(ROOT / "voorbeelden" / "aanvrager.yaml")
    applicant = parse_applicant(eng.kb, facts, json_values=True)
    day = date.fromisoformat(DAY)

    def expected(payload) -> bytes:
        return (payloads.dumps(payload) + "\n").encode("utf-8")

    answers = payloads.interview_answers(eng, facts)
    runs = [
        (
            "/v1/assess, één doel",
            "/v1/assess",
            {"applicant": facts, "goal": GOAL, "peildatum": DAY},
            expected(payloads.assessment(eng, applicant, GOAL, day, [])),
            args.requests,
        ),
        (
            "/v1/assess, elk doel",
            "/v1/assess",
            {"applicant": facts, "peildatum": DAY},
            expected(payloads.assessment(eng, applicant, None, day, [])),
            args.requests // 5,
        ),
        (
            "/v1/interview/next",
            "/v1/interview/next",
            {"answers": facts, "goal": GOAL, "peildatum": DAY},
            expected(payloads.interview_step(eng, answers, [GOAL], day)),
            args.requests // 5,
        ),
    ]

    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-c", "from cli import main; main()", "serve", "--port", str(port)]
        + ["--workers", str(args.workers)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    rows = []
    try:
        wait_until_up(port)
        for name, path, body, want, count in runs:
            request = request_bytes(port, path, body)
            run(load(port, request, want, min(500, count), args.clients))  # warm every worker
            each = process_seconds(server.pid)
            cpu, served, start = time.process_time(), sum(each.values()), time.perf_counter()
            latencies, errors, responses = run(load(port, request, want, count, args.clients))
            wall, cpu = time.perf_counter() - start, time.process_time() - cpu
            after = process_seconds(server.pid)
            served = sum(after.values()) - served
            # how evenly the kernel spread the connections: each worker's share of the server's CPU
            shares = [after[p] - each.get(p, 0.0) for p in after if p != server.pid and not helper_process(p)]
            print(f"{name}: CPU per worker (s) {', '.join(number(x, 2) for x in shares)}", file=sys.stderr)
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
                    str(responses),
                    number(served / count * 1e3, 2),
                    number(cpu / count * 1e3, 2),
                )
            )
    finally:
        server.terminate()
        server.wait(timeout=30)
    columns = (
        "route",
        "verzoeken",
        "clients",
        "verzoeken/s",
        "p50 (ms)",
        "p99 (ms)",
        "fouten",
        "antwoorden geteld",
        "CPU server (ms/verzoek)",
        "CPU client (ms/verzoek)",
    )
    if args.markdown:
        emit(table(columns, rows), args.write, args.section)
    else:
        for row in rows:
            print("  ".join(f"{c}: {v}" for c, v in zip(columns, row)))


if __name__ == "__main__":
    main()
