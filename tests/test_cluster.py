"""`batch --scheduler`: a caseload on a Dask cluster writes the local run's bytes.

One LocalCluster of two worker processes on localhost serves the whole module (xdist_group keeps
the module's tests on one pytest worker, so only one cluster runs); it is closed after the last test.
"""

from __future__ import annotations

import json
import os
import sys
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner
from distributed import Client, LocalCluster

from cli import main
from engine.answer import cluster as cluster_module
from engine.answer.batch import Evaluators, Job, RowFormat, goals_with_fees, read_rows, run_batch
from engine.applicant.facts import load_applicant_file
from engine.checks.caseload import caseload
from tests.cluster_support import Flaky
from tests.conftest import ROOT

pytestmark = pytest.mark.xdist_group("cluster")

PEILDATUM = date(2026, 11, 23)
BASES = Path(__file__).resolve().parent / "scenarios" / "basis"
MARKER = "Zeldzaam-Merkteken-7Q"  # a value only an applicant row holds: it must reach no log


@pytest.fixture(scope="module")
def worker_stderr(tmp_path_factory) -> Path:
    """Where the worker processes write their log lines: a file, as a worker started by hand writes
    its log to its stderr (pytest's own capture would not show another process's output)."""
    return tmp_path_factory.mktemp("cluster") / "workers.stderr"


@pytest.fixture(scope="module")
def local_cluster(worker_stderr):
    saved = os.dup(2)
    with worker_stderr.open("w", encoding="utf-8") as log:
        os.dup2(log.fileno(), 2)  # the worker processes started now inherit this as their stderr
    try:
        cluster = LocalCluster(
            n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None, silence_logs=False
        )
    finally:
        os.dup2(saved, 2)
        os.close(saved)
    with cluster:
        yield cluster


@pytest.fixture(scope="module")
def client(local_cluster):
    with Client(local_cluster, set_as_default=False) as client:
        yield client


@pytest.fixture(scope="module")
def rows_data(kb):
    bases = tuple(load_applicant_file(p) for p in sorted(BASES.glob("*.yaml")))
    rows = list(caseload(kb, 150, seed=21, peildatum=PEILDATUM, bases=bases))
    rows[7] = {**rows[7], "geboortedatum": "2020-02-30"}  # a bad row: an error row, also on the cluster
    rows[60] = {**rows[60], "heeft_zorgverzekering": MARKER}
    return rows


def write_jsonl(path: Path, rows: list) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows), encoding="utf-8")
    return path


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def batch(*args):
    return run("batch", *args, "--peildatum", PEILDATUM.isoformat())


