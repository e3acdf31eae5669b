"""Properties of the fees (issue 4), over every form and every situation the fee rules can tell apart.

A situation is *complete* when every fact a fee rule of the form reads is known; the facts are
drawn from the vocabulary, so a new fee rule is covered without a change here.
"""

from __future__ import annotations

import json
from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from engine.facts import parse_applicant
from engine.fees import fees_for
from engine.model import expr_names, load_knowledge_base

PEILDATUM = date(2026, 11, 23)
KB = load_knowledge_base()
FORMS = sorted(KB.forms)
PERIODS = {
    "geen": [],
    "nu_familie": [{"van": "2021-01-01", "verblijfsdoel": "familie_of_gezinslid"}],
    "eerder_familie": [{"van": "2016-01-01", "tot": "2021-12-31", "verblijfsdoel": "familie_of_gezinslid"}],
    "nu_anders": [{"van": "2022-01-01", "verblijfsdoel": "anders"}],
}


def _inputs(name: str, seen: set[str]) -> set[str]:
    """The applicant facts behind a name a fee rule reads (through quantities and rules)."""
    if name in seen:
        return set()
    seen.add(name)
    if name in KB.facts:
        return {name}
    if name in KB.quantities:
        return {f for i in KB.quantities[name].inputs for f in _inputs(i, seen)}
    out: set[str] = set()
    for rid in KB.rules_for.get(name, ()):
        rule = KB.rules[rid]
        for expr in (rule.conditions, rule.applies_when):
            for n, _ in expr_names(expr):
                out |= _inputs(n, seen)
        for eid in KB.exceptions_of.get(rid, ()):
            for expr in (KB.rules[eid].conditions, KB.rules[eid].applies_when):
                for n, _ in expr_names(expr):
                    out |= _inputs(n, seen)
    return out


FEE_FACTS = sorted({f for fee in KB.fee_rules.values() for n, _ in expr_names(fee.applies_when) for f in _inputs(n, set())})


def _value(name: str):
    fact = KB.facts[name]
    if fact.type == "bool":
        return st.booleans()
    if fact.type == "keuze":
        return st.sampled_from(fact.values)
    if fact.type == "vergunningen":
        return st.sampled_from(sorted(PERIODS)).map(lambda k: PERIODS[k])
    if fact.type == "datum":
        return st.sampled_from(["1990-05-01", "2008-11-23", "2008-11-24", "2012-05-01"])
    raise AssertionError(f"fee rules read a fact of type {fact.type}: {name}")


@st.composite
def volledige_situaties(draw) -> dict:
    """Every fact a fee rule reads is known; the simplest values first."""
    return {name: draw(_value(name)) for name in FEE_FACTS}


def answer(engine, data: dict, form: str):
    return fees_for(engine, parse_applicant(engine.kb, data), form, PEILDATUM)


@given(situation=volledige_situaties(), form=st.sampled_from(FORMS))
def test_every_form_gets_exactly_one_amount_per_source_in_a_complete_situation(engine, situation, form):
    result = answer(engine, situation, form)
    sources = [s.source_file for s in result.per_source]
    assert len(sources) == len(set(sources)), "a source answers twice for one form"
    assert result.per_source, f"no source states an amount for form {form}"
    for fee in result.per_source:
        assert fee.applies is True, f"{fee.source_file}: whether it speaks about this situation stays open"
        assert isinstance(fee.amount, int), f"{fee.source_file}: no amount for form {form}"
        assert fee.alternatives == [], f"{fee.source_file}: an exception stays open in a complete situation"


@given(situation=volledige_situaties(), form=st.sampled_from(FORMS))
def test_a_minor_never_pays_more_than_an_adult_in_the_same_situation(engine, situation, form):
    adult = {**situation, "geboortedatum": "1990-05-01"}
    minor = {**situation, "geboortedatum": "2012-05-01"}
    adult_fees = {s.source_file: s.amount for s in answer(engine, adult, form).per_source if s.applies is True}
    minor_fees = {s.source_file: s.amount for s in answer(engine, minor, form).per_source if s.applies is True}
    assert set(adult_fees) == set(minor_fees)
    for source, amount in minor_fees.items():
        assert amount <= adult_fees[source], (source, minor_fees, adult_fees)


@given(situation=volledige_situaties(), form=st.sampled_from(FORMS), order=st.randoms(use_true_random=False))
def test_the_amount_does_not_depend_on_the_order_of_facts(engine, situation, form, order):
    names = list(situation)
    order.shuffle(names)
    shuffled = {name: situation[name] for name in names}
    first = json.dumps(answer(engine, situation, form).to_json(), sort_keys=True)
    assert json.dumps(answer(engine, shuffled, form).to_json(), sort_keys=True) == first


def test_the_fee_facts_cover_every_exception_and_the_age():
    assert "geboortedatum" in FEE_FACTS  # minors: G4.minderjarig_na_familie, G8.minderjarig
    assert {"stuurt_inkomensverklaring_t2_mee", "stuurt_bewijs_leningaanvragen_mee"} <= set(FEE_FACTS)
