"""Batch assessment of a caseload on a Dask cluster (`batch --scheduler ADDRESS`).

The client (the process running `batch`) reads the caseload, a file or a directory of partitions,
exactly as the local run reads it, and sends it in chunks to the workers; each worker evaluates
and formats a chunk with the local run's own code (`engine.answer.batch.finish_chunk`), and the client
writes the chunks' text in input order, to one file or to a directory of partitions. So the
output is byte for byte the local run's, and the workers need no shared storage: only this
package, at the same version (checked: a worker whose fingerprint of the code and the rule base
differs is refused).

Applicant data stays out of every name and log line Dask writes: task keys are a run id and a chunk
number, a chunk's repr is its row numbers, and an exception raised while evaluating a chunk reaches
Dask as its type alone (its message or a traceback's values could quote a row).

Only this module imports `distributed`, and only once `--scheduler` is given (the `cluster` extra).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import threading
import uuid
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from engine.answer.batch import CHUNK, Done, Job, Row, RowFormat, finish_chunk, read_rows
from engine.errors import InputError, escaped, visible

EXTRA = "verblijfsregels[cluster]"
RETRIES = 3  # a chunk whose task raised is tried this many times more, on any worker
CONNECT_TIMEOUT = 20  # seconds to reach the scheduler
WORKER_TIMEOUT = 60  # seconds to wait for a first worker to join
PARTITION_ROWS = 100_000  # rows per output partition when the input is a single file
SUFFIXES = {"csv": (".csv",), "jsonl": (".jsonl", ".ndjson")}
OUT_SUFFIX = {"csv": ".csv", "jsonl": ".jsonl"}


class ClusterError(Exception):
    """The cluster cannot run the caseload (unreachable, no workers, other versions, a chunk that
    keeps failing); the message is Dutch and names no applicant data."""


class ChunkFailed(Exception):
    """What a worker raises instead of an unexpected exception: its type only, never its message."""


def require() -> None:
    """The extra is installed, or a message saying how to install it."""
    try:
        import distributed  # noqa: F401
    except ImportError:
        raise ClusterError(
            f"--scheduler: Dask distributed is niet geïnstalleerd; installeer de uitbreiding met pip install '{EXTRA}'"
        ) from None


# -- reading --------------------------------------------------------------------------------------


def partitions(directory: Path, given: str | None) -> tuple[list[Path], str]:
    """The partitions of a caseload directory, in name order, and their format: every visible file
    with the suffix of one format (.csv, or .jsonl/.ndjson)."""
    shown = escaped(str(directory))
    try:
        files = sorted(p for p in directory.iterdir() if p.is_file() and not p.name.startswith("."))
    except OSError as exc:
        raise InputError("INPUT", f"kan de map {shown} niet lezen: {exc.strerror}") from None
    formats = {fmt for p in files for fmt, suffixes in SUFFIXES.items() if p.suffix.lower() in suffixes}
    if given is None:
        if len(formats) > 1:
            raise InputError(
                "INPUT", f"de map {shown} heeft zowel .csv- als .jsonl-partities; kies er één met --input-format"
            )
        if not formats:
            raise InputError("INPUT", f"de map {shown} bevat geen partities (bestanden .csv of .jsonl)")
        given = formats.pop()
    chosen = [p for p in files if p.suffix.lower() in SUFFIXES[given]]
    if not chosen:
        raise InputError("INPUT", f"de map {shown} bevat geen partities met het formaat {given}")
    stems: dict[str, Path] = {}
    for path in chosen:
        if path.stem in stems:  # both would be written to one result partition
            raise InputError(
                "INPUT",
                f"de partities {visible(stems[path.stem].name)} en {visible(path.name)} van {shown} hebben dezelfde naam",
            )
        stems[path.stem] = path
    return chosen, given


def _renumbered(row: Row, offset: int) -> Row:
    """A partition's row as a row of the whole caseload: its number, and the number its error starts with."""
    if not offset:
        return row
    number = row.number + offset
    error = row.error
    prefix = f"rij {row.number}"
    if error is not None and error.startswith(prefix):
        error = f"rij {number}{error[len(prefix) :]}"
    return Row(number, row.data, error, row.text)


