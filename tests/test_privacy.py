"""No applicant data in logs, error output or temporary and cache files, and no network.

Every command that reads applicant data runs in this process on an applicant whose dates and
free text are markers, with every logger (the root logger and pyDatalog's) recording at DEBUG
into a file that worker processes inherit, with the temporary directory and the per-user cache
pointed at fresh directories that are compared before and after, and with every way to open a
network connection or look up a name raising. The markers may appear only on stdout and in the
files the user names (--out, --save).
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import tempfile
from datetime import date
from pathlib import Path

import pytest
import yaml

from engine.answer.assess import Engine
from tests import vrije_tekst
from tests.applicant_commands import batch_runs, file_runs, interactive_run, interview_runs, write_caseload
from tests.conftest import ROOT

# Dates nobody else uses: as ISO text, in Dutch, as the day number the engine asserts, as repr.
BORN = date(1937, 4, 19)
PERMIT_START = date(1961, 7, 23)


def marker_forms(value: date | str) -> list[str]:
    if isinstance(value, str):
        return [value]
    months = (
        "januari",
        "februari",
        "maart",
        "april",
        "mei",
        "juni",
        "juli",
        "augustus",
        "september",
        "oktober",
        "november",
        "december",
    )
    return [
        value.isoformat(),
        f"{value.day} {months[value.month - 1]} {value.year}",
        str(value.toordinal()),
        repr(value),
    ]


def applicant(text: str | None) -> dict:
    """The example applicant (eligible, so every command has something to say), born and first
    given a permit on the marker dates."""
    data = yaml.safe_load((ROOT / "voorbeelden" / "aanvrager.yaml").read_text(encoding="utf-8"))
    data = {k: (v.isoformat() if isinstance(v, date) else v) for k, v in data.items()}
    data.update(
        {
            "geboortedatum": BORN.isoformat(),
            "datum_aankomst_nederland": "1960-01-01",
            "verblijfsvergunningen": [
                {
                    "van": PERMIT_START.isoformat(),
                    "tot": "2021-08-31",
                    "verblijfsdoel": "echtgenoot_of_partner",
                    "niet_tijdelijk": False,
                },
                {"van": "2021-09-01", "verblijfsdoel": "humanitair_niet_tijdelijk", "niet_tijdelijk": True},
            ],
        }
    )
    if text is not None:
        data[vrije_tekst.FACT] = text
    return data


class Snapshot:
    """Every file under some directories, with its size and modification time."""

    def __init__(self, *roots: Path):
        self.roots = roots
        self.files = {p: self._stat(p) for root in roots for p in self._walk(root)}

    @staticmethod
    def _walk(root: Path):
        if not root.exists():
            return []
        out = []
        for dirpath, _, names in os.walk(root, onerror=lambda e: None):
            out += [Path(dirpath) / n for n in names]
        return out

    @staticmethod
    def _stat(path: Path):
        try:
            st = path.stat()
        except OSError:
            return None
        return (st.st_size, st.st_mtime_ns)

    def new_or_changed(self) -> list[Path]:
        after = Snapshot(*self.roots).files
        return sorted(p for p, st in after.items() if st is not None and self.files.get(p) != st)


def holding(paths: list[Path], markers: list[str]) -> list[tuple[str, str]]:
    found = []
    for path in paths:
        try:
            if path.stat().st_size > 50_000_000:
                continue
            data = path.read_bytes()
        except OSError:
            continue  # gone again, or another user's
        found += [(str(path), m) for m in markers if m.encode("utf-8") in data]
    return found


@pytest.fixture
def guarded(tmp_path, monkeypatch):
    """A fresh temp dir and cache, every logger at DEBUG into a file, and no network."""
    system_tmp = Path(tempfile.gettempdir())
    top_before = set(os.listdir(system_tmp))
    tmp = tmp_path / "tmp"
    cache = tmp_path / "cache"
    tmp.mkdir()
    monkeypatch.setenv("TMPDIR", str(tmp))
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))
    monkeypatch.setenv("VERBLIJFSREGELS_CACHE", str(cache))
    monkeypatch.delenv("VERBLIJFSREGELS_NO_CACHE", raising=False)

    log_file = tmp_path / "logboek" / "alles.log"
    log_file.parent.mkdir()
    handler = logging.FileHandler(log_file, encoding="utf-8")  # forked batch workers write here too
    handler.setLevel(logging.DEBUG)
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    loggers = [
        logging.getLogger(),
        logging.getLogger("pyDatalog"),
        logging.getLogger("pyDatalog.pyEngine"),
        *[logging.getLogger(name) for name in list(logging.root.manager.loggerDict)],
    ]
    levels = [(lg, lg.level, lg.disabled) for lg in loggers]
    disabled = logging.root.manager.disable
    logging.disable(logging.NOTSET)
    for lg in loggers:
        lg.setLevel(logging.DEBUG)
        lg.disabled = False
        if not lg.propagate or lg is logging.getLogger():
            lg.addHandler(handler)
    logging.captureWarnings(True)

    attempts: list[tuple] = []

    def refuse(name):
        def blocked(*args, **kwargs):
            attempts.append((name, args))
            raise OSError(f"netwerk geblokkeerd in deze test: {name}")

        return blocked

    for name in ("connect", "connect_ex", "sendto"):
        monkeypatch.setattr(socket.socket, name, refuse(f"socket.{name}"))
    for name in ("create_connection", "getaddrinfo", "gethostbyname", "gethostbyname_ex", "gethostbyaddr"):
        monkeypatch.setattr(socket, name, refuse(name))

    try:
        yield {
            "tmp": tmp,
            "cache": cache,
            "log": log_file,
            "network": attempts,
            "system_tmp": system_tmp,
            "top_before": top_before,
        }
    finally:
        logging.captureWarnings(False)
        for lg in loggers:
            lg.removeHandler(handler)
        for lg, level, was_disabled in levels:
            lg.setLevel(level)
            lg.disabled = was_disabled
        logging.disable(disabled)
        handler.close()


def _new_in_system_tmp(guarded) -> list[Path]:
    """Files in new entries of the system's /tmp: code that ignored TMPDIR would leave them there."""
    root = guarded["system_tmp"]
    out = []
    for name in set(os.listdir(root)) - guarded["top_before"]:
        path = root / name
        out += [path] if path.is_file() else Snapshot._walk(path)
    return out


