"""Source fidelity in the audit: a quote that is not verbatim in its page and an amount its own
quote does not write are findings, each planted alone in a copy of the rule base; without the
pages the report says it could not check."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from engine.checks.audit import audit_directory
from engine.checks.fidelity import amounts_in, check, closest_passage
from engine.rules.model import KB_DIR, load_knowledge_base
from engine.rules.sources import source_texts
from tests.test_audit import FEES, facts, kb_dir

PEILDATUM = date(2026, 11, 22)


def _finding(*args):
    return args  # (kind, key, title, message, rules)


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    target = tmp_path / "kb"
    shutil.copytree(KB_DIR, target, ignore=shutil.ignore_patterns("__pycache__"))
    return target


def _plant(path: Path, file: str, old: str, new: str) -> None:
    p = path / file
    text = p.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    p.write_text(text.replace(old, new), encoding="utf-8")


def test_the_real_rule_base_quotes_every_page_verbatim_and_every_amount_from_its_own_quote():
    assert check(load_knowledge_base(KB_DIR), source_texts(KB_DIR), _finding) == []


def test_an_amount_changed_to_ten_euro_under_a_quote_that_says_zero_is_a_finding(copy):
    # leges_7026: 001 "Deze aanvraag kost € 0." (humanitair tijdelijk)
    _plant(
        copy,
        "regels/leges.yaml",
        '{vanaf: null, waarde: 0, bron: {bestand: 001_656115d499998806.txt, citaat: "Deze aanvraag kost € 0."}}\n'
        "  leges_7026_buitenschuld:",
        '{vanaf: null, waarde: 1000, bron: {bestand: 001_656115d499998806.txt, citaat: "Deze aanvraag kost € 0."}}\n'
        "  leges_7026_buitenschuld:",
    )
    (found,) = check(load_knowledge_base(copy), source_texts(copy), _finding)
    kind, key, _, message, rules = found
    assert (kind, key) == ("bedrag", "bedrag/leges_7026")
    assert "€ 10,00" in message and "€ 0,00" in message and rules[0]["source"]["quote"] == "Deze aanvraag kost € 0."


def test_a_quote_that_is_not_verbatim_is_a_finding_with_the_closest_passage(copy):
    # G3.buitenschuld quotes 001 "Kunt u buiten uw schuld niet uit Nederland vertrekken?"
    _plant(
        copy,
        "regels/leges.yaml",
        'citaat: "Kunt u buiten uw schuld niet uit Nederland vertrekken?"',
        'citaat: "Kunt u buiten uw eigen schuld niet uit Nederland vertrekken?"',
    )
    (found,) = check(load_knowledge_base(copy), source_texts(copy), _finding)
    kind, key, _, message, _ = found
    assert (kind, key) == ("citaat", "citaat/G3.buitenschuld")
    assert (
        "Dichtstbijzijnde passage" in message and "“Kunt u buiten uw schuld niet uit Nederland vertrekken?”" in message
    )


def test_a_quote_of_a_page_that_is_not_there_is_a_finding(copy):
    (copy / "bronnen" / "004_4ee60f9a98cd6659.txt").unlink()
    found = check(load_knowledge_base(copy), source_texts(copy), _finding)
    assert found and {f[0] for f in found} == {"citaat"}
    assert all("004_4ee60f9a98cd6659.txt" in f[3] and "die bron is er niet" in f[3] for f in found)


def test_closest_passage_finds_the_line_a_typo_came_from():
    text = "Eerste regel.\nDeze aanvraag kost € 174.\nLaatste regel.\n"
    passage, score = closest_passage("Deze aanvraag kost € 17.", text)
    assert passage == "Deze aanvraag kost € 174." and 0.9 < score < 1


@pytest.mark.parametrize(
    "quote, amounts",
    [
        ("Deze aanvraag kost € 0.", {0}),
        ("De aanvraag kost € 1057.", {105700}),
        ("Uw aanvraag kost € 1.057,50.", {105750}),
        ("variëren van 0 tot 962,- euro.", {0, 96200}),
        ("U hoeft niet te betalen voor de aanvraag.", {0}),
        ("U betaalt geen kosten voor de aanvraag", {0}),
        ("Aanvraag voor het verblijfsdoel ‘humanitair tijdelijk’ 7026", None),
    ],
)
def test_the_amounts_a_quote_writes(quote, amounts):
    assert amounts_in(quote) == amounts


TINY = (
    facts("a")
    + FEES
    + """
leges:
  - {id: G1, label: basis, formulier: "1234", bedrag: basis, bron: {bestand: 001_656115d499998806.txt, citaat: "Deze aanvraag kost € 174."}}
"""
)


def test_the_audit_reports_an_amount_its_quote_does_not_write_with_the_sources_shipped(tmp_path):
    path = kb_dir(tmp_path, TINY)
    shutil.copytree(KB_DIR / "bronnen", path / "bronnen")
    report = audit_directory(path, PEILDATUM)
    by_kind = {f.kind: f for f in report.findings if f.category == "brontrouw"}
    # basis is € 100 under "honderd" (no amount written); the quotes "honderd", "vijftig", "niets" are
    # not in 001 either: each is a finding of its own
    assert by_kind["bedrag"].severity == "fout" and report.failed
    assert {f.key for f in report.findings if f.kind == "citaat"} >= {"citaat/basis (ongedateerd)"}
    assert any(n.startswith("Brontrouw: elk van de") for n in report.notes)


def test_without_the_sources_the_audit_says_it_could_not_check(tmp_path):
    path = kb_dir(tmp_path, TINY)
    report = audit_directory(path, PEILDATUM)
    assert not [f for f in report.findings if f.category == "brontrouw"]
    (note,) = [n for n in report.notes if n.startswith("Brontrouw")]
    assert note.startswith("Brontrouw NIET gecontroleerd") and "bronnen" in note