def partition_rows(kb: Any, paths: list[Path], fmt: str) -> Iterator[tuple[Path, Row | None]]:
    """Every row of every partition as one caseload: rows are numbered on from the last row of the
    partition before. Each partition also comes once with None, before its rows, so that a
    partition without rows still gets its result partition."""
    offset = 0
    for path in paths:
        yield path, None
        last = 0
        for row in read_rows(kb, path, fmt):
            last = row.number
            yield path, _renumbered(row, offset)
        offset += last


def check_partitions(kb: Any, paths: list[Path], fmt: str) -> None:
    """Every partition can be opened and has a valid header, before anything is written."""
    for path in paths:
        rows = read_rows(kb, path, fmt)
        next(rows, None)
        rows.close()


def count_partition_rows(kb: Any, paths: list[Path], fmt: str) -> int:
    from engine.answer.batch import count_rows

    return sum(count_rows(kb, path, fmt) for path in paths)


def chunks_of_partitions(kb: Any, paths: list[Path], fmt: str, size: int = CHUNK) -> Iterator[tuple[str, list[Row]]]:
    """(partition name, chunk) in order; a chunk never spans two partitions, and a partition
    without rows comes once with an empty chunk."""
    current: Path | None = None
    chunk: list[Row] = []
    for path, row in partition_rows(kb, paths, fmt):
        if row is None:
            if current is not None and chunk:
                yield current.stem, chunk
            current, chunk = path, []
            yield path.stem, []
            continue
        chunk.append(row)
        if len(chunk) == size:
            yield path.stem, chunk
            chunk = []
    if current is not None and chunk:
        yield current.stem, chunk


