"""Assessments of different applicants never see each other's facts.

8 threads sharing one engine and 2 worker processes, each given a shuffled set of generated
applicants, answer exactly as one thread does one applicant after the other: one goal and a fee
through pyDatalog, every goal through the setwise evaluator and through pyDatalog. A process that
has assessed 10,000 applicants answers the next one byte for byte as a fresh process does.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import random
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from engine.answer.assess import Engine
from tests.conftest import ROOT
from tests.isolation_support import answer, applicants, init_worker, probe_commands, work

SCRIPT = Path(sys.executable).with_name("verblijfsregels")
LONG_RUN = 10_000
SIZE = 240 if os.environ.get("CI") else 120


@pytest.fixture(scope="module")
def jobs() -> list[tuple[dict, str, str, bool]]:
    """Shuffled applicants, each with a goal and a form; every fourth also assessed for every goal by pyDatalog."""
    from engine.rules.model import load_knowledge_base

    kb = load_knowledge_base()
    goals, forms = sorted(kb.goals), sorted(kb.forms)
    out = [
        (data, goals[i % len(goals)], forms[i % len(forms)], i % 4 == 0)
        for i, data in enumerate(applicants(SIZE, seed=8))
    ]
    random.Random(88).shuffle(out)
    return out


@pytest.fixture(scope="module")
def sequential(jobs) -> list[str]:
    engine = Engine()
    return [answer(engine, *job) for job in jobs]


def test_the_generated_applicants_reach_every_outcome(sequential):
    outcomes = {json.loads(s)["assess"]["outcome"] for s in sequential}
    assert outcomes == {"eligible", "not_eligible", "undetermined", "out_of_scope"}


def test_eight_threads_sharing_one_engine_answer_exactly_as_one_thread(jobs, sequential):
    # a fresh engine: its pyDatalog programs and goal models are built while the threads race
    engine = Engine()
    start = threading.Barrier(8)

    def first(job):
        start.wait(timeout=60)  # all eight threads in the engine at once from the very first job
        return answer(engine, *job)

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)  # switch threads often, so that shared state would show
    try:
        with ThreadPoolExecutor(8) as pool:
            head = list(pool.map(first, jobs[:8]))
            rest = list(pool.map(lambda job: answer(engine, *job), jobs[8:]))
    finally:
        sys.setswitchinterval(interval)
    threaded = head + rest
    differing = [i for i, (a, b) in enumerate(zip(sequential, threaded)) if a != b]
    assert differing == [], f"{len(differing)} of {len(jobs)} differ, first: {jobs[differing[0]][0]}"


def test_two_processes_answer_exactly_as_one_process(jobs, sequential):
    with multiprocessing.get_context("spawn").Pool(2, initializer=init_worker) as pool:
        parallel = pool.map(work, jobs, chunksize=7)
    assert parallel == sequential


def test_a_pydatalog_program_refuses_to_be_used_from_another_thread(engine):
    from engine.evaluate.datalog import DatalogProgram

    program = DatalogProgram(engine.program.clauses, engine.models, engine.base_predicates)
    failure = []

    def use():
        try:
            program.evaluate([], "onbepaalde_tijd_regulier")
        except RuntimeError as exc:
            failure.append(exc)

    thread = threading.Thread(target=use)
    thread.start()
    thread.join()
    assert len(failure) == 1
    assert program.evaluate([], "onbepaalde_tijd_regulier") is not None  # its own thread may


def test_every_thread_gets_its_own_pydatalog_program_and_keeps_it(engine):
    from engine.evaluate.datalog import DatalogEvaluator

    evaluator = engine.with_evaluator(DatalogEvaluator).evaluator
    seen = []

    def programs():
        seen.append((threading.get_ident(), evaluator.program, evaluator.program))

    threads = [threading.Thread(target=programs) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(a is b for _, a, b in seen)
    assert len({id(a) for _, a, _ in seen} | {id(evaluator.program)}) == 4


def test_a_process_that_assessed_ten_thousand_applicants_answers_the_next_as_a_fresh_process(tmp_path):
    probe = ROOT / "voorbeelden" / "aanvrager.yaml"
    report_file = tmp_path / "lang.json"
    env = {**os.environ, "VERBLIJFSREGELS_CACHE": str(tmp_path / "cache")}
    subprocess.run(
        [sys.executable, "-m", "tests.isolation_support", str(LONG_RUN), str(probe), str(report_file)],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=600,
    )
    report = json.loads(report_file.read_text(encoding="utf-8"))
    assert report["assessed"] == LONG_RUN
    assert report["paths"]["datalog"] + report["paths"]["fees"] >= LONG_RUN // 2  # a good part through pyDatalog
    for name, args in probe_commands(probe).items():
        fresh = subprocess.run([str(SCRIPT), *args], capture_output=True, env=env, timeout=120)
        assert fresh.returncode == 0, fresh.stderr
        assert report["outputs"][name].encode("utf-8") == fresh.stdout, name
