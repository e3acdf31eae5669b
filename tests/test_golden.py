"""Golden files pin the Dutch justifications word for word.

After an intended change to a template or a label, regenerate with
`UPDATE_GOLDEN=1 pytest tests/test_golden.py` and review the diff like any other change.
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pytest

from engine.answer.fees import fees_for
from engine.answer.repairs import find_repairs
from engine.applicant.facts import read_applicant_file
from explain import render_assessment, render_fees, render_overview, render_rules, render_why_not

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "golden"
GOAL = "onbepaalde_tijd_regulier"

CASES = [
    # (golden file, applicant file, peildatum, renderer)
    ("voorbeeld_komt_in_aanmerking.txt", ROOT / "voorbeelden" / "aanvrager.yaml", "2026-11-22", "assess"),
    ("voorbeeld_in_2020_waarom_niet.txt", ROOT / "voorbeelden" / "aanvrager.yaml", "2020-11-22", "why-not"),
    ("voorbeeld_waarom_niet_als_het_wel_kan.txt", ROOT / "voorbeelden" / "aanvrager.yaml", "2026-11-22", "why-not"),
    (
        "hier_geboren_nationale_veiligheid_onbekend.txt",
        GOLDEN / "hier_geboren_nationale_veiligheid_onbekend.yaml",
        "2026-11-22",
        "assess",
    ),
    ("asielvergunninghouder_buiten_bereik.txt", GOLDEN / "asielvergunninghouder.yaml", "2026-11-22", "assess"),
    # why-not with repairs: every route to the exam (issue 5), a conditional repair, nothing helps
    ("waarom_niet_zonder_examen_en_brp.txt", GOLDEN / "zonder_examen_en_brp.yaml", "2025-06-01", "why-not"),
    (
        "waarom_niet_brp_nee_openbare_orde_onbekend.txt",
        GOLDEN / "brp_nee_openbare_orde_onbekend.yaml",
        "2025-06-01",
        "why-not",
    ),
    ("waarom_niet_gevaar_openbare_orde.txt", GOLDEN / "gevaar_openbare_orde.yaml", "2025-06-01", "why-not"),
    # the referrals elsewhere (C15) left open, as almost every applicant does: a refusal stays a
    # refusal with the referrals beside it, the repairs are those of a person in scope, and
    # routes that hold read "in aanmerking, tenzij"
    (
        "alleen_examen_reikwijdte_onbekend.txt",
        GOLDEN / "alleen_examen_reikwijdte_onbekend.yaml",
        "2025-06-01",
        "assess",
    ),
    (
        "waarom_niet_alleen_examen_reikwijdte_onbekend.txt",
        GOLDEN / "alleen_examen_reikwijdte_onbekend.yaml",
        "2025-06-01",
        "why-not",
    ),
    ("voldoet_reikwijdte_onbekend.txt", GOLDEN / "voldoet_reikwijdte_onbekend.yaml", "2025-06-01", "assess"),
    (
        "waarom_niet_voldoet_reikwijdte_onbekend.txt",
        GOLDEN / "voldoet_reikwijdte_onbekend.yaml",
        "2025-06-01",
        "why-not",
    ),
]


def check(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8"), f"{name} differs; see the docstring to update"


@pytest.mark.parametrize("name, applicant, peildatum, renderer", CASES, ids=[c[0] for c in CASES])
def test_rendered_justification_matches_golden_file(engine, name, applicant, peildatum, renderer):
    data = read_applicant_file(engine.kb, applicant)
    day = date.fromisoformat(peildatum)
    if renderer == "assess":
        check(name, render_assessment(engine.assess(data, GOAL, day), engine.kb))
    else:  # as `verblijfsregels why-not` answers: every failing condition, then the repairs
        result = engine.assess(data, GOAL, day, every_failure=True)
        check(name, render_why_not(result, engine.kb, find_repairs(engine, data, GOAL, day)))


TRAFFICKED = GOLDEN / "slachtoffer_mensenhandel_onrechtmatig_verblijf.yaml"


@pytest.mark.parametrize("renderer", ["assess", "why-not"])
def test_a_trafficking_victim_who_stayed_illegally_sees_that_a9_was_set_aside(engine, renderer):
    """004 (A9): illegal stay is no ground of refusal for a victim of human trafficking. While E11
    is open the outcome is open, and the justification still names A9.mensenhandel with its quote."""
    data = read_applicant_file(engine.kb, TRAFFICKED)
    day, goal = date(2026, 11, 23), "huiselijk_geweld"
    if renderer == "assess":
        result = engine.assess(data, goal, day)
        text = render_assessment(result, engine.kb)
    else:
        result = engine.assess(data, goal, day, every_failure=True)
        text = render_why_not(result, engine.kb, find_repairs(engine, data, goal, day))
    assert result.outcome == "undetermined"
    assert "Uitzondering A9.mensenhandel op A9" in text and "“of slachtoffer is van mensenhandel”" in text
    name = "mensenhandel_a9_opzij_open" if renderer == "assess" else "waarom_niet_mensenhandel_a9_opzij_open"
    check(f"{name}.txt", text)


VIOLENCE = GOLDEN / "slachtoffer_huiselijk_geweld_zonder_opgave_over_de_aanvraag.yaml"
OVERVIEW_CASES = [
    # (golden file, applicant file, peildatum): every goal, with the fee beside each open route
    ("overzicht_voorbeeld.txt", ROOT / "voorbeelden" / "aanvrager.yaml", "2026-11-22"),
    ("overzicht_slachtoffer_huiselijk_geweld.txt", VIOLENCE, "2026-11-23"),
]


@pytest.mark.parametrize("name, applicant, peildatum", OVERVIEW_CASES, ids=[c[0] for c in OVERVIEW_CASES])
def test_rendered_overview_matches_golden_file(engine, name, applicant, peildatum):
    results = engine.assess_all(read_applicant_file(engine.kb, applicant), date.fromisoformat(peildatum))
    check(name, render_overview(results, engine.kb))


def test_rendered_fees_of_a_violence_goal_match_golden_file(engine):
    """What applying for the goal implies (E12.aanvraag_na_geweld), then both sources' amounts."""
    (answer,) = engine.goal_fees(
        read_applicant_file(engine.kb, VIOLENCE), "huiselijk_geweld", ["7027"], date(2026, 11, 23), reductions=True
    )  # as `fees --goal huiselijk_geweld`
    check("leges_7027_doel_huiselijk_geweld.txt", render_fees(answer, engine.kb))


