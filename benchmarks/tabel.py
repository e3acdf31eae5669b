"""A markdown table of benchmark figures, headed by the command and the date it was produced.

The benchmark scripts print it with `--markdown`; `docs/metingen.md` holds the tables.
"""

from __future__ import annotations

import os
import shlex
import sys
from datetime import datetime, timezone


def heading() -> str:
    """The command as typed, the UTC time, and the machine (cores, load) it ran on."""
    command = "python " + " ".join(shlex.quote(a) for a in [os.path.relpath(sys.argv[0]), *sys.argv[1:]])
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    try:
        load = f", load {os.getloadavg()[0]:.1f}".replace(".", ",")
    except OSError:
        load = ""
    return f"`{command}` — {when}, {os.cpu_count()} cores{load}"


def table(columns: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    lines = [heading(), "", "| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def number(value: float, digits: int = 2) -> str:
    """Dutch decimal comma, as in the rest of the docs."""
    return f"{value:.{digits}f}".replace(".", ",")


def spread(values: list[float]) -> str:
    """The noise of repeated runs: lowest to highest, as a factor of the lowest."""
    low, high = min(values), max(values)
    return f"{number(high / low if low else 1.0)} ×"


def emit(text: str, write: str | None, section: str) -> None:
    """Print the table, or with `--write FILE` put it in FILE between the markers of `section`
    (`<!-- meting:NAME -->` and `<!-- /meting:NAME -->`), leaving the prose around it as it is."""
    if not write:
        print(text)
        return
    from pathlib import Path

    path = Path(write)
    doc = path.read_text(encoding="utf-8")
    begin, end = f"<!-- meting:{section} -->", f"<!-- /meting:{section} -->"
    if begin not in doc or end not in doc:
        raise SystemExit(f"{write} heeft geen sectie {begin} … {end}")
    head, rest = doc.split(begin, 1)
    _, tail = rest.split(end, 1)
    path.write_text(f"{head}{begin}\n{text}\n{end}{tail}", encoding="utf-8")
    print(f"{write}: sectie {section} bijgewerkt")
