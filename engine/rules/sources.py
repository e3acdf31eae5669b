"""The five source pages and the rule inventory, shipped with the rule base (kb/bronnen/).

A rule quotes its source verbatim; the quote tests and the audit read these copies, so the check
runs on every checkout and every installed copy, not only where ../shared/ happens to be beside it.
"""

from __future__ import annotations

from pathlib import Path

SOURCES_DIR = "bronnen"  # beside the declarations: <kb>/bronnen/
SHIPPED = Path(__file__).resolve().parents[2] / "kb" / SOURCES_DIR
INVENTORY_NAME = "rule-inventory.md"


def source_dir(kb_dir: Path) -> Path:
    """Where the source pages of the rule base in `kb_dir` are: its own `bronnen/`."""
    return Path(kb_dir) / SOURCES_DIR


def source_texts(kb_dir: Path | None = None) -> dict[str, str]:
    """{file name: text} of every source page (and the rule inventory) of the rule base; empty when
    the rule base ships none (a test's tiny rule base): the caller says it could not check."""
    directory = SHIPPED if kb_dir is None else source_dir(kb_dir)
    if not directory.is_dir():
        return {}
    names = sorted(p for p in directory.iterdir() if p.suffix in (".txt", ".md"))
    return {p.name: p.read_text(encoding="utf-8") for p in names}
