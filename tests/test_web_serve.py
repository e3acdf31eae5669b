"""`verblijfsregels serve` starts a real server: one command, bound to this machine, answering what
the command line answers, and writing nothing about the applicant to its output."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli import main
from engine.applicant.facts import load_applicant_file

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "voorbeelden" / "aanvrager.yaml"
GOAL = "onbepaalde_tijd_regulier"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def request(port: int, path: str, body: dict | None = None) -> tuple[int, bytes]:
    data = None if body is None else json.dumps(body).encode("utf-8")
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method="POST" if data else "GET")
    req.add_header("content-type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


@pytest.fixture
def server(tmp_path):
    """Start `verblijfsregels serve` with the given workers; stopped (and its output kept) afterwards."""
    started = []

    def start(*args: str) -> tuple[int, Path]:
        port = free_port()
        log = tmp_path / f"serve-{port}.log"
        handle = log.open("wb")
        command = [sys.executable, "-c", "from cli import main; main()", "serve", "--port", str(port), *args]
        process = subprocess.Popen(command, stdout=handle, stderr=subprocess.STDOUT, cwd=ROOT, env=os.environ.copy())
        started.append((process, handle))
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if request(port, "/healthz")[0] == 200:
                    return port, log
            except OSError:
                pass
            assert process.poll() is None, log.read_text(errors="replace")
            time.sleep(0.2)
        raise AssertionError("the server did not answer /healthz within 60 s")

    yield start
    for process, handle in started:
        process.terminate()
        process.wait(timeout=30)
        handle.close()


def test_serve_answers_assess_with_the_cli_bytes_and_logs_no_applicant_data(server):
    port, log = server()
    facts = load_applicant_file(EXAMPLE)
    status, body = request(port, "/v1/assess", {"applicant": facts, "goal": GOAL, "peildatum": "2026-06-01"})
    cli = CliRunner().invoke(
        main, ["assess", str(EXAMPLE), "--goal", GOAL, "--peildatum", "2026-06-01", "--format", "json"]
    )
    assert status == 200
    assert body.decode("utf-8") == cli.output
    status, body = request(port, "/v1/assess", {"applicant": {"geboortedatum": "13-03-1991"}, "goal": GOAL})
    assert status == 422
    assert "geboortedatum" in json.loads(body)["error"]
    output = log.read_text(errors="replace")
    for value in ("1991", "13-03", str(facts.get("geboortedatum"))):
        assert value not in output


def test_serve_with_two_workers_answers_every_request(server):
    port, _ = server("--workers", "2")
    facts = load_applicant_file(EXAMPLE)
    answers = {
        request(port, "/v1/assess", {"applicant": facts, "goal": GOAL, "peildatum": "2026-06-01"}) for _ in range(20)
    }
    assert len(answers) == 1 and next(iter(answers))[0] == 200


def test_serve_listens_on_this_machine_only_unless_told():
    option = next(p for p in main.commands["serve"].params if p.name == "host")
    assert option.default == "127.0.0.1"


def test_a_second_server_on_a_port_in_use_is_refused_before_any_worker_starts(server):
    # the workers share the port with SO_REUSEPORT; a second `serve` must not quietly join them
    port, _ = server("--workers", "2")
    command = [sys.executable, "-c", "from cli import main; main()", "serve", "--port", str(port), "--workers", "2"]
    second = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert second.returncode == 2
    assert second.stderr.strip() == f"fout: kan niet luisteren op 127.0.0.1:{port}: het adres is al in gebruik"
    assert request(port, "/healthz")[0] == 200
