"""Whole interviews in a real headless Chromium (Debian's `chromium`), against `verblijfsregels serve`:
the advisor answers what the client told, says "weet ik niet" to the rest, and reads the decision
the sources give. Every page passes axe-core; screenshots at desktop and phone width are kept in
.artifacts/browser/."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
import yaml

from engine.applicant.facts import load_applicant_bytes
from explain import OUTCOME_WORDS
from tests.test_scenarios import HERE, load_scenario
from tests.test_web_serve import server  # noqa: F401  (the fixture that starts the real server)

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARTIFACTS = Path(__file__).resolve().parents[1] / ".artifacts" / "browser"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
CASES = {
    "een volwassene zonder inburgeringsexamen": "onbepaalde_tijd_regulier/wie_het_inburgeringsexamen_niet_haalde_komt_niet_in_aanmerking_ook_als_onbekend_is_of_hij_een_asielvergunning_heeft_of_ex_geprivilegieerde_is.yaml",
    "een slachtoffer van huiselijk geweld": "huiselijk_geweld/een_slachtoffer_van_huiselijk_geweld_dat_aan_alle_voorwaarden_voldoet_komt_in_aanmerking.yaml",
    "een Turkse aanvrager op formulier 7018": "artikel_8_evrm/een_turkse_aanvrager_met_een_gunstige_beoordeling_van_het_gezinsleven_doet_de_aanvraag_met_formulier_7018.yaml",
    "een Akense student na de pilot": "studenten_aken_pilot/op_23_november_2026_is_de_pilot_al_jaren_vervallen.yaml",
}
# what the client's applicant file already holds when the advisor uploads it to go on: facts that
# decide the fee but no outcome, which the interview therefore never asks
UPLOADED = {
    "een Turkse aanvrager op formulier 7018": ["heeft_turkse_nationaliteit", "komt_uit_san_marino_of_israel"]
    + ["heeft_onvoldoende_inkomen"],
}
# the form and the fee the sources name for the case (001: "Hebt u de Turkse nationaliteit? ... Uw aanvraag kost € 68.")
FEES = {"een Turkse aanvrager op formulier 7018": ("7018", "€ 68,00")}

if not CHROMIUM:
    if os.environ.get("CI"):
        raise RuntimeError("the browser tests need Debian's chromium; .ci/run installs it")
    pytest.skip("Debian's chromium is not installed (apt-get install chromium)", allow_module_level=True)

sync_api = pytest.importorskip("playwright.sync_api")
axe_module = pytest.importorskip("axe_playwright_python.sync_playwright")


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def told(spec: dict) -> dict:
    """What the client told, as JSON values (dates as text), read as an applicant file is."""
    return load_applicant_bytes(yaml.safe_dump(spec["facts"], allow_unicode=True).encode("utf-8"), "aanvrager.yaml")


def accessible(page) -> None:
    result = axe_module.Axe().run(page)
    assert result.violations_count == 0, result.generate_report()


def answer(page, kb, fact: str, value) -> None:
    kind = kb.facts[fact].type
    if kind == "bool":
        page.check(f"input[name=waarde][value={'ja' if value else 'nee'}]")
    elif kind == "keuze":
        page.select_option("#waarde", str(value))
    elif kind == "bedrag":
        page.fill("#waarde", f"{value // 100},{value % 100:02d}")
    elif kind == "vergunningen":
        for i, period in enumerate(value):
            if i:  # a row is added to those filled in (an empty one is left out)
                page.click("button[value=periode_erbij]")
            for name, given in period.items():
                field = page.locator(f"[name='periode-{i}-{name}']")
                if kb.period_fields[name].get("type") == "bool":
                    page.check(f"input[name='periode-{i}-{name}'][value={'ja' if given else 'nee'}]")
                elif kb.period_fields[name].get("type") == "keuze":
                    field.select_option(str(given))
                else:
                    field.fill(str(given))
    else:
        page.fill("#waarde", str(value))
    page.click("button[value=antwoord]")


@pytest.mark.parametrize("who", list(CASES))
def test_an_interview_in_the_browser_ends_in_the_decision_the_sources_give(server, browser, engine, who):  # noqa: F811
    spec = load_scenario(HERE / CASES[who])
    facts, goal, expected = told(spec), spec["doel"], spec["verwacht"]["uitkomst"]
    port, _ = server()
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"http://127.0.0.1:{port}/")
    accessible(page)
    if who in UPLOADED:
        brought = yaml.safe_dump({name: facts[name] for name in UPLOADED[who]}, allow_unicode=True)
        page.set_input_files(
            "#bestand", files=[{"name": "aanvrager.yaml", "mimeType": "application/yaml", "buffer": brought.encode()}]
        )
        page.select_option("#doel2", goal)
        page.fill("#peildatum2", str(spec["peildatum"]))
        page.click("button:has-text('Verder')")
    else:
        page.select_option("#doel", goal)
        page.fill("#peildatum", str(spec["peildatum"]))
        page.click("form[action='/vraag'] button:has-text('Begin')")
    asked = []
    for _ in range(80):
        if page.inner_text("h1") == "Beslissing":
            break
        if not asked:
            accessible(page)
        fact = page.get_attribute("input[name=feit]", "value")
        again = fact in asked  # a permit history is asked again for a detail a period lacks
        asked.append(fact)
        if fact in facts and not again:
            answer(page, engine.kb, fact, facts[fact])
        else:
            page.click("button[value=weet_niet]")
        errors = page.locator("p.fout")
        assert errors.count() == 0, f"{fact}: {errors.first.inner_text()}"
    assert page.inner_text("h1") == "Beslissing", f"no decision after {len(asked)} questions"
    section = page.locator(f"section[aria-labelledby='doel-{goal}']")
    assert section.locator("p.uitkomst").inner_text().lower() == OUTCOME_WORDS[expected]
    accessible(page)
    if expected == "eligible":
        assert section.locator("h3", has_text="Formulier").count() >= 1  # the form and its fee
        assert "€" in section.locator("table.leges").first.inner_text()
    if who in FEES:
        form, fee = FEES[who]
        heading = section.locator("h3", has_text=f"Formulier {form}")
        assert heading.count() == 1
        assert fee in section.locator("table.leges").first.inner_text()
    if who == "een volwassene zonder inburgeringsexamen":
        repairs = section.locator("ul.reparaties").inner_text()
        assert "in aanmerking als" in repairs and "inburgeringsexamen" in repairs  # "mogelijk": facts left unknown
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    name = goal + "-" + who.replace(" ", "_")
    page.screenshot(path=str(ARTIFACTS / f"{name}-desktop.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the decision scrolls sideways at phone width ({width}px)"
    page.screenshot(path=str(ARTIFACTS / f"{name}-phone.png"), full_page=True)
    page.close()