FEE_CASES = [
    (
        "leges_7027_bron_001_zegt_niet_welke.txt",
        GOLDEN / "slachtoffer_mensenhandel_na_gezinsvergunning.yaml",
        "7027",
        [],
    ),
    (
        "leges_7024_buiten_bandbreedte_004.txt",
        ROOT / "tests" / "scenarios" / "basis" / "ex_diplomaat_tien_jaar.yaml",
        "7024",
        [],
    ),
    # (golden file, applicant file, form, precedence)
    ("leges_7027_bronnen_verschillen.txt", GOLDEN / "slachtoffer_geweld_met_gezinsvergunning.yaml", "7027", []),
    ("leges_7027_voorrang_002.txt", GOLDEN / "slachtoffer_geweld_met_gezinsvergunning.yaml", "7027", ["002", "001"]),
    ("leges_7018_stukken_onbekend.txt", ROOT / "voorbeelden" / "aanvrager.yaml", "7018", []),
    ("leges_7018_stukken_niet_meegestuurd.txt", GOLDEN / "artikel_8_zonder_stukken.yaml", "7018", []),
]


@pytest.mark.parametrize("name, applicant, form, precedence", FEE_CASES, ids=[c[0] for c in FEE_CASES])
def test_rendered_fee_answer_matches_golden_file(engine, name, applicant, form, precedence):
    answer = fees_for(
        engine, read_applicant_file(engine.kb, applicant), form, date(2026, 11, 23), precedence, reductions=True
    )  # as `verblijfsregels fees` answers
    check(name, render_fees(answer, engine.kb))


def test_rule_listing_matches_golden_file(engine):
    check("regels.txt", render_rules(engine.kb))
