"""engine.checks.strategies: consistent applicants from the vocabulary, shrinking to the readable case."""

from __future__ import annotations

import textwrap
from datetime import date

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import find as _find
from hypothesis import strategies as st

from engine.applicant.facts import check_against_peildatum, parse_applicant
from engine.checks import strategies as kit
from engine.rules.model import date_order, load_knowledge_base
from engine.tijd import add_years

PEILDATUM = date(2026, 11, 22)
# find() without the example database and without the explain phase: the explain phase replays
# the example about a hundred times (16 s for one applicant on the 2-core machine, 1.5 s without)
FIND = settings(database=None, phases=[Phase.generate, Phase.shrink], suppress_health_check=list(HealthCheck))


def find(strategy, condition, max_examples=100):
    return _find(strategy, condition, settings=settings(FIND, max_examples=max_examples))


def assert_consistent(kb, facts):
    applicant = parse_applicant(kb, facts)  # types, choices, arrival after birth, permits after birth
    check_against_peildatum(kb, applicant, PEILDATUM)
    born, arrived = facts.get("geboortedatum"), facts.get("datum_aankomst_nederland")
    if born and arrived and facts.get("geboren_in_nederland") is True:
        assert arrived == born
    if born and arrived and facts.get("geboren_in_nederland") is False:
        assert arrived > born
    periods = facts.get("verblijfsvergunningen") or []
    for earlier, later in zip(periods, periods[1:]):
        assert earlier.get("tot") is not None and earlier["tot"] < later["van"]
    for period in periods:
        assert period["van"] <= PEILDATUM
        assert period["van"] >= max(d for d in (born, arrived, date.min) if d)
    for name, value in facts.items():
        if kb.facts[name].type == "datum":
            assert value <= PEILDATUM, name
    # every order the vocabulary declares (`niet_voor`, followed through), read from the vocabulary
    for later, earlier in date_order(kb).items():
        for other in earlier:
            if facts.get(later) is not None and facts.get(other) is not None:
                assert facts[later] >= facts[other], f"{later} ligt voor {other}"


def ordered_pairs(kb):
    return {(later, other) for later, earlier in date_order(kb).items() for other in earlier}


@given(kit.aanvragers(PEILDATUM))
def test_every_generated_applicant_is_consistent(kb, facts):
    assert_consistent(kb, facts)


@pytest.mark.parametrize("name", sorted(kit.routes()))
@given(data=st.data())
def test_every_route_gives_consistent_applicants_of_that_route(kb, name, data):
    facts = data.draw(kit.routes(kb)[name](PEILDATUM), label=name)
    assert_consistent(kb, facts)
    if name == "hier_opgegroeide_volwassenen":
        assert add_years(facts["geboortedatum"], 18) <= PEILDATUM
        assert facts["sindsdien_altijd_in_nederland_gewoond"] is True
        assert facts.get("geboren_in_nederland") or facts["datum_aankomst_nederland"] < add_years(
            facts["geboortedatum"], 3
        )


def test_every_fact_of_the_vocabulary_is_generated_known_and_unknown(kb):
    seen_known: set[str] = set()
    seen_unknown: set[str] = set()
    seen_pairs: set[tuple[str, str]] = set()

    @settings(max_examples=300, database=None, suppress_health_check=list(HealthCheck))
    @given(kit.aanvragers(PEILDATUM))
    def collect(facts):
        seen_known.update(facts)
        seen_unknown.update(set(kb.facts) - set(facts))
        seen_pairs.update((a, b) for a, b in ordered_pairs(kb) if a in facts and b in facts)

    collect()
    assert seen_known == set(kb.facts)
    assert seen_unknown == set(kb.facts)
    # each declared order is put to the test: both of its dates known together
    assert seen_pairs == ordered_pairs(kb)


def test_the_vocabulary_declares_the_orders_of_its_dates(kb):
    """The pairs the knowledge base reads in one direction only (a status begins before it ends, an
    application is sent, received, decided and the permit handed over in that order)."""
    assert {
        ("datum_aankomst_nederland", "geboortedatum"),
        ("einde_geprivilegieerde_status", "begin_geprivilegieerde_status"),
        ("einde_geprivilegieerde_status", "datum_vestiging_internationale_organisatie"),
        ("begin_geprivilegieerde_status", "datum_aankomst_nederland"),
        ("datum_ontvangst_aanvraag", "datum_indienen_aanvraag"),
        ("datum_positieve_beslissing", "datum_ontvangst_aanvraag"),
        ("datum_ontvangst_vergunning", "datum_positieve_beslissing"),
        ("datum_ontvangst_vergunning", "datum_indienen_aanvraag"),
        ("datum_indienen_aanvraag", "geboortedatum"),
    } <= ordered_pairs(kb)


