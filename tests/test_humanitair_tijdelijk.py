"""Humanitair tijdelijk: a goal whose routes are the existing routes that the sources say lead to it."""

from __future__ import annotations

from datetime import date

from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from engine.applicant.facts import parse_applicant
from engine.checks.strategies import aanvragers, basisaanvragers, varianten
from engine.rules.model import expr_names

GOAL = "humanitair_tijdelijk"
PEIL = date(2026, 11, 22)
# the goals whose route, per its source, ends in a permit humanitair tijdelijk
ROUTES = (
    "eergerelateerd_geweld",
    "huiselijk_geweld",
    "haags_kinderbeschermingsverdrag_tijdelijk",
    "ondertoezichtstelling_kind",
    "buitenschuld",
)


def test_assess_answers_the_goal(tmp_path):
    from cli import main

    applicant = tmp_path / "a.yaml"
    applicant.write_text(
        "geboortedatum: 1985-04-01\nkan_buiten_schuld_nederland_niet_verlaten: true\n", encoding="utf-8"
    )
    result = CliRunner().invoke(main, ["assess", str(applicant), "--goal", GOAL, "--peildatum", "2026-11-22"])
    assert result.exit_code == 0, result.output
    assert "humanitair tijdelijk" in result.output and "onbekend doel" not in result.output


def test_each_route_cites_the_sentence_that_gives_humanitair_tijdelijk_and_reads_only_existing_routes(kb):
    goal = kb.goals[GOAL]
    branches = [r for r in kb.rules.values() if r.conclusion == goal.conclusion]
    assert sorted(r.id for r in branches) == [
        "E13.humanitair_tijdelijk",
        "F10.humanitair_tijdelijk",
        "F7.humanitair_tijdelijk",
        "F8.humanitair_tijdelijk",
    ]
    facts = set(kb.facts)
    for rule in branches:
        assert "humanitair tijdelijk" in rule.source.quote.replace("‘", "").replace("’", ""), rule.id
        # no condition of its own: every name it reads is concluded by another declaration (or is
        # the permit on the peildatum that E13 names)
        read = {n for n, _ in expr_names(rule.conditions)}
        assert not read & facts, rule.id
        assert read <= set(kb.derived_predicates()) | {"heeft_nu_geldige_vergunning"}, rule.id


@given(st.one_of(aanvragers(PEIL), basisaanvragers().flatmap(varianten)))
def test_humanitair_tijdelijk_follows_the_routes_that_lead_to_it(engine, facts):
    from engine.tijd import heeft_geldige_vergunning_op_peildatum

    applicant = parse_applicant(engine.kb, facts)
    results = {a.goal: a for a in engine.assess_all(applicant, PEIL, goals=[GOAL, *ROUTES])}
    outcome = results[GOAL].outcome
    eligible = {g for g in ROUTES if results[g].outcome == "eligible"}
    periods = applicant.values.get("verblijfsvergunningen")
    without_permit = periods is not None and not heeft_geldige_vergunning_op_peildatum(PEIL, periods)
    if outcome == "eligible":
        assert eligible, facts  # only through a route that holds
    # a temporary placement or buitenschuld that holds always gives humanitair tijdelijk; a violence
    # route or a supervision order does when there is no permit now
    leads = eligible & {"haags_kinderbeschermingsverdrag_tijdelijk", "buitenschuld"}
    if without_permit:
        leads |= eligible
    if leads:
        assert outcome == "eligible", (leads, facts)
    if outcome == "out_of_scope":
        # only E2 sends anyone elsewhere here, and then the violence routes are elsewhere too
        assert results["huiselijk_geweld"].outcome == results["eergerelateerd_geweld"].outcome == "out_of_scope"
        assert not eligible, facts