def test_a_caseload_on_the_cluster_writes_the_bytes_of_the_local_run_bad_rows_as_error_rows(
    tmp_path, local_cluster, rows_data
):
    source = write_jsonl(tmp_path / "zaken.jsonl", [*rows_data[:100], "{kapot", *rows_data[100:]])
    for suffix in ("csv", "jsonl"):
        local, remote = tmp_path / f"lokaal.{suffix}", tmp_path / f"cluster.{suffix}"
        expected = batch(source, "--out", local)
        got = batch(source, "--out", remote, "--scheduler", local_cluster.scheduler_address)
        assert (got.exit_code, expected.exit_code) == (1, 1), got.output
        assert remote.read_bytes() == local.read_bytes()
        assert got.output.replace("cluster.", "lokaal.") == expected.output
    results = [json.loads(line) for line in (tmp_path / "cluster.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [r["row"] for r in results] == list(range(1, 152))  # in input order
    errors = {r["row"]: r["error"] for r in results if r["error"]}
    assert sorted(errors) == [8, 61, 101]
    assert "veld 'geboortedatum'" in errors[8] and "geen geldige JSON" in errors[101]
    assert MARKER not in errors[61]


def csv_text(rows: list[dict], columns: list[str]) -> str:
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow(
            [
                "" if row.get(c) is None else (json.dumps(row[c]) if isinstance(row[c], (list, dict)) else row[c])
                for c in columns
            ]
        )
    return buffer.getvalue()


@pytest.mark.parametrize("reader", ["workers", "client"])
def test_a_directory_of_partitions_is_read_one_by_one_as_one_caseload_numbered_on(
    tmp_path, local_cluster, rows_data, reader, monkeypatch
):
    """Partitions in name order are one caseload: the result is the local run's on their concatenation,
    also where a partition's reader made the error line (a bad cell, a row of the wrong width). The
    workers read them where they see the same files (here: one machine), the client otherwise."""
    taken = []
    on_workers = cluster_module.run_partitions_on_workers
    monkeypatch.setattr(
        cluster_module, "run_partitions_on_workers", lambda *a, **k: taken.append("workers") or on_workers(*a, **k)
    )
    if reader == "client":
        monkeypatch.setattr(cluster_module, "workers_see", lambda client, paths: False)
    rows = rows_data
    columns = sorted({c for r in rows for c in r})
    parts = tmp_path / "delen"
    parts.mkdir()
    bounds = [(0, 40), (40, 41), (41, 41), (41, 150)]  # one of a single row, one with none at all
    texts = []
    for k, (a, b) in enumerate(bounds):
        text = csv_text(rows[a:b], columns)
        if k == 3:
            text += "ja,nee\n"  # a row of the wrong width: the reader writes its error line
        (parts / f"deel-{k}.csv").write_text(text, encoding="utf-8")
        texts.append(text)
    whole = tmp_path / "geheel.csv"
    whole.write_text(texts[0] + "".join(t.split("\n", 1)[1] for t in texts[1:]), encoding="utf-8")
    expected = batch(whole, "--out", tmp_path / "lokaal.csv")
    address = local_cluster.scheduler_address
    got = batch(parts, "--out", tmp_path / "cluster.csv", "--scheduler", address)
    assert (got.exit_code, expected.exit_code) == (1, 1), got.output
    local = (tmp_path / "lokaal.csv").read_text(encoding="utf-8")
    assert (tmp_path / "cluster.csv").read_text(encoding="utf-8") == local
    assert '151,"rij 151: 2 waarden, de kop heeft' in local  # renumbered: the last partition's 110th row
    # OUT a directory: one result partition per input partition, each with the header
    got = batch(parts, "--out", tmp_path / "uit", "--scheduler", address)
    assert got.exit_code == 1, got.output
    written = sorted(p.name for p in (tmp_path / "uit").iterdir())
    assert written == ["deel-0.csv", "deel-1.csv", "deel-2.csv", "deel-3.csv"]
    header, _ = local.split("\n", 1)
    pieces = [(tmp_path / "uit" / name).read_text(encoding="utf-8") for name in written]
    assert all(piece.startswith(header + "\n") for piece in pieces)
    assert pieces[2] == header + "\n"  # a partition without rows keeps its (empty) result partition
    assert pieces[0] + "".join(p.split("\n", 1)[1] for p in pieces[1:]) == local
    assert taken == (["workers", "workers"] if reader == "workers" else [])


def test_a_single_file_to_a_directory_is_written_in_partitions_of_whole_chunks(tmp_path, local_cluster, rows_data):
    source = write_jsonl(tmp_path / "zaken.jsonl", rows_data)
    expected = batch(source, "--out", tmp_path / "lokaal.jsonl")
    got = batch(source, "--out", tmp_path / "uit", "--scheduler", local_cluster.scheduler_address)
    assert got.exit_code == expected.exit_code == 1
    joined = "".join(p.read_text(encoding="utf-8") for p in sorted((tmp_path / "uit").iterdir()))
    assert joined == (tmp_path / "lokaal.jsonl").read_text(encoding="utf-8")
    assert [p.name for p in (tmp_path / "uit").iterdir()] == ["deel-00000.jsonl"]


def test_a_comparison_on_the_cluster_reports_what_the_local_one_reports(tmp_path, local_cluster, rows_data):
    source = write_jsonl(tmp_path / "zaken.jsonl", rows_data[:60])
    args = ("--compare", "2031-01-01", "--format", "json")
    expected = batch(source, "--out", tmp_path / "lokaal.csv", *args)
    got = batch(source, "--out", tmp_path / "cluster.csv", *args, "--scheduler", local_cluster.scheduler_address)
    assert got.exit_code == expected.exit_code
    assert got.stdout == expected.stdout and json.loads(got.stdout)["rows"] == 60
    assert (tmp_path / "cluster.csv").read_bytes() == (tmp_path / "lokaal.csv").read_bytes()


# -- failures: a chunk retried, a worker lost, other versions ---------------------------------------


def jobs_for(kb, flaky=None) -> tuple[Job, Job]:
    row_format = RowFormat("csv", tuple(sorted(kb.goals)), tuple(goals_with_fees(kb)))
    plain = Evaluators(((None, PEILDATUM),))
    return Job(plain, row_format), Job(flaky(plain) if flaky else plain, row_format)


def local_text(kb, source: Path, job: Job) -> str:
    texts: list[str] = []
    run_batch(read_rows(kb, source, "jsonl"), job, 1, lambda done: texts.append(done.text), chunk_size=25)
    return "".join(texts)


def cluster_text(kb, client, source: Path, job: Job) -> str:
    texts: list[str] = []
    chunks = cluster_module.chunks_of_file(read_rows(kb, source, "jsonl"), size=25)
    cluster_module.run_on_cluster(client, chunks, job, lambda done: texts.append(done.text))
    return "".join(texts)


def all_logs(client) -> str:
    logs = [client.get_scheduler_logs(), *client.get_worker_logs().values()]
    logs += list(client.get_worker_logs(nanny=True).values())
    return "\n".join(text for log in logs for _, text in log)


def test_a_chunk_that_fails_once_is_retried_and_neither_its_data_nor_its_message_reaches_a_log(
    tmp_path, kb, client, rows_data, worker_stderr
):
    source = write_jsonl(tmp_path / "zaken.jsonl", rows_data)
    marker = tmp_path / "gefaald"
    # an exception quoting an applicant's value, as a bug might write it
    plain, flaky = jobs_for(kb, lambda e: Flaky(e, str(marker), row=61, message=f"waarde {MARKER}"))
    assert cluster_text(kb, client, source, flaky) == local_text(kb, source, plain)
    assert marker.exists()  # it did fail once
    logs = all_logs(client)
    written = worker_stderr.read_text(encoding="utf-8")
    for log in (logs, written):
        assert "Compute Failed" in log  # the failure was logged, by Dask, on the worker
        assert "ChunkFailed('ValueError')" in log and MARKER not in log


def test_a_partition_read_by_a_worker_that_fails_once_is_retried_with_the_same_output(tmp_path, kb, client, rows_data):
    parts = tmp_path / "delen"
    parts.mkdir()
    write_jsonl(parts / "a.jsonl", rows_data[:50])
    write_jsonl(parts / "b.jsonl", rows_data[50:])
    source = write_jsonl(tmp_path / "geheel.jsonl", rows_data)
    marker = tmp_path / "gefaald"
    plain, flaky = jobs_for(kb, lambda e: Flaky(e, str(marker), row=61, message=MARKER))
    paths = sorted(parts.iterdir())
    assert cluster_module.workers_see(client, paths)
    assert not cluster_module.workers_see(client, [*paths, tmp_path / "weg.jsonl"])
    texts, names = [], []
    cluster_module.run_partitions_on_workers(
        client, paths, "jsonl", flaky, lambda d: texts.append(d.text), names.append
    )
    assert marker.exists() and names == ["a", "b"]
    assert "".join(texts) == local_text(kb, source, plain)


def test_a_chunk_whose_worker_dies_is_rescheduled_and_the_output_is_the_same(tmp_path, kb, client, rows_data):
    source = write_jsonl(tmp_path / "zaken.jsonl", rows_data[:80])
    marker = tmp_path / "gestorven"
    plain, dying = jobs_for(kb, lambda e: Flaky(e, str(marker), row=30, how="exit"))
    assert cluster_text(kb, client, source, dying) == local_text(kb, source, plain)
    assert marker.exists()  # a worker process did end halfway through a chunk
    client.wait_for_workers(2, timeout=120)  # its nanny starts it again, for the tests after this one


def test_a_chunk_that_keeps_failing_stops_the_run_naming_its_rows_only(tmp_path, kb, client, rows_data):
    source = write_jsonl(tmp_path / "zaken.jsonl", rows_data[:80])
    _, failing = jobs_for(kb, lambda e: Flaky(e, str(tmp_path / "m"), row=61, message=MARKER, always=True))
    with pytest.raises(cluster_module.ClusterError) as caught:
        cluster_text(kb, client, source, failing)
    message = str(caught.value)
    assert message.startswith("brok 3 (rij 51 tot en met 75) mislukte ook na 3 nieuwe pogingen (ValueError)")
    assert MARKER not in message


def test_task_keys_and_what_dask_shows_of_a_task_name_no_applicant_data(tmp_path, kb, client, rows_data, monkeypatch):
    source = write_jsonl(tmp_path / "zaken.jsonl", rows_data)
    submitted: list[str] = []
    submit = client.submit

    def recording(function, *args, **kwargs):
        submitted.append(repr((kwargs["key"], function, *args)))
        return submit(function, *args, **kwargs)

    monkeypatch.setattr(client, "submit", recording)
    plain, _ = jobs_for(kb)
    cluster_text(kb, client, source, plain)
    assert len(submitted) == 6 and "rij 51-75" in submitted[2]
    assert not any(MARKER in text or "geboortedatum" in text for text in submitted)


def test_workers_with_another_version_or_rule_base_are_refused(tmp_path, client, local_cluster, rows_data):
    source = write_jsonl(tmp_path / "zaken.jsonl", rows_data[:10])

    def pretend(value):  # what a worker with other code or another kb/ would compute
        from engine.answer import cluster

        cluster._fingerprints.clear()
        if value is not None:
            cluster._fingerprints[(None,)] = value

    client.run(pretend, "0000000000000000")
    try:
        out = tmp_path / "uit.csv"
        got = batch(source, "--out", out, "--scheduler", local_cluster.scheduler_address)
    finally:
        client.run(pretend, None)
    assert got.exit_code == 69
    assert "andere versie van verblijfsregels of van de kennisbank (vingerafdruk 0000000000000000" in got.output
    assert not out.exists()


# -- the command line -------------------------------------------------------------------------------


def test_without_the_extra_scheduler_names_the_extra_to_install(tmp_path, monkeypatch, rows_data):
    source = write_jsonl(tmp_path / "zaken.jsonl", rows_data[:3])
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed now fails
    got = batch(source, "--out", tmp_path / "uit.csv", "--scheduler", "tcp://127.0.0.1:8786")
    assert got.exit_code == 2
    assert got.output.strip() == (
        "fout: --scheduler: Dask distributed is niet geïnstalleerd; installeer de uitbreiding met "
        "pip install 'verblijfsregels[cluster]'"
    )


def test_an_unreachable_scheduler_is_one_line_and_exit_code_69(tmp_path, monkeypatch, rows_data):
    import socket

    source = write_jsonl(tmp_path / "zaken.jsonl", rows_data[:3])
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    monkeypatch.setattr(cluster_module, "CONNECT_TIMEOUT", 2)
    got = batch(source, "--out", tmp_path / "uit.csv", "--scheduler", f"tcp://127.0.0.1:{port}")
    assert got.exit_code == 69
    assert got.output.startswith(f"fout: --scheduler: geen verbinding met tcp://127.0.0.1:{port}: ")
    assert len(got.output.splitlines()) == 1 and not (tmp_path / "uit.csv").exists()


def test_out_directory_must_be_new_or_empty_and_jobs_is_the_clusters(tmp_path, rows_data):
    source = write_jsonl(tmp_path / "zaken.jsonl", rows_data[:3])
    full = tmp_path / "uit"
    full.mkdir()
    (full / "oud.csv").write_text("x\n", encoding="utf-8")
    got = batch(source, "--out", full, "--scheduler", "tcp://127.0.0.1:1")
    assert got.exit_code == 2 and "bestaat al en is niet leeg" in got.output
    got = batch(source, "--out", tmp_path / "u.csv", "--scheduler", "tcp://127.0.0.1:1", "--jobs", "2")
    assert got.exit_code == 2 and "--jobs met --scheduler" in got.output
    assert (full / "oud.csv").read_text(encoding="utf-8") == "x\n"


def test_the_progress_bar_on_a_terminal_counts_the_rows_of_every_partition(tmp_path, local_cluster, rows_data):
    import os
    import pty
    import subprocess
    import threading

    parts = tmp_path / "delen"
    parts.mkdir()
    write_jsonl(parts / "a.jsonl", rows_data[:70])
    write_jsonl(parts / "b.jsonl", rows_data[70:])
    terminal, child_side = pty.openpty()
    shown: list[bytes] = []

    def drain():
        while True:
            try:
                chunk = os.read(terminal, 4096)
            except OSError:  # the child closed the terminal
                return
            if not chunk:
                return
            shown.append(chunk)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    out = tmp_path / "uit.jsonl"
    command = [sys.executable, str(ROOT / "cli.py"), "batch", str(parts), "--out", str(out)]
    proc = subprocess.run(
        [*command, "--peildatum", PEILDATUM.isoformat(), "--scheduler", local_cluster.scheduler_address],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=child_side,
        timeout=300,
    )
    os.close(child_side)
    reader.join(5)
    os.close(terminal)
    assert proc.returncode == 1
    assert len(out.read_text(encoding="utf-8").splitlines()) == 150
    text = b"".join(shown).decode("utf-8", "replace")
    # the total is both partitions' rows: after the first one (a chunk of 70 rows) 70/150 is done
    assert "beoordelen" in text and "  46%" in text and "100%" in text