def test_a_date_is_drawn_inside_the_bounds_the_other_known_dates_leave(kb):
    facts = {
        "begin_geprivilegieerde_status": date(2010, 5, 1),
        "datum_ontvangst_aanvraag": date(2020, 1, 1),
        "geboortedatum": date(1980, 1, 1),
    }
    assert kit.datum_grenzen("einde_geprivilegieerde_status", facts, PEILDATUM, kb) == (date(2010, 5, 1), PEILDATUM)
    assert kit.datum_grenzen("datum_indienen_aanvraag", facts, PEILDATUM, kb) == (date(1980, 1, 1), date(2020, 1, 1))
    assert find(kit.datumfeit("datum_positieve_beslissing", facts, PEILDATUM, kb), lambda d: True) == date(2020, 1, 1)
    squeezed = {"datum_indienen_aanvraag": date(2020, 1, 2), "datum_positieve_beslissing": date(2020, 1, 1)}
    lo, hi = kit.datum_grenzen("datum_ontvangst_aanvraag", squeezed, PEILDATUM, kb)
    assert lo > hi  # no day fits: the strategy leaves the fact unknown


def test_shrinking_leaves_facts_unknown_and_ages_round(kb):
    assert find(kit.aanvragers(PEILDATUM), lambda f: True) == {}
    adult = find(kit.aanvragers(PEILDATUM), lambda f: "geboortedatum" in f)
    assert adult == {"geboortedatum": add_years(PEILDATUM, -18)}
    with_permit = find(kit.aanvragers(PEILDATUM), lambda f: bool(f.get("verblijfsvergunningen")))
    assert set(with_permit) == {"verblijfsvergunningen"} and len(with_permit["verblijfsvergunningen"]) == 1


def test_a_fact_added_to_the_vocabulary_is_generated_without_a_change_to_the_strategies(tmp_path):
    (tmp_path / "regels").mkdir()
    (tmp_path / "feiten.yaml").write_text(
        textwrap.dedent("""
        feiten:
          geboortedatum: {type: datum, rol: geboorte, label: geboren, vraag: wanneer?, wijzigbaar: false}
          inkomen_per_maand: {type: bedrag, label: inkomen, vraag: hoeveel?, wijzigbaar: true}
          land_van_herkomst: {type: tekst, label: land, vraag: welk land?, wijzigbaar: false}
          soort_relatie: {type: keuze, waarden: [huwelijk, partnerschap], label: relatie, vraag: welke?, wijzigbaar: false}
          datum_ontvangst_aanvraag: {type: datum, label: ontvangen, vraag: wanneer?, wijzigbaar: false}
    """),
        encoding="utf-8",
    )
    (tmp_path / "doelen.yaml").write_text("doelen:\n  doel: {label: doel, conclusie: p}\n", encoding="utf-8")
    (tmp_path / "regels" / "r.yaml").write_text(
        "regels:\n  - {id: E8, label: p, conclusie: p, voorwaarden: {waarde: inkomen_per_maand, minstens: 1},"
        " bron: {bestand: 002_b3255643ce0e7bad.txt, citaat: x}}\n",
        encoding="utf-8",
    )
    kb = load_knowledge_base(tmp_path)
    example = find(kit.aanvragers(PEILDATUM, kb), lambda f: len(f) == len(kb.facts), max_examples=5000)
    parse_applicant(kb, example)
    assert isinstance(example["inkomen_per_maand"], int) and example["soort_relatie"] in ("huwelijk", "partnerschap")
    assert example["geboortedatum"] <= example["datum_ontvangst_aanvraag"] <= PEILDATUM
    # routes whose facts this vocabulary lacks are not offered, and say why
    assert kit.routes(kb) == {}
    assert "sindsdien_altijd_in_nederland_gewoond" in kit.beschikbaar("hier_opgegroeide_volwassenen", kb)


def test_a_route_the_vocabulary_does_not_support_cannot_be_imported(monkeypatch):
    monkeypatch.setitem(
        kit.ROUTES, "proefroute", (kit.ROUTES["ex_geprivilegieerden"][0], lambda kb: "de woordenlijst kent x niet")
    )
    with pytest.raises(ImportError, match="x niet"):
        from engine.checks.strategies import proefroute  # noqa: F401
    assert "proefroute" not in kit.routes()


@given(st.data())
def test_forcing_the_out_of_scope_rules_false_keeps_everyone_in_scope(engine, data):
    facts = kit.buiten_bereik_uitgesloten(engine.kb, data.draw(kit.aanvragers(PEILDATUM)), peildatum=PEILDATUM)
    applicant = parse_applicant(engine.kb, facts)
    for result in engine.assess_all(applicant, PEILDATUM):
        assert result.outcome != "out_of_scope", result.goal