def chunks_of_file(
    rows: Iterable[Row], size: int = CHUNK, partition_rows: int = PARTITION_ROWS
) -> Iterator[tuple[str, list[Row]]]:
    """(partition name, chunk) in order for a single input file: result partitions of
    `partition_rows` rows (a multiple of the chunk size), named deel-00000, deel-00001, …"""
    per_partition = max(1, partition_rows // size)
    chunk: list[Row] = []
    index = 0
    yield "deel-00000", []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield _part_name(index // per_partition), chunk
            index += 1
            chunk = []
    if chunk:
        yield _part_name(index // per_partition), chunk


def _part_name(k: int) -> str:
    return f"deel-{k:05d}"


# -- writing --------------------------------------------------------------------------------------


class PartitionedResult:
    """A directory of result partitions, one per input partition (named after it), each with the
    header; written in a temporary directory beside it and renamed into place only when the run
    succeeds, so that it is whole or absent, like a single result file. The directory must be new
    or empty: partitions of an earlier run would otherwise mix in."""

    in_place = True

    def __init__(self, path: Path, row_format: RowFormat, failed: Callable[[OSError], Exception]):
        self.path, self.row_format, self.failed = path, row_format, failed
        self.temporary: str | None = None
        self.handle: Any = None
        self.names: set[str] = set()

    @staticmethod
    def check(path: Path) -> str | None:
        """What keeps `path` from becoming the result directory, or None."""
        shown = escaped(str(path))
        if path.exists() and not path.is_dir():
            return f"{shown} bestaat al en is geen map"
        if path.is_dir() and any(path.iterdir()):
            return f"de map {shown} bestaat al en is niet leeg; kies een nieuwe of lege map"
        if not path.absolute().parent.is_dir():
            return f"de map {escaped(str(path.absolute().parent))} bestaat niet"
        return None

    def __enter__(self) -> PartitionedResult:
        target = self.path.absolute()
        try:
            self.temporary = tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.", suffix=".deel")
        except OSError as exc:
            raise self.failed(exc) from None
        return self

    def begin(self, name: str) -> None:
        """The chunks from here on belong to partition `name` (a stem; the format gives the suffix)."""
        if name in self.names:
            return
        self._close()
        self.names.add(name)
        file = Path(self.temporary) / f"{name}{OUT_SUFFIX[self.row_format.fmt]}"
        try:
            self.handle = open(file, "x", encoding="utf-8", newline="")
            self.handle.write(self.row_format.header())
        except OSError as exc:
            raise self.failed(exc) from None

    def write(self, done: Done) -> None:
        self.handle.write(done.text)

    def _close(self) -> None:
        if self.handle is not None:
            handle, self.handle = self.handle, None
            handle.close()

    def __exit__(self, kind, exc, tb) -> None:
        try:
            if kind is None:
                self._close()  # flushes: a full disk shows here
                target = self.path.absolute()
                if target.is_dir():
                    target.rmdir()  # empty (checked before the run); os.replace cannot replace a directory
                os.chmod(self.temporary, 0o777 & ~_umask())
                os.replace(self.temporary, target)
                self.temporary = None
        except OSError as exc:
            raise self.failed(exc) from None
        finally:
            if self.handle is not None:
                self.handle.close()
            if self.temporary is not None:
                shutil.rmtree(self.temporary, ignore_errors=True)


def _umask() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return umask


# -- the workers ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Chunk:
    """A chunk of rows as Dask carries it. Its repr, which Dask writes into a log line when a task
    fails, names the row numbers only."""

    index: int
    rows: list[Row]

    def __repr__(self) -> str:
        if not self.rows:
            return f"<brok {self.index}: geen rijen>"
        return f"<brok {self.index}: rij {self.rows[0].number}-{self.rows[-1].number}>"


@dataclass(frozen=True)
class Task:
    """What each chunk's task gets besides its rows: the job and the fingerprint the worker must have."""

    job: Job
    fingerprint: str


@dataclass(frozen=True)
class Mismatch:
    """A worker's answer when its code or rule base is not the client's (a worker that joined
    after the check at the start)."""

    fingerprint: str
    worker: str


_local = threading.local()  # per worker thread: {job: evaluators} (an evaluator keeps state per run)
_fingerprints: dict[tuple[str | None, ...], str] = {}


def fingerprint(kb_dirs: tuple[str | None, ...]) -> str:
    """A hash of this package's version, its engine code and the rule bases `kb_dirs` (None: kb/):
    two processes with the same fingerprint write the same bytes for the same caseload."""
    found = _fingerprints.get(kb_dirs)
    if found is not None:
        return found
    from importlib import metadata

    from engine.rules.cache import content_key
    from engine.rules.model import KB_DIR

    digest = hashlib.sha256()
    try:
        digest.update(metadata.version("verblijfsregels").encode())
    except metadata.PackageNotFoundError:
        digest.update(b"?")
    engine_dir = Path(__file__).resolve().parent.parent
    for source in sorted(engine_dir.rglob("*.py")) + sorted(engine_dir.rglob("*.json")):
        digest.update(source.relative_to(engine_dir).as_posix().encode())
        digest.update(source.read_bytes())
    for kb_dir in kb_dirs:
        digest.update(content_key(Path(kb_dir) if kb_dir else KB_DIR).encode())
    found = _fingerprints[kb_dirs] = digest.hexdigest()[:16]
    return found


def _kb_dirs(job: Job) -> tuple[str | None, ...]:
    runs = getattr(job.evaluators, "runs", ((None, None),))
    return tuple(sorted({kb_dir for kb_dir, _ in runs}, key=lambda d: d or ""))


def _evaluators(job: Job) -> list[Any]:
    built = getattr(_local, "evaluators", None)
    if built is None:
        built = _local.evaluators = {}
    evaluators = built.get(job)
    if evaluators is None:
        evaluators = built[job] = job.evaluators()
    return evaluators


def _wrong_worker(task: Task) -> Mismatch | None:
    mine = fingerprint(_kb_dirs(task.job))
    if mine == task.fingerprint:
        return None
    from distributed import get_worker

    return Mismatch(mine, get_worker().address)


def evaluate_chunk(task: Task, chunk: Chunk) -> Done | Mismatch:
    """A chunk's task on a worker: the local run's own evaluation and formatting of a chunk."""
    wrong = _wrong_worker(task)
    if wrong is not None:
        return wrong
    try:
        return finish_chunk(task.job, _evaluators(task.job), chunk.rows)
    except Exception as exc:
        # Dask logs a failed task's exception and traceback text on the worker: the type only.
        raise ChunkFailed(type(exc).__name__) from None


def evaluate_partition(task: Task, path: str, fmt: str, offset: int) -> Done | Mismatch:
    """A partition's task on a worker that reads it: its rows numbered on from `offset`, in chunks
    as the local run takes them, formatted as one text."""
    wrong = _wrong_worker(task)
    if wrong is not None:
        return wrong
    try:
        evaluators = _evaluators(task.job)
        rows = (_renumbered(row, offset) for row in read_rows(_reading_kb(), Path(path), fmt))
        texts: list[str] = []
        count = failed = 0
        results: list[dict[str, Any]] | None = [] if task.job.keep_results else None
        chunk: list[Row] = []
        for row in rows:
            chunk.append(row)
            if len(chunk) == CHUNK:
                count, failed = _add(finish_chunk(task.job, evaluators, chunk), texts, results, count, failed)
                chunk = []
        if chunk:
            count, failed = _add(finish_chunk(task.job, evaluators, chunk), texts, results, count, failed)
        return Done("".join(texts), count, failed, results)
    except Exception as exc:
        raise ChunkFailed(type(exc).__name__) from None


def _add(done: Done, texts: list[str], results: list | None, count: int, failed: int) -> tuple[int, int]:
    texts.append(done.text)
    if results is not None:
        results.extend(done.results)
    return count + done.rows, failed + done.failed


def last_row(path: str, fmt: str) -> int:
    """The number of a partition's last row (0 without rows): where the next partition's numbers start."""
    try:
        last = 0
        for row in read_rows(_reading_kb(), Path(path), fmt):
            last = row.number
        return last
    except Exception as exc:
        raise ChunkFailed(type(exc).__name__) from None


_kbs: list[Any] = []


def _reading_kb() -> Any:
    """The rule base the caseload is read with: kb/, as `batch` reads it on the client."""
    if not _kbs:
        from engine.rules.model import load_knowledge_base

        _kbs.append(load_knowledge_base())
    return _kbs[0]


# -- the client -----------------------------------------------------------------------------------


def connect(address: str) -> Any:
    """A client of the scheduler at `address`, with at least one worker."""
    from distributed import Client

    shown = visible(address)
    try:
        client = Client(address, timeout=CONNECT_TIMEOUT, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:
        raise ClusterError(f"--scheduler: geen verbinding met {shown}: {_reason(exc)}") from None
    try:
        client.wait_for_workers(1, timeout=WORKER_TIMEOUT)
    except (OSError, TimeoutError):
        client.close()
        raise ClusterError(f"--scheduler: geen workers bij {shown} binnen {WORKER_TIMEOUT} s") from None
    return client


def _reason(exc: BaseException) -> str:
    return visible(str(exc).splitlines()[0] if str(exc) else type(exc).__name__, 200)


def check_workers(client: Any, expected: str, kb_dirs: tuple[str | None, ...]) -> None:
    """Every worker runs this code on the same rule base, or the run is refused before it starts."""
    answers = client.run(fingerprint, kb_dirs, on_error="return")
    for worker, answer in sorted(answers.items()):
        if isinstance(answer, BaseException):
            raise ClusterError(
                f"worker {visible(worker)} kan verblijfsregels niet laden ({type(answer).__name__}); "
                "installeer op elke worker dezelfde versie als hier"
            )
        if answer != expected:
            raise ClusterError(_mismatch(worker, answer, expected))


def _mismatch(worker: str, theirs: str, expected: str) -> str:
    return (
        f"worker {visible(worker)} heeft een andere versie van verblijfsregels of van de kennisbank "
        f"(vingerafdruk {theirs}, hier {expected}); installeer op elke worker dezelfde versie"
    )


def run_on_cluster(
    client: Any,
    chunks: Iterable[tuple[str, list[Row]]],
    job: Job,
    on_chunk: Callable[[Done], None],
    on_partition: Callable[[str], None] | None = None,
) -> None:
    """Evaluate every chunk on the cluster and hand each on, formatted, in input order (as
    `batch.run_batch` does), with `on_partition(name)` before the first chunk of each partition.

    The client reads the rows and sends them (the workers need no access to the input). At most
    two chunks per worker thread are in flight, so the client's memory stays flat. A chunk whose
    task raised is retried (RETRIES); one whose worker died is rescheduled by Dask itself (up to
    distributed.scheduler.allowed-failures)."""
    task = _checked_task(client, job)
    run = uuid.uuid4().hex[:12]

    def submitted() -> Iterator[tuple[str, str, Any]]:
        number = 0  # chunks with rows, from 1: "brok 3" holds the third chunk of rows
        for name, rows in chunks:
            if not rows:  # a partition without rows
                yield name, "", None
                continue
            number += 1
            chunk = Chunk(number, rows)
            key = f"verblijfsregels-{run}-{number}"
            yield name, _chunk_text(chunk), client.submit(evaluate_chunk, task, chunk, key=key, retries=RETRIES)

    _in_order(client, submitted(), task.fingerprint, on_chunk, on_partition)


def run_partitions_on_workers(
    client: Any,
    paths: list[Path],
    fmt: str,
    job: Job,
    on_chunk: Callable[[Done], None],
    on_partition: Callable[[str], None] | None = None,
) -> None:
    """As run_on_cluster, for partitions every worker can read at the same path (a shared disk):
    each partition is one task that reads, evaluates and formats it on the worker, so the client
    only writes. First every partition's last row number is read (one task each, in parallel):
    the rows of a partition are numbered on from the partitions before it."""
    task = _checked_task(client, job)
    run = uuid.uuid4().hex[:12]
    names = [str(p) for p in paths]
    counted = client.map(
        last_row, names, [fmt] * len(names), key=[f"verblijfsregels-{run}-tel-{k}" for k in range(len(names))]
    )
    offsets = []
    try:
        total = 0
        for path, future in zip(paths, counted):
            offsets.append(total)
            total += _result(future, f"partitie {visible(path.name)}")
    finally:
        for future in counted:
            future.release()

    def submitted() -> Iterator[tuple[str, str, Any]]:
        for k, (path, offset) in enumerate(zip(paths, offsets)):
            key = f"verblijfsregels-{run}-partitie-{k}"
            future = client.submit(evaluate_partition, task, str(path), fmt, offset, key=key, retries=RETRIES)
            yield path.stem, f"partitie {visible(path.name)}", future

    _in_order(client, submitted(), task.fingerprint, on_chunk, on_partition)


def workers_see(client: Any, paths: list[Path]) -> bool:
    """Whether every worker reads the same files at these paths as the client (size and time of
    change): then the workers can read the partitions themselves."""
    mine = _stats([str(p) for p in paths])
    if mine is None:
        return False
    try:
        answers = client.run(_stats, [str(p) for p in paths], on_error="return")
    except (OSError, TimeoutError):
        return False
    return bool(answers) and all(answer == mine for answer in answers.values())


def _stats(names: list[str]) -> list[tuple[int, int]] | None:
    try:
        return [(s.st_size, s.st_mtime_ns) for s in map(os.stat, names)]
    except OSError:
        return None


def _checked_task(client: Any, job: Job) -> Task:
    kb_dirs = _kb_dirs(job)
    expected = fingerprint(kb_dirs)
    check_workers(client, expected, kb_dirs)
    return Task(job, expected)


def _result(future: Any, what: str) -> Any:
    """A task's result, or a ClusterError naming `what` (rows or a partition, never their data)."""
    from distributed import KilledWorker

    try:
        return future.result()
    except KilledWorker:
        raise ClusterError(f"{what}: de workers die hem rekenden vielen steeds weg; de run is gestopt") from None
    except ChunkFailed as exc:
        raise ClusterError(f"{what} mislukte ook na {RETRIES} nieuwe pogingen ({exc}); de run is gestopt") from None
    except (OSError, TimeoutError) as exc:
        raise ClusterError(f"de verbinding met de cluster viel weg: {_reason(exc)}") from None


def _in_order(
    client: Any,
    submitted: Iterator[tuple[str, str, Any]],
    expected: str,
    on_chunk: Callable[[Done], None],
    on_partition: Callable[[str], None] | None,
    per_thread: int = 2,
) -> None:
    """Hand on the results of the (partition name, description, future or None) in their order,
    with at most `per_thread` tasks per worker thread in flight."""
    window = max(2, per_thread * sum(client.nthreads().values()))
    pending: deque[tuple[str, str, Any]] = deque()
    current: list[str | None] = [None]

    def take() -> None:
        name, what, future = pending.popleft()
        if name != current[0]:
            current[0] = name
            if on_partition is not None:
                on_partition(name)
        if future is None:
            return
        try:
            done = _result(future, what)
        finally:
            future.release()
        if isinstance(done, Mismatch):
            raise ClusterError(_mismatch(done.worker, done.fingerprint, expected))
        on_chunk(done)

    try:
        for item in submitted:
            pending.append(item)
            while len(pending) > window or (pending and pending[0][2] is None):
                take()
        while pending:
            take()
    finally:
        for _, _, future in pending:
            if future is not None:
                future.cancel()


def _chunk_text(chunk: Chunk) -> str:
    return f"brok {chunk.index} (rij {chunk.rows[0].number} tot en met {chunk.rows[-1].number})"
