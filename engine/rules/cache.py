"""A per-user cache for work that only depends on the knowledge base, never on applicants.

Parsed declarations and the compiled node graph are pickled under a key made from the bytes
of every file they came from, so a changed rule is re-read and re-checked. Generated code (the
applicant validator that fastjsonschema writes from the vocabulary) is kept compiled beside it,
under a key its generator makes from what it is generated from (`cached_code`). Applicant data never
goes here. If the cache directory cannot be written, everything still works, only slower.
"""

from __future__ import annotations

import hashlib
import marshal
import os
import pickle
import sys
import tempfile
from pathlib import Path
from types import CodeType
from typing import Any, Callable

RULES_DIR = Path(__file__).resolve().parent


def cache_dir() -> Path | None:
    if os.environ.get("VERBLIJFSREGELS_NO_CACHE"):
        return None
    base = os.environ.get("VERBLIJFSREGELS_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "verblijfsregels"
    )
    path = Path(base)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return path if os.access(path, os.W_OK) else None


def content_key(*roots: Path) -> str:
    digest = hashlib.sha256()
    for root in roots:
        files = sorted(root.rglob("*.yaml")) if root.is_dir() else [root]
        for f in files:
            digest.update(str(f.relative_to(root) if root.is_dir() else f.name).encode())
            digest.update(f.read_bytes())
    # The code that reads and compiles is part of the key, with its place: a moved module pickles differently.
    for source in sorted(RULES_DIR.glob("*.py")):
        digest.update(f"engine/rules/{source.name}".encode())
        digest.update(source.read_bytes())
    return digest.hexdigest()[:32]


def cached(key: str, build: Callable[[], Any]) -> Any:
    directory = cache_dir()
    if directory is None:
        return build()
    path = directory / f"kb-{key}.pickle"
    try:
        with path.open("rb") as handle:
            return pickle.load(handle)
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError):
        pass
    value = build()
    try:
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".kb-")
        with os.fdopen(fd, "wb") as handle:
            pickle.dump(value, handle, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
    except OSError:
        pass
    return value


def cached_code(key: str, generate: Callable[[], str], filename: str) -> CodeType:
    """The compiled code of the Python source `generate()` writes, which depends only on what `key`
    is made from (never on applicant data).

    Kept in the cache directory as the source with its compiled code, so that a warm cache
    neither generates nor compiles it again; without a usable cache directory (unwritable, or
    VERBLIJFSREGELS_NO_CACHE) it is generated and compiled in memory. The Python version is part
    of the key: compiled code only fits the interpreter that compiled it.
    """
    directory = cache_dir()
    if directory is None:
        return compile(generate(), filename, "exec")
    version = hashlib.sha256(sys.version.encode()).hexdigest()[:8]
    path = directory / f"code-{key}-{version}.pickle"
    try:
        with path.open("rb") as handle:
            code = marshal.loads(pickle.load(handle)["code"])
        if isinstance(code, CodeType):
            return code
    except (OSError, pickle.UnpicklingError, EOFError, ValueError, TypeError, KeyError, AttributeError, ImportError):
        pass
    source = generate()
    code = compile(source, filename, "exec")
    try:
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".code-")
        with os.fdopen(fd, "wb") as handle:
            pickle.dump({"source": source, "code": marshal.dumps(code)}, handle, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
    except OSError:
        pass
    return code
