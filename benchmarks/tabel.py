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
