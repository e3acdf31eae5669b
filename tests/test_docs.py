"""The README and docs/ name only commands and options that exist, link only to what exists,
and the README stays an entry (at most 200 lines) that keeps its two set-up commands."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest

from cli import main

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
INSTALL = (
    "python3 -m venv .venv && . .venv/bin/activate && pip install -e . && python -m compileall -q cli.py "
    "engine explain && verblijfsregels assess voorbeelden/aanvrager.yaml --goal onbepaalde_tijd_regulier"
)
TESTS = "python3 -m venv .venv && . .venv/bin/activate && pip install -e '.[test]' && ruff check . && ruff format --check . && pytest"

OPTION = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]*")
COMMAND = re.compile(r"\bverblijfsregels ([a-z][a-z-]*)")
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def cli_options() -> dict[str, set[str]]:
    """Every command of click's own tree with the options it takes."""
    return {
        name: {opt for p in cmd.params for opt in (*p.opts, *p.secondary_opts) if opt.startswith("--")} | {"--help"}
        for name, cmd in main.commands.items()
    }


def other_options() -> set[str]:
    """Options the docs may name that are not `verblijfsregels` options: pytest's own plugins
    (tests/conftest.py) and the benchmark scripts (argparse)."""
    found = set(
        re.findall(r'addoption\(\s*"(--[a-z-]+)"', (ROOT / "tests" / "conftest.py").read_text(encoding="utf-8"))
    )
    for script in (ROOT / "benchmarks").glob("*.py"):
        found |= set(re.findall(r'add_argument\(\s*"(--[a-z-]+)"', script.read_text(encoding="utf-8")))
    return found


OTHER_TOOL = re.compile(r"\s*(ruff|pip|dask)\s")  # dask: the scheduler and workers of docs/cluster.md


def code_pieces(text: str) -> list[str]:
    """Lines of fenced code blocks and inline code spans: where commands and options are named."""
    pieces = []
    fenced = False
    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
            continue
        if fenced:
            pieces.append(line)
        else:
            pieces.extend(re.findall(r"`([^`]+)`", line))
    return pieces


def problems_in(text: str, commands: dict[str, set[str]], others: set[str]) -> list[str]:
    """What a text names that click does not know: `verblijfsregels <command> … --option`
    with an unknown command or an option that command lacks, and a bare option no command has."""
    known = set().union(*commands.values()) | others
    found = []
    for piece in code_pieces(text):
        piece = piece.split(" #", 1)[0]
        for part in re.split(r"&&|;|\s\|\s", piece):
            if OTHER_TOOL.match(part):
                continue  # ruff's and pip's own options are theirs to check
            match = COMMAND.search(part)
            if match:
                name = match.group(1)
                if name not in commands:
                    found.append(f"unknown command: verblijfsregels {name}")
                    continue
                for opt in OPTION.findall(part[match.end() :]):
                    if opt not in commands[name]:
                        found.append(f"verblijfsregels {name} has no option {opt}")
            else:
                found.extend(f"unknown option {opt}" for opt in OPTION.findall(part) if opt not in known)
    return found


def slug(heading: str) -> str:
    """GitHub's anchor for a heading."""
    text = unicodedata.normalize("NFC", heading.strip().lower())
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    found, fenced = set(), False
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
        elif not fenced and line.startswith("#"):
            found.add(slug(line.lstrip("#")))
    return found


def broken_links(path: Path, text: str) -> list[str]:
    found = []
    for target in LINK.findall(text):
        if re.match(r"^[a-z]+:", target):
            continue
        file, _, anchor = target.partition("#")
        dest = (path.parent / file).resolve() if file else path
        if not dest.exists():
            found.append(f"{path.name}: {target}: no such file")
        elif anchor and dest.suffix == ".md" and anchor not in anchors(dest):
            found.append(f"{path.name}: {target}: no such heading")
    return found


def test_the_readme_is_an_entry_of_at_most_200_lines():
    assert len((ROOT / "README.md").read_text(encoding="utf-8").splitlines()) <= 200


def test_the_readme_keeps_its_two_set_up_commands_byte_for_byte():
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    assert INSTALL in lines
    assert TESTS in lines


def test_ci_runs_the_steps_of_the_readme_test_command_in_its_order():
    """`.ci/run` adds only `-q` to pip and the handling of pytest's exit 5; the steps are the README's."""
    steps = [s.strip() for s in TESTS.split("&&")]
    script = (ROOT / ".ci" / "run").read_text(encoding="utf-8").replace("pip install -q -e", "pip install -e")
    positions = [script.find(step) for step in steps]
    assert -1 not in positions, [s for s, at in zip(steps, positions) if at == -1]
    assert positions == sorted(positions)


@pytest.mark.parametrize("path", DOCS, ids=lambda p: p.name)
def test_every_command_and_option_named_exists_in_the_cli(path):
    assert problems_in(path.read_text(encoding="utf-8"), cli_options(), other_options()) == []


@pytest.mark.parametrize("path", DOCS, ids=lambda p: p.name)
def test_every_relative_link_points_to_an_existing_file_and_heading(path):
    assert broken_links(path, path.read_text(encoding="utf-8")) == []


def test_the_checks_can_fail():
    commands, others = cli_options(), other_options()
    assert problems_in("`verblijfsregels assess FILE --goal X`", commands, others) == []
    assert problems_in("`verblijfsregels assess FILE --bestaat-niet`", commands, others) == [
        "verblijfsregels assess has no option --bestaat-niet"
    ]
    assert problems_in("```sh\nverblijfsregels why-not F --goal X --inventory\n```", commands, others) == [
        "verblijfsregels why-not has no option --inventory"
    ]
    assert problems_in("`verblijfsregels bestaatniet`", commands, others) == [
        "unknown command: verblijfsregels bestaatniet"
    ]
    assert problems_in("met `--verzonnen-optie` erbij", commands, others) == ["unknown option --verzonnen-optie"]
    assert problems_in("`ruff format --check . && verblijfsregels assess F --nee`", commands, others) == [
        "verblijfsregels assess has no option --nee"
    ]
    readme = ROOT / "README.md"
    assert broken_links(readme, "[x](docs/bestaat-niet.md)") == ["README.md: docs/bestaat-niet.md: no such file"]
    assert broken_links(readme, "[x](docs/testen.md#geen-kop)") == [
        "README.md: docs/testen.md#geen-kop: no such heading"
    ]
    assert broken_links(readme, "[x](docs/testen.md#regeldekking)") == []
