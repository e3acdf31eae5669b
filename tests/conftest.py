"""Shared fixtures: one compiled engine for the whole session (compiling takes ~0.2 s)."""

from __future__ import annotations

import os
import re
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from engine.answer.assess import Engine

pytest_plugins = ["tests.mutation_checks"]  # the `mutation_checks` fixture: what engine.checks.mutation checks with

ROOT = Path(__file__).resolve().parent.parent
# the source pages shipped with the rule base; ../shared/ (where they come from) only to compare
SEEDS = ROOT / "kb" / "bronnen"
SHARED_SEEDS = ROOT.parent / "shared" / "seeds"

settings.register_profile("dev", max_examples=30, deadline=None)
settings.register_profile("ci", max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))

PEILDATUM = date(2026, 11, 22)


def pytest_addoption(parser):
    parser.addoption(
        "--kb-coverage",
        metavar="FILE",
        default=None,
        help="Record which rules, exceptions and conditions the tests exercise "
        "(verblijfsregels coverage --data FILE prints the table).",
    )
    parser.addoption(
        "--kb-mutation",
        action="store_true",
        default=False,
        help="Also run the full mutation test of the knowledge base (score at least 95 %).",
    )


def pytest_configure(config):
    path = config.getoption("--kb-coverage", default=None)
    if path:
        from engine.checks import coverage

        path = Path(path).resolve()
        path.unlink(missing_ok=True)
        os.environ[coverage.ENV] = str(path)  # CLI processes started by the tests record too
        coverage.enable(path)


def pytest_runtest_setup(item):
    from engine.checks import coverage

    if coverage.recorder is not None:
        os.environ[coverage.CONTEXT_ENV] = item.nodeid.split("::")[0]


def pytest_sessionfinish(session, exitstatus):
    from engine.checks import coverage

    if coverage.recorder is not None:
        coverage.recorder.flush()


@pytest.fixture(scope="session")
def engine() -> Engine:
    return Engine()


@pytest.fixture(scope="session")
def kb(engine):
    return engine.kb


def flat(text: str) -> str:
    """Text as one line: text output wraps at 100 columns (explain.wrap_lines), only at spaces, so a
    sentence or quote is looked for in it with its line breaks and indentation read as one space."""
    return re.sub(r"[ \n]+", " ", text)


def logical_lines(lines: list[str]) -> list[str]:
    """Wrapped lines joined again: explain.wrap_lines hangs a continuation where no entry of the
    listing starts (past a bullet, two deeper under an indented line, four deep under a heading at
    the margin), so a line without a bullet at that depth continues the line it hangs under."""
    out: list[str] = []
    hang = None
    for line in lines:
        indent = len(line) - len(line.lstrip(" "))
        if out and line.strip() and not line.lstrip().startswith("- ") and indent == hang:
            out[-1] += " " + line.strip()
            continue
        out.append(line)
        bullet = line.lstrip().startswith("- ")
        hang = indent + 2 if bullet or indent else 4
    return out
