"""The audit page as an analyst reads it, in Debian's headless Chromium at 1280 px: no column
pushed off-screen, nothing wider than the window, explained findings not coloured as errors, and
the graph folded per goal. A screenshot is kept in .artifacts/browser/."""

from __future__ import annotations

import os
import shutil
from datetime import date
from pathlib import Path

import pytest

from engine.checks.audit import audit_directory
from engine.rules.model import KB_DIR, load_knowledge_base
from explain import render_audit_html
from tests.test_web_browser import ARGS, ARTIFACTS, CHROMIUM

if not CHROMIUM:
    if os.environ.get("CI"):
        raise RuntimeError("the browser tests need Debian's chromium; .ci/run installs it")
    pytest.skip("Debian's chromium is not installed (apt-get install chromium)", allow_module_level=True)

sync_api = pytest.importorskip("playwright.sync_api")

WIDTH = 1280
ERROR_RED = "rgb(244, 199, 195)"  # #f4c7c3, the colour of an unexplained error


@pytest.fixture(scope="module")
def page_html(monkeypatch_module):
    # without Graphviz the graphs are DOT text: the widest thing the page can hold
    monkeypatch_module.setattr(shutil, "which", lambda name: None)
    report = audit_directory(KB_DIR, date(2026, 11, 22))
    return render_audit_html(report, kb=load_knowledge_base(KB_DIR))


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as mp:
        yield mp


def test_the_real_audit_page_is_readable_at_1280_px(page_html, tmp_path):
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": WIDTH, "height": 900})
        page.set_content(page_html)
        page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
        # nothing scrolls sideways, and every cell (the explanation column last) ends inside the window
        assert page.evaluate("document.documentElement.scrollWidth") <= WIDTH
        rightmost = page.evaluate(
            "Math.max(...[...document.querySelectorAll('th, td')].map(c => c.getBoundingClientRect().right))"
        )
        assert rightmost <= WIDTH
        headers = page.evaluate(
            "[...document.querySelectorAll('table.bevindingen thead th')].map(c => c.getBoundingClientRect().width)"
        )
        assert headers and min(headers) >= 60  # no column squeezed to nothing
        # an explained finding is not coloured as an error, whatever its severity
        explained = page.evaluate(
            "[...document.querySelectorAll('tr.verklaard td:first-child')].map(c => getComputedStyle(c).backgroundColor)"
        )
        assert explained and ERROR_RED not in explained
        assert page.evaluate("document.querySelectorAll('tr.verklaard .ernst-verklaard').length") == len(explained)
        # the graph: one folded part per goal
        goals = load_knowledge_base(KB_DIR).goals
        assert page.evaluate("document.querySelectorAll('#graaf details').length") == len(goals)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.evaluate("document.querySelectorAll('details').forEach(d => d.open = false)")
        page.screenshot(path=str(ARTIFACTS / "audit-1280.png"), full_page=False)
        browser.close()
    assert Path(ARTIFACTS / "audit-1280.png").stat().st_size > 0