@pytest.fixture(scope="module")
def tekst_kb(tmp_path_factory) -> Path:
    return vrije_tekst.write_kb(tmp_path_factory.mktemp("vrije-tekst") / "kb")


@pytest.mark.parametrize("with_free_text", [False, True], ids=["kb", "kb-met-vrije-tekst"])
def test_no_command_puts_applicant_data_in_logs_errors_temp_or_cache_files_or_uses_the_network(
    with_free_text, tmp_path, monkeypatch, tekst_kb, guarded
):
    import engine.rules.declarations
    import engine.rules.model

    text = f"privé {secrets.token_hex(6)} toelichting" if with_free_text else None
    if with_free_text:  # every engine the commands build reads the copy with the free-text fact
        monkeypatch.setattr(engine.rules.declarations, "KB_DIR", tekst_kb)  # where the commands read it
        monkeypatch.setattr(engine.rules.model, "KB_DIR", tekst_kb)  # and the modules that import it from there
        monkeypatch.setattr(Engine.__init__, "__defaults__", (tekst_kb, *Engine.__init__.__defaults__[1:]))
    goal, form = (vrije_tekst.GOAL, vrije_tekst.FORM) if with_free_text else ("humanitair_niet_tijdelijk", "7027")
    markers = [m for v in (BORN, PERMIT_START, text) if v is not None for m in marker_forms(v)]

    given = tmp_path / "invoer"
    given.mkdir()
    data = applicant(text)
    (given / "aanvrager.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    # without permit periods: `interview --answers` refuses them (reported with the loaders' work)
    answers = {k: v for k, v in data.items() if k != "verblijfsvergunningen"}
    (given / "antwoorden.yaml").write_text(yaml.safe_dump(answers, allow_unicode=True), encoding="utf-8")
    (given / "eerder.yaml").write_text("heeft_zorgverzekering: true\n", encoding="utf-8")
    write_caseload([data, {**data, "heeft_zorgverzekering": False}], given / "caseload.csv", given / "caseload.jsonl")
    asked = tmp_path / "gevraagd"  # where the user asks for output: --out and --save
    asked.mkdir()
    runs = (
        file_runs(given / "aanvrager.yaml", goal, form)
        + interview_runs(given / "antwoorden.yaml", goal)
        + [interactive_run(given / "eerder.yaml", goal, asked / "opgeslagen.yaml", text or "?")]
        + batch_runs(given / "caseload.csv", given / "caseload.jsonl", asked)
    )
    jobs_run = batch_runs(given / "caseload.csv", given / "caseload.jsonl", asked)[0]
    runs.append(type(jobs_run)("batch --jobs 2", (*jobs_run.args, "--jobs", "2")))

    logging.getLogger("pyDatalog.pyEngine").debug("proef: het logboek vangt pyDatalog op DEBUG")
    from engine.rules.cache import cache_dir
    from explain import _ENV

    watched = [guarded["tmp"], guarded["cache"], cache_dir() or guarded["cache"]]
    if _ENV.bytecode_cache is not None:
        watched.append(Path(_ENV.bytecode_cache.directory))
    before = Snapshot(*watched)

    shown = False
    for run in runs:
        result = run.invoke()
        assert result.exit_code == 0, (run.name, result.output)
        assert holding_text(result.stderr, markers) == [], run.name
        shown |= any(m in result.stdout for m in markers)
    assert shown  # the markers are real applicant data: the answers print them where asked

    log = guarded["log"].read_text(encoding="utf-8")
    assert "proef: het logboek vangt pyDatalog op DEBUG" in log
    assert holding_text(log, markers) == []
    assert holding(before.new_or_changed(), markers) == []
    assert holding(_new_in_system_tmp(guarded), markers) == []
    assert guarded["network"] == []
    assert (asked / "opgeslagen.yaml").exists() and len(list(asked.glob("uit-*"))) == 4  # what the user asked for


def holding_text(text: str, markers: list[str]) -> list[str]:
    return [m for m in markers if m in text]


def test_the_network_guard_and_the_log_capture_would_notice(guarded):
    # the assertions above could fail: a connection attempt is recorded, a log record is kept
    with pytest.raises(OSError):
        socket.create_connection(("example.invalid", 80), timeout=1)
    logging.getLogger("verblijfsregels.proef").debug("aanvrager %s", "1937-04-19")
    assert guarded["network"] and "1937-04-19" in guarded["log"].read_text(encoding="utf-8")
